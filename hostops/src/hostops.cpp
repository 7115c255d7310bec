// seedchip — hostops: dispatch, evaluation context and shared helpers.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops {

namespace detail {

Ctx::Ctx(const ir::Node& n, const std::vector<const HostTensor*>& in)
    : node(n), inputs_(in), opset_(n.opset > 0 ? n.opset : kMaxOpset) {}

const HostTensor& Ctx::in(size_t i) const {
  if (const HostTensor* t = opt(i)) return *t;
  fail(fmt::format("required input {} is missing", i));
}

void Ctx::fail(std::string_view reason) const {
  throw EvalError(fmt::format("node '{}' ({}): {}", node.name, node.op, reason));
}

void Ctx::unsupported(std::string_view reason) const {
  throw Unsupported(fmt::format("node '{}' ({}): {}", node.name, node.op, reason));
}

int64_t Ctx::axis(int64_t a, int64_t rank) const {
  if (a < -rank || a >= rank) fail(fmt::format("axis {} out of range for rank {}", a, rank));
  return a < 0 ? a + rank : a;
}

std::vector<int64_t> Ctx::axes(const std::vector<int64_t>& a, int64_t rank) const {
  std::vector<int64_t> r;
  for (int64_t x : a) {
    const int64_t n = axis(x, rank);
    if (std::find(r.begin(), r.end(), n) != r.end()) fail(fmt::format("axis {} repeated", x));
    r.push_back(n);
  }
  return r;
}

HostTensor Ctx::make(ElemType t, const Shape& s) const {
  // Shapes come from data (Reshape, ConstantOfShape, Tile, ...): refuse what
  // cannot be allocated instead of overflowing or exhausting memory.
  constexpr int64_t kMaxBytes = int64_t{1} << 32;
  if (!shape_ok(s)) fail(fmt::format("result shape {} is invalid or too large", shape_str(s)));
  if (numel(s) > kMaxBytes / static_cast<int64_t>(esize(t))) fail(fmt::format("result shape {} is too large", shape_str(s)));
  return HostTensor(t, s);
}

std::vector<int64_t> Ctx::ints(const HostTensor& t) const {
  if (is_float(t.type)) fail(fmt::format("expected an integer tensor, got {}", ir::elem_name(t.type)));
  std::vector<int64_t> v(static_cast<size_t>(t.elements()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = ld_i(t, static_cast<int64_t>(i));
  return v;
}

int64_t Ctx::scalar_int(const HostTensor& t, std::string_view what) const {
  if (t.elements() != 1) fail(fmt::format("{} must have one element, has shape {}", what, shape_str(t.shape)));
  return ld_i(t, 0);
}

double Ctx::scalar_f(const HostTensor& t, std::string_view what) const {
  if (t.elements() != 1) fail(fmt::format("{} must have one element, has shape {}", what, shape_str(t.shape)));
  return ld_f(t, 0);
}

void Ctx::same_type(const HostTensor& a, const HostTensor& b) const {
  if (a.type != b.type)
    fail(fmt::format("input types differ ({} vs {})", ir::elem_name(a.type), ir::elem_name(b.type)));
}

int64_t ld_i(const HostTensor& t, int64_t i) {
  const uint8_t* p = t.data.data() + i * ir::elem_size(t.type);
  switch (t.type) {
    case ElemType::i8: return rd<int8_t>(p);
    case ElemType::u8: return rd<uint8_t>(p);
    case ElemType::i16: return rd<int16_t>(p);
    case ElemType::u16: return rd<uint16_t>(p);
    case ElemType::i32: return rd<int32_t>(p);
    case ElemType::u32: return rd<uint32_t>(p);
    case ElemType::i64: return rd<int64_t>(p);
    case ElemType::u64: return static_cast<int64_t>(rd<uint64_t>(p));
    case ElemType::boolean: return *p != 0;
    default: return t.get_int(i);
  }
}

void st_i(HostTensor& t, int64_t i, int64_t v) {
  uint8_t* p = t.data.data() + i * ir::elem_size(t.type);
  // Narrowing integer conversions are modular in C++20, i.e. numpy's wrap.
  switch (t.type) {
    case ElemType::i8: wr(p, static_cast<int8_t>(v)); return;
    case ElemType::u8: wr(p, static_cast<uint8_t>(v)); return;
    case ElemType::i16: wr(p, static_cast<int16_t>(v)); return;
    case ElemType::u16: wr(p, static_cast<uint16_t>(v)); return;
    case ElemType::i32: wr(p, static_cast<int32_t>(v)); return;
    case ElemType::u32: wr(p, static_cast<uint32_t>(v)); return;
    case ElemType::i64: wr(p, v); return;
    case ElemType::u64: wr(p, static_cast<uint64_t>(v)); return;
    case ElemType::boolean: *p = v != 0; return;
    case ElemType::f32: t.set(i, static_cast<double>(static_cast<float>(v))); return;  // one rounding
    default: t.set(i, static_cast<double>(v)); return;
  }
}

int64_t int_min(ElemType t) {
  switch (t) {
    case ElemType::i8: return INT8_MIN;
    case ElemType::i16: return INT16_MIN;
    case ElemType::i32: return INT32_MIN;
    case ElemType::i64: return INT64_MIN;
    default: return 0;
  }
}

int64_t int_max(ElemType t) {
  switch (t) {
    case ElemType::i8: return INT8_MAX;
    case ElemType::u8: return UINT8_MAX;
    case ElemType::i16: return INT16_MAX;
    case ElemType::u16: return UINT16_MAX;
    case ElemType::i32: return INT32_MAX;
    case ElemType::u32: return UINT32_MAX;
    case ElemType::i64: return INT64_MAX;
    case ElemType::u64: return -1;  // all ones
    case ElemType::boolean: return 1;
    default: return 0;
  }
}

std::optional<ElemType> from_onnx_type(int64_t code) {
  switch (code) {
    case 1: return ElemType::f32;
    case 2: return ElemType::u8;
    case 3: return ElemType::i8;
    case 4: return ElemType::u16;
    case 5: return ElemType::i16;
    case 6: return ElemType::i32;
    case 7: return ElemType::i64;
    case 9: return ElemType::boolean;
    case 10: return ElemType::f16;
    case 11: return ElemType::f64;
    case 12: return ElemType::u32;
    case 13: return ElemType::u64;
    case 16: return ElemType::bf16;
    case 17: return ElemType::f8e4m3;
    case 19: return ElemType::f8e5m2;
    default: return std::nullopt;  // string, complex, fnuz float8
  }
}

bool shape_ok(const Shape& s) {
  // Every partial product (outer/inner sizes) must fit even when a 0 dim
  // makes the total 0, so multiply the nonzero dims.
  int64_t n = 1;
  for (int64_t d : s)
    if (d < 0 || __builtin_mul_overflow(n, std::max<int64_t>(d, 1), &n)) return false;
  return true;
}

int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

int64_t prod(const Shape& s, size_t b, size_t e) {
  int64_t n = 1;
  for (size_t i = b; i < e; ++i) n *= s[i];
  return n;
}

Shape strides_of(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (size_t d = s.size(); d-- > 0;) {
    st[d] = acc;
    acc *= s[d];
  }
  return st;
}

Shape broadcast(const Ctx& c, const std::vector<Shape>& shapes) {
  size_t r = 0;
  for (const auto& s : shapes) r = std::max(r, s.size());
  Shape out(r, 1);
  for (const auto& s : shapes) {
    for (size_t i = 0; i < s.size(); ++i) {
      int64_t& o = out[r - s.size() + i];
      const int64_t d = s[i];
      if (d == o || d == 1) continue;
      if (o == 1) {
        o = d;
        continue;
      }
      std::string all;
      for (const auto& x : shapes) all += (all.empty() ? "" : " and ") + shape_str(x);
      c.fail(fmt::format("shapes {} do not broadcast", all));
    }
  }
  return out;
}

Shape bcast_strides(const Shape& in, const Shape& out) {
  const Shape st = strides_of(in);
  Shape r(out.size(), 0);
  const size_t lead = out.size() - in.size();
  for (size_t i = 0; i < in.size(); ++i) r[lead + i] = in[i] == 1 ? 0 : st[i];
  return r;
}

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}

namespace {

const Registry& registry() {
  static const Registry r = [] {
    Registry x;
    register_plumbing(x);
    register_elementwise(x);
    register_reduce(x);
    register_dynamic(x);
    register_nn(x);
    return x;
  }();
  return r;
}

const OpInfo* lookup(const ir::Node& node) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return nullptr;
  const auto& r = registry();
  auto it = r.find(node.op);
  if (it == r.end()) return nullptr;
  const int opset = node.opset > 0 ? node.opset : kMaxOpset;
  if (opset < it->second.min_opset || opset > it->second.max_opset) return nullptr;
  return &it->second;
}

}  // namespace
}  // namespace detail

