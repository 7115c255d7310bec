// seedchip — ONNX frontend: compile-time evaluation of shape arithmetic.
#include "shape_data.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "schema_guards.h"
#include "seedchip/frontends/onnx_detail.h"

namespace seedchip::frontends::detail {

namespace {

using onnx::TensorProto;

/// Shape data is small; larger integer tensors are not worth evaluating.
constexpr int64_t kMaxElems = 4096;

/// A small integer (or bool) tensor known at compile time.
struct IntTensor {
  int32_t type = TensorProto::INT64;  ///< ONNX data type (an integer type or BOOL)
  std::vector<int64_t> shape;
  std::vector<int64_t> v;
};

using Known = std::unordered_map<std::string, IntTensor>;
using Types = std::unordered_map<std::string, const onnx::TypeProto*>;

bool is_int_type(int32_t t) {
  switch (t) {
    case TensorProto::INT8: case TensorProto::INT16: case TensorProto::INT32: case TensorProto::INT64:
    case TensorProto::UINT8: case TensorProto::UINT16: case TensorProto::UINT32: case TensorProto::UINT64:
    case TensorProto::BOOL: return true;
    default: return false;
  }
}

std::optional<IntTensor> from_proto(const TensorProto& t) {
  if (!is_int_type(t.data_type()) || t.data_location() == TensorProto::EXTERNAL) return std::nullopt;
  int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0 || d > kMaxElems) return std::nullopt;
    n *= d;
    if (n > kMaxElems) return std::nullopt;
  }
  try {
    const auto h = tensor_from_proto(t, t.name());
    IntTensor r{t.data_type(), h.shape, {}};
    for (int64_t i = 0; i < n; ++i) r.v.push_back(h.get_int(i));
    return r;
  } catch (const std::exception&) {
    return std::nullopt;  // malformed data: leave it to the real conversion to report
  }
}

TensorProto to_proto(const IntTensor& t, const std::string& name) {
  TensorProto p;
  p.set_name(name);
  p.set_data_type(t.type);
  for (auto d : t.shape) p.add_dims(d);
  for (auto x : t.v) {
    if (t.type == TensorProto::INT64) p.add_int64_data(x);
    else if (t.type == TensorProto::UINT32 || t.type == TensorProto::UINT64)
      p.add_uint64_data(static_cast<uint64_t>(x));
    else p.add_int32_data(static_cast<int32_t>(x));
  }
  return p;
}

/// `v` converted to integer type `t` the way a C cast would (Cast wraps).
int64_t wrap(int64_t v, int32_t t) {
  switch (t) {
    case TensorProto::INT8: return static_cast<int8_t>(v);
    case TensorProto::UINT8: return static_cast<uint8_t>(v);
    case TensorProto::INT16: return static_cast<int16_t>(v);
    case TensorProto::UINT16: return static_cast<uint16_t>(v);
    case TensorProto::INT32: return static_cast<int32_t>(v);
    case TensorProto::UINT32: return static_cast<uint32_t>(v);
    case TensorProto::BOOL: return v != 0;
    default: return v;
  }
}

/// Element count of shape `s`; nullopt if negative dims or above kMaxElems.
std::optional<int64_t> count(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (auto d : s) {
    if (d < 0 || (d > 0 && n > kMaxElems / d)) return std::nullopt;
    n *= d;
  }
  if (n > kMaxElems) return std::nullopt;
  return n;
}

// Checked arithmetic: hostile shape data must not overflow (UB).
std::optional<int64_t> add(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_add_overflow(a, b, &r) ? std::nullopt : std::optional<int64_t>(r);
}
std::optional<int64_t> sub(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_sub_overflow(a, b, &r) ? std::nullopt : std::optional<int64_t>(r);
}
std::optional<int64_t> mul(int64_t a, int64_t b) {
  int64_t r;
  return __builtin_mul_overflow(a, b, &r) ? std::nullopt : std::optional<int64_t>(r);
}

