// seedchip — hostops: elementwise unary, binary, variadic and logical ops.
#include <cfloat>
#include <cmath>
#include <type_traits>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops::detail {

namespace {

// ---- frameworks ------------------------------------------------------------------

// Shape B takes in a legacy (opset < 7) broadcast: none unless broadcast=1,
// then B aligned at `axis` (default: trailing) of A.
Shape legacy_b_shape(const Ctx& c, const HostTensor& a, const HostTensor& b) {
  if (c.node.attr_int("broadcast", 0) == 0) {
    if (a.shape != b.shape) c.fail(fmt::format("shapes {} and {} differ and broadcast=0", shape_str(a.shape), shape_str(b.shape)));
    return b.shape;
  }
  if (!c.node.has_attr("axis")) return b.shape;
  const auto ra = static_cast<int64_t>(a.shape.size()), rb = static_cast<int64_t>(b.shape.size());
  const int64_t ax = c.axis(c.node.attr_int("axis", 0), ra);
  if (ax + rb > ra) c.fail(fmt::format("B of rank {} does not fit at axis {} of rank {}", rb, ax, ra));
  Shape s = b.shape;
  s.resize(static_cast<size_t>(ra - ax), 1);
  return s;
}

// y = f(a, b) with numpy broadcasting. Integer operands go through fi in
// exact int64; if either operand is float, ff is used in double.
template <class FI, class FF>
HostTensor binary(const Ctx& c, const HostTensor& a, const HostTensor& b, ElemType ot, FI fi, FF ff, bool legacy = false) {
  const Shape bshape = legacy ? legacy_b_shape(c, a, b) : b.shape;
  const Shape s = broadcast(c, {a.shape, bshape});
  HostTensor y = c.make(ot, s);
  const Shape sa = bcast_strides(a.shape, s), sb = bcast_strides(bshape, s);
  if (is_float(a.type) || is_float(b.type)) {
    walk(s, {&sa, &sb}, [&](int64_t i, const int64_t*, const int64_t* o) { st_f(y, i, ff(ld_f(a, o[0]), ld_f(b, o[1]))); });
  } else {
    walk(s, {&sa, &sb}, [&](int64_t i, const int64_t*, const int64_t* o) { st_i(y, i, fi(ld_i(a, o[0]), ld_i(b, o[1]))); });
  }
  return y;
}

// y = f(x). Float inputs use ff in double; integer inputs use fi exactly, or
// ff in double when fi is nullptr (float-only math applied to ints).
template <class FF, class FI = std::nullptr_t>
HostTensor unary(const Ctx& c, const HostTensor& x, ElemType ot, FF ff, FI fi = nullptr) {
  HostTensor y = c.make(ot, x.shape);
  const int64_t n = x.elements();
  if constexpr (!std::is_same_v<FI, std::nullptr_t>) {
    if (!is_float(x.type)) {
      for (int64_t i = 0; i < n; ++i) st_i(y, i, fi(ld_i(x, i)));
      return y;
    }
  }
  for (int64_t i = 0; i < n; ++i) st_f(y, i, ff(ld_f(x, i)));
  return y;
}

template <class FF>
Tensors float_unary(const Ctx& c, FF ff) {
  return {unary(c, c.in(0), c.in(0).type, ff)};
}

bool u64(const HostTensor& t) { return t.type == ElemType::u64; }

// ---- arithmetic ----------------------------------------------------------------

Tensors op_add(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  return {binary(c, a, b, a.type, wadd, [](double x, double y) { return x + y; }, c.opset() < 7)};
}

Tensors op_sub(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  return {binary(c, a, b, a.type, wsub, [](double x, double y) { return x - y; }, c.opset() < 7)};
}

Tensors op_mul(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  return {binary(c, a, b, a.type, wmul, [](double x, double y) { return x * y; }, c.opset() < 7)};
}

Tensors op_div(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  const bool u = u64(a);
  auto fi = [&](int64_t x, int64_t y) -> int64_t {
    if (y == 0) c.fail("integer division by zero");
    if (u) return static_cast<int64_t>(static_cast<uint64_t>(x) / static_cast<uint64_t>(y));
    if (y == -1) return wneg(x);  // INT64_MIN / -1 wraps
    return x / y;                 // truncates toward zero like C
  };
  return {binary(c, a, b, a.type, fi, [](double x, double y) { return x / y; }, c.opset() < 7)};
}

Tensors op_mod(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  const bool fmod = c.node.attr_int("fmod", 0) != 0, u = u64(a);
  auto fi = [&](int64_t x, int64_t y) -> int64_t {
    if (y == 0) c.fail("integer modulo by zero");
    if (u) return static_cast<int64_t>(static_cast<uint64_t>(x) % static_cast<uint64_t>(y));
    if (y == -1) return 0;  // avoids INT64_MIN % -1
    int64_t r = x % y;
    if (!fmod && r != 0 && (r < 0) != (y < 0)) r += y;  // sign of the divisor, like Python
    return r;
  };
  auto ff = [&](double x, double y) {
    double r = std::fmod(x, y);
    if (!fmod && r != 0 && (r < 0) != (y < 0)) r += y;
    return r;
  };
  return {binary(c, a, b, a.type, fi, ff)};
}

int64_t ipow(int64_t base, int64_t e) {
  if (e < 0) {
    // truncated 1/base^|e|: only +-1 survive
    if (base == 1) return 1;
    if (base == -1) return (e & 1) ? -1 : 1;
    return 0;
  }
  int64_t r = 1;
  auto ue = static_cast<uint64_t>(e);
  while (ue) {
    if (ue & 1) r = wmul(r, base);
    base = wmul(base, base);
    ue >>= 1;
  }
  return r;
}

Tensors op_pow(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  if (c.opset() < 12) c.same_type(a, b);
  return {binary(c, a, b, a.type, ipow, [](double x, double y) { return std::pow(x, y); }, c.opset() < 7)};
}

Tensors op_prelu(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  return {binary(
      c, a, b, a.type, [](int64_t x, int64_t s) { return x < 0 ? wmul(x, s) : x; },
      [](double x, double s) { return x < 0 ? x * s : x; })};
}

Tensors op_bitshift(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  if (is_float(a.type)) c.fail("BitShift needs unsigned integers");
  const std::string dir = c.node.attr_str("direction", "");
  if (dir != "LEFT" && dir != "RIGHT") c.fail(fmt::format("direction '{}' is not LEFT or RIGHT", dir));
  const bool left = dir == "LEFT";
  auto fi = [left](int64_t x, int64_t s) -> int64_t {
    const auto ux = static_cast<uint64_t>(x), us = static_cast<uint64_t>(s);
    if (us >= 64) return 0;
    return static_cast<int64_t>(left ? ux << us : ux >> us);
  };
  return {binary(c, a, b, a.type, fi, [](double, double) { return 0.0; })};
}

// ---- comparison and logic ------------------------------------------------------------

template <int kOp>  // 0 ==, 1 <, 2 <=, 3 >, 4 >=
Tensors op_compare(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  const bool u = u64(a);
  auto fi = [u](int64_t x, int64_t y) -> int64_t {
    const int r = icmp(x, y, u);
    switch (kOp) {
      case 0: return r == 0;
      case 1: return r < 0;
      case 2: return r <= 0;
      case 3: return r > 0;
      default: return r >= 0;
    }
  };
  auto ff = [](double x, double y) -> double {
    switch (kOp) {
      case 0: return x == y;
      case 1: return x < y;
      case 2: return x <= y;
      case 3: return x > y;
      default: return x >= y;
    }
  };
  return {binary(c, a, b, ElemType::boolean, fi, ff, c.opset() < 7)};
}

template <int kOp>  // 0 and, 1 or, 2 xor
Tensors op_logic(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  if (a.type != ElemType::boolean || b.type != ElemType::boolean) c.fail("inputs must be bool");
  auto fi = [](int64_t x, int64_t y) -> int64_t { return kOp == 0 ? (x && y) : kOp == 1 ? (x || y) : (x != y); };
  return {binary(c, a, b, ElemType::boolean, fi, [](double, double) { return 0.0; }, c.opset() < 7)};
}

Tensors op_not(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.type != ElemType::boolean) c.fail("input must be bool");
  return {unary(c, x, ElemType::boolean, [](double v) { return v == 0 ? 1.0 : 0.0; }, [](int64_t v) -> int64_t { return !v; })};
}

