// seedchip — the one decoder definition (docs/llm.md "One decoder
// definition"): one skeleton (embed, then per layer norm, projections,
// positions, attention, output projection, residual, norm, MLP or experts,
// residual; final norm and LM head) whose stages are written either as
// Hugging Face's eager PyTorch (functional generation, bit for bit) or as an
// inference stack's fused kernels (timing), with weights bound or as inputs.
#include "seedchip/llm/decoder.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include <fmt/format.h>

#include "graph_builder.h"
#include "seedchip/llm/generate.h"

namespace seedchip::llm {

namespace {

using ir::ElemType;
using ir::HostTensor;
using Shape = std::vector<int64_t>;

class Decoder {
 public:
  Decoder(const ModelConfig& c, const DecoderSpec& s, const PrecisionPolicy& p)
      : c_(c), s_(s), p_(p),
        b_(s.arithmetic == Arithmetic::eager
               ? fmt::format("{} step past={} tokens={}", c.name, s.context - s.tokens, s.tokens)
               : fmt::format("{} layer", c.name)),
        eager_(s.arithmetic == Arithmetic::eager), bound_(s.weights != nullptr) {
    B_ = s.batch, T_ = s.tokens, C_ = s.context, past_ = s.context - s.tokens;
    // eager graphs compute in the weights' type; fused ones in the policy's activation type
    at_ = bound_ ? s.weights->type : p.activations;
  }

  ir::Graph build() {
    check();
    if (s_.part == LayerPart::attention) return attention_only();
    if (s_.part == LayerPart::expert) return expert_only();
    const int64_t H = c_.hidden;
    int x;
    if (s_.embed) {
      ids_ = b_.input("ids", ElemType::i64, {T_});
      x = embed();
    } else {
      x = b_.input("x", at_, {B_ * T_, H});
    }
    if (eager_ && rotary()) {
      cos_ = b_.input("cos", at_, {T_, 1, c_.head_dim});
      sin_ = b_.input("sin", at_, {T_, 1, c_.head_dim});
    }
    if (eager_ && T_ > 1 && s_.layers > 0) mask_ = b_.input("mask", ElemType::f32, {T_, C_});
    if (eager_ && past_ > 0)
      for (int64_t l = 0; l < s_.layers; ++l) {
        past_kv_.push_back(b_.input(fmt::format("past_k.{}", l), at_, {c_.kv_heads, past_, c_.head_dim}));
        past_kv_.push_back(b_.input(fmt::format("past_v.{}", l), at_, {c_.kv_heads, past_, c_.head_dim}));
      }
    if (eager_) {
      eps_ = b_.scalar(ElemType::f32, c_.norm_eps);
      one_ = b_.scalar(at_, 1.0);
    }
    for (int64_t l = 0; l < s_.layers; ++l) x = layer(l, x);
    if (s_.head) {
      if (eager_ && !s_.all_logits) x = last_row(x);
      x = linear(norm(x, "norm", lw_final()), "lm_head", c_.vocab, head_weight(), nullptr, false, true);
      b_.g.values[static_cast<size_t>(x)].name = "logits";
    } else {
      b_.g.values[static_cast<size_t>(x)].name = "y";
    }
    b_.g.outputs.push_back(x);
    for (size_t i = 0; i < present_.size(); ++i) {
      b_.g.outputs.push_back(present_[i]);
      b_.g.values[static_cast<size_t>(present_[i])].name = fmt::format("present_{}.{}", i % 2 ? 'v' : 'k', i / 2);
    }
    for (int extra : extra_outputs_) b_.g.outputs.push_back(extra);
    b_.g.verify();
    return std::move(b_.g);
  }

