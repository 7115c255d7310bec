// seedchip — the compiler's graph IR: typed, statically shaped tensors and
// ONNX-style operator nodes, with host-side constant data. Every compiler
// stage takes a Graph and returns a Graph; print()/parse() give the textual
// form used by `--dump-ir` and by the per-pass tests.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "seedchip/numerics/input.h"

namespace seedchip::ir {

/// Element types a model may use. Wider than the chip's DType: int64, bool
/// and double appear in real models and are mapped to chip types when lowered.
enum class ElemType : uint8_t { f32, f64, f16, bf16, f8e4m3, f8e5m2, i8, u8, i16, u16, i32, u32, i64, u64, boolean };

/// Short name used in the IR text: f32 f64 f16 bf16 f8e4m3 f8e5m2 i8 u8 i16 u16 i32 u32 i64 u64 bool.
std::string_view elem_name(ElemType t);
/// Parses an elem_name; nullopt if unknown.
std::optional<ElemType> parse_elem(std::string_view s);
/// Bytes per element on the host.
int elem_size(ElemType t);
/// True for f32 f64 f16 bf16 f8e4m3 f8e5m2.
bool elem_is_float(ElemType t);

/// Zero-filled memory for tensor bytes: blocks of 1 MiB and more are mapped
/// straight from the kernel, so bytes that are never written cost no page
/// faults (a timing-only import leaves its weights so, docs/speed.md).
void* zeroed_alloc(size_t bytes);
void zeroed_free(void* p, size_t bytes) noexcept;

/// std::allocator that hands out zero-filled memory and leaves default-
/// constructed elements as they are (zero), instead of writing zeros again.
/// Caveat: growing a vector within capacity it once used (shrink, then
/// resize up) keeps the old bytes; give resize() a value in that case.
template <class T>
struct ZeroedAllocator {
  using value_type = T;
  ZeroedAllocator() = default;
  template <class U>
  ZeroedAllocator(const ZeroedAllocator<U>&) noexcept {}
  T* allocate(size_t n) { return static_cast<T*>(zeroed_alloc(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { zeroed_free(p, n * sizeof(T)); }
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
  friend bool operator==(const ZeroedAllocator&, const ZeroedAllocator&) { return true; }
};

/// Bytes of a host tensor.
using Bytes = std::vector<uint8_t, ZeroedAllocator<uint8_t>>;

/// `n` zero bytes in a plain vector with room for `capacity` (at least n);
/// large ones are advised onto 2 MiB pages before anything is written (first
/// touches fault 512x less often). zeroed_bytes(0, c) is an empty vector to
/// fill by insert() without writing zeros first.
std::vector<uint8_t> zeroed_bytes(size_t n, size_t capacity = 0);

/// A dense row-major tensor held on the host (constants, host ops, I/O).
struct HostTensor {
  ElemType type = ElemType::f32;
  std::vector<int64_t> shape;
  Bytes data;  ///< elements() * elem_size(type) bytes, little-endian

  HostTensor() = default;
  /// A zero-filled tensor of the given type and shape.
  HostTensor(ElemType t, std::vector<int64_t> s);
  /// Number of elements.
  int64_t elements() const;
  /// Element i converted to double (bool -> 0/1).
  double get(int64_t i) const;
  /// Element i as int64 (floats truncate toward zero).
  int64_t get_int(int64_t i) const;
  /// Stores v into element i with the type's conversion (floats round to nearest even, ints truncate+wrap like C casts of in-range values).
  void set(int64_t i, double v);
  /// Stores an integer exactly (for i64/u64 beyond double's precision).
  void set_int(int64_t i, int64_t v);
  bool operator==(const HostTensor&) const = default;
};

/// A node attribute. Lists keep their order; tensors are Constant values.
using Attr = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>,
                          std::vector<std::string>, HostTensor>;

/// One value (SSA tensor) of the graph.
struct Value {
  std::string name;
  ElemType type = ElemType::f32;
  std::vector<int64_t> shape;                ///< static; rank 0 = scalar
  std::shared_ptr<const HostTensor> data;    ///< set for constants (initializers, folded values)

  /// Number of elements.
  int64_t elements() const;
  /// True when the value is a compile-time constant.
  bool is_const() const { return data != nullptr; }
};

/// An operator application. `inputs`/`outputs` index Graph::values; -1 marks
/// an omitted optional input.
struct Node {
  std::string name;  ///< node name from the model (unique; generated if absent)
  std::string op;    ///< ONNX op type, or a seedchip fused op ("FusedMatMul", ...)
  std::string domain;
  int opset = 0;     ///< opset version of the node's domain
  std::vector<int> inputs, outputs;
  std::map<std::string, Attr> attrs;

  /// Integer attribute `k`, or `def` when absent.
  int64_t attr_int(const std::string& k, int64_t def) const;
  /// Float attribute `k`, or `def` when absent.
  double attr_float(const std::string& k, double def) const;
  /// String attribute `k`, or `def` when absent.
  std::string attr_str(const std::string& k, const std::string& def) const;
  /// Integer-list attribute `k`, or `def` when absent.
  std::vector<int64_t> attr_ints(const std::string& k, const std::vector<int64_t>& def) const;
  /// Float-list attribute `k`, or `def` when absent.
  std::vector<double> attr_floats(const std::string& k, const std::vector<double>& def) const;
  /// True when attribute `k` is present.
  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
};

/// A whole model graph in topological order.
struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<int> inputs;   ///< runtime inputs (not constants)
  std::vector<int> outputs;

  /// Adds a value and returns its index.
  int add_value(Value v);
  /// Index of the value called `name`, or -1.
  int find_value(std::string_view name) const;
  /// Removes values no node, input or output refers to, and renumbers.
  void compact();
  /// Checks structural invariants (indices valid, single definition, topological order); throws IrError.
  void verify() const;
};

/// Raised for malformed IR (text parse errors name the line).
class IrError : public InputError {
 public:
  using InputError::InputError;
};

/// Prints the graph in the IR text form (deterministic; constants larger than
/// `max_inline` elements are printed as a digest unless `full` is set).
std::string print(const Graph& g, bool full = false);
/// Parses the IR text form (constants must be printed in full).
Graph parse(const std::string& text, const std::string& source);

}  // namespace seedchip::ir
