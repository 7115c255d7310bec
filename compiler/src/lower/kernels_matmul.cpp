// seedchip — matrix-engine ops: MatMul, Gemm, Conv (im2col + GEMM), depthwise
// Conv, MaxPool/AveragePool (vector windows), MatMulInteger, Einsum.
//
// GEMM tiling: output tiles of mt x nt (nt <= array cols) per batch; each
// tile loads A [mt, K] and B [K, nt] into SRAM, runs K in chunks of the
// array's rows (mm.ldw + mm.run accumulating in the accumulator), then a
// vector epilogue adds bias / applies the activation / converts into the
// output dtype, and the tile is stored.
#include <array>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "lowering.h"

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Space;

namespace {

View dense2(const View& v, std::vector<int64_t> shape) { return View::dense(v.space, v.addr, v.dtype, std::move(shape)); }

// Matmul input dtype for a given storage dtype under the chosen precision.
DType compute_dtype(Lowering& L, const ir::Node& n, DType storage) {
  if (dtype_is_int(storage)) return storage;
  // Operands already in a reduced float type run as they are ("fp32 runs the
  // model as written") when the matrix engine takes that type.
  if (L.options().precision == Precision::fp32 && storage != DType::fp32 && L.em().chip().matrix_supports(storage))
    return storage;
  DType want = DType::fp32;
  switch (L.options().precision) {
    case Precision::fp32: want = DType::fp32; break;
    case Precision::bf16: want = DType::bf16; break;
    // int8 / fp8 need scales: the quantise pass annotates the matmuls with
    // constant weights; the others (attention's runtime operands) run in bf16.
    case Precision::fp8: want = DType::bf16; break;
    case Precision::int8: want = DType::bf16; break;
  }
  if (!L.em().chip().matrix_supports(want))
    L.fail(n, fmt::format("chip '{}' cannot multiply {} on its matrix engine; choose another --precision",
                          L.em().chip().name, dtype_name(want)));
  return want;
}

}  // namespace

/// One batched GEMM: for b < batch, out[b] = act(alpha * A[b] x B[b] + bias + beta * C[b]).
struct Gemm {
  int64_t batch = 1, M = 0, K = 0, N = 0;
  std::function<View(int64_t)> A, B, out;  ///< per-batch 2-D HBM views [M,K], [K,N], [M,N]
  std::optional<View> bias;                ///< [N]
  std::function<View(int64_t)> C;          ///< optional [M,N] (broadcast allowed)
  double alpha = 1.0, beta = 1.0;
  std::string act;                         ///< "", "Relu"
  DType ct = DType::fp32;                  ///< matrix input dtype
  int64_t zp_a = 0, zp_b = 0;              ///< MatMulInteger zero points (scalar)
  double act_scale = 0;                    ///< > 0: quantise A with this scale (v.quant)
  std::optional<View> colscale;            ///< [N] fp32: accumulator x colscale[n] first in the epilogue
};

