// seedchip — functional generation: step graphs with real weights, run on
// the functional simulator (docs/llm.md "Functional generation").
#include "seedchip/llm/generate.h"

#include <cctype>
#include <cmath>
#include <numbers>
#include <limits>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"
#include "seedchip/llm/decoder.h"
#include "seedchip/llm/precision.h"
#include "seedchip/runtime/model.h"

namespace seedchip::llm {

namespace {

using ir::ElemType;
using ir::HostTensor;
using Shape = std::vector<int64_t>;

void require_functional_family(const ModelConfig& c) {
  if (c.family != "llama" && c.family != "mistral" && c.family != "qwen2" && c.family != "mixtral" &&
      c.family != "gpt2")
    throw std::runtime_error(fmt::format(
        "{}: functional generation supports the llama, mistral, qwen2, mixtral and gpt2 families (model_type '{}' is "
        "timing-only so far)",
        c.name, c.family));
}

HostTensor to_tensor(const std::vector<float>& v, Shape s, ElemType t, bool transpose2d) {
  HostTensor out(t, s);
  if (transpose2d) {
    const int64_t r = s[0], cols = s[1];
    out.shape = {cols, r};
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < cols; ++j) out.set(j * r + i, v[static_cast<size_t>(i * cols + j)]);
  } else {
    for (size_t i = 0; i < v.size(); ++i) out.set(static_cast<int64_t>(i), v[i]);
  }
  return out;
}

// First maximum of a row (as torch.argmax); `tie` is set when another entry equals it.
int64_t argmax_row(const HostTensor& t, int64_t row, bool* tie = nullptr) {
  const int64_t n = t.shape.back();
  int64_t best = 0;
  double bv = t.get(row * n);
  bool tied = false;
  for (int64_t i = 1; i < n; ++i) {
    const double x = t.get(row * n + i);
    if (x > bv) bv = x, best = i, tied = false;
    else if (x == bv) tied = true;
  }
  if (tie) *tie = tied;
  return best;
}

// Columns [c0, c0 + n) of a row-major [rows, cols] matrix.
std::vector<float> columns(const std::vector<float>& m, int64_t rows, int64_t cols, int64_t c0, int64_t n) {
  std::vector<float> out(static_cast<size_t>(rows * n));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) out[static_cast<size_t>(r * n + j)] = m[static_cast<size_t>(r * cols + c0 + j)];
  return out;
}

ModelWeights load_gpt2(const ModelConfig& c, const Checkpoint& ck, ElemType type) {
  const std::string pre = ck.contains("transformer.wte.weight") ? "transformer." : "";
  ModelWeights w;
  w.type = type;
  auto raw = [&](const std::string& name) { return ck.file_of(name).read_f32(name); };
  auto read = [&](const std::string& name, bool transpose) {
    const auto& info = ck.file_of(name).info(name);
    return to_tensor(raw(name), info.shape, type, transpose);
  };
  const int64_t H = c.hidden;
  w.embed = read(pre + "wte.weight", false);
  w.pos_embed = read(pre + "wpe.weight", false);
  w.final_norm = read(pre + "ln_f.weight", false);
  w.final_norm_b = read(pre + "ln_f.bias", false);
  w.lm_head = ck.contains("lm_head.weight") ? read("lm_head.weight", true) : read(pre + "wte.weight", true);
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("{}h.{}.", pre, l);
    ModelWeights::Layer L;
    L.ln1 = read(p + "ln_1.weight", false);
    L.ln1_b = read(p + "ln_1.bias", false);
    L.ln2 = read(p + "ln_2.weight", false);
    L.ln2_b = read(p + "ln_2.bias", false);
    // Conv1D weights are already [in, out]; c_attn holds q, k and v side by side
    const auto qkv = raw(p + "attn.c_attn.weight"), qkv_b = raw(p + "attn.c_attn.bias");
    L.wq = to_tensor(columns(qkv, H, 3 * H, 0, H), {H, H}, type, false);
    L.wk = to_tensor(columns(qkv, H, 3 * H, H, H), {H, H}, type, false);
    L.wv = to_tensor(columns(qkv, H, 3 * H, 2 * H, H), {H, H}, type, false);
    L.bq = to_tensor(columns(qkv_b, 1, 3 * H, 0, H), {H}, type, false);
    L.bk = to_tensor(columns(qkv_b, 1, 3 * H, H, H), {H}, type, false);
    L.bv = to_tensor(columns(qkv_b, 1, 3 * H, 2 * H, H), {H}, type, false);
    L.wo = read(p + "attn.c_proj.weight", false);
    L.bo = read(p + "attn.c_proj.bias", false);
    L.wup = read(p + "mlp.c_fc.weight", false);
    L.bup = read(p + "mlp.c_fc.bias", false);
    L.wdown = read(p + "mlp.c_proj.weight", false);
    L.bdown = read(p + "mlp.c_proj.bias", false);
    w.layers.push_back(std::move(L));
  }
  return w;
}

