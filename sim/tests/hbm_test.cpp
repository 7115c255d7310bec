// Tests for the HBM timing models: address mapping, the command-level model's
// bandwidth and its losses (refresh, row misses, read/write turnaround),
// determinism, and the fast model calibrated against the detailed one.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#include "seedchip/sim/hbm.h"

using namespace seedchip::sim;

namespace {

constexpr uint64_t kMiB = 1ull << 20;

// Fast-model efficiencies calibrated to the detailed model for the parameter
// set below (printed by HbmFast.CalibratedToDetailed; copy them into the
// chip description together with the parameters). Steady-state sustained
// fractions of peak, refresh included; random: per pseudo-channel, before
// the load imbalance of a finite random transfer.
constexpr double kEffSequential = 0.893;
constexpr double kEffStrided = 0.892;
constexpr double kEffRandom = 0.835;

uint32_t cycles(double ns, double tck) { return uint32_t(std::ceil(ns / tck - 1e-9)); }

/// Four stacks modelled on Samsung HBM3E: 9.8 Gb/s/pin, 1024 bits = 16
/// channels x 2 pseudo-channels x 32 bits; tCK = 1 / 2.45 GHz; a 32-byte
/// burst (BL8 on 32 bits) takes 2 tCK, so one stack peaks at
/// 32 * 32 B / (2 * 0.408 ns) = 1254.4 GB/s (tBURST = 4 would need 64-byte
/// bursts for that peak). Timings in ns rounded up to whole tCK.
HbmParams hbm3e_x4() {
  HbmParams p{};
  p.devices = 4;
  HbmDeviceParams& d = p.dev;
  d.channels = 16;
  d.pseudo_channels = 2;
  d.bank_groups = 4;
  d.banks_per_group = 4;
  d.row_bytes = 1024;
  d.burst_bytes = 32;
  d.tck_ns = 1 / 2.45;
  const double t = d.tck_ns;
  d.tRCD = cycles(14, t);
  d.tRP = cycles(14, t);
  d.tRAS = cycles(33, t);
  d.tCL = cycles(14, t);
  d.tWL = cycles(5, t);
  d.tCCD_S = 2;
  d.tCCD_L = 4;
  d.tRRD_S = cycles(2, t);
  d.tRRD_L = cycles(4, t);
  d.tFAW = cycles(16, t);
  d.tWR = cycles(16, t);
  d.tWTR = cycles(8, t);
  d.tREFI = cycles(3900, t);
  d.tRFC = cycles(350, t);
  d.tBURST = 2;
  d.tRTW = d.tCL + d.tBURST + 2 - d.tWL;  // RL + BL/2 + bus turnaround - WL
  p.latency_ns = 40;
  p.efficiency_sequential = kEffSequential;
  p.efficiency_strided = kEffStrided;
  p.efficiency_random = kEffRandom;
  return p;
}

double gbps(double bytes_per_ns) { return bytes_per_ns; }  // 1 B/ns == 1 GB/s

std::vector<Access> sequential(uint64_t addr, uint64_t bytes, bool write = false) {
  return {Access{addr, bytes, 1, int64_t(bytes), write}};
}

void print(const char* what, const HbmResult& r, double peak) {
  fmt::print("  {:<34} {:8.1f} GB/s  eff {:6.2f}%  ns {:10.1f}  avg lat {:7.1f} ns  hits {} misses {} refreshes {}\n",
             what, gbps(r.bytes_per_ns), 100 * r.bytes_per_ns / peak, r.ns, r.avg_latency_ns, r.row_hits,
             r.row_misses, r.refreshes);
}

bool same(const HbmResult& a, const HbmResult& b) {
  return a.ns == b.ns && a.bytes_per_ns == b.bytes_per_ns && a.avg_latency_ns == b.avg_latency_ns &&
         a.bytes == b.bytes && a.row_hits == b.row_hits && a.row_misses == b.row_misses &&
         a.refreshes == b.refreshes;
}

double rel(double a, double b) { return std::abs(a - b) / b; }

/// Checks every timing rule on a command trace of the detailed model;
/// returns the first violation, or "".
std::string check_trace(const HbmParams& p, const std::vector<HbmCommand>& trace) {
  const HbmDeviceParams& d = p.dev;
  constexpr int64_t kPast = -1'000'000'000;
  struct Bank {
    bool open = false;
    uint64_t row = 0;
    int64_t act = kPast, pre = kPast, rd = kPast, wr_end = kPast;
  };
  const uint32_t nb = d.bank_groups * d.banks_per_group;
  std::vector<Bank> banks;
  std::vector<int64_t> bg_act, bg_col;
  std::vector<int64_t> acts;
  int64_t last_act = kPast, last_col = kPast, last_rd = kPast, last_wr = kPast, bus_end = kPast;
  int64_t last_row_cmd = kPast, last_cycle = kPast, last_ref = kPast, any_pre = kPast;
  uint32_t slot = ~0u;
  for (size_t i = 0; i < trace.size(); ++i) {
    const HbmCommand& c = trace[i];
    const int64_t t = c.cycle;
    if (c.slot != slot) {
      slot = c.slot;
      banks.assign(nb, Bank{});
      bg_act.assign(d.bank_groups, kPast);
      bg_col.assign(d.bank_groups, kPast);
      acts.clear();
      last_act = last_col = last_rd = last_wr = bus_end = last_row_cmd = last_cycle = last_ref = any_pre = kPast;
    }
    const auto fail = [&](const std::string& what) {
      return fmt::format("command {} (slot {}, kind {}, bank {}, cycle {}): {}", i, c.slot, int(c.kind), c.bank, t,
                         what);
    };
    if (t < last_cycle) return fail("out of order");
    last_cycle = t;
    Bank& b = banks[c.bank];
    const uint32_t bg = c.bank % d.bank_groups;
    const bool row_cmd = c.kind == HbmCommand::ACT || c.kind == HbmCommand::PRE || c.kind == HbmCommand::PREA ||
                         c.kind == HbmCommand::REF;
    if (row_cmd) {
      if (t <= last_row_cmd) return fail("row bus: two commands in a cycle");
      last_row_cmd = t;
    }
    const auto can_precharge = [&](const Bank& x) {
      return t >= x.act + d.tRAS && t >= x.rd + d.tBURST && t >= x.wr_end + d.tWR;
    };
    switch (c.kind) {
      case HbmCommand::ACT:
        if (b.open) return fail("ACT to an open bank");
        if (t < b.pre + d.tRP) return fail("tRP");
        if (t < last_ref + d.tRFC) return fail("tRFC");
        if (t < last_act + d.tRRD_S) return fail("tRRD_S");
        if (t < bg_act[bg] + d.tRRD_L) return fail("tRRD_L");
        if (acts.size() >= 4 && t < acts[acts.size() - 4] + d.tFAW) return fail("tFAW");
        b.open = true, b.row = c.row, b.act = t;
        last_act = bg_act[bg] = t;
        acts.push_back(t);
        break;
      case HbmCommand::PRE:
        if (!b.open) return fail("PRE to a closed bank");
        if (!can_precharge(b)) return fail("tRAS / read-to-precharge / tWR");
        b.open = false, b.pre = any_pre = t;
        break;
      case HbmCommand::PREA:
        for (Bank& x : banks) {
          if (x.open && !can_precharge(x)) return fail("PREA: tRAS / read-to-precharge / tWR");
          if (x.open) x.open = false, x.pre = t;
        }
        any_pre = t;
        break;
      case HbmCommand::REF:
        for (const Bank& x : banks)
          if (x.open) return fail("REF with a bank open");
        if (t < any_pre + d.tRP) return fail("REF: tRP");
        if (last_ref != kPast && (t - last_ref < d.tREFI - 200 || t - last_ref > d.tREFI + 200))
          return fail(fmt::format("refresh interval {}", t - last_ref));
        last_ref = t;
        break;
      case HbmCommand::RD:
      case HbmCommand::WR: {
        const bool wr = c.kind == HbmCommand::WR;
        if (!b.open || b.row != c.row) return fail("column command to a closed bank or another row");
        if (t < b.act + d.tRCD) return fail("tRCD");
        if (t < last_col + d.tCCD_S) return fail("tCCD_S");
        if (t < bg_col[bg] + d.tCCD_L) return fail("tCCD_L");
        const int64_t data = t + (wr ? d.tWL : d.tCL);
        if (data < bus_end) return fail("data bus overlap");
        if (wr && t < last_rd + d.tRTW) return fail("tRTW");
        if (!wr && t < last_wr + d.tWL + d.tBURST + d.tWTR) return fail("tWTR");
        bus_end = data + d.tBURST;
        last_col = bg_col[bg] = t;
        if (wr)
          last_wr = t, b.wr_end = bus_end;
        else
          last_rd = b.rd = t;
        break;
      }
    }
  }
  return "";
}

}  // namespace

