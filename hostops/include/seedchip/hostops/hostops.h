// seedchip — reference evaluator of ONNX operators on host tensors. The
// compiler uses it to fold constant subgraphs (shape arithmetic, weight
// transposes, initializer-only math) and to run the data-dependent ops the
// chip cannot (NonZero, TopK, Unique, ...) on the host at run time.
//
// Semantics follow the ONNX operator specification for opsets 1-18, chosen by
// Node::opset (0 means the newest). Integers are computed exactly in int64 and
// wrap to the element width like numpy; floats are computed in double and
// rounded once when stored to the output type.
#pragma once

#include <stdexcept>
#include <memory>
#include <string>
#include <vector>

#include "seedchip/ir/graph.h"
#include "seedchip/numerics/input.h"

namespace seedchip::hostops {

/// Raised when an op (or an attribute/dtype combination) is not implemented; message names node and op.
/// Messages are one line (one_line): node names may hold any text.
class Unsupported : public std::runtime_error {
 public:
  explicit Unsupported(const std::string& what) : std::runtime_error(one_line(what)) {}
};

/// Raised for invalid inputs (bad shapes, out-of-range indices): message names node, op and reason (one line).
class EvalError : public std::runtime_error {
 public:
  explicit EvalError(const std::string& what) : std::runtime_error(one_line(what)) {}
};

/// True if eval() implements node.op (for node.opset, in the default ONNX domain).
bool supported(const ir::Node& node);

/// Evaluates `node` on host tensors. inputs[i] is nullptr for an omitted
/// optional input (a shorter vector omits the trailing ones). Returns one
/// tensor per node output (all of the op's outputs when node.outputs is
/// empty); omitted optional outputs are computed anyway. Output shapes and
/// types follow the ONNX spec exactly. Attributes naming an element type
/// (Cast `to`, EyeLike `dtype`) hold ONNX TensorProto codes, or an
/// ir::elem_name string.
std::vector<ir::HostTensor> eval(const ir::Node& node, const std::vector<const ir::HostTensor*>& inputs);

/// Evaluates a whole graph node by node with eval(): `inputs` bind
/// g.inputs in order. Returns every value of the graph (constants, inputs and
/// node outputs; null for values nothing computes). Throws EvalError for an
/// input count that does not match, and eval()'s errors for a node.
std::vector<std::shared_ptr<const ir::HostTensor>> eval_graph(const ir::Graph& g, const std::vector<ir::HostTensor>& inputs);

/// The op types eval() knows, sorted (whatever the opset).
std::vector<std::string> supported_ops();

}  // namespace seedchip::hostops
