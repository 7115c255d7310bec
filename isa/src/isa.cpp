// seedchip — opcode table and static instruction rules.
#include "seedchip/isa/isa.h"

#include <algorithm>
#include <bit>
#include <cstring>

#include <fmt/format.h>

#include "seedchip/isa/program.h"

namespace seedchip::isa {

namespace {

constexpr std::array<std::string_view, 3> P(std::string_view a = {}, std::string_view b = {},
                                            std::string_view c = {}) {
  return {a, b, c};
}

// Vector ops take `sat`: 1 = fp8 results saturate to max finite, 0 = overflow
// to NaN (e4m3) / Inf (e5m2). Default 1, as ONNX QuantizeLinear does.
#define VEC(op_, mn, fmt_, sum) \
  OpInfo{Op::op_, mn, Engine::vector, Format::fmt_, P("sat"), {1, 0, 0}, 0, sum}

const OpInfo kOps[] = {
    {Op::nop, "nop", Engine::control, Format::none, P("engine"), {0, 0, 0}, 1,
     "no operation on the named engine; carries wait/signal"},
    {Op::barrier, "barrier", Engine::control, Format::none, P("id"), {0, 0, 0}, 1,
     "drain this core's engines, then wait until every core with code arrives"},
    {Op::host_call, "host.call", Engine::control, Format::none, P("id"), {0, 0, 0}, 1,
     "like barrier; while every core waits, the host runs host op `id` on HBM tensors"},
    {Op::load, "load", Engine::dma_in, Format::dma, P(), {0, 0, 0}, 0,
     "strided copy into local sram/acc from hbm or any core's sram"},
    {Op::store, "store", Engine::dma_out, Format::dma, P(), {0, 0, 0}, 0,
     "strided copy from local sram/acc to hbm or a remote core's sram"},
    {Op::load_gather, "load.gather", Engine::dma_in, Format::gather, P(), {0, 0, 0}, 0,
     "dst[r][e] = a[b[r]][e]: rows of a table picked by int32 indices"},
    {Op::store_scatter, "store.scatter", Engine::dma_out, Format::gather, P(), {0, 0, 0}, 0,
     "dst[b[r]][e] = a[r][e]: rows written at int32 indices"},
    {Op::mm_ldw, "mm.ldw", Engine::matrix, Format::ldw, P(), {0, 0, 0}, 0,
     "load a K x N weight tile (K <= rows, N <= cols) into the systolic array"},
    {Op::mm_run, "mm.run", Engine::matrix, Format::mmrun, P("acc"), {0, 0, 0}, 0,
     "dst[m][n] (+)= sum_k a[m][k] * w[k][n] with the loaded weights"},
    VEC(v_copy, "v.copy", unary, "dst = a (converts dtype)"),
    VEC(v_neg, "v.neg", unary, "dst = -a"),
    VEC(v_abs, "v.abs", unary, "dst = |a|"),
    VEC(v_recip, "v.recip", unary, "dst = 1 / a"),
    VEC(v_sqrt, "v.sqrt", unary, "dst = sqrt(a)"),
    VEC(v_rsqrt, "v.rsqrt", unary, "dst = 1 / sqrt(a)"),
    VEC(v_exp, "v.exp", unary, "dst = e^a"),
    VEC(v_log, "v.log", unary, "dst = ln(a)"),
    VEC(v_tanh, "v.tanh", unary, "dst = tanh(a)"),
    VEC(v_erf, "v.erf", unary, "dst = erf(a)"),
    VEC(v_sigmoid, "v.sigmoid", unary, "dst = 1 / (1 + e^-a)"),
    VEC(v_relu, "v.relu", unary, "dst = max(a, 0)"),
    VEC(v_floor, "v.floor", unary, "dst = floor(a)"),
    VEC(v_ceil, "v.ceil", unary, "dst = ceil(a)"),
    VEC(v_round, "v.round", unary, "dst = a rounded to nearest, ties to even"),
    VEC(v_trunc, "v.trunc", unary, "dst = a rounded toward zero"),
    VEC(v_not, "v.not", unary, "dst = (a == 0)"),
    VEC(v_sin, "v.sin", unary, "dst = sin(a)"),
    VEC(v_cos, "v.cos", unary, "dst = cos(a)"),
    VEC(v_sign, "v.sign", unary, "dst = -1, 0 or 1 by the sign of a"),
    VEC(v_add, "v.add", binary, "dst = a + b"),
    VEC(v_sub, "v.sub", binary, "dst = a - b"),
    VEC(v_mul, "v.mul", binary, "dst = a * b"),
    VEC(v_div, "v.div", binary, "dst = a / b (integers: toward zero)"),
    VEC(v_max, "v.max", binary, "dst = max(a, b) (NaN if either is NaN)"),
    VEC(v_min, "v.min", binary, "dst = min(a, b) (NaN if either is NaN)"),
    VEC(v_pow, "v.pow", binary, "dst = a ^ b"),
    VEC(v_eq, "v.eq", binary, "dst = (a == b)"),
    VEC(v_lt, "v.lt", binary, "dst = (a < b)"),
    VEC(v_le, "v.le", binary, "dst = (a <= b)"),
    VEC(v_gt, "v.gt", binary, "dst = (a > b)"),
    VEC(v_ge, "v.ge", binary, "dst = (a >= b)"),
    VEC(v_and, "v.and", binary, "dst = (a != 0 && b != 0)"),
    VEC(v_or, "v.or", binary, "dst = (a != 0 || b != 0)"),
    VEC(v_xor, "v.xor", binary, "dst = ((a != 0) != (b != 0))"),
    VEC(v_mod, "v.mod", binary, "dst = a mod b (sign of b, like Python; floats: fmod)"),
    VEC(v_select, "v.select", binary, "dst = a != 0 ? b : dst"),
    {Op::v_quant, "v.quant", Engine::vector, Format::quant, P("zp", "sat"), {0, 1, 0}, 0,
     "dst = saturate(round_even(a / b) + zp); float dst: a / b + zp, unrounded"},
    {Op::v_dequant, "v.dequant", Engine::vector, Format::quant, P("zp", "sat"), {0, 1, 0}, 0,
     "dst = (a - zp) * b"},
    VEC(v_rsum, "v.rsum", reduce, "dst[..., 0] = sum over the last axis"),
    VEC(v_rmax, "v.rmax", reduce, "dst[..., 0] = max over the last axis"),
    VEC(v_rmin, "v.rmin", reduce, "dst[..., 0] = min over the last axis"),
    VEC(v_rprod, "v.rprod", reduce, "dst[..., 0] = product over the last axis"),
    VEC(v_rsumsq, "v.rsumsq", reduce, "dst[..., 0] = sum of squares over the last axis"),
    VEC(v_argmax, "v.argmax", reduce, "dst[..., 0] = first index of the max over the last axis"),
    VEC(v_argmin, "v.argmin", reduce, "dst[..., 0] = first index of the min over the last axis"),
    VEC(v_cumsum, "v.cumsum", unary, "dst = inclusive prefix sum along the last axis"),
};
#undef VEC

// Dense lookup from opcode byte to table entry.
struct OpIndex {
  std::array<const OpInfo*, 256> by_code{};
  OpIndex() {
    for (const auto& o : kOps) by_code[static_cast<uint8_t>(o.op)] = &o;
  }
};
const OpIndex& op_index() {
  static const OpIndex idx;
  return idx;
}

}  // namespace

std::string_view engine_name(Engine e) {
  switch (e) {
    case Engine::dma_in: return "dma_in";
    case Engine::dma_out: return "dma_out";
    case Engine::matrix: return "matrix";
    case Engine::vector: return "vector";
    case Engine::control: return "control";
  }
  return "?";
}

std::optional<Engine> parse_engine(std::string_view s) {
  for (int i = 0; i < kNumEngines; ++i)
    if (engine_name(static_cast<Engine>(i)) == s) return static_cast<Engine>(i);
  return std::nullopt;
}

std::string_view space_name(Space s) {
  switch (s) {
    case Space::hbm: return "hbm";
    case Space::sram: return "sram";
    case Space::acc: return "acc";
    case Space::imm: return "imm";
  }
  return "?";
}

std::string_view symbol_kind_name(SymbolKind k) {
  switch (k) {
    case SymbolKind::input: return "input";
    case SymbolKind::output: return "output";
    case SymbolKind::constant: return "const";
    case SymbolKind::scratch: return "scratch";
  }
  return "?";
}

float Operand::imm_f32() const { return std::bit_cast<float>(static_cast<uint32_t>(addr)); }
int32_t Operand::imm_i32() const { return static_cast<int32_t>(static_cast<uint32_t>(addr)); }

Operand Operand::imm_float(float v) {
  Operand o;
  o.space = Space::imm;
  o.dtype = DType::fp32;
  o.addr = std::bit_cast<uint32_t>(v);
  return o;
}

Operand Operand::imm_int(int32_t v) {
  Operand o;
  o.space = Space::imm;
  o.dtype = DType::int32;
  o.addr = static_cast<uint32_t>(v);
  return o;
}

const OpInfo* op_info(Op op) { return op_index().by_code[static_cast<uint8_t>(op)]; }

const OpInfo* op_by_mnemonic(std::string_view m) {
  for (const auto& o : kOps)
    if (o.mnemonic == m) return &o;
  return nullptr;
}

std::span<const OpInfo> all_ops() { return kOps; }

Engine Instr::engine() const {
  if (op == Op::nop) return static_cast<Engine>(param[0]);
  return op_info(op)->engine;
}

uint64_t Instr::elements() const {
  uint64_t n = 1;
  for (int d = 0; d < rank; ++d) n *= shape[d];
  return n;
}

uint64_t Symbol::elements() const {
  uint64_t n = 1;
  for (auto d : dims) n *= d;
  return n;
}

uint64_t Symbol::bytes() const { return (elements() * dtype_bits(dtype) + 7) / 8; }

const Symbol* Program::find_symbol(std::string_view name) const {
  for (const auto& s : symbols)
    if (s.name == name) return &s;
  return nullptr;
}

namespace {

bool is_local_onchip(const Operand& o) {
  return (o.space == Space::sram || o.space == Space::acc) && o.core == kLocalCore;
}

// Rules for the operand of a memory-touching field: returns "" or a reason.
std::string check_mem_operand(std::string_view name, const Operand& o, int want_rank,
                              bool allow_imm) {
  if (o.space == Space::imm) {
    if (!allow_imm) return fmt::format("operand {} cannot be an immediate", name);
    if (o.rank != 0) return fmt::format("immediate operand {} has strides", name);
    if (o.core != kLocalCore) return fmt::format("immediate operand {} names a core", name);
    if (o.dtype != DType::fp32 && o.dtype != DType::int32)
      return fmt::format("immediate operand {} must be fp32 or int32", name);
    if (o.addr > 0xFFFFFFFFull) return fmt::format("immediate operand {} exceeds 32 bits", name);
    return {};
  }
  if (o.rank != want_rank)
    return fmt::format("operand {} has {} strides, expected {}", name, o.rank, want_rank);
  if (o.space == Space::hbm && o.core != kLocalCore)
    return fmt::format("operand {}: hbm is shared and takes no core", name);
  return {};
}

}  // namespace

std::string check_instr(const Instr& in) {
  const OpInfo* info = op_info(in.op);
  if (!info) return fmt::format("undefined opcode 0x{:02x}", static_cast<unsigned>(in.op));
  if (in.rank > kMaxRank) return fmt::format("rank {} exceeds {}", in.rank, kMaxRank);
  for (int d = 0; d < in.rank; ++d)
    if (in.shape[d] == 0) return fmt::format("shape dimension {} is zero", d);
  std::string r;
  auto need_rank = [&](int lo, int hi) -> std::string {
    if (in.rank < lo || in.rank > hi)
      return lo == hi ? fmt::format("shape must have {} dimensions, has {}", lo, in.rank)
                      : fmt::format("shape must have {} to {} dimensions, has {}", lo, hi,
                                    in.rank);
    return {};
  };
  auto no_int4 = [](std::string_view name, const Operand& o) -> std::string {
    if (o.space != Space::imm && o.dtype == DType::int4)
      return fmt::format("operand {}: int4 is only allowed for mm.ldw weights", name);
    return {};
  };
  switch (info->format) {
    case Format::none:
      if (in.rank != 0) return "takes no shape";
      if (in.op == Op::nop && (in.param[0] < 0 || in.param[0] >= kNumEngines))
        return fmt::format("engine {} does not exist", in.param[0]);
      if ((in.op == Op::barrier || in.op == Op::host_call) && (in.param[0] < 0 || in.param[0] > 0xFFFF))
        return fmt::format("{} id {} out of range 0..65535", in.op == Op::barrier ? "barrier" : "host.call", in.param[0]);
      return {};
    case Format::dma: {
      if (!(r = need_rank(1, kMaxRank)).empty()) return r;
      if (!(r = check_mem_operand("dst", in.dst, in.rank, false)).empty()) return r;
      if (!(r = check_mem_operand("a", in.a, in.rank, false)).empty()) return r;
      if (in.dst.dtype != in.a.dtype)
        return "dst and a must have the same dtype (DMA does not convert)";
      if (!(r = no_int4("a", in.a)).empty()) return r;
      const Operand& local = in.op == Op::load ? in.dst : in.a;
      const Operand& other = in.op == Op::load ? in.a : in.dst;
      if (!is_local_onchip(local))
        return in.op == Op::load ? "dst must be this core's sram or acc" : "a must be this core's sram or acc";
      if (other.space == Space::acc && other.core != kLocalCore) return "dma cannot reach another core's acc";
      if (in.op == Op::store && is_local_onchip(other))
        return "dst is on this core; use load or v.copy for on-core copies";
      return {};
    }
    case Format::gather: {
      if (!(r = need_rank(2, 2)).empty()) return r;
      if (!(r = check_mem_operand("dst", in.dst, 2, false)).empty()) return r;
      if (!(r = check_mem_operand("a", in.a, 2, false)).empty()) return r;
      if (!(r = check_mem_operand("b", in.b, 1, false)).empty()) return r;
      if (in.dst.dtype != in.a.dtype) return "dst and a must have the same dtype";
      if (!(r = no_int4("a", in.a)).empty()) return r;
      if (in.b.dtype != DType::int32 || !is_local_onchip(in.b) || in.b.space != Space::sram)
        return "b (indices) must be int32 in this core's sram";
      const Operand& local = in.op == Op::load_gather ? in.dst : in.a;
      if (!is_local_onchip(local))
        return in.op == Op::load_gather ? "dst must be this core's sram or acc" : "a must be this core's sram or acc";
      const Operand& other = in.op == Op::load_gather ? in.a : in.dst;
      if (other.space == Space::acc && other.core != kLocalCore) return "dma cannot reach another core's acc";
      if (in.op == Op::store_scatter && is_local_onchip(other))
        return "dst is on this core; use load.gather for on-core row moves";
      return {};
    }
    case Format::ldw:
      if (!(r = need_rank(2, 2)).empty()) return r;
      if (!(r = check_mem_operand("a", in.a, 2, false)).empty()) return r;
      if (in.a.space != Space::sram || in.a.core != kLocalCore)
        return "weights must be in this core's sram";
      return {};
    case Format::mmrun:
      if (!(r = need_rank(3, 3)).empty()) return r;
      if (!(r = check_mem_operand("dst", in.dst, 2, false)).empty()) return r;
      if (!(r = check_mem_operand("a", in.a, 2, false)).empty()) return r;
      if (in.dst.space != Space::acc || in.dst.core != kLocalCore) return "dst must be this core's acc";
      if (in.a.space != Space::sram || in.a.core != kLocalCore) return "a must be in this core's sram";
      if (in.dst.dtype != DType::int32 && in.dst.dtype != DType::fp32) return "dst must be int32 or fp32";
      if (in.a.dtype == DType::int4) return "a cannot be int4 (int4 is for weights)";
      if (in.param[0] != 0 && in.param[0] != 1) return "acc must be 0 or 1";
      return {};
    case Format::unary:
    case Format::binary:
    case Format::quant:
    case Format::reduce: {
      if (!(r = need_rank(1, kMaxRank)).empty()) return r;
      if (!(r = check_mem_operand("dst", in.dst, in.rank, false)).empty()) return r;
      if (!(r = check_mem_operand("a", in.a, in.rank, true)).empty()) return r;
      if (info->format != Format::unary && info->format != Format::reduce)
        if (!(r = check_mem_operand("b", in.b, in.rank, true)).empty()) return r;
      for (const auto* o : {&in.dst, &in.a, &in.b})
        if (o->space != Space::imm && o->space != Space::hbm && o->core != kLocalCore)
          return "vector operands must be in this core's sram or acc";
      if (in.dst.space == Space::hbm || in.a.space == Space::hbm ||
          (info->format != Format::unary && info->format != Format::reduce &&
           in.b.space == Space::hbm))
        return "vector operands must be in sram, acc or immediate";
      if (!(r = no_int4("dst", in.dst)).empty()) return r;
      if (!(r = no_int4("a", in.a)).empty()) return r;
      if (!(r = no_int4("b", in.b)).empty()) return r;
      int sat_index = info->format == Format::quant ? 1 : 0;
      if (in.param[sat_index] != 0 && in.param[sat_index] != 1) return "sat must be 0 or 1";
      if (info->format == Format::quant && (in.param[0] < INT32_MIN || in.param[0] > INT32_MAX))
        return "zp out of int32 range";
      if (in.op == Op::v_argmax || in.op == Op::v_argmin)
        if (in.dst.dtype != DType::int32) return "argmax/argmin dst must be int32";
      return {};
    }
  }
  return "unknown format";
}

}  // namespace seedchip::isa
