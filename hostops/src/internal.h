// seedchip — hostops internals: the evaluation context, element access,
// index walking and broadcasting shared by the op implementations.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "seedchip/hostops/hostops.h"
#include "seedchip/ir/raw.h"

namespace seedchip::hostops::detail {

using ir::ElemType;
using ir::HostTensor;
using Shape = std::vector<int64_t>;
using Tensors = std::vector<HostTensor>;

/// Newest opset whose semantics are implemented; Node::opset 0 maps to it.
inline constexpr int kMaxOpset = 18;

/// One node evaluation: the node, its inputs and error helpers.
class Ctx {
 public:
  /// Binds a node to its inputs.
  Ctx(const ir::Node& n, const std::vector<const HostTensor*>& in);
  /// The node being evaluated.
  const ir::Node& node;
  /// The node's opset (0 means kMaxOpset).
  int opset() const { return opset_; }
  /// Number of input slots given (omitted ones included).
  size_t num_inputs() const { return inputs_.size(); }
  /// Input i, or nullptr when absent.
  const HostTensor* opt(size_t i) const { return i < inputs_.size() ? inputs_[i] : nullptr; }
  /// Input i; EvalError when absent.
  const HostTensor& in(size_t i) const;
  /// Number of outputs the node declares, or `def` when it declares none.
  size_t n_outputs(size_t def) const { return node.outputs.empty() ? def : node.outputs.size(); }
  /// Throws EvalError naming the node and op.
  [[noreturn]] void fail(std::string_view reason) const;
  /// Throws Unsupported naming the node and op.
  [[noreturn]] void unsupported(std::string_view reason) const;
  /// Normalizes a possibly negative axis into [0, rank); EvalError if out of range.
  int64_t axis(int64_t a, int64_t rank) const;
  /// Normalizes a list of axes; EvalError on duplicates or out of range.
  std::vector<int64_t> axes(const std::vector<int64_t>& a, int64_t rank) const;
  /// A zero-filled tensor; EvalError for negative or absurdly large shapes.
  HostTensor make(ElemType t, const Shape& s) const;
  /// Integer values of tensor `t` (an index or shape operand) read exactly.
  std::vector<int64_t> ints(const HostTensor& t) const;
  /// The single value of a scalar or one-element integer tensor.
  int64_t scalar_int(const HostTensor& t, std::string_view what) const;
  /// The single value of a scalar or one-element tensor as double.
  double scalar_f(const HostTensor& t, std::string_view what) const;
  /// Fails unless the tensor types are equal.
  void same_type(const HostTensor& a, const HostTensor& b) const;