 private:
  // --- checks -------------------------------------------------------------
  void check() const {
    const auto& s = s_;
    if (s.batch < 1 || s.tokens < 1 || s.context < s.tokens)
      throw std::runtime_error(fmt::format("{}: a decoder graph needs batch >= 1 and 1 <= tokens <= context (got {}, {}, {})",
                                           c_.name, s.batch, s.tokens, s.context));
    if (s.layers < 0 || (s.layers == 0 && !s.head))
      throw std::runtime_error(fmt::format("{}: a decoder graph of {} layers and no LM head", c_.name, s.layers));
    if (eager_) {
      if (s.batch != 1) throw std::runtime_error(fmt::format("{}: eager decoder graphs are batch 1", c_.name));
      if (s.part != LayerPart::whole) throw std::runtime_error(fmt::format("{}: eager decoder graphs hold whole layers", c_.name));
      if (bound_ && static_cast<int64_t>(s.weights->layers.size()) < s.layers)
        throw std::runtime_error(fmt::format("{}: {} layers asked, {} loaded", c_.name, s.layers, s.weights->layers.size()));
      if (c_.family == "gptj")
        throw std::runtime_error(fmt::format("{}: the gptj family is timing-only (no eager graph)", c_.name));
    } else {
      if (bound_) throw std::runtime_error(fmt::format("{}: fused decoder graphs take weights as inputs", c_.name));
      if (s.embed) throw std::runtime_error(fmt::format("{}: fused decoder graphs take hidden states, not token ids", c_.name));
      if (s.part == LayerPart::expert && c_.experts == 0)
        throw std::runtime_error(fmt::format("{}: an expert part of a dense model", c_.name));
    }
    if (s.kv_page < 0) throw std::runtime_error("a KV page holds at least one token");
  }

  bool rotary() const { return c_.family != "gpt2"; }
  bool layer_norm() const { return !c_.rms_norm; }
  bool out_bias() const { return c_.family == "gpt2"; }  // the attention output projection's (GPT-2's Conv1D)
  std::string pre(int64_t l) const { return s_.layers > 1 || eager_ ? fmt::format("l{}.", l) : ""; }

  // --- weights: constants of the checkpoint, or inputs of the policy's types --
  const ModelWeights::Layer* lw(int64_t l) const { return bound_ ? &s_.weights->layers[static_cast<size_t>(l)] : nullptr; }
  struct NormW {
    const HostTensor* w = nullptr;
    const HostTensor* b = nullptr;
  };
  NormW lw_final() const { return bound_ ? NormW{&s_.weights->final_norm, &s_.weights->final_norm_b} : NormW{}; }
  const HostTensor* head_weight() const { return bound_ ? &s_.weights->lm_head : nullptr; }

  // A weight [k, n] (or vector [n] when k == 0) named `name`.
  int weight(const std::string& name, const HostTensor* t, Shape shape, ElemType type) {
    if (t) return b_.weight(name, *t);
    if (auto it = inputs_.find(name); it != inputs_.end()) return it->second;
    return inputs_[name] = b_.input(name, type, std::move(shape));
  }

  // x [.., k] times weight [k, n] (+ bias): int4 weights through MatMulInt4,
  // quantised activations cast to the GEMM input type first (fused).
  // `with_bias`: whether the family has this bias (weights as inputs; bound
  // weights have it when the checkpoint does).
  int linear(int x, const std::string& name, int64_t n, const HostTensor* w, const HostTensor* bias, bool with_bias = false,
             bool lm_head = false) {
    const int64_t k = b_.shape(x).back();
    int y;
    if (eager_) {
      y = b_.matmul(x, weight(name, w, {k, n}, at_));
    } else {
      if (p_.int4_weights && !lm_head) {
        const int wq = weight(name, nullptr, {k, n / 2}, ElemType::u8);
        const int sc = weight(name + "_s", nullptr, {n}, ElemType::f32);
        Shape s = b_.shape(x);
        s.back() = n;
        y = b_.fused("MatMulInt4", {x, wq, sc}, at_, s);
      } else {
        const int xi = p_.quantized_activations() ? b_.cast(x, p_.gemm_inputs) : x;
        y = b_.matmul(xi, weight(name, nullptr, {k, n}, lm_head ? p_.lm_head : p_.weights), at_);
      }
    }
    if (bound_ ? bias && !bias->shape.empty() : with_bias) y = b_.ew("Add", y, weight(name + ".b", bias, {n}, at_));
    return y;
  }

