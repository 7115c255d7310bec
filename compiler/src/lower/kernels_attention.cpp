// seedchip — fused attention (FlashAttention-style), domain "seedchip":
//   out[b] = softmax(scale * q[b] x kt[b] (+ causal mask)) x v[b]
// q [B, M, D], kt [B, D, C] (keys transposed, as the KV cache keeps them),
// v [B, C, D]. One tile is a block of query rows of one batch entry with that
// entry's whole K and V panels in SRAM; the keys are visited in blocks of one
// array width with an online softmax (running row max m, row sum l, output
// O rescaled by exp(m_old - m_new)), so the score matrix never goes to HBM.
// Attributes: scale (default 1/sqrt(D)); causal_offset (default -1: no mask;
// else row r may see keys j <= (r mod rows_per_group) + causal_offset, and
// key blocks no row of the tile may see are skipped); rows_per_group (default
// M: rows are groups of query tokens, e.g. the heads sharing a KV head).
//
// Paged form (a 4th input): kt and v are pools of fixed-size pages,
// kt [P, D, page] (keys transposed within a page) and v [P, page, D], and
// table [B, n] (int32) lists the pages of each batch entry in order; a page
// holds at most one array width of keys, and a key block is one page. The
// panels are gathered page by page (load.gather), so a KV cache can live in
// HBM as a pool of blocks shared by sequences of any length. Attribute
// `context` (default n x page) says how many keys are valid; later ones are
// masked.
#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "lowering.h"

