// seedchip — checks the result types and shapes an IR graph declares against
// what each node's inputs give. An ONNX model's shapes come from ONNX shape
// inference, so they agree by construction; IR text states them itself, and
// a wrong one would make the compiler read or write outside a tensor.
#pragma once

#include <string>

#include "seedchip/ir/graph.h"

namespace seedchip::frontends {

/// Checks every node of `g` (which must pass Graph::verify) in order:
/// default-domain ops with ONNX shape inference (onnx 1.12: opsets up to 17;
/// for opset 0 or above 17, ops unchanged since 17 are checked at 17 and the
/// ones opset 18 changed are left to the compiler), seedchip's own ops
/// (FusedMatMul, FusedGemm, FusedConv, Gelu, SwiGLU, MatMulInt4,
/// FlashAttention, RMSNormalization) with their own rules. Small constants
/// (and Shape/Size results, and what folds from them) are passed as data so
/// that Reshape, Slice, Pad, ... are checked against their actual operands.
/// Nodes touching float8 values (which onnx 1.12 lacks) are checked only by
/// the compiler. Throws ir::IrError "SOURCE: node 'N' (Op): REASON", e.g.
/// "output 'y' is declared f32[4,22] but its inputs give f32[4,2]".
void check_declared_shapes(const ir::Graph& g, const std::string& source);

}  // namespace seedchip::frontends