  // --- stages ---------------------------------------------------------------
  int embed() {
    const int64_t H = c_.hidden;
    const HostTensor* e = bound_ ? &s_.weights->embed : nullptr;
    int x = b_.node("Gather", {weight(c_.family == "gpt2" ? "wte" : "embed", e, {c_.vocab, H}, at_), ids_}, at_, {T_, H},
                    {{"axis", int64_t{0}}});
    if (c_.family == "gpt2") {  // learned positions
      HostTensor pos(ElemType::i64, {T_});
      for (int64_t t = 0; t < T_; ++t) pos.set_int(t, past_ + t);
      const HostTensor* pe = bound_ ? &s_.weights->pos_embed : nullptr;
      x = b_.ew("Add", x,
                b_.node("Gather", {weight("wpe", pe, {c_.max_positions, H}, at_), b_.constant("positions", std::move(pos))},
                        at_, {T_, H}, {{"axis", int64_t{0}}}));
    }
    return x;
  }

  int norm(int x, const std::string& name, NormW w) {
    const int64_t H = c_.hidden;
    if (layer_norm()) {
      const int g = weight(name, w.w, {H}, at_), bias = weight(name + ".b", w.b, {H}, at_);
      return b_.node("LayerNormalization", {x, g, bias}, at_, b_.shape(x), {{"axis", int64_t{-1}}, {"epsilon", c_.norm_eps}}, 17);
    }
    const int g = weight(name, w.w, {H}, at_);
    if (!eager_)
      return b_.node("RMSNormalization", {x, g}, at_, b_.shape(x), {{"axis", int64_t{-1}}, {"epsilon", c_.norm_eps}}, 23);
    // as Hugging Face writes it: fp32 x * rsqrt(mean(x^2) + eps), back to the type, times the weight
    const int xf = b_.cast(x, ElemType::f32);
    const int sq = b_.ew("Mul", xf, xf);
    Shape r = b_.shape(x);
    r.back() = 1;
    const int ms = b_.node("ReduceMean", {sq}, ElemType::f32, r, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}});
    const int rs = b_.unary("Reciprocal", b_.unary("Sqrt", b_.ew("Add", ms, eps_)));
    return b_.ew("Mul", g, b_.cast(b_.ew("Mul", xf, rs), at_));
  }

  // Rotary positions on x [B*T, heads*hd] (fused) or [T, heads, hd] (eager).
  int rope(int x, int64_t heads) {
    const int64_t hd = c_.head_dim;
    if (eager_) {  // x * cos + rotate_half(x) * sin
      Shape hs = b_.shape(x);
      hs.back() = hd / 2;
      const auto halves = b_.node_n("Split", {x}, {{at_, hs}, {at_, hs}},
                                    {{"axis", int64_t{2}}, {"split", std::vector<int64_t>{hd / 2, hd / 2}}}, 11);
      const int rot = b_.node("Concat", {b_.unary("Neg", halves[1]), halves[0]}, at_, b_.shape(x), {{"axis", int64_t{2}}});
      return b_.ew("Add", b_.ew("Mul", x, cos_), b_.ew("Mul", rot, sin_));
    }
    // the kernel's cost: x viewed [B, T, heads, hd] times the [T, 1, hd] table, twice, plus an add
    if (rope_ < 0) rope_ = b_.input("rope", at_, {T_, hd});
    const Shape flat = b_.shape(x);
    const int x4 = b_.reshape(x, {B_, T_, heads, hd});
    const int r = b_.node("Unsqueeze", {rope_, b_.ints({1})}, at_, {T_, 1, hd});
    return b_.reshape(b_.ew("Add", b_.ew("Mul", x4, r), b_.ew("Mul", x4, r)), flat);
  }

