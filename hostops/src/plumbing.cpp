// seedchip — hostops: constants, casts and data movement (shape plumbing).
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops::detail {

namespace {

HostTensor scalar_i64(int64_t v) {
  HostTensor t(ElemType::i64, {});
  st_i(t, 0, v);
  return t;
}

HostTensor vec_i64(const std::vector<int64_t>& v) {
  HostTensor t(ElemType::i64, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) st_i(t, static_cast<int64_t>(i), v[i]);
  return t;
}

// Integer list from attribute `attr` (older opsets) or input `idx` (newer),
// nullopt when the chosen source is absent.
std::optional<std::vector<int64_t>> attr_or_input(const Ctx& c, bool from_input, const std::string& attr, size_t idx) {
  if (from_input) {
    if (const HostTensor* t = c.opt(idx)) return c.ints(*t);
    return std::nullopt;
  }
  if (c.node.has_attr(attr)) return c.node.attr_ints(attr, {});
  return std::nullopt;
}

ElemType type_attr(const Ctx& c, const std::string& name) {
  auto it = c.node.attrs.find(name);
  if (it == c.node.attrs.end()) c.fail(fmt::format("attribute '{}' is missing", name));
  if (auto* s = std::get_if<std::string>(&it->second)) {
    if (auto t = ir::parse_elem(*s)) return *t;
    c.unsupported(fmt::format("element type '{}'", *s));
  }
  const int64_t code = c.node.attr_int(name, 0);
  if (auto t = from_onnx_type(code)) return *t;
  c.unsupported(fmt::format("ONNX element type {}", code));
}

// ---- constants ---------------------------------------------------------------

Tensors op_constant(const Ctx& c) {
  const auto& a = c.node.attrs;
  if (auto it = a.find("value"); it != a.end()) {
    auto* t = std::get_if<HostTensor>(&it->second);
    if (!t || !shape_ok(t->shape) || t->data.size() != static_cast<size_t>(numel(t->shape)) * esize(t->type))
      c.fail("attribute 'value' is not a well-formed tensor");
    return {*t};
  }
  if (c.node.has_attr("value_float")) {
    HostTensor t(ElemType::f32, {});
    t.set(0, c.node.attr_float("value_float", 0));
    return {t};
  }
  if (c.node.has_attr("value_floats")) {
    const auto v = c.node.attr_floats("value_floats", {});
    HostTensor t(ElemType::f32, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.set(static_cast<int64_t>(i), v[i]);
    return {t};
  }
  if (c.node.has_attr("value_int")) return {scalar_i64(c.node.attr_int("value_int", 0))};
  if (c.node.has_attr("value_ints")) return {vec_i64(c.node.attr_ints("value_ints", {}))};
  if (c.node.has_attr("value_string") || c.node.has_attr("value_strings")) c.unsupported("string constants");
  if (c.node.has_attr("sparse_value")) c.unsupported("sparse constants");
  c.fail("no value attribute");
}

Tensors op_constant_of_shape(const Ctx& c) {
  const Shape shape = c.ints(c.in(0));
  HostTensor value(ElemType::f32, {1});
  if (auto it = c.node.attrs.find("value"); it != c.node.attrs.end()) {
    auto* t = std::get_if<HostTensor>(&it->second);
    if (!t || !shape_ok(t->shape) || numel(t->shape) != 1 || t->data.size() != esize(t->type))
      c.fail("attribute 'value' must be a one-element tensor");
    value = *t;
  }
  HostTensor out = c.make(value.type, shape);
  for (int64_t i = 0; i < out.elements(); ++i) copy_elem(out, i, value, 0);
  return {out};
}

Tensors op_shape(const Ctx& c) {
  const Shape& s = c.in(0).shape;
  const auto r = static_cast<int64_t>(s.size());
  int64_t b = 0, e = r;
  if (c.opset() >= 15) {
    // start/end clamp like Python slicing
    auto clamp = [&](int64_t v) { return std::clamp(v < 0 ? v + r : v, int64_t{0}, r); };
    b = clamp(c.node.attr_int("start", 0));
    e = clamp(c.node.attr_int("end", r));
  }
  return {vec_i64(b < e ? Shape(s.begin() + b, s.begin() + e) : Shape{})};
}

Tensors op_size(const Ctx& c) { return {scalar_i64(c.in(0).elements())}; }

Tensors op_identity(const Ctx& c) { return {c.in(0)}; }

// ---- casts -------------------------------------------------------------------

HostTensor convert(const HostTensor& x, ElemType to) {
  if (x.type == to) return x;
  HostTensor y(to, x.shape);
  const int64_t n = x.elements();
  const bool from_f = is_float(x.type), to_f = is_float(to);
  for (int64_t i = 0; i < n; ++i) {
    if (to == ElemType::boolean) {
      st_i(y, i, from_f ? ld_f(x, i) != 0 : ld_i(x, i) != 0);  // NaN -> true, like numpy
    } else if (!from_f) {
      const int64_t v = ld_i(x, i);
      if (to_f && x.type == ElemType::u64)
        y.set(i, static_cast<double>(static_cast<uint64_t>(v)));
      else
        st_i(y, i, v);
    } else if (to_f) {
      y.set(i, ld_f(x, i));
    } else {
      // float -> int truncates toward zero like C; out-of-range results are
      // undefined in ONNX, here saturate to 64 bits then wrap to the width.
      const double v = ld_f(x, i);
      if (std::isnan(v)) {
        st_i(y, i, 0);
      } else if (to == ElemType::u64 && v >= 9223372036854775808.0) {
        st_i(y, i, v >= 18446744073709551616.0 ? -1 : static_cast<int64_t>(static_cast<uint64_t>(v)));
      } else {
        st_i(y, i, v >= 9223372036854775807.0 ? INT64_MAX : v <= -9223372036854775808.0 ? INT64_MIN : static_cast<int64_t>(v));
      }
    }
  }
  return y;
}

Tensors op_cast(const Ctx& c) {
  if (c.opset() >= 19 && c.node.attr_int("saturate", 1) == 0) c.unsupported("saturate=0");
  return {convert(c.in(0), type_attr(c, "to"))};
}

Tensors op_cast_like(const Ctx& c) { return {convert(c.in(0), c.in(1).type)}; }

// ---- reshaping -----------------------------------------------------------------

HostTensor reshaped(const HostTensor& x, Shape s) {
  HostTensor y = x;
  y.shape = std::move(s);
  return y;
}

Tensors op_reshape(const Ctx& c) {
  const HostTensor& x = c.in(0);
  Shape s = c.opset() < 5 ? c.node.attr_ints("shape", {}) : c.ints(c.in(1));
  const bool allowzero = c.opset() >= 14 && c.node.attr_int("allowzero", 0) != 0;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0 && !allowzero) {
      if (i >= x.shape.size()) c.fail(fmt::format("shape {} copies dim {} of a rank-{} input", shape_str(s), i, x.shape.size()));
      s[i] = x.shape[i];
    }
    if (s[i] == -1) {
      if (infer >= 0) c.fail(fmt::format("shape {} has more than one -1", shape_str(s)));
      infer = static_cast<int>(i);
      continue;
    }
    if (s[i] < 0) c.fail(fmt::format("shape {} has a negative dimension", shape_str(s)));
    if (__builtin_mul_overflow(known, s[i], &known)) c.fail(fmt::format("shape {} is too large", shape_str(s)));
  }
  const int64_t n = x.elements();
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      c.fail(fmt::format("cannot infer -1 in shape {} for {} elements", shape_str(s), n));
    s[static_cast<size_t>(infer)] = n / known;
  } else if (known != n) {
    c.fail(fmt::format("cannot reshape {} to {}", shape_str(x.shape), shape_str(s)));
  }
  return {reshaped(x, s)};
}

