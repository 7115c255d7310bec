// seedchip — code emission for the lowering: tensor views of any rank,
// splitting them into ISA instructions (rank <= 4), and the per-core
// double-buffered tile pipeline with its semaphore protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/isa/isa.h"

namespace seedchip::compiler {

/// A strided view of a tensor in one memory space. Any rank; strides are in
/// elements, outermost first, may be 0 (broadcast) or negative.
struct View {
  isa::Space space = isa::Space::hbm;
  uint64_t addr = 0;  ///< byte address of element (0, ..., 0)
  DType dtype = DType::fp32;
  std::vector<int64_t> shape, strides;

  /// A dense row-major view.
  static View dense(isa::Space s, uint64_t addr, DType t, std::vector<int64_t> shape);
  /// Number of elements.
  int64_t elements() const;
  /// Bytes per element.
  int64_t esize() const { return dtype_bits(dtype) / 8; }
  /// The sub-view start..start+len (step) along `axis`.
  View slice(int axis, int64_t start, int64_t len, int64_t step = 1) const;
  /// Dimensions reordered: result dim i is this view's dim perm[i].
  View permute(const std::vector<int>& perm) const;
  /// Same memory as a view of another dtype (element sizes must match).
  View as(DType t) const;
  /// Inserts a broadcast (stride 0) dimension of `size` at `axis`.
  View insert_dim(int axis, int64_t size) const;
};

/// Builds instructions of `op` whose operands are the given views over a
/// common `shape` (any rank): drops size-1 dims, merges dims that are
/// contiguous in every operand, and emits one instruction per index of the
/// leading dims beyond 4. `keep_last` keeps the innermost dim unmerged (for
/// reductions and scans). Operand b may be absent (nullptr) or an immediate.
std::vector<isa::Instr> split_instr(isa::Op op, const std::vector<int64_t>& shape, const View& dst, const View& a,
                                    const View* b, const isa::Operand* imm_b, std::array<int64_t, 3> params,
                                    bool keep_last = false);

/// An immediate operand (fp32 or int32 by `t`'s kind).
isa::Operand imm(double v, bool integer = false);

/// The instructions of one tile of a kernel, without synchronisation: the
/// pipeline adds semaphores. Compute may mix matrix and vector instructions.
struct Tile {
  std::vector<isa::Instr> loads, compute, stores;
};

/// Owns the per-core instruction streams of a program being generated.
class Emitter {
 public:
  Emitter(const arch::Chip& chip, int cores);

  /// Cores in use.
  int cores() const { return static_cast<int>(streams_.size()); }
  /// The core whose tiles `make` is being asked for (inside pipeline/pipeline_groups).
  int current_core() const { return current_core_; }
  /// Bytes of SRAM one pipeline slot may use (two slots per core).
  uint64_t slot_bytes() const { return slot_bytes_; }
  /// The slot and accumulator-slot sizes an emitter for `chip` uses (half of each, 64-byte aligned).
  static uint64_t slot_bytes_of(const arch::Chip& chip) { return chip.core.sram_bytes / 2 / 64 * 64; }
  static uint64_t acc_slot_bytes_of(const arch::Chip& chip) { return chip.core.accumulator_bytes / 2 / 64 * 64; }
  /// Byte offset of slot `s` in SRAM.
  uint64_t slot_base(int s) const { return static_cast<uint64_t>(s) * slot_bytes_; }
  /// Bytes of accumulator one slot may use, and its base.
  uint64_t acc_slot_bytes() const { return acc_slot_bytes_; }
  uint64_t acc_slot_base(int s) const { return static_cast<uint64_t>(s) * acc_slot_bytes_; }
  const arch::Chip& chip() const { return chip_; }

  /// Emits a kernel of `ntiles` independent tiles: tiles are split into
  /// contiguous blocks per core, and each core double-buffers (tile t uses
  /// slot t % 2, so loads of t+1 overlap compute of t and stores of t-1).
  /// Ends with a barrier on every core so the next kernel sees all results.
  /// Returns the number of instructions emitted.
  uint64_t pipeline(int64_t ntiles, const std::function<Tile(int64_t t, int slot)>& make);

  /// Like pipeline(), for tiles in groups of `group` consecutive tiles that
  /// accumulate into one output (a GEMM with K split in chunks): groups are
  /// never split across cores, only a group's last tile may store, and
  /// make(t, slot, gslot) gets the parity of the group on its core (the
  /// accumulator half and output buffer to use). A group's first tile waits
  /// until the group two before it has finished its epilogue.
  uint64_t pipeline_groups(int64_t ntiles, int64_t group, const std::function<Tile(int64_t t, int slot, int gslot)>& make);

  /// Emits a host.call (a barrier during which the host runs op `id`).
  void host_call(int64_t id);

  /// A snapshot of the stream lengths, for rollback().
  struct Mark {
    std::vector<size_t> sizes;
    int64_t barrier;
  };
  Mark mark() const {
    Mark m{{}, next_barrier_};
    for (const auto& s : streams_) m.sizes.push_back(s.size());
    return m;
  }
  /// Drops everything emitted since `m`.
  void rollback(const Mark& m) {
    for (size_t i = 0; i < streams_.size(); ++i) streams_[i].resize(m.sizes[i]);
    next_barrier_ = m.barrier;
  }
  /// Instructions emitted so far on all cores.
  uint64_t instructions() const {
    uint64_t n = 0;
    for (const auto& s : streams_) n += s.size();
    return n;
  }
  /// The streams, one per core.
  std::vector<std::vector<isa::Instr>> take_streams() { return std::move(streams_); }

 private:
  void barrier();
  uint64_t emit_core_tiles(int core, int64_t first, int64_t count, int64_t group,
                           const std::function<Tile(int64_t, int, int)>& make);

  const arch::Chip& chip_;
  std::vector<std::vector<isa::Instr>> streams_;
  int current_core_ = 0;
  uint64_t slot_bytes_ = 0, acc_slot_bytes_ = 0;
  int64_t next_barrier_ = 0;
};

}  // namespace seedchip::compiler