void emit_gemm(Lowering& L, const ir::Node& n, const Gemm& G) {
  const auto& chip = L.em().chip();
  const int64_t rows = chip.core.matrix.rows, cols = chip.core.matrix.cols;
  const bool integer = dtype_is_int(G.ct);
  const DType acc_t = integer ? DType::int32 : DType::fp32;
  const View a0 = G.A(0), b0 = G.B(0), o0 = G.out(0);
  // int4 weights go to the array as they are (it widens them, against int8 or
  // bf16 inputs); the DMA moves their bytes.
  const bool b_int4 = b0.dtype == DType::int4;
  const bool conv_a = a0.dtype != G.ct, conv_b = !b_int4 && b0.dtype != G.ct;
  const int64_t es_a = a0.esize(), es_b = std::max<int64_t>(1, b0.esize()), es_c = dtype_bits(G.ct) / 8, es_o = o0.esize();
  const int64_t slot = static_cast<int64_t>(L.em().slot_bytes()) - 64 * 10;
  const int64_t acc_rows = static_cast<int64_t>(L.em().acc_slot_bytes()) / (std::min(G.N, cols) * 4);
  // Plan 1, all of K per tile: choose nt, then mt, so that A, B (and converted
  // copies), the output tile and temps fit.
  int64_t nt = std::min(G.N, cols), Kc = G.K;
  auto b_bytes = [&](int64_t ntt, int64_t k) { return k * ntt * (es_b + (conv_b ? es_c : 0)); };
  // B may take most of the slot: A then needs only enough rows to keep the array busy
  while (nt > 1 && b_bytes(nt, Kc) > slot * 3 / 5) nt = (nt + 1) / 2;
  const int64_t out_row = nt * (es_o + 8) + (G.C ? nt * 4 : 0) + (G.colscale ? nt * 4 : 0);
  auto a_row = [&](int64_t k) { return k * (es_a + (conv_a ? es_c : 0)); };
  int64_t mt = std::min<int64_t>(G.M, (slot - b_bytes(nt, Kc)) / std::max<int64_t>(a_row(Kc) + out_row, 1));
  mt = std::min<int64_t>(mt, static_cast<int64_t>(L.em().acc_slot_bytes()) / (nt * 4));
  // Plan 2, K split into chunks accumulating in the accumulator (tiles of a
  // group): when plan 1 leaves the array under-fed (short row streams or
  // narrow tiles), take full-width tiles of up to acc_rows rows and as many
  // K rows per chunk as fit.
  const int64_t want_m = std::min<int64_t>(G.M, 256);
  if (G.zp_a == 0 && G.zp_b == 0 && G.K > rows && (mt < want_m || nt < std::min(G.N, cols))) {
    const int64_t nt2 = std::min(G.N, cols);
    const int64_t mt2 = std::min<int64_t>(G.M, std::max<int64_t>(acc_rows, 1));
    const int64_t per_k = mt2 * (es_a + (conv_a ? es_c : 0)) + nt2 * (es_b + (conv_b ? es_c : 0));
    const int64_t kc = (slot - mt2 * out_row) / std::max<int64_t>(per_k, 1) / rows * rows;
    if (kc >= rows) nt = nt2, mt = mt2, Kc = std::min(G.K, kc);
  }
  // Plan 3, K in two halves with all of M per tile: when plan 1 needs several
  // M tiles (so every weight panel would be loaded once per M tile), two K
  // chunks of the full M often fit instead; with two chunks per group each
  // slot keeps its A half for every N tile (see the operand reuse below), so
  // A and B each come from HBM once.
  if (G.zp_a == 0 && G.zp_b == 0 && mt >= 1 && mt < G.M && Kc == G.K && G.K > rows && nt == std::min(G.N, cols)) {
    const int64_t mt3 = std::min<int64_t>(G.M, std::max<int64_t>(acc_rows, 1));
    const int64_t kc3 = ((G.K + 1) / 2 + rows - 1) / rows * rows;
    if (mt3 > mt && kc3 < G.K && mt3 * (a_row(kc3) + out_row) + b_bytes(nt, kc3) <= slot) mt = mt3, Kc = kc3;
  }
  // Wide tiles for short row streams: when all of M is one tile of a few rows
  // (decode-step attention, one query row per sequence and head), a tile
  // spans several array widths, so one DMA brings a whole B panel instead of
  // one per array width (per-DMA latency dominates such small tiles).
  if (mt >= 1 && mt == G.M && Kc == G.K && G.M <= rows && nt == cols && G.N > cols) {
    auto out_row_w = [&](int64_t w) { return w * (es_o + 8) + (G.C ? w * 4 : 0) + (G.colscale ? w * 4 : 0); };
    int64_t w = nt;
    while (w + cols <= G.N) {
      const int64_t w2 = w + cols;
      if (b_bytes(w2, Kc) > slot * 3 / 5 || mt * (a_row(Kc) + out_row_w(w2)) + b_bytes(w2, Kc) > slot ||
          mt * w2 * 4 > static_cast<int64_t>(L.em().acc_slot_bytes()))
        break;
      w = w2;
    }
    nt = w;
    if (nt + cols > G.N && G.N - nt > 0 && G.N - nt < cols && b_bytes(G.N, Kc) <= slot * 3 / 5 &&
        mt * (a_row(Kc) + out_row_w(G.N)) + b_bytes(G.N, Kc) <= slot && mt * G.N * 4 <= static_cast<int64_t>(L.em().acc_slot_bytes()))
      nt = G.N;  // the ragged last array width joins the tile
  }
  if (mt < 1) L.fail(n, fmt::format("a GEMM row with K={} does not fit in SRAM", G.K));
  // Equal M tiles: 512 rows as 256 + 256 rather than 410 + 102 keeps the
  // array's row streams long on every tile (a short last tile cannot hide the
  // next tile's weight load).
  mt = (G.M + (G.M + mt - 1) / mt - 1) / ((G.M + mt - 1) / mt);
  const int64_t m_tiles = (G.M + mt - 1) / mt, n_tiles = (G.N + nt - 1) / nt, k_tiles = (G.K + Kc - 1) / Kc;
  View bias_c;
  if (G.bias) bias_c = *G.bias;
  // Operand reuse: tiles alternate between two SRAM slots, and the tile two
  // steps earlier on the same core often loaded the same B chunk (M
  // innermost) or, when all of M is one tile, the same A chunk into the same
  // slot. It is still there (every tile of a slot has the same layout and
  // only the loads write A and B), so it is not loaded again.
  struct ChunkKey {
    int core = -1;
    int64_t b = -1, index = -1, kc = -1;
    bool operator==(const ChunkKey&) const = default;
  };
  std::array<ChunkKey, 2> slot_a{}, slot_b{};
  L.em().pipeline_groups(G.batch * n_tiles * m_tiles * k_tiles, k_tiles, [&](int64_t t, int slot_i, int gslot) {
    Tile tile;
    const int64_t kc = t % k_tiles, grp = t / k_tiles;
    const int64_t b = grp / (n_tiles * m_tiles);
    const int64_t nj = (grp / m_tiles) % n_tiles, mi = grp % m_tiles;  // M inner: consecutive tiles share B
    const int64_t m0 = mi * mt, n0 = nj * nt, kb = kc * Kc;
    const int64_t mm = std::min(mt, G.M - m0), nn = std::min(nt, G.N - n0), kl = std::min(Kc, G.K - kb);
    const bool last = kc == k_tiles - 1;
    uint64_t cur = L.em().slot_base(slot_i);
    // Buffers are laid out for the largest chunk, so every tile of a slot has
    // the same layout (a later tile's inputs never overlap an earlier output).
    auto buf_sized = [&](DType d, std::vector<int64_t> s, int64_t reserve_elems) {
      View v = View::dense(Space::sram, cur, d, s);
      cur += align64(static_cast<uint64_t>(reserve_elems) * dtype_bits(d) / 8);
      return v;
    };
    auto buf = [&](DType d, std::vector<int64_t> s) {
      int64_t e = 1;
      for (auto x : s) e *= x;
      return buf_sized(d, s, e);
    };
    const View A = G.A(b).slice(0, m0, mm).slice(1, kb, kl), Bv = G.B(b).slice(1, n0, nn).slice(0, kb, kl),
               O = G.out(b).slice(0, m0, mm).slice(1, n0, nn);
    View a_s = buf_sized(A.dtype, {mm, kl}, mt * Kc), b_s = buf_sized(Bv.dtype, {kl, nn}, Kc * nt);
    const size_t si = static_cast<size_t>(slot_i);
    const ChunkKey akey{L.em().current_core(), b, mi, kc}, bkey{L.em().current_core(), b, nj, kc};
    if (!(slot_a[si] == akey)) {
      auto la = split_instr(Op::load, {mm, kl}, a_s, A, nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), la.begin(), la.end());
      slot_a[si] = akey;
    }
    if (!(slot_b[si] == bkey) && b_int4) {  // two nibbles per byte: [kl, nn / 2] bytes
      View src = Bv;
      src.dtype = DType::uint8;
      src.addr = static_cast<uint64_t>(static_cast<int64_t>(b0.addr) + (kb * G.N + n0) / 2);
      src.shape = {kl, nn / 2};
      src.strides = {G.N / 2, 1};
      auto lb = split_instr(Op::load, {kl, nn / 2}, View::dense(Space::sram, b_s.addr, DType::uint8, {kl, nn / 2}), src,
                            nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), lb.begin(), lb.end());
      slot_b[si] = bkey;
    }
    if (!(slot_b[si] == bkey)) {
      auto lb = split_instr(Op::load, {kl, nn}, b_s, Bv, nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), lb.begin(), lb.end());
      slot_b[si] = bkey;
    }
    View bias_s, c_s, cs_s;
    if (last && G.colscale) {  // epilogue operands: only the group's last chunk needs them
      cs_s = buf(DType::fp32, {1, nn});
      auto l = split_instr(Op::load, {nn}, dense2(cs_s, {nn}), G.colscale->slice(0, n0, nn), nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), l.begin(), l.end());
    }
    if (last && G.bias) {
      bias_s = buf(bias_c.dtype, {1, nn});
      auto lbias = split_instr(Op::load, {nn}, dense2(bias_s, {nn}), bias_c.slice(0, n0, nn), nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), lbias.begin(), lbias.end());
    }
    if (last && G.C) {
      View Cv = G.C(b).slice(0, m0, mm).slice(1, n0, nn);
      c_s = buf(Cv.dtype, {mm, nn});
      auto lc = split_instr(Op::load, {mm, nn}, c_s, Cv, nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), lc.begin(), lc.end());
    }
    auto& code = tile.compute;
    auto add = [&](std::vector<Instr> v) { code.insert(code.end(), v.begin(), v.end()); };
    View a_c = a_s, b_c = b_s;
    if (conv_a || G.zp_a) {
      a_c = buf_sized(G.zp_a ? DType::int32 : G.ct, {mm, kl}, mt * Kc);
      if (G.zp_a) {
        isa::Operand z = imm(static_cast<double>(G.zp_a), true);
        add(split_instr(Op::v_sub, {mm, kl}, a_c, a_s, nullptr, &z, {1, 0, 0}));
      } else if (G.act_scale > 0) {  // a_q = saturate(round(a / s)) (fp8: a / s rounded to e4m3)
        isa::Operand sc = imm(G.act_scale);
        add(split_instr(Op::v_quant, {mm, kl}, a_c, a_s, nullptr, &sc, {0, 1, 0}));
      } else {
        add(split_instr(Op::v_copy, {mm, kl}, a_c, a_s, nullptr, nullptr, {1, 0, 0}));
      }
    }
    if (conv_b || G.zp_b) {
      b_c = buf_sized(G.zp_b ? DType::int32 : G.ct, {kl, nn}, Kc * nt);
      if (G.zp_b) {
        isa::Operand z = imm(static_cast<double>(G.zp_b), true);
        add(split_instr(Op::v_sub, {kl, nn}, b_c, b_s, nullptr, &z, {1, 0, 0}));
      } else {
        add(split_instr(Op::v_copy, {kl, nn}, b_c, b_s, nullptr, nullptr, {1, 0, 0}));
      }
    }
    if (G.zp_a || G.zp_b) {
      // Zero points make int8 operands 9-bit: the matrix engine takes int8/uint8 only,
      // so subtracted operands are multiplied on the vector engine path below.
      L.host(n, "non-zero zero points are not supported on the matrix engine yet");
    }
    const View acc = View::dense(Space::acc, L.em().acc_slot_base(gslot), acc_t, {mm, nn});
    for (int64_t n0b = 0; n0b < nn; n0b += cols) {  // array-width column blocks of a wide tile
      const int64_t nb = std::min(cols, nn - n0b);
      for (int64_t k0 = 0; k0 < kl; k0 += rows) {
        const int64_t kk = std::min(rows, kl - k0);
        code.push_back(mm_ldw(b_c.dtype, b_c.addr + static_cast<uint64_t>((k0 * nn + n0b) * dtype_bits(b_c.dtype) / 8),
                              kk, nb, nn));
        // chunks after the first accumulate
        code.push_back(mm_run(a_c.dtype, a_c.addr + static_cast<uint64_t>(k0 * es_c), kl, acc_t,
                              acc.addr + static_cast<uint64_t>(n0b * 4), nn, mm, kk, nb, k0 > 0 || kc > 0));
      }
    }
    if (!last) return tile;  // the group's last chunk applies the epilogue and stores
    // epilogue
    View o_s = buf(O.dtype, {mm, nn});
    View cur_v = acc;
    if (G.colscale) {  // dequantise: acc x (act_scale x weight_scale[n]) in fp32
      View deq = buf(DType::fp32, {mm, nn});
      View cb = cs_s;
      cb.shape = {mm, nn};
      cb.strides = {0, 1};
      add(split_instr(Op::v_mul, {mm, nn}, deq, acc, &cb, nullptr, {1, 0, 0}));
      cur_v = deq;
    }
    auto vop = [&](Op o, const View& d, const View& x, const View* y, const isa::Operand* im = nullptr) {
      add(split_instr(o, {mm, nn}, d, x, y, im, {1, 0, 0}));
    };
    const bool last_is_out = !G.bias && !G.C && G.act.empty() && G.alpha == 1.0;
    if (G.alpha != 1.0) {
      isa::Operand al = imm(G.alpha);
      vop(Op::v_mul, cur_v, cur_v, nullptr, &al);
    }
    if (G.bias) {
      View bb = bias_s;
      bb.shape = {mm, nn};
      bb.strides = {0, 1};
      vop(Op::v_add, cur_v, cur_v, &bb);
    }
    if (G.C) {
      if (G.beta != 1.0) {
        isa::Operand be = imm(G.beta);
        vop(Op::v_mul, c_s, c_s, nullptr, &be);
      }
      vop(Op::v_add, cur_v, cur_v, &c_s);
    }
    if (G.act == "Relu") vop(Op::v_relu, o_s, cur_v, nullptr);
    else vop(Op::v_copy, o_s, cur_v, nullptr);
    (void)last_is_out;
    tile.stores = split_instr(Op::store, {mm, nn}, O, o_s, nullptr, nullptr, {0, 0, 0});
    return tile;
  });
}