TEST(HbmParams, PeakAndValidation) {
  const HbmParams p = hbm3e_x4();
  EXPECT_NEAR(hbm_peak_bytes_per_ns(p), 4 * 1254.4, 1e-6);
  EXPECT_NEAR(HbmFast(p).peak_bytes_per_ns(), 4 * 1254.4, 1e-6);
  HbmParams bad = p;
  bad.dev.row_bytes = 100;
  EXPECT_THROW(HbmDetailed{bad}, std::invalid_argument);
  bad = p;
  bad.dev.tBURST = 0;
  EXPECT_THROW(HbmDetailed{bad}, std::invalid_argument);
  bad = p;
  bad.efficiency_random = 0;
  EXPECT_THROW(HbmFast{bad}, std::invalid_argument);
  EXPECT_NO_THROW(HbmDetailed{bad});
}

TEST(HbmMapping, SequentialSpreadsOverAllPseudoChannelsThenBanks) {
  const HbmParams p = hbm3e_x4();
  const uint32_t np = 4 * 16 * 2;
  // The first 256 B granule is one row of one bank; the next granules go to
  // the other pseudo-channels, device fastest.
  for (uint64_t a = 0; a < 256; a += 32) {
    const HbmLocation l = hbm_map(p, a);
    EXPECT_EQ(l.device, 0u);
    EXPECT_EQ(l.channel, 0u);
    EXPECT_EQ(l.pseudo_channel, 0u);
    EXPECT_EQ(l.column, a / 32);
  }
  EXPECT_EQ(hbm_map(p, 256).device, 1u);
  EXPECT_EQ(hbm_map(p, 4 * 256).channel, 1u);
  EXPECT_EQ(hbm_map(p, 64 * 256).pseudo_channel, 1u);
  // 32 KiB: every pseudo-channel once; the next 32 KiB: the next bank (group).
  std::set<std::tuple<uint32_t, uint32_t, uint32_t>> pcs, banks;
  for (uint64_t a = 0; a < np * 256; a += 256) {
    const HbmLocation l = hbm_map(p, a);
    pcs.insert({l.device, l.channel, l.pseudo_channel});
    banks.insert({l.bank_group, l.bank, 0});
  }
  EXPECT_EQ(pcs.size(), np);
  EXPECT_EQ(banks.size(), 1u);
  const HbmLocation second = hbm_map(p, np * 256);
  EXPECT_EQ(second.bank_group, 1u);
  // Bijective on 16 MiB of bursts.
  std::set<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t, uint32_t, uint64_t, uint32_t>> seen;
  for (uint64_t a = 0; a < 16 * kMiB; a += 32) {
    const HbmLocation l = hbm_map(p, a);
    ASSERT_LT(l.column, 32u);
    seen.insert({l.device, l.channel, l.pseudo_channel, l.bank_group, l.bank, l.row, l.column});
  }
  EXPECT_EQ(seen.size(), 16 * kMiB / 32);
}