Tensors op_flatten(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  int64_t a = c.node.attr_int("axis", 1);
  if (a < -r || a > r) c.fail(fmt::format("axis {} out of range for rank {}", a, r));
  if (a < 0) a += r;
  const auto ua = static_cast<size_t>(a);
  return {reshaped(x, {prod(x.shape, 0, ua), prod(x.shape, ua, x.shape.size())})};
}

Tensors op_squeeze(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto a = attr_or_input(c, c.opset() >= 13, "axes", 1);
  std::vector<char> drop(x.shape.size(), 0);
  if (a && !a->empty()) {
    for (int64_t ax : c.axes(*a, r)) {
      if (x.shape[static_cast<size_t>(ax)] != 1)
        c.fail(fmt::format("cannot squeeze axis {} of size {}", ax, x.shape[static_cast<size_t>(ax)]));
      drop[static_cast<size_t>(ax)] = 1;
    }
  } else {
    for (size_t i = 0; i < x.shape.size(); ++i) drop[i] = x.shape[i] == 1;
  }
  Shape s;
  for (size_t i = 0; i < x.shape.size(); ++i)
    if (!drop[i]) s.push_back(x.shape[i]);
  return {reshaped(x, s)};
}

Tensors op_unsqueeze(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto a = attr_or_input(c, c.opset() >= 13, "axes", 1);
  if (!a) c.fail("axes are missing");
  const auto r = static_cast<int64_t>(x.shape.size() + a->size());
  std::vector<char> ins(static_cast<size_t>(r), 0);
  for (int64_t ax : c.axes(*a, r)) ins[static_cast<size_t>(ax)] = 1;
  Shape s;
  size_t k = 0;
  for (size_t i = 0; i < ins.size(); ++i) s.push_back(ins[i] ? 1 : x.shape[k++]);
  return {reshaped(x, s)};
}

