// seedchip — functional generation: step graphs with real weights, run on
// the functional simulator (docs/llm.md "Functional generation").
#include "seedchip/llm/generate.h"

#include <cmath>
#include <numbers>
#include <limits>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"
#include "seedchip/llm/precision.h"
#include "seedchip/runtime/model.h"

namespace seedchip::llm {

namespace {

using ir::ElemType;
using ir::HostTensor;
using Shape = std::vector<int64_t>;

// Appends values and nodes to a graph; each node gets a fresh output value.
class Builder {
 public:
  explicit Builder(std::string name) { g.name = std::move(name); }

  int input(const std::string& name, ElemType t, Shape s) {
    const int v = g.add_value({name, t, std::move(s), nullptr});
    g.inputs.push_back(v);
    return v;
  }
  int constant(const std::string& name, HostTensor t) {
    ElemType type = t.type;
    Shape s = t.shape;
    return g.add_value({name, type, std::move(s), std::make_shared<const HostTensor>(std::move(t))});
  }
  // A constant that refers to weights shared by every step graph.
  int weight(const std::string& name, const HostTensor& t) {
    auto it = shared_.find(&t);
    if (it != shared_.end()) return it->second;
    // The tensor outlives the graph (ModelWeights); aliasing avoids a copy per step.
    const int v = g.add_value({name, t.type, t.shape, std::shared_ptr<const HostTensor>(std::shared_ptr<void>(), &t)});
    shared_[&t] = v;
    return v;
  }
  int ints(const Shape& v) {
    HostTensor t(ElemType::i64, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.set_int(static_cast<int64_t>(i), v[i]);
    return constant(fmt::format("c{}", counter_++), std::move(t));
  }
  int scalar(ElemType type, double x) {
    HostTensor t(type, {});
    t.set(0, x);
    return constant(fmt::format("c{}", counter_++), std::move(t));
  }
  std::vector<int> node_n(const std::string& op, std::vector<int> in, const std::vector<std::pair<ElemType, Shape>>& outs,
                          std::map<std::string, ir::Attr> attrs = {}, int opset = 13) {
    ir::Node n;
    n.name = fmt::format("{}_{}", op, counter_++);
    n.op = op;
    n.opset = opset;
    n.inputs = std::move(in);
    n.attrs = std::move(attrs);
    for (const auto& [t, s] : outs) n.outputs.push_back(g.add_value({n.name + fmt::format(":{}", n.outputs.size()), t, s, nullptr}));
    g.nodes.push_back(n);
    return g.nodes.back().outputs;
  }
  int node(const std::string& op, std::vector<int> in, ElemType t, Shape s, std::map<std::string, ir::Attr> attrs = {},
           int opset = 13) {
    return node_n(op, std::move(in), {{t, std::move(s)}}, std::move(attrs), opset)[0];
  }
  const Shape& shape(int v) const { return g.values[v].shape; }

  // Step-graph plumbing shared by the model families.
  // past_k.L / past_v.L inputs [heads, past, hd] for each layer (none when past = 0).
  std::vector<int> past_kv(int64_t layers, ElemType t, int64_t heads, int64_t past, int64_t hd) {
    std::vector<int> v;
    if (past > 0)
      for (int64_t l = 0; l < layers; ++l) {
        v.push_back(input(fmt::format("past_k.{}", l), t, {heads, past, hd}));
        v.push_back(input(fmt::format("past_v.{}", l), t, {heads, past, hd}));
      }
    return v;
  }
  // The last row of x [T, H] (the one that predicts the next token).
  int last_row(int x) {
    const int64_t T = shape(x)[0];
    if (T == 1) return x;
    HostTensor last(ElemType::i64, {1});
    last.set_int(0, T - 1);
    return node("Gather", {x, constant("last", std::move(last))}, type(x), {1, shape(x)[1]}, {{"axis", int64_t{0}}});
  }
  // Outputs: logits, then present_k.L / present_v.L; the graph, checked.
  ir::Graph finish(int logits, const std::vector<int>& present) {
    g.outputs.push_back(logits);
    g.values[logits].name = "logits";
    for (size_t i = 0; i < present.size(); ++i) {
      g.outputs.push_back(present[i]);
      g.values[present[i]].name = fmt::format("present_{}.{}", i % 2 ? 'v' : 'k', i / 2);
    }
    g.verify();
    return std::move(g);
  }
  ElemType type(int v) const { return g.values[v].type; }

  // Elementwise op with the left operand's type and the broadcast shape.
  int ew(const std::string& op, int a, int b) {
    const Shape &sa = shape(a), &sb = shape(b);
    Shape s(std::max(sa.size(), sb.size()), 1);
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t da = i + sa.size() >= s.size() ? sa[i + sa.size() - s.size()] : 1;
      const int64_t db = i + sb.size() >= s.size() ? sb[i + sb.size() - s.size()] : 1;
      s[i] = std::max(da, db);
    }
    return node(op, {a, b}, type(a), s);
  }
  int unary(const std::string& op, int a) { return node(op, {a}, type(a), shape(a)); }
  int cast(int a, ElemType t) {
    if (type(a) == t) return a;
    return node("Cast", {a}, t, shape(a), {{"to", int64_t{t == ElemType::bf16 ? 16 : 1}}});
  }
  int reshape(int a, Shape s) { return node("Reshape", {a, ints(s)}, type(a), s, {}, 14); }
  int transpose(int a, const Shape& perm) {
    Shape s;
    for (auto p : perm) s.push_back(shape(a)[static_cast<size_t>(p)]);
    return node("Transpose", {a}, type(a), s, {{"perm", perm}});
  }
  int matmul(int a, int b) {
    Shape s = shape(a);
    s.back() = shape(b).back();
    return node("MatMul", {a, b}, type(a), s);
  }

