// seedchip — functional LLM generation on the chip: a checkpoint's weights
// bound to step programs (prefill over the prompt, then one decode step per
// token with the KV cache carried between steps), run on the bit-exact
// functional simulator; greedy decoding on the host.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/safetensors.h"

namespace seedchip::llm {

/// Weights of a Llama-family (llama, mistral, qwen2, mixtral) or GPT-2 model read
/// from a checkpoint into host tensors of the model's compute type (f32 or
/// bf16), linear layers as [in, out] for the graph's MatMuls (GPT-2's fused
/// c_attn split into q, k, v). Empty tensors are absent (biases, wgate).
struct ModelWeights {
  ir::ElemType type = ir::ElemType::f32;
  ir::HostTensor embed, pos_embed, final_norm, final_norm_b, lm_head;
  struct Expert {
    ir::HostTensor wgate, wup, wdown;
  };
  struct Layer {
    ir::HostTensor ln1, ln1_b, ln2, ln2_b, wq, wk, wv, wo, bq, bk, bv, bo, wgate, wup, bup, wdown, bdown;
    ir::HostTensor router;         ///< mixture of experts: [hidden, experts]
    std::vector<Expert> experts;   ///< mixture of experts (Mixtral's w1, w3, w2)
  };
  std::vector<Layer> layers;
};

/// Reads and converts the weights of `c` from `ckpt` (names and shapes are
/// checked first; errors name the file and tensor). `type` is f32 or bf16.
ModelWeights load_weights(const ModelConfig& c, const Checkpoint& ckpt, ir::ElemType type);

/// The graph of one step: `tokens` new tokens (ids input [1, tokens]) after
/// `past` cached positions. Inputs: ids [tokens] (i64), cos/sin [tokens, 1, head_dim] (not for GPT-2),
/// causal mask [tokens, past + tokens] (f32, additive), then past_k.L /
/// past_v.L [kv_heads, past, head_dim] per layer when past > 0. Outputs:
/// logits [tokens or 1, vocab] (all positions when `all_logits`, else the
/// last), then present_k.L / present_v.L [kv_heads, past + tokens, head_dim].
/// Arithmetic mirrors Hugging Face's eager Llama (or GPT2LMHeadModel) in the
/// weights' type: norms and softmax in fp32, everything else rounded to the
/// type after each op.
ir::Graph step_graph(const ModelConfig& c, const ModelWeights& w, int64_t past, int64_t tokens, bool all_logits);

/// Functional generation settings.
struct GenerateOptions {
  std::string precision = "fp32";  ///< fp32, bf16 (weights and activations), fp8 or int8 (weights and matmul inputs)
  std::vector<int64_t> prompt;     ///< token ids
  int64_t generate = 32;           ///< new tokens (greedy)
};

struct GenerateResult {
  std::vector<int64_t> ids;        ///< generated ids (not including the prompt)
  uint64_t instructions = 0;       ///< simulated instructions, all steps
  int64_t steps = 0;               ///< programs run
  /// Steps whose two largest logits were equal (the lower id was taken, as
  /// torch.argmax does). In bf16 such a tie can fall either way between two
  /// correct implementations that sum in different orders.
  std::vector<int64_t> tied_steps;
};

/// The type generation loads weights in for a precision: bf16 for bf16, f32
/// for fp32, fp8 and int8 (the compiler quantises those); throws otherwise.
ir::ElemType generation_weight_type(const std::string& precision);

/// Greedy generation on the functional simulator of `chip`. fp8/int8
/// quantise the matmul weights per output channel and the activations per
/// tensor with scales calibrated on each step's own inputs (dynamic
/// quantisation). Throws std::runtime_error on a bad prompt (ids outside the
/// vocabulary) or an unsupported family.
GenerateResult generate(const ModelConfig& c, const Checkpoint& ckpt, const arch::Chip& chip, const GenerateOptions& o);
/// The same with weights already loaded (in generation_weight_type(o.precision)),
/// so several runs of one checkpoint read it once.
GenerateResult generate(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip, const GenerateOptions& o);

/// Teacher-forced top-1 predictions: one prefill over `ids`; returns the
/// argmax at each of the last `count` predicting positions (position i
/// predicts ids[i + 1]). Used to compare a quantised model with the fp32
/// run's tokens.
std::vector<int64_t> teacher_forced_top1(const ModelConfig& c, const Checkpoint& ckpt, const arch::Chip& chip,
                                         const std::string& precision, const std::vector<int64_t>& ids, int64_t count);
std::vector<int64_t> teacher_forced_top1(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip,
                                         const std::string& precision, const std::vector<int64_t>& ids, int64_t count);

/// Rotary tables for positions [past, past + tokens): cos and sin
/// [tokens, 1, head_dim] computed in fp32 as Hugging Face does
/// (inv_freq = 1 / theta^(2i / d), emb = cat(freqs, freqs)), then converted to `type`.
std::pair<ir::HostTensor, ir::HostTensor> rope_tables(const ModelConfig& c, int64_t past, int64_t tokens, ir::ElemType type);

/// How often a quantised model picks the fp32 model's token: the fp32 run's
/// greedy continuation of `o.prompt`, and the share of its positions where
/// the `o.precision` model, teacher-forced on that sequence, predicts the
/// same next token.
struct Top1Agreement {
  std::vector<int64_t> fp32_ids;
  double agreement = 0;
};
Top1Agreement top1_agreement(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip, const GenerateOptions& o);

/// Token ids from text: integers separated by commas and/or white space
/// ("1,2 3"); throws naming `what` (the flag or argument) on anything else.
std::vector<int64_t> parse_token_ids(const std::string& text, const std::string& what);

/// The whole functional job of `seedchip llm --mode functional`: the
/// checkpoint checked against the config, its weights read once, greedy
/// generation and, for precisions that quantise activations, the top-1
/// agreement with the fp32 run. json(): generated_ids, prompt_ids,
/// functional_steps, functional_instructions, tied_steps and, when
/// quantised, fp32_generated_ids and top1_agreement.
struct GenerationRun {
  GenerateResult result;
  std::vector<int64_t> prompt;
  bool quantized = false;
  Top1Agreement top1;  ///< when quantized
  nlohmann::json json() const;
};
GenerationRun run_generation(const ModelConfig& c, const Checkpoint& ckpt, const arch::Chip& chip, const GenerateOptions& o);

}  // namespace seedchip::llm