Tensors op_isnan(const Ctx& c) {
  return {unary(c, c.in(0), ElemType::boolean, [](double v) { return std::isnan(v) ? 1.0 : 0.0; },
                [](int64_t) -> int64_t { return 0; })};
}

Tensors op_isinf(const Ctx& c) {
  const bool pos = c.node.attr_int("detect_positive", 1) != 0, neg = c.node.attr_int("detect_negative", 1) != 0;
  return {unary(
      c, c.in(0), ElemType::boolean,
      [pos, neg](double v) { return std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg)) ? 1.0 : 0.0; },
      [](int64_t) -> int64_t { return 0; })};
}

Tensors op_where(const Ctx& c) {
  const HostTensor &cond = c.in(0), &x = c.in(1), &y = c.in(2);
  if (cond.type != ElemType::boolean) c.fail("condition must be bool");
  c.same_type(x, y);
  const Shape s = broadcast(c, {cond.shape, x.shape, y.shape});
  HostTensor out = c.make(x.type, s);
  const Shape sc = bcast_strides(cond.shape, s), sx = bcast_strides(x.shape, s), sy = bcast_strides(y.shape, s);
  walk(s, {&sc, &sx, &sy}, [&](int64_t i, const int64_t*, const int64_t* o) {
    if (cond.data[static_cast<size_t>(o[0])])
      copy_elem(out, i, x, o[1]);
    else
      copy_elem(out, i, y, o[2]);
  });
  return {out};
}