// ---- joining and splitting -----------------------------------------------------------

Tensors op_concat(const Ctx& c) {
  std::vector<const HostTensor*> xs;
  for (size_t i = 0; i < c.num_inputs(); ++i)
    if (c.opt(i)) xs.push_back(c.opt(i));
  if (xs.empty()) c.fail("no inputs");
  const HostTensor& x0 = *xs[0];
  const auto r = static_cast<int64_t>(x0.shape.size());
  if (r == 0) c.fail("cannot concatenate scalars");
  if (!c.node.has_attr("axis") && c.opset() >= 4) c.fail("attribute 'axis' is missing");
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 1), r));
  Shape s = x0.shape;
  s[ax] = 0;
  for (const HostTensor* x : xs) {
    c.same_type(x0, *x);
    bool ok = x->shape.size() == x0.shape.size();
    for (size_t d = 0; ok && d < s.size(); ++d) ok = d == ax || x->shape[d] == x0.shape[d];
    if (!ok) c.fail(fmt::format("shapes {} and {} differ off axis {}", shape_str(x0.shape), shape_str(x->shape), ax));
    s[ax] += x->shape[ax];
  }
  HostTensor y = c.make(x0.type, s);
  const int64_t outer = prod(s, 0, ax);
  const size_t es = esize(x0.type);
  uint8_t* dst = y.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (const HostTensor* x : xs) {
      const auto chunk = static_cast<size_t>(prod(x->shape, ax, x->shape.size())) * es;
      if (chunk) std::memcpy(dst, x->data.data() + static_cast<size_t>(o) * chunk, chunk);
      dst += chunk;
    }
  return {y};
}

// Copies x[..., b:b+len, ...] along axis `ax` into a new tensor.
HostTensor take_range(const Ctx& c, const HostTensor& x, size_t ax, int64_t b, int64_t len) {
  Shape s = x.shape;
  s[ax] = len;
  HostTensor y = c.make(x.type, s);
  const int64_t outer = prod(s, 0, ax), inner = prod(s, ax + 1, s.size());
  const size_t es = esize(x.type);
  const auto chunk = static_cast<size_t>(len * inner) * es;
  for (int64_t o = 0; o < outer; ++o)
    if (chunk)
      std::memcpy(y.data.data() + static_cast<size_t>(o) * chunk,
                  x.data.data() + static_cast<size_t>((o * x.shape[ax] + b) * inner) * es, chunk);
  return y;
}

