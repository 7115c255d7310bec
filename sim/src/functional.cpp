// seedchip — functional simulator: engines, memories, semaphores, barriers.
#include "seedchip/sim/functional.h"
#include "deadlock.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "seedchip/numerics/convert.h"
#include "seedchip/sim/vector_ops.h"
#include "mm_kernels.h"

namespace seedchip::sim {

using isa::Engine;
using isa::Instr;
using isa::Op;
using isa::Operand;
using isa::Space;

uint64_t RunStats::total() const {
  uint64_t t = 0;
  for (auto n : instructions) t += n;
  return t;
}

namespace {

// 128-bit arithmetic makes address range checks immune to overflow.
__extension__ typedef __int128 i128;

/// A zero-filled byte array. Large ones are reserved with mmap(MAP_NORESERVE)
/// so that a 144 GB HBM costs only the pages a program touches.
class Memory {
 public:
  Memory() = default;
  Memory(uint64_t size, const std::string& what) : size_(size) {
    if (size == 0) return;
    // Reserved 2 MiB-aligned (transparent huge pages need aligned ones), so
    // the first touches of activations, SRAM and accumulators fault once per
    // 2 MiB rather than per 4 KiB; in a VM each fault is expensive.
    constexpr uint64_t kHuge = uint64_t{2} << 20;
    const uint64_t span = size + kHuge;
    void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      throw SimError(fmt::format("cannot reserve {} bytes of host address space for {}", size, what));
    const auto base = reinterpret_cast<uintptr_t>(p), aligned = (base + kHuge - 1) & ~(kHuge - 1);
    if (aligned > base) munmap(p, aligned - base);
    if (const uintptr_t end = aligned + ((size + 4095) & ~uint64_t{4095}), mapped_end = base + span; mapped_end > end)
      munmap(reinterpret_cast<void*>(end), mapped_end - end);
    data_ = reinterpret_cast<uint8_t*>(aligned);
    // only advice: without transparent huge pages it is a no-op
    if (size >= kHuge) madvise(data_, size, MADV_HUGEPAGE);
  }
  Memory(Memory&& o) noexcept : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Memory& operator=(Memory&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~Memory() {
    if (data_) munmap(data_, size_);
  }
  uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

// An allocator whose resize() leaves new elements uninitialised: the matrix
// engine's buffers are overwritten whole before they are read, and zeroing
// them again each time a tile size grows was 5% of a ResNet-50 simulation.
template <class T>
struct NoInitAllocator : std::allocator<T> {
  template <class U>
  struct rebind {
    using other = NoInitAllocator<U>;
  };
  NoInitAllocator() = default;
  template <class U>
  NoInitAllocator(const NoInitAllocator<U>&) noexcept {}
  template <class U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... A>
  void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
};
using FloatBuffer = std::vector<float, NoInitAllocator<float>>;

struct CoreState {
  Memory sram, acc;
  std::vector<uint32_t> sem;
  size_t pc = 0;  // next instruction to dispatch
  std::array<std::deque<uint32_t>, isa::kNumEngines> queue;
  bool has_code = false;
  const std::vector<Instr>* code = nullptr;
  // barrier progress of the instruction at pc: 0 = not started, 1 = waited,
  // 2 = arrived (waiting for the other cores)
  int barrier_stage = 0;
  // matrix engine: the weight tile held in the array
  bool w_loaded = false;
  DType w_dtype = DType::fp32;
  uint32_t wk = 0, wn = 0;
  FloatBuffer wf;           // K x N, float inputs
  std::vector<int32_t> wi;  // K x N, integer inputs
  // this core's share of RunStats (cores may run in parallel threads)
  std::array<uint64_t, isa::kNumEngines> instructions{};
  uint64_t macs = 0, vector_elements = 0, bytes_loaded = 0, bytes_stored = 0;
  FloatBuffer mm_a, mm_out;  // the matrix engine's float operands and partial sums (scratch)
  std::exception_ptr error;  // first failure of this core in the current epoch
};


}  // namespace

struct FunctionalSim::Impl {
  arch::Chip chip;
  const isa::Program& prog;
  Memory hbm;
  // The program's constant blocks are read where the program holds them
  // rather than copied into HBM first (copying and first-touching hundreds of
  // MB was a large part of a run). A block is copied into HBM ("materialized")
  // only when something writes into it or reads across its edge.
  struct Overlay {
    uint64_t addr, end;
    const uint8_t* src;
  };
  std::vector<Overlay> overlays;  // sorted by address, disjoint; fixed after construction
  std::unique_ptr<std::atomic<bool>[]> materialized;
  std::mutex materialize_mu;
  std::vector<CoreState> cores;
  RunStats stats;
  std::function<void(int64_t)> host_handler;
  std::function<void(double)> progress;
  std::atomic<uint64_t> executed{0};
  double total_instr = 1;
  unsigned threads = 1;
  std::thread::id main_thread = std::this_thread::get_id();

  Impl(const arch::Chip& c, const isa::Program& p) : chip(c), prog(p) {}

  // ------------------------------------------------------------ errors

  [[noreturn]] void fail(uint32_t core, const Instr& in, size_t idx, const std::string& what) const {
    throw SimError(fmt::format("core {} {} instruction #{} ({}): {}", core, isa::engine_name(in.engine()),
                               idx, isa::op_info(in.op)->mnemonic, what));
  }

  // ------------------------------------------------------------ memory access

  struct Region {
    uint8_t* base;
    uint64_t size;
  };

