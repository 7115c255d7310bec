// seedchip — vector engine semantics (docs/isa.md, "Vector engine").
//
// Each instruction computes either on integers (every operand an integer
// dtype and the op defined on integers) or in fp32: operands are widened to
// fp32 exactly, the op is evaluated with one fp32 rounding (transcendentals:
// evaluated in double precision with the C library, then rounded to fp32),
// and the result is converted to dst's dtype by numerics' rules.
#include "seedchip/sim/vector_ops.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "seedchip/numerics/convert.h"

namespace seedchip::sim {

using isa::Instr;
using isa::Op;
using isa::Operand;
using isa::Space;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// One operand padded to 4 dims, outermost first. Immediates read a local copy
// with zero strides, so every op handles them like broadcast memory.
struct Acc {
  DType t = DType::fp32;
  const uint8_t* p = nullptr;
  std::array<int64_t, 4> st{};
  uint8_t imm[4]{};
};

void bind(Acc& acc, const Operand& o, const uint8_t* p, int rank) {
  acc.t = o.dtype;
  if (o.space == Space::imm) {
    uint32_t v = static_cast<uint32_t>(o.addr);
    std::memcpy(acc.imm, &v, 4);
    acc.p = acc.imm;
    return;
  }
  acc.p = p;
  for (int d = 0; d < rank; ++d) acc.st[4 - rank + d] = o.stride[d];
}

float f_unary(Op op, float a) {
  switch (op) {
    case Op::v_copy: return a;
    case Op::v_neg: return -a;
    case Op::v_abs: return std::fabs(a);
    case Op::v_recip: return 1.0f / a;
    case Op::v_sqrt: return std::sqrt(a);
    case Op::v_rsqrt: return static_cast<float>(1.0 / std::sqrt(static_cast<double>(a)));
    case Op::v_exp: return static_cast<float>(std::exp(static_cast<double>(a)));
    case Op::v_log: return static_cast<float>(std::log(static_cast<double>(a)));
    case Op::v_tanh: return static_cast<float>(std::tanh(static_cast<double>(a)));
    case Op::v_erf: return static_cast<float>(std::erf(static_cast<double>(a)));
    case Op::v_sigmoid: return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(a))));
    case Op::v_relu: return std::isnan(a) ? a : (a > 0.0f ? a : 0.0f);
    case Op::v_floor: return std::floor(a);
    case Op::v_ceil: return std::ceil(a);
    case Op::v_round: return std::nearbyint(a);  // default rounding mode: ties to even
    case Op::v_trunc: return std::trunc(a);
    case Op::v_not: return a == 0.0f ? 1.0f : 0.0f;
    case Op::v_sin: return static_cast<float>(std::sin(static_cast<double>(a)));
    case Op::v_cos: return static_cast<float>(std::cos(static_cast<double>(a)));
    case Op::v_sign: return a > 0.0f ? 1.0f : a < 0.0f ? -1.0f : a;
    default: return kNaN;
  }
}

float f_binary(Op op, float a, float b) {
  switch (op) {
    case Op::v_add: return a + b;
    case Op::v_sub: return a - b;
    case Op::v_mul: return a * b;
    case Op::v_div: return a / b;
    case Op::v_max: return std::isnan(a) || std::isnan(b) ? kNaN : (a > b ? a : b);
    case Op::v_min: return std::isnan(a) || std::isnan(b) ? kNaN : (a < b ? a : b);
    case Op::v_pow: return static_cast<float>(std::pow(static_cast<double>(a), static_cast<double>(b)));
    case Op::v_eq: return a == b ? 1.0f : 0.0f;
    case Op::v_lt: return a < b ? 1.0f : 0.0f;
    case Op::v_le: return a <= b ? 1.0f : 0.0f;
    case Op::v_gt: return a > b ? 1.0f : 0.0f;
    case Op::v_ge: return a >= b ? 1.0f : 0.0f;
    case Op::v_and: return (a != 0.0f && b != 0.0f) ? 1.0f : 0.0f;
    case Op::v_or: return (a != 0.0f || b != 0.0f) ? 1.0f : 0.0f;
    case Op::v_xor: return ((a != 0.0f) != (b != 0.0f)) ? 1.0f : 0.0f;
    case Op::v_mod: return std::fmod(a, b);
    default: return kNaN;
  }
}

