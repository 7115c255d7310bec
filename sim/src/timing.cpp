// seedchip — timing model (docs/timing.md).
//
// Each core has a dispatcher that issues its stream in program order (one
// instruction per cycle) into per-engine queues of `queue_depth` entries.
// Engines run their queues in order. An instruction issues when it has been
// dispatched, its engine is free and (if it waits) a semaphore signal is
// available; the earliest such issue over all engines is processed next, so
// shared resources (HBM) are claimed in time order. Signals carry the time
// the producing instruction completes; a wait takes the earliest one.
//
// Costs come from the chip description only:
//   DMA     setup + max(bytes / port, HBM occupancy) + memory latency; HBM is
//           one shared server whose rate is peak x efficiency(access pattern)
//   matrix  mm.ldw: K / weight_rows_per_cycle on the weight loader (two weight
//           buffers, so loads overlap the previous run); mm.run: M / rate[dtype]
//           cycles on the array, results pipeline_cycles later
//   vector  ceil(elements / lanes) x per-op cycles, results latency later
#include "seedchip/sim/timing.h"
#include "deadlock.h"
#include "seedchip/econ/econ.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "seedchip/sim/functional.h"
#include "seedchip/sim/hbm.h"
#include "seedchip/sim/vector_ops.h"

namespace seedchip::sim {

using isa::Engine;
using isa::Instr;
using isa::Op;
using isa::Operand;
using isa::Space;

namespace {

struct Pending {
  uint32_t idx;
  uint64_t dispatched;
};

struct EngineState {
  std::deque<Pending> q;
  uint64_t free_at = 0;      // next cycle the engine can issue
  uint64_t slot_freed = 0;   // when the last queue slot was freed (head issued)
};

struct CoreState {
  const std::vector<Instr>* code = nullptr;
  bool has_code = false;
  size_t pc = 0;
  uint64_t dclock = 0;  // dispatcher time
  std::array<EngineState, isa::kNumEngines> eng;
  std::vector<std::multiset<uint64_t>> sem;
  int barrier_stage = 0;
  uint64_t barrier_time = 0;
  uint64_t last_end = 0;  // completion of everything issued so far
  // matrix engine internals: weight loader and array, two weight buffers
  uint64_t loader_free = 0, array_free = 0, ldw_end = 0;
  std::array<uint64_t, 2> wbuf_free{0, 0};
  int wbuf = 0;
};

inline uint64_t ceil_u(double x) { return x <= 0 ? 0 : static_cast<uint64_t>(std::ceil(x - 1e-9)); }

class TimingSim {
 public:
  TimingSim(const arch::Chip& chip, const isa::Program& p, const TimingOptions& opt) : chip_(chip), opt_(opt) {
    validate_program(chip, p);
    cores_.resize(chip.cores);
    for (auto& c : cores_) c.sem.resize(chip.core.semaphores);
    for (const auto& cc : p.cores) {
      cores_[cc.core].code = &cc.code;
      cores_[cc.core].has_code = !cc.code.empty();
    }
    res_.engines.resize(chip.cores);
    for (const auto& cc : p.cores) total_ += static_cast<double>(cc.code.size());
    total_ = std::max(total_, 1.0);
    const auto& t = chip.timing;
    cyc_per_ns_ = chip.clock_hz / 1e9;
    hbm_bytes_per_cycle_ = chip.memory.bandwidth_bytes_per_s / chip.clock_hz;
    mem_latency_ = ceil_u(t.memory.latency_ns * cyc_per_ns_);
    barrier_cycles_ = static_cast<uint64_t>(std::llround(t.kernel_launch_ns * cyc_per_ns_));
    mesh_ = static_cast<uint32_t>(std::ceil(std::sqrt(static_cast<double>(chip.cores))));
    const auto& d = t.memory.detailed;
    hbm_params_.devices = chip.memory.devices;
    hbm_params_.dev = {d.channels, d.pseudo_channels, d.bank_groups, d.banks_per_group, d.row_bytes, d.burst_bytes,
                       d.tck_ns, d.tRCD, d.tRP, d.tRAS, d.tCL, d.tWL, d.tCCD_S, d.tCCD_L, d.tRRD_S, d.tRRD_L, d.tFAW,
                       d.tWR, d.tWTR, d.tRTW, d.tREFI, d.tRFC, d.tBURST};
    hbm_params_.latency_ns = t.memory.latency_ns;
    hbm_params_.efficiency_sequential = t.memory.efficiency_sequential;
    hbm_params_.efficiency_strided = t.memory.efficiency_strided;
    hbm_params_.efficiency_random = t.memory.efficiency_random;
  }

