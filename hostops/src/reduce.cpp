// seedchip — hostops: reductions, scans, softmax family and matrix products.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops::detail {

namespace {

enum class Red { kSum, kMean, kMax, kMin, kProd, kSumSquare, kL1, kL2, kLogSum, kLogSumExp };

template <Red kRed>
Tensors op_reduce(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  // Axes moved from attribute to input in opset 13 for ReduceSum, 18 for the rest.
  const bool from_input = (kRed == Red::kSum && c.opset() >= 13) || c.opset() >= 18;
  std::vector<int64_t> axes;
  if (from_input) {
    if (const HostTensor* a = c.opt(1)) axes = c.ints(*a);
  } else {
    axes = c.node.attr_ints("axes", {});
  }
  if (axes.empty()) {
    if (from_input && c.node.attr_int("noop_with_empty_axes", 0) != 0) return {x};
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  } else {
    axes = c.axes(axes, r);
  }
  const bool keep = c.node.attr_int("keepdims", 1) != 0;
  std::vector<char> red(x.shape.size(), 0);
  for (int64_t a : axes) red[static_cast<size_t>(a)] = 1;
  Shape kept = x.shape, out_shape;
  int64_t count = 1;
  for (size_t d = 0; d < x.shape.size(); ++d) {
    if (red[d]) {
      count *= x.shape[d];
      kept[d] = 1;
      if (keep) out_shape.push_back(1);
    } else {
      out_shape.push_back(x.shape[d]);
    }
  }
  Shape ks = strides_of(kept);
  for (size_t d = 0; d < ks.size(); ++d)
    if (red[d]) ks[d] = 0;
  HostTensor y = c.make(x.type, out_shape);
  const auto n_out = static_cast<size_t>(y.elements());

  if (!is_float(x.type) && kRed != Red::kMean && kRed != Red::kL2 && kRed != Red::kLogSum && kRed != Red::kLogSumExp) {
    // exact integer reductions, wrapping like numpy
    const bool u = x.type == ElemType::u64;
    int64_t init = 0;
    if (kRed == Red::kProd) init = 1;
    if (kRed == Red::kMax) init = int_min(x.type);
    if (kRed == Red::kMin) init = int_max(x.type);
    std::vector<int64_t> acc(n_out, init);
    walk(x.shape, {&ks}, [&](int64_t i, const int64_t*, const int64_t* o) {
      int64_t& a = acc[static_cast<size_t>(o[0])];
      const int64_t v = ld_i(x, i);
      switch (kRed) {
        case Red::kProd: a = wmul(a, v); break;
        case Red::kMax: a = icmp(v, a, u) > 0 ? v : a; break;
        case Red::kMin: a = icmp(v, a, u) < 0 ? v : a; break;
        case Red::kSumSquare: a = wadd(a, wmul(v, v)); break;
        case Red::kL1: a = wadd(a, !u && v < 0 ? wneg(v) : v); break;
        default: a = wadd(a, v); break;
      }
    });
    for (size_t i = 0; i < n_out; ++i) st_i(y, static_cast<int64_t>(i), acc[i]);
    return {y};
  }

  double init = 0;
  if (kRed == Red::kProd) init = 1;
  if (kRed == Red::kMax || kRed == Red::kLogSumExp) init = -INFINITY;
  if (kRed == Red::kMin) init = INFINITY;
  std::vector<double> acc(n_out, init);
  walk(x.shape, {&ks}, [&](int64_t i, const int64_t*, const int64_t* o) {
    double& a = acc[static_cast<size_t>(o[0])];
    const double v = ld_f(x, i);
    switch (kRed) {
      case Red::kProd: a *= v; break;
      case Red::kMax:
      case Red::kLogSumExp: a = std::isnan(v) || v > a ? v : a; break;  // NaN sticks: nothing compares above it
      case Red::kMin: a = std::isnan(v) || v < a ? v : a; break;
      case Red::kSumSquare:
      case Red::kL2: a += v * v; break;
      case Red::kL1: a += std::fabs(v); break;
      default: a += v; break;
    }
  });
  if (kRed == Red::kLogSumExp) {
    // log(sum(exp(x - max))) + max: exact in math, no overflow in exp
    std::vector<double> sum(n_out, 0);
    walk(x.shape, {&ks}, [&](int64_t i, const int64_t*, const int64_t* o) {
      const auto k = static_cast<size_t>(o[0]);
      if (std::isfinite(acc[k])) sum[k] += std::exp(ld_f(x, i) - acc[k]);
    });
    for (size_t k = 0; k < n_out; ++k)
      if (std::isfinite(acc[k])) acc[k] += std::log(sum[k]);
  }
  for (size_t i = 0; i < n_out; ++i) {
    double v = acc[i];
    if (kRed == Red::kMean) v /= static_cast<double>(count);
    if (kRed == Red::kL2) v = std::sqrt(v);
    if (kRed == Red::kLogSum) v = std::log(v);
    st_f(y, static_cast<int64_t>(i), v);
  }
  return {y};
}

// ---- arg max/min -------------------------------------------------------------------

template <bool kMax>
Tensors op_arg(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 0), r));
  const bool keep = c.node.attr_int("keepdims", 1) != 0, last = c.node.attr_int("select_last_index", 0) != 0;
  const int64_t n = x.shape[ax], outer = prod(x.shape, 0, ax), inner = prod(x.shape, ax + 1, x.shape.size());
  if (n == 0) c.fail("cannot reduce an empty axis");
  Shape s = x.shape;
  if (keep)
    s[ax] = 1;
  else
    s.erase(s.begin() + static_cast<std::ptrdiff_t>(ax));
  HostTensor y = c.make(ElemType::i64, s);
  const bool fl = is_float(x.type), u = x.type == ElemType::u64;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      const int64_t base = o * n * inner + in;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j) {
        const int64_t pj = base + j * inner, pb = base + best * inner;
        int cmp;  // > 0 when element j beats the best so far
        if (fl) {
          const double v = ld_f(x, pj), b = ld_f(x, pb);
          // NaN wins like numpy's argmax/argmin (first one, or last with select_last_index)
          if (std::isnan(b)) cmp = std::isnan(v) ? 0 : -1;
          else if (std::isnan(v)) cmp = 1;
          else cmp = kMax ? (v > b) - (v < b) : (v < b) - (v > b);
        } else {
          const int k = icmp(ld_i(x, pj), ld_i(x, pb), u);
          cmp = kMax ? k : -k;
        }
        if (cmp > 0 || (cmp == 0 && last)) best = j;
      }
      st_i(y, o * inner + in, best);
    }
  return {y};
}

