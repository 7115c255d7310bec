// seedchip — the model compiler: IR graph in, chip program out.
//
// Pipeline (each stage IR -> IR, printable with --dump-ir=STAGE):
//   import        the graph as the frontend gave it
//   canonicalize  QLinear*/ConvInteger/Einsum/Resize into ops the lowering knows (after a first fold)
//   fold          constant folding (any node with constant inputs the host evaluator implements)
//   fuse          MatMul + bias + Relu into FusedMatMul, Gemm/Conv + Relu, BatchNorm into Conv weights
//   quantize      int8/fp8: q_dtype and act_scale on each quantisable matmul (scales calibrated in fp32)
// then lowering: HBM planning, tiling to SRAM with double buffering, core
// partitioning, semaphore scheduling and code generation.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/input.h"
#include "seedchip/arch/chip.h"
#include "seedchip/ir/graph.h"
#include "seedchip/isa/program.h"

namespace seedchip::compiler {

/// Numeric precision a model is compiled for.
enum class Precision { fp32, bf16, fp8, int8 };

/// Parses "fp32", "bf16", "fp8", "int8"; nullopt otherwise.
std::optional<Precision> parse_precision(std::string_view s);
/// Name of a precision.
std::string_view precision_name(Precision p);

/// Raised when a model cannot be compiled (unsupported op, bad attribute);
/// the message names the node, its op type and opset.
class CompileError : public InputError {
 public:
  using InputError::InputError;
};

struct CompiledModel;

/// Runs a compiled model on input tensors (the runtime provides it; the
/// compiler uses it to calibrate int8/fp8 activation scales).
using ModelRunner = std::function<std::vector<ir::HostTensor>(const CompiledModel&, const std::vector<ir::HostTensor>&)>;

/// Compiler settings.
struct CompileOptions {
  Precision precision = Precision::fp32;
  int cores = 0;                  ///< cores to use; 0 = all of the chip's
  std::set<std::string> dump_ir;  ///< stage names to print to `dump_to` ("all" = every stage)
  std::string* dump_to = nullptr; ///< receives dumps (nullptr: stderr)
  /// int8/fp8: input sets to calibrate activation scales on (run in fp32 with
  /// `runner`); the largest |value| seen at each quantised matmul input sets its scale.
  std::vector<std::vector<ir::HostTensor>> calibration;
  ModelRunner runner;
  /// Timing-only compiles: without calibration data, quantised layers get
  /// unit activation scales (values are not computed, cycles are the same).
  bool uncalibrated_ok = false;
  /// fp8: a MatMul of two runtime tensors (the second a graph input) is
  /// quantised dynamically to e4m3 where the estimated time saved exceeds the
  /// quantisation passes (auto), always, or never (it then multiplies in bf16).
  enum class DynamicFp8 { automatic, always, never } dynamic_fp8 = DynamicFp8::automatic;
  /// false: constants get their sizes and HBM addresses but their bytes are
  /// neither converted nor stored (timing-only compiles: the timing model
  /// needs where the weights are, not their values). Such a program has no
  /// data blocks and cannot run on the functional simulator.
  bool constant_values = true;
};

/// How one graph input or output maps onto the program.
struct IoBinding {
  std::string name;             ///< graph (ONNX) name
  std::string symbol;           ///< program symbol holding it in HBM
  ir::ElemType type;            ///< the model's element type (host side)
  std::vector<int64_t> shape;
};

/// Instructions [begin, end) of core `core` generated for placement entry `node`.
struct CodeRange {
  uint32_t node, core, begin, end;
};

/// Where each op of the model ran (for the summary).
struct OpPlacement {
  std::string node, op;
  std::string where;  ///< "chip", "alias" (no code), "folded", "fused" (into another node), "host"
  uint64_t instructions = 0;
};

/// A tensor a host op reads or writes in HBM.
struct HostTensorRef {
  uint64_t addr = 0;
  DType dtype = DType::fp32;      ///< how the chip stores it
  ir::ElemType type = ir::ElemType::f32;  ///< the model's type
  std::vector<int64_t> shape;
};

/// A node run on the host (CPU fallback) at a `host.call` of the program.
struct HostOp {
  ir::Node node;  ///< op, domain, opset, attributes (inputs/outputs unused)
  std::vector<std::optional<HostTensorRef>> inputs, outputs;  ///< nullopt: omitted
};

/// A compiled model: the chip program plus its I/O description. The program's
/// metadata section carries the I/O bindings, so a .scp file is self-contained.
struct CompiledModel {
  isa::Program program;
  std::vector<IoBinding> inputs, outputs;
  std::vector<OpPlacement> placement;
  std::vector<HostOp> host_ops;  ///< indexed by host.call id
  std::vector<CodeRange> ranges; ///< which node each instruction belongs to
  uint64_t constant_bytes = 0;   ///< bytes of constant data the program places in HBM
  std::string source;            ///< the model file it came from (run-time errors name it); may be empty
  bool constant_values = true;   ///< false: compiled without them (CompileOptions::constant_values)

  /// Per core, per instruction: the name of the node it was generated for.
  std::vector<std::vector<std::string>> instruction_labels() const;
};

/// The ONNX op types the compiler accepts, sorted (docs/ops.md).
const std::vector<std::string>& supported_ops();
/// True when `op` is in supported_ops().
bool is_supported_op(const std::string& op);

/// Runs one IR -> IR pass by name ("fold", "fuse"), as `seedchip opt` does;
/// throws CompileError for an unknown name.
ir::Graph run_pass(const std::string& name, ir::Graph g);

/// Runs the compiler pipeline on `g` for `chip`.
CompiledModel compile(const ir::Graph& g, const arch::Chip& chip, const CompileOptions& opt);

/// Serialises the I/O bindings into the program's metadata JSON.
std::string io_metadata(const CompiledModel& m);
/// Restores inputs/outputs/placement from a program's metadata; throws CompileError.
void load_io_metadata(CompiledModel& m);

/// Whether the FlashAttention kernel can keep one (sequence, KV head)'s K and
/// V panels of `context` keys of `head_dim` (stored as `kv`, queries as `q`)
/// in a core's SRAM slot on `chip` when compiled at precision `p`; when not,
/// attention has to be written as two GEMMs and a softmax.
bool flash_attention_fits(const arch::Chip& chip, int64_t head_dim, int64_t context, DType kv, DType q, Precision p);

/// Element type the chip uses to hold a model tensor of type `t`
/// (f64 -> fp32, integers wider than 8 bits -> int32, bool -> uint8).
DType chip_dtype(ir::ElemType t);

/// The bytes of host tensor `t` stored as chip dtype `d` (row-major; floats
/// round to nearest even, integers saturate). With `strict`, an integer that
/// does not fit `d` throws CompileError naming `what`.
std::vector<uint8_t> to_chip_bytes(const ir::HostTensor& t, DType d, bool strict = false, const std::string& what = "");
/// A host tensor of model type `type` read from chip bytes of dtype `d`.
ir::HostTensor from_chip_bytes(const std::vector<uint8_t>& bytes, DType d, ir::ElemType type, std::vector<int64_t> shape);

}  // namespace seedchip::compiler