  // Fused attention over the KV-cache inputs: q3 [B*kv, g*T, hd] -> ctx, same shape.
  int cache_attention(int q3, const std::string& p) {
    const int64_t kv = c_.kv_heads, hd = c_.head_dim, g = c_.heads / c_.kv_heads;
    const ElemType kvt = p_.kv_cache;
    // decode steps read the page pool; a prefill chunk attends over its
    // sequence's keys staged contiguously (as inference stacks' context phase
    // reads the fresh K and V), so pages narrower than the array cost it nothing
    const bool paged = s_.flash_attention && s_.kv_page > 0 && T_ == 1;
    const Shape out = {B_ * kv, g * T_, hd};
    if (paged) {
      const int64_t pages = (C_ + s_.kv_page - 1) / s_.kv_page;
      const int kc = b_.input(p + "kcache", kvt, {B_ * kv * pages, hd, s_.kv_page});
      const int vc = b_.input(p + "vcache", kvt, {B_ * kv * pages, s_.kv_page, hd});
      const int pt = b_.input(p + "pages", ElemType::i32, {B_ * kv, pages});
      return flash({q3, kc, vc, pt}, out);
    }
    const int kc = b_.input(p + "kcache", kvt, {B_ * kv, hd, C_});
    const int vc = b_.input(p + "vcache", kvt, {B_ * kv, C_, hd});
    if (s_.flash_attention) return flash({q3, kc, vc}, out);
    const int sc = b_.matmul(q3, kc, at_);
    const int pr = b_.node("Softmax", {sc}, at_, b_.shape(sc), {{"axis", int64_t{-1}}});
    return b_.matmul(pr, vc, at_);
  }
  // causal within the chunk: query token t sees keys up to (C - T) + t
  int flash(std::vector<int> in, Shape out) {
    return b_.fused("FlashAttention", std::move(in), at_, std::move(out),
                    {{"causal_offset", C_ - T_}, {"rows_per_group", T_}, {"context", C_}});
  }

  // Eager attention with the past concatenated: q [T, nh, hd], k/v [T, kv, hd] -> ctx [T, nh*hd].
  int eager_attention(int64_t l, int q, int k, int v) {
    const int64_t hd = c_.head_dim, nh = c_.heads, kv = c_.kv_heads, g = nh / kv, S = C_;
    int kt = b_.transpose(k, {1, 0, 2}), vt = b_.transpose(v, {1, 0, 2});  // [kv, T, hd]
    if (past_ > 0) {
      kt = b_.node("Concat", {past_kv_[static_cast<size_t>(2 * l)], kt}, at_, {kv, S, hd}, {{"axis", int64_t{1}}});
      vt = b_.node("Concat", {past_kv_[static_cast<size_t>(2 * l + 1)], vt}, at_, {kv, S, hd}, {{"axis", int64_t{1}}});
    }
    present_.push_back(kt);
    present_.push_back(vt);
    int sc;
    if (c_.family == "gpt2") {
      // scores / sqrt(hd) with the divisor in the type (torch.full([], hd ** 0.5, dtype))
      const int qh = b_.transpose(q, {1, 0, 2});
      sc = b_.ew("Div", b_.matmul(qh, b_.transpose(kt, {0, 2, 1})), b_.scalar(at_, std::sqrt(static_cast<double>(hd))));
      sc = b_.cast(sc, ElemType::f32);
      if (mask_ >= 0) sc = b_.ew("Add", sc, mask_);
    } else {
      // the query heads sharing a KV head are stacked: [kv, g*T, hd]
      const int q3 = b_.reshape(b_.transpose(q, {1, 0, 2}), {kv, g * T_, hd});
      sc = b_.matmul(q3, b_.transpose(kt, {0, 2, 1}));  // [kv, g*T, S]
      sc = b_.ew("Mul", b_.cast(sc, ElemType::f32), b_.scalar(ElemType::f32, 1.0 / std::sqrt(static_cast<double>(hd))));
      if (at_ != ElemType::f32) sc = b_.cast(b_.cast(sc, at_), ElemType::f32);  // scaled scores rounded to the type, as in eager
      if (mask_ >= 0) sc = b_.reshape(b_.ew("Add", b_.reshape(sc, {kv, g, T_, S}), mask_), {kv, g * T_, S});
    }
    const int pr = b_.cast(b_.node("Softmax", {sc}, ElemType::f32, b_.shape(sc), {{"axis", int64_t{-1}}}), at_);
    const int ctx = b_.matmul(pr, vt);  // [kv, g*T, hd]
    return b_.reshape(b_.transpose(b_.reshape(ctx, {nh, T_, hd}), {1, 0, 2}), {T_, nh * hd});
  }

