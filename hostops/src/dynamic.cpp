// seedchip — hostops: data-dependent ops the chip leaves to the host
// (NonZero, TopK, Unique, Compress, scatters and gathers, NMS).
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops::detail {

namespace {

int64_t fix_index(const Ctx& c, int64_t v, int64_t dim) {
  if (v < -dim || v >= dim) c.fail(fmt::format("index {} out of range for dimension {}", v, dim));
  return v < 0 ? v + dim : v;
}

// Three-way compare of elements i (of a) and j (of b) of the same type; NaNs
// equal each other and sort after numbers, like numpy.sort/unique.
int elem_cmp(const HostTensor& a, int64_t i, const HostTensor& b, int64_t j) {
  if (is_float(a.type)) {
    const double x = ld_f(a, i), y = ld_f(b, j);
    const bool nx = std::isnan(x), ny = std::isnan(y);
    if (nx || ny) return nx - ny;
    return (x > y) - (x < y);
  }
  return icmp(ld_i(a, i), ld_i(b, j), a.type == ElemType::u64);
}

HostTensor vec_i64(const std::vector<int64_t>& v) {
  HostTensor t(ElemType::i64, {static_cast<int64_t>(v.size())});
  for (size_t i = 0; i < v.size(); ++i) st_i(t, static_cast<int64_t>(i), v[i]);
  return t;
}

// ---- NonZero -------------------------------------------------------------------

Tensors op_nonzero(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const Shape shape = x.shape.empty() ? Shape{1} : x.shape;  // a scalar acts as 1-D, like numpy
  const int64_t n = x.elements();
  std::vector<int64_t> hits;
  const bool fl = is_float(x.type);
  for (int64_t i = 0; i < n; ++i)
    if (fl ? ld_f(x, i) != 0 : ld_i(x, i) != 0) hits.push_back(i);
  const auto r = static_cast<int64_t>(shape.size()), nnz = static_cast<int64_t>(hits.size());
  HostTensor y = c.make(ElemType::i64, {r, nnz});
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t rem = hits[static_cast<size_t>(k)];
    for (int64_t d = r; d-- > 0;) {
      st_i(y, d * nnz + k, rem % shape[static_cast<size_t>(d)]);
      rem /= shape[static_cast<size_t>(d)];
    }
  }
  return {y};
}

// ---- TopK ------------------------------------------------------------------------

Tensors op_topk(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", -1), r));
  const int64_t k = c.opset() < 10 ? c.node.attr_int("k", -1) : c.scalar_int(c.in(1), "K");
  const bool largest = c.opset() < 11 || c.node.attr_int("largest", 1) != 0;
  // sorted=0 leaves the order unspecified; sorted order is a valid choice.
  const int64_t n = x.shape[ax], outer = prod(x.shape, 0, ax), inner = prod(x.shape, ax + 1, x.shape.size());
  if (k < 0 || k > n) c.fail(fmt::format("K={} out of range for axis of size {}", k, n));
  Shape s = x.shape;
  s[ax] = k;
  HostTensor vals = c.make(x.type, s), idx = c.make(ElemType::i64, s);
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + in; };
      std::iota(order.begin(), order.end(), 0);
      // stable: equal values keep the lower index first
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        const int cmp = elem_cmp(x, at(a), x, at(b));
        return largest ? cmp > 0 : cmp < 0;
      });
      for (int64_t j = 0; j < k; ++j) {
        const int64_t dst = (o * k + j) * inner + in;
        copy_elem(vals, dst, x, at(order[static_cast<size_t>(j)]));
        st_i(idx, dst, order[static_cast<size_t>(j)]);
      }
    }
  return {vals, idx};
}

// ---- Unique ------------------------------------------------------------------------

