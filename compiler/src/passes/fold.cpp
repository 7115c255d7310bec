// seedchip — constant folding and dead-node removal.
#include <algorithm>

#include <fmt/format.h>

#include "passes.h"
#include "seedchip/hostops/hostops.h"

namespace seedchip::compiler {

ir::Graph remove_dead(ir::Graph g) {
  std::vector<char> needed(g.values.size(), 0);
  for (int o : g.outputs) needed[o] = 1;
  std::vector<char> keep(g.nodes.size(), 0);
  for (size_t i = g.nodes.size(); i-- > 0;) {
    const auto& n = g.nodes[i];
    bool live = false;
    for (int o : n.outputs)
      if (o >= 0 && needed[o]) live = true;
    if (!live) continue;
    keep[i] = 1;
    for (int v : n.inputs)
      if (v >= 0) needed[v] = 1;
  }
  std::vector<ir::Node> nodes;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (keep[i]) nodes.push_back(std::move(g.nodes[i]));
  g.nodes = std::move(nodes);
  g.compact();
  return g;
}

ir::Graph fold_constants(ir::Graph g) {
  std::vector<ir::Node> kept;
  for (auto& n : g.nodes) {
    bool all_const = true;
    for (int v : n.inputs)
      if (v >= 0 && !g.values[v].is_const()) all_const = false;
    std::vector<ir::HostTensor> results;
    try {
      if ((n.op == "Shape" || n.op == "Size") && n.domain.empty()) {
        // Static shapes make these constants whatever the input's data.
        const auto& in = g.values[n.inputs[0]];
        if (n.op == "Size") {
          ir::HostTensor t(ir::ElemType::i64, {});
          t.set_int(0, in.elements());
          results.push_back(t);
        } else {
          const int64_t r = static_cast<int64_t>(in.shape.size());
          int64_t s = n.attr_int("start", 0), e = n.attr_int("end", r);
          if (s < 0) s += r;
          if (e < 0) e += r;
          s = std::clamp<int64_t>(s, 0, r);
          e = std::clamp<int64_t>(e, 0, r);
          ir::HostTensor t(ir::ElemType::i64, {std::max<int64_t>(0, e - s)});
          for (int64_t i = s; i < e; ++i) t.set_int(i - s, in.shape[i]);
          results.push_back(t);
        }
      } else if (all_const && n.domain.empty() && hostops::supported(n)) {
        std::vector<const ir::HostTensor*> ins;
        for (int v : n.inputs) ins.push_back(v >= 0 ? g.values[v].data.get() : nullptr);
        results = hostops::eval(n, ins);
      }
    } catch (const hostops::Unsupported&) {
      results.clear();  // leave it to the chip
    } catch (const hostops::EvalError&) {
      results.clear();  // e.g. a division by zero: the chip defines what happens
    }
    if (results.empty()) {
      kept.push_back(std::move(n));
      continue;
    }
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const int o = n.outputs[k];
      if (o < 0 || k >= results.size()) continue;
      auto& val = g.values[o];
      // keep the IR's declared type/shape (shape inference already agreed)
      if (results[k].type != val.type || results[k].shape != val.shape) {
        if (results[k].elements() != val.elements())
          throw CompileError(fmt::format("node '{}' ({}): folded value has {} elements, expected {}", n.name, n.op,
                                         results[k].elements(), val.elements()));
        ir::HostTensor conv(val.type, val.shape);
        for (int64_t i = 0; i < conv.elements(); ++i) conv.set_int(i, 0), conv.set(i, results[k].get(i));
        if (!ir::elem_is_float(val.type))
          for (int64_t i = 0; i < conv.elements(); ++i) conv.set_int(i, results[k].get_int(i));
        results[k] = std::move(conv);
      }
      val.data = std::make_shared<const ir::HostTensor>(std::move(results[k]));
    }
  }
  g.nodes = std::move(kept);
  return remove_dead(std::move(g));
}

}  // namespace seedchip::compiler
