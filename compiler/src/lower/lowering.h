// seedchip — lowering a (canonicalized, folded, fused, quantised) IR graph to a chip program.
// Internal to the compiler; kernels for each op family live in kernels_*.cpp.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "emitter.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"

namespace seedchip::compiler {

/// A byte count rounded up to the 64-byte alignment every buffer keeps.
inline uint64_t align64(uint64_t x) { return (x + 63) / 64 * 64; }

/// A [rows, 1] column view broadcast along R columns (stride 0).
inline View bcol(const View& c, int64_t R) {
  View v = c;
  v.shape = {c.shape[0], R};
  v.strides = {c.strides[0], 0};
  return v;
}

/// mm.ldw of the [k, n] weight tile at `addr` in this core's SRAM (row stride
/// `row_stride` elements of `t`; int4 addresses count whole bytes).
inline isa::Instr mm_ldw(DType t, uint64_t addr, int64_t k, int64_t n, int64_t row_stride) {
  isa::Instr w;
  w.op = isa::Op::mm_ldw;
  w.rank = 2;
  w.shape = {static_cast<uint32_t>(k), static_cast<uint32_t>(n), 0, 0};
  w.a = {isa::Space::sram, isa::kLocalCore, t, 2, addr, {row_stride, 1, 0, 0}};
  return w;
}

/// mm.run: the [m, k] rows at `a` (SRAM, row stride a_stride) times the loaded
/// weights into the [m, n] accumulator block at `dst` (row stride dst_stride),
/// adding to it when `accumulate`.
inline isa::Instr mm_run(DType at, uint64_t a, int64_t a_stride, DType acc_t, uint64_t dst, int64_t dst_stride,
                         int64_t m, int64_t k, int64_t n, bool accumulate) {
  isa::Instr r;
  r.op = isa::Op::mm_run;
  r.rank = 3;
  r.shape = {static_cast<uint32_t>(m), static_cast<uint32_t>(k), static_cast<uint32_t>(n), 0};
  r.dst = {isa::Space::acc, isa::kLocalCore, acc_t, 2, dst, {dst_stride, 1, 0, 0}};
  r.a = {isa::Space::sram, isa::kLocalCore, at, 2, a, {a_stride, 1, 0, 0}};
  r.param[0] = accumulate ? 1 : 0;
  return r;
}

/// A node the chip cannot run as given but the host evaluator may.
class NeedsHost : public CompileError {
  using CompileError::CompileError;
};

/// Splits an N-d shape into tiles of at most `max_elems` elements: tiles
/// cover a chunk of one axis and every dim inside it, one index of each dim
/// outside it.
struct TileGrid {
  std::vector<int64_t> shape;
  int axis = 0;        ///< the chunked axis
  int64_t chunk = 1;   ///< elements of `axis` per tile
  int64_t count = 1;   ///< number of tiles

  TileGrid() = default;
  /// Plans tiles of `shape` with at most max_elems elements each (keeping the
  /// innermost `min_inner` dims whole, e.g. 1 for reductions along the last axis).
  TileGrid(std::vector<int64_t> shape, int64_t max_elems, int min_inner = 0);
  /// The sub-view of `v` (a view over `shape`) covered by tile t.
  View tile_view(const View& v, int64_t t) const;
  /// The shape of tile t (the last chunk may be short).
  std::vector<int64_t> tile_shape(int64_t t) const;
};

/// Lowers one graph. Constructed per compile.
class Lowering {
 public:
  Lowering(const ir::Graph& g, const arch::Chip& chip, const CompileOptions& opt);
  /// Runs the lowering; returns the model (program + bindings + placement).
  CompiledModel run();

