// seedchip — fusion of producer/consumer chains into single kernels:
//   Conv + BatchNormalization (constant statistics)  -> Conv with folded weights
//   MatMul(x, W) + Add(bias)                         -> FusedMatMul(x, W, bias)
//   Gemm / FusedMatMul / Conv + Relu                 -> activation="Relu"
// A producer is fused only when its output has exactly one use and is not a
// graph output, so no intermediate the model exposes disappears.
#include <cmath>

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

}  // namespace

ir::Graph fuse(ir::Graph g) {
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
        for (int64_t o = 0; o < Co; ++o) {
          const double a = sc.get(o) / std::sqrt(var.get(o) + eps);
          for (int64_t k = 0; k < per; ++k) nw.set(o * per + k, W.get(o * per + k) * a);
          const double b0 = has_b ? g.values[p.inputs[2]].data->get(o) : 0.0;
          nb.set(o, (b0 - mean.get(o)) * a + bi.get(o));
        }
        ir::Value wv{p.name + ".bn_weight", W.type, W.shape, std::make_shared<const ir::HostTensor>(std::move(nw))};
        ir::Value bv{p.name + ".bn_bias", W.type, {Co}, std::make_shared<const ir::HostTensor>(std::move(nb))};
        ir::Node f = p;
        f.inputs = {p.inputs[0], g.add_value(std::move(wv)), g.add_value(std::move(bv))};
        f.outputs = {c.outputs[0]};
        f.name = p.name + "+" + c.name;
        g.nodes[ci] = std::move(f);
        g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
        changed = true;
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
        f.outputs = {c.outputs[0]};
        f.name = p.name + "+" + c.name;
        g.nodes[ci] = std::move(f);
        g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
        changed = true;
        break;
      }
      // producer + Relu -> activation attribute
      if ((p.op == "Gemm" || p.op == "FusedMatMul" || p.op == "Conv") && c.op == "Relu" && !p.has_attr("activation")) {
        ir::Node f = p;
        f.attrs["activation"] = std::string("Relu");
        f.outputs = {c.outputs[0]};
        f.name = p.name + "+" + c.name;
        g.nodes[ci] = std::move(f);
        g.nodes.erase(g.nodes.begin() + static_cast<long>(i));
        changed = true;
        break;
      }
    }
  }
  g.compact();
  return g;
}

}  // namespace seedchip::compiler
