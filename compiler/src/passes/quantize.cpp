// seedchip — int8 / fp8 quantisation of the matrix-engine ops.
//
// Weights are quantised per output channel (symmetric: scale = max|w| / qmax),
// activations per tensor with a scale from calibration (absmax / qmax), where
// qmax is 127 for int8 and 448 (e4m3's largest finite value) for fp8. The
// lowering multiplies the accumulator by act_scale x weight_scale[n] before
// the bias and activation.
#include <cmath>

#include "passes.h"

namespace seedchip::compiler {

int quant_activation(const ir::Graph& g, const ir::Node& n) {
  auto is_const = [&](size_t i) { return i < n.inputs.size() && n.inputs[i] >= 0 && g.values[n.inputs[i]].is_const(); };
  if (n.inputs.empty() || n.inputs[0] < 0 || !ir::elem_is_float(g.values[n.inputs[0]].type)) return -1;
  if ((n.op == "MatMul" || n.op == "FusedMatMul") && is_const(1) && g.values[n.inputs[1]].shape.size() == 2)
    return n.inputs[0];
  if (n.op == "Gemm" && is_const(1)) return n.inputs[0];
  if (n.op == "Conv" && is_const(1)) {
    const auto& w = g.values[n.inputs[1]].shape;
    const int64_t group = n.attr_int("group", 1);
    if (group > 1 && w.size() > 1 && w[1] == 1) return -1;  // depthwise runs on the vector engine
    return n.inputs[0];
  }
  return -1;
}

ir::Graph quantize(ir::Graph g, Precision p, const std::map<int, double>& absmax) {
  if (p != Precision::int8 && p != Precision::fp8) return g;
  const double qmax = p == Precision::int8 ? 127.0 : 448.0;
  for (auto& n : g.nodes) {
    const int a = quant_activation(g, n);
    if (a < 0) continue;
    auto it = absmax.find(a);
    const double m = it == absmax.end() ? 0.0 : it->second;
    n.attrs["q_dtype"] = std::string(p == Precision::int8 ? "int8" : "fp8e4m3");
    n.attrs["act_scale"] = m > 0 && std::isfinite(m) ? m / qmax : 1.0;
  }
  return g;
}

}  // namespace seedchip::compiler