  // ---- used by the kernels ----
  const ir::Graph& graph() const { return g_; }
  const CompileOptions& options() const { return opt_; }
  Emitter& em() { return em_; }
  /// The dense HBM view of value `v` (its storage, shaped as the value).
  View hbm(int v) const;
  /// Chip dtype of value v.
  DType dt(int v) const;
  /// Constant data of value v, or nullptr.
  const ir::HostTensor* constant(int v) const;
  /// Reserves a dense HBM scratch buffer for the node being lowered. Every
  /// node's kernels end at a barrier, so the next node reuses the same bytes:
  /// the program needs the largest node's scratch, not the sum (the pages a
  /// simulator must zero, the HBM a chip must have).
  View scratch(DType t, std::vector<int64_t> shape);
  /// Places a host tensor as constant data in HBM; returns its dense view.
  View add_constant(const ir::HostTensor& t, DType chip_type);
  /// Whether constants' values are needed (CompileOptions::constant_values):
  /// when not, kernels that derive a constant from another (weight layouts,
  /// quantised weights) only need its shape and skip computing its elements.
  bool constant_values() const { return opt_.constant_values; }
  /// Raises CompileError for node `n` with `why`.
  [[noreturn]] void fail(const ir::Node& n, const std::string& why) const;
  /// Raises NeedsHost: the chip cannot run `n` as given (a data-dependent
  /// parameter, an op without a chip kernel); the host may, at a host.call.
  [[noreturn]] void host(const ir::Node& n, const std::string& why) const;

  // ---- generic kernels (kernels_*.cpp) ----
  /// Vector program run per tile: given dense SRAM views of the tile for each
  /// input and the output (same tile shape), append compute instructions;
  /// `temp(dtype)` hands out further dense tile buffers.
  using EwBody = std::function<void(std::vector<isa::Instr>& code, const std::vector<View>& in, const View& out,
                                    const std::function<View(DType)>& temp)>;
  /// Tiled elementwise kernel over out's shape; each input view must already be
  /// broadcast to that shape. `temps` is how many fp32 temporaries the body needs.
  /// Elements per tile for a streaming kernel over `shape` (<= max_elems; spreads work over cores).
  int64_t stream_tile_elems(const std::vector<int64_t>& shape, int64_t max_elems) const;
  uint64_t elementwise(const std::vector<View>& inputs, const View& out, int temps, const EwBody& body);
  /// Copies view `src` into view `dst` (same shape) through SRAM.
  uint64_t copy(const View& src, const View& dst);
  /// Fills view `dst` with a constant.
  uint64_t fill(const View& dst, double value);

 private:
  struct Storage {
    uint64_t addr = 0, bytes = 0;
    bool fixed = false;  ///< input, output or constant: never reused
  };
  void plan_memory();
  void lower_node(const ir::Node& n);
  void lower_on_host(const ir::Node& n);

  const ir::Graph& g_;
  const arch::Chip& chip_;
  CompileOptions opt_;
  Emitter em_;
  isa::Program prog_;
  std::vector<int> storage_of_;       ///< per value: storage index, or -1 (unused)
  std::vector<int> root_;             ///< per value: the value whose storage it shares (alias ops)
  std::vector<int> copy_outputs_;     ///< outputs that are inputs/constants: copied at the end
  std::vector<Storage> storage_;
  uint64_t hbm_top_ = 0;
  uint64_t constant_bytes_ = 0;
  // Scratch is addressed from kScratchBase while lowering (kernels add
  // constants after their scratch, so its final place is known only at the
  // end); run() moves it to just above everything else.
  static constexpr uint64_t kScratchBase = uint64_t{1} << 62;
  uint64_t scratch_top_ = 0, scratch_peak_ = 0;
  void place_scratch(std::vector<std::vector<isa::Instr>>& streams);
  std::vector<OpPlacement> placement_;
  std::vector<HostOp> host_ops_;
  std::vector<CodeRange> ranges_;
  void record_ranges(const Emitter::Mark& before);
};

/// Lowers node `n` if its op belongs to a kernel family; returns false when
/// the op is not handled there. Defined in kernels_*.cpp.
bool lower_elementwise(Lowering& L, const ir::Node& n);
bool lower_layout(Lowering& L, const ir::Node& n);
bool lower_reduce(Lowering& L, const ir::Node& n);
bool lower_matmul(Lowering& L, const ir::Node& n);
bool lower_attention(Lowering& L, const ir::Node& n);

/// Ops that only reinterpret their first input's storage (no code).
bool is_alias_op(const ir::Node& n);

}  // namespace seedchip::compiler