TEST(HbmMapping, PowerOfTwoStridesSpreadOverChannelsAndBanks) {
  const HbmParams p = hbm3e_x4();
  for (uint64_t stride : {4096ull, 32768ull, 1ull << 20}) {
    std::set<std::tuple<uint32_t, uint32_t, uint32_t>> pcs;
    std::set<std::tuple<uint32_t, uint32_t, uint32_t, uint32_t>> pc0_banks;
    for (uint64_t i = 0; i < 16384; ++i) {
      const HbmLocation l = hbm_map(p, i * stride);
      pcs.insert({l.device, l.channel, l.pseudo_channel});
      if (l.device == 0 && l.channel == 0 && l.pseudo_channel == 0) pc0_banks.insert({l.bank_group, l.bank, 0, 0});
    }
    EXPECT_EQ(pcs.size(), 128u) << "stride " << stride;
    EXPECT_EQ(pc0_banks.size(), 16u) << "stride " << stride;
  }
}

// (1) 64 MiB of sequential reads reach >= 85% of peak; the gap is accounted
// for by refresh and by row misses (ablations), with turnaround absent for
// pure reads. (5) refreshes ~ duration / tREFI per pseudo-channel.
TEST(HbmDetailed, StreamingReachesPeakMinusModelledLosses) {
  const HbmParams p = hbm3e_x4();
  const double peak = hbm_peak_bytes_per_ns(p);
  const auto pattern = sequential(0, 64 * kMiB);

  const auto t0 = std::chrono::steady_clock::now();
  const HbmResult full = HbmDetailed(p).run(pattern);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  HbmParams no_ref = p;
  no_ref.dev.tREFI = 0;
  const HbmResult nr = HbmDetailed(no_ref).run(pattern);
  HbmParams ideal = no_ref;  // no refresh, no row overheads
  ideal.dev.tRCD = ideal.dev.tRP = ideal.dev.tRAS = ideal.dev.tRRD_S = ideal.dev.tRRD_L = ideal.dev.tFAW = 0;
  const HbmResult id = HbmDetailed(ideal).run(pattern);

  fmt::print("64 MiB sequential reads, peak {:.1f} GB/s (4 x HBM3E), detailed-model wall time {:.3f} s\n", peak,
             wall);
  print("full model", full, peak);
  print("without refresh", nr, peak);
  print("without refresh and row timings", id, peak);
  const double eff = full.bytes_per_ns / peak;
  const double refresh_loss = (nr.bytes_per_ns - full.bytes_per_ns) / peak;
  const double row_loss = (id.bytes_per_ns - nr.bytes_per_ns) / peak;
  const double other_loss = (peak - id.bytes_per_ns) / peak;
  const double refresh_expected = double(p.dev.tRFC) / p.dev.tREFI * nr.bytes_per_ns / peak;
  fmt::print(
      "  losses (of peak): refresh {:.2f}% (tRFC/tREFI {:.2f}%), row misses/activate limits {:.2f}%, "
      "turnaround 0 (reads only), latency+start-up+tail {:.2f}%; total {:.2f}%\n",
      100 * refresh_loss, 100 * refresh_expected, 100 * row_loss, 100 * other_loss, 100 * (1 - eff));

  EXPECT_EQ(full.bytes, 64 * kMiB);
  EXPECT_GE(eff, 0.85);
  EXPECT_LE(eff, 1.0);
  // Refresh costs tRFC/tREFI plus the precharge before and re-activates after.
  EXPECT_GT(refresh_loss, 0.9 * refresh_expected);
  EXPECT_LT(refresh_loss, 1.3 * refresh_expected);
  EXPECT_GE(row_loss, 0.0);
  EXPECT_LT(other_loss, 0.02);
  EXPECT_NEAR(refresh_loss + row_loss + other_loss, 1 - eff, 1e-12);
  // Sequential: one miss per bank and row (32 bursts), plus re-opens after refresh.
  EXPECT_EQ(nr.row_misses, 64 * kMiB / 1024);
  EXPECT_GT(full.row_misses, nr.row_misses);

  // (5) Each pseudo-channel refreshes once per tREFI while busy.
  const double per_pc = double(full.refreshes) / 128;
  const double expected = full.ns / (p.dev.tREFI * p.dev.tck_ns);
  fmt::print("  refreshes per pseudo-channel {:.2f}, duration / tREFI {:.2f}\n", per_pc, expected);
  EXPECT_NEAR(per_pc, expected, 1.0);
  EXPECT_EQ(nr.refreshes, 0u);
}

