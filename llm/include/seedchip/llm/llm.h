// seedchip — LLM inference on the chip: a model config becomes per-layer
// prefill and decode programs (through the ONNX-style IR and the compiler),
// timed by the timing model and combined into serving figures.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"

namespace seedchip::llm {

/// Inference settings.
struct LlmOptions {
  int64_t chips = 1, batch = 1, prompt = 128, generate = 128;
  /// Tokens per KV-cache page: the cache is a pool of fixed-size pages read
  /// through a page table (at most the array width; 0 = one contiguous
  /// buffer per sequence).
  int64_t kv_page = 256;
  /// fp32, bf16, fp8 (weights, GEMM inputs and KV cache), int8 (weights and
  /// GEMM inputs; KV cache bf16), w8a16 (fp8 weights, bf16 activations),
  /// w4a16 (int4 weights with per-column scales against bf16 activations; LM head bf16)
  std::string precision = "bf16";
};

/// Figures of one configuration (seconds, bytes, joules).
struct LlmResult {
  double ttft_s = 0, tpot_s = 0, output_tokens_per_s = 0, hbm_bw_utilization = 0, mfu = 0, energy_per_token_j = 0;
  int64_t weight_bytes = 0, kv_cache_bytes = 0, max_batch = 0;
  double prefill_layer_s = 0, decode_layer_s = 0;
  uint64_t instructions = 0;
  int64_t chips = 1;
  /// One JSON object with the keys.
  nlohmann::json json() const;
};

/// Weight element type of a --precision name (fp32, bf16; fp8, int8 and
/// w8a16 store one byte per weight; w4a16 is u8 holding two int4 weights);
/// throws naming the flag otherwise.
ir::ElemType weight_type(const std::string& precision);

/// IR of one decoder layer over `tokens` new tokens per sequence attending to
/// `context` positions (prefill: tokens = context = prompt; decode: tokens = 1).
/// Weights and the KV cache are graph inputs: the timing model needs their
/// sizes and places, not their values.
/// With `quantized_activations` (fp8, int8) the inputs of the weight GEMMs
/// are cast to the weights' type so the GEMMs run at that type's rate.
/// With `flash_attention` the attention is one fused, SRAM-tiled
/// FlashAttention node (causal within the chunk) instead of two GEMMs and a softmax.
/// With `kv_page` > 0 (and FlashAttention) the KV cache inputs are page
/// pools with a page table.
ir::Graph layer_graph(const ModelConfig& c, int64_t batch, int64_t tokens, int64_t context, ir::ElemType weight_type,
                      bool quantized_activations = false, bool flash_attention = false, int64_t kv_page = 0);

/// The part of `c` one of `chips` tensor-parallel chips holds: attention
/// heads, MLP columns and vocabulary divided by `chips`; KV heads divided, or
/// replicated when there are fewer than chips. Throws when heads do not split.
ModelConfig shard_config(const ModelConfig& c, int64_t chips);

/// The layer run_llm times: the first prefill chunk (`prefill`) or the
/// decode step at the average context, for one chip's shard.
ir::Graph timed_layer(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o, bool prefill);

/// Times the model on `o.chips` chips of `chip` (tensor parallel, all-reduce
/// over chip.interconnect). Throws std::runtime_error when the weights and KV cache do not fit,
/// naming what is needed and what there is.
LlmResult run_llm(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o);

}  // namespace seedchip::llm
