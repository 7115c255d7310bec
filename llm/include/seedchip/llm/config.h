// seedchip — LLM configurations: Hugging Face-style config.json files
// (Llama 2/3, Mistral, Qwen2, GPT-2, GPT-J, Mixtral) and the built-in ones.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/input.h"

namespace seedchip::llm {

/// A decoder-only transformer, normalised across model families.
struct ModelConfig {
  std::string name;          ///< built-in name or file path
  std::string family;        ///< "llama", "mistral", "qwen2", "mixtral", "gpt2", "gptj"
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, intermediate = 0, vocab = 0;
  int64_t max_positions = 0;
  double norm_eps = 1e-5;
  double rope_theta = 10000;  ///< RoPE base (Llama 3: 500000)
  bool rms_norm = true;      ///< RMSNorm (Llama family) or LayerNorm (GPT-2)
  bool gated_mlp = true;     ///< SwiGLU (gate, up, down) or plain (up, down)
  std::string activation;    ///< "silu", "gelu", "gelu_new"
  bool tied_embeddings = false;
  bool qkv_bias = false;     ///< Qwen2 and GPT-2 have attention biases
  bool mlp_bias = false;     ///< GPT-2 and GPT-J have MLP biases
  int64_t experts = 0, experts_per_token = 0;  ///< mixture of experts (0 = dense)
  bool parallel_residual = false;  ///< GPT-J: attention and MLP read the same norm and add to one residual
  int64_t rotary_dim = 0;          ///< dimensions of each head rotated (GPT-J: 64 of 256; 0 = all)

  /// Parameters (weights) in the whole model.
  int64_t parameters() const;
  /// KV-cache bytes per token of context, per sequence, at `bytes_per_elem`.
  int64_t kv_bytes_per_token(int64_t bytes_per_elem) const { return 2 * layers * kv_heads * head_dim * bytes_per_elem; }
};

/// A config could not be read or is inconsistent; the message names the file and field.
class ConfigError : public InputError {
 public:
  using InputError::InputError;
};

/// Parses config.json text; `source` names it in errors.
ModelConfig parse_config(const std::string& json_text, const std::string& source);
/// A built-in name (llama-2-7b, ...) or a path to a config.json.
ModelConfig find_model(const std::string& name_or_path);
/// Names of the built-in models.
std::vector<std::string> builtin_models();

}  // namespace seedchip::llm