TEST(HbmDetailed, RefreshCountFollowsDuration) {
  const HbmParams p = hbm3e_x4();
  for (uint64_t mib : {16ull, 32ull}) {
    const HbmResult r = HbmDetailed(p).run(sequential(0, mib * kMiB));
    const double expected = (r.ns - p.latency_ns) / (p.dev.tREFI * p.dev.tck_ns) * 128;
    fmt::print("  {} MiB: {} refreshes over 128 pseudo-channels, duration / tREFI * 128 = {:.1f}\n", mib, r.refreshes,
               expected);
    EXPECT_NEAR(double(r.refreshes), expected, 0.15 * expected);
  }
  HbmParams off = p;
  off.dev.tREFI = 0;
  EXPECT_EQ(HbmDetailed(off).run(sequential(0, 16 * kMiB)).refreshes, 0u);
}

// Every command the detailed model issues obeys the timing rules, for the
// HBM3E set and for a DDR-like set with other ratios.
TEST(HbmDetailed, CommandTraceObeysTimingRules) {
  HbmParams ddr{};
  ddr.devices = 2;
  ddr.dev = HbmDeviceParams{2, 1, 8, 4, 2048, 64, 0.625, 22, 22, 52, 22, 20, 4, 8, 4, 8, 34, 36, 12, 12, 12480, 560, 4};
  ddr.latency_ns = 20;
  for (const HbmParams& p : {hbm3e_x4(), ddr}) {
    const std::vector<Access> mix = {
        Access{0, 256, 8192, 256, false, true, 1ull << 30},        // random 256 B reads
        Access{1ull << 31, 2 * kMiB, 1, int64_t(2 * kMiB), true},  // sequential writes
        Access{3ull << 30, 64, 16384, 4096, false},                // strided 64 B reads
        Access{5ull << 30, 96, 4096, 96, true, true, 1ull << 24},  // random unaligned writes
    };
    std::vector<HbmCommand> trace;
    HbmDetailed m(p);
    m.record_commands(&trace);
    const HbmResult r = m.run(mix);
    print("traced mix", r, hbm_peak_bytes_per_ns(p));
    uint64_t cols = 0, acts = 0, refs = 0;
    for (const HbmCommand& c : trace) {
      cols += c.kind == HbmCommand::RD || c.kind == HbmCommand::WR;
      acts += c.kind == HbmCommand::ACT;
      refs += c.kind == HbmCommand::REF;
    }
    EXPECT_EQ(cols, r.row_hits + r.row_misses);
    EXPECT_GE(acts, r.row_misses);  // activates that a refresh closed before use are no misses
    EXPECT_LE(acts, r.row_misses + r.refreshes * 16);
    EXPECT_EQ(refs, r.refreshes);
    EXPECT_GT(refs, 0u);
    EXPECT_EQ(check_trace(p, trace), "");
    // The checker bites: each rule made one cycle stricter is violated.
    for (uint32_t HbmDeviceParams::*field :
         {&HbmDeviceParams::tRCD, &HbmDeviceParams::tRP, &HbmDeviceParams::tRAS, &HbmDeviceParams::tCCD_S,
          &HbmDeviceParams::tCCD_L, &HbmDeviceParams::tRRD_S, &HbmDeviceParams::tFAW, &HbmDeviceParams::tWR,
          &HbmDeviceParams::tWTR, &HbmDeviceParams::tRTW, &HbmDeviceParams::tRFC}) {
      HbmParams strict = p;
      strict.dev.*field += 1;
      EXPECT_NE(check_trace(strict, trace), "");
    }
  }
}