// Integer arithmetic wraps in 64 bits (done unsigned to stay defined); the
// store then saturates to dst's range.
int64_t wrap_add(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
int64_t wrap_sub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
int64_t wrap_mul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }

int64_t i_unary(Op op, int64_t a) {
  switch (op) {
    case Op::v_copy: return a;
    case Op::v_neg: return wrap_sub(0, a);
    case Op::v_abs: return a < 0 ? wrap_sub(0, a) : a;
    case Op::v_relu: return a > 0 ? a : 0;
    case Op::v_not: return a == 0;
    case Op::v_sign: return (a > 0) - (a < 0);
    default: return 0;
  }
}

int64_t i_binary(Op op, int64_t a, int64_t b) {
  switch (op) {
    case Op::v_add: return wrap_add(a, b);
    case Op::v_sub: return wrap_sub(a, b);
    case Op::v_mul: return wrap_mul(a, b);
    case Op::v_div:  // toward zero; x / 0 = 0 (defined, never traps)
      if (b == 0 || (b == -1 && a == std::numeric_limits<int64_t>::min())) return b == 0 ? 0 : a;
      return a / b;
    case Op::v_max: return a > b ? a : b;
    case Op::v_min: return a < b ? a : b;
    case Op::v_eq: return a == b;
    case Op::v_lt: return a < b;
    case Op::v_le: return a <= b;
    case Op::v_gt: return a > b;
    case Op::v_ge: return a >= b;
    case Op::v_and: return a != 0 && b != 0;
    case Op::v_or: return a != 0 || b != 0;
    case Op::v_xor: return (a != 0) != (b != 0);
    case Op::v_mod: {  // result takes the sign of b, as Python and ONNX Mod(fmod=0); x mod 0 = 0
      if (b == 0 || b == -1) return 0;
      int64_t r = a % b;
      if (r != 0 && ((r < 0) != (b < 0))) r += b;
      return r;
    }
    default: return 0;
  }
}

struct Loop {
  std::array<int64_t, 4> n{1, 1, 1, 1};
};

Loop make_loop(const Instr& in) {
  Loop l;
  for (int d = 0; d < in.rank; ++d) l.n[4 - in.rank + d] = in.shape[d];
  return l;
}

inline int64_t off(const Acc& x, int64_t i0, int64_t i1, int64_t i2, int64_t i3) {
  return i0 * x.st[0] + i1 * x.st[1] + i2 * x.st[2] + i3 * x.st[3];
}

// Rounds a quotient for v.quant; NaN -> 0, beyond int64 saturates.
int64_t quant_round(float t) {
  if (std::isnan(t)) return 0;
  if (t >= 9.2e18f) return std::numeric_limits<int64_t>::max() / 2;
  if (t <= -9.2e18f) return std::numeric_limits<int64_t>::min() / 2;
  return num::detail::round_half_even(t);
}

// ---- fp32 rows: the common case without per-element dispatch ----
//
// All operands fp32 and each row contiguous (b may also be one broadcast
// value): the same expressions as f_unary/f_binary, written per row so the
// compiler vectorises them. IEEE add/sub/mul/div and the comparisons give
// the same results element by element whichever width computes them.

typedef float f32u __attribute__((aligned(1), may_alias));  // operands sit at any byte address

// No __restrict: operands may overlap, and element order then matters; the
// compiler checks for overlap at run time and keeps such rows in order.
template <class F>
void unary_row(f32u* d, const f32u* a, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) d[i] = f(a[i]);
}