// ---- variadic ------------------------------------------------------------------------

std::vector<const HostTensor*> variadic_inputs(const Ctx& c) {
  std::vector<const HostTensor*> xs;
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (const HostTensor* t = c.opt(i)) {
      if (!xs.empty()) c.same_type(*xs[0], *t);
      xs.push_back(t);
    }
  if (xs.empty()) c.fail("no inputs");
  return xs;
}

template <class FI, class FF>
HostTensor fold(const Ctx& c, const std::vector<const HostTensor*>& xs, FI fi, FF ff) {
  HostTensor acc = *xs[0];
  for (size_t i = 1; i < xs.size(); ++i) acc = binary(c, acc, *xs[i], acc.type, fi, ff);
  return acc;
}

Tensors op_max(const Ctx& c) {
  const auto xs = variadic_inputs(c);
  const bool u = u64(*xs[0]);
  return {fold(
      c, xs, [u](int64_t x, int64_t y) { return icmp(x, y, u) >= 0 ? x : y; },
      [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : x >= y ? x : y; })};
}

Tensors op_min(const Ctx& c) {
  const auto xs = variadic_inputs(c);
  const bool u = u64(*xs[0]);
  return {fold(
      c, xs, [u](int64_t x, int64_t y) { return icmp(x, y, u) <= 0 ? x : y; },
      [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : x <= y ? x : y; })};
}

Tensors op_sum(const Ctx& c) { return {fold(c, variadic_inputs(c), wadd, [](double x, double y) { return x + y; })}; }

Tensors op_mean(const Ctx& c) {
  const auto xs = variadic_inputs(c);
  // Sum exactly in double rather than in the (possibly narrow) element type.
  std::vector<HostTensor> wide;
  std::vector<const HostTensor*> ptrs;
  for (const HostTensor* x : xs) {
    HostTensor w(ElemType::f64, x->shape);
    for (int64_t i = 0; i < x->elements(); ++i) w.set(i, ld_f(*x, i));
    wide.push_back(std::move(w));
  }
  for (const auto& w : wide) ptrs.push_back(&w);
  const HostTensor sum = fold(c, ptrs, wadd, [](double x, double y) { return x + y; });
  const auto n = static_cast<double>(xs.size());
  return {unary(c, sum, xs[0]->type, [n](double v) { return v / n; })};
}

// ---- unary math ----------------------------------------------------------------

Tensors op_neg(const Ctx& c) { return {unary(c, c.in(0), c.in(0).type, [](double v) { return -v; }, wneg)}; }

Tensors op_abs(const Ctx& c) {
  const bool u = u64(c.in(0));
  return {unary(c, c.in(0), c.in(0).type, [](double v) { return std::fabs(v); },
                [u](int64_t v) { return !u && v < 0 ? wneg(v) : v; })};
}