Tensors op_unique(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const bool sorted = c.node.attr_int("sorted", 1) != 0;
  const bool has_axis = c.node.has_attr("axis");
  // Items are slices along the axis (or single elements when flattened),
  // laid out as outer x m x inner.
  int64_t outer = 1, m = x.elements(), inner = 1;
  size_t ax = 0;
  if (has_axis) {
    ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), static_cast<int64_t>(x.shape.size())));
    outer = prod(x.shape, 0, ax);
    m = x.shape[ax];
    inner = prod(x.shape, ax + 1, x.shape.size());
  }
  auto item_cmp = [&](int64_t a, int64_t b) {
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in)
        if (int r = elem_cmp(x, (o * m + a) * inner + in, x, (o * m + b) * inner + in)) return r;
    return 0;
  };
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return item_cmp(a, b) < 0; });
  // Groups of equal items in sorted order; stability makes each group's first
  // entry its first occurrence.
  std::vector<int64_t> first, count, group_of(static_cast<size_t>(m));
  for (size_t i = 0; i < order.size(); ++i) {
    if (i == 0 || item_cmp(order[i - 1], order[i]) != 0) {
      first.push_back(order[i]);
      count.push_back(0);
    }
    ++count.back();
    group_of[static_cast<size_t>(order[i])] = static_cast<int64_t>(first.size() - 1);
  }
  std::vector<size_t> gorder(first.size());
  std::iota(gorder.begin(), gorder.end(), 0);
  if (!sorted) std::sort(gorder.begin(), gorder.end(), [&](size_t a, size_t b) { return first[a] < first[b]; });
  std::vector<int64_t> rank(first.size());
  for (size_t i = 0; i < gorder.size(); ++i) rank[gorder[i]] = static_cast<int64_t>(i);
  const auto u = static_cast<int64_t>(first.size());
  Shape s = has_axis ? x.shape : Shape{u};
  if (has_axis) s[ax] = u;
  HostTensor y = c.make(x.type, s);
  std::vector<int64_t> indices, counts, inverse;
  for (size_t g = 0; g < gorder.size(); ++g) {
    const int64_t item = first[gorder[g]];
    indices.push_back(item);
    counts.push_back(count[gorder[g]]);
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in)
        copy_elem(y, (o * u + static_cast<int64_t>(g)) * inner + in, x, (o * m + item) * inner + in);
  }
  for (int64_t i = 0; i < m; ++i) inverse.push_back(rank[static_cast<size_t>(group_of[static_cast<size_t>(i)])]);
  return {y, vec_i64(indices), vec_i64(inverse), vec_i64(counts)};
}

// ---- Compress ----------------------------------------------------------------------

Tensors op_compress(const Ctx& c) {
  const HostTensor &x = c.in(0), &cond = c.in(1);
  if (cond.shape.size() != 1) c.fail("condition must be 1-D");
  const bool has_axis = c.node.has_attr("axis");
  size_t ax = 0;
  int64_t outer = 1, m = x.elements(), inner = 1;
  if (has_axis) {
    ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), static_cast<int64_t>(x.shape.size())));
    outer = prod(x.shape, 0, ax);
    m = x.shape[ax];
    inner = prod(x.shape, ax + 1, x.shape.size());
  }
  if (cond.elements() > m) c.fail(fmt::format("condition has {} entries for {} slices", cond.elements(), m));
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < cond.elements(); ++i)
    if (is_float(cond.type) ? ld_f(cond, i) != 0 : ld_i(cond, i) != 0) keep.push_back(i);
  const auto k = static_cast<int64_t>(keep.size());
  Shape s = has_axis ? x.shape : Shape{k};
  if (has_axis) s[ax] = k;
  HostTensor y = c.make(x.type, s);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t in = 0; in < inner; ++in)
        copy_elem(y, (o * k + j) * inner + in, x, (o * m + keep[static_cast<size_t>(j)]) * inner + in);
  return {y};
}

// ---- scatters ------------------------------------------------------------------------

enum class Reduction { kNone, kAdd, kMul, kMax, kMin };

Reduction reduction(const Ctx& c) {
  const std::string r = c.node.attr_str("reduction", "none");
  if (r == "none") return Reduction::kNone;
  if (r == "add" && c.opset() >= 16) return Reduction::kAdd;
  if (r == "mul" && c.opset() >= 16) return Reduction::kMul;
  if (r == "max" && c.opset() >= 18) return Reduction::kMax;
  if (r == "min" && c.opset() >= 18) return Reduction::kMin;
  c.unsupported(fmt::format("reduction '{}' at opset {}", r, c.opset()));
}

// y[di] = reduce(y[di], u[ui]) in the element type's semantics.
void combine(HostTensor& y, int64_t di, const HostTensor& u, int64_t ui, Reduction red) {
  if (red == Reduction::kNone) {
    copy_elem(y, di, u, ui);
    return;
  }
  if (is_float(y.type)) {
    const double a = ld_f(y, di), b = ld_f(u, ui);
    switch (red) {
      case Reduction::kAdd: st_f(y, di, a + b); break;
      case Reduction::kMul: st_f(y, di, a * b); break;
      case Reduction::kMax: st_f(y, di, std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b)); break;
      default: st_f(y, di, std::isnan(a) || std::isnan(b) ? NAN : std::min(a, b)); break;
    }
    return;
  }
  const int64_t a = ld_i(y, di), b = ld_i(u, ui);
  const bool un = y.type == ElemType::u64;
  switch (red) {
    case Reduction::kAdd: st_i(y, di, wadd(a, b)); break;
    case Reduction::kMul: st_i(y, di, wmul(a, b)); break;
    case Reduction::kMax: st_i(y, di, icmp(a, b, un) >= 0 ? a : b); break;
    default: st_i(y, di, icmp(a, b, un) <= 0 ? a : b); break;
  }
}