Tensors op_split(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), r));
  const int64_t dim = x.shape[ax];
  std::optional<std::vector<int64_t>> sizes;
  if (c.opset() >= 13) {
    sizes = attr_or_input(c, true, "split", 1);
  } else if (c.opset() >= 2) {
    sizes = attr_or_input(c, false, "split", 1);
  } else {
    sizes = c.opt(1) ? attr_or_input(c, true, "split", 1) : attr_or_input(c, false, "split", 1);
  }
  if (!sizes) {
    const int64_t parts = c.opset() >= 18 && c.node.has_attr("num_outputs") ? c.node.attr_int("num_outputs", 1)
                                                                            : static_cast<int64_t>(c.n_outputs(1));
    if (parts <= 0 || parts > (int64_t{1} << 16)) c.fail(fmt::format("cannot split into {} parts", parts));
    if (c.opset() >= 18 && c.node.has_attr("num_outputs")) {
      // Opset 18: chunks of ceil(dim/n), the last one smaller.
      const int64_t chunk = (dim + parts - 1) / parts;
      sizes.emplace();
      for (int64_t left = dim, i = 0; i < parts; ++i) {
        sizes->push_back(std::min(chunk, left));
        left -= sizes->back();
      }
    } else {
      if (dim % parts != 0) c.fail(fmt::format("dimension {} does not split into {} equal parts", dim, parts));
      sizes = std::vector<int64_t>(static_cast<size_t>(parts), dim / parts);
    }
  }
  if (!c.node.outputs.empty() && sizes->size() != c.node.outputs.size())
    c.fail(fmt::format("{} split sizes for {} outputs", sizes->size(), c.node.outputs.size()));
  int64_t total = 0;
  for (int64_t s : *sizes) {
    if (s < 0 || s > dim - total) c.fail(fmt::format("split sizes {} do not fit dimension {}", shape_str(*sizes), dim));
    total += s;
  }
  if (total != dim) c.fail(fmt::format("split sizes sum to {}, dimension is {}", total, dim));
  Tensors out;
  int64_t b = 0;
  for (int64_t s : *sizes) {
    out.push_back(take_range(c, x, ax, b, s));
    b += s;
  }
  return out;
}

// ---- slicing and gathering -----------------------------------------------------------

Tensors op_slice(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> starts, ends, axes, steps;
  if (c.opset() < 10) {
    starts = c.node.attr_ints("starts", {});
    ends = c.node.attr_ints("ends", {});
    axes = c.node.attr_ints("axes", {});
  } else {
    starts = c.ints(c.in(1));
    ends = c.ints(c.in(2));
    if (c.opt(3)) axes = c.ints(*c.opt(3));
    if (c.opt(4)) steps = c.ints(*c.opt(4));
  }
  if (ends.size() != starts.size()) c.fail("starts and ends differ in length");
  if (axes.empty() && !(c.opset() >= 10 && c.opt(3))) {
    axes.resize(starts.size());
    std::iota(axes.begin(), axes.end(), 0);
  }
  if (steps.empty() && !(c.opset() >= 10 && c.opt(4))) steps.assign(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size()) c.fail("starts, ends, axes and steps differ in length");
  axes = c.axes(axes, r);
  Shape begin(x.shape.size(), 0), step(x.shape.size(), 1), s = x.shape;
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<size_t>(axes[i]);
    const int64_t dim = x.shape[a], st = steps[i];
    if (st == 0) c.fail("slice step is 0");
    int64_t b = starts[i], e = ends[i];
    if (b < 0) b += dim;  // no overflow: dim >= 0 and b < 0
    if (e < 0) e += dim;
    int64_t len;
    if (dim == 0) {
      b = 0;
      len = 0;
    } else if (st > 0) {
      b = std::clamp(b, int64_t{0}, dim);
      e = std::clamp(e, int64_t{0}, dim);
      len = e > b ? (e - b - 1) / st + 1 : 0;
    } else {
      b = std::clamp(b, int64_t{0}, dim - 1);
      e = std::clamp(e, int64_t{-1}, dim - 1);
      len = b > e ? (b - e - 1) / (-st) + 1 : 0;
    }
    begin[a] = b;
    step[a] = st;
    s[a] = len;
  }
  HostTensor y = c.make(x.type, s);
  const Shape xs = strides_of(x.shape);
  Shape st(xs.size());
  int64_t base = 0;
  for (size_t d = 0; d < xs.size(); ++d) {
    st[d] = xs[d] * step[d];
    base += xs[d] * begin[d];
  }
  walk(s, {&st}, [&](int64_t i, const int64_t*, const int64_t* off) { copy_elem(y, i, x, base + off[0]); });
  return {y};
}