struct StepRunner {
  const ModelConfig& c;
  const ModelWeights& w;
  const arch::Chip& chip;
  compiler::Precision precision;
  uint64_t instructions = 0;
  int64_t steps = 0;

  // Runs one step; returns the outputs (logits, then present K/V per layer).
  std::vector<HostTensor> run(const std::vector<int64_t>& ids, int64_t past, const std::vector<HostTensor>& kv,
                              bool all_logits) {
    const int64_t T = static_cast<int64_t>(ids.size());
    const ir::Graph g = step_graph(c, w, past, T, all_logits);
    std::vector<HostTensor> in;
    HostTensor idt(ElemType::i64, {T});
    for (int64_t i = 0; i < T; ++i) {
      if (ids[static_cast<size_t>(i)] < 0 || ids[static_cast<size_t>(i)] >= c.vocab)
        throw std::runtime_error(fmt::format("token id {} is outside the vocabulary [0, {})", ids[static_cast<size_t>(i)], c.vocab));
      idt.set_int(i, ids[static_cast<size_t>(i)]);
    }
    in.push_back(std::move(idt));
    if (c.family != "gpt2") {  // GPT-2 has learned positions, in the graph
      auto [cs, sn] = rope_tables(c, past, T, w.type);
      in.push_back(std::move(cs));
      in.push_back(std::move(sn));
    }
    if (T > 1) {
      HostTensor mask(ElemType::f32, {T, past + T});
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < past + T; ++j)
          if (j > past + i) mask.set(i * (past + T) + j, std::numeric_limits<float>::lowest());
      in.push_back(std::move(mask));
    }
    if (past > 0) in.insert(in.end(), kv.begin(), kv.end());
    compiler::CompileOptions o;
    o.precision = precision;
    if (precision == compiler::Precision::fp8 || precision == compiler::Precision::int8) {
      o.calibration = {in};  // dynamic quantisation: scales from this step's own activations
      o.runner = [this](const compiler::CompiledModel& m, const std::vector<HostTensor>& x) {
        return runtime::run_model(m, chip, x);
      };
    }
    const auto m = compiler::compile(g, chip, o);
    sim::RunStats st;
    auto out = runtime::run_model(m, chip, in, &st);
    instructions += st.total();
    ++steps;
    return out;
  }
};

// The compile precision of a generation precision, after checking that the
// weights were loaded in the type it needs.
compiler::Precision graph_precision(const std::string& p, const ModelWeights& w) {
  if (w.type != generation_weight_type(p))
    throw std::runtime_error(fmt::format("--precision {} generates from {} weights, not {}", p,
                                         ir::elem_name(generation_weight_type(p)), ir::elem_name(w.type)));
  // fp32, and bf16, whose graph computes in bf16 as written, compile as fp32
  return precision_policy(p).compile;
}

}  // namespace

ElemType generation_weight_type(const std::string& p) {
  const auto pol = precision_policy(p);
  if (!pol.can_generate)
    throw std::runtime_error(fmt::format("--precision '{}': functional generation runs fp32, bf16, fp8 or int8", p));
  return pol.generation_weights;
}