// (3) Two runs (separate model objects) give identical results.
TEST(HbmDetailed, Deterministic) {
  const HbmParams p = hbm3e_x4();
  const std::vector<Access> mix = {
      Access{0, 256, 8192, 256, false, true, 1ull << 30},
      Access{1ull << 31, 4 * kMiB, 1, int64_t(4 * kMiB), true},
      Access{3ull << 30, 512, 4096, 8192, false},
  };
  const HbmResult a = HbmDetailed(p).run(mix);
  const HbmResult b = HbmDetailed(p).run(mix);
  HbmDetailed m(p);
  const HbmResult c = m.run(mix);
  const HbmResult d = m.run(mix);
  print("mixed streams", a, hbm_peak_bytes_per_ns(p));
  EXPECT_TRUE(same(a, b));
  EXPECT_TRUE(same(a, c));
  EXPECT_TRUE(same(a, d));
  EXPECT_EQ(a.bytes, 256ull * 8192 + 4 * kMiB + 512ull * 4096);
  EXPECT_TRUE(same(HbmFast(p).run(mix), HbmFast(p).run(mix)));
}

// (4) Mixing reads and writes costs turnaround time.
TEST(HbmDetailed, ReadWriteTurnaroundCosts) {
  const HbmParams p = hbm3e_x4();
  const double peak = hbm_peak_bytes_per_ns(p);
  const HbmResult rd = HbmDetailed(p).run(sequential(0, 16 * kMiB));
  const HbmResult wr = HbmDetailed(p).run(sequential(0, 16 * kMiB, true));
  const std::vector<Access> mixed = {sequential(0, 8 * kMiB)[0], sequential(1ull << 30, 8 * kMiB, true)[0]};
  const HbmResult mx = HbmDetailed(p).run(mixed);
  HbmParams no_turn = p;
  no_turn.dev.tWTR = no_turn.dev.tRTW = 0;
  const HbmResult mx0 = HbmDetailed(no_turn).run(mixed);
  fmt::print("16 MiB sequential: reads, writes, 8 MiB reads + 8 MiB writes concurrently\n");
  print("reads", rd, peak);
  print("writes", wr, peak);
  print("reads + writes", mx, peak);
  print("reads + writes, tWTR = tRTW = 0", mx0, peak);
  fmt::print(
      "  mixing costs {:.1f}% against reads alone, of which tWTR/tRTW {:.1f}%; the rest is batching (each "
      "direction sees half the queue) and the two streams' rows evicting each other\n",
      100 * (rd.bytes_per_ns - mx.bytes_per_ns) / rd.bytes_per_ns,
      100 * (mx0.bytes_per_ns - mx.bytes_per_ns) / rd.bytes_per_ns);
  EXPECT_LT(mx.bytes_per_ns, 0.99 * std::min(rd.bytes_per_ns, wr.bytes_per_ns));
  EXPECT_LT(mx.bytes_per_ns, 0.99 * mx0.bytes_per_ns);
}