namespace seedchip::compiler {

using isa::Instr;
using isa::Op;
using isa::Space;

namespace {

// Batch entry b of a [B, ...] view, without the batch dimension.
View entry(const View& v, int64_t b) {
  View r = v;
  r.addr = static_cast<uint64_t>(static_cast<int64_t>(v.addr) + b * v.strides[0] * v.esize());
  r.shape.erase(r.shape.begin());
  r.strides.erase(r.strides.begin());
  return r;
}

// Query rows a FlashAttention tile can hold, given the SRAM slot and
// accumulator slot (bytes), the head size D, keys C, the element sizes of q,
// K, V, the matrix input type and the output, and whether a mask is kept.
// Rows < 1: the K and V panels do not fit. `whole` says whether the tile can
// keep all of a block's scores (the whole-row mode). One rule for lowering and
// for flash_attention_fits.
struct AttnRows {
  int64_t rows = 0, panel = 0, slot = 0;
  bool whole = false;
};
AttnRows attention_rows(int64_t slot_bytes, int64_t acc_bytes, int64_t M, int64_t D, int64_t C, int64_t bc, int64_t es_q,
                        int64_t es_k, int64_t es_v, int64_t es_c, int64_t es_o, bool conv_q, bool conv_k, bool conv_v,
                        bool masked) {
  AttnRows r;
  r.slot = slot_bytes - 64 * 24;
  r.panel = D * C * (es_k + es_v + (conv_k ? es_c : 0) + (conv_v ? es_c : 0));
  // per query row: q (+ converted), S and P in fp32, P converted, O fp32, out, masks
  auto per_row = [&](int64_t w) { return D * (es_q + (conv_q ? es_c : 0)) + w * (4 + es_c + (masked ? 12 : 0)) + D * (4 + es_o) + 64; };
  auto rows_for = [&](int64_t w) { return std::min<int64_t>({M, (r.slot - r.panel) / per_row(w), acc_bytes / ((w + D) * 4)}); };
  // Whole rows: when a block of query rows can hold all its scores in the
  // accumulator, the key blocks' GEMMs run back to back, one softmax follows
  // and the P x V GEMMs accumulate in the array: no per-block rescaling chain
  // (decode steps, whose few query rows would otherwise wait on it per block).
  r.whole = rows_for(C) >= std::min<int64_t>(M, 64);
  r.rows = rows_for(r.whole ? C : bc);
  return r;
}

// The matrix input type of a FlashAttention whose keys are `kt`: the keys'
// own (fp8 KV caches stay fp8), else bf16 unless the model runs in fp32.
DType attention_compute_type(const arch::Chip& chip, DType kt, Precision p) {
  DType ct = kt;
  if (!chip.matrix_supports(ct) || (ct == DType::fp32 && chip.matrix_supports(DType::bf16) && p != Precision::fp32))
    ct = chip.matrix_supports(DType::bf16) ? DType::bf16 : DType::fp32;
  return ct;
}

}  // namespace

bool flash_attention_fits(const arch::Chip& chip, int64_t head_dim, int64_t context, DType kv, DType q, Precision p) {
  if (head_dim < 1 || context < 1) return false;
  const DType ct = attention_compute_type(chip, kv, p);
  if (!chip.matrix_supports(ct)) return false;
  const int64_t es_kv = dtype_bits(kv) / 8, es_q = dtype_bits(q) / 8, es_c = dtype_bits(ct) / 8;
  const auto slot = static_cast<int64_t>(Emitter::slot_bytes_of(chip));
  const auto acc = static_cast<int64_t>(Emitter::acc_slot_bytes_of(chip));
  const int64_t bc = std::min<int64_t>(context, chip.core.matrix.cols);
  // one query row, a causal mask: the most demanding tile the LLM layers ask for
  return attention_rows(slot, acc, 1, head_dim, context, bc, es_q, es_kv, es_kv, es_c, es_q, q != ct, kv != ct, kv != ct,
                        true)
             .rows >= 1;
}

bool lower_attention(Lowering& L, const ir::Node& n) {
  if (n.op != "FlashAttention") return false;
  const auto& chip = L.em().chip();
  const View q = L.hbm(n.inputs.at(0)), kt = L.hbm(n.inputs.at(1)), v = L.hbm(n.inputs.at(2));
  const View out = L.hbm(n.outputs.at(0));
  const bool paged = n.inputs.size() > 3 && n.inputs[3] >= 0;
  if (q.shape.size() != 3 || kt.shape.size() != 3 || v.shape.size() != 3)
    L.fail(n, "FlashAttention takes q [B,M,D], kt [B,D,C] and v [B,C,D] (paged: pools kt [P,D,page], v [P,page,D] and a table [B,n])");
  const int64_t B = q.shape[0], M = q.shape[1], D = q.shape[2];
  View table;
  int64_t page = 0, npages = 0, C = kt.shape[2];
  if (paged) {
    table = L.hbm(n.inputs[3]);
    page = kt.shape[2];
    if (table.shape.size() != 2 || table.shape[0] != B || table.dtype != DType::int32)
      L.fail(n, "the page table must be int32 [B, pages]");
    npages = table.shape[1];
    C = npages * page;
    if (kt.shape[1] != D || v.shape[0] != kt.shape[0] || v.shape[1] != page || v.shape[2] != D)
      L.fail(n, fmt::format("FlashAttention page pools disagree: kt [{},{},{}], v [{},{},{}]", kt.shape[0], kt.shape[1],
                            kt.shape[2], v.shape[0], v.shape[1], v.shape[2]));
  } else if (kt.shape[0] != B || kt.shape[1] != D || v.shape[0] != B || v.shape[1] != C || v.shape[2] != D) {
    L.fail(n, fmt::format("FlashAttention shapes disagree: q [{},{},{}], kt [{},{},{}], v [{},{},{}]", B, M, D,
                          kt.shape[0], kt.shape[1], C, v.shape[0], v.shape[1], v.shape[2]));
  }
  const int64_t context = n.attr_int("context", C);
  if (context < 1 || context > C) L.fail(n, fmt::format("context {} outside [1, {}]", context, C));
  const double scale = n.attr_float("scale", 1.0 / std::sqrt(static_cast<double>(D)));
  const int64_t causal = n.attr_int("causal_offset", -1), group = n.attr_int("rows_per_group", M);
  const bool masked = causal >= 0 || context < C;
  if (group < 1 || M % group != 0) L.fail(n, "rows_per_group must divide the query rows");
  // matrix input type: the keys' (fp8 KV caches stay fp8), else what the precision asks
  const DType ct = attention_compute_type(chip, kt.dtype, L.options().precision);
  if (!chip.matrix_supports(ct)) L.fail(n, fmt::format("chip '{}' cannot multiply {}", chip.name, dtype_name(ct)));
  const int64_t rows = chip.core.matrix.rows, cols = chip.core.matrix.cols;
  const int64_t bc = paged ? page : std::min(C, cols);  // keys per block: one array width, or one page
  if (paged && page > cols) L.fail(n, "a page may hold at most one array width of keys");
  const int64_t es_q = q.esize(), es_k = kt.esize(), es_v = v.esize(), es_c = dtype_bits(ct) / 8, es_o = out.esize();
  const bool conv_k = kt.dtype != ct, conv_v = v.dtype != ct, conv_q = q.dtype != ct;
  const AttnRows fit = attention_rows(static_cast<int64_t>(L.em().slot_bytes()),
                                      static_cast<int64_t>(L.em().acc_slot_bytes()), M, D, C, bc, es_q, es_k, es_v, es_c,
                                      es_o, conv_q, conv_k, conv_v, masked);
  const int64_t slot = fit.slot, panel = fit.panel;
  const bool whole = fit.whole;
  const int64_t sw = whole ? C : bc;  // columns of the score buffers
  int64_t mq = fit.rows;
  if (mq < 1)
    L.fail(n, fmt::format("FlashAttention: the K and V panels of {} keys x {} ({} bytes) do not fit in an SRAM slot of "
                          "{} bytes; split the context",
                          C, D, panel, slot));
  mq = (M + (M + mq - 1) / mq - 1) / ((M + mq - 1) / mq);  // equal blocks
  const int64_t q_tiles = (M + mq - 1) / mq;
  struct Key {
    int core = -1;
    int64_t b = -1;
  };
  std::array<Key, 2> slot_kv{};
  L.em().pipeline(B * q_tiles, [&](int64_t t, int slot_i) {
    Tile tile;
    const int64_t b = t / q_tiles, q0 = (t % q_tiles) * mq, mm = std::min(mq, M - q0);
    uint64_t cur = L.em().slot_base(slot_i);
    auto buf = [&](DType d, std::vector<int64_t> s) {
      int64_t e = 1;
      for (auto x : s) e *= x;
      View r = View::dense(Space::sram, cur, d, s);
      cur += align64(static_cast<uint64_t>(e) * dtype_bits(d) / 8);
      return r;
    };
    auto load = [&](const View& dst, const View& src) {
      auto l = split_instr(Op::load, dst.shape, dst, src, nullptr, nullptr, {0, 0, 0});
      tile.loads.insert(tile.loads.end(), l.begin(), l.end());
    };
    auto& code = tile.compute;
    auto add = [&](std::vector<Instr> x) { code.insert(code.end(), x.begin(), x.end()); };
    auto vop = [&](Op o, const View& d, const View& a, const View* bb, const isa::Operand* im = nullptr) {
      add(split_instr(o, d.shape, d, a, bb, im, {1, 0, 0}));
    };
    auto fill = [&](const View& d, const isa::Operand& value) {  // v.copy takes its immediate as operand a
      auto f = split_instr(Op::v_copy, d.shape, d, d, nullptr, nullptr, {1, 0, 0});
      for (auto& in : f) in.a = value;
      add(std::move(f));
    };
    auto red = [&](Op o, const View& col, const View& m) {
      View d = col;
      d.shape = m.shape;
      d.strides = {col.strides[0], 0};
      add(split_instr(o, m.shape, d, m, nullptr, nullptr, {1, 0, 0}, true));
    };
    // K and V panels first (same place in every tile of a slot, so a later
    // tile of the same batch entry on the same core finds them loaded)
    const View k_s = buf(kt.dtype, {D, C}), v_s = buf(v.dtype, {C, D});
    const View k_c = conv_k ? buf(ct, {D, C}) : k_s, v_c = conv_v ? buf(ct, {C, D}) : v_s;
    const Key key{L.em().current_core(), b};
    const bool fresh = !(slot_kv[static_cast<size_t>(slot_i)].core == key.core && slot_kv[static_cast<size_t>(slot_i)].b == b);
    if (fresh && paged) {
      // the entry's page numbers, then its pages gathered into [pages, D*page] and [pages, page*D]
      const View idx = buf(DType::int32, {npages});
      load(idx, entry(table, b));
      for (const auto& [pool, dst] : {std::pair{kt, k_s}, std::pair{v, v_s}}) {
        Instr g;
        g.op = Op::load_gather;
        g.rank = 2;
        g.shape = {static_cast<uint32_t>(npages), static_cast<uint32_t>(D * page), 0, 0};
        g.dst = {Space::sram, isa::kLocalCore, pool.dtype, 2, dst.addr, {D * page, 1, 0, 0}};
        g.a = {Space::hbm, isa::kLocalCore, pool.dtype, 2, pool.addr, {D * page, 1, 0, 0}};
        g.b = {Space::sram, isa::kLocalCore, DType::int32, 1, idx.addr, {1, 0, 0, 0}};
        tile.loads.push_back(g);
      }
      slot_kv[static_cast<size_t>(slot_i)] = key;
    } else if (fresh) {
      load(k_s, entry(kt, b));
      load(v_s, entry(v, b));
      slot_kv[static_cast<size_t>(slot_i)] = key;
    }
    const View q_s = buf(q.dtype, {mm, D});
    load(q_s, entry(q, b).slice(0, q0, mm));
    const View q_c = conv_q ? buf(ct, {mm, D}) : q_s;
    if (fresh && conv_k) vop(Op::v_copy, k_c, k_s, nullptr);
    if (fresh && conv_v) vop(Op::v_copy, v_c, v_s, nullptr);
    if (conv_q) vop(Op::v_copy, q_c, q_s, nullptr);
    const View S = buf(DType::fp32, {mm, sw}), Pc = buf(ct, {mm, sw}), O = buf(DType::fp32, {mm, D});
    const View m = buf(DType::fp32, {mm, 1}), l = buf(DType::fp32, {mm, 1}), mn = buf(DType::fp32, {mm, 1}),
               al = buf(DType::fp32, {mm, 1});
    const View o_s = buf(out.dtype, {mm, D});
    const View acc_s = View::dense(Space::acc, L.em().acc_slot_base(slot_i), DType::fp32, {mm, sw});
    const View acc_o = View::dense(Space::acc, L.em().acc_slot_base(slot_i) + align64(static_cast<uint64_t>(mm * sw * 4)),
                                   DType::fp32, {mm, D});
    // causal bookkeeping: the last key each row may see, relative to the block start
    View colidx, lim, cond, negbig;
    int64_t see_min = std::numeric_limits<int64_t>::max(), see_max = -1;
    if (masked) {
      for (int64_t r = q0; r < q0 + mm; ++r) {
        const int64_t last = std::min(causal >= 0 ? r % group + causal : C - 1, context - 1);
        see_min = std::min(see_min, last);
        see_max = std::max(see_max, last);
      }
      colidx = buf(DType::int32, {mm, sw});
      lim = buf(DType::int32, {mm, 1});
      cond = buf(DType::fp32, {mm, sw});
      negbig = buf(DType::fp32, {mm, sw});
      const isa::Operand one = imm(1, true);
      fill(colidx, one);
      add(split_instr(Op::v_cumsum, colidx.shape, colidx, colidx, nullptr, nullptr, {1, 0, 0}, true));
      View limrow = View::dense(Space::sram, lim.addr, DType::int32, {1, mm});  // same bytes as [mm, 1]
      fill(limrow, one);
      add(split_instr(Op::v_cumsum, limrow.shape, limrow, limrow, nullptr, nullptr, {1, 0, 0}, true));
      const isa::Operand first = imm(static_cast<double>(q0 - 1), true), grp = imm(static_cast<double>(group), true),
                         off = imm(static_cast<double>(causal + 1), true);
      if (causal >= 0) {
        vop(Op::v_add, limrow, limrow, nullptr, &first);  // r = q0 .. q0 + mm - 1
        vop(Op::v_mod, limrow, limrow, nullptr, &grp);
        vop(Op::v_add, limrow, limrow, nullptr, &off);     // keys 1-based below: col + 1 <= r % group + offset + 1
      }
      if (context < C) {
        const isa::Operand ctx = imm(static_cast<double>(context), true);
        if (causal >= 0) vop(Op::v_min, limrow, limrow, nullptr, &ctx);
        else fill(limrow, ctx);
      }
      const isa::Operand big = imm(-1e30);
      fill(negbig, big);
    }
    const isa::Operand ninf = imm(-1e30), zero = imm(0.0), sc = imm(scale);
    // S[:, col:col+nb] = q x kt[:, j0:j0+nb] in the accumulator, D contracted in chunks of the array's rows
    auto scores = [&](int64_t j0, int64_t nb, int64_t col) {
      for (int64_t k0 = 0; k0 < D; k0 += rows) {
        const int64_t kk = std::min(rows, D - k0);
        // contiguous panel [D, C]: row stride C; gathered pages [pages][D][page]: page j0/page, row stride page
        const int64_t koff = paged ? (j0 / page) * D * page + k0 * page : k0 * C + j0;
        code.push_back(mm_ldw(ct, k_c.addr + static_cast<uint64_t>(koff * es_c), kk, nb, paged ? page : C));
        code.push_back(mm_run(ct, q_c.addr + static_cast<uint64_t>(k0 * es_c), D, DType::fp32,
                              acc_s.addr + static_cast<uint64_t>(col * 4), sw, mm, kk, nb, k0 > 0));
      }
    };
    // acc_o = P[:, col:col+nk] x v[key0:key0+nk, :], the keys contracted in chunks of the array's rows
    auto p_times_v = [&](int64_t key0, int64_t nk, int64_t col) {
      for (int64_t k0 = 0; k0 < nk; k0 += rows) {
        const int64_t kk = std::min(rows, nk - k0);
        for (int64_t d0 = 0; d0 < D; d0 += cols) {
          const int64_t dd = std::min(cols, D - d0);
          code.push_back(mm_ldw(ct, v_c.addr + static_cast<uint64_t>(((key0 + k0) * D + d0) * es_c), kk, dd, D));
          code.push_back(mm_run(ct, Pc.addr + static_cast<uint64_t>((col + k0) * es_c), sw, DType::fp32,
                                acc_o.addr + static_cast<uint64_t>(d0 * 4), D, mm, kk, dd, k0 > 0));
        }
      }
    };
    if (whole) {
      // keys any row of the tile may see, in whole blocks, into adjacent accumulator columns
      const int64_t last = masked ? std::min<int64_t>(C, see_max + 1) : C;
      const int64_t cv = std::min<int64_t>(C, (last + bc - 1) / bc * bc);
      for (int64_t j0 = 0; j0 < cv; j0 += bc) scores(j0, std::min(bc, C - j0), j0);
      const View Sv = S.slice(1, 0, cv), Pv = Pc.slice(1, 0, cv), accv = acc_s.slice(1, 0, cv);
      vop(Op::v_mul, Sv, accv, nullptr, &sc);
      if (masked && cv - 1 > see_min) {  // key c (1-based colidx) is hidden when colidx > lim
        const View cd = cond.slice(1, 0, cv), ci = colidx.slice(1, 0, cv), nbig = negbig.slice(1, 0, cv);
        View limb = bcol(lim, cv);
        vop(Op::v_gt, cd, ci, &limb);
        vop(Op::v_select, Sv, cd, &nbig);
      }
      red(Op::v_rmax, m, Sv);
      View mb = bcol(m, cv);
      vop(Op::v_sub, Sv, Sv, &mb);
      vop(Op::v_exp, Sv, Sv, nullptr);
      red(Op::v_rsum, l, Sv);
      vop(Op::v_copy, Pv, Sv, nullptr);
      p_times_v(0, cv, 0);  // accumulating over all keys in the array
      vop(Op::v_recip, l, l, nullptr);
      View lb = bcol(l, D);
      vop(Op::v_mul, o_s, acc_o, &lb);
    } else {
      fill(m, ninf);
      fill(l, zero);
      fill(O, zero);
      for (int64_t j0 = 0; j0 < C; j0 += bc) {
        if (masked && j0 > see_max) break;  // no row of this tile sees these keys
        const int64_t nb = std::min(bc, C - j0);
        const View Sb = S.slice(1, 0, nb), Pb = Pc.slice(1, 0, nb), accS = acc_s.slice(1, 0, nb);
        scores(j0, nb, 0);
        vop(Op::v_mul, Sb, accS, nullptr, &sc);
        if (masked && j0 + nb - 1 > see_min) {  // some rows must not see some of these keys
          const View ci = colidx.slice(1, 0, nb), cd = cond.slice(1, 0, nb);
          // key j0 + c (c 0-based) is hidden when c + 1 > lim - j0, i.e. colidx(1-based) + j0 > lim
          const isa::Operand j0i = imm(static_cast<double>(j0), true);
          View tmp = View::dense(Space::sram, cond.addr, DType::int32, {mm, nb});
          tmp.strides = cond.strides;
          vop(Op::v_add, tmp, ci, nullptr, &j0i);
          View limb = bcol(lim, nb);
          vop(Op::v_gt, cd, tmp, &limb);
          View nb_big = negbig.slice(1, 0, nb);
          vop(Op::v_select, Sb, cd, &nb_big);
        }
        // online softmax
        red(Op::v_rmax, mn, Sb);
        vop(Op::v_max, mn, mn, &m);
        vop(Op::v_sub, al, m, &mn);
        vop(Op::v_exp, al, al, nullptr);
        View mnb = bcol(mn, nb);
        vop(Op::v_sub, Sb, Sb, &mnb);
        vop(Op::v_exp, Sb, Sb, nullptr);
        vop(Op::v_mul, l, l, &al);
        View rs = m;  // m is replaced by mn below: reuse it for the row sums first
        red(Op::v_rsum, rs, Sb);
        vop(Op::v_add, l, l, &rs);
        vop(Op::v_copy, m, mn, nullptr);
        View alb = bcol(al, D);
        vop(Op::v_mul, O, O, &alb);
        vop(Op::v_copy, Pb, Sb, nullptr);
        p_times_v(j0, nb, 0);  // this block's share, added to O below
        vop(Op::v_add, O, O, &acc_o);
      }
      vop(Op::v_recip, l, l, nullptr);
      View lb = bcol(l, D);
      vop(Op::v_mul, o_s, O, &lb);
    }
    auto st = split_instr(Op::store, {mm, D}, entry(out, b).slice(0, q0, mm), o_s, nullptr, nullptr,
                          {0, 0, 0});
    tile.stores = std::move(st);
    return tile;
  });
  return true;
}

}  // namespace seedchip::compiler