  TimingResult run() {
    for (;;) {
      for (uint32_t c = 0; c < cores_.size(); ++c) dispatch(c);
      int bc = -1, be = -1;
      uint64_t bt = UINT64_MAX;
      for (uint32_t c = 0; c < cores_.size(); ++c) {
        auto& cs = cores_[c];
        for (int e = 0; e < 4; ++e) {
          auto& es = cs.eng[e];
          if (es.q.empty()) continue;
          const Instr& in = (*cs.code)[es.q.front().idx];
          uint64_t t = std::max(es.free_at, es.q.front().dispatched);
          if (in.wait != isa::kNoSem) {
            if (cs.sem[in.wait].empty()) continue;
            t = std::max(t, *cs.sem[in.wait].begin());
          }
          if (t < bt) bt = t, bc = static_cast<int>(c), be = e;
        }
      }
      if (bc >= 0) {
        issue(static_cast<uint32_t>(bc), be, bt);
        if (opt_.progress && (++issued_ & 0xFFFF) == 0) opt_.progress(static_cast<double>(issued_) / total_);
        continue;
      }
      if (release_barriers()) continue;
      bool done = true;
      for (const auto& cs : cores_) done = done && finished(cs);
      if (done) break;
      deadlock();
    }
    uint64_t end = 0;
    for (const auto& cs : cores_) end = std::max(end, std::max(cs.last_end, cs.dclock));
    res_.cycles = end;
    res_.seconds = static_cast<double>(end) / chip_.clock_hz;
    res_.ops = 2.0 * static_cast<double>(res_.macs) + static_cast<double>(res_.vector_elements);
    // energy is the economics library's: the timing model only counts
    econ::Activity act;
    for (const auto& [dt, macs] : macs_by_dtype_) act.macs[dt] += macs;
    act.vector_elements = res_.vector_elements;
    act.sram_bytes = res_.sram_read_bytes + res_.sram_write_bytes;
    act.hbm_bytes = res_.hbm_read_bytes + res_.hbm_write_bytes;
    act.seconds = res_.seconds;
    const econ::Energy e = econ::run_energy(chip_, act);
    res_.energy_dynamic_j = e.dynamic_j;
    res_.energy_static_j = e.static_j;
    res_.energy_j = e.total_j;
    return std::move(res_);
  }

 private:
  bool finished(const CoreState& cs) const {
    if (!cs.has_code) return true;
    if (cs.pc < cs.code->size()) return false;
    for (const auto& e : cs.eng)
      if (!e.q.empty()) return false;
    return true;
  }

  bool drained(const CoreState& cs) const {
    for (const auto& e : cs.eng)
      if (!e.q.empty()) return false;
    return true;
  }