int64_t fix_index(const Ctx& c, int64_t v, int64_t dim) {
  if (v < -dim || v >= dim) c.fail(fmt::format("index {} out of range for dimension {}", v, dim));
  return v < 0 ? v + dim : v;
}

Tensors op_gather(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const HostTensor& ind = c.in(1);
  const auto r = static_cast<int64_t>(x.shape.size());
  if (r == 0) c.fail("cannot gather from a scalar");
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), r));
  const std::vector<int64_t> idx = c.ints(ind);
  Shape s(x.shape.begin(), x.shape.begin() + static_cast<std::ptrdiff_t>(ax));
  s.insert(s.end(), ind.shape.begin(), ind.shape.end());
  s.insert(s.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(ax) + 1, x.shape.end());
  HostTensor y = c.make(x.type, s);
  const int64_t outer = prod(x.shape, 0, ax), inner = prod(x.shape, ax + 1, x.shape.size()), dim = x.shape[ax];
  const size_t chunk = static_cast<size_t>(inner) * esize(x.type);
  uint8_t* dst = y.data.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t v : idx) {
      const int64_t k = fix_index(c, v, dim);
      if (chunk) std::memcpy(dst, x.data.data() + static_cast<size_t>((o * dim + k) * inner) * esize(x.type), chunk);
      dst += chunk;
    }
  return {y};
}

Tensors op_gather_elements(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const HostTensor& ind = c.in(1);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), r));
  if (ind.shape.size() != x.shape.size()) c.fail("data and indices ranks differ");
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (d != ax && ind.shape[d] > x.shape[d]) c.fail(fmt::format("indices shape {} exceeds data shape {}", shape_str(ind.shape), shape_str(x.shape)));
  HostTensor y = c.make(x.type, ind.shape);
  const Shape xs = strides_of(x.shape);
  Shape st = xs;
  st[ax] = 0;
  walk(ind.shape, {&st}, [&](int64_t i, const int64_t*, const int64_t* off) {
    const int64_t k = fix_index(c, ld_i(ind, i), x.shape[ax]);
    copy_elem(y, i, x, off[0] + k * xs[ax]);
  });
  return {y};
}

// ---- broadcasting copies -----------------------------------------------------------

Tensors op_expand(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const Shape s = broadcast(c, {x.shape, c.ints(c.in(1))});
  HostTensor y = c.make(x.type, s);
  const Shape st = bcast_strides(x.shape, s);
  walk(s, {&st}, [&](int64_t i, const int64_t*, const int64_t* off) { copy_elem(y, i, x, off[0]); });
  return {y};
}

Tensors op_tile(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const std::vector<int64_t> rep = c.ints(c.in(1));
  if (rep.size() != x.shape.size()) c.fail(fmt::format("{} repeats for rank {}", rep.size(), x.shape.size()));
  Shape s = x.shape;
  for (size_t d = 0; d < s.size(); ++d) {
    if (rep[d] < 0) c.fail("negative repeat");
    if (__builtin_mul_overflow(s[d], rep[d], &s[d])) c.fail("result too large");
  }
  HostTensor y = c.make(x.type, s);
  const Shape xs = strides_of(x.shape);
  walk(s, {}, [&](int64_t i, const int64_t* idx, const int64_t*) {
    int64_t o = 0;
    for (size_t d = 0; d < s.size(); ++d) o += (idx[d] % x.shape[d]) * xs[d];
    copy_elem(y, i, x, o);
  });
  return {y};
}

