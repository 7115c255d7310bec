// seedchip — ONNX frontend: a schema registry whose shape functions first
// reject the malformed inputs that crash onnx 1.12's own ones.
#pragma once

#include <onnx/defs/schema.h>

namespace seedchip::frontends::detail {

/// The ONNX schema registry with guarded shape-inference functions for the
/// ops whose onnx 1.12 shape functions read out of bounds or run out of
/// memory on invalid models (found by fuzzing the backend node tests):
/// Conv, ConvTranspose, ConvInteger, QLinearConv, MaxUnpool (ranks; and with
/// the pooling ops, non-positive strides, dilations or kernel), STFT
/// (signal rank), LayerNormalization (axis against rank), GatherND (negative
/// batch_dims), and ConstantOfShape/Expand/Reshape (shape operands longer than
/// any real rank). A guard reports a normal shape-inference error for the
/// node instead. Data propagators are skipped for nodes with an untyped input
/// (left by an earlier node's failed inference), which they would dereference.
/// Use it for every onnx::shape_inference::InferShapes call.
const onnx::ISchemaRegistry* guarded_schemas();

}  // namespace seedchip::frontends::detail
