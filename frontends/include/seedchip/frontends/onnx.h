// seedchip — ONNX frontend: loads an ONNX model file (or a serialized
// TensorProto) into the compiler's graph IR. Models are checked with the ONNX
// checker, symbolic dimensions are bound from the command line, and ONNX shape
// inference makes every value statically shaped before conversion.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "seedchip/numerics/input.h"
#include "seedchip/ir/graph.h"

namespace seedchip::frontends {

/// How to import a model.
struct ImportOptions {
  /// Values of symbolic dimensions (`--dim NAME=VALUE`); each must be positive.
  /// Names that do not occur in the model are ignored.
  std::map<std::string, int64_t> dims;
  /// Newest opset of the default ONNX domain ("" / "ai.onnx") accepted.
  int max_opset = 17;
  /// false: floating-point and 8-bit initializers whose raw_data holds at
  /// least `skip_from` bytes keep their type and shape (and the size check)
  /// but hold zeros, and their bytes are never read (timing-only runs:
  /// cycles do not depend on weight values). Smaller ones (shapes, scalars)
  /// and wider integers keep them. Either way such bytes are read straight
  /// from the file, not through the protobuf parser.
  bool weight_values = true;
  uint64_t skip_from = uint64_t{64} << 10;
};

/// Raised for models the importer cannot load; the message is one line that
/// names the file, the node/input/initializer involved and the reason.
class ImportError : public InputError {
 public:
  using InputError::InputError;
};

/// Loads the ONNX model file at `path` into the IR: parses the protobuf, runs
/// the ONNX checker plus strict shape inference, binds `opt.dims` to the
/// symbolic dimensions of the graph inputs and converts to ir::Graph.
/// Initializers become constant values (also when they are listed as graph
/// inputs); every value has a known element type and a static shape. Node
/// names come from the model, or "<op>_<index>" when empty, made unique. An
/// omitted optional input is -1; an omitted optional output between present
/// ones becomes a value named "<node>.unused<k>"; trailing ones are dropped.
/// A node's domain "ai.onnx" is stored as "". Throws ImportError.
ir::Graph import_onnx(const std::string& path, const ImportOptions& opt);

/// Like import_onnx for a serialized ModelProto held in `bytes`; `source`
/// names it in error messages (usually the file name).
ir::Graph import_onnx_bytes(const std::string& bytes, const std::string& source, const ImportOptions& opt);

/// Reads a serialized onnx.TensorProto file (the ONNX backend tests'
/// input_N.pb / output_N.pb) into a HostTensor; stores the tensor's name in
/// `*name` when `name` is not null. Throws ImportError.
ir::HostTensor read_tensor_pb(const std::string& path, std::string* name = nullptr);

}  // namespace seedchip::frontends
