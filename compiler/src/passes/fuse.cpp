// seedchip — fusion of producer/consumer chains into single kernels:
//   Conv + BatchNormalization (constant statistics)  -> Conv with folded weights
//   MatMul(x, W) + Add(bias)                         -> FusedMatMul(x, W, bias)
//   Gemm / FusedMatMul / Conv + Relu                 -> activation="Relu"
// A producer is fused only when its output has exactly one use and is not a
// graph output, so no intermediate the model exposes disappears.
#include <algorithm>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "passes.h"

namespace seedchip::compiler {

namespace {

struct Uses {
  std::vector<int> count;
  std::vector<int> user;  // the single user's node index (when count == 1)
  explicit Uses(const ir::Graph& g) : count(g.values.size(), 0), user(g.values.size(), -1) {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      for (int v : g.nodes[i].inputs)
        if (v >= 0) ++count[v], user[v] = static_cast<int>(i);
    for (int o : g.outputs) count[o] += 1000;  // never fuse away a graph output
  }
  bool single(int v) const { return v >= 0 && count[v] == 1; }
};

bool is_const_vec(const ir::Graph& g, int v, int64_t n) {
  if (v < 0 || !g.values[v].is_const() || g.values[v].elements() != n) return false;
  const auto& s = g.values[v].shape;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (s[i] != 1) return false;
  return true;
}

// Value -> index of the node producing it (or -1).
std::vector<int> producers(const ir::Graph& g) {
  std::vector<int> p(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (int o : g.nodes[i].outputs)
      if (o >= 0) p[o] = static_cast<int>(i);
  return p;
}

// The scalar value of constant v, or NaN.
double scalar(const ir::Graph& g, int v) {
  if (v < 0 || !g.values[v].is_const() || g.values[v].elements() != 1) return std::nan("");
  return g.values[v].data->get(0);
}

bool near(double a, double b) { return std::fabs(a - b) <= 1e-4 * std::fabs(b); }

// Of a binary node's two inputs, the one that is not `x` (or -1 when neither is x).
int other_input(const ir::Node& n, int x) {
  if (n.inputs.size() != 2) return -1;
  if (n.inputs[0] == x) return n.inputs[1];
  if (n.inputs[1] == x) return n.inputs[0];
  return -1;
}

// Replaces nodes `dead` (indices) by `repl`, placed where the last of them was.
void replace_nodes(ir::Graph& g, std::vector<int> dead, ir::Node repl) {
  std::sort(dead.begin(), dead.end());
  const int last = dead.back();
  g.nodes[last] = std::move(repl);
  dead.pop_back();
  for (auto it = dead.rbegin(); it != dead.rend(); ++it) g.nodes.erase(g.nodes.begin() + *it);
}

// GELU as torch exports it: Mul(Mul(x, Add(Erf(Div(x, sqrt2)), 1)), 0.5) -> Gelu(x).
bool fuse_gelu(ir::Graph& g, const Uses& u) {
  const auto prod = producers(g);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& erf = g.nodes[i];
    if (erf.op != "Erf" || !u.single(erf.outputs[0])) continue;
    const int di = prod[erf.inputs[0]];
    if (di < 0 || g.nodes[di].op != "Div" || !u.single(g.nodes[di].outputs[0])) continue;
    const ir::Node& div = g.nodes[di];
    const int x = div.inputs[0];
    if (!near(scalar(g, div.inputs[1]), std::sqrt(2.0))) continue;
    const int ai = u.user[erf.outputs[0]];
    const ir::Node& add = g.nodes[ai];
    if (add.op != "Add" || !near(scalar(g, other_input(add, erf.outputs[0])), 1.0) || !u.single(add.outputs[0])) continue;
    const int mi = u.user[add.outputs[0]];
    const ir::Node& mul1 = g.nodes[mi];
    if (mul1.op != "Mul" || other_input(mul1, add.outputs[0]) != x || !u.single(mul1.outputs[0])) continue;
    const int hi = u.user[mul1.outputs[0]];
    const ir::Node& mul2 = g.nodes[hi];
    if (mul2.op != "Mul" || !near(scalar(g, other_input(mul2, mul1.outputs[0])), 0.5)) continue;
    ir::Node gelu;
    gelu.name = mul2.name + ".gelu";
    gelu.op = "Gelu";
    gelu.domain = "seedchip";
    gelu.opset = 1;
    gelu.inputs = {x};
    gelu.outputs = {mul2.outputs[0]};
    replace_nodes(g, {di, static_cast<int>(i), ai, mi, hi}, std::move(gelu));
    return true;
  }
  return false;
}

// LayerNorm decomposed over the last axis (opset < 17 exports):
//   m = ReduceMean(x); d = Sub(x, m); v = ReduceMean(Pow(d, 2)); s = Sqrt(Add(v, eps));
//   y = Add(Mul(Div(d, s), gamma), beta)   ->  LayerNormalization(x, gamma, beta)
bool fuse_layernorm(ir::Graph& g, const Uses& u) {
  const auto prod = producers(g);
  auto last_axis_mean = [&](const ir::Node& n) {
    if (n.op != "ReduceMean" || n.inputs.empty()) return false;
    std::vector<int64_t> axes = n.attr_ints("axes", {});
    if (n.inputs.size() > 1 && n.inputs[1] >= 0 && g.values[n.inputs[1]].is_const()) {
      axes.clear();
      const auto& t = *g.values[n.inputs[1]].data;
      for (int64_t i = 0; i < t.elements(); ++i) axes.push_back(t.get_int(i));
    }
    const int64_t r = static_cast<int64_t>(g.values[n.inputs[0]].shape.size());
    return axes.size() == 1 && (axes[0] == -1 || axes[0] == r - 1) && n.attr_int("keepdims", 1) == 1;
  };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ir::Node& sub = g.nodes[i];
    if (sub.op != "Sub") continue;
    const int x = sub.inputs[0], mean = sub.inputs[1];
    const int m1 = prod[mean];
    if (m1 < 0 || !last_axis_mean(g.nodes[m1]) || g.nodes[m1].inputs[0] != x || !u.single(mean)) continue;
    const int d = sub.outputs[0];
    if (u.count[d] != 2) continue;  // used by Pow and Div
    int pw = -1, dv = -1;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
      const auto& n = g.nodes[k];
      if (n.inputs.empty() || n.inputs[0] != d) continue;
      if (n.op == "Pow" && near(scalar(g, n.inputs[1]), 2.0)) pw = static_cast<int>(k);
      if (n.op == "Div") dv = static_cast<int>(k);
    }
    if (pw < 0 || dv < 0 || !u.single(g.nodes[pw].outputs[0])) continue;
    const int m2 = u.user[g.nodes[pw].outputs[0]];
    if (!last_axis_mean(g.nodes[m2]) || !u.single(g.nodes[m2].outputs[0])) continue;
    const int ae = u.user[g.nodes[m2].outputs[0]];
    const ir::Node& add_eps = g.nodes[ae];
    const double eps = scalar(g, other_input(add_eps, g.nodes[m2].outputs[0]));
    if (add_eps.op != "Add" || std::isnan(eps) || !u.single(add_eps.outputs[0])) continue;
    const int sq = u.user[add_eps.outputs[0]];
    if (g.nodes[sq].op != "Sqrt" || !u.single(g.nodes[sq].outputs[0]) || u.user[g.nodes[sq].outputs[0]] != dv) continue;
    if (g.nodes[dv].inputs[1] != g.nodes[sq].outputs[0] || !u.single(g.nodes[dv].outputs[0])) continue;
    const int ml = u.user[g.nodes[dv].outputs[0]];
    const ir::Node& mul = g.nodes[ml];
    const int gamma = other_input(mul, g.nodes[dv].outputs[0]);
    const int64_t C = g.values[x].shape.back();
    if (mul.op != "Mul" || gamma < 0 || !g.values[gamma].is_const() || g.values[gamma].elements() != C ||
        !u.single(mul.outputs[0]))
      continue;
    const int ab = u.user[mul.outputs[0]];
    const ir::Node& add_b = g.nodes[ab];
    const int beta = other_input(add_b, mul.outputs[0]);
    if (add_b.op != "Add" || beta < 0 || !g.values[beta].is_const() || g.values[beta].elements() != C) continue;
    ir::Node ln;
    ln.name = add_b.name + ".layernorm";
    ln.op = "LayerNormalization";
    ln.opset = 17;
    ln.inputs = {x, gamma, beta};
    ln.outputs = {add_b.outputs[0]};
    ln.attrs["axis"] = int64_t{-1};
    ln.attrs["epsilon"] = eps;
    replace_nodes(g, {m1, static_cast<int>(i), pw, m2, ae, sq, dv, ml, ab}, std::move(ln));
    return true;
  }
  return false;
}

}  // namespace