  Region region(uint32_t core, const Operand& o) {
    uint32_t c = o.core == isa::kLocalCore ? core : o.core;
    switch (o.space) {
      case Space::hbm: return {hbm.data(), hbm.size()};
      case Space::sram: return {cores[c].sram.data(), cores[c].sram.size()};
      case Space::acc: return {cores[c].acc.data(), cores[c].acc.size()};
      case Space::imm: break;
    }
    return {nullptr, 0};
  }

  // The overlays intersecting [lo, hi): [first, last).
  std::pair<size_t, size_t> overlays_in(uint64_t lo, uint64_t hi) const {
    auto b = std::partition_point(overlays.begin(), overlays.end(), [&](const Overlay& o) { return o.end <= lo; });
    auto e = b;
    while (e != overlays.end() && e->addr < hi) ++e;
    return {static_cast<size_t>(b - overlays.begin()), static_cast<size_t>(e - overlays.begin())};
  }

  void materialize(size_t i) {
    if (materialized[i].load(std::memory_order_acquire)) return;
    std::lock_guard<std::mutex> lock(materialize_mu);
    if (materialized[i].load(std::memory_order_relaxed)) return;
    const Overlay& o = overlays[i];
    std::memcpy(hbm.data() + o.addr, o.src, o.end - o.addr);
    materialized[i].store(true, std::memory_order_release);
  }

  // HBM bytes [lo, hi) to read (a constant block where it lies wholly in one
  // not yet materialized) or to write; returns the address of byte `lo`.
  uint8_t* hbm_bytes(uint64_t lo, uint64_t hi, bool write) {
    const auto [b, e] = overlays_in(lo, hi);
    if (b == e) return hbm.data() + lo;
    if (!write && e == b + 1 && overlays[b].addr <= lo && hi <= overlays[b].end &&
        !materialized[b].load(std::memory_order_acquire))
      return const_cast<uint8_t*>(overlays[b].src) + (lo - overlays[b].addr);  // read-only use only
    for (size_t i = b; i < e; ++i) materialize(i);
    return hbm.data() + lo;
  }

  static std::string space_label(uint32_t core, const Operand& o) {
    if (o.space == Space::hbm) return "hbm";
    uint32_t c = o.core == isa::kLocalCore ? core : o.core;
    return fmt::format("{} of core {}", isa::space_name(o.space), c);
  }

  // Checks that every element of `o` over `extent` (o.rank dims) lies inside
  // its memory and returns a pointer to the operand's base address. Operands
  // named "dst" are written through it, the others only read.
  uint8_t* check_access(uint32_t core, const Instr& in, size_t idx, const Operand& o, const uint32_t* extent,
                        std::string_view name) {
    Region r = region(core, o);
    i128 lo = 0, hi = 0;  // element offsets
    for (int d = 0; d < o.rank; ++d) {
      i128 e = static_cast<i128>(extent[d] - 1) * o.stride[d];
      (e > 0 ? hi : lo) += e;
    }
    const int bits = dtype_bits(o.dtype);
    i128 first = static_cast<i128>(o.addr) * 8 + lo * bits;
    i128 end = static_cast<i128>(o.addr) * 8 + (hi + 1) * bits;
    if (first < 0 || end > static_cast<i128>(r.size) * 8) {
      // Report the byte range the pattern spans (negative starts shown as such).
      const i128 lo_b = first >= 0 ? first / 8 : -((-first + 7) / 8);
      const i128 hi_b = (end + 7) / 8;
      fail(core, in, idx,
           fmt::format("operand {} accesses bytes [{}0x{:x}, 0x{:x}) outside {} (size 0x{:x})", name,
                       lo_b < 0 ? "-" : "", static_cast<unsigned long long>(lo_b < 0 ? -lo_b : lo_b),
                       static_cast<unsigned long long>(hi_b), space_label(core, o), r.size));
    }
    if (o.space == Space::hbm && !overlays.empty()) {
      const auto lo_byte = static_cast<uint64_t>(first / 8), end_byte = static_cast<uint64_t>((end + 7) / 8);
      return hbm_bytes(lo_byte, end_byte, name == "dst") + (o.addr - lo_byte);
    }
    return r.base + o.addr;
  }

  // ------------------------------------------------------------ engines

  void hash(uint32_t core, Engine e, size_t idx) {
    auto& h = stats.order_hash[core][static_cast<int>(e)];
    h = (h ^ static_cast<uint64_t>(idx)) * 1099511628211ull;
  }

  void exec(uint32_t core, size_t idx, const Instr& in) {
    ++cores[core].instructions[static_cast<int>(in.engine())];
    if (progress) {
      const uint64_t n = executed.fetch_add(1, std::memory_order_relaxed) + 1;
      if ((n & 0x3FF) == 0 && std::this_thread::get_id() == main_thread) progress(static_cast<double>(n) / total_instr);
    }
    hash(core, in.engine(), idx);
    switch (in.op) {
      case Op::nop:
      case Op::barrier:
      case Op::host_call: return;
      case Op::load:
      case Op::store: return exec_dma(core, idx, in);
      case Op::load_gather:
      case Op::store_scatter: return exec_gather(core, idx, in);
      case Op::mm_ldw: return exec_ldw(core, idx, in);
      case Op::mm_run: return exec_mm(core, idx, in);
      default: return exec_vector(core, idx, in);
    }
  }