Tensors op_sign(const Ctx& c) {
  const bool u = u64(c.in(0));
  return {unary(c, c.in(0), c.in(0).type, [](double v) { return std::isnan(v) ? v : v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; },
                [u](int64_t v) -> int64_t { return u ? v != 0 : (v > 0) - (v < 0); })};
}

Tensors op_relu(const Ctx& c) {
  const bool u = u64(c.in(0));
  return {unary(c, c.in(0), c.in(0).type, [](double v) { return v < 0 ? 0.0 : v; },
                [u](int64_t v) -> int64_t { return !u && v < 0 ? 0 : v; })};
}

// Rounding ops leave integers untouched.
template <double (*F)(double)>
Tensors op_rounding(const Ctx& c) {
  return {unary(c, c.in(0), c.in(0).type, F, [](int64_t v) { return v; })};
}

double f_floor(double v) { return std::floor(v); }
double f_ceil(double v) { return std::ceil(v); }
double f_round(double v) { return std::nearbyint(v); }  // half to even in the default rounding mode

template <double (*F)(double)>
Tensors op_math(const Ctx& c) {
  return float_unary(c, F);
}

double f_sqrt(double v) { return std::sqrt(v); }
double f_exp(double v) { return std::exp(v); }
double f_log(double v) { return std::log(v); }
double f_recip(double v) { return 1.0 / v; }
double f_tanh(double v) { return std::tanh(v); }
double f_erf(double v) { return std::erf(v); }
double f_sin(double v) { return std::sin(v); }
double f_cos(double v) { return std::cos(v); }
double f_tan(double v) { return std::tan(v); }
double f_asin(double v) { return std::asin(v); }
double f_acos(double v) { return std::acos(v); }
double f_atan(double v) { return std::atan(v); }
double f_sinh(double v) { return std::sinh(v); }
double f_cosh(double v) { return std::cosh(v); }
double f_asinh(double v) { return std::asinh(v); }
double f_acosh(double v) { return std::acosh(v); }
double f_atanh(double v) { return std::atanh(v); }
double f_sigmoid(double v) {
  // split by sign so exp never overflows
  if (v >= 0) return 1.0 / (1.0 + std::exp(-v));
  const double e = std::exp(v);
  return e / (1.0 + e);
}
double f_softplus(double v) { return v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v)); }
double f_softsign(double v) { return v / (1.0 + std::fabs(v)); }
double f_hardswish(double v) { return v * std::max(0.0, std::min(1.0, v / 6.0 + 0.5)); }

Tensors op_elu(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 1.0);
  return float_unary(c, [a](double v) { return v < 0 ? a * (std::exp(v) - 1.0) : v; });
}

Tensors op_selu(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 1.67326319217681884765625), g = c.node.attr_float("gamma", 1.05070102214813232421875);
  return float_unary(c, [a, g](double v) { return v > 0 ? g * v : g * (a * std::exp(v) - a); });
}

Tensors op_celu(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 1.0);
  return float_unary(c, [a](double v) { return std::max(0.0, v) + std::min(0.0, a * (std::exp(v / a) - 1.0)); });
}

Tensors op_leaky_relu(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 0.01);
  return float_unary(c, [a](double v) { return v < 0 ? a * v : v; });
}

Tensors op_thresholded_relu(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 1.0);
  return float_unary(c, [a](double v) { return v > a ? v : 0.0; });
}

Tensors op_hard_sigmoid(const Ctx& c) {
  const double a = c.node.attr_float("alpha", 0.2), b = c.node.attr_float("beta", 0.5);
  return float_unary(c, [a, b](double v) { return std::max(0.0, std::min(1.0, a * v + b)); });
}

Tensors op_shrink(const Ctx& c) {
  const double l = c.node.attr_float("lambd", 0.5), b = c.node.attr_float("bias", 0.0);
  return float_unary(c, [l, b](double v) { return v < -l ? v + b : v > l ? v - b : 0.0; });
}

// min > max yields max everywhere, like numpy.clip; NaN passes through.
double clamp_to(double v, double lo, double hi) {
  if (v < lo) v = lo;
  return v > hi ? hi : v;
}

