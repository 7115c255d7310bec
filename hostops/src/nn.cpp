// seedchip — hostops: quantization and normalization ops, for folding
// initializer-only subgraphs (quantized weights, frozen norms).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "internal.h"

namespace seedchip::hostops::detail {

namespace {

// Index of element i's coordinate on `axis` for per-axis parameters (scale,
// zero point): 0 when the parameter is a scalar / one element.
struct PerAxis {
  int64_t n = 1, inner = 1;
  int64_t at(int64_t i) const { return n == 1 ? 0 : (i / inner) % n; }
};

PerAxis per_axis(const Ctx& c, const HostTensor& x, const HostTensor& p, std::string_view what) {
  PerAxis pa;
  if (p.elements() == 1 && p.shape.size() <= 1) return pa;
  if (p.shape.size() != 1) c.fail(fmt::format("{} must be a scalar or 1-D", what));
  if (c.opset() < 13) c.fail(fmt::format("per-axis {} needs opset 13", what));
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", 1), static_cast<int64_t>(x.shape.size())));
  if (p.shape[0] != x.shape[ax]) c.fail(fmt::format("{} has {} entries for axis of size {}", what, p.shape[0], x.shape[ax]));
  pa.n = x.shape[ax];
  pa.inner = prod(x.shape, ax + 1, x.shape.size());
  return pa;
}

// Round half to even, then saturate into the integer type's range.
int64_t saturate(double v, ElemType t) {
  v = std::nearbyint(v);
  const auto lo = static_cast<double>(int_min(t)), hi = static_cast<double>(int_max(t));
  return static_cast<int64_t>(std::clamp(v, lo, hi));
}

Tensors op_quantize_linear(const Ctx& c) {
  const HostTensor &x = c.in(0), &scale = c.in(1);
  const HostTensor* zp = c.opt(2);
  const ElemType t = zp ? zp->type : ElemType::u8;
  if (t != ElemType::u8 && t != ElemType::i8) c.unsupported(fmt::format("output type {}", ir::elem_name(t)));
  const PerAxis ps = per_axis(c, x, scale, "y_scale");
  const PerAxis pz = zp ? per_axis(c, x, *zp, "y_zero_point") : PerAxis{};
  HostTensor y = c.make(t, x.shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    // divide in float like the reference (a double quotient can round differently at .5)
    const double q = scale.type == ElemType::f32 ? static_cast<double>(static_cast<float>(ld_f(x, i)) / static_cast<float>(ld_f(scale, ps.at(i))))
                                                 : ld_f(x, i) / ld_f(scale, ps.at(i));
    const double z = zp ? static_cast<double>(ld_i(*zp, pz.at(i))) : 0.0;
    st_i(y, i, saturate(std::nearbyint(q) + z, t));
  }
  return {y};
}

Tensors op_dequantize_linear(const Ctx& c) {
  const HostTensor &x = c.in(0), &scale = c.in(1);
  const HostTensor* zp = c.opt(2);
  if (is_float(x.type)) c.unsupported(fmt::format("input type {}", ir::elem_name(x.type)));
  if (zp) c.same_type(x, *zp);
  const PerAxis ps = per_axis(c, x, scale, "x_scale");
  const PerAxis pz = zp ? per_axis(c, x, *zp, "x_zero_point") : PerAxis{};
  HostTensor y = c.make(scale.type, x.shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    const int64_t d = wsub(ld_i(x, i), zp ? ld_i(*zp, pz.at(i)) : 0);
    st_f(y, i, static_cast<double>(d) * ld_f(scale, ps.at(i)));
  }
  return {y};
}

Tensors op_dynamic_quantize_linear(const Ctx& c) {
  const HostTensor& x = c.in(0);
  // float32 arithmetic throughout, as the spec's formulas are evaluated
  float mn = 0, mx = 0;
  for (int64_t i = 0; i < x.elements(); ++i) {
    const auto v = static_cast<float>(ld_f(x, i));
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
  const float scale = (mx - mn) / 255.0f;
  HostTensor y = c.make(ElemType::u8, x.shape), ys(ElemType::f32, {}), yz(ElemType::u8, {});
  const double zp = scale == 0 ? 0 : static_cast<double>(saturate(static_cast<double>(0.0f - mn / scale), ElemType::u8));
  for (int64_t i = 0; i < x.elements(); ++i) {
    const float q = scale == 0 ? 0.0f : static_cast<float>(ld_f(x, i)) / scale;
    st_i(y, i, saturate(std::nearbyint(static_cast<double>(q)) + zp, ElemType::u8));
  }
  ys.set(0, scale);
  st_i(yz, 0, static_cast<int64_t>(zp));
  return {y, ys, yz};
}

// Integer operand minus its zero point (scalar, per-row of A or per-column of B), as i32.
HostTensor minus_zero_point(const Ctx& c, const HostTensor& x, const HostTensor* zp, bool rows) {
  HostTensor r = c.make(ElemType::i32, x.shape);
  if (x.shape.empty()) c.fail("operands must have rank >= 1");
  int64_t n = 1, inner = 1;
  if (zp && zp->elements() != 1) {
    if (zp->shape.size() != 1) c.unsupported("zero points of rank > 1");
    n = rows ? (x.shape.size() >= 2 ? x.shape[x.shape.size() - 2] : 1) : x.shape.back();
    inner = rows ? x.shape.back() : 1;
    if (zp->shape[0] != n) c.fail(fmt::format("zero point has {} entries, expected {}", zp->shape[0], n));
  }
  for (int64_t i = 0; i < x.elements(); ++i) st_i(r, i, wsub(ld_i(x, i), zp ? ld_i(*zp, n == 1 ? 0 : (i / inner) % n) : 0));
  return r;
}

Tensors op_matmul_integer(const Ctx& c) {
  const HostTensor &a = c.in(0), &b = c.in(1);
  for (const HostTensor* t : {&a, &b})
    if (t->type != ElemType::u8 && t->type != ElemType::i8) c.fail("operands must be int8 or uint8");
  const HostTensor ai = minus_zero_point(c, a, c.opt(2), true), bi = minus_zero_point(c, b, c.opt(3), false);
  return {matmul(c, ai, bi, ElemType::i32)};
}

// ---- pooling and normalization ------------------------------------------------------

template <bool kMax>
Tensors op_global_pool(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() < 2) c.fail("input must have rank >= 2");
  const int64_t groups = x.shape[0] * x.shape[1], n = prod(x.shape, 2, x.shape.size());
  Shape s = x.shape;
  std::fill(s.begin() + 2, s.end(), 1);
  HostTensor y = c.make(x.type, s);
  for (int64_t g = 0; g < groups; ++g) {
    double acc = kMax ? -INFINITY : 0;
    for (int64_t i = 0; i < n; ++i) {
      const double v = ld_f(x, g * n + i);
      acc = kMax ? (std::isnan(v) || v > acc ? v : acc) : acc + v;
    }
    st_f(y, g, kMax ? acc : acc / static_cast<double>(n));
  }
  return {y};
}

Tensors op_reverse_sequence(const Ctx& c) {
  const HostTensor &x = c.in(0), &lens_t = c.in(1);
  const auto r = static_cast<int64_t>(x.shape.size());
  if (r < 2) c.fail("input must have rank >= 2");
  const auto ba = static_cast<size_t>(c.axis(c.node.attr_int("batch_axis", 1), r));
  const auto ta = static_cast<size_t>(c.axis(c.node.attr_int("time_axis", 0), r));
  if (ba == ta || ba > 1 || ta > 1) c.fail("batch_axis and time_axis must be 0 and 1");
  const std::vector<int64_t> lens = c.ints(lens_t);
  if (static_cast<int64_t>(lens.size()) != x.shape[ba]) c.fail("sequence_lens must have one entry per batch");
  for (int64_t l : lens)
    if (l < 0 || l > x.shape[ta]) c.fail(fmt::format("sequence length {} out of range", l));
  HostTensor y = c.make(x.type, x.shape);
  const Shape xs = strides_of(x.shape);
  walk(x.shape, {}, [&](int64_t i, const int64_t* idx, const int64_t*) {
    const int64_t len = lens[static_cast<size_t>(idx[ba])], t = idx[ta];
    copy_elem(y, i, x, t < len ? i + (len - 1 - 2 * t) * xs[ta] : i);
  });
  return {y};
}

// Per-channel (axis 1) parameter vector of a normalization op.
std::vector<double> channel_param(const Ctx& c, const HostTensor& p, int64_t channels, std::string_view what) {
  if (p.elements() != channels) c.fail(fmt::format("{} has {} elements for {} channels", what, p.elements(), channels));
  std::vector<double> v(static_cast<size_t>(channels));
  for (int64_t i = 0; i < channels; ++i) v[static_cast<size_t>(i)] = ld_f(p, i);
  return v;
}

Tensors op_batch_norm(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (c.opset() >= 14 && c.node.attr_int("training_mode", 0) != 0) c.unsupported("training mode");
  if (c.opset() < 9 && c.node.attr_int("spatial", 1) == 0) c.unsupported("spatial=0");
  if (c.n_outputs(1) > 1) c.unsupported("training outputs (running statistics)");
  if (x.shape.size() < 2) c.fail("input must have rank >= 2");
  const int64_t ch = x.shape[1], inner = prod(x.shape, 2, x.shape.size());
  const auto scale = channel_param(c, c.in(1), ch, "scale"), bias = channel_param(c, c.in(2), ch, "B");
  const auto mean = channel_param(c, c.in(3), ch, "mean"), var = channel_param(c, c.in(4), ch, "var");
  const double eps = c.node.attr_float("epsilon", 1e-5);
  HostTensor y = c.make(x.type, x.shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    const auto k = static_cast<size_t>((i / inner) % ch);
    st_f(y, i, (ld_f(x, i) - mean[k]) / std::sqrt(var[k] + eps) * scale[k] + bias[k]);
  }
  return {y};
}

Tensors op_instance_norm(const Ctx& c) {
  const HostTensor& x = c.in(0);
  if (x.shape.size() < 2) c.fail("input must have rank >= 2");
  const int64_t ch = x.shape[1], groups = x.shape[0] * ch, n = prod(x.shape, 2, x.shape.size());
  const auto scale = channel_param(c, c.in(1), ch, "scale"), bias = channel_param(c, c.in(2), ch, "B");
  const double eps = c.node.attr_float("epsilon", 1e-5);
  HostTensor y = c.make(x.type, x.shape);
  for (int64_t g = 0; g < groups; ++g) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += ld_f(x, g * n + i);
    mean /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) var += (ld_f(x, g * n + i) - mean) * (ld_f(x, g * n + i) - mean);
    var /= static_cast<double>(n);
    const auto k = static_cast<size_t>(g % ch);
    for (int64_t i = 0; i < n; ++i) st_f(y, g * n + i, (ld_f(x, g * n + i) - mean) / std::sqrt(var + eps) * scale[k] + bias[k]);
  }
  return {y};
}

