// seedchip — data-movement ops: Transpose, Slice, Concat, Split, Expand,
// Tile, Pad, DepthToSpace/SpaceToDepth, Gather, GatherElements, Trilu. Most
// are one strided DMA view copied into another through SRAM.
#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "lowering.h"

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Space;

namespace {

int norm_axis(Lowering& L, const ir::Node& n, int64_t a, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (a < -r || a >= std::max<int64_t>(r, 1)) L.fail(n, fmt::format("axis {} out of range for rank {}", a, rank));
  return static_cast<int>(a < 0 ? a + r : a);
}

std::vector<int64_t> const_ints(Lowering& L, const ir::Node& n, size_t idx, const char* what) {
  if (idx >= n.inputs.size() || n.inputs[idx] < 0) return {};
  const ir::HostTensor* t = L.constant(n.inputs[idx]);
  if (!t) L.host(n, fmt::format("input '{}' must be a constant", what));
  std::vector<int64_t> v;
  for (int64_t i = 0; i < t->elements(); ++i) v.push_back(t->get_int(i));
  return v;
}

View reshape_dense(const View& v, std::vector<int64_t> shape) {
  return View::dense(v.space, v.addr, v.dtype, std::move(shape));
}

}  // namespace

bool lower_layout(Lowering& L, const ir::Node& n) {
  const auto& g = L.graph();
  const std::string& op = n.op;
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  const int ov = n.outputs[0];
  const auto& oshape = g.values[ov].shape;

  if (op == "Transpose") {
    const View in = L.hbm(n.inputs[0]);
    std::vector<int64_t> perm = n.attr_ints("perm", {});
    const size_t rank = in.shape.size();
    if (perm.empty())
      for (size_t i = 0; i < rank; ++i) perm.push_back(static_cast<int64_t>(rank - 1 - i));
    std::vector<int> p;
    for (auto x : perm) p.push_back(norm_axis(L, n, x, rank));
    L.copy(in.permute(p), L.hbm(ov));
    return true;
  }
  if (op == "Expand") {
    View in = L.hbm(n.inputs[0]);
    View b = in;
    b.shape = oshape;
    b.strides.assign(oshape.size(), 0);
    const size_t off = oshape.size() - in.shape.size();
    for (size_t i = 0; i < in.shape.size(); ++i) b.strides[off + i] = in.shape[i] == 1 ? 0 : in.strides[i];
    L.copy(b, L.hbm(ov));
    return true;
  }
  if (op == "Slice") {
    View in = L.hbm(n.inputs[0]);
    const size_t rank = in.shape.size();
    std::vector<int64_t> starts, ends, axes, steps;
    if (n.opset < 10) {
      starts = n.attr_ints("starts", {});
      ends = n.attr_ints("ends", {});
      axes = n.attr_ints("axes", {});
    } else {
      starts = const_ints(L, n, 1, "starts");
      ends = const_ints(L, n, 2, "ends");
      axes = const_ints(L, n, 3, "axes");
      steps = const_ints(L, n, 4, "steps");
    }
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (steps.empty()) steps.assign(starts.size(), 1);
    View v = in;
    for (size_t i = 0; i < starts.size(); ++i) {
      const int a = norm_axis(L, n, axes[i], rank);
      const int64_t dim = in.shape[a], step = steps[i];
      if (step == 0) L.fail(n, "slice step 0");
      int64_t s = starts[i], e = ends[i];
      if (s < 0) s += dim;
      if (e < 0) e += dim;
      if (step > 0) {
        s = std::clamp<int64_t>(s, 0, dim);
        e = std::clamp<int64_t>(e, 0, dim);
      } else {
        s = std::clamp<int64_t>(s, 0, dim - 1);
        e = std::clamp<int64_t>(e, -1, dim - 1);
      }
      const int64_t len = step > 0 ? std::max<int64_t>(0, (e - s + step - 1) / step)
                                   : std::max<int64_t>(0, (s - e + (-step) - 1) / (-step));
      v = v.slice(a, len ? s : 0, len, step);
    }
    if (v.elements() > 0) L.copy(v, L.hbm(ov));
    return true;
  }
  if (op == "Concat") {
    const View out = L.hbm(ov);
    const int axis = norm_axis(L, n, n.attr_int("axis", 0), oshape.size());
    int64_t off = 0;
    for (int vi : n.inputs) {
      if (vi < 0) continue;
      const View in = L.hbm(vi);
      const int64_t len = in.shape[axis];
      if (len > 0 && in.elements() > 0) L.copy(in, out.slice(axis, off, len));
      off += len;
    }
    return true;
  }
  if (op == "Split") {
    const View in = L.hbm(n.inputs[0]);
    const int axis = norm_axis(L, n, n.attr_int("axis", 0), in.shape.size());
    int64_t off = 0;
    for (int o : n.outputs) {
      if (o < 0) continue;
      const View out = L.hbm(o);
      const int64_t len = out.shape[axis];
      if (len > 0 && out.elements() > 0) L.copy(in.slice(axis, off, len), out);
      off += len;
    }
    return true;
  }
  if (op == "Tile") {
    const View in = L.hbm(n.inputs[0]);
    const View out = L.hbm(ov);
    const auto reps = const_ints(L, n, 1, "repeats");
    // out dim i = reps[i] x in dim i: split each into (rep, dim); the source repeats with stride 0.
    View s, d;
    s.space = in.space, s.addr = in.addr, s.dtype = in.dtype;
    d.space = out.space, d.addr = out.addr, d.dtype = out.dtype;
    for (size_t i = 0; i < in.shape.size(); ++i) {
      s.shape.push_back(reps[i]), s.strides.push_back(0);
      s.shape.push_back(in.shape[i]), s.strides.push_back(in.strides[i]);
      d.shape.push_back(reps[i]), d.strides.push_back(in.shape[i] * out.strides[i]);
      d.shape.push_back(in.shape[i]), d.strides.push_back(out.strides[i]);
    }
    if (out.elements() > 0) L.copy(s, d);
    return true;
  }
  if (op == "Pad") {
    const View in = L.hbm(n.inputs[0]);
    const View out = L.hbm(ov);
    const std::string mode = n.attr_str("mode", "constant");
    if (mode != "constant") L.host(n, fmt::format("pad mode '{}' is not supported yet (constant only)", mode));
    std::vector<int64_t> pads;
    double value = 0;
    if (n.opset < 11) {
      pads = n.attr_ints("pads", {});
      value = n.attr_float("value", 0.0);
    } else {
      pads = const_ints(L, n, 1, "pads");
      if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
        const ir::HostTensor* c = L.constant(n.inputs[2]);
        if (!c) L.host(n, "constant_value must be a constant");
        value = c->get(0);
      }
      if (n.inputs.size() > 3 && n.inputs[3] >= 0) L.host(n, "the axes input is not supported yet");
    }
    const size_t rank = in.shape.size();
    if (pads.size() != 2 * rank) L.fail(n, "pads must have 2 x rank entries");
    L.fill(out, value);
    View src = in, dst = out;
    for (size_t a = 0; a < rank; ++a) {
      const int64_t b = pads[a], e = pads[a + rank];
      // negative pads crop the input
      const int64_t s0 = b < 0 ? -b : 0, d0 = b > 0 ? b : 0;
      const int64_t len = in.shape[a] - s0 - (e < 0 ? -e : 0);
      src = src.slice(static_cast<int>(a), s0, std::max<int64_t>(len, 0));
      dst = dst.slice(static_cast<int>(a), d0, std::max<int64_t>(len, 0));
    }
    if (src.elements() > 0) L.copy(src, dst);
    return true;
  }
  if (op == "DepthToSpace" || op == "SpaceToDepth") {
    const View in = L.hbm(n.inputs[0]);
    const View out = L.hbm(ov);
    const int64_t b = n.attr_int("blocksize", 0);
    if (in.shape.size() != 4 || b <= 0) L.fail(n, "needs a 4-D input and a positive blocksize");
    const int64_t N = in.shape[0], C = in.shape[1], H = in.shape[2], W = in.shape[3];
    if (op == "DepthToSpace") {
      const bool crd = n.attr_str("mode", "DCR") == "CRD";
      const int64_t Co = C / (b * b);
      View in6 = crd ? reshape_dense(in, {N, Co, b, b, H, W}) : reshape_dense(in, {N, b, b, Co, H, W});
      View src = crd ? in6.permute({0, 1, 4, 2, 5, 3}) : in6.permute({0, 3, 4, 1, 5, 2});
      L.copy(src, reshape_dense(out, {N, Co, H, b, W, b}));
    } else {
      View in6 = reshape_dense(in, {N, C, H / b, b, W / b, b});
      L.copy(in6.permute({0, 3, 5, 1, 2, 4}), reshape_dense(out, {N, b, b, C, H / b, W / b}));
    }
    return true;
  }
  if (op == "Trilu") {
    const View in = L.hbm(n.inputs[0]);
    const int64_t k = n.inputs.size() > 1 && n.inputs[1] >= 0 ? const_ints(L, n, 1, "k").at(0) : 0;
    const bool upper = n.attr_int("upper", 1) != 0;
    const size_t r = in.shape.size();
    const int64_t H = in.shape[r - 2], W = in.shape[r - 1];
    ir::HostTensor mask(ir::ElemType::u8, {H, W});
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < W; ++j) mask.set(i * W + j, upper ? (j - i >= k) : (j - i <= k));
    View m = L.add_constant(mask, DType::uint8);
    View mb = m;
    mb.shape = in.shape;
    mb.strides.assign(r, 0);
    mb.strides[r - 2] = W;
    mb.strides[r - 1] = 1;
    const bool integer = dtype_is_int(in.dtype);
    L.elementwise({in, mb}, L.hbm(ov), 0, [&](auto& code, auto& ins, auto& o, auto&) {
      auto zero = split_instr(Op::v_copy, o.shape, o, o, nullptr, nullptr, {1, 0, 0});
      for (auto& z : zero) z.a = imm(0, integer);
      code.insert(code.end(), zero.begin(), zero.end());
      auto sel = split_instr(Op::v_select, o.shape, o, ins[1], &ins[0], nullptr, {1, 0, 0});
      code.insert(code.end(), sel.begin(), sel.end());
    });
    return true;
  }
  if (op == "Gather") {
    // out = data viewed [outer, A, inner] gathered along A by indices.
    const View data = L.hbm(n.inputs[0]);
    const int axis = norm_axis(L, n, n.attr_int("axis", 0), data.shape.size());
    const int64_t A = data.shape[axis];
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= data.shape[d];
    for (size_t d = axis + 1; d < data.shape.size(); ++d) inner *= data.shape[d];
    const int64_t nidx = g.values[n.inputs[1]].elements();
    View idx;
    bool fix_negative = true;
    if (const ir::HostTensor* c = L.constant(n.inputs[1])) {
      ir::HostTensor t(ir::ElemType::i32, {nidx});
      for (int64_t i = 0; i < nidx; ++i) {
        int64_t v = c->get_int(i);
        if (v < -A || v >= A) L.fail(n, fmt::format("index {} is out of range for axis of size {}", v, A));
        t.set_int(i, v < 0 ? v + A : v);
      }
      idx = L.add_constant(t, DType::int32);
      fix_negative = false;
    } else {
      idx = View::dense(Space::hbm, L.hbm(n.inputs[1]).addr, DType::int32, {nidx});
    }
    const View table = View::dense(Space::hbm, data.addr, data.dtype, {outer, A, inner});
    const View out = View::dense(Space::hbm, L.hbm(ov).addr, data.dtype, {outer, nidx, inner});
    if (out.elements() == 0) return true;
    const int64_t es = data.esize();
    const int64_t rows_per_tile =
        std::max<int64_t>(1, std::min<int64_t>(nidx, (static_cast<int64_t>(L.em().slot_bytes()) - 256) / (inner * es + 8)));
    if (inner * es + 8 > static_cast<int64_t>(L.em().slot_bytes()) - 256) L.fail(n, "gathered rows are too large for SRAM");
    const int64_t per_outer = (nidx + rows_per_tile - 1) / rows_per_tile;
    L.em().pipeline(outer * per_outer, [&](int64_t t, int slot) {
      Tile tile;
      const int64_t o = t / per_outer, r0 = (t % per_outer) * rows_per_tile;
      const int64_t rows = std::min(rows_per_tile, nidx - r0);
      const uint64_t base = L.em().slot_base(slot);
      const View ib = View::dense(Space::sram, base, DType::int32, {rows});
      const uint64_t dbase = base + static_cast<uint64_t>((rows * 4 + 63) / 64 * 64);
      const View db = View::dense(Space::sram, dbase, data.dtype, {rows, inner});
      tile.loads = split_instr(Op::load, {rows}, ib, idx.slice(0, r0, rows), nullptr, nullptr, {0, 0, 0});
      if (fix_negative) {
        // idx += (idx < 0) * A, in place (integer path); the scratch after the data rows holds the flag
        const View flag = View::dense(Space::sram, dbase + static_cast<uint64_t>((rows * inner * es + 63) / 64 * 64),
                                      DType::int32, {rows});
        auto a = split_instr(Op::v_lt, {rows}, flag, ib, nullptr, nullptr, {1, 0, 0});
        for (auto& in : a) in.b = imm(0, true);
        auto m = split_instr(Op::v_mul, {rows}, flag, flag, nullptr, nullptr, {1, 0, 0});
        for (auto& in : m) in.b = imm(static_cast<double>(A), true);
        auto s = split_instr(Op::v_add, {rows}, ib, ib, &flag, nullptr, {1, 0, 0});
        for (auto* part : {&a, &m, &s}) tile.compute.insert(tile.compute.end(), part->begin(), part->end());
      }
      Instr gi;
      gi.op = Op::load_gather;
      gi.rank = 2;
      gi.shape = {static_cast<uint32_t>(rows), static_cast<uint32_t>(inner), 0, 0};
      const View tb = table.slice(0, o, 1);
      gi.dst = {Space::sram, isa::kLocalCore, data.dtype, 2, db.addr, {inner, 1, 0, 0}};
      gi.a = {Space::hbm, isa::kLocalCore, data.dtype, 2, tb.addr, {inner, 1, 0, 0}};
      gi.b = {Space::sram, isa::kLocalCore, DType::int32, 1, ib.addr, {1, 0, 0, 0}};
      if (fix_negative) tile.compute.push_back(gi);
      else tile.loads.push_back(gi);
      const View ot = View::dense(Space::hbm, out.addr + static_cast<uint64_t>((o * nidx + r0) * inner * es), data.dtype,
                                  {rows, inner});
      tile.stores = split_instr(Op::store, {rows, inner}, ot, db, nullptr, nullptr, {0, 0, 0});
      return tile;
    });
    return true;
  }
  return false;
}

}  // namespace seedchip::compiler