namespace {

// Transposed 2-D view (for Gemm transA/transB and Conv weights).
View t2(const View& v) { return v.permute({1, 0}); }

// dst[di] = src[si]; bit for bit when both are fp32 (no trip through double:
// weight layouts move millions of elements). Only NaN payloads can differ
// from set(get()), and to_chip_bytes makes every NaN the canonical one.
inline void put_elem(ir::HostTensor& dst, int64_t di, const ir::HostTensor& src, int64_t si) {
  if (src.type == ir::ElemType::f32 && dst.type == ir::ElemType::f32)
    std::memcpy(dst.data.data() + 4 * di, src.data.data() + 4 * si, 4);
  else
    dst.set(di, src.get(si));
}

// Converts a constant [rows, cols] weight into the matmul dtype as a dense [K, N] constant.
View const_weight(Lowering& L, const ir::HostTensor& w, int64_t K, int64_t N, bool transposed, DType ct) {
  ir::HostTensor t(ir::ElemType::f32, {K, N});
  if (L.constant_values())
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) put_elem(t, k * N + j, w, transposed ? j * K + k : k * N + j);
  return L.add_constant(t, ct);
}

// Per-output-channel symmetric quantisation of a [K, N] weight (given by `at`):
// scale[n] = max_k |w| / qmax; returns the quantised constant and sets the
// column scales to act_scale x scale[n].
View quant_weight(Lowering& L, int64_t K, int64_t N, const std::function<double(int64_t, int64_t)>& at, DType qt,
                  double act_scale, View& colscale) {
  const double qmax = qt == DType::int8 ? 127.0 : 448.0;
  ir::HostTensor q(ir::ElemType::f32, {K, N}), cs(ir::ElemType::f32, {N});
  for (int64_t j = 0; j < N && L.constant_values(); ++j) {
    double m = 0;
    for (int64_t k = 0; k < K; ++k) m = std::max(m, std::fabs(at(k, j)));
    const double s = m > 0 ? m / qmax : 1.0;
    for (int64_t k = 0; k < K; ++k) {
      const double v = at(k, j) / s;
      q.set(k * N + j, qt == DType::int8 ? std::nearbyint(std::clamp(v, -qmax, qmax)) : v);
    }
    cs.set(j, act_scale * s);
  }
  colscale = L.add_constant(cs, DType::fp32);
  return L.add_constant(q, qt);
}

