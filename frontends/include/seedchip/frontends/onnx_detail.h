// seedchip — ONNX frontend internals that expose ONNX protobuf types; kept
// apart from onnx.h so users of the importer need not see onnx's headers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <onnx/onnx_pb.h>

#include "seedchip/frontends/onnx.h"

namespace seedchip::frontends {

/// Converts a TensorProto (raw_data or the typed fields; every numeric type
/// including float16, bfloat16 and bool) to a HostTensor. `what` prefixes
/// error messages (e.g. "model.onnx: initializer 'W'"). Strings, complex
/// numbers, segments and external data throw ImportError. `raw`: the
/// tensor's raw_data where the importer found it in the file itself (the
/// TensorProto then holds a placeholder); its size is checked against the
/// shape as usual. `values` false leaves the tensor zero (timing-only).
ir::HostTensor tensor_from_proto(const onnx::TensorProto& t, const std::string& what,
                                 std::optional<std::string_view> raw = std::nullopt, bool values = true);

/// The IR element type of an ONNX TensorProto::DataType, or nullopt when the
/// IR has none (undefined, string, complex).
std::optional<ir::ElemType> elem_from_onnx(int32_t data_type);

/// Readable ONNX type, e.g. "tensor(float)", "seq(tensor(int64))".
std::string onnx_type_name(const onnx::TypeProto& t);

}  // namespace seedchip::frontends