Tensors op_clip(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (c.opset() < 11) {
    const double lo = c.node.attr_float("min", -FLT_MAX), hi = c.node.attr_float("max", FLT_MAX);
    return float_unary(c, [lo, hi](double v) { return clamp_to(v, lo, hi); });
  }
  const HostTensor *mn = c.opt(1), *mx = c.opt(2);
  if (mn) c.same_type(x, *mn);
  if (mx) c.same_type(x, *mx);
  if (is_float(x.type)) {
    const double lo = mn ? c.scalar_f(*mn, "min") : -INFINITY, hi = mx ? c.scalar_f(*mx, "max") : INFINITY;
    return float_unary(c, [lo, hi](double v) { return clamp_to(v, lo, hi); });
  }
  const bool u = u64(x);
  const int64_t lo = mn ? c.scalar_int(*mn, "min") : int_min(x.type), hi = mx ? c.scalar_int(*mx, "max") : int_max(x.type);
  return {unary(c, x, x.type, [](double v) { return v; }, [=](int64_t v) {
    if (icmp(v, lo, u) < 0) v = lo;
    if (icmp(v, hi, u) > 0) v = hi;
    return v;
  })};
}

}  // namespace

void register_elementwise(Registry& r) {
  r["Add"] = {op_add};
  r["Sub"] = {op_sub};
  r["Mul"] = {op_mul};
  r["Div"] = {op_div};
  r["Mod"] = {op_mod, 10};
  r["Pow"] = {op_pow};
  r["PRelu"] = {op_prelu};
  r["BitShift"] = {op_bitshift, 11};
  r["Equal"] = {op_compare<0>};
  r["Less"] = {op_compare<1>};
  r["LessOrEqual"] = {op_compare<2>, 12};
  r["Greater"] = {op_compare<3>};
  r["GreaterOrEqual"] = {op_compare<4>, 12};
  r["And"] = {op_logic<0>};
  r["Or"] = {op_logic<1>};
  r["Xor"] = {op_logic<2>};
  r["Not"] = {op_not};
  r["IsNaN"] = {op_isnan, 9};
  r["IsInf"] = {op_isinf, 10};
  r["Where"] = {op_where, 9};
  r["Max"] = {op_max};
  r["Min"] = {op_min};
  r["Sum"] = {op_sum};
  r["Mean"] = {op_mean};
  r["Neg"] = {op_neg};
  r["Abs"] = {op_abs};
  r["Sign"] = {op_sign, 9};
  r["Relu"] = {op_relu};
  r["Floor"] = {op_rounding<f_floor>};
  r["Ceil"] = {op_rounding<f_ceil>};
  r["Round"] = {op_rounding<f_round>, 11};
  r["Sqrt"] = {op_math<f_sqrt>};
  r["Exp"] = {op_math<f_exp>};
  r["Log"] = {op_math<f_log>};
  r["Reciprocal"] = {op_math<f_recip>};
  r["Tanh"] = {op_math<f_tanh>};
  r["Erf"] = {op_math<f_erf>, 9};
  r["Sigmoid"] = {op_math<f_sigmoid>};
  r["Sin"] = {op_math<f_sin>, 7};
  r["Cos"] = {op_math<f_cos>, 7};
  r["Tan"] = {op_math<f_tan>, 7};
  r["Asin"] = {op_math<f_asin>, 7};
  r["Acos"] = {op_math<f_acos>, 7};
  r["Atan"] = {op_math<f_atan>, 7};
  r["Sinh"] = {op_math<f_sinh>, 9};
  r["Cosh"] = {op_math<f_cosh>, 9};
  r["Asinh"] = {op_math<f_asinh>, 9};
  r["Acosh"] = {op_math<f_acosh>, 9};
  r["Atanh"] = {op_math<f_atanh>, 9};
  r["Softplus"] = {op_math<f_softplus>};
  r["Softsign"] = {op_math<f_softsign>};
  r["HardSwish"] = {op_math<f_hardswish>, 14};
  r["Elu"] = {op_elu};
  r["Selu"] = {op_selu};
  r["Celu"] = {op_celu, 12};
  r["LeakyRelu"] = {op_leaky_relu};
  r["ThresholdedRelu"] = {op_thresholded_relu, 10};
  r["HardSigmoid"] = {op_hard_sigmoid};
  r["Shrink"] = {op_shrink, 9};
  r["Clip"] = {op_clip};
}

}  // namespace seedchip::hostops::detail