TEST(HbmDetailed, EmptyAndTinyTransfers) {
  const HbmParams p = hbm3e_x4();
  const HbmResult none = HbmDetailed(p).run({});
  EXPECT_EQ(none.bytes, 0u);
  EXPECT_EQ(none.ns, 0.0);
  // One burst: activate, read, data: latency_ns + (tRCD + tCL + tBURST) tCK.
  const HbmResult one = HbmDetailed(p).run(sequential(64, 32));
  const double t = p.latency_ns + (p.dev.tRCD + p.dev.tCL + p.dev.tBURST) * p.dev.tck_ns;
  EXPECT_NEAR(one.ns, t, 1e-9);
  EXPECT_NEAR(one.avg_latency_ns, t, 1e-9);
  EXPECT_EQ(one.row_misses, 1u);
  // Unaligned run: 40 bytes over two bursts.
  const HbmResult two = HbmDetailed(p).run(sequential(16, 40));
  EXPECT_EQ(two.row_hits + two.row_misses, 2u);
  EXPECT_EQ(two.bytes, 40u);
  const HbmResult fast = HbmFast(p).run(sequential(64, 32));
  EXPECT_NEAR(fast.ns, one.ns, 0.1 * one.ns);
}

// (2) The fast model with efficiencies calibrated to the detailed model agrees
// with it within 5% on bandwidth and latency for each pattern.
TEST(HbmFast, CalibratedToDetailed) {
  const HbmParams p = hbm3e_x4();
  const double peak = hbm_peak_bytes_per_ns(p);
  const HbmDeviceParams& d = p.dev;
  fmt::print(
      "parameters: devices {} channels {} pseudo_channels {} bank_groups {} banks_per_group {} row_bytes {} "
      "burst_bytes {} tck_ns {:.6f} latency_ns {}\n  tRCD {} tRP {} tRAS {} tCL {} tWL {} tCCD_S {} tCCD_L {} "
      "tRRD_S {} tRRD_L {} tFAW {} tWR {} tWTR {} tRTW {} tREFI {} tRFC {} tBURST {}\n",
      p.devices, d.channels, d.pseudo_channels, d.bank_groups, d.banks_per_group, d.row_bytes, d.burst_bytes,
      d.tck_ns, p.latency_ns, d.tRCD, d.tRP, d.tRAS, d.tCL, d.tWL, d.tCCD_S, d.tCCD_L, d.tRRD_S, d.tRRD_L, d.tFAW,
      d.tWR, d.tWTR, d.tRTW, d.tREFI, d.tRFC, d.tBURST);
  const auto t0 = std::chrono::steady_clock::now();
  const HbmCalibration cal = calibrate_hbm_fast(p, 16 * kMiB);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("calibration (16 MiB of reads per pattern, {:.2f} s): efficiency_sequential {:.3f}, "
             "efficiency_strided {:.3f}, efficiency_random {:.3f}\n",
             wall, cal.sequential, cal.strided, cal.random);
  // The constants in this file (to be copied into the chip description) are
  // the calibrated values.
  EXPECT_NEAR(kEffSequential, cal.sequential, 0.01);
  EXPECT_NEAR(kEffStrided, cal.strided, 0.01);
  EXPECT_NEAR(kEffRandom, cal.random, 0.01);

  HbmFast fast(p);  // efficiencies = the constants
  const char* names[] = {"sequential", "strided 256 B / 4 KiB", "random 256 B"};
  const HbmResult* det[] = {&cal.detailed_sequential, &cal.detailed_strided, &cal.detailed_random};
  for (int k = 0; k < 3; ++k) {
    const HbmResult f = fast.run(hbm_calibration_pattern(k, 16 * kMiB));
    fmt::print("{}:\n", names[k]);
    print("detailed", *det[k], peak);
    print("fast", f, peak);
    EXPECT_LT(rel(f.bytes_per_ns, det[k]->bytes_per_ns), 0.05) << names[k];
    EXPECT_LT(rel(f.avg_latency_ns, det[k]->avg_latency_ns), 0.05) << names[k];
    EXPECT_EQ(f.bytes, det[k]->bytes);
  }
}

