// seedchip — command-level HBM timing model (see hbm.h for the model and the
// address mapping).
#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/sim/hbm.h"

namespace seedchip::sim {

namespace {

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument("HBM parameters: " + what); }

uint64_t digit_sum(uint64_t x, uint64_t base) {
  if (base <= 1) return 0;
  uint64_t s = 0;
  while (x) {
    s += x % base;
    x /= base;
  }
  return s;
}

}  // namespace

void validate_hbm_params(const HbmParams& p) {
  const HbmDeviceParams& d = p.dev;
  if (p.devices == 0) bad("devices must be >= 1");
  if (d.channels == 0 || d.pseudo_channels == 0) bad("channels and pseudo_channels must be >= 1");
  if (d.bank_groups == 0 || d.banks_per_group == 0) bad("bank_groups and banks_per_group must be >= 1");
  if (uint64_t(d.bank_groups) * d.banks_per_group > 65535) bad("more than 65535 banks per pseudo-channel");
  if (d.burst_bytes == 0) bad("burst_bytes must be >= 1");
  if (d.burst_bytes < kHbmInterleaveBytes && kHbmInterleaveBytes % d.burst_bytes != 0)
    bad("burst_bytes must divide " + std::to_string(kHbmInterleaveBytes));
  const uint64_t g = std::max<uint64_t>(d.burst_bytes, kHbmInterleaveBytes);
  if (d.row_bytes < g || d.row_bytes % g != 0)
    bad("row_bytes must be a multiple of the interleave granule (" + std::to_string(g) + " B)");
  if (!(d.tck_ns > 0)) bad("tck_ns must be > 0");
  if (d.tBURST == 0 || d.tCCD_S == 0 || d.tCCD_L == 0) bad("tBURST, tCCD_S and tCCD_L must be >= 1");
  if (d.tREFI != 0 && d.tRFC >= d.tREFI) bad("tRFC must be < tREFI");
  if (!(p.latency_ns >= 0)) bad("latency_ns must be >= 0");
}

double hbm_peak_bytes_per_ns(const HbmParams& p) {
  const HbmDeviceParams& d = p.dev;
  return double(p.devices) * d.channels * d.pseudo_channels * d.burst_bytes / (d.tBURST * d.tck_ns);
}

namespace {

constexpr uint64_t kHbmSeed = 0x5EEDC41B0DDBA11ull;

struct MappedBurst {
  uint32_t slot;  // pseudo-channel slot
  uint32_t bank;  // flat bank index
  uint64_t row;
  uint32_t column;
};

/// Yields the burst addresses of one Access in order.
class StreamBursts {
 public:
  StreamBursts(const Access& a, uint64_t burst_bytes, uint64_t seed);
  bool next(uint64_t& burst_addr);

