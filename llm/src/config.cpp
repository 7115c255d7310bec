// seedchip — config.json parsing with checks.
#include "seedchip/llm/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "builtin_models.h"
#include "seedchip/numerics/input.h"

namespace seedchip::llm {

namespace {

using nlohmann::json;

constexpr int64_t kMaxField = int64_t{1} << 31;

// The string field `k`, or `def` when absent; a field of another type is an error naming it.
std::string get_str(const json& j, const std::string& src, const char* k, const std::string& def) {
  if (!j.contains(k) || j.at(k).is_null()) return def;
  if (!j.at(k).is_string())
    throw ConfigError(fmt::format("{}: field '{}' must be a string, got {}", src, k, one_line(j.at(k).dump(), 80)));
  return j.at(k).get<std::string>();
}

// The number field `k` (finite, in [lo, hi]), or `def` when absent.
double get_num(const json& j, const std::string& src, const char* k, double def, double lo, double hi) {
  if (!j.contains(k) || j.at(k).is_null()) return def;
  const auto& v = j.at(k);
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi))
    throw ConfigError(fmt::format("{}: field '{}' must be a number in [{:g}, {:g}], got {}", src, k, lo, hi, one_line(v.dump(), 80)));
  return v.get<double>();
}

bool get_bool(const json& j, const std::string& src, const char* k, bool def) {
  if (!j.contains(k) || j.at(k).is_null()) return def;
  if (!j.at(k).is_boolean())
    throw ConfigError(fmt::format("{}: field '{}' must be true or false, got {}", src, k, one_line(j.at(k).dump(), 80)));
  return j.at(k).get<bool>();
}

int64_t get_int(const json& j, const std::string& src, std::initializer_list<const char*> keys, bool required,
                int64_t def = 0) {
  for (const char* k : keys) {
    if (!j.contains(k) || j.at(k).is_null()) continue;
    const auto& v = j.at(k);
    // 2^31: beyond any real model, and products of a few stay inside int64
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > kMaxField)
      throw ConfigError(fmt::format("{}: field '{}' must be a positive integer up to {}, got {}", src, k, kMaxField, one_line(v.dump(), 80)));
    return v.get<int64_t>();
  }
  if (required) throw ConfigError(fmt::format("{}: missing field '{}'", src, *keys.begin()));
  return def;
}

}  // namespace

int64_t ModelConfig::parameters() const {
  const int64_t attn = hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim + heads * head_dim * hidden;
  const int64_t mlp = (gated_mlp ? 3 : 2) * hidden * intermediate * std::max<int64_t>(experts, 1) +
                      (experts ? hidden * experts : 0);
  const int64_t emb = vocab * hidden * (tied_embeddings ? 1 : 2);
  return layers * (attn + mlp + 2 * hidden) + emb + hidden;
}