Tensors op_layer_norm(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", -1), r));
  const double eps = c.node.attr_float("epsilon", 1e-5);
  const auto stash = from_onnx_type(c.node.attr_int("stash_type", 1));
  if (!stash || !is_float(*stash)) c.unsupported("stash_type");
  const int64_t outer = prod(x.shape, 0, ax), n = prod(x.shape, ax, x.shape.size());
  const Shape norm(x.shape.begin() + static_cast<std::ptrdiff_t>(ax), x.shape.end());
  // Scale and B broadcast to the normalized shape.
  auto param = [&](const HostTensor* p, double def) {
    std::vector<double> v(static_cast<size_t>(n), def);
    if (!p) return v;
    if (broadcast(c, {norm, p->shape}) != norm) c.fail(fmt::format("parameter shape {} does not broadcast to {}", shape_str(p->shape), shape_str(norm)));
    const Shape st = bcast_strides(p->shape, norm);
    walk(norm, {&st}, [&](int64_t i, const int64_t*, const int64_t* o) { v[static_cast<size_t>(i)] = ld_f(*p, o[0]); });
    return v;
  };
  const auto scale = param(&c.in(1), 1.0), bias = param(c.opt(2), 0.0);
  Shape ss = x.shape;
  std::fill(ss.begin() + static_cast<std::ptrdiff_t>(ax), ss.end(), 1);
  HostTensor y = c.make(x.type, x.shape), mean_t = c.make(*stash, ss), inv_t = c.make(*stash, ss);
  for (int64_t o = 0; o < outer; ++o) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < n; ++i) mean += ld_f(x, o * n + i);
    mean /= static_cast<double>(n);
    for (int64_t i = 0; i < n; ++i) var += (ld_f(x, o * n + i) - mean) * (ld_f(x, o * n + i) - mean);
    var /= static_cast<double>(n);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      st_f(y, o * n + i, (ld_f(x, o * n + i) - mean) * inv * scale[k] + bias[k]);
    }
    st_f(mean_t, o, mean);
    st_f(inv_t, o, inv);
  }
  return {y, mean_t, inv_t};
}