  void exec_dma(uint32_t core, size_t idx, const Instr& in) {
    uint8_t* dst = check_access(core, in, idx, in.dst, in.shape.data(), "dst");
    const uint8_t* src = check_access(core, in, idx, in.a, in.shape.data(), "a");
    const int64_t es = dtype_bits(in.a.dtype) / 8;
    const uint64_t bytes = in.elements() * es;
    (in.op == Op::load ? cores[core].bytes_loaded : cores[core].bytes_stored) += bytes;
    // Pad to 4 dims (outermost first) so one loop nest serves every rank.
    std::array<int64_t, 4> n{1, 1, 1, 1}, sd{0, 0, 0, 0}, ss{0, 0, 0, 0};
    for (int d = 0; d < in.rank; ++d) {
      int p = 4 - in.rank + d;
      n[p] = in.shape[d];
      sd[p] = in.dst.stride[d] * es;
      ss[p] = in.a.stride[d] * es;
    }
    const bool contiguous = sd[3] == es && ss[3] == es;
    // Source and destination in different memories cannot overlap: short
    // runs and single elements are then copied inline (im2col's 3-element
    // windows and a transposing load's 4-byte elements made a libc call each).
    const bool disjoint = in.dst.space != in.a.space;
    const size_t run = static_cast<size_t>(n[3] * es);
    // A transposing copy of 4-byte elements (the inner dim strided on one
    // side): copied in 16 x 16 blocks, so the strided side's cache lines are
    // reused instead of evicted (a 3136-element stride maps every line to the
    // same few L1 sets). Only where the destination's elements in the plane
    // cannot overlap (one dim's extent fits inside the other's stride), so the
    // changed order of writes within the plane cannot change the result.
    const auto span = [&](int d) { return std::abs(sd[d]) * n[d]; };
    if (disjoint && es == 4 && !contiguous && n[2] > 1 && n[3] > 1 &&
        (span(2) <= std::abs(sd[3]) || span(3) <= std::abs(sd[2])) && sd[2] != 0 && sd[3] != 0) {
      constexpr int64_t B = 16;
      for (int64_t i0 = 0; i0 < n[0]; ++i0)
        for (int64_t i1 = 0; i1 < n[1]; ++i1) {
          uint8_t* dp = dst + i0 * sd[0] + i1 * sd[1];
          const uint8_t* sp = src + i0 * ss[0] + i1 * ss[1];
          for (int64_t b2 = 0; b2 < n[2]; b2 += B)
            for (int64_t b3 = 0; b3 < n[3]; b3 += B) {
              const int64_t e2 = std::min(n[2], b2 + B), e3 = std::min(n[3], b3 + B);
              uint8_t* db = dp + b2 * sd[2] + b3 * sd[3];
              const uint8_t* sb = sp + b2 * ss[2] + b3 * ss[3];
              // a whole block with each side contiguous along one of the dims: in registers
              if (e2 - b2 == B && e3 - b3 == B &&
                  ((ss[2] == 4 && sd[3] == 4 && detail::transpose16x16_b32(db, sd[2], sb, ss[3])) ||
                   (sd[2] == 4 && ss[3] == 4 && detail::transpose16x16_b32(db, sd[3], sb, ss[2]))))
                continue;
              for (int64_t i2 = b2; i2 < e2; ++i2)
                copy_elems<4>(dp + i2 * sd[2] + b3 * sd[3], sp + i2 * ss[2] + b3 * ss[3], e3 - b3, sd[3], ss[3]);
            }
        }
      return;
    }
    for (int64_t i0 = 0; i0 < n[0]; ++i0)
      for (int64_t i1 = 0; i1 < n[1]; ++i1)
        for (int64_t i2 = 0; i2 < n[2]; ++i2) {
          uint8_t* d = dst + i0 * sd[0] + i1 * sd[1] + i2 * sd[2];
          const uint8_t* s = src + i0 * ss[0] + i1 * ss[1] + i2 * ss[2];
          if (contiguous && (run > 64 || !disjoint)) {
            std::memmove(d, s, run);
          } else if (disjoint && es == 4) {
            copy_elems<4>(d, s, n[3], sd[3], ss[3]);
          } else if (disjoint && es == 2) {
            copy_elems<2>(d, s, n[3], sd[3], ss[3]);
          } else if (disjoint && es == 1) {
            copy_elems<1>(d, s, n[3], sd[3], ss[3]);
          } else {
            for (int64_t i3 = 0; i3 < n[3]; ++i3) std::memmove(d + i3 * sd[3], s + i3 * ss[3], es);
          }
        }
  }

  template <size_t E>
  static void copy_elems(uint8_t* d, const uint8_t* s, int64_t count, int64_t sd, int64_t ss) {
    for (int64_t i = 0; i < count; ++i) std::memcpy(d + i * sd, s + i * ss, E);  // a fixed-size copy: inlined
  }

