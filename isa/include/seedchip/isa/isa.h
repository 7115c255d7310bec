// seedchip — the SeedChip instruction set: opcodes, operands and the decoded
// instruction form shared by the assembler, the compiler and the simulators.
// docs/isa.md is the normative description; this header mirrors it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "seedchip/numerics/input.h"
#include "seedchip/numerics/dtype.h"

namespace seedchip::isa {

/// The engines of one core. Each runs its own instruction queue in order;
/// engines synchronise only through semaphores (and cores through barriers).
enum class Engine : uint8_t { dma_in = 0, dma_out = 1, matrix = 2, vector = 3, control = 4 };
inline constexpr int kNumEngines = 5;

/// Name of an engine as used in docs, traces and errors ("dma_in", ...).
std::string_view engine_name(Engine e);
/// Parses an engine name; nullopt if unknown.
std::optional<Engine> parse_engine(std::string_view s);

/// Where an operand lives. `imm` is an immediate scalar held in the operand itself.
enum class Space : uint8_t { hbm = 0, sram = 1, acc = 2, imm = 3 };
inline constexpr int kNumSpaces = 4;

/// Name of a memory space ("hbm", "sram", "acc", "imm").
std::string_view space_name(Space s);

/// Marks "no semaphore" in Instr::wait / Instr::signal.
inline constexpr uint8_t kNoSem = 0xFF;
/// Marks "this core" in Operand::core.
inline constexpr uint8_t kLocalCore = 0xFF;
/// Most dimensions an access pattern can have.
inline constexpr int kMaxRank = 4;

/// A strided tensor access pattern in one memory space, or an immediate.
/// Element (i0..i{r-1}) is at byte address addr + sum(i_d * stride[d]) * elem_size
/// (for int4: nibble offset, see docs/isa.md). Strides are in elements, outermost
/// first, and may be zero (broadcast) or negative.
struct Operand {
  Space space = Space::sram;
  uint8_t core = kLocalCore;  ///< owning core for sram/acc; kLocalCore = the executing core
  DType dtype = DType::fp32;
  uint8_t rank = 0;                   ///< number of strides used
  uint64_t addr = 0;                  ///< byte address; for imm the value's bits (fp32 or int32)
  std::array<int64_t, kMaxRank> stride{};

  bool operator==(const Operand&) const = default;

  /// The immediate as a float (imm operands of float dtype).
  float imm_f32() const;
  /// The immediate as an integer (imm operands of integer dtype).
  int32_t imm_i32() const;
  /// Builds an fp32 immediate.
  static Operand imm_float(float v);
  /// Builds an int32 immediate.
  static Operand imm_int(int32_t v);
};

/// Opcodes. Values are the binary encoding: append only, never renumber.
enum class Op : uint8_t {
  nop = 0,        ///< does nothing on the engine named by param engine; for sync
  barrier = 1,    ///< control: drain this core, then wait for all cores
  load = 2,       ///< dma_in: strided copy into local sram/acc
  store = 3,      ///< dma_out: strided copy from local sram/acc to hbm or a remote sram
  load_gather = 4,   ///< dma_in: rows picked by an int32 index vector
  store_scatter = 5, ///< dma_out: rows written to positions given by an int32 index vector
  mm_ldw = 6,     ///< matrix: load a K x N weight tile into the array
  mm_run = 7,     ///< matrix: stream M x K rows through the array into the accumulator
  host_call = 8,  ///< control: a barrier during which the host runs host op `id` (CPU fallback)
  // vector engine, unary: dst = f(a)
  v_copy = 16, v_neg, v_abs, v_recip, v_sqrt, v_rsqrt, v_exp, v_log, v_tanh, v_erf, v_sigmoid,
  v_relu, v_floor, v_ceil, v_round, v_trunc, v_not, v_sin, v_cos, v_sign,
  // vector engine, binary: dst = f(a, b)
  v_add = 48, v_sub, v_mul, v_div, v_max, v_min, v_pow, v_eq, v_lt, v_le, v_gt, v_ge, v_and,
  v_or, v_xor, v_mod,
  // vector engine, others
  v_select = 80,  ///< dst = a != 0 ? b : dst
  v_quant,        ///< dst = sat(round_even(a / b) + zp)
  v_dequant,      ///< dst = (a - zp) * b
  // vector engine, reductions along the innermost axis
  v_rsum = 96, v_rmax, v_rmin, v_rprod, v_rsumsq, v_argmax, v_argmin,
  v_cumsum = 112,  ///< inclusive prefix sum along the innermost axis
};

/// How an opcode's fields are laid out (shared by encoder, assembler, disassembler).
enum class Format : uint8_t {
  none,      ///< no fields besides wait/signal (barrier has param id)
  dma,       ///< dst, a(src), shape
  gather,    ///< dst, a(table), b(indices), shape [rows, row elements]
  ldw,       ///< a(weights), shape [K, N]
  mmrun,     ///< dst(acc), a(rows), shape [M, K, N], param acc
  unary,     ///< dst, a, shape, param sat
  binary,    ///< dst, a, b, shape, param sat
  quant,     ///< dst, a, b(scale), shape, params zp, sat
  reduce,    ///< dst, a, shape (reduced over the last axis), param sat
};

/// Which fields an instruction format carries, in encoding order:
/// shape, then dst, a, b operands, then the op's named params.
struct FormatFields {
  bool shape, dst, a, b;
};
/// The fields of `f`.
FormatFields format_fields(Format f);

/// Static description of one opcode.
struct OpInfo {
  Op op;
  std::string_view mnemonic;
  Engine engine;  ///< engine that runs it (nop: given by its param)
  Format format;
  std::array<std::string_view, 3> params;  ///< names of the scalar params in order; empty = unused
  std::array<int64_t, 3> param_default;    ///< value the assembler uses when a param is omitted
  uint8_t param_required;                  ///< bit i set: params[i] must be written out
  std::string_view summary;
};

/// Description of `op`, or nullptr for an undefined opcode value.
const OpInfo* op_info(Op op);
/// Looks up an opcode by mnemonic ("mm.run"); nullptr if none.
const OpInfo* op_by_mnemonic(std::string_view m);
/// All defined opcodes, in opcode order.
std::span<const OpInfo> all_ops();

/// One decoded instruction. Which fields are meaningful depends on the op's Format.
struct Instr {
  Op op = Op::nop;
  uint8_t wait = kNoSem;    ///< semaphore to acquire before starting (decrements it)
  uint8_t signal = kNoSem;  ///< semaphore to increment after completing
  uint8_t rank = 0;         ///< dims used in shape
  std::array<uint32_t, kMaxRank> shape{};  ///< outermost first
  Operand dst, a, b;
  std::array<int64_t, 3> param{};  ///< named by OpInfo::params

  bool operator==(const Instr&) const = default;

  /// The engine this instruction runs on.
  Engine engine() const;
  /// Number of elements in shape (product of shape[0..rank)).
  uint64_t elements() const;
};

/// Raised for malformed binary programs and invalid instructions.
class FormatError : public InputError {
 public:
  using InputError::InputError;
};

}  // namespace seedchip::isa
