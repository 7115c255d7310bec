// seedchip — row-wise ops: ReduceX, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax,
// LayerNormalization, InstanceNormalization, CumSum, GlobalAverage/MaxPool.
// Each views its input as [rows..., reduced...] (reduced axes innermost),
// loads whole rows into SRAM and reduces along the last axis.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "lowering.h"

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Space;

namespace {

// Per-tile SRAM buffers of a row kernel: [rows, R] or [rows, 1], dense.
struct RowBufs {
  int64_t rows = 0, R = 0;
  uint64_t cursor = 0;
  View mat(DType d) {
    View v = View::dense(Space::sram, cursor, d, {rows, R});
    cursor += align64(static_cast<uint64_t>(rows * R) * dtype_bits(d) / 8);
    return v;
  }
  View col(DType d) {
    View v = View::dense(Space::sram, cursor, d, {rows, 1});
    cursor += align64(static_cast<uint64_t>(rows) * dtype_bits(d) / 8);
    return v;
  }
};


struct Code {
  std::vector<Instr>& code;
  void add(std::vector<Instr> v) { code.insert(code.end(), v.begin(), v.end()); }
  void op(Op o, const View& d, const View& a, const View* b = nullptr) {
    add(split_instr(o, d.shape, d, a, b, nullptr, {1, 0, 0}));
  }
  void op(Op o, const View& d, const View& a, const View& b) { op(o, d, a, &b); }
  void opi(Op o, const View& d, const View& a, double v, bool integer = false) {
    isa::Operand im = imm(v, integer);
    add(split_instr(o, d.shape, d, a, nullptr, &im, {1, 0, 0}));
  }
  // reduce a [rows, R] view into a [rows, 1] column
  void red(Op o, const View& col, const View& m) {
    View d = col;
    d.shape = m.shape;
    d.strides = {col.strides[0], 0};
    add(split_instr(o, m.shape, d, m, nullptr, nullptr, {1, 0, 0}, true));
  }
};

// A row kernel: `in` is a view of shape kept ++ red (red innermost); the
// outputs are views of shape kept ++ red (row outputs) or kept (scalar
// outputs, given as shape kept ++ [1]*nred). `extra` inputs have the input's
// shape (broadcast as needed) and are loaded like it.
struct RowIo {
  View in;
  std::vector<View> extra;
  std::vector<View> outs;       ///< each shaped kept ++ red or kept ++ [1..]
  std::vector<bool> out_rows;   ///< true: full rows; false: one value per row
  int nred = 1;
  int temps = 3;                ///< fp32 [rows, R] temporaries the body needs
};

using RowBody = std::function<void(Code&, RowBufs&, const View& x, const std::vector<View>& extra,
                                   const std::vector<View>& outs)>;

void row_kernel(Lowering& L, const ir::Node& n, const RowIo& io, const RowBody& body) {
  const int rank = static_cast<int>(io.in.shape.size());
  std::vector<int64_t> kept(io.in.shape.begin(), io.in.shape.end() - io.nred);
  int64_t R = 1;
  for (int d = rank - io.nred; d < rank; ++d) R *= io.in.shape[d];
  int64_t per_row = R * (io.in.esize() + 4 * io.temps) + 64;
  for (const auto& e : io.extra) per_row += R * e.esize();
  for (size_t i = 0; i < io.outs.size(); ++i) per_row += (io.out_rows[i] ? R : 1) * io.outs[i].esize() + 8;
  const int64_t budget = static_cast<int64_t>(L.em().slot_bytes()) - 64 * (8 + static_cast<int64_t>(io.extra.size() + io.outs.size()));
  if (per_row > budget) L.fail(n, fmt::format("a row of {} elements does not fit in SRAM", R));
  const int64_t max_rows = std::max<int64_t>(1, budget / per_row);
  if (kept.empty()) kept.push_back(1);
  // Tile over the kept dims; views get the red dims appended whole.
  TileGrid grid(kept, max_rows);
  auto with_kept = [&](const View& v) {
    View r = v;
    if (static_cast<int>(v.shape.size()) == io.nred) r = r.insert_dim(0, 1);  // no kept dims
    return r;
  };
  auto tile_of = [&](const View& v, int64_t t) {
    // apply the kept-dims tiling to the first dims of v
    View r = with_kept(v);
    View sub = r;
    sub.shape.resize(kept.size());
    sub.strides.resize(kept.size());
    View tv = grid.tile_view(sub, t);
    r.addr = tv.addr;
    for (size_t d = 0; d < kept.size(); ++d) {
      r.shape[d] = tv.shape[d];
      r.strides[d] = tv.strides[d];
    }
    return r;
  };
  L.em().pipeline(grid.count, [&](int64_t t, int slot) {
    Tile tile;
    const auto ks = grid.tile_shape(t);
    int64_t rows = 1;
    for (auto d : ks) rows *= d;
    RowBufs B{rows, R, L.em().slot_base(slot)};
    auto full_shape = [&](const View& v) {
      std::vector<int64_t> s = ks;
      const View w = with_kept(v);
      s.insert(s.end(), w.shape.end() - io.nred, w.shape.end());
      return s;
    };
    auto load = [&](const View& v) {
      View b = B.mat(v.dtype);
      auto s = full_shape(v);
      auto ins = split_instr(Op::load, s, View::dense(Space::sram, b.addr, b.dtype, s), tile_of(v, t), nullptr, nullptr,
                             {0, 0, 0});
      tile.loads.insert(tile.loads.end(), ins.begin(), ins.end());
      return b;
    };
    View x = load(io.in);
    std::vector<View> ex;
    for (const auto& e : io.extra) ex.push_back(load(e));
    std::vector<View> ob;
    for (size_t i = 0; i < io.outs.size(); ++i) ob.push_back(io.out_rows[i] ? B.mat(io.outs[i].dtype) : B.col(io.outs[i].dtype));
    Code c{tile.compute};
    body(c, B, x, ex, ob);
    for (size_t i = 0; i < io.outs.size(); ++i) {
      auto s = full_shape(io.outs[i]);
      auto ins = split_instr(Op::store, s, tile_of(io.outs[i], t), View::dense(Space::sram, ob[i].addr, ob[i].dtype, s),
                             nullptr, nullptr, {0, 0, 0});
      tile.stores.insert(tile.stores.end(), ins.begin(), ins.end());
    }
    return tile;
  });
}

// Row statistics and normalised rows in fp32: mean, 1 / sqrt(variance + eps)
// (population variance) and (x - mean) / sqrt(variance + eps).
struct NormRows {
  View mean, rstd, xn;
};
NormRows normalize_rows(Code& c, RowBufs& B, const View& x, double eps) {
  View mean = B.col(DType::fp32), var = B.col(DType::fp32), xc = B.mat(DType::fp32);
  c.red(Op::v_rsum, mean, x);
  c.opi(Op::v_mul, mean, mean, 1.0 / static_cast<double>(B.R));
  c.op(Op::v_sub, xc, x, bcol(mean, B.R));
  c.red(Op::v_rsumsq, var, xc);
  c.opi(Op::v_mul, var, var, 1.0 / static_cast<double>(B.R));
  c.opi(Op::v_add, var, var, eps);
  c.op(Op::v_rsqrt, var, var);
  c.op(Op::v_mul, xc, xc, bcol(var, B.R));
  return {mean, var, xc};
}

int norm_axis(Lowering& L, const ir::Node& n, int64_t a, size_t rank) {
  const int64_t r = static_cast<int64_t>(rank);
  if (a < -r || a >= std::max<int64_t>(r, 1)) L.fail(n, fmt::format("axis {} out of range for rank {}", a, rank));
  return static_cast<int>(a < 0 ? a + r : a);
}

// The permutation that moves `red` axes (sorted) to the end, keeping order.
std::vector<int> red_last(size_t rank, const std::vector<int>& red) {
  std::vector<int> p;
  for (int d = 0; d < static_cast<int>(rank); ++d)
    if (std::find(red.begin(), red.end(), d) == red.end()) p.push_back(d);
  for (int d : red) p.push_back(d);
  return p;
}

// Output view of a reduction: the out value's storage seen as kept ++ [1]*nred.
View reduced_out(const View& out_dense, const View& in, const std::vector<int>& perm, int nred) {
  std::vector<int64_t> s;
  for (size_t i = 0; i + nred < perm.size(); ++i) s.push_back(in.shape[perm[i]]);
  for (int i = 0; i < nred; ++i) s.push_back(1);
  return View::dense(Space::hbm, out_dense.addr, out_dense.dtype, s);
}

}  // namespace