  void exec_gather(uint32_t core, size_t idx, const Instr& in) {
    const bool gather = in.op == Op::load_gather;
    const uint32_t rows = in.shape[0], cols = in.shape[1];
    const uint32_t idx_extent[1] = {rows};
    const uint8_t* ip = check_access(core, in, idx, in.b, idx_extent, "b");
    // The local side is checked as a whole; the indexed side row by row.
    const Operand& local = gather ? in.dst : in.a;
    const Operand& table = gather ? in.a : in.dst;
    uint8_t* lp = check_access(core, in, idx, local, in.shape.data(), gather ? "dst" : "a");
    Region tr = region(core, table);
    const int64_t es = dtype_bits(in.a.dtype) / 8;
    for (uint32_t r = 0; r < rows; ++r) {
      const int64_t row = num::load_i64(DType::int32, ip, r * in.b.stride[0]);
      i128 first = static_cast<i128>(table.addr) + static_cast<i128>(row) * table.stride[0] * es;
      i128 span = static_cast<i128>(cols - 1) * table.stride[1] * es;
      i128 lo = first + std::min<i128>(0, span), hi = first + std::max<i128>(0, span) + es;
      if (lo < 0 || hi > static_cast<i128>(tr.size))
        fail(core, in, idx,
             fmt::format("index {} (row {}) puts operand {} outside {} (size 0x{:x})", row, r,
                         gather ? "a" : "dst", space_label(core, table), tr.size));
      uint8_t* tp = table.space == Space::hbm && !overlays.empty()
                        ? hbm_bytes(static_cast<uint64_t>(lo), static_cast<uint64_t>(hi), !gather) + static_cast<int64_t>(first - lo)
                        : tr.base + static_cast<int64_t>(first);
      uint8_t* lrow = lp + static_cast<int64_t>(r) * local.stride[0] * es;
      for (uint32_t c = 0; c < cols; ++c) {
        uint8_t* t = tp + static_cast<int64_t>(c) * table.stride[1] * es;
        uint8_t* l = lrow + static_cast<int64_t>(c) * local.stride[1] * es;
        if (gather) std::memmove(l, t, es);
        else std::memmove(t, l, es);
      }
    }
    (gather ? cores[core].bytes_loaded : cores[core].bytes_stored) += static_cast<uint64_t>(rows) * cols * es;
  }

  void exec_ldw(uint32_t core, size_t idx, const Instr& in) {
    CoreState& cs = cores[core];
    const uint32_t k = in.shape[0], n = in.shape[1];
    const uint8_t* base = check_access(core, in, idx, in.a, in.shape.data(), "a");
    cs.w_dtype = in.a.dtype;
    cs.wk = k;
    cs.wn = n;
    cs.w_loaded = true;
    const bool integer = dtype_is_int(in.a.dtype);
    if (integer) cs.wi.assign(static_cast<size_t>(k) * n, 0), cs.wf.clear();
    else cs.wf.resize(static_cast<size_t>(k) * n);  // every element is written below
    if (in.a.dtype == DType::fp32 && in.a.stride[1] == 1) {  // rows of fp32 bits: copied as they are
      for (uint32_t i = 0; i < k; ++i)
        std::memcpy(&cs.wf[static_cast<size_t>(i) * n], base + 4 * static_cast<int64_t>(i) * in.a.stride[0], 4 * size_t{n});
      return;
    }
    for (uint32_t i = 0; i < k; ++i)
      for (uint32_t j = 0; j < n; ++j) {
        int64_t off = static_cast<int64_t>(i) * in.a.stride[0] + static_cast<int64_t>(j) * in.a.stride[1];
        if (in.a.dtype == DType::int4) {
          // int4 nibbles are addressed from the byte base: offset counts nibbles.
          cs.wi[static_cast<size_t>(i) * n + j] = num::int4_get(base, off);
        } else if (integer) {
          cs.wi[static_cast<size_t>(i) * n + j] = static_cast<int32_t>(num::load_i64(in.a.dtype, base, off));
        } else {
          cs.wf[static_cast<size_t>(i) * n + j] = num::load_f32(in.a.dtype, base, off);
        }
      }
  }

  static bool fp8(DType t) { return t == DType::fp8e4m3 || t == DType::fp8e5m2; }

