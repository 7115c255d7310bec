// seedchip — the precision policy of an LLM run: one typed answer to "what
// type is each kind of tensor in, and what does the compiler do with it",
// parsed once from a --precision name and used by timing, functional
// generation, validation and serving alike.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"

namespace seedchip::llm {

/// How an LLM's tensors are stored and computed.
struct PrecisionPolicy {
  std::string name;                 ///< fp32, bf16, fp8, int8, w8a16, w4a16
  ir::ElemType weights = ir::ElemType::bf16;  ///< matmul weights as stored (w4a16: u8 holding two int4)
  double weight_bytes = 2;          ///< bytes per weight (w4a16: 0.5)
  bool int4_weights = false;        ///< w4a16: packed int4 weights with per-column fp32 scales
  ir::ElemType activations = ir::ElemType::bf16;  ///< graph activations between ops
  ir::ElemType gemm_inputs = ir::ElemType::bf16;  ///< activation inputs of the weight GEMMs
  ir::ElemType kv_cache = ir::ElemType::bf16;     ///< KV-cache elements
  ir::ElemType lm_head = ir::ElemType::bf16;      ///< LM head weights
  compiler::Precision compile = compiler::Precision::fp32;  ///< what the compiler is asked for
  DType peak = DType::bf16;         ///< the matrix rate MFU is measured against
  /// Weight type functional generation loads a checkpoint in (fp8/int8: f32,
  /// which the compiler quantises); empty optional-like flag below when the
  /// precision cannot generate.
  ir::ElemType generation_weights = ir::ElemType::f32;
  bool can_generate = false;

  /// GEMM activations are cast to a one-byte type (fp8, int8).
  bool quantized_activations() const { return gemm_inputs != activations; }
  /// Bytes per KV-cache element.
  int64_t kv_bytes() const { return static_cast<int64_t>(ir::elem_size(kv_cache)); }
};

/// The policy of a --precision name; throws std::runtime_error naming the
/// flag and the accepted names otherwise.
PrecisionPolicy precision_policy(std::string_view name);
/// Names precision_policy accepts.
const std::vector<std::string>& precision_names();
/// Throws naming the precision and chip when `chip`'s matrix engine lacks the
/// type the policy's GEMMs run in (fp8 on an A100).
void check_precision_supported(const PrecisionPolicy& p, const arch::Chip& chip);

}  // namespace seedchip::llm