template <class F>
void binary_row(f32u* d, const f32u* a, const f32u* b, int64_t n, int64_t b_step, F f) {
  if (n <= 0) return;
  if (b_step == 0) {
    const float bv = b[0];
    for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], bv);
  } else {
    for (int64_t i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
  }
}

// One row of an fp32 elementwise op; false when the op has no fast form.
[[gnu::target_clones("avx512f", "avx2", "default")]] bool f32_row(Op op, float* d, const float* a, const float* b,
                                                                    int64_t n, int64_t b_step) {
  auto* D = reinterpret_cast<f32u*>(d);
  const auto* A = reinterpret_cast<const f32u*>(a);
  const auto* B = reinterpret_cast<const f32u*>(b);
  switch (op) {
    case Op::v_copy: unary_row(D, A, n, [](float x) { return x; }); return true;
    case Op::v_neg: unary_row(D, A, n, [](float x) { return -x; }); return true;
    case Op::v_abs: unary_row(D, A, n, [](float x) { return std::fabs(x); }); return true;
    case Op::v_relu: unary_row(D, A, n, [](float x) { return x != x ? x : (x > 0.0f ? x : 0.0f); }); return true;
    case Op::v_add: binary_row(D, A, B, n, b_step, [](float x, float y) { return x + y; }); return true;
    case Op::v_sub: binary_row(D, A, B, n, b_step, [](float x, float y) { return x - y; }); return true;
    case Op::v_mul: binary_row(D, A, B, n, b_step, [](float x, float y) { return x * y; }); return true;
    case Op::v_div: binary_row(D, A, B, n, b_step, [](float x, float y) { return x / y; }); return true;
    case Op::v_max:
      binary_row(D, A, B, n, b_step, [](float x, float y) { return x != x || y != y ? kNaN : (x > y ? x : y); });
      return true;
    case Op::v_min:
      binary_row(D, A, B, n, b_step, [](float x, float y) { return x != x || y != y ? kNaN : (x < y ? x : y); });
      return true;
    default: return false;
  }
}