  void dispatch(uint32_t c) {
    CoreState& cs = cores_[c];
    while (cs.has_code && cs.pc < cs.code->size()) {
      const Instr& in = (*cs.code)[cs.pc];
      const Engine e = in.engine();
      if (e != Engine::control) {
        auto& es = cs.eng[static_cast<int>(e)];
        if (es.q.size() >= chip_.core.queue_depth) return;
        cs.dclock = std::max(cs.dclock, es.slot_freed) + 1;
        es.q.push_back({static_cast<uint32_t>(cs.pc), cs.dclock});
        ++cs.pc;
        continue;
      }
      if (cs.barrier_stage == 0) {
        if (in.wait != isa::kNoSem) {
          auto& s = cs.sem[in.wait];
          if (s.empty()) return;
          cs.dclock = std::max(cs.dclock, *s.begin());
          s.erase(s.begin());
        }
        cs.barrier_stage = 1;
      }
      if (in.op == Op::nop) {
        count(c, Engine::control, cs.pc, cs.dclock, cs.dclock + 1, 1, 0);
        cs.dclock += 1;
        if (in.signal != isa::kNoSem) cs.sem[in.signal].insert(cs.dclock);
        cs.barrier_stage = 0;
        ++cs.pc;
        continue;
      }
      if (cs.barrier_stage == 1) {  // drain, then arrive
        if (!drained(cs)) return;
        cs.barrier_time = std::max(cs.dclock, cs.last_end);
        cs.barrier_stage = 2;
      }
      return;  // waiting for the other cores
    }
  }

  bool release_barriers() {
    const Instr* first = nullptr;
    uint64_t t = 0;
    for (auto& cs : cores_) {
      if (!cs.has_code) continue;
      if (cs.barrier_stage != 2) return false;
      const Instr& in = (*cs.code)[cs.pc];
      if (!first) first = &in;
      else if (in.param[0] != first->param[0] || in.op != first->op)
        throw SimError(fmt::format("barrier mismatch: {} {} vs {} {}", isa::op_info(first->op)->mnemonic,
                                   first->param[0], isa::op_info(in.op)->mnemonic, in.param[0]));
      t = std::max(t, cs.barrier_time);
    }
    if (!first) return false;
    const uint64_t arrive = t;
    if (first->op == Op::host_call) t += ceil_u(chip_.timing.host_call_us * 1e3 * cyc_per_ns_);
    else t += barrier_cycles_;  // kernel boundary (GPU launch gap, cross-core sync)
    for (uint32_t c = 0; c < cores_.size(); ++c) {
      auto& cs = cores_[c];
      if (!cs.has_code) continue;
      const Instr& in = (*cs.code)[cs.pc];
      count(c, Engine::control, cs.pc, cs.barrier_time, t, t - arrive, 0);
      res_.engines[c][static_cast<int>(Engine::control)].stall_sync += arrive - cs.barrier_time;
      cs.dclock = t + 1;
      if (in.signal != isa::kNoSem) cs.sem[in.signal].insert(t);
      cs.barrier_stage = 0;
      ++cs.pc;
    }
    return true;
  }

  [[noreturn]] void deadlock() const {
    std::vector<std::string> parts;
    for (uint32_t c = 0; c < cores_.size(); ++c) {
      const auto& cs = cores_[c];
      if (finished(cs)) continue;
      for (int e = 0; e < 4; ++e) {
        if (cs.eng[e].q.empty()) continue;
        const uint32_t idx = cs.eng[e].q.front().idx;
        const Instr& in = (*cs.code)[idx];
        parts.push_back(detail::waits_on_semaphore(c, static_cast<Engine>(e), idx, in));
      }
      if (cs.pc < cs.code->size())
        parts.push_back(fmt::format("core {} control blocked at #{} ({})", c, cs.pc,
                                    isa::op_info((*cs.code)[cs.pc].op)->mnemonic));
    }
    detail::throw_deadlock(parts);
  }

  void count(uint32_t c, Engine e, size_t idx, uint64_t start, uint64_t end, uint64_t busy, uint64_t hbm) {
    auto& et = res_.engines[c][static_cast<int>(e)];
    et.busy += busy;
    et.instructions += 1;
    et.order_hash = (et.order_hash ^ static_cast<uint64_t>(idx)) * 1099511628211ull;
    if (opt_.record) res_.slices.push_back({c, static_cast<uint8_t>(e), static_cast<uint32_t>(idx), start, end, hbm});
  }

  // ---- costs

