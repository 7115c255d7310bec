// seedchip — LLM inference on the chip: a model config becomes per-layer
// prefill and decode programs (through the ONNX-style IR and the compiler),
// timed by the timing model and combined into serving figures.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/decoder.h"
#include "seedchip/llm/precision.h"

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

/// Prompt tokens per sequence in one prefill program of run_llm.
int64_t prefill_chunk(const arch::Chip& chip, const LlmOptions& o);

/// The part of `c` one of `chips` tensor-parallel chips holds: attention
/// heads, MLP columns and vocabulary divided by `chips`; KV heads divided, or
/// replicated when there are fewer than chips. Throws when heads do not split.
ModelConfig shard_config(const ModelConfig& c, int64_t chips);

/// Throws std::runtime_error when `chips` chips of `chip` cannot be
/// connected (no links, or more than its interconnect connects); `what`
/// names the flags in the message (default "--chips N").
void check_layout(const arch::Chip& chip, int64_t chips, const std::string& what = "");

/// The layer run_llm times: the first prefill chunk (`prefill`) or the
/// decode step at the average context, for one chip's shard.
ir::Graph timed_layer(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o, bool prefill);

/// Times the model on `o.chips` chips of `chip` (tensor parallel, all-reduce
/// over chip.interconnect). Throws std::runtime_error when the weights and KV cache do not fit,
/// naming what is needed and what there is.
LlmResult run_llm(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o);

}  // namespace seedchip::llm