  // The MLP of one layer (or one expert): gated SwiGLU or up-GELU-down.
  int mlp(int h, const std::string& p, int64_t I, const HostTensor* wg, const HostTensor* wu, const HostTensor* wd,
          const HostTensor* bu, const HostTensor* bd) {
    const int64_t H = c_.hidden;
    if (!eager_) {
      int a;
      if (c_.gated_mlp) {
        // SiLU(gate) * up in one pass over the GEMM output (seedchip's fused SwiGLU)
        const int gu = linear(h, p + "wgu", 2 * I, nullptr, nullptr, c_.mlp_bias);
        Shape s = b_.shape(gu);
        s.back() = I;
        a = b_.fused("SwiGLU", {gu}, at_, s);
      } else {
        const int u = linear(h, p + "wup", I, nullptr, nullptr, c_.mlp_bias);
        a = b_.fused("Gelu", {u}, at_, b_.shape(u));
      }
      return linear(a, p + "wdown", H, nullptr, nullptr, c_.mlp_bias);
    }
    if (c_.gated_mlp) {
      // SiLU as x / (1 + exp(-x)), each step rounded to the type: what PyTorch's
      // CPU kernel does for bf16 (Debian 12's torch 1.13; checked element by element)
      const int gate = b_.matmul(h, weight(p + "wgate", wg, {H, I}, at_));
      const int act = b_.ew("Div", gate, b_.ew("Add", b_.unary("Exp", b_.unary("Neg", gate)), one_));
      const int up = b_.matmul(h, weight(p + "wup", wu, {H, I}, at_));
      return b_.matmul(b_.ew("Mul", act, up), weight(p + "wdown", wd, {I, H}, at_));
    }
    // gelu_new: 0.5 * u * (1 + tanh(sqrt(2/pi) * (u + 0.044715 * pow(u, 3)))), scalars applied in fp32
    const int u = linear(h, p + "fc", I, wu, bu, c_.mlp_bias);
    auto fscale = [&](int v, double k) {
      return b_.cast(b_.ew("Mul", b_.cast(v, ElemType::f32), b_.scalar(ElemType::f32, k)), at_);
    };
    const int cube = b_.ew("Mul", b_.ew("Mul", u, u), u);  // torch.pow(u, 3.0) is u * u * u, rounded after each multiply
    const int inner = fscale(b_.ew("Add", u, fscale(cube, 0.044715)), std::sqrt(2.0 / std::numbers::pi));
    const int t = b_.ew("Add", b_.unary("Tanh", inner), one_);
    return linear(b_.ew("Mul", fscale(u, 0.5), t), p + "proj", H, wd, bd, c_.mlp_bias);
  }