// RMSNormalization (opset 23): x / sqrt(mean(x^2) + eps) * scale over the axes from `axis` on.
Tensors op_rms_norm(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const auto ax = static_cast<size_t>(c.axis(c.node.attr_int("axis", -1), r));
  const double eps = c.node.attr_float("epsilon", 1e-5);
  const int64_t outer = prod(x.shape, 0, ax), n = prod(x.shape, ax, x.shape.size());
  const Shape norm(x.shape.begin() + static_cast<std::ptrdiff_t>(ax), x.shape.end());
  const HostTensor& p = c.in(1);
  if (broadcast(c, {norm, p.shape}) != norm)
    c.fail(fmt::format("scale shape {} does not broadcast to {}", shape_str(p.shape), shape_str(norm)));
  std::vector<double> scale(static_cast<size_t>(n));
  const Shape st = bcast_strides(p.shape, norm);
  walk(norm, {&st}, [&](int64_t i, const int64_t*, const int64_t* o) { scale[static_cast<size_t>(i)] = ld_f(p, o[0]); });
  HostTensor y = c.make(x.type, x.shape);
  for (int64_t o = 0; o < outer; ++o) {
    double ms = 0;
    for (int64_t i = 0; i < n; ++i) ms += ld_f(x, o * n + i) * ld_f(x, o * n + i);
    const double inv = 1.0 / std::sqrt(ms / static_cast<double>(n) + eps);
    for (int64_t i = 0; i < n; ++i) st_f(y, o * n + i, ld_f(x, o * n + i) * inv * scale[static_cast<size_t>(i)]);
  }
  return {y};
}