// The calibrated fast model carried to other sizes, run lengths and mixes
// (looser bounds where the transfer-level model is approximate; tol 0: a
// known gap, reported only).
TEST(HbmFast, OtherSizesAndMixes) {
  const HbmParams p = hbm3e_x4();
  const double peak = hbm_peak_bytes_per_ns(p);
  struct Case {
    const char* name;
    std::vector<Access> streams;
    double tol;
  };
  const std::vector<Case> cases = {
      {"sequential 64 MiB", sequential(0, 64 * kMiB), 0.05},
      {"sequential 1 MiB", sequential(0, kMiB), 0.10},
      {"sequential writes 16 MiB", sequential(0, 16 * kMiB, true), 0.05},
      {"strided 256 B / 4 KiB, 64 MiB", hbm_calibration_pattern(1, 64 * kMiB), 0.05},
      {"random 256 B, 64 MiB", hbm_calibration_pattern(2, 64 * kMiB), 0.05},
      {"random 256 B, 2 MiB", hbm_calibration_pattern(2, 2 * kMiB), 0.15},
      {"4 sequential streams x 4 MiB",
       {sequential(0, 4 * kMiB)[0], sequential(1ull << 28, 4 * kMiB)[0], sequential(2ull << 28, 4 * kMiB)[0],
        sequential(3ull << 28, 4 * kMiB)[0]},
       0.10},
      {"random 64 B, 8 MiB (activate-bound)", {Access{0, 64, 131072, 64, false, true, 1ull << 30}}, 0.10},
      {"strided 32 B / 4 KiB, 8 MiB (activate-bound)", {Access{0, 32, 262144, 4096, false}}, 0.10},
      {"strided 64 B / 128 B, 8 MiB", {Access{0, 64, 131072, 128, false}}, 0.05},
      // Known gaps of the fast model (reported, not asserted).
      {"random 128 B, 8 MiB", {Access{0, 128, 65536, 128, false, true, 1ull << 30}}, 0},
      {"random 256 B writes, 16 MiB", {Access{0, 256, 65536, 256, true, true, 1ull << 30}}, 0},
      {"8 MiB reads + 8 MiB writes", {sequential(0, 8 * kMiB)[0], sequential(1ull << 30, 8 * kMiB, true)[0]}, 0},
  };
  HbmDetailed detailed(p);
  HbmFast fast(p);
  for (const Case& c : cases) {
    const HbmResult d = detailed.run(c.streams);
    const HbmResult f = fast.run(c.streams);
    fmt::print("{}:\n", c.name);
    print("detailed", d, peak);
    print("fast", f, peak);
    if (c.tol == 0) continue;
    EXPECT_LT(rel(f.bytes_per_ns, d.bytes_per_ns), c.tol) << c.name;
    EXPECT_LT(rel(f.avg_latency_ns, d.avg_latency_ns), c.tol) << c.name;
  }
}
