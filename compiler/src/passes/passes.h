// seedchip — the IR -> IR passes of the compiler pipeline (internal).
#pragma once

#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"

namespace seedchip::compiler {

/// Constant folding: Constant nodes become constants; Shape/Size of static
/// shapes become constants; any node whose inputs are all constants and that
/// the host evaluator implements is evaluated; dead nodes are removed.
ir::Graph fold_constants(ir::Graph g);

/// Rewrites ops into ones the lowering knows: QLinearMatMul, QLinearConv,
/// ConvInteger, Einsum (matmul-like), Resize/Upsample (nearest, linear).
ir::Graph canonicalize(ir::Graph g);

/// Removes nodes whose outputs nobody uses (and are not graph outputs).
ir::Graph remove_dead(ir::Graph g);

/// Fusion: MatMul + bias Add (+ Relu) into FusedMatMul, Gemm/Conv + Relu as an
/// `activation` attribute, BatchNormalization into Conv weights when constant.
/// `constant_values` false (timing-only compiles): folded weights get their
/// shapes but are not computed (zeros, like the weights they replace).
ir::Graph fuse(ir::Graph g, bool constant_values = true);

/// The value a quantised matmul-family node multiplies by its constant
/// weights (its activation input), or -1 when the node is not quantisable
/// (runtime weights, depthwise convolution, integer inputs).
int quant_activation(const ir::Graph& g, const ir::Node& n);

/// int8 / fp8: annotates each quantisable node with q_dtype and act_scale
/// (absmax / 127 or / 448) from `absmax` (value index -> largest |x| seen).
ir::Graph quantize(ir::Graph g, Precision p, const std::map<int, double>& absmax);

}  // namespace seedchip::compiler