  void exec_mm(uint32_t core, size_t idx, const Instr& in) {
    CoreState& cs = cores[core];
    const uint32_t m = in.shape[0], k = in.shape[1], n = in.shape[2];
    if (!cs.w_loaded) fail(core, in, idx, "no weights loaded (mm.ldw must come first)");
    if (k != cs.wk || n != cs.wn)
      fail(core, in, idx,
           fmt::format("shape K={} N={} does not match the loaded weights ({} x {})", k, n, cs.wk, cs.wn));
    const DType at = in.a.dtype, wt = cs.w_dtype;
    const bool integer = dtype_is_int(at);
    bool ok;
    if (integer) ok = (at == DType::int8 || at == DType::uint8) && dtype_is_int(wt) && wt != DType::int32;
    else if (fp8(at)) ok = fp8(wt);
    else ok = at == wt || (at == DType::bf16 && wt == DType::int4);  // weight-only int4: nibbles widened on load
    if (!ok)
      fail(core, in, idx,
           fmt::format("input dtype {} cannot multiply weights of dtype {}", dtype_name(at), dtype_name(wt)));
    const DType want_acc = integer ? DType::int32 : DType::fp32;
    if (in.dst.dtype != want_acc)
      fail(core, in, idx, fmt::format("dst must be {} for {} inputs", dtype_name(want_acc), dtype_name(at)));
    const uint32_t a_ext[2] = {m, k}, d_ext[2] = {m, n};
    const uint8_t* ap = check_access(core, in, idx, in.a, a_ext, "a");
    uint8_t* dp = check_access(core, in, idx, in.dst, d_ext, "dst");
    const bool accumulate = in.param[0] != 0;
    cs.macs += static_cast<uint64_t>(m) * k * n;
    if (integer) {
      std::vector<int32_t> arow(k);
      std::vector<uint32_t> psum(n);
      for (uint32_t i = 0; i < m; ++i) {
        for (uint32_t kk = 0; kk < k; ++kk)
          arow[kk] = static_cast<int32_t>(num::load_i64(at, ap, i * in.a.stride[0] + kk * in.a.stride[1]));
        std::fill(psum.begin(), psum.end(), 0u);
        // int32 arithmetic wraps (two's complement), done in uint32 to stay defined.
        for (uint32_t kk = 0; kk < k; ++kk) {
          const uint32_t av = static_cast<uint32_t>(arow[kk]);
          const int32_t* w = &cs.wi[static_cast<size_t>(kk) * n];
          for (uint32_t j = 0; j < n; ++j) psum[j] += av * static_cast<uint32_t>(w[j]);
        }
        for (uint32_t j = 0; j < n; ++j) {
          int64_t off = i * in.dst.stride[0] + j * in.dst.stride[1];
          uint32_t v = psum[j];
          if (accumulate) v += static_cast<uint32_t>(num::load_i64(DType::int32, dp, off));
          num::detail::store_le<uint32_t>(dp + 4 * off, v);
        }
      }
      return;
    }
    if (wt == DType::int4 && cs.wf.size() != cs.wi.size()) {  // int4 weights against bf16 inputs: exact as floats
      cs.wf.resize(cs.wi.size());
      for (size_t i = 0; i < cs.wi.size(); ++i) cs.wf[i] = static_cast<float>(cs.wi[i]);
    }
    // Partial sums flow down the array: k = 0..K-1 in order, each step one
    // fused multiply-add rounded to fp32 (docs/isa.md, "accumulation order").
    // fp32 products are inexact and bf16 products can leave fp32's normal
    // range: both need the FMA. fp16/fp8 products are exact normal fp32
    // values, where a*b+c rounds once exactly like an FMA, so one kernel
    // serves every float type.
    auto& abuf = cs.mm_a;
    auto& psum = cs.mm_out;
    // fp32 rows are read in place and results written in place where the
    // operands are 4-byte aligned, rows are unit-stride, and the output's rows
    // cannot overlap (so the kernel's write order cannot matter).
    const auto aligned = [](const uint8_t* p) { return reinterpret_cast<uintptr_t>(p) % alignof(float) == 0; };
    const bool a_direct = at == DType::fp32 && in.a.stride[1] == 1 && aligned(ap);
    const bool d_direct = in.dst.stride[1] == 1 && aligned(dp) && in.dst.space != in.a.space &&
                          (m == 1 || std::abs(in.dst.stride[0]) >= static_cast<int64_t>(n));
    const float* arows = reinterpret_cast<const float*>(ap);
    ptrdiff_t lda = in.a.stride[0];
    if (!a_direct) {
      abuf.resize(static_cast<size_t>(m) * k);
      for (uint32_t i = 0; i < m; ++i)
        for (uint32_t kk = 0; kk < k; ++kk)
          abuf[static_cast<size_t>(i) * k + kk] = num::load_f32(at, ap, i * in.a.stride[0] + kk * in.a.stride[1]);
      arows = abuf.data();
      lda = k;
    }
    if (d_direct) {
      detail::mm_f32(arows, lda, cs.wf.data(), reinterpret_cast<float*>(dp), in.dst.stride[0], m, k, n, accumulate);
      return;
    }
    psum.resize(static_cast<size_t>(m) * n);
    detail::mm_f32(arows, lda, cs.wf.data(), psum.data(), n, m, k, n, false);
    for (uint32_t i = 0; i < m; ++i) {
      const float* p = &psum[static_cast<size_t>(i) * n];
      uint8_t* d = dp + 4 * static_cast<int64_t>(i) * in.dst.stride[0];  // any byte address: copy, do not cast
      if (in.dst.stride[1] == 1 && !accumulate) {
        std::memcpy(d, p, 4 * size_t{n});
      } else if (in.dst.stride[1] == 1) {
        for (uint32_t j = 0; j < n; ++j) {
          float old;
          std::memcpy(&old, d + 4 * j, 4);
          const float v = p[j] + old;
          std::memcpy(d + 4 * j, &v, 4);
        }
      } else {
        for (uint32_t j = 0; j < n; ++j) {
          const int64_t off = i * in.dst.stride[0] + j * in.dst.stride[1];
          float v = p[j];
          if (accumulate) v += num::load_f32(DType::fp32, dp, off);
          num::store_f32(DType::fp32, dp, off, v);
        }
      }
    }
  }

  void exec_vector(uint32_t core, size_t idx, const Instr& in) {
    const isa::OpInfo* info = isa::op_info(in.op);
    const bool reduce = info->format == isa::Format::reduce;
    std::array<uint32_t, 4> dext = in.shape;
    if (reduce) dext[in.rank - 1] = 1;
    VecOperands ops;
    ops.dst = check_access(core, in, idx, in.dst, dext.data(), "dst");
    ops.a = in.a.space == Space::imm ? nullptr : check_access(core, in, idx, in.a, in.shape.data(), "a");
    const bool has_b = info->format == isa::Format::binary || info->format == isa::Format::quant;
    ops.b = !has_b || in.b.space == Space::imm ? nullptr : check_access(core, in, idx, in.b, in.shape.data(), "b");
    cores[core].vector_elements += reduce ? in.elements() / in.shape[in.rank - 1] : in.elements();
    std::string err = run_vector(in, ops);
    if (!err.empty()) fail(core, in, idx, err);
  }

  // ------------------------------------------------------------ scheduling