ModelConfig parse_config(const std::string& text, const std::string& src) {
  json j;
  try {
    j = parse_json(text, src);
  } catch (const InputError& e) {
    throw ConfigError(e.what());
  }
  if (!j.is_object()) throw ConfigError(fmt::format("{}: expected a JSON object", src));
  ModelConfig c;
  c.name = src;
  c.family = get_str(j, src, "model_type", "");
  static const char* kFamilies[] = {"llama", "mistral", "qwen2", "mixtral", "gpt2", "gptj"};
  bool known = false;
  for (const char* f : kFamilies) known = known || c.family == f;
  if (!known)
    throw ConfigError(fmt::format("{}: field 'model_type' is '{}'; supported: llama, mistral, qwen2, mixtral, gpt2, gptj", src,
                                  c.family));
  const bool gptj = c.family == "gptj";
  const bool gpt2 = c.family == "gpt2" || gptj;  // GPT-J keeps GPT-2's field names, LayerNorm and GELU MLP
  c.hidden = get_int(j, src, {"hidden_size", "n_embd"}, true);
  c.layers = get_int(j, src, {"num_hidden_layers", "n_layer"}, true);
  c.heads = get_int(j, src, {"num_attention_heads", "n_head"}, true);
  c.kv_heads = get_int(j, src, {"num_key_value_heads"}, false, c.heads);
  c.vocab = get_int(j, src, {"vocab_size"}, true);
  c.intermediate = get_int(j, src, {"intermediate_size", "n_inner"}, !gpt2, 4 * c.hidden);
  c.max_positions = get_int(j, src, {"max_position_embeddings", "n_positions"}, false, 4096);
  if (c.hidden % c.heads != 0)
    throw ConfigError(fmt::format("{}: field 'num_attention_heads' ({}) does not divide hidden_size ({})", src, c.heads,
                                  c.hidden));
  if (c.heads % c.kv_heads != 0)
    throw ConfigError(fmt::format("{}: field 'num_key_value_heads' ({}) does not divide num_attention_heads ({})", src,
                                  c.kv_heads, c.heads));
  c.head_dim = get_int(j, src, {"head_dim"}, false, c.hidden / c.heads);
  c.activation = get_str(j, src, "hidden_act", get_str(j, src, "activation_function", gpt2 ? "gelu_new" : "silu"));
  if (c.activation != "silu" && c.activation != "gelu" && c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh")
    throw ConfigError(fmt::format("{}: field 'hidden_act' is '{}'; supported: silu, gelu, gelu_new", src, c.activation));
  c.rms_norm = !gpt2;
  c.gated_mlp = !gpt2;
  c.qkv_bias = c.family == "gpt2" || c.family == "qwen2";
  c.mlp_bias = gpt2;
  c.parallel_residual = gptj;
  c.rotary_dim = get_int(j, src, {"rotary_dim"}, false, 0);
  if (c.rotary_dim > c.head_dim || c.rotary_dim % 2)
    throw ConfigError(fmt::format("{}: field 'rotary_dim' ({}) must be even and at most the head dimension ({})", src,
                                  c.rotary_dim, c.head_dim));
  c.norm_eps = get_num(j, src, gpt2 ? "layer_norm_epsilon" : "rms_norm_eps", 1e-5, 0, 1);
  if (j.contains("rope_theta")) {
    if (!j.at("rope_theta").is_number() || !(j.at("rope_theta").get<double>() > 1 && j.at("rope_theta").get<double>() < 1e30))
      throw ConfigError(fmt::format("{}: field 'rope_theta' must be a number > 1, got {}", src, one_line(j.at("rope_theta").dump(), 80)));
    c.rope_theta = j.at("rope_theta").get<double>();
  }
  c.tied_embeddings = get_bool(j, src, "tie_word_embeddings", c.family == "gpt2");
  c.experts = get_int(j, src, {"num_local_experts"}, false, 0);
  c.experts_per_token = get_int(j, src, {"num_experts_per_tok"}, c.experts > 0, 0);
  if (c.experts && c.experts_per_token > c.experts)
    throw ConfigError(fmt::format("{}: field 'num_experts_per_tok' ({}) exceeds num_local_experts ({})", src,
                                  c.experts_per_token, c.experts));
  // every size derived from the fields must be representable: checked here
  // once, so parameters() and the KV-cache sizes cannot overflow later
  const int64_t limit = int64_t{1} << 50;  // a million times the largest models
  const std::string what = src + ": the model's size";
  auto p = [&](std::initializer_list<int64_t> f) {
    try {
      return checked_product(f, what, limit);
    } catch (const InputError& e) {
      throw ConfigError(e.what());
    }
  };
  const int64_t moe = std::max<int64_t>(c.experts, 1);
  int64_t per_layer = p({c.hidden, c.heads, c.head_dim}) + p({2, c.hidden, c.kv_heads, c.head_dim}) + p({c.heads, c.head_dim, c.hidden}) +
                      p({3, c.hidden, c.intermediate, moe}) + p({c.hidden, moe}) + p({2, c.hidden});
  p({c.layers, per_layer});
  p({2, c.vocab, c.hidden});
  p({2, c.layers, c.kv_heads, c.head_dim, 8});                // KV bytes per token at 8 bytes per element
  p({2, c.layers, c.kv_heads, c.head_dim, 8, c.max_positions});  // ... for a whole context
  if (c.parameters() <= 0) throw ConfigError(fmt::format("{}: the model's size exceeds the limit of {}", src, limit));
  return c;
}

ModelConfig find_model(const std::string& name) {
  for (size_t i = 0; i < detail::kNumBuiltinModels; ++i)
    if (name == detail::kBuiltinModels[i].name) {
      ModelConfig c = parse_config(detail::kBuiltinModels[i].json, "builtin:" + name);
      c.name = name;
      return c;
    }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(name, ec)) {
    std::string names;
    for (const auto& n : builtin_models()) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError(fmt::format("model '{}' is neither a built-in ({}) nor a config.json file", name, names));
  }
  std::ifstream f(name);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_config(ss.str(), name);
}

std::vector<std::string> builtin_models() {
  std::vector<std::string> v;
  for (size_t i = 0; i < detail::kNumBuiltinModels; ++i) v.push_back(detail::kBuiltinModels[i].name);
  return v;
}

}  // namespace seedchip::llm