Tensors op_scatter_elements(const Ctx& c) {
  const HostTensor &x = c.in(0), &ind = c.in(1), &upd = c.in(2);
  c.same_type(x, upd);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), r));
  const Reduction red = c.node.op == "Scatter" ? Reduction::kNone : reduction(c);
  if (ind.shape != upd.shape) c.fail(fmt::format("indices shape {} differs from updates shape {}", shape_str(ind.shape), shape_str(upd.shape)));
  if (ind.shape.size() != x.shape.size()) c.fail("data and indices ranks differ");
  for (size_t d = 0; d < x.shape.size(); ++d)
    if (d != ax && ind.shape[d] > x.shape[d]) c.fail(fmt::format("indices shape {} exceeds data shape {}", shape_str(ind.shape), shape_str(x.shape)));
  HostTensor y = x;
  const Shape xs = strides_of(x.shape);
  Shape st = xs;
  st[ax] = 0;
  walk(ind.shape, {&st}, [&](int64_t i, const int64_t*, const int64_t* o) {
    const int64_t k = fix_index(c, ld_i(ind, i), x.shape[ax]);
    combine(y, o[0] + k * xs[ax], upd, i, red);
  });
  return {y};
}

Tensors op_scatter_nd(const Ctx& c) {
  const HostTensor &x = c.in(0), &ind = c.in(1), &upd = c.in(2);
  c.same_type(x, upd);
  const Reduction red = reduction(c);
  if (ind.shape.empty()) c.fail("indices must have rank >= 1");
  const auto k = static_cast<size_t>(ind.shape.back());
  if (k > x.shape.size()) c.fail(fmt::format("index tuples of length {} for rank {}", k, x.shape.size()));
  Shape want(ind.shape.begin(), ind.shape.end() - 1);
  want.insert(want.end(), x.shape.begin() + static_cast<std::ptrdiff_t>(k), x.shape.end());
  if (upd.shape != want) c.fail(fmt::format("updates shape {} should be {}", shape_str(upd.shape), shape_str(want)));
  HostTensor y = x;
  const Shape xs = strides_of(x.shape);
  const int64_t block = prod(x.shape, k, x.shape.size()), tuples = prod(ind.shape, 0, ind.shape.size() - 1);
  const auto sk = static_cast<int64_t>(k);
  for (int64_t t = 0; t < tuples; ++t) {
    int64_t base = 0;
    for (size_t d = 0; d < k; ++d) base += fix_index(c, ld_i(ind, t * sk + static_cast<int64_t>(d)), x.shape[d]) * xs[d];
    for (int64_t e = 0; e < block; ++e) combine(y, base + e, upd, t * block + e, red);
  }
  return {y};
}

Tensors op_gather_nd(const Ctx& c) {
  const HostTensor &x = c.in(0), &ind = c.in(1);
  const int64_t b = c.opset() >= 12 ? c.node.attr_int("batch_dims", 0) : 0;
  if (ind.shape.empty()) c.fail("indices must have rank >= 1");
  const auto r = static_cast<int64_t>(x.shape.size()), q = static_cast<int64_t>(ind.shape.size());
  if (b < 0 || b >= std::min(r, q)) c.fail(fmt::format("batch_dims {} out of range", b));
  const auto ub = static_cast<size_t>(b);
  for (size_t d = 0; d < ub; ++d)
    if (x.shape[d] != ind.shape[d]) c.fail("batch dimensions of data and indices differ");
  const int64_t k = ind.shape.back();
  if (k < 1 || k > r - b) c.fail(fmt::format("index tuples of length {} for rank {} with {} batch dims", k, r, b));
  const auto uk = static_cast<size_t>(k);
  Shape s(ind.shape.begin(), ind.shape.end() - 1);
  s.insert(s.end(), x.shape.begin() + b + k, x.shape.end());
  HostTensor y = c.make(x.type, s);
  const Shape xs = strides_of(x.shape);
  const int64_t batches = prod(x.shape, 0, ub), per_batch = prod(ind.shape, ub, ind.shape.size() - 1);
  const int64_t block = prod(x.shape, ub + uk, x.shape.size()), batch_stride = ub ? xs[ub - 1] : 0;
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t t = 0; t < per_batch; ++t) {
      const int64_t tuple = (bi * per_batch + t) * k;
      int64_t base = bi * batch_stride;
      for (size_t d = 0; d < uk; ++d)
        base += fix_index(c, ld_i(ind, tuple + static_cast<int64_t>(d)), x.shape[ub + d]) * xs[ub + d];
      for (int64_t e = 0; e < block; ++e) copy_elem(y, (bi * per_batch + t) * block + e, x, base + e);
    }
  return {y};
}