  bool engine_step(uint32_t c, int e) {
    CoreState& cs = cores[c];
    auto& q = cs.queue[e];
    bool progress = false;
    while (!q.empty()) {
      const uint32_t idx = q.front();
      const Instr& in = (*cs.code)[idx];
      if (in.wait != isa::kNoSem) {
        if (cs.sem[in.wait] == 0) break;
        --cs.sem[in.wait];
      }
      exec(c, idx, in);
      if (in.signal != isa::kNoSem) ++cs.sem[in.signal];
      q.pop_front();
      progress = true;
    }
    return progress;
  }

  bool queues_empty(const CoreState& cs) const {
    for (const auto& q : cs.queue)
      if (!q.empty()) return false;
    return true;
  }

  bool finished(const CoreState& cs) const { return !cs.has_code || (cs.pc == cs.code->size() && queues_empty(cs)); }

  // Dispatches in program order until blocked; control instructions run here.
  bool dispatch_step(uint32_t c) {
    CoreState& cs = cores[c];
    bool progress = false;
    while (cs.has_code && cs.pc < cs.code->size()) {
      const Instr& in = (*cs.code)[cs.pc];
      const Engine e = in.engine();
      if (e != Engine::control) {
        if (cs.queue[static_cast<int>(e)].size() >= chip.core.queue_depth) break;
        cs.queue[static_cast<int>(e)].push_back(static_cast<uint32_t>(cs.pc++));
        progress = true;
        continue;
      }
      if (cs.barrier_stage == 0) {
        if (in.wait != isa::kNoSem) {
          if (cs.sem[in.wait] == 0) break;
          --cs.sem[in.wait];
        }
        cs.barrier_stage = 1;
        progress = true;
      }
      if (in.op == Op::nop) {
        ++cs.instructions[static_cast<int>(Engine::control)];
        hash(c, Engine::control, cs.pc);
        if (in.signal != isa::kNoSem) ++cs.sem[in.signal];
        cs.barrier_stage = 0;
        ++cs.pc;
        continue;
      }
      // barrier: drain this core, then arrive and wait for release
      if (cs.barrier_stage == 1) {
        if (!queues_empty(cs)) break;
        cs.barrier_stage = 2;
        progress = true;
      }
      break;  // stage 2: released by release_barriers()
    }
    return progress;
  }

  bool release_barriers() {
    const Instr* first = nullptr;
    uint32_t first_core = 0;
    for (uint32_t c = 0; c < cores.size(); ++c) {
      const CoreState& cs = cores[c];
      if (!cs.has_code) continue;
      if (cs.barrier_stage != 2) return false;
      const Instr& in = (*cs.code)[cs.pc];
      if (!first) {
        first = &in;
        first_core = c;
      } else if (in.param[0] != first->param[0] || in.op != first->op) {
        throw SimError(fmt::format(
            "barrier mismatch: core {} is at {} {} (instruction #{}) but core {} is at {} {} (instruction #{})",
            first_core, isa::op_info(first->op)->mnemonic, first->param[0], cores[first_core].pc, c,
            isa::op_info(in.op)->mnemonic, in.param[0], cs.pc));
      }
    }
    if (!first) return false;
    if (first->op == Op::host_call) {
      if (!host_handler)
        throw SimError(fmt::format("core {} control instruction #{} (host.call): host op {} needs a host handler",
                                   first_core, cores[first_core].pc, first->param[0]));
      host_handler(first->param[0]);
      ++stats.host_calls;
    } else {
      ++stats.barriers;
    }
    for (uint32_t c = 0; c < cores.size(); ++c) {
      auto& cs = cores[c];
      if (!cs.has_code) continue;
      const Instr& in = (*cs.code)[cs.pc];
      ++cs.instructions[static_cast<int>(Engine::control)];
      hash(c, Engine::control, cs.pc);
      if (in.signal != isa::kNoSem) ++cs.sem[in.signal];
      cs.barrier_stage = 0;
      ++cs.pc;
    }
    return true;
  }

  [[noreturn]] void report_deadlock() const {
    std::vector<std::string> parts;
    for (uint32_t c = 0; c < cores.size(); ++c) {
      const CoreState& cs = cores[c];
      if (finished(cs)) continue;
      for (int e = 0; e < isa::kNumEngines; ++e) {
        if (cs.queue[e].empty()) continue;
        const uint32_t idx = cs.queue[e].front();
        const Instr& in = (*cs.code)[idx];
        parts.push_back(detail::waits_on_semaphore(c, static_cast<Engine>(e), idx, in));
      }
      if (cs.pc < cs.code->size()) {
        const Instr& in = (*cs.code)[cs.pc];
        const Engine e = in.engine();
        std::string what;
        if (e != Engine::control)
          what = fmt::format("cannot dispatch #{} ({}): {} queue full ({} entries)", cs.pc,
                             isa::op_info(in.op)->mnemonic, isa::engine_name(e), chip.core.queue_depth);
        else if (cs.barrier_stage == 0)
          what = fmt::format("#{} ({}) waits on semaphore {} (count 0)", cs.pc, isa::op_info(in.op)->mnemonic,
                             in.wait);
        else if (cs.barrier_stage == 1)
          what = fmt::format("#{} ({} {}) waits for this core's engines to drain", cs.pc, isa::op_info(in.op)->mnemonic,
                             in.param[0]);
        else {
          std::vector<std::string> missing;
          for (uint32_t o = 0; o < cores.size(); ++o)
            if (cores[o].has_code && cores[o].barrier_stage != 2)
              missing.push_back(fmt::format("core {}{}", o, finished(cores[o]) ? " (finished)" : ""));
          std::string m;
          for (auto& s : missing) m += (m.empty() ? "" : ", ") + s;
          what = fmt::format("#{} ({} {}) waits for {}", cs.pc, isa::op_info(in.op)->mnemonic, in.param[0], m);
        }
        parts.push_back(fmt::format("core {} control {}", c, what));
      }
    }
    detail::throw_deadlock(parts);
  }