// The quantisation a node was annotated with (quantize pass), if any.
struct QuantAttrs {
  DType dtype = DType::fp32;
  double act_scale = 0;
  bool on = false;
};
QuantAttrs quant_attrs(Lowering& L, const ir::Node& n) {
  QuantAttrs q;
  if (!n.has_attr("q_dtype")) return q;
  auto d = parse_dtype(n.attr_str("q_dtype", ""));
  if (!d) L.fail(n, "bad q_dtype");
  if (!L.em().chip().matrix_supports(*d))
    L.fail(n, fmt::format("chip '{}' cannot multiply {} on its matrix engine", L.em().chip().name, dtype_name(*d)));
  q.dtype = *d;
  q.act_scale = n.attr_float("act_scale", 1.0);
  q.on = true;
  return q;
}

}  // namespace

bool lower_matmul(Lowering& L, const ir::Node& n) {
  const auto& g = L.graph();
  const std::string& op = n.op;
  if (n.outputs.empty() || n.outputs[0] < 0) return false;
  const int ov = n.outputs[0];

  if (op == "MatMul" || op == "MatMulInteger" || op == "FusedMatMul") {
    View a = L.hbm(n.inputs[0]), b = L.hbm(n.inputs[1]);
    View out = L.hbm(ov);
    // 1-D operands are promoted (numpy matmul rules)
    if (a.shape.size() == 1) a = dense2(a, {1, a.shape[0]});
    if (b.shape.size() == 1) b = dense2(b, {b.shape[0], 1});
    // A batched A times a 2-D B is one GEMM over all of A's rows.
    if (b.shape.size() == 2 && a.shape.size() > 2) a = dense2(a, {a.elements() / a.shape.back(), a.shape.back()});
    const int64_t M = a.shape[a.shape.size() - 2], K = a.shape.back(), N = b.shape.back();
    std::vector<int64_t> batch_shape;
    const size_t ra = a.shape.size() - 2, rb = b.shape.size() - 2, rbat = std::max(ra, rb);
    for (size_t i = 0; i < rbat; ++i) {
      const int64_t da = i + ra >= rbat ? a.shape[i + ra - rbat] : 1;
      const int64_t db = i + rb >= rbat ? b.shape[i + rb - rbat] : 1;
      batch_shape.push_back(std::max(da, db));
    }
    int64_t batch = 1;
    for (auto d : batch_shape) batch *= d;
    Gemm G;
    G.batch = batch, G.M = M, G.K = K, G.N = N;
    if (op == "MatMulInteger") {
      G.ct = a.dtype;
      auto zp = [&](int i) -> int64_t {
        if (n.inputs.size() <= static_cast<size_t>(i) || n.inputs[i] < 0) return 0;
        const ir::HostTensor* z = L.constant(n.inputs[i]);
        if (!z || z->elements() != 1) L.host(n, "zero points must be scalar constants");
        return z->get_int(0);
      };
      G.zp_a = zp(2);
      G.zp_b = zp(3);
    }
    const ir::HostTensor* wb = L.constant(n.inputs[1]);
    const QuantAttrs q = quant_attrs(L, n);
    const bool quant = q.on && wb && b.shape.size() == 2;
    // Timing-only graphs (LLM layers) pass pre-quantised weights as inputs:
    // the activations are quantised on the fly and the GEMM runs at the
    // weights' rate; unit scales, since no values are computed.
    const bool prequant = !wb && L.options().uncalibrated_ok && op == "MatMul" && b.shape.size() == 2 &&
                          ((L.options().precision == Precision::fp8 && b.dtype == DType::fp8e4m3) ||
                           (L.options().precision == Precision::int8 && b.dtype == DType::int8)) &&
                          L.em().chip().matrix_supports(b.dtype);
    // (a quantised GEMM never needs the float type: a chip without one still runs it)
    // two e4m3 operands (dynamically quantised ones, compiler.cpp) multiply as they are
    const bool both_fp8 = a.dtype == DType::fp8e4m3 && b.dtype == DType::fp8e4m3 && L.em().chip().matrix_supports(DType::fp8e4m3);
    if (op != "MatMulInteger" && !quant && !prequant) G.ct = both_fp8 ? DType::fp8e4m3 : compute_dtype(L, n, a.dtype);
    auto batch_off = [&](const View& v, size_t rv, int64_t bi) {
      // offset of batch index bi (in broadcast batch_shape) into view v with rv batch dims
      int64_t off = 0, rem = bi;
      for (size_t i = rbat; i-- > 0;) {
        const int64_t idx = rem % batch_shape[i];
        rem /= batch_shape[i];
        if (i + rv >= rbat) {
          const size_t d = i + rv - rbat;
          if (v.shape[d] != 1) off += idx * v.strides[d];
        }
      }
      return off;
    };
    View bconst;
    if (quant) {
      View cs;
      bconst = quant_weight(L, K, N, [&](int64_t k, int64_t j) { return wb->get(k * N + j); }, q.dtype, q.act_scale, cs);
      G.ct = q.dtype;
      G.act_scale = q.act_scale;
      G.colscale = cs;
    } else if (wb && batch == 1 && b.shape.size() == 2 && !dtype_is_int(b.dtype)) {
      bconst = const_weight(L, *wb, K, N, false, G.ct);
    } else if (prequant) {
      G.ct = b.dtype;
      G.act_scale = a.dtype != b.dtype ? 1.0 : 0.0;
    }
    if (op == "MatMul" && n.inputs.size() == 3 && n.inputs[2] >= 0) {
      // dynamically quantised operands (compiler.cpp): a runtime fp32 scalar
      // scales the accumulator, read as a column scale of stride 0
      if (!both_fp8) L.fail(n, "a scaled MatMul needs two e4m3 operands");
      const View sc = L.hbm(n.inputs[2]);
      if (sc.elements() != 1 || sc.dtype != DType::fp32) L.fail(n, "the scale must be one fp32 value");
      View cs = View::dense(Space::hbm, sc.addr, DType::fp32, {N});
      cs.strides = {0};
      G.colscale = cs;
    }
    G.A = [=](int64_t bi) {
      View v = View::dense(Space::hbm, a.addr, a.dtype, {M, K});
      v.addr = static_cast<uint64_t>(static_cast<int64_t>(a.addr) + batch_off(a, ra, bi) * a.esize());
      return v;
    };
    G.B = [=](int64_t bi) {
      if (bconst.shape.size() == 2) return bconst;
      View v = View::dense(Space::hbm, b.addr, b.dtype, {K, N});
      v.addr = static_cast<uint64_t>(static_cast<int64_t>(b.addr) + batch_off(b, rb, bi) * b.esize());
      return v;
    };
    G.out = [=](int64_t bi) { return View::dense(Space::hbm, out.addr + static_cast<uint64_t>(bi * M * N * out.esize()), out.dtype, {M, N}); };
    if (op == "FusedMatMul") {
      const View bias = L.hbm(n.inputs[2]);
      G.bias = View::dense(Space::hbm, bias.addr, bias.dtype, {N});
      G.act = n.attr_str("activation", "");
    }
    emit_gemm(L, n, G);
    return true;
  }

  if (op == "MatMulInt4") {  // seedchip domain: A [.., K] x int4 weights packed two per byte in B [K, N/2] (u8), x scales[N]
    View a = L.hbm(n.inputs[0]);
    const View bp = L.hbm(n.inputs[1]);
    const View out = L.hbm(ov);
    if (bp.shape.size() != 2 || bp.dtype != DType::uint8) L.fail(n, "B must be packed uint8 [K, N/2]");
    const int64_t K = bp.shape[0], N = 2 * bp.shape[1];
    if (a.shape.back() != K || out.shape.back() != N) L.fail(n, "A [.., K], B [K, N/2] and the output [.., N] disagree");
    if (!L.em().chip().matrix_supports(DType::bf16) || !L.em().chip().matrix_supports(DType::int8))
      L.fail(n, fmt::format("chip '{}' has no bf16 x int4 matrix path", L.em().chip().name));
    Gemm G;
    G.M = a.elements() / K, G.K = K, G.N = N;
    a = dense2(a, {G.M, K});
    const View b4 = View::dense(Space::hbm, bp.addr, DType::int4, {K, N});
    const View o2 = dense2(out, {G.M, N});
    G.ct = DType::bf16;
    G.A = [=](int64_t) { return a; };
    G.B = [=](int64_t) { return b4; };
    G.out = [=](int64_t) { return o2; };
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      const View sc = L.hbm(n.inputs[2]);
      if (sc.elements() != N || sc.dtype != DType::fp32) L.fail(n, "scales must be fp32 [N]");
      G.colscale = View::dense(Space::hbm, sc.addr, DType::fp32, {N});
    }
    emit_gemm(L, n, G);
    return true;
  }

  if (op == "Gemm" || op == "FusedGemm") {
    View a = L.hbm(n.inputs[0]), b = L.hbm(n.inputs[1]);
    const bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
    if (ta) a = t2(a);
    if (tb) b = t2(b);
    Gemm G;
    G.M = a.shape[0], G.K = a.shape[1], G.N = b.shape[1];
    G.alpha = n.attr_float("alpha", 1.0);
    G.beta = n.attr_float("beta", 1.0);
    G.act = n.attr_str("activation", "");
    const ir::HostTensor* wb = L.constant(n.inputs[1]);
    View bv = b;
    const QuantAttrs q = quant_attrs(L, n);
    if (!(q.on && wb)) G.ct = compute_dtype(L, n, a.dtype);
    if (q.on && wb) {
      View cs;
      const int64_t K = G.K, N = G.N;
      bv = quant_weight(L, K, N, [&](int64_t k, int64_t j) { return tb ? wb->get(j * K + k) : wb->get(k * N + j); },
                        q.dtype, q.act_scale, cs);
      G.ct = q.dtype;
      G.act_scale = q.act_scale;
      G.colscale = cs;
    } else if (wb) {
      bv = const_weight(L, *wb, G.K, G.N, tb, G.ct);
    }
    G.A = [=](int64_t) { return a; };
    G.B = [=](int64_t) { return bv; };
    View out = L.hbm(ov);
    G.out = [=](int64_t) { return out; };
    if (n.inputs.size() > 2 && n.inputs[2] >= 0 && G.beta != 0.0) {
      View c = L.hbm(n.inputs[2]);
      if (c.elements() == G.N && (c.shape.size() == 1 || c.shape[0] == 1) && G.beta == 1.0) {
        G.bias = View::dense(Space::hbm, c.addr, c.dtype, {G.N});
      } else {
        // numpy broadcast of C to [M, N]
        View cb = c;
        cb.shape = {G.M, G.N};
        cb.strides = {0, 0};
        const size_t r = c.shape.size();
        if (r >= 1) cb.strides[1] = c.shape[r - 1] == 1 ? 0 : c.strides[r - 1];
        if (r == 2) cb.strides[0] = c.shape[0] == 1 ? 0 : c.strides[0];
        G.C = [=](int64_t) { return cb; };
      }
    }
    emit_gemm(L, n, G);
    return true;
  }

  if (op == "Conv" || op == "FusedConv") {
    const View x0 = L.hbm(n.inputs[0]);
    const ir::HostTensor* w = L.constant(n.inputs[1]);
    const View wrt = L.hbm(n.inputs[1]);  // runtime weights [Co, Cg, (KH,) KW]
    const std::vector<int64_t> wshape = wrt.shape;
    const size_t sd = x0.shape.size() - 2;  // spatial dims
    if (sd < 1 || sd > 2) L.fail(n, fmt::format("{}-D convolution is not supported yet (1-D and 2-D are)", sd));
    // Treat 1-D as 2-D with H = 1.
    auto to2d = [&](std::vector<int64_t> v, int64_t one) {
      if (sd == 1) v.insert(v.begin(), one);
      return v;
    };
    const View x = sd == 1 ? View::dense(Space::hbm, x0.addr, x0.dtype, {x0.shape[0], x0.shape[1], 1, x0.shape[2]}) : x0;
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    const int64_t Co = wshape[0], Cg = wshape[1];
    const int64_t KH = sd == 1 ? 1 : wshape[2], KW = wshape.back();
    const int64_t group = n.attr_int("group", 1);
    auto ks = to2d(n.attr_ints("strides", std::vector<int64_t>(sd, 1)), 1);
    auto dl = to2d(n.attr_ints("dilations", std::vector<int64_t>(sd, 1)), 1);
    std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * sd, 0));
    const View out0 = L.hbm(ov);
    const int64_t OH = sd == 1 ? 1 : out0.shape[2], OW = out0.shape.back();
    const std::string auto_pad = n.attr_str("auto_pad", "NOTSET");
    int64_t pt, pl, pb, pr;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      auto total = [&](int64_t in, int64_t o, int64_t s, int64_t k, int64_t d) {
        return std::max<int64_t>(0, (o - 1) * s + (k - 1) * d + 1 - in);
      };
      const int64_t th = total(H, OH, ks[0], KH, dl[0]), tw = total(W, OW, ks[1], KW, dl[1]);
      const bool upper = auto_pad == "SAME_UPPER";
      pt = upper ? th / 2 : th - th / 2, pb = th - pt;
      pl = upper ? tw / 2 : tw - tw / 2, pr = tw - pl;
    } else if (auto_pad == "VALID") {
      pt = pl = pb = pr = 0;
    } else if (sd == 1) {
      pt = pb = 0, pl = pads[0], pr = pads[1];
    } else {
      pt = pads[0], pl = pads[1], pb = pads[2], pr = pads[3];
    }
    const View out = View::dense(Space::hbm, out0.addr, out0.dtype, {N, Co, OH, OW});
    // Zero-padded copy of the input (when padded).
    const int64_t Hp = std::max(H + pt + pb, (OH - 1) * ks[0] + (KH - 1) * dl[0] + 1);
    const int64_t Wp = std::max(W + pl + pr, (OW - 1) * ks[1] + (KW - 1) * dl[1] + 1);
    View xp = x;
    if (pt || pl || pb || pr || Hp != H || Wp != W) {
      xp = L.scratch(x.dtype, {N, C, Hp, Wp});
      L.fill(xp, 0.0);
      L.copy(x, xp.slice(2, pt, H).slice(3, pl, W));
    }
    const bool has_bias = n.inputs.size() > 2 && n.inputs[2] >= 0;
    const std::string act = n.attr_str("activation", "");
    if (group == C && Cg == 1 && group > 1) {
      // Depthwise: out[n,c] = sum_{kh,kw} xp[n, c*m.., window] * w[c, kh, kw] on the vector engine.
      const int64_t mult = Co / C;
      if (mult != 1) L.fail(n, "depthwise convolution with a channel multiplier is not supported yet");
      std::vector<View> ins;
      View wv;  // [KH*KW, Co]
      if (w) {
        ir::HostTensor wt(ir::ElemType::f32, {KH * KW, Co});
        for (int64_t c = 0; c < Co && L.constant_values(); ++c)
          for (int64_t k = 0; k < KH * KW; ++k) put_elem(wt, k * Co + c, *w, c * KH * KW + k);
        wv = L.add_constant(wt, DType::fp32);
      } else {
        wv = View::dense(Space::hbm, wrt.addr, wrt.dtype, {Co, KH * KW}).permute({1, 0});
      }
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          View v = xp;
          v.addr += static_cast<uint64_t>((kh * dl[0] * Wp + kw * dl[1]) * xp.esize());
          v.shape = {N, C, OH, OW};
          v.strides = {C * Hp * Wp, Hp * Wp, ks[0] * Wp, ks[1]};
          ins.push_back(v);
          View wk = wv.slice(0, kh * KW + kw, 1);
          wk.shape = {N, C, OH, OW};
          wk.strides = {0, wv.strides[1], 0, 0};
          ins.push_back(wk);
        }
      if (has_bias) {
        View bv = L.hbm(n.inputs[2]);
        bv.shape = {N, C, OH, OW};
        bv.strides = {0, 1, 0, 0};
        ins.push_back(bv);
      }
      L.elementwise(ins, out, 2, [&](auto& code, auto& in, auto& o, auto& temp) {
        View acc = temp(DType::fp32), t = temp(DType::fp32);
        auto add = [&](std::vector<Instr> v) { code.insert(code.end(), v.begin(), v.end()); };
        const int64_t nk = KH * KW;
        add(split_instr(Op::v_mul, o.shape, acc, in[0], &in[1], nullptr, {1, 0, 0}));
        for (int64_t k = 1; k < nk; ++k) {
          add(split_instr(Op::v_mul, o.shape, t, in[2 * k], &in[2 * k + 1], nullptr, {1, 0, 0}));
          add(split_instr(Op::v_add, o.shape, acc, acc, &t, nullptr, {1, 0, 0}));
        }
        if (has_bias) add(split_instr(Op::v_add, o.shape, acc, acc, &in[2 * nk], nullptr, {1, 0, 0}));
        if (act == "Relu") add(split_instr(Op::v_relu, o.shape, o, acc, nullptr, nullptr, {1, 0, 0}));
        else add(split_instr(Op::v_copy, o.shape, o, acc, nullptr, nullptr, {1, 0, 0}));
      });
      return true;
    }
    if (C != Cg * group || Co % group != 0) L.fail(n, "channels do not match the group count");
    const int64_t Cog = Co / group, Kc = Cg * KH * KW;
    const QuantAttrs q = quant_attrs(L, n);
    const DType ct = q.on ? q.dtype : compute_dtype(L, n, x.dtype);
    // A 1x1 convolution with unit strides over an unpadded input needs no
    // im2col: GEMM row oh*OW+ow of image b is x[b, :, oh, ow] (channels H*W
    // apart), which the GEMM's tile loads read in place.
    const bool direct = KH == 1 && KW == 1 && ks[0] == 1 && ks[1] == 1 && xp.addr == x.addr && OH == H && OW == W;
    // Otherwise im2col per group into scratch: col[n][oh*OW+ow][c*KH*KW + kh*KW + kw]
    const View col = direct ? x : L.scratch(x.dtype, {N, OH, OW, Cg, KH, KW});
    for (int64_t gi = 0; gi < group; ++gi) {
      View src = xp;
      src.addr += static_cast<uint64_t>(gi * Cg * Hp * Wp * xp.esize());
      src.shape = {N, OH, OW, Cg, KH, KW};
      src.strides = {C * Hp * Wp, ks[0] * Wp, ks[1], Hp * Wp, dl[0] * Wp, dl[1]};
      if (!direct) L.copy(src, col);
      // weights of this group as [Kc, Cog]
      View wv, cs;
      if (w && q.on) {
        wv = quant_weight(L, Kc, Cog, [&](int64_t k, int64_t o) { return w->get((gi * Cog + o) * Kc + k); }, q.dtype,
                          q.act_scale, cs);
      } else if (w) {
        ir::HostTensor wg(ir::ElemType::f32, {Kc, Cog});
        for (int64_t k = 0; k < Kc && L.constant_values(); ++k)
          for (int64_t o = 0; o < Cog; ++o) put_elem(wg, k * Cog + o, *w, (gi * Cog + o) * Kc + k);
        wv = L.add_constant(wg, ct);
      } else {
        wv = View::dense(Space::hbm, wrt.addr, wrt.dtype, {Co, Kc}).slice(0, gi * Cog, Cog).permute({1, 0});
      }
      Gemm G;
      G.batch = N, G.M = OH * OW, G.K = Kc, G.N = Cog, G.ct = ct, G.act = act;
      if (w && q.on) {
        G.act_scale = q.act_scale;
        G.colscale = cs;
      }
      G.A = [=](int64_t b) {
        if (direct)
          return View::dense(Space::hbm, x.addr + static_cast<uint64_t>((b * C + gi * Cg) * H * W * x.esize()), x.dtype,
                             {Cg, H * W})
              .permute({1, 0});
        return View::dense(Space::hbm, col.addr + static_cast<uint64_t>(b * OH * OW * Kc * col.esize()), col.dtype,
                           {OH * OW, Kc});
      };
      G.B = [=](int64_t) { return wv; };
      G.out = [=](int64_t b) {
        View o = out;
        o.addr += static_cast<uint64_t>((b * Co * OH * OW + gi * Cog * OH * OW) * out.esize());
        o.shape = {OH * OW, Cog};
        o.strides = {1, OH * OW};  // NCHW: channels are the slow axis
        return o;
      };
      if (has_bias) {
        View bv = L.hbm(n.inputs[2]);
        G.bias = View::dense(Space::hbm, bv.addr + static_cast<uint64_t>(gi * Cog * bv.esize()), bv.dtype, {Cog});
      }
      emit_gemm(L, n, G);
    }
    return true;
  }

  if (op == "ConvTranspose") {
    // y[n, o, ih*s + kh*d - p, iw*s + kw*d - p] += sum_c x[n, c, ih, iw] * w[c, o, kh, kw]:
    // per kernel offset one GEMM (x^T w[:, :, kh, kw]) into scratch, then a
    // strided accumulate into the output.
    const View x0 = L.hbm(n.inputs[0]);
    const ir::HostTensor* w = L.constant(n.inputs[1]);
    const View wrt = L.hbm(n.inputs[1]);  // [C, Co/group, (KH,) KW]
    const size_t sd = x0.shape.size() - 2;
    if (sd < 1 || sd > 2) L.fail(n, fmt::format("{}-D transposed convolution is not supported yet", sd));
    auto to2d = [&](std::vector<int64_t> v, int64_t one) {
      if (sd == 1) v.insert(v.begin(), one);
      return v;
    };
    const int64_t N = x0.shape[0], C = x0.shape[1], H = sd == 1 ? 1 : x0.shape[2], W = x0.shape.back();
    const int64_t group = n.attr_int("group", 1), Cog = wrt.shape[1], Co = Cog * group, Cg = C / group;
    const int64_t KH = sd == 1 ? 1 : wrt.shape[2], KW = wrt.shape.back();
    auto ks = to2d(n.attr_ints("strides", std::vector<int64_t>(sd, 1)), 1);
    auto dl = to2d(n.attr_ints("dilations", std::vector<int64_t>(sd, 1)), 1);
    auto opad = to2d(n.attr_ints("output_padding", std::vector<int64_t>(sd, 0)), 0);
    const View out0 = L.hbm(ov);
    const int64_t OH = sd == 1 ? 1 : out0.shape[2], OW = out0.shape.back();
    std::vector<int64_t> pads = n.attr_ints("pads", {});
    int64_t pt = 0, pl = 0;
    const std::string auto_pad = n.attr_str("auto_pad", "NOTSET");
    const bool derive = n.has_attr("output_shape") || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
    if (derive) {
      auto begin = [&](int64_t in, int64_t o, int64_t s, int64_t k, int64_t d, int64_t op_) {
        const int64_t total = s * (in - 1) + op_ + (k - 1) * d + 1 - o;
        // floor division, as the ONNX reference computes it (total may be negative)
        const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
        return auto_pad == "SAME_UPPER" ? half : total - half;
      };
      pt = begin(H, OH, ks[0], KH, dl[0], opad[0]);
      pl = begin(W, OW, ks[1], KW, dl[1], opad[1]);
    } else if (!pads.empty()) {
      pt = sd == 1 ? 0 : pads[0];
      pl = sd == 1 ? pads[0] : pads[1];
    }
    const View x = View::dense(Space::hbm, x0.addr, x0.dtype, {N, C, H, W});
    const View y = View::dense(Space::hbm, out0.addr, out0.dtype, {N, Co, OH, OW});
    if (n.inputs.size() > 2 && n.inputs[2] >= 0) {
      View bv = L.hbm(n.inputs[2]);
      bv.shape = {N, Co, OH, OW};
      bv.strides = {0, 1, 0, 0};
      L.copy(bv, y);
    } else {
      L.fill(y, 0.0);
    }
    const DType ct = compute_dtype(L, n, x.dtype);
    const View z = L.scratch(DType::fp32, {N, H * W, Cog});
    auto ceil_div = [](int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); };
    auto floor_div = [](int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
    for (int64_t gi = 0; gi < group; ++gi)
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          const int64_t ih0 = std::max<int64_t>(0, ceil_div(pt - kh * dl[0], ks[0]));
          const int64_t ih1 = std::min<int64_t>(H - 1, floor_div(OH - 1 + pt - kh * dl[0], ks[0]));
          const int64_t iw0 = std::max<int64_t>(0, ceil_div(pl - kw * dl[1], ks[1]));
          const int64_t iw1 = std::min<int64_t>(W - 1, floor_div(OW - 1 + pl - kw * dl[1], ks[1]));
          if (ih1 < ih0 || iw1 < iw0) continue;
          View wv;
          if (w) {
            ir::HostTensor wk(ir::ElemType::f32, {Cg, Cog});
            for (int64_t c = 0; c < Cg && L.constant_values(); ++c)
              for (int64_t o = 0; o < Cog; ++o)
                put_elem(wk, c * Cog + o, *w, (((gi * Cg + c) * Cog + o) * KH + kh) * KW + kw);
            wv = L.add_constant(wk, ct);
          } else {  // runtime weights: a strided view of w[:, :, kh, kw]
            wv = View::dense(Space::hbm, wrt.addr, wrt.dtype, {Cg, Cog});
            wv.addr += static_cast<uint64_t>((gi * Cg * Cog * KH * KW + kh * KW + kw) * wrt.esize());
            wv.strides = {Cog * KH * KW, KH * KW};
          }
          Gemm G;
          G.batch = N, G.M = H * W, G.K = Cg, G.N = Cog, G.ct = ct;
          G.A = [=](int64_t b) {
            View a = View::dense(Space::hbm, x.addr + static_cast<uint64_t>((b * C + gi * Cg) * H * W * x.esize()),
                                 x.dtype, {Cg, H * W});
            return a.permute({1, 0});
          };
          G.B = [=](int64_t) { return wv; };
          G.out = [=](int64_t b) {
            return View::dense(Space::hbm, z.addr + static_cast<uint64_t>(b * H * W * Cog * 4), DType::fp32, {H * W, Cog});
          };
          emit_gemm(L, n, G);
          const int64_t nh = ih1 - ih0 + 1, nw = iw1 - iw0 + 1;
          View yv = y.slice(1, gi * Cog, Cog)
                        .slice(2, ih0 * ks[0] + kh * dl[0] - pt, nh, ks[0])
                        .slice(3, iw0 * ks[1] + kw * dl[1] - pl, nw, ks[1]);
          View zv = z;  // [N, H*W, Cog] seen as [N, Cog, H, W]
          zv.shape = {N, Cog, H, W};
          zv.strides = {H * W * Cog, 1, W * Cog, Cog};
          zv = zv.slice(2, ih0, nh).slice(3, iw0, nw);
          L.elementwise({yv, zv}, yv, 0, [&](auto& code, auto& in, auto& o, auto&) {
            auto ins = split_instr(Op::v_add, o.shape, o, in[0], &in[1], nullptr, {1, 0, 0});
            code.insert(code.end(), ins.begin(), ins.end());
          });
        }
    return true;
  }

  if (op == "MaxPool" || op == "AveragePool") {
    const View x0 = L.hbm(n.inputs[0]);
    const size_t sd = x0.shape.size() - 2;
    if (sd < 1 || sd > 2) L.fail(n, fmt::format("{}-D pooling is not supported yet", sd));
    if (n.outputs.size() > 1 && n.outputs[1] >= 0) L.fail(n, "the Indices output is not supported yet");
    auto to2d = [&](std::vector<int64_t> v, int64_t one) {
      if (sd == 1) v.insert(v.begin(), one);
      return v;
    };
    const View x = sd == 1 ? View::dense(Space::hbm, x0.addr, x0.dtype, {x0.shape[0], x0.shape[1], 1, x0.shape[2]}) : x0;
    const int64_t N = x.shape[0], C = x.shape[1], H = x.shape[2], W = x.shape[3];
    auto kshape = to2d(n.attr_ints("kernel_shape", {}), 1);
    auto ks = to2d(n.attr_ints("strides", std::vector<int64_t>(sd, 1)), 1);
    auto dl = to2d(n.attr_ints("dilations", std::vector<int64_t>(sd, 1)), 1);
    std::vector<int64_t> pads = n.attr_ints("pads", std::vector<int64_t>(2 * sd, 0));
    const View out0 = L.hbm(ov);
    const int64_t OH = sd == 1 ? 1 : out0.shape[2], OW = out0.shape.back();
    const int64_t KH = kshape[0], KW = kshape[1];
    const std::string auto_pad = n.attr_str("auto_pad", "NOTSET");
    int64_t pt, pl;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      const int64_t th = std::max<int64_t>(0, (OH - 1) * ks[0] + (KH - 1) * dl[0] + 1 - H);
      const int64_t tw = std::max<int64_t>(0, (OW - 1) * ks[1] + (KW - 1) * dl[1] + 1 - W);
      pt = auto_pad == "SAME_UPPER" ? th / 2 : th - th / 2;
      pl = auto_pad == "SAME_UPPER" ? tw / 2 : tw - tw / 2;
    } else if (auto_pad == "VALID") {
      pt = pl = 0;
    } else {
      pt = sd == 1 ? 0 : pads[0];
      pl = sd == 1 ? pads[0] : pads[1];
    }
    const bool is_max = op == "MaxPool";
    const int64_t Hp = std::max(H + pt, (OH - 1) * ks[0] + (KH - 1) * dl[0] + 1);
    const int64_t Wp = std::max(W + pl, (OW - 1) * ks[1] + (KW - 1) * dl[1] + 1);
    View xp = L.scratch(x.dtype, {N, C, Hp, Wp});
    L.fill(xp, is_max ? -std::numeric_limits<double>::infinity() : 0.0);
    L.copy(x, xp.slice(2, pt, H).slice(3, pl, W));
    const View out = View::dense(Space::hbm, out0.addr, out0.dtype, {N, C, OH, OW});
    std::vector<View> ins;
    for (int64_t kh = 0; kh < KH; ++kh)
      for (int64_t kw = 0; kw < KW; ++kw) {
        View v = xp;
        v.addr += static_cast<uint64_t>((kh * dl[0] * Wp + kw * dl[1]) * xp.esize());
        v.shape = {N, C, OH, OW};
        v.strides = {C * Hp * Wp, Hp * Wp, ks[0] * Wp, ks[1]};
        ins.push_back(v);
      }
    std::optional<View> div;
    if (!is_max) {
      const bool include_pad = n.attr_int("count_include_pad", 0) != 0;
      ir::HostTensor d(ir::ElemType::f32, {OH, OW});
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          int64_t cnt = 0;
          for (int64_t kh = 0; kh < KH; ++kh)
            for (int64_t kw = 0; kw < KW; ++kw) {
              const int64_t ih = oh * ks[0] + kh * dl[0] - pt, iw = ow * ks[1] + kw * dl[1] - pl;
              const bool inside = ih >= 0 && ih < H && iw >= 0 && iw < W;
              // count_include_pad counts the explicit pads, not the ceil_mode overhang
              const bool in_pads = ih >= -pt && ih < H + (sd == 1 ? 0 : pads[2]) && iw >= -pl &&
                                   iw < W + (sd == 1 ? pads[1] : pads[3]);
              cnt += include_pad ? in_pads : inside;
            }
          d.set(oh * OW + ow, cnt ? 1.0 / static_cast<double>(cnt) : 0.0);
        }
      View dv = L.add_constant(d, DType::fp32);
      dv.shape = {N, C, OH, OW};
      dv.strides = {0, 0, OW, 1};
      ins.push_back(dv);
      div = dv;
    }
    L.elementwise(ins, out, 1, [&](auto& code, auto& in, auto& o, auto& temp) {
      View acc = temp(DType::fp32);
      auto add = [&](std::vector<Instr> v) { code.insert(code.end(), v.begin(), v.end()); };
      const size_t nk = static_cast<size_t>(KH * KW);
      add(split_instr(Op::v_copy, o.shape, acc, in[0], nullptr, nullptr, {1, 0, 0}));
      for (size_t k = 1; k < nk; ++k)
        add(split_instr(is_max ? Op::v_max : Op::v_add, o.shape, acc, acc, &in[k], nullptr, {1, 0, 0}));
      if (!is_max) add(split_instr(Op::v_mul, o.shape, o, acc, &in[nk], nullptr, {1, 0, 0}));
      else add(split_instr(Op::v_copy, o.shape, o, acc, nullptr, nullptr, {1, 0, 0}));
    });
    return true;
  }
  (void)g;
  return false;
}

}  // namespace seedchip::compiler