 private:
  uint64_t next_random();
  void start_run();
  Access a_;
  uint64_t bb_, rng_;
  uint64_t runs_in_span_ = 1, run_ = 0, burst_ = 0, last_burst_ = 0;
  bool active_ = false;
};

uint64_t granule_bytes(const HbmParams& p) {
  return std::max<uint64_t>(p.dev.burst_bytes, kHbmInterleaveBytes);
}

uint64_t pseudo_channel_count(const HbmParams& p) {
  return uint64_t(p.devices) * p.dev.channels * p.dev.pseudo_channels;
}

MappedBurst map_burst(const HbmParams& p, uint64_t addr) {
  const uint64_t g = granule_bytes(p);
  const uint64_t np = pseudo_channel_count(p);
  const uint64_t nb = uint64_t(p.dev.bank_groups) * p.dev.banks_per_group;
  const uint64_t cols = p.dev.row_bytes / g;
  const uint64_t c = addr / g;
  const uint64_t u = c / np;
  const uint64_t v = u / nb;
  MappedBurst m;
  m.slot = uint32_t(digit_sum(c, np) % np);
  m.bank = uint32_t(digit_sum(u, nb) % nb);
  m.row = v / cols;
  m.column = uint32_t((v % cols) * (g / p.dev.burst_bytes) + (addr % g) / p.dev.burst_bytes);
  return m;
}

StreamBursts::StreamBursts(const Access& a, uint64_t burst_bytes, uint64_t seed)
    : a_(a), bb_(burst_bytes), rng_(seed) {
  if (a.run_bytes == 0 || a.count == 0) return;
  if (a.random) {
    const uint64_t span = a.span ? a.span : a.run_bytes * a.count;
    if (span < a.run_bytes) throw std::invalid_argument("HBM access: span smaller than run_bytes");
    runs_in_span_ = span / a.run_bytes;
  }
  start_run();
}

uint64_t StreamBursts::next_random() {
  // splitmix64
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void StreamBursts::start_run() {
  uint64_t start;
  if (a_.random) {
    start = a_.addr + (next_random() % runs_in_span_) * a_.run_bytes;
  } else {
    int64_t off;
    uint64_t end;
    bool bad_run = __builtin_mul_overflow(a_.stride, int64_t(run_), &off);
    if (!bad_run && off >= 0)
      bad_run = __builtin_add_overflow(a_.addr, uint64_t(off), &start);
    else if (!bad_run)
      bad_run = a_.addr < uint64_t(-(off + 1)) + 1, start = a_.addr - (uint64_t(-(off + 1)) + 1);
    if (bad_run || __builtin_add_overflow(start, a_.run_bytes, &end))
      throw std::invalid_argument("HBM access: a run falls outside the 64-bit address space");
  }
  burst_ = start / bb_;
  last_burst_ = (start + a_.run_bytes - 1) / bb_;
  active_ = true;
}

bool StreamBursts::next(uint64_t& burst_addr) {
  if (!active_) return false;
  burst_addr = burst_ * bb_;
  if (burst_ == last_burst_) {
    if (++run_ < a_.count)
      start_run();
    else
      active_ = false;
  } else {
    ++burst_;
  }
  return true;
}

}  // namespace

HbmLocation hbm_map(const HbmParams& p, uint64_t addr) {
  validate_hbm_params(p);
  const MappedBurst m = map_burst(p, addr);
  HbmLocation loc;
  loc.device = m.slot % p.devices;
  loc.channel = m.slot / p.devices % p.dev.channels;
  loc.pseudo_channel = m.slot / (p.devices * p.dev.channels);
  loc.bank_group = m.bank % p.dev.bank_groups;
  loc.bank = m.bank / p.dev.bank_groups;
  loc.row = m.row;
  loc.column = m.column;
  return loc;
}

namespace {

/// One burst request as a pseudo-channel controller sees it.
struct Req {
  uint64_t row;
  uint16_t bank;  // flat: bank_group = bank % bank_groups
  bool write;
};

struct PcOutcome {
  int64_t last_end = 0;  // cycle the last data beat finished
  int64_t latency_sum = 0;
  uint64_t misses = 0;  // bursts that used a fresh activate
  uint64_t refreshes = 0;
};

constexpr int64_t kLongAgo = std::numeric_limits<int64_t>::min() / 4;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max() / 4;
constexpr uint32_t kMinBatch = 16, kMaxBatch = 2 * kHbmQueueDepth;

/// Simulates one pseudo-channel controller on its request subsequence.
PcOutcome simulate_pseudo_channel(const HbmDeviceParams& d, const std::vector<Req>& reqs, int64_t first_refresh,
                                  uint32_t slot, std::vector<HbmCommand>* trace) {
  const auto record = [&](HbmCommand::Kind kind, int64_t cycle, uint32_t bank, uint64_t row) {
    if (trace) trace->push_back({kind, slot, uint16_t(bank), row, cycle});
  };
  struct Bank {
    uint64_t row = 0;
    bool open = false;
    bool fresh = false;  // activated, no column command yet
    int64_t next_act = 0, next_pre = 0, next_col = 0;
  };
  struct Slot {
    uint32_t idx;
    int64_t arrival;
  };
  const uint32_t nbg = d.bank_groups;
  const uint32_t nbanks = d.bank_groups * d.banks_per_group;
  const int64_t tRCD = d.tRCD, tRP = d.tRP, tRAS = d.tRAS, tCL = d.tCL, tWL = d.tWL, tCCD_S = d.tCCD_S,
                tCCD_L = d.tCCD_L, tRRD_S = d.tRRD_S, tRRD_L = d.tRRD_L, tFAW = d.tFAW, tWR = d.tWR,
                tWTR = d.tWTR, tRTW = d.tRTW, tREFI = d.tREFI, tRFC = d.tRFC, tBURST = d.tBURST;

  std::vector<Bank> banks(nbanks);
  std::vector<int64_t> bg_last_col(nbg, kLongAgo), bg_last_act(nbg, kLongAgo);
  std::vector<uint16_t> hits(nbanks);
  std::array<int64_t, 4> faw{kLongAgo, kLongAgo, kLongAgo, kLongAgo};
  size_t faw_oldest = 0;
  int64_t last_col = kLongAgo, last_act = kLongAgo, last_rd = kLongAgo, last_wr = kLongAgo;
  int64_t bus_free = 0, row_bus_free = 0, now = 0;
  int64_t refresh_due = tREFI ? first_refresh : kNever;
  bool writing = false;  // direction of the current column-command batch
  uint32_t batch = 0;    // column commands in it so far

  PcOutcome out;
  std::vector<Slot> queue;
  queue.reserve(kHbmQueueDepth);
  size_t next = 0;
  while (queue.size() < kHbmQueueDepth && next < reqs.size()) queue.push_back({uint32_t(next++), 0});

  while (!queue.empty()) {
    std::fill(hits.begin(), hits.end(), 0);
    uint32_t queued_writes = 0;
    for (const Slot& s : queue) {
      const Req& r = reqs[s.idx];
      const Bank& b = banks[r.bank];
      if (b.open && b.row == r.row) ++hits[r.bank];
      queued_writes += r.write;
    }
    // Read/write batching (1): leave a direction with no queued requests, or
    // after kMaxBatch column commands when the other direction waits.
    const bool have_cur = writing ? queued_writes > 0 : queued_writes < queue.size();
    const bool have_other = writing ? queued_writes < queue.size() : queued_writes > 0;
    if (!have_cur || (have_other && batch >= kMaxBatch)) writing = !writing, batch = 0;
    const int64_t base_rd = std::max({now, last_col + tCCD_S, last_wr + tWL + tBURST + tWTR, bus_free - tCL});
    const int64_t base_wr = std::max({now, last_col + tCCD_S, last_rd + tRTW, bus_free - tWL});
    const int64_t base_act = std::max({now, row_bus_free, last_act + tRRD_S, faw[faw_oldest] + tFAW});
    const int64_t base_pre = std::max(now, row_bus_free);

    int64_t col_t = kNever, row_t = kNever, other_t = kNever;  // other_t: other direction's column command
    size_t col_k = 0, row_k = 0, other_k = 0;
    for (size_t k = 0; k < queue.size(); ++k) {
      const Req& r = reqs[queue[k].idx];
      const Bank& b = banks[r.bank];
      const uint32_t bg = r.bank % nbg;
      if (b.open && b.row == r.row) {
        const int64_t t =
            std::max({r.write ? base_wr : base_rd, bg_last_col[bg] + tCCD_L, b.next_col, queue[k].arrival});
        if (r.write == writing) {
          if (t < col_t) col_t = t, col_k = k;
        } else if (t < other_t) {
          other_t = t, other_k = k;
        }
      } else if (b.open) {
        if (hits[r.bank]) continue;  // open page: serve the open row's requests first
        const int64_t t = std::max({base_pre, b.next_pre, queue[k].arrival});
        if (t < row_t) row_t = t, row_k = k;
      } else {
        const int64_t t = std::max({base_act, bg_last_act[bg] + tRRD_L, b.next_act, queue[k].arrival});
        if (t < row_t) row_t = t, row_k = k;
      }
    }
    // (2) After kMinBatch commands, turn around when the other direction
    // could issue sooner (turnaround included) — or when the current one
    // cannot issue at all (its requests wait for rows the other direction's
    // hits keep open).
    if (other_t < col_t && (batch >= kMinBatch || (col_t == kNever && row_t == kNever)))
      writing = !writing, batch = 0, col_t = other_t, col_k = other_k;
    const int64_t t = std::min(col_t, row_t);

    if (t >= refresh_due) {
      // All-bank refresh: precharge all open banks (one PREA), then REF.
      const int64_t start = std::max({refresh_due, row_bus_free, now});
      int64_t pre_t = start, ready = start;
      bool any_open = false;
      for (const Bank& b : banks) {
        if (b.open) any_open = true, pre_t = std::max(pre_t, b.next_pre);
        ready = std::max(ready, b.next_act);
      }
      const int64_t ref_t = any_open ? std::max(pre_t + tRP, ready) : ready;
      if (any_open) record(HbmCommand::PREA, pre_t, 0, 0);
      record(HbmCommand::REF, ref_t, 0, 0);
      for (Bank& b : banks) {
        b.open = false;
        b.next_act = ref_t + tRFC;
      }
      row_bus_free = ref_t + 1;
      now = ref_t;
      refresh_due += tREFI;
      ++out.refreshes;
      continue;
    }

    // Row and column commands use separate buses; both may issue this cycle
    // (they are for different banks: a PRE needs no pending hit to its bank,
    // an ACT a closed bank).
    if (row_t == t) {
      const Req& r = reqs[queue[row_k].idx];
      Bank& b = banks[r.bank];
      const uint32_t bg = r.bank % nbg;
      if (b.open) {  // PRE
        record(HbmCommand::PRE, t, r.bank, b.row);
        b.open = false;
        b.next_act = std::max(b.next_act, t + tRP);
      } else {  // ACT
        record(HbmCommand::ACT, t, r.bank, r.row);
        b.open = true;
        b.fresh = true;
        b.row = r.row;
        b.next_col = t + tRCD;
        b.next_pre = t + tRAS;
        last_act = t;
        bg_last_act[bg] = t;
        faw[faw_oldest] = t;
        faw_oldest = (faw_oldest + 1) % faw.size();
      }
      row_bus_free = t + 1;
    }
    if (col_t == t) {
      const Req& r = reqs[queue[col_k].idx];
      Bank& b = banks[r.bank];
      const uint32_t bg = r.bank % nbg;
      record(r.write ? HbmCommand::WR : HbmCommand::RD, t, r.bank, r.row);
      int64_t data_end;
      if (r.write) {
        data_end = t + tWL + tBURST;
        last_wr = t;
        b.next_pre = std::max(b.next_pre, data_end + tWR);
      } else {
        data_end = t + tCL + tBURST;
        last_rd = t;
        b.next_pre = std::max(b.next_pre, t + tBURST);
      }
      last_col = t;
      ++batch;
      out.misses += b.fresh;
      b.fresh = false;
      bg_last_col[bg] = t;
      bus_free = data_end;
      out.last_end = std::max(out.last_end, data_end);
      out.latency_sum += data_end - queue[col_k].arrival;
      queue.erase(queue.begin() + ptrdiff_t(col_k));
      if (next < reqs.size()) queue.push_back({uint32_t(next++), t});
    }
    now = t;
  }
  return out;
}

}  // namespace

HbmDetailed::HbmDetailed(const HbmParams& p) : p_(p) { validate_hbm_params(p_); }

HbmResult HbmDetailed::run(const std::vector<Access>& streams) {
  const HbmDeviceParams& d = p_.dev;
  const uint64_t np = pseudo_channel_count(p_);
  HbmResult res{};
  if (trace_) trace_->clear();
  for (const Access& a : streams) res.bytes += a.run_bytes * a.count;

  // Distribute the round-robin interleaving of the streams' bursts over the
  // pseudo-channels.
  std::vector<std::vector<Req>> per_pc(np);
  {
    std::vector<StreamBursts> gens;
    gens.reserve(streams.size());
    for (size_t i = 0; i < streams.size(); ++i)
      gens.emplace_back(streams[i], d.burst_bytes, kHbmSeed ^ (0x9E37ull * (i + 1)));
    std::vector<size_t> live;
    for (size_t i = 0; i < gens.size(); ++i) live.push_back(i);
    while (!live.empty()) {
      size_t w = 0;
      for (size_t i : live) {
        uint64_t addr;
        if (!gens[i].next(addr)) continue;
        live[w++] = i;
        const MappedBurst m = map_burst(p_, addr);
        per_pc[m.slot].push_back({m.row, uint16_t(m.bank), streams[i].write});
      }
      live.resize(w);
    }
  }

  int64_t last_end = 0, latency_sum = 0;
  uint64_t bursts = 0, misses = 0;
  for (uint64_t s = 0; s < np; ++s) {
    if (per_pc[s].empty()) continue;
    if (per_pc[s].size() > std::numeric_limits<uint32_t>::max())
      throw std::invalid_argument("HBM access: more than 2^32 bursts on one pseudo-channel");
    const int64_t first_refresh = int64_t((2 * s + 1) * uint64_t(d.tREFI) / (2 * np));
    const PcOutcome o = simulate_pseudo_channel(d, per_pc[s], first_refresh, uint32_t(s), trace_);
    last_end = std::max(last_end, o.last_end);
    latency_sum += o.latency_sum;
    bursts += per_pc[s].size();
    misses += o.misses;
    res.refreshes += o.refreshes;
    std::vector<Req>().swap(per_pc[s]);
  }
  if (bursts == 0) return res;
  res.ns = p_.latency_ns + double(last_end) * d.tck_ns;
  res.bytes_per_ns = double(res.bytes) / res.ns;
  res.avg_latency_ns = p_.latency_ns + double(latency_sum) / double(bursts) * d.tck_ns;
  res.row_misses = misses;
  res.row_hits = bursts - misses;
  return res;
}

}  // namespace seedchip::sim
