// seedchip — canonicalisation: ops rewritten into ops the lowering knows.
//   QLinearMatMul, QLinearConv  -> DequantizeLinear -> MatMul/Conv -> QuantizeLinear
//   ConvInteger                 -> Cast/Sub zero points -> Conv (fp32, exact below 2^24) -> Cast
//   Einsum (matmul-like)        -> Transpose -> Reshape -> MatMul -> Reshape -> Transpose
//   Resize (nearest, linear)    -> Gather per resized axis with constant indices
//                                  (linear: two gathers blended with constant weights)
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "passes.h"

namespace seedchip::compiler {

namespace {

class Builder {
 public:
  Builder(ir::Graph& g, std::vector<ir::Node>& out, const ir::Node& src) : g_(g), out_(out), src_(src) {}

  int constant(ir::HostTensor t) {
    ir::Value v;
    v.name = fmt::format("{}/c{}", src_.name, n_++);
    v.type = t.type;
    v.shape = t.shape;
    v.data = std::make_shared<const ir::HostTensor>(std::move(t));
    return g_.add_value(std::move(v));
  }
  int ints(std::vector<int64_t> v) {
    ir::HostTensor t(ir::ElemType::i64, {static_cast<int64_t>(v.size())});
    for (size_t i = 0; i < v.size(); ++i) t.set_int(static_cast<int64_t>(i), v[i]);
    return constant(std::move(t));
  }
  int scalar(double v, ir::ElemType t = ir::ElemType::f32) {
    ir::HostTensor h(t, {});
    h.set(0, v);
    return constant(std::move(h));
  }
  // Adds a node; `out` >= 0 reuses an existing value (the source node's output).
  int node(const std::string& op, std::vector<int> inputs, ir::ElemType type, std::vector<int64_t> shape,
           std::map<std::string, ir::Attr> attrs = {}, int out = -1, int opset = 0) {
    ir::Node n;
    n.name = fmt::format("{}/{}{}", src_.name, op, n_++);
    n.op = op;
    n.opset = opset ? opset : std::max(src_.opset, 13);
    n.inputs = std::move(inputs);
    n.attrs = std::move(attrs);
    if (out < 0) {
      ir::Value v;
      v.name = n.name + ":0";
      v.type = type;
      v.shape = std::move(shape);
      out = g_.add_value(std::move(v));
    }
    n.outputs = {out};
    out_.push_back(std::move(n));
    return out;
  }
  const ir::Value& val(int v) const { return g_.values[v]; }