Tensors op_mean_variance_norm(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto r = static_cast<int64_t>(x.shape.size());
  const std::vector<int64_t> axes = c.axes(c.node.attr_ints("axes", {0, 2, 3}), r);
  Shape kept = x.shape;
  int64_t count = 1;
  for (int64_t a : axes) {
    count *= kept[static_cast<size_t>(a)];
    kept[static_cast<size_t>(a)] = 1;
  }
  Shape ks = strides_of(kept);
  for (int64_t a : axes) ks[static_cast<size_t>(a)] = 0;
  const auto groups = static_cast<size_t>(numel(kept));
  std::vector<double> sum(groups, 0), sq(groups, 0);
  walk(x.shape, {&ks}, [&](int64_t i, const int64_t*, const int64_t* o) {
    const double v = ld_f(x, i);
    sum[static_cast<size_t>(o[0])] += v;
    sq[static_cast<size_t>(o[0])] += v * v;
  });
  HostTensor y = c.make(x.type, x.shape);
  const auto n = static_cast<double>(count);
  // The spec's function: (X - E[X]) / (sqrt(E[X^2] - E[X]^2) + 1e-9)
  walk(x.shape, {&ks}, [&](int64_t i, const int64_t*, const int64_t* o) {
    const auto g = static_cast<size_t>(o[0]);
    const double mean = sum[g] / n, var = sq[g] / n - mean * mean;
    st_f(y, i, (ld_f(x, i) - mean) / (std::sqrt(var) + 9.999999717180685e-10));
  });
  return {y};
}

}  // namespace

// Geometry of a 2-D window op (Conv, MaxPool, AveragePool) over NCHW.
struct Window2d {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0, oh = 0, ow = 0;
};
Window2d window2d(const Ctx& c, const Shape& x, int64_t kh, int64_t kw) {
  if (x.size() != 4) c.unsupported(fmt::format("input of rank {} (the host evaluates 2-D windows over NCHW)", x.size()));
  const std::string pad = c.node.attr_str("auto_pad", "NOTSET");
  if (pad != "NOTSET" && pad != "VALID") c.unsupported(fmt::format("auto_pad {}", pad));
  if (c.node.attr_int("ceil_mode", 0) != 0) c.unsupported("ceil_mode");
  Window2d w;
  w.kh = kh, w.kw = kw;
  const auto st = c.node.attr_ints("strides", {1, 1}), di = c.node.attr_ints("dilations", {1, 1});
  const auto pd = c.node.attr_ints("pads", {0, 0, 0, 0});
  if (st.size() != 2 || di.size() != 2 || pd.size() != 4) c.fail("strides, dilations and pads must be given for 2 spatial dims");
  w.sh = st[0], w.sw = st[1], w.dh = di[0], w.dw = di[1];
  if (pad == "NOTSET") w.pt = pd[0], w.pl = pd[1], w.pb = pd[2], w.pr = pd[3];
  if (w.sh < 1 || w.sw < 1 || w.dh < 1 || w.dw < 1 || w.pt < 0 || w.pl < 0 || w.pb < 0 || w.pr < 0 || kh < 1 || kw < 1)
    c.fail("kernel, strides and dilations must be positive, pads >= 0");
  w.oh = (x[2] + w.pt + w.pb - w.dh * (kh - 1) - 1) / w.sh + 1;
  w.ow = (x[3] + w.pl + w.pr - w.dw * (kw - 1) - 1) / w.sw + 1;
  if (w.oh < 1 || w.ow < 1) c.fail("the window is larger than the padded input");
  return w;
}