  // Contiguous bytes of the innermost dims of an operand over `shape`.
  static uint64_t run_bytes(const Operand& o, const uint32_t* shape, int rank) {
    const int64_t es = std::max(1, dtype_bits(o.dtype) / 8);
    uint64_t run = static_cast<uint64_t>(es);
    int64_t expect = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (shape[d] == 1) continue;
      if (o.stride[d] != expect) break;
      run *= shape[d];
      expect *= shape[d];
    }
    return run;
  }

  // Cycles the shared HBM is busy with one transfer of `runs` runs of `run`
  // contiguous bytes, successive runs `stride` bytes apart (random: gathers).
  // HBM is a server shared by all cores in time order; a transfer occupies it
  // for its bytes (short runs rounded up to whole bursts) at the steady-state
  // rate peak x efficiency of its access pattern. `--hbm fast` takes the
  // chip's three calibrated efficiencies; `--hbm detailed` measures the
  // pattern's efficiency on the command-level model (sim/hbm.h), once per
  // pattern.
  double hbm_occupancy(uint64_t runs, uint64_t run, int64_t stride, bool write, bool random) {
    const uint64_t burst = chip_.timing.dma.burst_bytes;
    const uint64_t charged = runs * ((run + burst - 1) / burst * burst);
    return static_cast<double>(charged) / (hbm_bytes_per_cycle_ * efficiency(run, stride, write, random));
  }

  double efficiency(uint64_t run, int64_t stride, bool write, bool random) {
    const auto& m = chip_.timing.memory;
    if (opt_.hbm == HbmModel::fast) {
      if (random) return m.efficiency_random;
      if (stride == static_cast<int64_t>(run) || run >= 32768) return m.efficiency_sequential;
      return m.efficiency_strided;
    }
    const auto key = std::make_tuple(run, stride, write, random);
    auto it = eff_cache_.find(key);
    if (it != eff_cache_.end()) return it->second;
    // A long stream of the pattern (8 MiB, at most 256 Ki runs) on the detailed model.
    const uint64_t count = std::clamp<uint64_t>((8ull << 20) / std::max<uint64_t>(run, 1), 1, 262144);
    Access a{0, run, count, random ? static_cast<int64_t>(run) : std::max<int64_t>(stride, static_cast<int64_t>(run)),
             write, random, random ? uint64_t{1} << 30 : 0};
    const HbmResult r = HbmDetailed(hbm_params_).run({a});
    const double busy_ns = std::max(1e-9, r.ns - hbm_params_.latency_ns);
    const uint64_t burst = chip_.timing.dma.burst_bytes;
    const double charged = static_cast<double>(count * ((run + burst - 1) / burst * burst));
    const double eff = std::clamp(charged / busy_ns / (chip_.memory.bandwidth_bytes_per_s / 1e9), 1e-3, 1.0);
    eff_cache_.emplace(key, eff);
    return eff;
  }

  // Cycles SRAM needs to serve `elems` elements of operand `o` (local SRAM or
  // accumulator) over `shape`: banks x bytes_per_cycle_per_bank for runs of
  // consecutive elements; a stride of s elements wastes the rest of each
  // 64-byte bank word (1/s of the bandwidth while s x elem < 64 B), and larger
  // strides reach only the banks the stride cycles through, one element per
  // bank per cycle (bank conflicts).
  double sram_cycles(const Operand& o, const uint32_t* shape, int rank, uint64_t elems) const {
    if (o.space != Space::sram && o.space != Space::acc) return 0;
    const double word = chip_.timing.sram.bytes_per_cycle_per_bank;
    const uint64_t banks = chip_.core.sram_banks;
    const int64_t es = std::max(1, dtype_bits(o.dtype) / 8);
    int64_t stride = 1;  // innermost non-trivial dimension's stride
    for (int d = rank - 1; d >= 0; --d)
      if (shape[d] > 1) {
        stride = std::abs(o.stride[d]);
        break;
      }
    double bw = static_cast<double>(banks) * word;
    const double step = static_cast<double>(stride * es);
    if (stride == 0) return 1;  // a broadcast element is read once and reused
    if (step > static_cast<double>(es) && step < word) {
      bw /= static_cast<double>(stride);
    } else if (step >= word) {
      const uint64_t lines = static_cast<uint64_t>(step / word);
      const uint64_t distinct = banks / std::gcd(banks, std::max<uint64_t>(lines, 1));
      bw = static_cast<double>(distinct * static_cast<uint64_t>(es));
    }
    return static_cast<double>(elems * static_cast<uint64_t>(es)) / bw;
  }