 private:
  ir::Graph& g_;
  std::vector<ir::Node>& out_;
  const ir::Node& src_;
  int n_ = 0;
};

[[noreturn]] void fail(const ir::Node& n, const std::string& why) {
  throw CompileError(fmt::format("node '{}' ({}, opset {}): {}", n.name, n.op, n.opset, why));
}

// y = Dequantize(x, scale, zp): float copy of a quantised tensor.
int dequant(Builder& b, int x, int scale, int zp, int64_t axis = 1) {
  std::vector<int> in = {x, scale};
  if (zp >= 0) in.push_back(zp);
  return b.node("DequantizeLinear", in, ir::ElemType::f32, b.val(x).shape, {{"axis", axis}});
}

bool qlinear(ir::Graph& g, const ir::Node& n, std::vector<ir::Node>& out) {
  Builder b(g, out, n);
  const int y = n.outputs[0];
  if (n.op == "QLinearMatMul") {
    const int a = dequant(b, n.inputs[0], n.inputs[1], n.inputs[2]);
    const int w = dequant(b, n.inputs[3], n.inputs[4], n.inputs[5]);
    const int m = b.node("MatMul", {a, w}, ir::ElemType::f32, g.values[y].shape);
    b.node("QuantizeLinear", {m, n.inputs[6], n.inputs[7]}, g.values[y].type, g.values[y].shape, {}, y);
    return true;
  }
  if (n.op == "QLinearConv") {
    const int a = dequant(b, n.inputs[0], n.inputs[1], n.inputs[2]);
    const int w = dequant(b, n.inputs[3], n.inputs[4], n.inputs.size() > 5 ? n.inputs[5] : -1, 0);
    std::vector<int> conv_in = {a, w};
    if (n.inputs.size() > 8 && n.inputs[8] >= 0) {
      // int32 bias with scale x_scale * w_scale (per output channel)
      const int s = b.node("Mul", {n.inputs[1], n.inputs[4]}, ir::ElemType::f32, g.values[n.inputs[4]].shape);
      const int bf = b.node("Cast", {n.inputs[8]}, ir::ElemType::f32, g.values[n.inputs[8]].shape,
                            {{"to", int64_t{1}}});
      conv_in.push_back(b.node("Mul", {bf, s}, ir::ElemType::f32, g.values[n.inputs[8]].shape));
    }
    const int m = b.node("Conv", conv_in, ir::ElemType::f32, g.values[y].shape, n.attrs, -1, 11);
    b.node("QuantizeLinear", {m, n.inputs[6], n.inputs[7]}, g.values[y].type, g.values[y].shape, {}, y);
    return true;
  }
  if (n.op == "ConvInteger") {
    auto shifted = [&](int x, int zp) {
      const int f = b.node("Cast", {x}, ir::ElemType::f32, g.values[x].shape, {{"to", int64_t{1}}});
      if (zp < 0) return f;
      const int zf = b.node("Cast", {zp}, ir::ElemType::f32, g.values[zp].shape, {{"to", int64_t{1}}});
      return b.node("Sub", {f, zf}, ir::ElemType::f32, g.values[x].shape);
    };
    const int a = shifted(n.inputs[0], n.inputs.size() > 2 ? n.inputs[2] : -1);
    const int w = shifted(n.inputs[1], n.inputs.size() > 3 ? n.inputs[3] : -1);
    const int m = b.node("Conv", {a, w}, ir::ElemType::f32, g.values[y].shape, n.attrs, -1, 11);
    b.node("Cast", {m}, g.values[y].type, g.values[y].shape, {{"to", int64_t{6}}}, y);
    return true;
  }
  return false;
}

bool einsum(ir::Graph& g, const ir::Node& n, std::vector<ir::Node>& out) {
  if (n.op != "Einsum") return false;
  std::string eq = n.attr_str("equation", "");
  eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
  if (eq.find("...") != std::string::npos) fail(n, "Einsum with '...' is not supported yet");
  const auto arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow), rhs;
  std::vector<std::string> terms;
  for (size_t s = 0;;) {
    auto c = lhs.find(',', s);
    terms.push_back(lhs.substr(s, c - s));
    if (c == std::string::npos) break;
    s = c + 1;
  }
  if (arrow == std::string::npos) {  // implicit output: letters appearing once, sorted
    std::map<char, int> cnt;
    for (auto& t : terms)
      for (char c : t) cnt[c]++;
    for (auto& [c, k] : cnt)
      if (k == 1) rhs += c;
  } else {
    rhs = eq.substr(arrow + 2);
  }
  for (auto& t : terms)
    if (std::set<char>(t.begin(), t.end()).size() != t.size()) fail(n, "repeated indices (diagonals) are not supported yet");
  Builder b(g, out, n);
  const int y = n.outputs[0];
  std::map<char, int64_t> size;
  for (size_t i = 0; i < terms.size(); ++i)
    for (size_t k = 0; k < terms[i].size(); ++k) size[terms[i][k]] = g.values[n.inputs[i]].shape[k];
  auto perm_to = [&](const std::string& from, const std::string& to) {
    std::vector<int64_t> p;
    for (char c : to) p.push_back(static_cast<int64_t>(from.find(c)));
    return p;
  };
  auto shape_of = [&](const std::string& s) {
    std::vector<int64_t> r;
    for (char c : s) r.push_back(size[c]);
    return r;
  };
  const ir::ElemType t = g.values[y].type;
  if (terms.size() == 1) {
    const std::string& a = terms[0];
    std::string red;
    for (char c : a)
      if (rhs.find(c) == std::string::npos) red += c;
    int cur = n.inputs[0];
    std::string cur_s = a;
    if (!red.empty()) {
      std::vector<int64_t> axes;
      std::string kept;
      for (size_t k = 0; k < a.size(); ++k) {
        if (red.find(a[k]) != std::string::npos) axes.push_back(static_cast<int64_t>(k));
        else kept += a[k];
      }
      cur = b.node("ReduceSum", {cur, b.ints(axes)}, t, shape_of(kept), {{"keepdims", int64_t{0}}});
      cur_s = kept;
    }
    b.node("Transpose", {cur}, t, shape_of(rhs), {{"perm", perm_to(cur_s, rhs)}}, y);
    return true;
  }
  if (terms.size() != 2) fail(n, "Einsum with more than two operands is not supported yet");
  const std::string &A = terms[0], &B = terms[1];
  std::string batch, contract, afree, bfree;
  for (char c : A) {
    const bool inB = B.find(c) != std::string::npos, inO = rhs.find(c) != std::string::npos;
    if (inB && inO) batch += c;
    else if (inB) contract += c;
    else if (inO) afree += c;
    else fail(n, fmt::format("index '{}' is summed over one operand only (not supported yet)", c));
  }
  for (char c : B) {
    const bool inA = A.find(c) != std::string::npos, inO = rhs.find(c) != std::string::npos;
    if (!inA && inO) bfree += c;
    else if (!inA) fail(n, fmt::format("index '{}' is summed over one operand only (not supported yet)", c));
  }
  auto prod = [&](const std::string& s) {
    int64_t p = 1;
    for (char c : s) p *= size[c];
    return p;
  };
  const int64_t Bt = prod(batch), M = prod(afree), K = prod(contract), N = prod(bfree);
  auto arrange = [&](int v, const std::string& from, const std::string& to, std::vector<int64_t> shape3) {
    const int tr = b.node("Transpose", {v}, g.values[v].type, shape_of(to), {{"perm", perm_to(from, to)}});
    return b.node("Reshape", {tr, b.ints(shape3)}, g.values[v].type, shape3);
  };
  const int a3 = arrange(n.inputs[0], A, batch + afree + contract, {Bt, M, K});
  const int b3 = arrange(n.inputs[1], B, batch + contract + bfree, {Bt, K, N});
  const int mm = b.node("MatMul", {a3, b3}, t, {Bt, M, N});
  const std::string res = batch + afree + bfree;
  const int r = b.node("Reshape", {mm, b.ints(shape_of(res))}, t, shape_of(res));
  b.node("Transpose", {r}, t, shape_of(rhs), {{"perm", perm_to(res, rhs)}}, y);
  return true;
}

// Source coordinate of output index i along an axis (ONNX Resize spec).
double resize_coord(const std::string& mode, int64_t i, double scale, int64_t in, int64_t out) {
  const double x = static_cast<double>(i);
  if (mode == "align_corners") return out == 1 ? 0.0 : x * static_cast<double>(in - 1) / static_cast<double>(out - 1);
  if (mode == "asymmetric") return x / scale;
  if (mode == "pytorch_half_pixel") return out > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
  if (mode == "tf_half_pixel_for_nn") return (x + 0.5) / scale;
  return (x + 0.5) / scale - 0.5;  // half_pixel
}

bool resize(ir::Graph& g, const ir::Node& n, std::vector<ir::Node>& out) {
  if (n.op != "Resize" && n.op != "Upsample") return false;
  const std::string mode = n.attr_str("mode", "nearest");
  if (mode != "nearest" && mode != "linear") fail(n, fmt::format("mode '{}' is not supported yet (nearest, linear)", mode));
  const std::string ctm = n.opset < 11 ? "asymmetric" : n.attr_str("coordinate_transformation_mode", "half_pixel");
  if (ctm == "tf_crop_and_resize") fail(n, "tf_crop_and_resize is not supported yet");
  if (n.attr_int("antialias", 0) != 0) fail(n, "antialias is not supported yet");
  const std::string nmode = n.attr_str("nearest_mode", n.opset < 11 ? "floor" : "round_prefer_floor");
  const int x = n.inputs[0], y = n.outputs[0];
  const auto in_shape = g.values[x].shape;  // copies: the builder grows g.values
  const auto out_shape = g.values[y].shape;
  const size_t rank = in_shape.size();
  // scales: from the scales input when given (they change the coordinate maths), else out/in
  std::vector<double> scales(rank, 1.0);
  int scales_in = n.op == "Upsample" ? 1 : (n.opset >= 11 ? 2 : 1);
  bool have_scales = false;
  if (n.op == "Upsample" && n.has_attr("scales")) {
    scales = n.attr_floats("scales", {});
    have_scales = true;
  } else if (static_cast<int>(n.inputs.size()) > scales_in && n.inputs[scales_in] >= 0 &&
             g.values[n.inputs[scales_in]].is_const() && g.values[n.inputs[scales_in]].elements() == static_cast<int64_t>(rank)) {
    const auto& t = *g.values[n.inputs[scales_in]].data;
    for (size_t d = 0; d < rank; ++d) scales[d] = t.get(static_cast<int64_t>(d));
    have_scales = true;
  }
  if (n.has_attr("axes")) fail(n, "the axes attribute is not supported yet");
  for (size_t d = 0; d < rank; ++d)
    if (!have_scales) scales[d] = static_cast<double>(out_shape[d]) / static_cast<double>(in_shape[d]);
  Builder b(g, out, n);
  int cur = x;
  std::vector<int64_t> cur_shape = in_shape;
  const ir::ElemType t = g.values[y].type;
  std::vector<size_t> axes;
  for (size_t d = 0; d < rank; ++d)
    if (out_shape[d] != in_shape[d] || have_scales) axes.push_back(d);
  axes.erase(std::remove_if(axes.begin(), axes.end(), [&](size_t d) { return out_shape[d] == in_shape[d] && scales[d] == 1.0; }),
             axes.end());
  if (axes.empty()) {
    b.node("Identity", {x}, t, out_shape, {}, y);
    return true;
  }
  for (size_t k = 0; k < axes.size(); ++k) {
    const size_t d = axes[k];
    const int64_t in = in_shape[d], on = out_shape[d];
    std::vector<int64_t> next = cur_shape;
    next[d] = on;
    const bool last = k + 1 == axes.size();
    if (mode == "nearest") {
      ir::HostTensor idx(ir::ElemType::i64, {on});
      for (int64_t i = 0; i < on; ++i) {
        const double c = resize_coord(ctm, i, scales[d], in, on);
        int64_t s;
        if (nmode == "floor") s = static_cast<int64_t>(std::floor(c));
        else if (nmode == "ceil") s = static_cast<int64_t>(std::ceil(c));
        else if (nmode == "round_prefer_ceil") s = static_cast<int64_t>(std::floor(c + 0.5));
        else s = c == std::floor(c) + 0.5 ? static_cast<int64_t>(std::floor(c)) : static_cast<int64_t>(std::round(c));
        idx.set_int(i, std::clamp<int64_t>(s, 0, in - 1));
      }
      cur = b.node("Gather", {cur, b.constant(std::move(idx))}, t, next, {{"axis", static_cast<int64_t>(d)}}, last ? y : -1);
    } else {
      ir::HostTensor i0(ir::ElemType::i64, {on}), i1(ir::ElemType::i64, {on});
      std::vector<int64_t> wshape(rank, 1);
      wshape[d] = on;
      ir::HostTensor w(ir::ElemType::f32, wshape);
      for (int64_t i = 0; i < on; ++i) {
        double c = resize_coord(ctm, i, scales[d], in, on);
        c = std::clamp(c, 0.0, static_cast<double>(in - 1));
        const int64_t lo = static_cast<int64_t>(std::floor(c));
        const int64_t hi = std::min(lo + 1, in - 1);
        i0.set_int(i, lo);
        i1.set_int(i, hi);
        w.set(i, c - static_cast<double>(lo));
      }
      const int ga = b.node("Gather", {cur, b.constant(std::move(i0))}, t, next, {{"axis", static_cast<int64_t>(d)}});
      const int gb = b.node("Gather", {cur, b.constant(std::move(i1))}, t, next, {{"axis", static_cast<int64_t>(d)}});
      const int diff = b.node("Sub", {gb, ga}, t, next);
      const int sc = b.node("Mul", {diff, b.constant(std::move(w))}, t, next);
      cur = b.node("Add", {ga, sc}, t, next, {}, last ? y : -1);
    }
    cur_shape = next;
  }
  return true;
}

}  // namespace

ir::Graph canonicalize(ir::Graph g) {
  std::vector<ir::Node> out;
  std::vector<ir::Node> nodes = std::move(g.nodes);
  g.nodes.clear();
  for (auto& n : nodes) {
    if (n.domain.empty() && (qlinear(g, n, out) || einsum(g, n, out) || resize(g, n, out))) continue;
    out.push_back(std::move(n));
  }
  g.nodes = std::move(out);
  g.compact();
  return g;
}

}  // namespace seedchip::compiler