ModelWeights load_weights(const ModelConfig& c, const Checkpoint& ck, ElemType type) {
  require_functional_family(c);
  check_weights(c, ck);
  if (c.family == "gpt2") return load_gpt2(c, ck, type);
  ModelWeights w;
  w.type = type;
  auto read = [&](const std::string& name, bool transpose) {
    const auto& f = ck.file_of(name);
    const auto& info = f.info(name);
    return to_tensor(f.read_f32(name), info.shape, type, transpose);
  };
  w.embed = read("model.embed_tokens.weight", false);
  w.final_norm = read("model.norm.weight", false);
  w.lm_head = ck.contains("lm_head.weight") && !c.tied_embeddings ? read("lm_head.weight", true)
                                                                  : read("model.embed_tokens.weight", true);
  for (int64_t l = 0; l < c.layers; ++l) {
    const std::string p = fmt::format("model.layers.{}.", l);
    ModelWeights::Layer L;
    L.ln1 = read(p + "input_layernorm.weight", false);
    L.ln2 = read(p + "post_attention_layernorm.weight", false);
    L.wq = read(p + "self_attn.q_proj.weight", true);
    L.wk = read(p + "self_attn.k_proj.weight", true);
    L.wv = read(p + "self_attn.v_proj.weight", true);
    L.wo = read(p + "self_attn.o_proj.weight", true);
    if (c.qkv_bias) {
      L.bq = read(p + "self_attn.q_proj.bias", false);
      L.bk = read(p + "self_attn.k_proj.bias", false);
      L.bv = read(p + "self_attn.v_proj.bias", false);
    }
    if (c.experts > 0) {
      L.router = read(p + "block_sparse_moe.gate.weight", true);
      for (int64_t e = 0; e < c.experts; ++e) {
        const std::string x = fmt::format("{}block_sparse_moe.experts.{}.", p, e);
        L.experts.push_back({read(x + "w1.weight", true), read(x + "w3.weight", true), read(x + "w2.weight", true)});
      }
    } else {
      L.wgate = read(p + "mlp.gate_proj.weight", true);
      L.wup = read(p + "mlp.up_proj.weight", true);
      L.wdown = read(p + "mlp.down_proj.weight", true);
    }
    w.layers.push_back(std::move(L));
  }
  return w;
}

std::pair<HostTensor, HostTensor> rope_tables(const ModelConfig& c, int64_t past, int64_t tokens, ElemType type) {
  const int64_t hd = c.head_dim, half = hd / 2;
  HostTensor cs(type, {tokens, 1, hd}), sn(type, {tokens, 1, hd});
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    inv[static_cast<size_t>(i)] =
        1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(2 * i) / static_cast<float>(hd));
  for (int64_t t = 0; t < tokens; ++t)
    for (int64_t i = 0; i < hd; ++i) {
      const float f = static_cast<float>(past + t) * inv[static_cast<size_t>(i % half)];
      cs.set(t * hd + i, std::cos(f));
      sn.set(t * hd + i, std::sin(f));
    }
  return {cs, sn};
}

ir::Graph step_graph(const ModelConfig& c, const ModelWeights& w, int64_t past, int64_t T, bool all_logits) {
  require_functional_family(c);
  DecoderSpec s;
  s.tokens = T;
  s.context = past + T;
  s.layers = c.layers;
  s.arithmetic = Arithmetic::eager;
  s.weights = &w;
  s.embed = s.head = true;
  s.all_logits = all_logits;
  return decoder_graph(c, s, precision_policy("fp32"));
}

GenerateResult generate(const ModelConfig& c, const Checkpoint& ck, const arch::Chip& chip, const GenerateOptions& o) {
  return generate(c, load_weights(c, ck, generation_weight_type(o.precision)), chip, o);
}

GenerateResult generate(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip, const GenerateOptions& o) {
  if (o.prompt.empty()) throw std::runtime_error("--prompt-ids: at least one token id is needed");
  if (o.generate < 1) throw std::runtime_error("--generate must be positive");
  if (static_cast<int64_t>(o.prompt.size()) + o.generate > c.max_positions)
    throw std::runtime_error(fmt::format("prompt ({}) + generate ({}) exceeds {}'s max_position_embeddings ({})",
                                         o.prompt.size(), o.generate, c.name, c.max_positions));
  StepRunner run{c, w, chip, graph_precision(o.precision, w)};
  GenerateResult r;
  std::vector<HostTensor> kv;
  std::vector<int64_t> ids = o.prompt;
  int64_t past = 0;
  for (int64_t i = 0; i < o.generate; ++i) {
    auto out = run.run(ids, past, kv, false);
    bool tie = false;
    const int64_t next = argmax_row(out[0], out[0].shape[0] - 1, &tie);
    if (tie) r.tied_steps.push_back(i);
    r.ids.push_back(next);
    past += static_cast<int64_t>(ids.size());
    kv.assign(std::make_move_iterator(out.begin() + 1), std::make_move_iterator(out.end()));
    ids = {next};
  }
  r.instructions = run.instructions;
  r.steps = run.steps;
  return r;
}