HostTensor transpose(const Ctx& c, const HostTensor& x, const std::vector<int64_t>& perm) {
  const size_t r = x.shape.size();
  if (perm.size() != r) c.fail(fmt::format("perm has {} entries for rank {}", perm.size(), r));
  std::vector<char> seen(r, 0);
  Shape s(r), st(r);
  const Shape xs = strides_of(x.shape);
  for (size_t i = 0; i < r; ++i) {
    if (perm[i] < 0 || perm[i] >= static_cast<int64_t>(r) || seen[static_cast<size_t>(perm[i])]) c.fail("perm is not a permutation");
    seen[static_cast<size_t>(perm[i])] = 1;
    s[i] = x.shape[static_cast<size_t>(perm[i])];
    st[i] = xs[static_cast<size_t>(perm[i])];
  }
  HostTensor y = c.make(x.type, s);
  walk(s, {&st}, [&](int64_t i, const int64_t*, const int64_t* off) { copy_elem(y, i, x, off[0]); });
  return y;
}

Tensors op_transpose(const Ctx& c) {
  const HostTensor& x = c.in(0);
  std::vector<int64_t> def(x.shape.size());
  for (size_t i = 0; i < def.size(); ++i) def[i] = static_cast<int64_t>(def.size() - 1 - i);
  return {transpose(c, x, c.node.attr_ints("perm", def))};
}

Tensors op_depth_to_space(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() != 4) c.fail("input must be 4-D");
  const int64_t b = c.node.attr_int("blocksize", 0), n = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
  if (b <= 0 || ch % (b * b) != 0) c.fail(fmt::format("blocksize {} does not divide {} channels", b, ch));
  const bool crd = c.node.attr_str("mode", "DCR") == "CRD";
  HostTensor t = reshaped(x, crd ? Shape{n, ch / (b * b), b, b, h, w} : Shape{n, b, b, ch / (b * b), h, w});
  HostTensor y = transpose(c, t, crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2});
  return {reshaped(y, {n, ch / (b * b), h * b, w * b})};
}

Tensors op_space_to_depth(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() != 4) c.fail("input must be 4-D");
  const int64_t b = c.node.attr_int("blocksize", 0), n = x.shape[0], ch = x.shape[1], h = x.shape[2], w = x.shape[3];
  if (b <= 0 || h % b != 0 || w % b != 0) c.fail(fmt::format("blocksize {} does not divide {}x{}", b, h, w));
  HostTensor y = transpose(c, reshaped(x, {n, ch, h / b, b, w / b, b}), {0, 3, 5, 1, 2, 4});
  return {reshaped(y, {n, ch * b * b, h / b, w / b})};
}

// ---- generators ------------------------------------------------------------------

Tensors op_range(const Ctx& c) {
  const HostTensor &s0 = c.in(0), &l0 = c.in(1), &d0 = c.in(2);
  c.same_type(s0, l0);
  c.same_type(s0, d0);
  if (is_float(s0.type)) {
    const double st = c.scalar_f(s0, "start"), li = c.scalar_f(l0, "limit"), de = c.scalar_f(d0, "delta");
    if (de == 0 || !std::isfinite(st) || !std::isfinite(li) || !std::isfinite(de)) c.fail("delta is 0 or an operand is not finite");
    const double n = std::max(std::ceil((li - st) / de), 0.0);
    if (n > 1e10) c.fail("result too large");
    HostTensor y = c.make(s0.type, {static_cast<int64_t>(n)});
    for (int64_t i = 0; i < y.elements(); ++i) y.set(i, st + static_cast<double>(i) * de);
    return {y};
  }
  const int64_t st = c.scalar_int(s0, "start"), li = c.scalar_int(l0, "limit"), de = c.scalar_int(d0, "delta");
  if (de == 0) c.fail("delta is 0");
  // Exact count even when limit - start overflows int64.
  __extension__ using i128 = __int128;
  const i128 diff = static_cast<i128>(li) - st;
  i128 n = diff / de;
  if (n * de != diff && (diff > 0) == (de > 0)) ++n;
  if (n < 0) n = 0;
  if (n > (i128{1} << 40)) c.fail("result too large");
  HostTensor y = c.make(s0.type, {static_cast<int64_t>(n)});
  for (int64_t i = 0; i < y.elements(); ++i) st_i(y, i, static_cast<int64_t>(st + static_cast<i128>(i) * de));
  return {y};
}