// ---- NonMaxSuppression -------------------------------------------------------------

struct Box {
  double y0, x0, y1, x1;
};

// Follows onnxruntime: IoU strictly above the threshold suppresses.
bool suppresses(const Box& a, const Box& b, double iou_threshold) {
  const double ix = std::min(a.x1, b.x1) - std::max(a.x0, b.x0), iy = std::min(a.y1, b.y1) - std::max(a.y0, b.y0);
  if (ix <= 0 || iy <= 0) return false;
  const double inter = ix * iy;
  const double aa = (a.x1 - a.x0) * (a.y1 - a.y0), ab = (b.x1 - b.x0) * (b.y1 - b.y0), uni = aa + ab - inter;
  if (aa <= 0 || ab <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

Tensors op_nms(const Ctx& c) {
  const HostTensor &boxes = c.in(0), &scores = c.in(1);
  if (boxes.shape.size() != 3 || boxes.shape[2] != 4) c.fail("boxes must be [batch, boxes, 4]");
  if (scores.shape.size() != 3 || scores.shape[0] != boxes.shape[0] || scores.shape[2] != boxes.shape[1])
    c.fail(fmt::format("scores shape {} does not match boxes shape {}", shape_str(scores.shape), shape_str(boxes.shape)));
  const int64_t max_out = c.opt(2) && c.opt(2)->elements() ? c.scalar_int(*c.opt(2), "max_output_boxes_per_class") : 0;
  const double iou = c.opt(3) && c.opt(3)->elements() ? c.scalar_f(*c.opt(3), "iou_threshold") : 0.0;
  const bool has_thr = c.opt(4) && c.opt(4)->elements();
  const double thr = has_thr ? c.scalar_f(*c.opt(4), "score_threshold") : 0.0;
  const int64_t center = c.node.attr_int("center_point_box", 0);
  if (center != 0 && center != 1) c.fail(fmt::format("center_point_box {} is not 0 or 1", center));
  const int64_t nb = boxes.shape[0], n = boxes.shape[1], nc = scores.shape[1];
  std::vector<int64_t> sel;
  for (int64_t b = 0; b < nb; ++b) {
    std::vector<Box> bx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int64_t p = (b * n + i) * 4;
      const double v0 = ld_f(boxes, p), v1 = ld_f(boxes, p + 1), v2 = ld_f(boxes, p + 2), v3 = ld_f(boxes, p + 3);
      if (center)
        bx[static_cast<size_t>(i)] = {v1 - v3 / 2, v0 - v2 / 2, v1 + v3 / 2, v0 + v2 / 2};
      else
        bx[static_cast<size_t>(i)] = {std::min(v0, v2), std::min(v1, v3), std::max(v0, v2), std::max(v1, v3)};
    }
    for (int64_t cl = 0; cl < nc; ++cl) {
      if (max_out <= 0) continue;
      std::vector<std::pair<double, int64_t>> cand;
      for (int64_t i = 0; i < n; ++i) {
        const double s = ld_f(scores, (b * nc + cl) * n + i);
        if (!has_thr || s > thr) cand.emplace_back(s, i);
      }
      // highest score first; ties keep the lower box index first
      std::stable_sort(cand.begin(), cand.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
      std::vector<int64_t> kept;
      for (const auto& [s, i] : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        bool ok = true;
        for (int64_t j : kept)
          if (suppresses(bx[static_cast<size_t>(i)], bx[static_cast<size_t>(j)], iou)) {
            ok = false;
            break;
          }
        if (ok) kept.push_back(i);
      }
      for (int64_t i : kept) sel.insert(sel.end(), {b, cl, i});
    }
  }
  HostTensor y = c.make(ElemType::i64, {static_cast<int64_t>(sel.size() / 3), 3});
  for (size_t i = 0; i < sel.size(); ++i) st_i(y, static_cast<int64_t>(i), sel[i]);
  return {y};
}

}  // namespace

void register_dynamic(Registry& r) {
  r["NonZero"] = {op_nonzero, 9};
  r["TopK"] = {op_topk};
  r["Unique"] = {op_unique, 11};
  r["Compress"] = {op_compress, 9};
  r["Scatter"] = {op_scatter_elements, 9, 10};
  r["ScatterElements"] = {op_scatter_elements, 11};
  r["ScatterND"] = {op_scatter_nd, 11};
  r["GatherND"] = {op_gather_nd, 11};
  r["NonMaxSuppression"] = {op_nms, 10};
}

}  // namespace seedchip::hostops::detail