// Conv (2-D, groups): y[n, m] = b[m] + sum over c in m's group, kh, kw of x * w, accumulated in double.
Tensors op_conv(const Ctx& c) {
  const HostTensor &x = c.in(0), &w = c.in(1);
  const HostTensor* b = c.opt(2);
  if (w.shape.size() != 4) c.unsupported("weights of rank other than 4");
  const int64_t group = c.node.attr_int("group", 1);
  const int64_t N = x.shape.size() == 4 ? x.shape[0] : 0, C = x.shape.size() == 4 ? x.shape[1] : 0, M = w.shape[0];
  const Window2d g = window2d(c, x.shape, w.shape[2], w.shape[3]);
  if (group < 1 || C % group || M % group || w.shape[1] != C / group) c.fail("channels do not match the weights and group");
  if (b && (b->shape.size() != 1 || b->shape[0] != M)) c.fail("bias must be [M]");
  const int64_t H = x.shape[2], W = x.shape[3], cg = C / group, mg = M / group;
  HostTensor y = c.make(x.type, {N, M, g.oh, g.ow});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m) {
      const int64_t c0 = m / mg * cg;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          double acc = b ? ld_f(*b, m) : 0.0;
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
              if (iy < 0 || iy >= H) continue;
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = ox * g.sw - g.pl + kx * g.dw;
                if (ix < 0 || ix >= W) continue;
                acc += ld_f(x, ((n * C + c0 + ci) * H + iy) * W + ix) * ld_f(w, ((m * cg + ci) * g.kh + ky) * g.kw + kx);
              }
            }
          st_f(y, ((n * M + m) * g.oh + oy) * g.ow + ox, acc);
        }
    }
  return {y};
}

// MaxPool / AveragePool (2-D; AveragePool counts padding when count_include_pad).
template <bool kMax>
Tensors op_pool(const Ctx& c) {
  const HostTensor& x = c.in(0);
  const auto k = c.node.attr_ints("kernel_shape", {});
  if (k.size() != 2) c.unsupported("kernel_shape of other than 2 dims");
  if (kMax && c.n_outputs(1) > 1) c.unsupported("the Indices output");
  if (kMax && c.node.attr_int("storage_order", 0) != 0) c.unsupported("storage_order");
  const Window2d g = window2d(c, x.shape, k[0], k[1]);
  const bool include_pad = c.node.attr_int("count_include_pad", 0) != 0;
  const int64_t NC = x.shape[0] * x.shape[1], H = x.shape[2], W = x.shape[3];
  HostTensor y = c.make(x.type, {x.shape[0], x.shape[1], g.oh, g.ow});
  for (int64_t p = 0; p < NC; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        double acc = kMax ? -INFINITY : 0.0;
        int64_t cnt = 0;
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t iy = oy * g.sh - g.pt + ky * g.dh, ix = ox * g.sw - g.pl + kx * g.dw;
            const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
            if (!inside) {
              // padding counts as zeros only within the padded extent
              if (!kMax && include_pad && iy < H + g.pb && ix < W + g.pr) ++cnt;
              continue;
            }
            const double v = ld_f(x, (p * H + iy) * W + ix);
            if (kMax) acc = std::isnan(v) || v > acc ? v : acc;
            else acc += v, ++cnt;
          }
        st_f(y, (p * g.oh + oy) * g.ow + ox, kMax ? acc : acc / static_cast<double>(std::max<int64_t>(cnt, 1)));
      }
  return {y};
}

void register_nn(Registry& r) {
  r["QuantizeLinear"] = {op_quantize_linear, 10};
  r["DequantizeLinear"] = {op_dequantize_linear, 10};
  r["DynamicQuantizeLinear"] = {op_dynamic_quantize_linear, 11};
  r["MatMulInteger"] = {op_matmul_integer, 10};
  r["Conv"] = {op_conv, 1};
  r["MaxPool"] = {op_pool<true>, 1};
  r["AveragePool"] = {op_pool<false>, 7};
  r["GlobalAveragePool"] = {op_global_pool<false>};
  r["GlobalMaxPool"] = {op_global_pool<true>};
  r["ReverseSequence"] = {op_reverse_sequence, 10};
  r["BatchNormalization"] = {op_batch_norm, 6};
  r["InstanceNormalization"] = {op_instance_norm, 6};
  r["LayerNormalization"] = {op_layer_norm, 17};
  r["MeanVarianceNormalization"] = {op_mean_variance_norm, 9};
  r["RMSNormalization"] = {op_rms_norm, 23, 23};  // newer than the opsets the rest covers
}

}  // namespace seedchip::hostops::detail