/// The static shape of `name`, if shape inference produced one.
std::optional<std::vector<int64_t>> static_shape(const Types& types, const std::string& name) {
  auto it = types.find(name);
  if (it == types.end() || !it->second->has_tensor_type() || !it->second->tensor_type().has_shape())
    return std::nullopt;
  std::vector<int64_t> s;
  for (const auto& d : it->second->tensor_type().shape().dim()) {
    if (!d.has_dim_value()) return std::nullopt;
    s.push_back(d.dim_value());
  }
  return s;
}

const onnx::AttributeProto* attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t attr_i(const onnx::NodeProto& n, const std::string& name, int64_t def) {
  const auto* a = attr(n, name);
  return a ? a->i() : def;
}

/// Elementwise op over numpy-broadcast inputs.
template <typename F>
std::optional<IntTensor> broadcast(const std::vector<const IntTensor*>& in, int32_t type, F f) {
  size_t rank = 0;
  for (const auto* t : in) rank = std::max(rank, t->shape.size());
  std::vector<int64_t> shape(rank, 1);
  for (const auto* t : in)
    for (size_t i = 0; i < t->shape.size(); ++i) {
      auto& o = shape[rank - t->shape.size() + i];
      const auto d = t->shape[i];
      if (o == 1) o = d;
      else if (d != 1 && d != o) return std::nullopt;
    }
  IntTensor r{type, shape, {}};
  const auto n = count(shape);
  if (!n) return std::nullopt;
  std::vector<int64_t> args(in.size());
  for (int64_t e = 0; e < *n; ++e) {
    for (size_t k = 0; k < in.size(); ++k) {
      // index of output element e within input k (broadcast dims contribute 0)
      int64_t rem = e, idx = 0, stride = 1;
      const auto& s = in[k]->shape;
      for (size_t i = rank; i-- > 0;) {
        const int64_t coord = rem % shape[i];
        rem /= shape[i];
        if (i >= rank - s.size()) {
          const auto d = s[i - (rank - s.size())];
          idx += (d == 1 ? 0 : coord) * stride;
          stride *= d;
        }
      }
      args[k] = in[k]->v[static_cast<size_t>(idx)];
    }
    const auto x = f(args);
    if (!x) return std::nullopt;
    r.v.push_back(*x);
  }
  return r;
}

/// Normalizes axis `a` for rank `r`; nullopt when out of range.
std::optional<int64_t> axis(int64_t a, int64_t r) {
  if (a < 0) a += r;
  if (a < 0 || a >= r) return std::nullopt;
  return a;
}