// ---- CumSum ------------------------------------------------------------------------

Tensors op_cumsum(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.scalar_int(c.in(1), "axis"), r));
  const bool excl = c.node.attr_int("exclusive", 0) != 0, rev = c.node.attr_int("reverse", 0) != 0;
  const int64_t n = x.shape[ax], outer = prod(x.shape, 0, ax), inner = prod(x.shape, ax + 1, x.shape.size());
  HostTensor y = c.make(x.type, x.shape);
  const bool fl = is_float(x.type);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double facc = 0;
      int64_t iacc = 0;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t j = rev ? n - 1 - k : k, p = (o * n + j) * inner + in;
        if (fl) {
          const double v = ld_f(x, p);
          if (!excl) facc += v;
          st_f(y, p, facc);
          if (excl) facc += v;
        } else {
          const int64_t v = ld_i(x, p);
          if (!excl) iacc = wadd(iacc, v);
          st_i(y, p, iacc);
          if (excl) iacc = wadd(iacc, v);
        }
      }
    }
  return {y};
}

// ---- softmax family ------------------------------------------------------------------

// Rows of the softmax family as (outer, n, inner): opset < 13 coerces to 2-D
// at `axis` (default 1); later opsets work along one axis (default -1).
void rows(const Ctx& c, const HostTensor& x, int64_t& outer, int64_t& n, int64_t& inner) {
  const auto r = static_cast<int64_t>(x.shape.size());
  if (c.opset() < 13) {
    int64_t a = c.node.attr_int("axis", 1);
    if (a < -r || a > r) c.fail(fmt::format("axis {} out of range for rank {}", a, r));
    if (a < 0) a += r;
    outer = prod(x.shape, 0, static_cast<size_t>(a));
    n = prod(x.shape, static_cast<size_t>(a), x.shape.size());
    inner = 1;
    return;
  }
  const auto a = static_cast<size_t>(c.axis(c.node.attr_int("axis", -1), r));
  outer = prod(x.shape, 0, a);
  n = x.shape[a];
  inner = prod(x.shape, a + 1, x.shape.size());
}

template <int kKind>  // 0 Softmax, 1 LogSoftmax, 2 Hardmax
Tensors op_softmax(const Ctx& c) {
  const HostTensor& x = c.in(0);
  int64_t outer, n, inner;
  rows(c, x, outer, n, inner);
  HostTensor y = c.make(x.type, x.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t j) { return (o * n + j) * inner + in; };
      if (n == 0) continue;
      int64_t arg = 0;  // first maximum
      double m = ld_f(x, at(0));
      for (int64_t j = 1; j < n; ++j) {
        const double v = ld_f(x, at(j));
        if (v > m) {
          m = v;
          arg = j;
        }
      }
      if (kKind == 2) {
        st_f(y, at(arg), 1.0);
        continue;
      }
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(ld_f(x, at(j)) - m);
      for (int64_t j = 0; j < n; ++j) {
        const double d = ld_f(x, at(j)) - m;
        st_f(y, at(j), kKind == 0 ? std::exp(d) / sum : d - std::log(sum));
      }
    }
  return {y};
}

// ---- matrix products -------------------------------------------------------------------

}  // namespace