ir::Graph fuse(ir::Graph g, bool constant_values) {
  // Pattern fusions of decomposed ops first (they create the nodes the
  // producer/consumer fusions below work on).
  for (;;) {
    Uses u(g);
    if (!fuse_gelu(g, u) && !fuse_layernorm(g, u)) break;
  }
  bool changed = true;
  while (changed) {
    changed = false;
    Uses u(g);
    for (size_t i = 0; i < g.nodes.size() && !changed; ++i) {
      ir::Node& p = g.nodes[i];
      if (p.outputs.empty() || !u.single(p.outputs[0])) continue;
      const int out = p.outputs[0];
      const int ci = u.user[out];
      ir::Node& c = g.nodes[ci];
      // `f` (built from p) takes c's place and output; p goes.
      auto replace_pair = [&](ir::Node f) {
        f.outputs = {c.outputs[0]};
        f.name = p.name + "+" + c.name;
        g.nodes[ci] = std::move(f);
        g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
        changed = true;
      };
      // Conv + BatchNormalization -> Conv
      if (p.op == "Conv" && c.op == "BatchNormalization" && c.inputs[0] == out && c.outputs.size() == 1 &&
          c.attr_int("training_mode", 0) == 0 &&
          g.values[p.inputs[1]].is_const() && !p.has_attr("activation")) {
        bool ok = true;
        for (int k = 1; k <= 4; ++k) ok = ok && g.values[c.inputs[k]].is_const();
        if (!ok) continue;
        const auto& W = *g.values[p.inputs[1]].data;
        const auto &sc = *g.values[c.inputs[1]].data, &bi = *g.values[c.inputs[2]].data,
                   &mean = *g.values[c.inputs[3]].data, &var = *g.values[c.inputs[4]].data;
        const double eps = c.attr_float("epsilon", 1e-5);
        const int64_t Co = W.shape[0], per = W.elements() / Co;
        ir::HostTensor nw(W.type, W.shape), nb(W.type, {Co});
        const bool has_b = p.inputs.size() > 2 && p.inputs[2] >= 0;
        for (int64_t o = 0; o < Co && constant_values; ++o) {
          const double a = sc.get(o) / std::sqrt(var.get(o) + eps);
          if (W.type == ir::ElemType::f32) {  // what set(get() * a) does, without the per-element dispatch
            const uint8_t* src = W.data.data() + 4 * o * per;
            uint8_t* dst = nw.data.data() + 4 * o * per;
            for (int64_t k = 0; k < per; ++k) {
              float w;
              std::memcpy(&w, src + 4 * k, 4);
              const float r = static_cast<float>(static_cast<double>(w) * a);
              std::memcpy(dst + 4 * k, &r, 4);
            }
          } else {
            for (int64_t k = 0; k < per; ++k) nw.set(o * per + k, W.get(o * per + k) * a);
          }
          const double b0 = has_b ? g.values[p.inputs[2]].data->get(o) : 0.0;
          nb.set(o, (b0 - mean.get(o)) * a + bi.get(o));
        }
        ir::Value wv{p.name + ".bn_weight", W.type, W.shape, std::make_shared<const ir::HostTensor>(std::move(nw))};
        ir::Value bv{p.name + ".bn_bias", W.type, {Co}, std::make_shared<const ir::HostTensor>(std::move(nb))};
        ir::Node f = p;
        f.inputs = {p.inputs[0], g.add_value(std::move(wv)), g.add_value(std::move(bv))};
        replace_pair(std::move(f));
        break;
      }
      // MatMul + Add(bias) -> FusedMatMul
      if (p.op == "MatMul" && c.op == "Add" && g.values[p.inputs[1]].shape.size() == 2) {
        const int64_t N = g.values[p.inputs[1]].shape[1];
        const int other = c.inputs[0] == out ? c.inputs[1] : c.inputs[0];
        if (!is_const_vec(g, other, N) || g.values[c.outputs[0]].shape != g.values[out].shape) continue;
        ir::Node f = p;
        f.op = "FusedMatMul";
        f.domain = "seedchip";
        f.inputs = {p.inputs[0], p.inputs[1], other};
        replace_pair(std::move(f));
        break;
      }
      // producer + Relu -> activation attribute
      if ((p.op == "Gemm" || p.op == "FusedMatMul" || p.op == "Conv") && c.op == "Relu" && !p.has_attr("activation")) {
        ir::Node f = p;
        f.attrs["activation"] = std::string("Relu");
        replace_pair(std::move(f));
        break;
      }
    }
  }
  g.compact();
  return g;
}

}  // namespace seedchip::compiler