  // Runs core c until it can make no more progress on its own: it finished,
  // waits at a barrier, or is blocked (a deadlock unless a barrier frees it).
  // Cores meet only at barriers (semaphores are per core and races are
  // undefined, docs/isa.md §3.1), so cores can run in parallel between them.
  void run_core(uint32_t c) noexcept {
    CoreState& cs = cores[c];
    try {
      for (bool progress = true; progress;) {
        progress = dispatch_step(c);
        for (int e = 0; e < isa::kNumEngines; ++e)
          if (e != static_cast<int>(Engine::control)) progress |= engine_step(c, e);
      }
    } catch (...) {
      cs.error = std::current_exception();
    }
  }

  // One epoch: every core up to its next barrier, in `threads` threads.
  void run_epoch() {
    std::vector<uint32_t> todo;
    for (uint32_t c = 0; c < cores.size(); ++c)
      if (!finished(cores[c]) && cores[c].barrier_stage != 2) todo.push_back(c);
    const unsigned n = std::min<unsigned>(threads, static_cast<unsigned>(todo.size()));
    if (n <= 1) {
      for (uint32_t c : todo) run_core(c);
    } else {
      std::atomic<size_t> next{0};
      auto work = [&] {
        for (size_t i; (i = next.fetch_add(1)) < todo.size();) run_core(todo[i]);
      };
      std::vector<std::thread> pool;
      for (unsigned t = 1; t < n; ++t) pool.emplace_back(work);
      work();
      for (auto& t : pool) t.join();
    }
    // The lowest core's failure is reported, whatever the thread timing.
    for (uint32_t c : todo)
      if (cores[c].error) std::rethrow_exception(std::exchange(cores[c].error, nullptr));
  }

