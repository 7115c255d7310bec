// seedchip — the IR -> IR passes of the compiler pipeline (internal).
#pragma once

#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"

namespace seedchip::compiler {

/// Constant folding: Constant nodes become constants; Shape/Size of static
/// shapes become constants; any node whose inputs are all constants and that
/// the host evaluator implements is evaluated; dead nodes are removed.
ir::Graph fold_constants(ir::Graph g);

/// Removes nodes whose outputs nobody uses (and are not graph outputs).
ir::Graph remove_dead(ir::Graph g);

/// Fusion: MatMul/Gemm + bias Add + Relu, Conv + Relu (BatchNormalization into
/// Conv weights when constant), into FusedGemm / FusedConv nodes.
ir::Graph fuse(ir::Graph g);

}  // namespace seedchip::compiler