  // Mixtral's sparse MoE computed densely (eager): router softmax in fp32,
  // the top-k probabilities renormalised (others 0), every expert's output
  // weighted and summed in expert order as HF's index_add does.
  int eager_moe(int h2, const ModelWeights::Layer* L, const std::string& p) {
    const int64_t E = c_.experts, H = c_.hidden;
    const int logits = b_.matmul(h2, weight(p + "router", L ? &L->router : nullptr, {H, E}, at_));
    const int probs = b_.node("Softmax", {b_.cast(logits, ElemType::f32)}, ElemType::f32, {T_, E}, {{"axis", int64_t{-1}}});
    int rest = probs, kth = -1;
    const int below = b_.scalar(ElemType::f32, -1.0);  // below any probability
    for (int64_t top = 0; top < c_.experts_per_token; ++top) {  // the top-th largest probability per token
      kth = b_.node("ReduceMax", {rest}, ElemType::f32, {T_, 1}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{1}}});
      const int hit = b_.node("Equal", {rest, kth}, ElemType::boolean, {T_, E});
      rest = b_.node("Where", {hit, below, rest}, ElemType::f32, {T_, E}, {}, 16);
    }
    const int keep = b_.node("GreaterOrEqual", {probs, kth}, ElemType::boolean, {T_, E}, {}, 16);
    const int sel = b_.node("Where", {keep, probs, b_.scalar(ElemType::f32, 0.0)}, ElemType::f32, {T_, E}, {}, 16);
    const int sum = b_.node("ReduceSum", {sel, b_.ints({-1})}, ElemType::f32, {T_, 1}, {{"keepdims", int64_t{1}}});
    const int route = b_.cast(b_.ew("Div", sel, sum), at_);  // [T, E] in the type
    int moe = -1;
    for (int64_t e = 0; e < E; ++e) {
      const ModelWeights::Expert* X = L ? &L->experts[static_cast<size_t>(e)] : nullptr;
      HostTensor col(ElemType::i64, {1});
      col.set_int(0, e);
      const int we = b_.node("Gather", {route, b_.constant(fmt::format("{}e{}", p, e), std::move(col))}, at_, {T_, 1},
                             {{"axis", int64_t{1}}});
      const int ye = b_.ew("Mul",
                           mlp(h2, fmt::format("{}x{}.", p, e), c_.intermediate, X ? &X->wgate : nullptr,
                               X ? &X->wup : nullptr, X ? &X->wdown : nullptr, nullptr, nullptr),
                           we);
      moe = moe < 0 ? ye : b_.ew("Add", moe, ye);
    }
    return moe;
  }

  int layer(int64_t l, int x) {
    const int64_t H = c_.hidden, hd = c_.head_dim, nh = c_.heads, kv = c_.kv_heads, g = nh / kv;
    const ModelWeights::Layer* L = lw(l);
    const std::string p = pre(l);
    const bool attn = s_.part != LayerPart::dense;
    const int h = norm(x, p + "ln1", L ? NormW{&L->ln1, &L->ln1_b} : NormW{});
    int o;  // the attention block's output [rows, H]
    if (eager_) {
      auto proj = [&](const std::string& n, int64_t heads, const HostTensor* w, const HostTensor* bias) {
        return b_.reshape(linear(h, p + n, heads * hd, w, bias, c_.qkv_bias), {T_, heads, hd});
      };
      int q = proj("wq", nh, L ? &L->wq : nullptr, L ? &L->bq : nullptr);
      int k = proj("wk", kv, L ? &L->wk : nullptr, L ? &L->bk : nullptr);
      const int v = proj("wv", kv, L ? &L->wv : nullptr, L ? &L->bv : nullptr);
      if (rotary()) q = rope(q, nh), k = rope(k, kv);
      o = linear(eager_attention(l, q, k, v), p + "wo", H, L ? &L->wo : nullptr, L ? &L->bo : nullptr, out_bias());
    } else {
      const int qkv = linear(h, p + "wqkv", (nh + 2 * kv) * hd, nullptr, nullptr, c_.qkv_bias);
      const int64_t BT = B_ * T_;
      const auto parts = b_.node_n("Split", {qkv}, {{at_, {BT, nh * hd}}, {at_, {BT, kv * hd}}, {at_, {BT, kv * hd}}},
                                   {{"axis", int64_t{1}}, {"split", std::vector<int64_t>{nh * hd, kv * hd, kv * hd}}}, 11);
      const int q = rotary() ? rope(parts[0], nh) : parts[0];
      if (rotary()) rope(parts[1], kv);  // (the keys' rotation is timed; the cache stand-in holds them)
      const int q3 = b_.reshape(q, {B_ * kv, g * T_, hd});
      const int ctx = attn ? cache_attention(q3, p) : b_.node("Identity", {q3}, at_, b_.shape(q3), {}, 14);
      o = linear(b_.reshape(ctx, {BT, nh * hd}), p + "wo", H, nullptr, nullptr, out_bias());
    }
    const int r1 = b_.ew("Add", x, o);
    // GPT-J: x + attn(ln(x)) + mlp(ln(x)); the others norm the residual again
    const int h2 = c_.parallel_residual ? h : norm(r1, p + "ln2", L ? NormW{&L->ln2, &L->ln2_b} : NormW{});
    return b_.ew("Add", r1, ffn(h2, L, p));
  }

  // The feed-forward block: the MLP, or the experts.
  int ffn(int h, const ModelWeights::Layer* L, const std::string& p) {
    if (c_.experts == 0)
      return mlp(h, p, c_.intermediate, L ? &L->wgate : nullptr, L ? &L->wup : nullptr, L ? &L->wdown : nullptr,
                 L ? &L->bup : nullptr, L ? &L->bdown : nullptr);
    if (eager_) return eager_moe(h, L, p);
    // fused: the router GEMM; the experts either priced apart (dense part:
    // the step-cost oracle adds each expert's tokens) or, for a whole layer,
    // every token's top-k experts as one dense MLP of k x intermediate columns
    extra_outputs_.push_back(linear(h, p + "router", c_.experts, nullptr, nullptr));  // (no bias)
    if (s_.part == LayerPart::dense) return b_.node("Identity", {h}, at_, b_.shape(h), {}, 14);
    return mlp(h, p, c_.intermediate * c_.experts_per_token, nullptr, nullptr, nullptr, nullptr, nullptr);
  }

  int last_row(int x) {
    const int64_t T = b_.shape(x)[0];
    if (T == 1) return x;
    HostTensor last(ElemType::i64, {1});
    last.set_int(0, T - 1);
    return b_.node("Gather", {x, b_.constant("last", std::move(last))}, at_, {1, b_.shape(x)[1]}, {{"axis", int64_t{0}}});
  }

  ir::Graph attention_only() {
    const int64_t kv = c_.kv_heads, g = c_.heads / kv;
    const int q3 = b_.input("q3", at_, {B_ * kv, g * T_, c_.head_dim});
    const int ctx = cache_attention(q3, "");
    b_.g.outputs.push_back(ctx);
    b_.g.verify();
    return std::move(b_.g);
  }
  ir::Graph expert_only() {
    const int x = b_.input("x", at_, {B_ * T_, c_.hidden});
    const int y = mlp(x, "", c_.intermediate, nullptr, nullptr, nullptr, nullptr, nullptr);
    b_.g.outputs.push_back(y);
    b_.g.verify();
    return std::move(b_.g);
  }

  const ModelConfig& c_;
  const DecoderSpec& s_;
  const PrecisionPolicy& p_;
  detail::GraphBuilder b_;
  bool eager_, bound_;
  int64_t B_ = 1, T_ = 1, C_ = 1, past_ = 0;
  ElemType at_ = ElemType::f32;
  int ids_ = -1, cos_ = -1, sin_ = -1, mask_ = -1, eps_ = -1, one_ = -1, rope_ = -1;
  std::vector<int> past_kv_, present_, extra_outputs_;
  std::map<std::string, int> inputs_;
};

}  // namespace

ir::Graph decoder_graph(const ModelConfig& c, const DecoderSpec& spec, const PrecisionPolicy& p) {
  return Decoder(c, spec, p).build();
}

}  // namespace seedchip::llm