 private:
  const std::vector<const HostTensor*>& inputs_;
  int opset_;
};

/// An op implementation.
using OpFn = Tensors (*)(const Ctx&);
/// A registered op: implementation and the opsets it covers.
struct OpInfo {
  OpFn fn = nullptr;
  int min_opset = 1;
  int max_opset = kMaxOpset;
};
/// Op type -> implementation.
using Registry = std::map<std::string, OpInfo, std::less<>>;

/// Adds constants, casts and data-movement ops (plumbing.cpp).
void register_plumbing(Registry& r);
/// Adds elementwise unary/binary/variadic/logical ops (elementwise.cpp).
void register_elementwise(Registry& r);
/// Adds reductions, scans, the softmax family, MatMul and Gemm (reduce.cpp).
void register_reduce(Registry& r);
/// Adds the data-dependent host fallback ops (dynamic.cpp).
void register_dynamic(Registry& r);
/// Adds quantization and normalization ops (nn.cpp).
void register_nn(Registry& r);

/// numpy.matmul of a and b (same element type) into out_type, exact for integers.
HostTensor matmul(const Ctx& c, const HostTensor& a, const HostTensor& b, ElemType out_type);

// ---- element access ---------------------------------------------------------

/// True for floating point element types.
inline bool is_float(ElemType t) { return ir::elem_is_float(t); }
/// Bytes per element.
inline size_t esize(ElemType t) { return static_cast<size_t>(ir::elem_size(t)); }

using ir::raw::rd;  // unaligned HostTensor reads and writes (seedchip/ir/raw.h)
using ir::raw::wr;

/// Element i as an exact integer (u64 as its bit pattern, floats truncated, bool 0/1).
int64_t ld_i(const HostTensor& t, int64_t i);
/// Stores integer v into element i, wrapping to the element width (bool: v != 0).
void st_i(HostTensor& t, int64_t i, int64_t v);
/// Element i as double (u64 read as unsigned).
inline double ld_f(const HostTensor& t, int64_t i) { return t.get(i); }
/// Stores v into element i, rounding to the element type.
inline void st_f(HostTensor& t, int64_t i, double v) { t.set(i, v); }
/// Copies one element between tensors of the same type.
inline void copy_elem(HostTensor& d, int64_t di, const HostTensor& s, int64_t si) {
  const size_t es = esize(s.type);
  std::memcpy(d.data.data() + di * es, s.data.data() + si * es, es);
}
/// Smallest value of an integer type (0 for unsigned and bool).
int64_t int_min(ElemType t);
/// Largest value of an integer type, as int64 (u64: the all-ones pattern).
int64_t int_max(ElemType t);
/// Maps an ONNX TensorProto data type code to an element type.
std::optional<ElemType> from_onnx_type(int64_t code);

// ---- integer arithmetic without signed overflow -----------------------------

/// a + b wrapping modulo 2^64.
inline int64_t wadd(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b)); }
/// a - b wrapping modulo 2^64.
inline int64_t wsub(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b)); }
/// a * b wrapping modulo 2^64.
inline int64_t wmul(int64_t a, int64_t b) { return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b)); }
/// -a wrapping modulo 2^64.
inline int64_t wneg(int64_t a) { return static_cast<int64_t>(0 - static_cast<uint64_t>(a)); }
/// Three-way compare of two ints, unsigned when `u` (u64 data).
inline int icmp(int64_t a, int64_t b, bool u) {
  if (u) {
    const auto x = static_cast<uint64_t>(a), y = static_cast<uint64_t>(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- shapes and index walking -----------------------------------------------

/// True when all dims are >= 0 and the product of the nonzero ones fits in int64.
bool shape_ok(const Shape& s);
/// Product of dims.
int64_t numel(const Shape& s);
/// Row-major strides.
Shape strides_of(const Shape& s);
/// Numpy multidirectional broadcast of shapes; fails via ctx.
Shape broadcast(const Ctx& c, const std::vector<Shape>& shapes);
/// Strides of a tensor shaped `in` when read broadcast to `out` (0 on broadcast dims).
Shape bcast_strides(const Shape& in, const Shape& out);
/// Product of dims [b, e) (fits: shapes are checked with shape_ok).
int64_t prod(const Shape& s, size_t b, size_t e);

/// Calls f(flat, idx, offs) for every index of `shape` in row-major order,
/// keeping offs[j] = sum(idx[d] * strides[j][d]).
template <class F>
void walk(const Shape& shape, const std::vector<const Shape*>& strides, F&& f) {
  const int64_t n = numel(shape);
  if (n <= 0) return;
  const size_t r = shape.size(), k = strides.size();
  Shape idx(r, 0);
  std::vector<int64_t> off(k, 0);
  for (int64_t i = 0; i < n; ++i) {
    f(i, idx.data(), off.data());
    for (size_t d = r; d-- > 0;) {
      if (++idx[d] < shape[d]) {
        for (size_t j = 0; j < k; ++j) off[j] += (*strides[j])[d];
        break;
      }
      for (size_t j = 0; j < k; ++j) off[j] -= (*strides[j])[d] * (shape[d] - 1);
      idx[d] = 0;
    }
  }
}

/// Shape as "[2,3]" for messages.
std::string shape_str(const Shape& s);

}  // namespace seedchip::hostops::detail