  ir::Graph g;

 private:
  int counter_ = 0;
  std::map<const HostTensor*, int> shared_;
};

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

namespace {

// GPT2LMHeadModel, eager: LayerNorm, learned positions, fused-bias Conv1D
// projections, scores divided by sqrt(head_dim) in the type, softmax,
// gelu_new as HF writes it (each op rounded), tied LM head.
ir::Graph gpt2_step_graph(const ModelConfig& c, const ModelWeights& w, int64_t past, int64_t T, bool all_logits) {
  const ElemType dt = w.type;
  const int64_t H = c.hidden, hd = c.head_dim, nh = c.heads, S = past + T;
  Builder b(fmt::format("{} step past={} tokens={}", c.name, past, T));
  const int ids = b.input("ids", ElemType::i64, {T});
  const int mask = T > 1 ? b.input("mask", ElemType::f32, {T, S}) : -1;
  const std::vector<int> past_kv = b.past_kv(c.layers, dt, nh, past, hd);
  HostTensor pos(ElemType::i64, {T});
  for (int64_t t = 0; t < T; ++t) pos.set_int(t, past + t);
  int x = b.ew("Add", b.node("Gather", {b.weight("wte", w.embed), ids}, dt, {T, H}, {{"axis", int64_t{0}}}),
               b.node("Gather", {b.weight("wpe", w.pos_embed), b.constant("positions", std::move(pos))}, dt, {T, H},
                      {{"axis", int64_t{0}}}));
  auto layernorm = [&](int v, const HostTensor& g, const HostTensor& bias, const std::string& name) {
    return b.node("LayerNormalization", {v, b.weight(name, g), b.weight(name + ".b", bias)}, dt, b.shape(v),
                  {{"axis", int64_t{-1}}, {"epsilon", c.norm_eps}}, 17);
  };
  auto linear = [&](int v, const HostTensor& wt, const HostTensor& bias, const std::string& name) {
    return b.ew("Add", b.matmul(v, b.weight(name, wt)), b.weight(name + ".b", bias));
  };
  // scalar ops in fp32, as PyTorch applies a Python float to a bf16 tensor
  auto fscale = [&](int v, double k) {
    return b.cast(b.ew("Mul", b.cast(v, ElemType::f32), b.scalar(ElemType::f32, k)), dt);
  };
  std::vector<int> present;
  for (int64_t l = 0; l < c.layers; ++l) {
    const auto& L = w.layers[static_cast<size_t>(l)];
    const std::string p = fmt::format("l{}.", l);
    const int h = layernorm(x, L.ln1, L.ln1_b, p + "ln1");
    auto heads = [&](int v) { return b.transpose(b.reshape(v, {T, nh, hd}), {1, 0, 2}); };  // [nh, T, hd]
    const int q = heads(linear(h, L.wq, L.bq, p + "wq"));
    int k = heads(linear(h, L.wk, L.bk, p + "wk")), v = heads(linear(h, L.wv, L.bv, p + "wv"));
    if (past > 0) {
      k = b.node("Concat", {past_kv[static_cast<size_t>(2 * l)], k}, dt, {nh, S, hd}, {{"axis", int64_t{1}}});
      v = b.node("Concat", {past_kv[static_cast<size_t>(2 * l + 1)], v}, dt, {nh, S, hd}, {{"axis", int64_t{1}}});
    }
    present.push_back(k);
    present.push_back(v);
    // scores / sqrt(hd) with the divisor in the type (torch.full([], hd ** 0.5, dtype))
    int sc = b.ew("Div", b.matmul(q, b.transpose(k, {0, 2, 1})), b.scalar(dt, std::sqrt(static_cast<double>(hd))));
    sc = b.cast(sc, ElemType::f32);
    if (mask >= 0) sc = b.ew("Add", sc, mask);
    const int pr = b.cast(b.node("Softmax", {sc}, ElemType::f32, b.shape(sc), {{"axis", int64_t{-1}}}), dt);
    const int ctx = b.reshape(b.transpose(b.matmul(pr, v), {1, 0, 2}), {T, H});
    x = b.ew("Add", x, linear(ctx, L.wo, L.bo, p + "wo"));
    const int u = linear(layernorm(x, L.ln2, L.ln2_b, p + "ln2"), L.wup, L.bup, p + "fc");
    // gelu_new: 0.5 * u * (1 + tanh(sqrt(2/pi) * (u + 0.044715 * pow(u, 3))))
    const int cube = b.ew("Mul", b.ew("Mul", u, u), u);  // torch.pow(u, 3.0) is u * u * u, rounded after each multiply
    const int inner = fscale(b.ew("Add", u, fscale(cube, 0.044715)), std::sqrt(2.0 / std::numbers::pi));
    const int t = b.ew("Add", b.unary("Tanh", inner), b.scalar(dt, 1.0));
    const int g = b.ew("Mul", fscale(u, 0.5), t);
    x = b.ew("Add", x, linear(g, L.wdown, L.bdown, p + "proj"));
  }
  if (!all_logits) x = b.last_row(x);
  return b.finish(b.matmul(layernorm(x, w.final_norm, w.final_norm_b, "ln_f"), b.weight("lm_head", w.lm_head)), present);
}

}  // namespace

ir::Graph step_graph(const ModelConfig& c, const ModelWeights& w, int64_t past, int64_t T, bool all_logits) {
  require_functional_family(c);
  if (c.family == "gpt2") return gpt2_step_graph(c, w, past, T, all_logits);
  const ElemType dt = w.type;
  const bool low = dt != ElemType::f32;
  const int64_t H = c.hidden, hd = c.head_dim, nh = c.heads, kv = c.kv_heads, g = nh / kv, S = past + T;
  Builder b(fmt::format("{} step past={} tokens={}", c.name, past, T));
  const int ids = b.input("ids", ElemType::i64, {T});
  const int cosv = b.input("cos", dt, {T, 1, hd});
  const int sinv = b.input("sin", dt, {T, 1, hd});
  const int mask = T > 1 ? b.input("mask", ElemType::f32, {T, S}) : -1;
  const std::vector<int> past_kv = b.past_kv(c.layers, dt, kv, past, hd);
  const int eps = b.scalar(ElemType::f32, c.norm_eps);
  const int one = b.scalar(dt, 1.0);
  // RMSNorm as Hugging Face writes it: fp32 x * rsqrt(mean(x^2) + eps), back to the type, times the weight.
  auto rmsnorm = [&](int x, const HostTensor& wt, const std::string& name) {
    const int xf = b.cast(x, ElemType::f32);
    const int sq = b.ew("Mul", xf, xf);
    Shape r = b.shape(x);
    r.back() = 1;
    const int ms = b.node("ReduceMean", {sq}, ElemType::f32, r, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}});
    const int rs = b.unary("Reciprocal", b.unary("Sqrt", b.ew("Add", ms, eps)));
    return b.ew("Mul", b.weight(name, wt), b.cast(b.ew("Mul", xf, rs), dt));
  };
  // q * cos + rotate_half(q) * sin on [T, heads, hd]
  auto rope = [&](int x) {
    Shape hs = b.shape(x);
    hs.back() = hd / 2;
    const auto halves = b.node_n("Split", {x}, {{dt, hs}, {dt, hs}}, {{"axis", int64_t{2}}, {"split", std::vector<int64_t>{hd / 2, hd / 2}}}, 11);
    const int rot = b.node("Concat", {b.unary("Neg", halves[1]), halves[0]}, dt, b.shape(x), {{"axis", int64_t{2}}});
    return b.ew("Add", b.ew("Mul", x, cosv), b.ew("Mul", rot, sinv));
  };
  auto linear = [&](int x, const HostTensor& wt, const HostTensor& bias, const std::string& name) {
    int y = b.matmul(x, b.weight(name, wt));
    if (!bias.shape.empty()) y = b.ew("Add", y, b.weight(name + ".bias", bias));
    return y;
  };
  int x = b.node("Gather", {b.weight("embed", w.embed), ids}, dt, {T, H}, {{"axis", int64_t{0}}});
  std::vector<int> present;
  for (int64_t l = 0; l < c.layers; ++l) {
    const auto& L = w.layers[static_cast<size_t>(l)];
    const std::string p = fmt::format("l{}.", l);
    const int h = rmsnorm(x, L.ln1, p + "ln1");
    const int q = rope(b.reshape(linear(h, L.wq, L.bq, p + "wq"), {T, nh, hd}));
    const int k = rope(b.reshape(linear(h, L.wk, L.bk, p + "wk"), {T, kv, hd}));
    const int v = b.reshape(linear(h, L.wv, L.bv, p + "wv"), {T, kv, hd});
    int kt = b.transpose(k, {1, 0, 2}), vt = b.transpose(v, {1, 0, 2});  // [kv, T, hd]
    if (past > 0) {
      kt = b.node("Concat", {past_kv[static_cast<size_t>(2 * l)], kt}, dt, {kv, S, hd}, {{"axis", int64_t{1}}});
      vt = b.node("Concat", {past_kv[static_cast<size_t>(2 * l + 1)], vt}, dt, {kv, S, hd}, {{"axis", int64_t{1}}});
    }
    present.push_back(kt);
    present.push_back(vt);
    // the query heads sharing a KV head are stacked: [kv, g*T, hd]
    const int q3 = b.reshape(b.transpose(q, {1, 0, 2}), {kv, g * T, hd});
    int sc = b.matmul(q3, b.transpose(kt, {0, 2, 1}));  // [kv, g*T, S]
    sc = b.ew("Mul", b.cast(sc, ElemType::f32), b.scalar(ElemType::f32, 1.0 / std::sqrt(static_cast<double>(hd))));
    if (low) sc = b.cast(b.cast(sc, dt), ElemType::f32);  // the scaled scores are rounded to the type, as in eager
    if (mask >= 0) sc = b.reshape(b.ew("Add", b.reshape(sc, {kv, g, T, S}), mask), {kv, g * T, S});
    const int pr = b.cast(b.node("Softmax", {sc}, ElemType::f32, b.shape(sc), {{"axis", int64_t{-1}}}), dt);
    const int ctx = b.matmul(pr, vt);  // [kv, g*T, hd]
    const int c2 = b.reshape(b.transpose(b.reshape(ctx, {nh, T, hd}), {1, 0, 2}), {T, nh * hd});
    x = b.ew("Add", x, b.matmul(c2, b.weight(p + "wo", L.wo)));
    const int h2 = rmsnorm(x, L.ln2, p + "ln2");
    // SiLU as x / (1 + exp(-x)), each step rounded to the type: what PyTorch's
    // CPU kernel does for bf16 (Debian 12's torch 1.13; checked element by element)
    auto swiglu = [&](int in, const HostTensor& wg, const HostTensor& wu, const HostTensor& wd, const std::string& n) {
      const int gate = b.matmul(in, b.weight(n + "wgate", wg));
      const int act = b.ew("Div", gate, b.ew("Add", b.unary("Exp", b.unary("Neg", gate)), one));
      const int up = b.matmul(in, b.weight(n + "wup", wu));
      return b.matmul(b.ew("Mul", act, up), b.weight(n + "wdown", wd));
    };
    if (L.experts.empty()) {
      x = b.ew("Add", x, swiglu(h2, L.wgate, L.wup, L.wdown, p));
    } else {
      // Mixtral's sparse MoE, computed densely: router softmax in fp32, the
      // top-k probabilities renormalised (others 0), every expert's output
      // weighted and summed in expert order as HF's index_add does
      const int64_t E = c.experts;
      const int probs = b.node("Softmax", {b.cast(b.matmul(h2, b.weight(p + "router", L.router)), ElemType::f32)},
                               ElemType::f32, {T, E}, {{"axis", int64_t{-1}}});
      int rest = probs, kth = -1;
      const int ninf = b.scalar(ElemType::f32, -1.0);  // below any probability
      for (int64_t top = 0; top < c.experts_per_token; ++top) {  // the top-th largest probability per token
        kth = b.node("ReduceMax", {rest}, ElemType::f32, {T, 1}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}});
        const int hit = b.node("Equal", {rest, kth}, ElemType::boolean, {T, E});
        rest = b.node("Where", {hit, ninf, rest}, ElemType::f32, {T, E}, {}, 16);
      }
      const int keep = b.node("GreaterOrEqual", {probs, kth}, ElemType::boolean, {T, E}, {}, 16);
      const int sel = b.node("Where", {keep, probs, b.scalar(ElemType::f32, 0.0)}, ElemType::f32, {T, E}, {}, 16);
      const int sum = b.node("ReduceSum", {sel, b.ints({-1})}, ElemType::f32, {T, 1}, {{"keepdims", int64_t{1}}});
      const int route = b.cast(b.ew("Div", sel, sum), dt);  // [T, E] in the type
      int moe = -1;
      for (int64_t e = 0; e < E; ++e) {
        const auto& X = L.experts[static_cast<size_t>(e)];
        HostTensor col(ElemType::i64, {1});
        col.set_int(0, e);
        const int we = b.node("Gather", {route, b.constant(fmt::format("{}e{}", p, e), std::move(col))}, dt, {T, 1},
                              {{"axis", int64_t{1}}});
        const int ye = b.ew("Mul", swiglu(h2, X.wgate, X.wup, X.wdown, fmt::format("{}x{}.", p, e)), we);
        moe = moe < 0 ? ye : b.ew("Add", moe, ye);
      }
      x = b.ew("Add", x, moe);
    }
  }
  if (!all_logits) x = b.last_row(x);
  return b.finish(b.matmul(rmsnorm(x, w.final_norm, "norm"), b.weight("lm_head", w.lm_head)), present);
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

}  // namespace seedchip::llm