  // Directed links from core `from` to core `to`, as ids (from * cores + to of each hop).
  std::vector<uint64_t> links(uint32_t from, uint32_t to) const {
    std::vector<uint64_t> r;
    const uint64_t n = cores_.size();
    uint32_t cur = from;
    auto step = [&](uint32_t next) {
      r.push_back(static_cast<uint64_t>(cur) * n + next);
      cur = next;
    };
    if (chip_.timing.noc.topology == "ring") {
      const uint32_t nc = static_cast<uint32_t>(n);
      const uint32_t fwd = (to + nc - from) % nc;
      const bool up = fwd <= nc - fwd;
      while (cur != to) step(up ? (cur + 1) % nc : (cur + nc - 1) % nc);
      return r;
    }
    while (cur % mesh_ != to % mesh_) step(cur % mesh_ < to % mesh_ ? cur + 1 : cur - 1);  // X first
    while (cur / mesh_ != to / mesh_) step(cur / mesh_ < to / mesh_ ? cur + mesh_ : cur - mesh_);
    return r;
  }

  void issue(uint32_t c, int e, uint64_t t) {
    CoreState& cs = cores_[c];
    EngineState& es = cs.eng[e];
    const Pending head = es.q.front();
    es.q.pop_front();
    es.slot_freed = t;
    const Instr& in = (*cs.code)[head.idx];
    // sync stall accounting: time the head waited for its semaphore
    const uint64_t ready = std::max(es.free_at, head.dispatched);
    if (in.wait != isa::kNoSem) {
      auto& s = cs.sem[in.wait];
      s.erase(s.begin());
      if (t > ready) res_.engines[c][e].stall_sync += t - ready;
    }
    uint64_t start = t, end = t + 1, busy = 1, hbm_bytes = 0;
    const auto& tm = chip_.timing;
    switch (in.op) {
      case Op::nop:
        break;
      case Op::load:
      case Op::store:
      case Op::load_gather:
      case Op::store_scatter: {
        const bool gather = in.op == Op::load_gather || in.op == Op::store_scatter;
        const bool inbound = in.op == Op::load || in.op == Op::load_gather;
        const Operand& far = inbound ? in.a : in.dst;
        const int64_t es_b = std::max(1, dtype_bits(in.a.dtype) / 8);
        const uint64_t bytes = in.elements() * static_cast<uint64_t>(es_b);
        const uint64_t setup = tm.dma.setup_cycles;
        const double port = static_cast<double>(bytes) / tm.dma.port_bytes_per_cycle;
        double data_done = static_cast<double>(start + setup) + port;
        uint64_t latency = 0;
        if (far.space == Space::hbm) {
          uint64_t run = gather ? in.shape[1] * static_cast<uint64_t>(es_b) : run_bytes(far, in.shape.data(), in.rank);
          if (gather && far.stride[1] != 1) run = static_cast<uint64_t>(es_b);
          run = std::max<uint64_t>(1, std::min<uint64_t>(run, std::max<uint64_t>(bytes, 1)));
          const uint64_t runs = (bytes + run - 1) / run;
          // stride between runs: the first outer dimension beyond the contiguous run
          int64_t stride = static_cast<int64_t>(run);
          if (!gather) {
            uint64_t covered = static_cast<uint64_t>(es_b);
            for (int d = in.rank - 1; d >= 0; --d) {
              if (in.shape[d] == 1) continue;
              if (covered >= run) {
                stride = far.stride[d] * es_b;
                break;
              }
              covered *= in.shape[d];
            }
          }
          const double occ = hbm_occupancy(runs, run, std::abs(stride), !inbound, gather);
          const double begin = std::max(static_cast<double>(start + setup), hbm_free_);
          res_.engines[c][e].stall_memory += ceil_u(begin - static_cast<double>(start + setup));
          hbm_free_ = begin + occ;
          data_done = std::max(data_done, begin + occ);
          latency = mem_latency_;
          hbm_bytes = bytes;
          (inbound ? res_.hbm_read_bytes : res_.hbm_write_bytes) += bytes;
        } else if (far.core != isa::kLocalCore) {  // another core's SRAM over the on-chip network
          // The transfer holds every link of its route (XY on a mesh, the
          // shorter way round a ring) for bytes / link bandwidth; transfers
          // sharing a link queue for it in time order.
          const double dur = static_cast<double>(bytes) / tm.noc.link_bytes_per_cycle;
          const auto route = links(inbound ? far.core : c, inbound ? c : far.core);
          double begin = static_cast<double>(start + setup);
          for (uint64_t l : route) begin = std::max(begin, link_free_[l]);
          res_.engines[c][e].stall_memory += ceil_u(begin - static_cast<double>(start + setup));
          for (uint64_t l : route) link_free_[l] = begin + dur;
          data_done = std::max(data_done, begin + dur);
          latency = static_cast<uint64_t>(route.size()) * tm.noc.hop_cycles;
          res_.noc_bytes += bytes;
        }
        (inbound ? res_.sram_write_bytes : res_.sram_read_bytes) += bytes;
        {  // the local side is limited by SRAM banks too
          const Operand& local = inbound ? in.dst : in.a;
          const uint32_t rows2[2] = {in.shape[0], gather ? in.shape[1] : 1};
          const double sc = gather ? sram_cycles(local, rows2, 2, in.elements())
                                   : sram_cycles(local, in.shape.data(), in.rank, in.elements());
          data_done = std::max(data_done, static_cast<double>(start + setup) + sc);
        }
        const uint64_t occupied = ceil_u(data_done - static_cast<double>(start));
        busy = occupied;
        es.free_at = start + occupied;
        end = es.free_at + latency;
        break;
      }
      case Op::mm_ldw: {
        // The weight loader fills the spare weight buffer while the array works.
        const uint64_t k = in.shape[0];
        const uint64_t b = std::max({start, cs.loader_free, cs.wbuf_free[cs.wbuf]});
        const uint32_t wshape[2] = {in.shape[0], in.shape[1]};
        const uint64_t dur = ceil_u(std::max(static_cast<double>(k) / tm.matrix.weight_rows_per_cycle,
                                             sram_cycles(in.a, wshape, 2, uint64_t{in.shape[0]} * in.shape[1])));
        start = b;
        end = b + dur;
        cs.loader_free = end;
        cs.ldw_end = end;
        busy = dur;
        es.free_at = t + 1;  // the next instruction (a run) issues behind it
        res_.sram_read_bytes += static_cast<uint64_t>(in.shape[0]) * in.shape[1] * std::max(1, dtype_bits(in.a.dtype) / 8);
        break;
      }
      case Op::mm_run: {
        const uint64_t m = in.shape[0], k = in.shape[1], n = in.shape[2];
        DType dt = in.a.dtype;
        auto it = chip_.core.matrix.rate.find(dt);
        if (it == chip_.core.matrix.rate.end()) it = chip_.core.matrix.rate.find(DType::int8);
        const double rate = it == chip_.core.matrix.rate.end() ? 1.0 : it->second;
        const uint64_t b = std::max({start, cs.array_free, cs.ldw_end});
        const uint32_t ashape[2] = {in.shape[0], in.shape[1]};
        const uint64_t dur = ceil_u(std::max(static_cast<double>(m) / rate, sram_cycles(in.a, ashape, 2, m * k)));
        start = b;
        cs.array_free = b + dur;
        cs.wbuf_free[cs.wbuf] = b + dur;  // the weights in use are free after the stream
        cs.wbuf ^= 1;
        end = b + dur + tm.matrix.pipeline_cycles;
        busy = dur;
        es.free_at = b + 1;
        res_.macs += m * k * n;
        macs_by_dtype_[dt] += m * k * n;
        res_.sram_read_bytes += m * k * static_cast<uint64_t>(std::max(1, dtype_bits(dt) / 8));
        break;
      }
      default: {  // vector engine
        const isa::OpInfo* info = isa::op_info(in.op);
        const uint64_t elems = in.elements();
        double per = tm.vector.simple_cycles;
        switch (in.op) {
          case Op::v_exp: case Op::v_log: case Op::v_tanh: case Op::v_erf: case Op::v_sigmoid: case Op::v_rsqrt:
          case Op::v_pow: case Op::v_sin: case Op::v_cos:
            per = tm.vector.transcendental_cycles;
            break;
          case Op::v_div: case Op::v_recip: case Op::v_sqrt: case Op::v_mod: case Op::v_quant:
            per = tm.vector.divide_cycles;
            break;
          default:
            break;
        }
        const uint64_t groups = (elems + chip_.core.vector.lanes - 1) / chip_.core.vector.lanes;
        // operands share the SRAM banks: their access times add up
        const bool has_b = info->format == isa::Format::binary || info->format == isa::Format::quant;
        const bool reduce_out = info->format == isa::Format::reduce;
        const uint64_t out_elems = reduce_out ? elems / std::max<uint32_t>(1, in.shape[in.rank - 1]) : elems;
        const double sram = sram_cycles(in.a, in.shape.data(), in.rank, elems) +
                            (has_b && in.b.space != Space::imm ? sram_cycles(in.b, in.shape.data(), in.rank, elems) : 0) +
                            sram_cycles(in.dst, in.shape.data(), in.rank, out_elems);
        const uint64_t dur = std::max<uint64_t>(1, ceil_u(std::max(static_cast<double>(groups) * per, sram)));
        busy = dur;
        es.free_at = start + dur;
        end = es.free_at + tm.vector.latency_cycles;
        const bool reduce = info->format == isa::Format::reduce;
        res_.vector_elements += reduce ? elems / std::max<uint32_t>(1, in.shape[in.rank - 1]) : elems;
        auto bytes_of = [&](const Operand& o) {
          return o.space == Space::imm ? 0 : elems * static_cast<uint64_t>(std::max(1, dtype_bits(o.dtype) / 8));
        };
        res_.sram_read_bytes += bytes_of(in.a) + (info->format == isa::Format::binary ? bytes_of(in.b) : 0);
        res_.sram_write_bytes += bytes_of(in.dst);
        break;
      }
    }
    cs.last_end = std::max(cs.last_end, end);
    if (in.signal != isa::kNoSem) cs.sem[in.signal].insert(end);
    count(c, static_cast<Engine>(e), head.idx, start, end, busy, hbm_bytes);
  }

  const arch::Chip& chip_;
  TimingOptions opt_;
  std::vector<CoreState> cores_;
  TimingResult res_;
  std::map<DType, uint64_t> macs_by_dtype_;
  double cyc_per_ns_ = 1, hbm_bytes_per_cycle_ = 1, hbm_free_ = 0;
  uint64_t barrier_cycles_ = 0;
  HbmParams hbm_params_;
  std::map<std::tuple<uint64_t, int64_t, bool, bool>, double> eff_cache_;
  uint64_t mem_latency_ = 0;
  uint64_t issued_ = 0;
  std::map<uint64_t, double> link_free_;
  double total_ = 0;
  uint32_t mesh_ = 1;
};

}  // namespace

TimingResult run_timing(const arch::Chip& chip, const isa::Program& p, const TimingOptions& opt) {
  TimingSim s(chip, p, opt);
  return s.run();
}

}  // namespace seedchip::sim