bool lower_reduce(Lowering& L, const ir::Node& n) {
  const auto& g = L.graph();
  const std::string& op = n.op;
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  const int ov = n.outputs[0];

  const bool is_reduce = op.rfind("Reduce", 0) == 0;
  if (is_reduce || op == "ArgMax" || op == "ArgMin" || op == "GlobalAveragePool" || op == "GlobalMaxPool") {
    const View in = L.hbm(n.inputs[0]);
    const size_t rank = in.shape.size();
    std::vector<int> red;
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      for (size_t d = 2; d < rank; ++d) red.push_back(static_cast<int>(d));
    } else if (op == "ArgMax" || op == "ArgMin") {
      red.push_back(norm_axis(L, n, n.attr_int("axis", 0), rank));
    } else {
      std::vector<int64_t> axes = n.attr_ints("axes", {});
      const bool axes_input = (op == "ReduceSum" && n.opset >= 13) || n.opset >= 18;
      if (axes_input && n.inputs.size() > 1 && n.inputs[1] >= 0) {
        const ir::HostTensor* t = L.constant(n.inputs[1]);
        if (!t) L.host(n, "axes must be a constant");
        axes.clear();
        for (int64_t i = 0; i < t->elements(); ++i) axes.push_back(t->get_int(i));
      }
      if (axes.empty()) {
        if (n.attr_int("noop_with_empty_axes", 0) != 0) {
          L.copy(in, View::dense(Space::hbm, L.hbm(ov).addr, in.dtype, in.shape));
          return true;
        }
        for (size_t d = 0; d < rank; ++d) red.push_back(static_cast<int>(d));
      } else {
        for (auto a : axes) red.push_back(norm_axis(L, n, a, rank));
      }
    }
    std::sort(red.begin(), red.end());
    red.erase(std::unique(red.begin(), red.end()), red.end());
    if (rank == 0) red.clear();
    const auto perm = red_last(rank, red);
    RowIo io;
    io.in = in.permute(perm);
    io.nred = static_cast<int>(red.size());
    if (io.nred == 0) {  // reducing nothing: elementwise post-op only
      io.in = io.in.insert_dim(static_cast<int>(io.in.shape.size()), 1);
      io.nred = 1;
    }
    View out = L.hbm(ov);
    std::vector<int> p2 = perm;
    if (red.empty()) p2.push_back(static_cast<int>(rank));
    View ro = View::dense(Space::hbm, out.addr, out.dtype, {});
    for (size_t i = 0; i + io.nred < io.in.shape.size(); ++i) ro.shape.push_back(io.in.shape[i]);
    for (int i = 0; i < io.nred; ++i) ro.shape.push_back(1);
    ro = View::dense(Space::hbm, out.addr, out.dtype, ro.shape);
    io.outs = {ro};
    io.out_rows = {false};
    const bool last_index = n.attr_int("select_last_index", 0) != 0;
    if ((op == "ArgMax" || op == "ArgMin") && last_index) {
      // reversed rows: index j in the reversed row is R-1-j
      const int a = static_cast<int>(io.in.shape.size()) - 1;
      io.in = io.in.slice(a, io.in.shape[a] - 1, io.in.shape[a], -1);
    }
    const bool integer = dtype_is_int(in.dtype) && dtype_is_int(out.dtype);
    row_kernel(L, n, io, [&](Code& c, RowBufs& B, const View& x, const auto&, const auto& outs) {
      const View& o = outs[0];
      const double inv = 1.0 / static_cast<double>(B.R);
      if (op == "ReduceSum" || op == "ReduceMean" || op == "GlobalAveragePool") {
        if (integer) c.red(Op::v_rsum, o, x);
        else {
          View s = B.col(DType::fp32);
          c.red(Op::v_rsum, s, x);
          if (op != "ReduceSum") c.opi(Op::v_mul, o, s, inv);
          else c.op(Op::v_copy, o, s);
        }
      } else if (op == "ReduceMax" || op == "GlobalMaxPool") {
        c.red(Op::v_rmax, o, x);
      } else if (op == "ReduceMin") {
        c.red(Op::v_rmin, o, x);
      } else if (op == "ReduceProd") {
        c.red(Op::v_rprod, o, x);
      } else if (op == "ReduceSumSquare") {
        c.red(Op::v_rsumsq, o, x);
      } else if (op == "ReduceAbsMax") {  // internal (dynamic quantisation): max |x| in one pass
        View t = B.mat(in.dtype);
        c.op(Op::v_abs, t, x);
        c.red(Op::v_rmax, o, t);
      } else if (op == "ReduceL1") {
        View t = B.mat(integer ? DType::int32 : DType::fp32);
        c.op(Op::v_abs, t, x);
        c.red(Op::v_rsum, o, t);
      } else if (op == "ReduceL2") {
        View s = B.col(DType::fp32);
        c.red(Op::v_rsumsq, s, x);
        c.op(Op::v_sqrt, o, s);
      } else if (op == "ReduceLogSum") {
        View s = B.col(DType::fp32);
        c.red(Op::v_rsum, s, x);
        c.op(Op::v_log, o, s);
      } else if (op == "ReduceLogSumExp") {
        View m = B.col(DType::fp32), s = B.col(DType::fp32), t = B.mat(DType::fp32);
        c.red(Op::v_rmax, m, x);
        // rows that are all -inf keep max = -inf; x - max would be NaN, so use 0 there
        c.op(Op::v_sub, t, x, bcol(m, B.R));
        c.op(Op::v_exp, t, t);
        c.red(Op::v_rsum, s, t);
        c.op(Op::v_log, s, s);
        c.op(Op::v_add, o, s, m);
      } else if (op == "ArgMax" || op == "ArgMin") {
        View idx = B.col(DType::int32);
        c.red(op == "ArgMax" ? Op::v_argmax : Op::v_argmin, idx, x);
        if (last_index) {  // R-1-j
          auto ins = split_instr(Op::v_sub, idx.shape, o, idx, &idx, nullptr, {1, 0, 0});
          for (auto& ii : ins) ii.a = imm(static_cast<double>(B.R - 1), true);
          c.add(ins);
        } else {
          c.op(Op::v_copy, o, idx);
        }
      } else {
        L.fail(n, "unsupported reduction");
      }
    });
    (void)p2;
    return true;
  }

  if (op == "Softmax" || op == "LogSoftmax" || op == "Hardmax") {
    const View in = L.hbm(n.inputs[0]);
    const size_t rank = in.shape.size();
    const int axis = norm_axis(L, n, n.attr_int("axis", n.opset < 13 ? 1 : -1), rank);
    RowIo io;
    View out = L.hbm(ov);
    if (n.opset < 13) {  // coerced to 2-D at axis
      int64_t rows = 1, R = 1;
      for (int d = 0; d < axis; ++d) rows *= in.shape[d];
      for (size_t d = axis; d < rank; ++d) R *= in.shape[d];
      io.in = View::dense(Space::hbm, in.addr, in.dtype, {rows, R});
      io.outs = {View::dense(Space::hbm, out.addr, out.dtype, {rows, R})};
    } else {
      const auto perm = red_last(rank, {axis});
      io.in = in.permute(perm);
      io.outs = {out.permute(perm)};
    }
    io.out_rows = {true};
    row_kernel(L, n, io, [&](Code& c, RowBufs& B, const View& x, const auto&, const auto& outs) {
      const View& o = outs[0];
      View m = B.col(DType::fp32), s = B.col(DType::fp32), t = B.mat(DType::fp32);
      if (op == "Hardmax") {
        View idx = B.col(DType::int32);
        c.red(Op::v_argmax, idx, x);
        ir::HostTensor iota(ir::ElemType::i32, {B.R});
        (void)iota;
        // one-hot: compare each column index with the argmax (iota built by cumsum of ones)
        View io32 = B.mat(DType::int32);
        auto ones = split_instr(Op::v_copy, io32.shape, io32, io32, nullptr, nullptr, {1, 0, 0});
        for (auto& in2 : ones) in2.a = imm(1, true);
        c.add(ones);
        c.add(split_instr(Op::v_cumsum, io32.shape, io32, io32, nullptr, nullptr, {1, 0, 0}, true));
        c.opi(Op::v_sub, io32, io32, 1, true);
        c.op(Op::v_eq, o, io32, bcol(idx, B.R));
        return;
      }
      c.red(Op::v_rmax, m, x);
      c.op(Op::v_sub, t, x, bcol(m, B.R));
      if (op == "Softmax") {
        c.op(Op::v_exp, t, t);
        c.red(Op::v_rsum, s, t);
        c.op(Op::v_recip, s, s);
        c.op(Op::v_mul, o, t, bcol(s, B.R));
      } else {
        View e = B.mat(DType::fp32);
        c.op(Op::v_exp, e, t);
        c.red(Op::v_rsum, s, e);
        c.op(Op::v_log, s, s);
        c.op(Op::v_sub, o, t, bcol(s, B.R));
      }
    });
    return true;
  }

  // LayerNormalization, and RMSNormalization (ONNX opset 23: x / sqrt(mean(x^2) + eps) * scale), over the
  // axes from `axis` on; scale (and bias) cover those axes or are scalars
  if (op == "LayerNormalization" || op == "RMSNormalization") {
    const bool rms = op == "RMSNormalization";
    const View in = L.hbm(n.inputs[0]);
    const size_t rank = in.shape.size();
    const int axis = norm_axis(L, n, n.attr_int("axis", -1), rank);
    const double eps = n.attr_float("epsilon", 1e-5);
    int64_t rows = 1, R = 1;
    for (int d = 0; d < axis; ++d) rows *= in.shape[d];
    for (size_t d = axis; d < rank; ++d) R *= in.shape[d];
    RowIo io;
    io.in = View::dense(Space::hbm, in.addr, in.dtype, {rows, R});
    auto param = [&](int idx) {
      View p = L.hbm(n.inputs[idx]);
      View b = View::dense(Space::hbm, p.addr, p.dtype, {rows, R});
      if (p.elements() == R) b.strides = {0, 1};
      else if (p.elements() == 1) b.strides = {0, 0};
      else L.fail(n, rms ? "scale must cover the normalised axes" : "scale/bias must cover the normalised axes");
      return b;
    };
    io.extra.push_back(param(1));
    const bool has_bias = !rms && n.inputs.size() > 2 && n.inputs[2] >= 0;
    if (has_bias) io.extra.push_back(param(2));
    io.outs = {View::dense(Space::hbm, L.hbm(ov).addr, L.dt(ov), {rows, R})};
    io.out_rows = {true};
    for (size_t k = 1; !rms && k < n.outputs.size(); ++k)  // LayerNormalization's optional mean and rstd
      if (n.outputs[k] >= 0) {
        io.outs.push_back(View::dense(Space::hbm, L.hbm(n.outputs[k]).addr, L.dt(n.outputs[k]), {rows, 1}));
        io.out_rows.push_back(false);
      }
    row_kernel(L, n, io, [&](Code& c, RowBufs& B, const View& x, const auto& ex, const auto& outs) {
      if (rms) {
        View ms = B.col(DType::fp32), xn = B.mat(DType::fp32);
        c.red(Op::v_rsumsq, ms, x);
        c.opi(Op::v_mul, ms, ms, 1.0 / static_cast<double>(B.R));
        c.opi(Op::v_add, ms, ms, eps);
        c.op(Op::v_rsqrt, ms, ms);
        c.op(Op::v_mul, xn, x, bcol(ms, B.R));
        c.op(Op::v_mul, outs[0], xn, ex[0]);
        return;
      }
      const auto [mean, rstd, xc] = normalize_rows(c, B, x, eps);
      if (has_bias) {
        c.op(Op::v_mul, xc, xc, ex[0]);
        c.op(Op::v_add, outs[0], xc, ex[1]);
      } else {
        c.op(Op::v_mul, outs[0], xc, ex[0]);
      }
      size_t k = 1;
      if (n.outputs.size() > 1 && n.outputs[1] >= 0) c.op(Op::v_copy, outs[k++], mean);
      if (n.outputs.size() > 2 && n.outputs[2] >= 0) c.op(Op::v_copy, outs[k++], rstd);
    });
    return true;
  }

  if (op == "InstanceNormalization") {
    const View in = L.hbm(n.inputs[0]);
    const double eps = n.attr_float("epsilon", 1e-5);
    const int64_t N = in.shape[0], C = in.shape[1];
    int64_t R = 1;
    for (size_t d = 2; d < in.shape.size(); ++d) R *= in.shape[d];
    RowIo io;
    io.in = View::dense(Space::hbm, in.addr, in.dtype, {N, C, R});
    io.nred = 1;
    auto chan = [&](int idx) {
      View p = L.hbm(n.inputs[idx]);
      View b = View::dense(Space::hbm, p.addr, p.dtype, {N, C, R});
      b.strides = {0, 1, 0};
      return b;
    };
    io.extra = {chan(1), chan(2)};
    io.outs = {View::dense(Space::hbm, L.hbm(ov).addr, L.dt(ov), {N, C, R})};
    io.out_rows = {true};
    row_kernel(L, n, io, [&](Code& c, RowBufs& B, const View& x, const auto& ex, const auto& outs) {
      const View xc = normalize_rows(c, B, x, eps).xn;
      c.op(Op::v_mul, xc, xc, ex[0]);
      c.op(Op::v_add, outs[0], xc, ex[1]);
    });
    return true;
  }

  if (op == "CumSum") {
    const View in = L.hbm(n.inputs[0]);
    const ir::HostTensor* ax = L.constant(n.inputs[1]);
    if (!ax) L.host(n, "axis must be a constant");
    const size_t rank = in.shape.size();
    const int axis = norm_axis(L, n, ax->get_int(0), rank);
    const auto perm = red_last(rank, {axis});
    RowIo io;
    io.in = in.permute(perm);
    View out = L.hbm(ov).permute(perm);
    if (n.attr_int("reverse", 0) != 0) {
      const int a = static_cast<int>(rank) - 1;
      io.in = io.in.slice(a, io.in.shape[a] - 1, io.in.shape[a], -1);
      out = out.slice(a, out.shape[a] - 1, out.shape[a], -1);
    }
    io.outs = {out};
    io.out_rows = {true};
    const bool exclusive = n.attr_int("exclusive", 0) != 0;
    row_kernel(L, n, io, [&](Code& c, RowBufs&, const View& x, const auto&, const auto& outs) {
      c.add(split_instr(Op::v_cumsum, x.shape, outs[0], x, nullptr, nullptr, {1, 0, 0}, true));
      if (exclusive) c.op(Op::v_sub, outs[0], outs[0], x);
    });
    return true;
  }
  (void)g;
  (void)reduced_out;
  return false;
}

}  // namespace seedchip::compiler
