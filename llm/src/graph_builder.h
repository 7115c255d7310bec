// seedchip — internal: appends values and nodes to an ir::Graph, each node
// with a fresh output value (the decoder builder's plumbing).
#pragma once

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "seedchip/ir/graph.h"

namespace seedchip::llm::detail {

class GraphBuilder {
 public:
  using Shape = std::vector<int64_t>;
  explicit GraphBuilder(std::string name) { g.name = std::move(name); }

  int input(const std::string& name, ir::ElemType t, Shape s) {
    const int v = g.add_value({name, t, std::move(s), nullptr});
    g.inputs.push_back(v);
    return v;
  }
  int constant(const std::string& name, ir::HostTensor t) {
    const ir::ElemType type = t.type;
    Shape s = t.shape;
    return g.add_value({name, type, std::move(s), std::make_shared<const ir::HostTensor>(std::move(t))});
  }
  // A constant that refers to weights owned by the caller (ModelWeights),
  // shared by every graph built from them: aliasing avoids a copy per step.
  int weight(const std::string& name, const ir::HostTensor& t) {
    auto it = shared_.find(&t);
    if (it != shared_.end()) return it->second;
    const int v = g.add_value({name, t.type, t.shape, std::shared_ptr<const ir::HostTensor>(std::shared_ptr<void>(), &t)});
    shared_[&t] = v;
    return v;
  }
  int ints(const Shape& v) {
    ir::HostTensor t(ir::ElemType::i64, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.set_int(static_cast<int64_t>(i), v[i]);
    return constant(fmt::format("c{}", counter_++), std::move(t));
  }
  int scalar(ir::ElemType type, double x) {
    ir::HostTensor t(type, {});
    t.set(0, x);
    return constant(fmt::format("c{}", counter_++), std::move(t));
  }
  std::vector<int> node_n(const std::string& op, std::vector<int> in, const std::vector<std::pair<ir::ElemType, Shape>>& outs,
                          std::map<std::string, ir::Attr> attrs = {}, int opset = 13, const std::string& domain = "") {
    ir::Node n;
    n.name = fmt::format("{}_{}", op, counter_++);
    n.op = op;
    n.domain = domain;
    n.opset = opset;
    n.inputs = std::move(in);
    n.attrs = std::move(attrs);
    for (const auto& [t, s] : outs) n.outputs.push_back(g.add_value({n.name + fmt::format(":{}", n.outputs.size()), t, s, nullptr}));
    g.nodes.push_back(std::move(n));
    return g.nodes.back().outputs;
  }
  int node(const std::string& op, std::vector<int> in, ir::ElemType t, Shape s, std::map<std::string, ir::Attr> attrs = {},
           int opset = 13) {
    return node_n(op, std::move(in), {{t, std::move(s)}}, std::move(attrs), opset)[0];
  }
  // A seedchip-domain fused op (FlashAttention, SwiGLU, Gelu, MatMulInt4).
  int fused(const std::string& op, std::vector<int> in, ir::ElemType t, Shape s, std::map<std::string, ir::Attr> attrs = {}) {
    return node_n(op, std::move(in), {{t, std::move(s)}}, std::move(attrs), 1, "seedchip")[0];
  }
  const Shape& shape(int v) const { return g.values[static_cast<size_t>(v)].shape; }
  ir::ElemType type(int v) const { return g.values[static_cast<size_t>(v)].type; }

  // Elementwise op with the left operand's type and the broadcast shape.
  int ew(const std::string& op, int a, int b) {
    const Shape &sa = shape(a), &sb = shape(b);
    Shape s(std::max(sa.size(), sb.size()), 1);
    for (size_t i = 0; i < s.size(); ++i) {
      const int64_t da = i + sa.size() >= s.size() ? sa[i + sa.size() - s.size()] : 1;
      const int64_t db = i + sb.size() >= s.size() ? sb[i + sb.size() - s.size()] : 1;
      s[i] = std::max(da, db);
    }
    return node(op, {a, b}, type(a), s);
  }
  int unary(const std::string& op, int a) { return node(op, {a}, type(a), shape(a)); }
  int cast(int a, ir::ElemType t) {
    if (type(a) == t) return a;
    return node("Cast", {a}, t, shape(a), {{"to", onnx_type(t)}});
  }
  int reshape(int a, Shape s) { return node("Reshape", {a, ints(s)}, type(a), s, {}, 14); }
  int transpose(int a, const Shape& perm) {
    Shape s;
    for (auto p : perm) s.push_back(shape(a)[static_cast<size_t>(p)]);
    return node("Transpose", {a}, type(a), s, {{"perm", perm}});
  }
  // MatMul whose result is `out` (the left operand's type by default).
  int matmul(int a, int b, ir::ElemType out) {
    Shape s = shape(a);
    s.back() = shape(b).back();
    return node("MatMul", {a, b}, out, s);
  }
  int matmul(int a, int b) { return matmul(a, b, type(a)); }

  // ONNX TensorProto data type number of an element type.
  static int64_t onnx_type(ir::ElemType t) {
    switch (t) {
      case ir::ElemType::f32: return 1;
      case ir::ElemType::u8: return 2;
      case ir::ElemType::i8: return 3;
      case ir::ElemType::u16: return 4;
      case ir::ElemType::i16: return 5;
      case ir::ElemType::i32: return 6;
      case ir::ElemType::i64: return 7;
      case ir::ElemType::boolean: return 9;
      case ir::ElemType::f16: return 10;
      case ir::ElemType::f64: return 11;
      case ir::ElemType::u32: return 12;
      case ir::ElemType::u64: return 13;
      case ir::ElemType::bf16: return 16;
      case ir::ElemType::f8e4m3: return 17;
      case ir::ElemType::f8e5m2: return 19;
    }
    return 0;
  }

  ir::Graph g;

 private:
  int counter_ = 0;
  std::map<const ir::HostTensor*, int> shared_;
};

}  // namespace seedchip::llm::detail