/// Axes of Squeeze/Unsqueeze: an input from opset 13, an attribute before.
std::optional<std::vector<int64_t>> axes_of(const onnx::NodeProto& n, int opset, const Known& known, bool* present) {
  *present = true;
  if (opset >= 13) {
    if (n.input_size() < 2 || n.input(1).empty()) {
      *present = false;
      return std::vector<int64_t>{};
    }
    auto it = known.find(n.input(1));
    if (it == known.end()) return std::nullopt;
    return it->second.v;
  }
  const auto* a = attr(n, "axes");
  if (!a) {
    *present = false;
    return std::vector<int64_t>{};
  }
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

/// Evaluates node `n` when it computes a small integer value from known data.
std::optional<IntTensor> eval(const onnx::NodeProto& n, int opset, const Known& known, const Types& types) {
  const std::string& op = n.op_type();
  if (n.output_size() != 1 || !(n.domain().empty() || n.domain() == "ai.onnx")) return std::nullopt;

  if (op == "Shape" || op == "Size") {
    const auto s = static_shape(types, n.input(0));
    if (!s) return std::nullopt;
    if (op == "Size") {
      int64_t c = 1;
      for (auto d : *s) {
        const auto p = mul(c, d);
        if (!p) return std::nullopt;
        c = *p;
      }
      return IntTensor{TensorProto::INT64, {}, {c}};
    }
    const auto r = static_cast<int64_t>(s->size());
    auto clamp = [&](int64_t x) { return std::clamp(x < 0 ? x + r : x, int64_t{0}, r); };
    const int64_t b = clamp(attr_i(n, "start", 0)), e = clamp(attr_i(n, "end", r));
    IntTensor t{TensorProto::INT64, {std::max<int64_t>(e - b, 0)}, {}};
    for (int64_t i = b; i < e; ++i) t.v.push_back((*s)[static_cast<size_t>(i)]);
    return t;
  }
  if (op == "Constant") {
    if (const auto* a = attr(n, "value")) return from_proto(a->t());
    if (const auto* a = attr(n, "value_int")) return IntTensor{TensorProto::INT64, {}, {a->i()}};
    if (const auto* a = attr(n, "value_ints"))
      return IntTensor{TensorProto::INT64, {a->ints_size()}, {a->ints().begin(), a->ints().end()}};
    return std::nullopt;
  }

  std::vector<const IntTensor*> in;
  for (const auto& name : n.input()) {
    if (name.empty()) {
      in.push_back(nullptr);
      continue;
    }
    auto it = known.find(name);
    if (it == known.end()) return std::nullopt;
    in.push_back(&it->second);
  }
  if (in.empty() || !in[0]) return std::nullopt;
  const IntTensor& x = *in[0];
  using V = std::vector<int64_t>;
  using R = std::optional<int64_t>;

  if (op == "Identity") return x;
  if (op == "Cast") {
    const auto to = static_cast<int32_t>(attr_i(n, "to", 0));
    if (!is_int_type(to)) return std::nullopt;
    IntTensor r = x;
    r.type = to;
    for (auto& e : r.v) e = wrap(e, to);
    return r;
  }
  if (op == "Neg") return broadcast({&x}, x.type, [](const V& a) -> R { return sub(0, a[0]); });
  if (op == "Abs") return broadcast({&x}, x.type, [](const V& a) -> R { return a[0] < 0 ? sub(0, a[0]) : a[0]; });
  if (op == "Not") return broadcast({&x}, x.type, [](const V& a) -> R { return a[0] == 0; });
  if (in.size() == 2 && in[1]) {
    const IntTensor& y = *in[1];
    if (op == "Add") return broadcast({&x, &y}, x.type, [](const V& a) -> R { return add(a[0], a[1]); });
    if (op == "Sub") return broadcast({&x, &y}, x.type, [](const V& a) -> R { return sub(a[0], a[1]); });
    if (op == "Mul") return broadcast({&x, &y}, x.type, [](const V& a) -> R { return mul(a[0], a[1]); });
    if (op == "Div")
      return broadcast({&x, &y}, x.type, [](const V& a) -> R {
        return (a[1] == 0 || (a[1] == -1 && a[0] == INT64_MIN)) ? R{} : R{a[0] / a[1]};
      });
    if (op == "Mod" && attr_i(n, "fmod", 0) == 0)  // integer Mod takes the divisor's sign
      return broadcast({&x, &y}, x.type, [](const V& a) -> R {
        if (a[1] == 0) return R{};
        if (a[1] == -1) return 0;
        const int64_t m = a[0] % a[1];
        return (m != 0 && ((m < 0) != (a[1] < 0))) ? m + a[1] : m;
      });
    if (op == "Equal") return broadcast({&x, &y}, TensorProto::BOOL, [](const V& a) -> R { return a[0] == a[1]; });
    if (op == "Less") return broadcast({&x, &y}, TensorProto::BOOL, [](const V& a) -> R { return a[0] < a[1]; });
    if (op == "Greater") return broadcast({&x, &y}, TensorProto::BOOL, [](const V& a) -> R { return a[0] > a[1]; });
  }
  if (op == "Max" || op == "Min") {
    for (const auto* t : in)
      if (!t) return std::nullopt;
    const bool mx = op == "Max";
    return broadcast(in, x.type, [mx](const V& a) -> R {
      return mx ? *std::max_element(a.begin(), a.end()) : *std::min_element(a.begin(), a.end());
    });
  }
  if (op == "Where" && in.size() == 3 && in[1] && in[2])
    return broadcast(in, in[1]->type, [](const V& a) -> R { return a[0] ? a[1] : a[2]; });
  if (op == "Concat") {
    // shape vectors: rank-1 concatenation only
    IntTensor r{x.type, {0}, {}};
    if (axis(attr_i(n, "axis", 0), 1) != 0) return std::nullopt;
    for (const auto* t : in) {
      if (!t || t->shape.size() != 1) return std::nullopt;
      r.v.insert(r.v.end(), t->v.begin(), t->v.end());
    }
    r.shape[0] = static_cast<int64_t>(r.v.size());
    return r;
  }
  if (op == "Gather") {
    if (in.size() != 2 || !in[1] || x.shape.size() != 1 || axis(attr_i(n, "axis", 0), 1) != 0) return std::nullopt;
    IntTensor r{x.type, in[1]->shape, {}};
    for (auto i : in[1]->v) {
      const auto k = axis(i, x.shape[0]);
      if (!k) return std::nullopt;
      r.v.push_back(x.v[static_cast<size_t>(*k)]);
    }
    return r;
  }
  if (op == "Transpose") {
    const size_t r = x.shape.size();
    std::vector<int64_t> perm;
    if (const auto* p = attr(n, "perm")) perm.assign(p->ints().begin(), p->ints().end());
    else
      for (size_t i = 0; i < r; ++i) perm.push_back(static_cast<int64_t>(r - 1 - i));
    if (perm.size() != r) return std::nullopt;
    IntTensor t{x.type, std::vector<int64_t>(r), {}};
    std::vector<int64_t> in_stride(r, 1);
    for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * x.shape[i];
    for (size_t i = 0; i < r; ++i) {
      if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(r)) return std::nullopt;
      t.shape[i] = x.shape[static_cast<size_t>(perm[i])];
    }
    const auto total = count(t.shape);
    if (!total) return std::nullopt;
    std::vector<int64_t> idx(r, 0);
    for (int64_t e = 0; e < *total; ++e) {
      int64_t off = 0;
      for (size_t i = 0; i < r; ++i) off += idx[i] * in_stride[static_cast<size_t>(perm[i])];
      t.v.push_back(x.v[static_cast<size_t>(off)]);
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < t.shape[i]) break;
        idx[i] = 0;
      }
    }
    return t;
  }
  if (op == "Slice" && x.shape.size() > 1 && opset >= 10 && in.size() >= 3 && in[1] && in[2]) {
    // N-d slice of a small known tensor (e.g. torch's pad-amount arithmetic)
    const size_t r = x.shape.size();
    std::vector<int64_t> start(r, 0), end = x.shape, step(r, 1);
    const size_t k = in[1]->v.size();
    if (in[2]->v.size() != k) return std::nullopt;
    for (size_t i = 0; i < k; ++i) {
      int64_t a = static_cast<int64_t>(i);
      if (in.size() > 3 && in[3]) {
        if (in[3]->v.size() != k) return std::nullopt;
        a = in[3]->v[i];
      }
      const auto ax = axis(a, static_cast<int64_t>(r));
      if (!ax) return std::nullopt;
      int64_t st = 1;
      if (in.size() > 4 && in[4]) {
        if (in[4]->v.size() != k || in[4]->v[i] == 0) return std::nullopt;
        st = in[4]->v[i];
      }
      const int64_t d = x.shape[static_cast<size_t>(*ax)];
      int64_t s = in[1]->v[i], e = in[2]->v[i];
      if (s < 0) s += d;
      if (e < 0) e += d;
      if (st > 0) {
        s = std::clamp(s, int64_t{0}, d);
        e = std::clamp(e, int64_t{0}, d);
      } else {
        s = std::clamp(s, int64_t{0}, d - 1);
        e = std::clamp(e, int64_t{-1}, d - 1);
      }
      start[static_cast<size_t>(*ax)] = s, end[static_cast<size_t>(*ax)] = e, step[static_cast<size_t>(*ax)] = st;
    }
    IntTensor t{x.type, std::vector<int64_t>(r), {}};
    for (size_t i = 0; i < r; ++i) {
      const int64_t len = step[i] > 0 ? (end[i] - start[i] + step[i] - 1) / step[i] : (start[i] - end[i] - step[i] - 1) / -step[i];
      t.shape[i] = std::max<int64_t>(0, len);
    }
    std::vector<int64_t> in_stride(r, 1);
    for (size_t i = r; i-- > 1;) in_stride[i - 1] = in_stride[i] * x.shape[i];
    const auto total = count(t.shape);
    if (!total) return std::nullopt;
    std::vector<int64_t> idx(r, 0);
    for (int64_t e = 0; e < *total; ++e) {
      int64_t off = 0;
      for (size_t i = 0; i < r; ++i) off += (start[i] + idx[i] * step[i]) * in_stride[i];
      t.v.push_back(x.v[static_cast<size_t>(off)]);
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < t.shape[i]) break;
        idx[i] = 0;
      }
    }
    return t;
  }
  if (op == "Slice") {
    if (x.shape.size() != 1) return std::nullopt;
    int64_t start, end, step = 1;
    if (opset < 10) {
      const auto* s = attr(n, "starts");
      const auto* e = attr(n, "ends");
      const auto* ax = attr(n, "axes");
      if (!s || !e || s->ints_size() != 1 || e->ints_size() != 1) return std::nullopt;
      if (ax && (ax->ints_size() != 1 || axis(ax->ints(0), 1) != 0)) return std::nullopt;
      start = s->ints(0), end = e->ints(0);
    } else {
      if (in.size() < 3 || !in[1] || !in[2] || in[1]->v.size() != 1 || in[2]->v.size() != 1) return std::nullopt;
      if (in.size() > 3 && in[3] && (in[3]->v.size() != 1 || axis(in[3]->v[0], 1) != 0)) return std::nullopt;
      if (in.size() > 4 && in[4]) {
        if (in[4]->v.size() != 1 || in[4]->v[0] == 0) return std::nullopt;
        step = in[4]->v[0];
      }
      start = in[1]->v[0], end = in[2]->v[0];
    }
    // ONNX Slice clamping rules for one axis of size d
    const int64_t d = x.shape[0];
    if (start < 0) start += d;
    if (end < 0) end += d;
    if (step > 0) {
      start = std::clamp(start, int64_t{0}, d);
      end = std::clamp(end, int64_t{0}, d);
    } else {
      start = std::clamp(start, int64_t{0}, d - 1);
      end = std::clamp(end, int64_t{-1}, d - 1);
    }
    IntTensor r{x.type, {0}, {}};
    for (int64_t i = start; step > 0 ? i < end : i > end; i += step) r.v.push_back(x.v[static_cast<size_t>(i)]);
    r.shape[0] = static_cast<int64_t>(r.v.size());
    return r;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    bool present = false;
    const auto ax = axes_of(n, opset, known, &present);
    if (!ax) return std::nullopt;
    IntTensor r = x;
    if (op == "Unsqueeze") {
      const auto out_rank = static_cast<int64_t>(x.shape.size() + ax->size());
      std::vector<int64_t> norm;
      for (auto a : *ax) {
        const auto k = axis(a, out_rank);
        if (!k) return std::nullopt;
        norm.push_back(*k);
      }
      std::sort(norm.begin(), norm.end());
      if (std::adjacent_find(norm.begin(), norm.end()) != norm.end()) return std::nullopt;
      for (auto k : norm) r.shape.insert(r.shape.begin() + k, 1);  // ascending distinct axes stay in range
      return r;
    }
    const auto rank = static_cast<int64_t>(x.shape.size());
    std::vector<bool> drop(x.shape.size(), false);
    for (size_t i = 0; i < x.shape.size(); ++i) drop[i] = !present && x.shape[i] == 1;
    for (auto a : *ax) {
      const auto k = axis(a, rank);
      if (!k || x.shape[static_cast<size_t>(*k)] != 1) return std::nullopt;
      drop[static_cast<size_t>(*k)] = true;
    }
    r.shape.clear();
    for (int64_t i = 0; i < rank; ++i)
      if (!drop[static_cast<size_t>(i)]) r.shape.push_back(x.shape[static_cast<size_t>(i)]);
    return r;
  }
  if (op == "ConstantOfShape") {
    if (x.shape.size() != 1) return std::nullopt;
    IntTensor r{TensorProto::INT64, x.v, {}};
    int64_t fill = 0;
    if (const auto* a = attr(n, "value")) {
      const auto t = from_proto(a->t());
      if (!t || t->v.size() != 1) return std::nullopt;  // float fills are not shape data
      r.type = t->type;
      fill = t->v[0];
    } else {
      return std::nullopt;  // the default fill is float 0
    }
    const auto c = count(x.v);
    if (!c) return std::nullopt;
    r.v.assign(static_cast<size_t>(*c), fill);
    return r;
  }
  if (op == "Range") {
    if (in.size() != 3 || !in[1] || !in[2] || x.v.size() != 1 || in[1]->v.size() != 1 || in[2]->v.size() != 1)
      return std::nullopt;
    const int64_t s = x.v[0], l = in[1]->v[0], d = in[2]->v[0];
    if (d == 0 || d == INT64_MIN) return std::nullopt;
    // count = max(ceil((l - s) / d), 0)
    const auto span = sub(l, s);
    const auto num = span ? add(*span, d > 0 ? d - 1 : d + 1) : std::nullopt;
    if (!num) return std::nullopt;
    const int64_t c = std::max<int64_t>(0, *num / d);
    if (c > kMaxElems) return std::nullopt;
    IntTensor r{x.type, {c}, {}};
    for (int64_t i = 0; i < c; ++i) r.v.push_back(s + i * d);  // in range: the last is before l
    return r;
  }
  if (op == "Reshape" && in.size() >= 2 && in[1] && in[1]->shape.size() == 1) {
    std::vector<int64_t> s = in[1]->v;
    int64_t known_prod = 1, infer = -1;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == 0 && attr_i(n, "allowzero", 0) == 0) {
        if (i >= x.shape.size()) return std::nullopt;
        s[i] = x.shape[i];
      }
      if (s[i] == -1) {
        if (infer >= 0) return std::nullopt;
        infer = static_cast<int64_t>(i);
      } else {
        const auto p = s[i] < 0 ? std::nullopt : mul(known_prod, s[i]);
        if (!p) return std::nullopt;
        known_prod = *p;
      }
    }
    const auto total = static_cast<int64_t>(x.v.size());
    if (infer >= 0) {
      if (known_prod == 0 || total % known_prod) return std::nullopt;
      s[static_cast<size_t>(infer)] = total / known_prod;
    }
    if (count(s) != total) return std::nullopt;  // (nullopt != total too)
    IntTensor r = x;
    r.shape = s;
    return r;
  }
  return std::nullopt;
}