bool supported(const ir::Node& node) { return detail::lookup(node) != nullptr; }

std::vector<std::string> supported_ops() {
  std::vector<std::string> r;
  for (const auto& [name, info] : detail::registry()) r.push_back(name);
  return r;
}

std::vector<ir::HostTensor> eval(const ir::Node& node, const std::vector<const ir::HostTensor*>& inputs) {
  const detail::OpInfo* info = detail::lookup(node);
  const detail::Ctx c(node, inputs);
  if (!info) {
    if (!node.domain.empty() && node.domain != "ai.onnx") c.unsupported(fmt::format("domain '{}' is not supported", node.domain));
    c.unsupported(fmt::format("not implemented for opset {}", c.opset()));
  }
  // Malformed tensors would make every op read out of bounds: check once here.
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ir::HostTensor* t = inputs[i];
    if (!t) continue;
    if (!detail::shape_ok(t->shape)) c.fail(fmt::format("input {} has invalid shape {}", i, detail::shape_str(t->shape)));
    const int64_t n = detail::numel(t->shape);
    if (static_cast<uint64_t>(n) * detail::esize(t->type) != t->data.size())
      c.fail(fmt::format("input {} holds {} bytes, shape {} of {} needs {}", i, t->data.size(), detail::shape_str(t->shape),
                         ir::elem_name(t->type), static_cast<uint64_t>(n) * detail::esize(t->type)));
  }
  std::vector<ir::HostTensor> out;
  try {
    out = info->fn(c);
  } catch (const ir::IrError& e) {
    throw EvalError(e.what());  // an attribute of the wrong kind; the message names node and op
  }
  if (!node.outputs.empty()) {
    if (out.size() < node.outputs.size()) c.fail(fmt::format("declares {} outputs, the op has {}", node.outputs.size(), out.size()));
    out.resize(node.outputs.size());
  }
  return out;
}

std::vector<std::shared_ptr<const ir::HostTensor>> eval_graph(const ir::Graph& g, const std::vector<ir::HostTensor>& inputs) {
  if (inputs.size() != g.inputs.size())
    throw EvalError(fmt::format("graph '{}': {} inputs given, it has {}", g.name, inputs.size(), g.inputs.size()));
  std::vector<std::shared_ptr<const ir::HostTensor>> val(g.values.size());
  for (size_t i = 0; i < g.values.size(); ++i) val[i] = g.values[i].data;
  for (size_t i = 0; i < g.inputs.size(); ++i) val[static_cast<size_t>(g.inputs[i])] = std::make_shared<const ir::HostTensor>(inputs[i]);
  for (const auto& n : g.nodes) {
    std::vector<const ir::HostTensor*> in;
    for (int v : n.inputs) in.push_back(v >= 0 ? val[static_cast<size_t>(v)].get() : nullptr);
    auto out = eval(n, in);
    for (size_t k = 0; k < n.outputs.size() && k < out.size(); ++k)
      if (n.outputs[k] >= 0) val[static_cast<size_t>(n.outputs[k])] = std::make_shared<const ir::HostTensor>(std::move(out[k]));
  }
  return val;
}

}  // namespace seedchip::hostops