Tensors op_eye_like(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() != 2) c.fail("input must be 2-D");
  const ElemType t = c.node.has_attr("dtype") ? type_attr(c, "dtype") : x.type;
  const int64_t k = c.node.attr_int("k", 0);
  HostTensor y = c.make(t, x.shape);
  if (k >= x.shape[1] || k <= -x.shape[0]) return {y};  // no diagonal; also keeps i + k from overflowing
  for (int64_t i = 0; i < x.shape[0]; ++i) {
    const int64_t j = i + k;
    if (j >= 0 && j < x.shape[1]) st_i(y, i * x.shape[1] + j, 1);
  }
  return {y};
}

Tensors op_trilu(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() < 2) c.fail("input must have rank >= 2");
  int64_t k = c.opt(1) ? c.scalar_int(*c.opt(1), "k") : 0;
  const bool upper = c.node.attr_int("upper", 1) != 0;
  const int64_t rows = x.shape[x.shape.size() - 2], cols = x.shape.back();
  k = std::clamp(k, -rows - 1, cols + 1);  // beyond this the result no longer changes
  HostTensor y = x;
  const HostTensor zero(x.type, {1});
  for (int64_t i = 0; i < x.elements(); ++i) {
    const int64_t col = i % cols, row = (i / cols) % rows;
    const bool keep = upper ? col - row >= k : col - row <= k;
    if (!keep) copy_elem(y, i, zero, 0);
  }
  return {y};
}

Tensors op_one_hot(const Ctx& c) {
  const HostTensor& ind = c.in(0);
  const HostTensor& vals = c.in(2);
  int64_t depth;
  if (is_float(c.in(1).type)) {
    const double d = c.scalar_f(c.in(1), "depth");
    if (!(d >= 1 && d < 9.2e18)) c.fail(fmt::format("depth {} is out of range", d));
    depth = static_cast<int64_t>(d);
  } else {
    depth = c.scalar_int(c.in(1), "depth");
  }
  if (depth <= 0) c.fail(fmt::format("depth {} is not positive", depth));
  if (vals.elements() != 2) c.fail("values must have two elements");
  const auto r = static_cast<int64_t>(ind.shape.size());
  int64_t ax = c.node.attr_int("axis", -1);
  if (ax < -r - 1 || ax > r) c.fail(fmt::format("axis {} out of range", ax));
  if (ax < 0) ax += r + 1;
  Shape s = ind.shape;
  s.insert(s.begin() + ax, depth);
  HostTensor y = c.make(vals.type, s);
  const int64_t outer = prod(ind.shape, 0, static_cast<size_t>(ax)), inner = prod(ind.shape, static_cast<size_t>(ax), ind.shape.size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t p = o * inner + in;
      int64_t v = ld_i(ind, p);  // float indices truncate
      if (v < 0 && v >= -depth) v += depth;
      for (int64_t d = 0; d < depth; ++d) copy_elem(y, (o * depth + d) * inner + in, vals, d == v ? 1 : 0);
    }
  return {y};
}

// ---- padding ---------------------------------------------------------------------