std::vector<int64_t> teacher_forced_top1(const ModelConfig& c, const Checkpoint& ck, const arch::Chip& chip,
                                         const std::string& precision, const std::vector<int64_t>& ids, int64_t count) {
  return teacher_forced_top1(c, load_weights(c, ck, generation_weight_type(precision)), chip, precision, ids, count);
}

std::vector<int64_t> teacher_forced_top1(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip,
                                         const std::string& precision, const std::vector<int64_t>& ids, int64_t count) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (count < 1 || count >= n) throw std::runtime_error("teacher_forced_top1: count must be in [1, ids - 1]");
  StepRunner run{c, w, chip, graph_precision(precision, w)};
  const auto out = run.run(ids, 0, {}, true);
  std::vector<int64_t> top;
  for (int64_t i = n - 1 - count; i < n - 1; ++i) top.push_back(argmax_row(out[0], i));
  return top;
}

Top1Agreement top1_agreement(const ModelConfig& c, const ModelWeights& w, const arch::Chip& chip, const GenerateOptions& o) {
  GenerateOptions f = o;
  f.precision = "fp32";
  const auto ref = generate(c, w, chip, f);
  std::vector<int64_t> seq = o.prompt;
  seq.insert(seq.end(), ref.ids.begin(), ref.ids.end());
  const auto top = teacher_forced_top1(c, w, chip, o.precision, seq, o.generate);
  int64_t agree = 0;
  for (size_t i = 0; i < top.size() && i < ref.ids.size(); ++i) agree += top[i] == ref.ids[i];
  return {ref.ids, top.empty() ? 0.0 : static_cast<double>(agree) / static_cast<double>(top.size())};
}

std::vector<int64_t> parse_token_ids(const std::string& text, const std::string& what) {
  std::vector<int64_t> ids;
  std::string p;
  auto flush = [&] {
    if (p.empty()) return;
    size_t used = 0;
    int64_t v = -1;
    try {
      v = std::stoll(p, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != p.size() || v < 0) throw std::runtime_error(fmt::format("{}: '{}' is not a non-negative integer token id", what, p));
    ids.push_back(v);
    p.clear();
  };
  for (const char ch : text) {
    if (ch == ',' || std::isspace(static_cast<unsigned char>(ch)))
      flush();
    else
      p += ch;
  }
  flush();
  if (ids.empty()) throw std::runtime_error(fmt::format("{}: no token ids given", what));
  return ids;
}

nlohmann::json GenerationRun::json() const {
  nlohmann::json j;
  j["generated_ids"] = result.ids;
  j["prompt_ids"] = prompt;
  j["functional_steps"] = result.steps;
  j["functional_instructions"] = result.instructions;
  j["tied_steps"] = result.tied_steps;
  if (quantized) {
    j["fp32_generated_ids"] = top1.fp32_ids;
    j["top1_agreement"] = top1.agreement;
  }
  return j;
}

GenerationRun run_generation(const ModelConfig& c, const Checkpoint& ckpt, const arch::Chip& chip, const GenerateOptions& o) {
  check_weights(c, ckpt);
  // one read of the checkpoint serves the run and, for fp8/int8, the fp32 reference (both take f32 weights)
  const auto weights = load_weights(c, ckpt, generation_weight_type(o.precision));
  GenerationRun r;
  r.prompt = o.prompt;
  r.result = generate(c, weights, chip, o);
  r.quantized = precision_policy(o.precision).quantized_activations();
  if (r.quantized) r.top1 = top1_agreement(c, weights, chip, o);
  return r;
}

}  // namespace seedchip::llm