HostTensor matmul(const Ctx& c, const HostTensor& a, const HostTensor& b, ElemType out_type) {
  if (a.shape.empty() || b.shape.empty()) c.fail("operands must have rank >= 1");
  // numpy.matmul: 1-D operands gain a dim that is dropped from the result
  Shape as = a.shape, bs = b.shape;
  if (as.size() == 1) as.insert(as.begin(), 1);
  if (bs.size() == 1) bs.push_back(1);
  const int64_t m = as[as.size() - 2], k = as.back(), k2 = bs[bs.size() - 2], nn = bs.back();
  if (k != k2) c.fail(fmt::format("inner dimensions differ: {} and {}", shape_str(a.shape), shape_str(b.shape)));
  const Shape ab(as.begin(), as.end() - 2), bb(bs.begin(), bs.end() - 2);
  const Shape batch = broadcast(c, {ab, bb});
  Shape s = batch;
  if (a.shape.size() > 1) s.push_back(m);
  if (b.shape.size() > 1) s.push_back(nn);
  HostTensor y = c.make(out_type, s);
  Shape sa = bcast_strides(ab, batch), sb = bcast_strides(bb, batch);
  for (auto& v : sa) v *= m * k;
  for (auto& v : sb) v *= k * nn;
  const bool fl = is_float(a.type);
  walk(batch, {&sa, &sb}, [&](int64_t bi, const int64_t*, const int64_t* o) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < nn; ++j) {
        const int64_t dst = (bi * m + i) * nn + j;
        if (fl) {
          double acc = 0;
          for (int64_t p = 0; p < k; ++p) acc += ld_f(a, o[0] + i * k + p) * ld_f(b, o[1] + p * nn + j);
          st_f(y, dst, acc);
        } else {
          int64_t acc = 0;
          for (int64_t p = 0; p < k; ++p) acc = wadd(acc, wmul(ld_i(a, o[0] + i * k + p), ld_i(b, o[1] + p * nn + j)));
          st_i(y, dst, acc);
        }
      }
  });
  return y;
}

namespace {

Tensors op_matmul(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  c.same_type(a, b);
  return {matmul(c, a, b, a.type)};
}

Tensors op_gemm(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  const HostTensor* cc = c.opt(2);
  c.same_type(a, b);
  if (a.shape.size() != 2 || b.shape.size() != 2) c.fail("A and B must be 2-D");
  const bool ta = c.node.attr_int("transA", 0) != 0, tb = c.node.attr_int("transB", 0) != 0;
  const double alpha = c.node.attr_float("alpha", 1.0), beta = c.node.attr_float("beta", 1.0);
  const int64_t m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1];
  const int64_t kb = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1];
  if (k != kb) c.fail(fmt::format("inner dimensions differ: {} and {}", shape_str(a.shape), shape_str(b.shape)));
  const Shape s{m, n};
  Shape sc;
  if (cc) {
    c.same_type(a, *cc);
    if (broadcast(c, {s, cc->shape}) != s) c.fail(fmt::format("C of shape {} does not broadcast to {}", shape_str(cc->shape), shape_str(s)));
    sc = bcast_strides(cc->shape, s);
  }
  HostTensor y = c.make(a.type, s);
  auto ai = [&](int64_t i, int64_t p) { return ta ? p * m + i : i * k + p; };
  auto bi = [&](int64_t p, int64_t j) { return tb ? j * k + p : p * n + j; };
  const bool exact = !is_float(a.type) && alpha == 1.0 && beta == 1.0;
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t co = cc ? i * sc[0] + j * sc[1] : 0;
      if (exact) {
        int64_t acc = cc ? ld_i(*cc, co) : 0;
        for (int64_t p = 0; p < k; ++p) acc = wadd(acc, wmul(ld_i(a, ai(i, p)), ld_i(b, bi(p, j))));
        st_i(y, i * n + j, acc);
      } else {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += ld_f(a, ai(i, p)) * ld_f(b, bi(p, j));
        double v = alpha * acc;
        if (cc) v += beta * ld_f(*cc, co);
        st_f(y, i * n + j, v);
      }
    }
  return {y};
}

}  // namespace

void register_reduce(Registry& r) {
  r["ReduceSum"] = {op_reduce<Red::kSum>};
  r["ReduceMean"] = {op_reduce<Red::kMean>};
  r["ReduceMax"] = {op_reduce<Red::kMax>};
  r["ReduceMin"] = {op_reduce<Red::kMin>};
  r["ReduceProd"] = {op_reduce<Red::kProd>};
  r["ReduceSumSquare"] = {op_reduce<Red::kSumSquare>};
  r["ReduceL1"] = {op_reduce<Red::kL1>};
  r["ReduceL2"] = {op_reduce<Red::kL2>};
  r["ReduceLogSum"] = {op_reduce<Red::kLogSum>};
  r["ReduceLogSumExp"] = {op_reduce<Red::kLogSumExp>};
  r["ArgMax"] = {op_arg<true>};
  r["ArgMin"] = {op_arg<false>};
  r["CumSum"] = {op_cumsum, 11};
  r["Softmax"] = {op_softmax<0>};
  r["LogSoftmax"] = {op_softmax<1>};
  r["Hardmax"] = {op_softmax<2>};
  r["MatMul"] = {op_matmul};
  r["Gemm"] = {op_gemm};
}

}  // namespace seedchip::hostops::detail
