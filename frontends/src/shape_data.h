// seedchip — ONNX frontend: compile-time evaluation of shape arithmetic, used
// to finish shape inference where onnx 1.12's own data propagation stops.
#pragma once

#include <functional>

#include <onnx/defs/shape_inference.h>
#include <onnx/onnx_pb.h>

namespace seedchip::frontends::detail {

/// Re-infers shapes on a copy of `m` (whose nodes all have unique names) in
/// which the small integer values that can be computed at compile time (from
/// Shape/Size of static values, integer constants and the usual shape
/// arithmetic on them) are initializers instead of node outputs: onnx 1.12's
/// shape functions for Reshape-13, ConstantOfShape, Range, Expand, ... only
/// read initializer data. Repeats while new values become known and `done`
/// (called with the latest graph) says some node output is still not static.
/// Returns the copy; its graph's inputs/value_info/outputs carry the types.
/// Shape-inference exceptions propagate.
onnx::ModelProto infer_with_shape_data(const onnx::ModelProto& m, const onnx::ShapeInferenceOptions& opt,
                                       const std::function<bool(const onnx::GraphProto&)>& done);

}  // namespace seedchip::frontends::detail