Types collect_types(const onnx::GraphProto& g) {
  Types t;
  for (const auto& v : g.value_info()) t[v.name()] = &v.type();
  for (const auto& v : g.output()) t[v.name()] = &v.type();
  for (const auto& v : g.input()) t[v.name()] = &v.type();
  return t;
}

void add_input(onnx::GraphProto* g, const std::string& name, int32_t type, const std::vector<int64_t>& shape) {
  auto* in = g->add_input();
  in->set_name(name);
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(type);
  auto* s = tt->mutable_shape();
  for (auto d : shape) s->add_dim()->set_dim_value(d);
}

}  // namespace

onnx::ModelProto infer_with_shape_data(const onnx::ModelProto& m, const onnx::ShapeInferenceOptions& opt,
                                       const std::function<bool(const onnx::GraphProto&)>& done) {
  const onnx::GraphProto& g = m.graph();
  std::unordered_map<std::string, int> opsets;
  for (const auto& o : m.opset_import()) opsets[o.domain()] = static_cast<int>(o.version());
  const int opset = opsets.count("") ? opsets[""] : 1;

  // The copy keeps only the initializers that can be shape data; the others
  // (weights) become typed graph inputs, which is all inference needs of them.
  onnx::ModelProto work;
  work.set_ir_version(m.ir_version());
  *work.mutable_opset_import() = m.opset_import();
  *work.mutable_functions() = m.functions();
  auto* wg = work.mutable_graph();
  wg->set_name(g.name());
  *wg->mutable_node() = g.node();
  *wg->mutable_input() = g.input();
  *wg->mutable_output() = g.output();
  *wg->mutable_value_info() = g.value_info();
  Known known;
  std::unordered_set<std::string> inputs;
  for (const auto& i : g.input()) inputs.insert(i.name());
  for (const auto& t : g.initializer()) {
    if (auto it = from_proto(t)) {
      known.emplace(t.name(), std::move(*it));
      *wg->add_initializer() = t;
    } else if (!inputs.count(t.name())) {
      std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
      add_input(wg, t.name(), t.data_type(), dims);
    }
  }

  std::unordered_set<std::string> folded;  // nodes replaced by initializers in `work`
  for (int iter = 0;; ++iter) {
    onnx::shape_inference::InferShapes(work, guarded_schemas(), opt);
    if (done(*wg) || iter == 32) break;
    const Types types = collect_types(*wg);
    // onnx 1.12 infers only Einsum's rank: complete its shape from the equation.
    bool einsum_done = false;
    for (const auto& n : wg->node()) {
      if (n.op_type() != "Einsum" || n.output_size() != 1 || static_shape(types, n.output(0))) continue;
      const auto* eq = attr(n, "equation");
      if (!eq) continue;
      std::string e = eq->s();
      e.erase(std::remove(e.begin(), e.end(), ' '), e.end());
      const auto arrow = e.find("->");
      if (arrow == std::string::npos || e.find("...") != std::string::npos) continue;
      std::unordered_map<char, int64_t> size;
      bool ok = true;
      size_t term = 0, pos = 0;
      const std::string lhs = e.substr(0, arrow);
      while (ok && pos <= lhs.size()) {
        const size_t c = std::min(lhs.find(',', pos), lhs.size());
        const std::string t = lhs.substr(pos, c - pos);
        const auto s = term < static_cast<size_t>(n.input_size()) ? static_shape(types, n.input(static_cast<int>(term)))
                                                                   : std::nullopt;
        if (!s || s->size() != t.size()) ok = false;
        else
          for (size_t k = 0; k < t.size(); ++k) size[t[k]] = (*s)[k];
        ++term;
        pos = c + 1;
      }
      if (!ok) continue;
      std::vector<int64_t> dims;
      for (char ch : e.substr(arrow + 2)) {
        auto it = size.find(ch);
        if (it == size.end()) ok = false;
        else dims.push_back(it->second);
      }
      if (!ok) continue;
      google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> kept;
      for (auto& v : *wg->mutable_value_info())
        if (v.name() != n.output(0)) *kept.Add() = v;
      wg->mutable_value_info()->Swap(&kept);
      auto* vi = wg->add_value_info();
      vi->set_name(n.output(0));
      const auto it = types.find(n.input(0));
      vi->mutable_type()->mutable_tensor_type()->set_elem_type(it->second->tensor_type().elem_type());
      for (auto d : dims) vi->mutable_type()->mutable_tensor_type()->mutable_shape()->add_dim()->set_dim_value(d);
      for (auto& o : *wg->mutable_output())  // a graph output's declared (symbolic) dims give way too
        if (o.name() == n.output(0)) *o.mutable_type() = vi->type();
      einsum_done = true;
    }
    std::unordered_set<std::string> new_values;
    for (const auto& n : g.node()) {
      if (folded.count(n.name()) || n.output_size() != 1 || known.count(n.output(0))) continue;
      auto r = eval(n, opset, known, types);
      if (!r) continue;
      folded.insert(n.name());
      new_values.insert(n.output(0));
      *wg->add_initializer() = to_proto(*r, n.output(0));
      add_input(wg, n.output(0), r->type, r->shape);
      known.emplace(n.output(0), std::move(*r));
    }
    if (new_values.empty() && !einsum_done) break;
    google::protobuf::RepeatedPtrField<onnx::NodeProto> nodes;
    for (auto& n : *wg->mutable_node())
      if (!folded.count(n.name())) *nodes.Add() = std::move(n);
    wg->mutable_node()->Swap(&nodes);
    google::protobuf::RepeatedPtrField<onnx::ValueInfoProto> vi;
    for (auto& v : *wg->mutable_value_info())
      if (!new_values.count(v.name())) *vi.Add() = std::move(v);
    wg->mutable_value_info()->Swap(&vi);
  }
  return work;
}

}  // namespace seedchip::frontends::detail