Tensors op_pad(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const size_t r = x.shape.size();
  std::string mode = c.node.attr_str("mode", "constant");
  std::vector<int64_t> pads;
  HostTensor value = c.make(x.type, {});
  if (c.opset() < 11) {
    pads = c.node.attr_ints(c.opset() < 2 && c.node.has_attr("paddings") ? "paddings" : "pads", {});
    value.set(0, c.node.attr_float("value", 0));
  } else {
    pads = c.ints(c.in(1));
    if (const HostTensor* v = c.opt(2)) {
      if (v->elements() != 1) c.fail("constant_value must have one element");
      c.same_type(x, *v);
      copy_elem(value, 0, *v, 0);
    }
  }
  std::vector<int64_t> axes;
  if (c.opset() >= 18 && c.opt(3)) {
    axes = c.axes(c.ints(*c.opt(3)), static_cast<int64_t>(r));
  } else {
    for (size_t i = 0; i < r; ++i) axes.push_back(static_cast<int64_t>(i));
  }
  if (pads.size() != 2 * axes.size()) c.fail(fmt::format("{} pads for {} axes", pads.size(), axes.size()));
  Shape lo(r, 0), s = x.shape;
  for (size_t i = 0; i < axes.size(); ++i) {
    const auto a = static_cast<size_t>(axes[i]);
    lo[a] = pads[i];
    if (__builtin_add_overflow(x.shape[a], pads[i], &s[a]) || __builtin_add_overflow(s[a], pads[i + axes.size()], &s[a]))
      c.fail(fmt::format("pads {} are too large", shape_str(pads)));
    if (s[a] < 0) c.fail(fmt::format("pads {} crop more than dimension {}", shape_str(pads), x.shape[a]));
  }
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") c.unsupported(fmt::format("mode '{}'", mode));
  if (mode == "wrap" && c.opset() < 19) c.unsupported("mode 'wrap' before opset 19");
  HostTensor y = c.make(x.type, s);
  if (mode != "constant")
    for (size_t d = 0; d < r; ++d)
      if (x.shape[d] == 0 && s[d] > 0) c.fail(fmt::format("cannot {}-pad an empty dimension", mode));
  const Shape xs = strides_of(x.shape);
  walk(s, {}, [&](int64_t i, const int64_t* idx, const int64_t*) {
    int64_t o = 0;
    for (size_t d = 0; d < r; ++d) {
      int64_t p = idx[d] - lo[d];
      const int64_t n = x.shape[d];
      if (p < 0 || p >= n) {
        if (mode == "constant") {
          copy_elem(y, i, value, 0);
          return;
        }
        if (mode == "edge") {
          p = p < 0 ? 0 : n - 1;
        } else if (mode == "wrap") {
          p = ((p % n) + n) % n;
        } else if (n == 1) {
          p = 0;
        } else {
          // reflect without repeating the edge; period 2(n-1), like numpy
          const int64_t period = 2 * (n - 1);
          p = ((p % period) + period) % period;
          if (p >= n) p = period - p;
        }
      }
      o += p * xs[d];
    }
    copy_elem(y, i, x, o);
  });
  return {y};
}

// ---- Dropout -----------------------------------------------------------------------

Tensors op_dropout(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (c.opset() >= 12) {
    const bool training = c.opt(2) && c.scalar_int(*c.opt(2), "training_mode") != 0;
    const double ratio = c.opt(1) ? c.scalar_f(*c.opt(1), "ratio") : 0.5;
    if (training && ratio != 0) c.unsupported("training mode draws random masks");
  }
  // Before opset 12 is_test=0 nominally means training, but exported
  // inference graphs routinely leave it unset: evaluate as inference.
  HostTensor mask(c.opset() >= 10 ? ElemType::boolean : x.type, x.shape);
  for (int64_t i = 0; i < mask.elements(); ++i) st_i(mask, i, 1);
  return {x, mask};
}

}  // namespace

void register_plumbing(Registry& r) {
  r["Constant"] = {op_constant};
  r["ConstantOfShape"] = {op_constant_of_shape, 9};
  r["Shape"] = {op_shape};
  r["Size"] = {op_size};
  r["Identity"] = {op_identity};
  r["Cast"] = {op_cast, 1, 19};
  r["CastLike"] = {op_cast_like, 15, 19};
  r["Reshape"] = {op_reshape};
  r["Flatten"] = {op_flatten};
  r["Squeeze"] = {op_squeeze};
  r["Unsqueeze"] = {op_unsqueeze};
  r["Concat"] = {op_concat};
  r["Split"] = {op_split};
  r["Slice"] = {op_slice};
  r["Gather"] = {op_gather};
  r["GatherElements"] = {op_gather_elements, 11};
  r["Expand"] = {op_expand, 8};
  r["Tile"] = {op_tile, 6};
  r["Transpose"] = {op_transpose};
  r["DepthToSpace"] = {op_depth_to_space};
  r["SpaceToDepth"] = {op_space_to_depth};
  r["Range"] = {op_range, 11};
  r["EyeLike"] = {op_eye_like, 9};
  r["Trilu"] = {op_trilu, 14};
  r["OneHot"] = {op_one_hot, 9};
  r["Pad"] = {op_pad, 1, 19};
  r["Dropout"] = {op_dropout};
}

}  // namespace seedchip::hostops::detail
