// seedchip — the ONNX ops the compiler accepts (docs/ops.md lists them with notes).
#include <algorithm>

#include "seedchip/compiler/compiler.h"

namespace seedchip::compiler {

const std::vector<std::string>& supported_ops() {
  static const std::vector<std::string> kOps = [] {
    std::vector<std::string> v = {
        // elementwise
        "Abs", "Add", "And", "BatchNormalization", "Cast", "CastLike", "Ceil", "Celu", "Clip", "Cos", "Div", "Dropout",
        "Elu", "Equal", "Erf", "Exp", "Floor", "Greater", "GreaterOrEqual", "HardSigmoid", "HardSwish", "Identity",
        "IsInf", "IsNaN", "LeakyRelu", "Less", "LessOrEqual", "Log", "Max", "Mean", "Min", "Mod", "Mul", "Neg", "Not",
        "Or", "Pow", "PRelu", "Reciprocal", "Relu", "Round", "Selu", "Shrink", "Sigmoid", "Sign", "Sin", "Softplus",
        "Softsign", "Sqrt", "Sub", "Sum", "Tanh", "ThresholdedRelu", "Where", "Xor", "QuantizeLinear",
        "DequantizeLinear",
        // layout
        "Concat", "DepthToSpace", "Expand", "Flatten", "Gather", "Pad", "Reshape", "Slice", "SpaceToDepth", "Split",
        "Squeeze", "Tile", "Transpose", "Trilu", "Unsqueeze",
        // rows
        "ArgMax", "ArgMin", "CumSum", "GlobalAveragePool", "GlobalMaxPool", "Hardmax", "InstanceNormalization",
        "LayerNormalization", "LogSoftmax", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax",
        "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "RMSNormalization", "Softmax",
        // matrix
        "AveragePool", "Conv", "ConvTranspose", "FlashAttention", "Gemm", "MatMul", "MatMulInt4", "MatMulInteger", "MaxPool",
        // rewritten by the canonicalize pass
        "ConvInteger", "Einsum", "QLinearConv", "QLinearMatMul", "Resize", "Upsample",
        // folded at compile time
        "Constant", "ConstantOfShape", "Shape", "Size", "Range",
    };
    std::sort(v.begin(), v.end());
    return v;
  }();
  return kOps;
}

bool is_supported_op(const std::string& op) {
  const auto& v = supported_ops();
  return std::binary_search(v.begin(), v.end(), op);
}

}  // namespace seedchip::compiler