  RunStats run() {
    stats = {};
    executed = 0;
    stats.order_hash.assign(cores.size(), {});
    for (auto& h : stats.order_hash) h.fill(1469598103934665603ull);
    for (auto& cs : cores) {
      cs.pc = 0;
      cs.barrier_stage = 0;
      for (auto& q : cs.queue) q.clear();
      std::fill(cs.sem.begin(), cs.sem.end(), 0u);
      cs.w_loaded = false;
      cs.instructions = {};
      cs.macs = cs.vector_elements = cs.bytes_loaded = cs.bytes_stored = 0;
      cs.error = nullptr;
    }
    for (;;) {
      run_epoch();
      bool done = true;
      for (const auto& cs : cores) done = done && finished(cs);
      if (done) break;
      if (!release_barriers()) report_deadlock();
    }
    for (const auto& cs : cores) {
      for (int e = 0; e < isa::kNumEngines; ++e) stats.instructions[e] += cs.instructions[e];
      stats.macs += cs.macs;
      stats.vector_elements += cs.vector_elements;
      stats.bytes_loaded += cs.bytes_loaded;
      stats.bytes_stored += cs.bytes_stored;
    }
    return stats;
  }
};

// ------------------------------------------------------------ validation

namespace {
// uint8 activations and int4 weights run on the int8 datapath (int4 is
// widened when the weights are loaded) unless the chip rates them itself.
bool matrix_accepts(const arch::Chip& chip, DType t) {
  if (chip.matrix_supports(t)) return true;
  return (t == DType::uint8 || t == DType::int4) && chip.matrix_supports(DType::int8);
}
}  // namespace

void validate_program(const arch::Chip& chip, const isa::Program& p) {
  if (p.fingerprint != chip.isa_fingerprint())
    throw SimError(fmt::format(
        "program was built for chip '{}' (fingerprint 0x{:016x}) but is run on chip '{}' (fingerprint 0x{:016x})",
        p.target, p.fingerprint, chip.name, chip.isa_fingerprint()));
  const auto& core = chip.core;
  for (const auto& cc : p.cores) {
    if (cc.core >= chip.cores)
      throw SimError(fmt::format("program has code for core {} but chip '{}' has {} cores", cc.core, chip.name,
                                 chip.cores));
    std::vector<uint8_t> bytes;
    for (const auto& in : cc.code) isa::encode_instr(in, bytes);
    if (bytes.size() > core.instruction_memory_bytes)
      throw SimError(fmt::format("core {} code is {} bytes, more than the {} bytes of instruction memory",
                                 cc.core, bytes.size(), core.instruction_memory_bytes));
    for (size_t i = 0; i < cc.code.size(); ++i) {
      const Instr& in = cc.code[i];
      auto bad = [&](const std::string& why) {
        throw SimError(fmt::format("core {} {} instruction #{} ({}): {}", cc.core, isa::engine_name(in.engine()), i,
                                   isa::op_info(in.op)->mnemonic, why));
      };
      if (std::string why = isa::check_instr(in); !why.empty()) bad(why);
      for (uint8_t s : {in.wait, in.signal})
        if (s != isa::kNoSem && s >= core.semaphores)
          bad(fmt::format("semaphore {} does not exist (the chip has {})", s, core.semaphores));
      for (const Operand* o : {&in.dst, &in.a, &in.b}) {
        if (o->core == isa::kLocalCore || o->space == Space::imm) continue;
        if (o->core >= chip.cores) bad(fmt::format("operand names core {} but the chip has {} cores", o->core, chip.cores));
        // Local operands are written without @core, so the local/remote rules cannot be sidestepped.
        if (o->core == cc.core) bad(fmt::format("operand names its own core {}; write it without @{}", o->core, o->core));
      }
      if (in.op == Op::mm_ldw) {
        if (in.shape[0] > core.matrix.rows || in.shape[1] > core.matrix.cols)
          bad(fmt::format("weight tile {} x {} exceeds the {} x {} array", in.shape[0], in.shape[1],
                          core.matrix.rows, core.matrix.cols));
        if (!matrix_accepts(chip, in.a.dtype))
          bad(fmt::format("the matrix engine of chip '{}' does not support {}", chip.name, dtype_name(in.a.dtype)));
      }
      if (in.op == Op::mm_run && !matrix_accepts(chip, in.a.dtype))
        bad(fmt::format("the matrix engine of chip '{}' does not support {}", chip.name, dtype_name(in.a.dtype)));
    }
  }
  const uint64_t cap = chip.memory.capacity_bytes;
  for (const auto& s : p.symbols)
    if (s.addr > cap || s.bytes() > cap - s.addr)
      throw SimError(fmt::format("tensor '{}' at 0x{:x} ({} bytes) lies outside HBM ({} bytes)", s.name, s.addr,
                                 s.bytes(), cap));
  for (const auto& d : p.data)
    if (d.addr > cap || d.bytes.size() > cap - d.addr)
      throw SimError(fmt::format("data block at 0x{:x} ({} bytes) lies outside HBM ({} bytes)", d.addr,
                                 d.bytes.size(), cap));
}

FunctionalSim::FunctionalSim(const arch::Chip& chip, const isa::Program& program)
    : impl_(std::make_unique<Impl>(chip, program)) {
  validate_program(chip, program);
  impl_->hbm = Memory(chip.memory.capacity_bytes, "HBM");
  impl_->cores.resize(chip.cores);
  for (auto& cs : impl_->cores) {
    cs.sram = Memory(chip.core.sram_bytes, "SRAM");
    cs.acc = Memory(chip.core.accumulator_bytes, "accumulators");
    cs.sem.assign(chip.core.semaphores, 0);
  }
  for (const auto& cc : program.cores) {
    impl_->cores[cc.core].has_code = !cc.code.empty();  // an empty stream never reaches a barrier
    impl_->cores[cc.core].code = &cc.code;
  }
  // Constant blocks: large disjoint ones are read in place (Impl::overlays),
  // the rest copied in program order (a later block overwrites an earlier).
  std::vector<const isa::DataBlock*> blocks;
  for (const auto& d : program.data) blocks.push_back(&d);
  std::stable_sort(blocks.begin(), blocks.end(), [](auto* x, auto* y) { return x->addr < y->addr; });
  bool disjoint = true;
  for (size_t i = 1; i < blocks.size(); ++i)
    disjoint = disjoint && blocks[i - 1]->addr + blocks[i - 1]->bytes.size() <= blocks[i]->addr;
  constexpr size_t kInPlaceFrom = 4096;
  for (const auto* d : blocks) {
    if (disjoint && d->bytes.size() >= kInPlaceFrom) impl_->overlays.push_back({d->addr, d->addr + d->bytes.size(), d->bytes.data()});
  }
  impl_->materialized = std::make_unique<std::atomic<bool>[]>(impl_->overlays.size());
  for (const auto& d : program.data)
    if (!disjoint || d.bytes.size() < kInPlaceFrom) write_hbm(d.addr, d.bytes);
}

FunctionalSim::~FunctionalSim() = default;

void FunctionalSim::write_hbm(uint64_t addr, std::span<const uint8_t> bytes) {
  if (addr > impl_->hbm.size() || bytes.size() > impl_->hbm.size() - addr)
    throw SimError(fmt::format("HBM write of {} bytes at 0x{:x} is outside HBM ({} bytes)", bytes.size(), addr,
                               impl_->hbm.size()));
  if (!bytes.empty()) std::memcpy(impl_->hbm_bytes(addr, addr + bytes.size(), true), bytes.data(), bytes.size());
}

void FunctionalSim::read_hbm(uint64_t addr, std::span<uint8_t> out) const {
  if (addr > impl_->hbm.size() || out.size() > impl_->hbm.size() - addr)
    throw SimError(fmt::format("HBM read of {} bytes at 0x{:x} is outside HBM ({} bytes)", out.size(), addr,
                               impl_->hbm.size()));
  if (!out.empty()) std::memcpy(out.data(), impl_->hbm_bytes(addr, addr + out.size(), false), out.size());
}

RunStats FunctionalSim::run() { return impl_->run(); }

void FunctionalSim::set_progress(std::function<void(double)> progress) {
  impl_->progress = std::move(progress);
  double n = 0;
  for (const auto& cc : impl_->prog.cores) n += static_cast<double>(cc.code.size());
  impl_->total_instr = std::max(n, 1.0);
}

void FunctionalSim::set_threads(unsigned threads) {
  impl_->threads = threads == 0 ? std::max(1u, std::thread::hardware_concurrency()) : threads;
}

void FunctionalSim::set_host_handler(std::function<void(int64_t)> handler) { impl_->host_handler = std::move(handler); }

}  // namespace seedchip::sim