bool has_f32_row(Op op) {
  switch (op) {
    case Op::v_copy: case Op::v_neg: case Op::v_abs: case Op::v_relu: case Op::v_add: case Op::v_sub:
    case Op::v_mul: case Op::v_div: case Op::v_max: case Op::v_min:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool vector_op_has_int_path(Op op) {
  switch (op) {
    case Op::v_copy: case Op::v_neg: case Op::v_abs: case Op::v_relu: case Op::v_not: case Op::v_sign:
    case Op::v_add: case Op::v_sub: case Op::v_mul: case Op::v_div: case Op::v_max: case Op::v_min:
    case Op::v_eq: case Op::v_lt: case Op::v_le: case Op::v_gt: case Op::v_ge: case Op::v_and:
    case Op::v_or: case Op::v_xor: case Op::v_mod: case Op::v_select:
    case Op::v_rsum: case Op::v_rmax: case Op::v_rmin: case Op::v_rprod: case Op::v_rsumsq:
    case Op::v_argmax: case Op::v_argmin: case Op::v_cumsum:
      return true;
    default:
      return false;
  }
}

std::string run_vector(const Instr& in, const VecOperands& ops) {
  const isa::OpInfo* info = isa::op_info(in.op);
  const isa::Format f = info->format;
  const bool uses_b = f == isa::Format::binary || f == isa::Format::quant;
  Acc d, a, b;
  bind(d, in.dst, ops.dst, in.rank);
  bind(a, in.a, ops.a, in.rank);
  if (uses_b) bind(b, in.b, ops.b, in.rank);
  uint8_t* dp = ops.dst;
  const bool sat = in.param[f == isa::Format::quant ? 1 : 0] != 0;
  const bool integer = vector_op_has_int_path(in.op) && dtype_is_int(d.t) && dtype_is_int(a.t) &&
                       (!uses_b || dtype_is_int(b.t));
  const Loop L = make_loop(in);

  if (f == isa::Format::reduce || in.op == Op::v_cumsum) {
    const int64_t n = L.n[3];
    for (int64_t i0 = 0; i0 < L.n[0]; ++i0)
      for (int64_t i1 = 0; i1 < L.n[1]; ++i1)
        for (int64_t i2 = 0; i2 < L.n[2]; ++i2) {
          const int64_t base_a = off(a, i0, i1, i2, 0);
          const int64_t base_d = off(d, i0, i1, i2, 0);
          if (in.op == Op::v_cumsum) {
            if (integer) {
              int64_t s = 0;
              for (int64_t k = 0; k < n; ++k) {
                s = wrap_add(s, num::load_i64(a.t, a.p, base_a + k * a.st[3]));
                num::store_i64(d.t, dp, base_d + k * d.st[3], s);
              }
            } else {
              float s = 0.0f;
              for (int64_t k = 0; k < n; ++k) {
                s += num::load_f32(a.t, a.p, base_a + k * a.st[3]);
                num::store_f32(d.t, dp, base_d + k * d.st[3], s, sat);
              }
            }
            continue;
          }
          if (in.op == Op::v_argmax || in.op == Op::v_argmin) {
            const bool mx = in.op == Op::v_argmax;
            int64_t best = 0;
            if (integer) {
              int64_t bv = num::load_i64(a.t, a.p, base_a);
              for (int64_t k = 1; k < n; ++k) {
                int64_t v = num::load_i64(a.t, a.p, base_a + k * a.st[3]);
                if (mx ? v > bv : v < bv) bv = v, best = k;
              }
            } else {  // the first NaN wins, as numpy's argmax/argmin
              float bv = num::load_f32(a.t, a.p, base_a);
              for (int64_t k = 1; k < n && !std::isnan(bv); ++k) {
                float v = num::load_f32(a.t, a.p, base_a + k * a.st[3]);
                if (std::isnan(v) || (mx ? v > bv : v < bv)) bv = v, best = k;
              }
            }
            num::store_i64(d.t, dp, base_d, best);
            continue;
          }
          if (integer) {
            int64_t acc = in.op == Op::v_rprod ? 1 : 0;
            for (int64_t k = 0; k < n; ++k) {
              int64_t v = num::load_i64(a.t, a.p, base_a + k * a.st[3]);
              switch (in.op) {
                case Op::v_rsum: acc = wrap_add(acc, v); break;
                case Op::v_rsumsq: acc = wrap_add(acc, wrap_mul(v, v)); break;
                case Op::v_rprod: acc = wrap_mul(acc, v); break;
                case Op::v_rmax: acc = k == 0 || v > acc ? v : acc; break;
                case Op::v_rmin: acc = k == 0 || v < acc ? v : acc; break;
                default: break;
              }
            }
            num::store_i64(d.t, dp, base_d, acc);
          } else {
            // In order k = 0..n-1, one fp32 rounding per step (sumsq: fused).
            float acc = in.op == Op::v_rprod ? 1.0f : 0.0f;
            for (int64_t k = 0; k < n; ++k) {
              float v = num::load_f32(a.t, a.p, base_a + k * a.st[3]);
              switch (in.op) {
                case Op::v_rsum: acc += v; break;
                case Op::v_rsumsq: acc = std::fma(v, v, acc); break;
                case Op::v_rprod: acc *= v; break;
                case Op::v_rmax: acc = k == 0 ? v : f_binary(Op::v_max, acc, v); break;
                case Op::v_rmin: acc = k == 0 ? v : f_binary(Op::v_min, acc, v); break;
                default: break;
              }
            }
            num::store_f32(d.t, dp, base_d, acc, sat);
          }
        }
    return {};
  }

  const bool unary = f == isa::Format::unary;
  // fp32 rows: every operand fp32, rows contiguous (b: contiguous or one value)
  if ((unary || f == isa::Format::binary) && d.t == DType::fp32 && a.t == DType::fp32 &&
      (unary || b.t == DType::fp32) && d.st[3] == 1 && a.st[3] == 1 && (unary || b.st[3] == 1 || b.st[3] == 0) &&
      has_f32_row(in.op)) {
    for (int64_t i0 = 0; i0 < L.n[0]; ++i0)
      for (int64_t i1 = 0; i1 < L.n[1]; ++i1)
        for (int64_t i2 = 0; i2 < L.n[2]; ++i2) {
          float* drow = reinterpret_cast<float*>(dp + 4 * off(d, i0, i1, i2, 0));
          const float* arow = reinterpret_cast<const float*>(a.p + 4 * off(a, i0, i1, i2, 0));
          const float* brow = unary ? nullptr : reinterpret_cast<const float*>(b.p + 4 * off(b, i0, i1, i2, 0));
          f32_row(in.op, drow, arow, brow, L.n[3], unary ? 0 : b.st[3]);
        }
    return {};
  }
  const int64_t zp = f == isa::Format::quant ? in.param[0] : 0;
  for (int64_t i0 = 0; i0 < L.n[0]; ++i0)
    for (int64_t i1 = 0; i1 < L.n[1]; ++i1)
      for (int64_t i2 = 0; i2 < L.n[2]; ++i2)
        for (int64_t i3 = 0; i3 < L.n[3]; ++i3) {
          const int64_t od = off(d, i0, i1, i2, i3), oa = off(a, i0, i1, i2, i3);
          if (in.op == Op::v_select) {
            // The condition is tested in its own dtype; a kept element of the
            // same dtype is copied bit for bit (no trip through fp32).
            const bool c = dtype_is_int(a.t) ? num::load_i64(a.t, a.p, oa) != 0 : num::load_f32(a.t, a.p, oa) != 0.0f;
            if (!c) continue;
            const int64_t ob = off(b, i0, i1, i2, i3);
            if (b.t == d.t) {
              const int es = dtype_bits(d.t) / 8;
              std::memcpy(dp + od * es, b.p + ob * es, static_cast<size_t>(es));
            } else if (dtype_is_int(b.t) && dtype_is_int(d.t)) {
              num::store_i64(d.t, dp, od, num::load_i64(b.t, b.p, ob));
            } else {
              num::store_f32(d.t, dp, od, num::load_f32(b.t, b.p, ob), sat);
            }
          } else if (in.op == Op::v_quant) {
            float t = num::load_f32(a.t, a.p, oa) / num::load_f32(b.t, b.p, off(b, i0, i1, i2, i3));
            if (dtype_is_int(d.t)) num::store_i64(d.t, dp, od, wrap_add(quant_round(t), zp));
            else num::store_f32(d.t, dp, od, t + static_cast<float>(zp), sat);
          } else if (in.op == Op::v_dequant) {
            float x = dtype_is_int(a.t) ? static_cast<float>(wrap_sub(num::load_i64(a.t, a.p, oa), zp))
                                        : num::load_f32(a.t, a.p, oa) - static_cast<float>(zp);
            num::store_f32(d.t, dp, od, x * num::load_f32(b.t, b.p, off(b, i0, i1, i2, i3)), sat);
          } else if (integer) {
            int64_t va = num::load_i64(a.t, a.p, oa);
            int64_t r;
            if (unary) {
              r = i_unary(in.op, va);
            } else {
              r = i_binary(in.op, va, num::load_i64(b.t, b.p, off(b, i0, i1, i2, i3)));
            }
            num::store_i64(d.t, dp, od, r);
          } else {
            float va = num::load_f32(a.t, a.p, oa);
            float r;
            if (unary) {
              r = f_unary(in.op, va);
            } else {
              r = f_binary(in.op, va, num::load_f32(b.t, b.p, off(b, i0, i1, i2, i3)));
            }
            num::store_f32(d.t, dp, od, r, sat);
          }
        }
  return {};
}

}  // namespace seedchip::sim
