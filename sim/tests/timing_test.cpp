// Tests for the timing model: cost formulas from the chip description,
// overlap through semaphores, shared HBM, determinism, and agreement with
// the functional model on what executed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "seedchip/arch/chip.h"
#include "seedchip/examples/examples.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/sim/functional.h"
#include "seedchip/sim/hbm.h"
#include "seedchip/sim/timing.h"

using namespace seedchip;

namespace {

const arch::Chip& v1() {
  static const arch::Chip c = arch::find_chip("seedchip-v1");
  return c;
}

isa::Program prog(const std::string& body) { return isa::assemble(".chip seedchip-v1\n" + body, "t.s"); }

double cycles_per_ns() { return v1().clock_hz / 1e9; }

}  // namespace

TEST(Timing, StreamingLoadFollowsBandwidthEfficiencyAndLatency) {
  // 8 MiB contiguous load: setup + bytes / (peak x sequential efficiency) + latency
  auto p = prog(".core 0\n  load dst=sram:0x0:int8[1] a=hbm:0x0:int8[1] shape=[8388608]\n");
  auto r = sim::run_timing(v1(), p);
  const auto& t = v1().timing;
  const double bytes = 8388608.0;
  const double hbm = bytes / (v1().memory.bandwidth_bytes_per_s / v1().clock_hz * t.memory.efficiency_sequential);
  const double port = bytes / t.dma.port_bytes_per_cycle;
  const double want = t.dma.setup_cycles + std::max(hbm, port) + std::ceil(t.memory.latency_ns * cycles_per_ns());
  EXPECT_NEAR(static_cast<double>(r.cycles), want, 2.0);
  EXPECT_EQ(r.hbm_read_bytes, 8388608u);
}

TEST(Timing, StridedAccessCostsMoreThanStreaming) {
  auto seq = sim::run_timing(v1(), prog(".core 0\n  load dst=sram:0x0:fp32[1] a=hbm:0x0:fp32[1] shape=[262144]\n"));
  auto str = sim::run_timing(v1(), prog(".core 0\n  load dst=sram:0x0:fp32[1] a=hbm:0x0:fp32[64] shape=[262144]\n"));
  EXPECT_GT(str.cycles, 3 * seq.cycles);  // 4-byte elements each cost a burst at random-access efficiency
}

TEST(Timing, CoresShareHbmBandwidth) {
  std::string one = ".core 0\n  load dst=sram:0x0:int8[1] a=hbm:0x0:int8[1] shape=[4194304]\n";
  std::string eight;
  for (int c = 0; c < 8; ++c)
    eight += ".core " + std::to_string(c) + "\n  load dst=sram:0x0:int8[1] a=hbm:" + std::to_string(c * 4194304) +
             ":int8[1] shape=[4194304]\n";
  auto r1 = sim::run_timing(v1(), prog(one));
  auto r8 = sim::run_timing(v1(), prog(eight));
  // One core is limited by its DMA port; eight cores together by the shared
  // HBM, which they then keep at its streaming efficiency.
  const auto& t = v1().timing;
  const double port_bound = 4194304.0 / t.dma.port_bytes_per_cycle;
  EXPECT_GE(static_cast<double>(r1.cycles), port_bound);
  const double hbm_rate = v1().memory.bandwidth_bytes_per_s * t.memory.efficiency_sequential;
  EXPECT_NEAR(r8.achieved_hbm_bytes_per_s() / hbm_rate, 1.0, 0.05);
  EXPECT_GT(r8.cycles, r1.cycles);
}

TEST(Timing, MatrixRunsStreamRowsAtTheDtypeRate) {
  const std::string body = R"(.core 0
  mm.ldw a=sram:0x0:int8[256,1] shape=[256,256]
  mm.run dst=acc:0x0:int32[256,1] a=sram:0x10000:int8[256,1] shape=[1024,256,256]
  mm.ldw a=sram:0x0:bf16[256,1] shape=[256,256]
  mm.run dst=acc:0x0:fp32[256,1] a=sram:0x10000:bf16[256,1] shape=[1024,256,256] acc=1
)";
  auto r = sim::run_timing(v1(), prog(body));
  const auto& m = r.engines[0][static_cast<int>(isa::Engine::matrix)];
  // int8 at 1 row/cycle, bf16 at half rate, plus the weight loads (256 rows each)
  EXPECT_EQ(m.busy, 1024u + 2048u + 256u + 256u);
  EXPECT_EQ(r.macs, 2u * 1024 * 256 * 256);
}

TEST(Timing, SemaphoresSerialiseAndDecoupledEnginesOverlap) {
  // A load then a dependent vector op: the op starts after the load's data arrives.
  auto dep = sim::run_timing(v1(), prog(R"(.core 0
  load dst=sram:0x0:fp32[1] a=hbm:0x0:fp32[1] shape=[1048576] signal=0
  v.exp dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[1048576] wait=0
)"));
  auto indep = sim::run_timing(v1(), prog(R"(.core 0
  load dst=sram:0x0:fp32[1] a=hbm:0x0:fp32[1] shape=[1048576]
  v.exp dst=sram:0x400000:fp32[1] a=sram:0x400000:fp32[1] shape=[1048576]
)"));
  EXPECT_GT(dep.cycles, indep.cycles);
  EXPECT_GT(dep.engines[0][static_cast<int>(isa::Engine::vector)].stall_sync, 0u);
}

TEST(Timing, DeterministicAndSameStreamsAsFunctional) {
  for (const auto& ex : examples::all()) {
    auto p = isa::assemble(std::string(ex.text), std::string(ex.name));
    sim::TimingOptions o;
    o.record = true;
    auto a = sim::run_timing(v1(), p, o), b = sim::run_timing(v1(), p, o);
    EXPECT_EQ(a.cycles, b.cycles) << ex.name;
    ASSERT_EQ(a.slices.size(), b.slices.size());
    for (size_t i = 0; i < a.slices.size(); ++i) EXPECT_EQ(a.slices[i].end, b.slices[i].end);
    sim::FunctionalSim f(v1(), p);
    auto st = f.run();
    for (size_t c = 0; c < a.engines.size(); ++c)
      for (int e = 0; e < isa::kNumEngines; ++e) {
        EXPECT_EQ(st.order_hash[c][e], a.engines[c][e].order_hash) << ex.name << " core " << c << " engine " << e;
        EXPECT_EQ(st.order_hash[c][e] != 1469598103934665603ull, a.engines[c][e].instructions > 0);
      }
    EXPECT_GT(a.energy_j, 0.0);
  }
}

TEST(Timing, DeadlockIsReported) {
  try {
    sim::run_timing(v1(), prog(".core 0\n  nop engine=matrix wait=3\n"));
    FAIL();
  } catch (const sim::SimError& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock: no engine can make progress: core 0 matrix #0 (nop) waits on semaphore 3"),
              std::string::npos);
  }
}

namespace {

// A TPU-v1-style fully connected layer Y = X W (B x K times K x N, int8),
// written the way the TPU runs it: activations resident in the unified
// buffer (SRAM), 256 x 256 weight tiles streamed from DRAM through two
// buffers, partial sums kept in the accumulators and drained on chip.
isa::Program tpu_fc(const arch::Chip& chip, uint32_t B, uint32_t K, uint32_t N) {
  using isa::Instr;
  using isa::Op;
  using isa::Operand;
  using isa::Space;
  isa::Program p;
  p.target = chip.name;
  p.fingerprint = chip.isa_fingerprint();
  std::vector<Instr> code;
  auto mem = [](Space s, uint64_t addr, DType t, std::array<int64_t, 4> st, uint8_t rank) {
    Operand o;
    o.space = s;
    o.addr = addr;
    o.dtype = t;
    o.rank = rank;
    o.stride = st;
    return o;
  };
  const uint32_t T = 256, kt = K / T, nt = N / T;
  const uint64_t wbuf[2] = {uint64_t{B} * K, uint64_t{B} * K + T * T};  // after the resident activations
  const uint64_t out_sram = wbuf[1] + T * T;
  const uint32_t mchunk = std::min<uint32_t>(B, 2048);  // accumulator rows per run
  int tile = 0;
  for (uint32_t n = 0; n < nt; ++n) {
    for (uint32_t k = 0; k < kt; ++k, ++tile) {
      const int b = tile % 2;
      Instr ld;  // weight tile (k, n) from DRAM
      ld.op = Op::load;
      ld.rank = 2;
      ld.shape = {T, T, 0, 0};
      ld.dst = mem(Space::sram, wbuf[b], DType::int8, {T, 1, 0, 0}, 2);
      // weights are stored tile by tile (as the TPU's weight DRAM holds them): each load is one 64 KiB run
      ld.a = mem(Space::hbm, (uint64_t{n} * kt + k) * T * T, DType::int8, {T, 1, 0, 0}, 2);
      if (tile >= 2) ld.wait = static_cast<uint8_t>(2 + b);  // buffer b free
      ld.signal = static_cast<uint8_t>(b);                   // buffer b full
      code.push_back(ld);
      Instr w;
      w.op = Op::mm_ldw;
      w.rank = 2;
      w.shape = {T, T, 0, 0};
      w.a = mem(Space::sram, wbuf[b], DType::int8, {T, 1, 0, 0}, 2);
      w.wait = static_cast<uint8_t>(b);
      w.signal = static_cast<uint8_t>(2 + b);
      code.push_back(w);
      for (uint32_t m0 = 0; m0 < B; m0 += mchunk) {
        Instr r;
        r.op = Op::mm_run;
        r.rank = 3;
        r.shape = {std::min(mchunk, B - m0), T, T, 0};
        r.dst = mem(Space::acc, uint64_t{m0 % 2048} * T * 4, DType::int32, {T, 1, 0, 0}, 2);
        r.a = mem(Space::sram, uint64_t{m0} * K + k * T, DType::int8, {static_cast<int64_t>(K), 1, 0, 0}, 2);
        r.param[0] = k > 0 ? 1 : 0;
        if (k + 1 == kt && m0 + mchunk >= B) r.signal = 4;  // column block done
        code.push_back(r);
      }
    }
    // drain the accumulators to the unified buffer (on chip) before the next column block
    Instr v;
    v.op = Op::v_quant;
    v.rank = 2;
    v.shape = {std::min(mchunk, B), T, 0, 0};
    v.dst = mem(Space::sram, out_sram, DType::int8, {T, 1, 0, 0}, 2);
    v.a = mem(Space::acc, 0, DType::int32, {T, 1, 0, 0}, 2);
    v.b = Operand::imm_float(256.0f);
    v.param[1] = 1;
    v.wait = 4;
    v.signal = 5;
    code.push_back(v);
    Instr nop;  // the next block's runs overwrite the accumulators: wait for the drain
    nop.op = Op::nop;
    nop.param[0] = static_cast<int64_t>(isa::Engine::matrix);
    nop.wait = 5;
    code.push_back(nop);
  }
  p.cores.push_back({0, std::move(code)});
  return p;
}

}  // namespace

TEST(Timing, TpuV1RooflineForFullyConnectedLayers) {
  // Jouppi et al. (ISCA 2017): memory-bound below about 1350 MACs per weight
  // byte, compute-bound above, saturating near the 92 TOP/s peak.
  const arch::Chip tpu = arch::find_chip("tpu-v1");
  const double peak = tpu.peak_ops_per_s(DType::int8);
  const double bw = tpu.memory.bandwidth_bytes_per_s * tpu.timing.memory.efficiency_sequential;
  const uint32_t K = 2048, N = 2048;
  double prev = 0;
  for (uint32_t B : {64u, 256u, 512u, 1024u, 2048u, 4096u, 8192u}) {
    auto r = sim::run_timing(tpu, tpu_fc(tpu, B, K, N));
    const double achieved = 2.0 * B * K * N / r.seconds;
    const double roof = std::min(peak, 2.0 * B * bw);  // ops per weight byte = 2B
    EXPECT_GE(achieved, prev) << B;                   // monotone in batch
    EXPECT_LE(achieved, roof * 1.001) << B;           // never above the roofline
    if (B <= 512) {
      EXPECT_GE(achieved, 0.85 * roof) << "memory-bound regime, B=" << B;
    }
    if (B >= 4096) {
      EXPECT_GE(achieved, 0.85 * peak) << "compute-bound regime, B=" << B;
    }
    std::printf("tpu-v1 FC B=%5u: %6.1f MACs/weight byte, %6.2f TOP/s (roofline %6.2f)\n", B, 1.0 * B, achieved / 1e12,
                roof / 1e12);
    prev = achieved;
  }
}

namespace {
sim::HbmParams hbm_params(const arch::Chip& c) {
  const auto& d = c.timing.memory.detailed;
  sim::HbmParams p;
  p.devices = c.memory.devices;
  p.dev = {d.channels, d.pseudo_channels, d.bank_groups, d.banks_per_group, d.row_bytes, d.burst_bytes, d.tck_ns,
           d.tRCD, d.tRP, d.tRAS, d.tCL, d.tWL, d.tCCD_S, d.tCCD_L, d.tRRD_S, d.tRRD_L, d.tFAW, d.tWR, d.tWTR,
           d.tRTW, d.tREFI, d.tRFC, d.tBURST};
  p.latency_ns = c.timing.memory.latency_ns;
  p.efficiency_sequential = c.timing.memory.efficiency_sequential;
  p.efficiency_strided = c.timing.memory.efficiency_strided;
  p.efficiency_random = c.timing.memory.efficiency_random;
  return p;
}
}  // namespace

TEST(Timing, ChipEfficienciesMatchTheDetailedHbmModel) {
  // The fast model's efficiencies in each built-in chip are calibrated to its
  // own command-level parameters.
  for (const std::string& n : arch::builtin_chip_names()) {
    const char* name = n.c_str();
    const arch::Chip c = arch::find_chip(name);
    const auto cal = sim::calibrate_hbm_fast(hbm_params(c), 8ull << 20);
    const auto& m = c.timing.memory;
    EXPECT_NEAR(m.efficiency_sequential / cal.sequential, 1.0, 0.05) << name;
    EXPECT_NEAR(m.efficiency_strided / cal.strided, 1.0, 0.05) << name;
    EXPECT_NEAR(m.efficiency_random / cal.random, 1.0, 0.05) << name;
    std::printf("%s: detailed-model efficiencies sequential %.3f strided %.3f random %.3f (chip file: %.3f %.3f %.3f)\n",
                name, cal.sequential, cal.strided, cal.random,
                c.timing.memory.efficiency_sequential, c.timing.memory.efficiency_strided,
                c.timing.memory.efficiency_random);
  }
}

TEST(Timing, OnChipNetworkLinksAreShared) {
  // Cores 1 and 2 both read core 0's SRAM: on a mesh their routes share the
  // link out of core 0, so together they take about twice as long as one.
  const std::string one = ".core 1\n  load dst=sram:0x0:int8[1] a=sram@0:0x0:int8[1] shape=[1048576]\n";
  const std::string two = one + ".core 2\n  load dst=sram:0x0:int8[1] a=sram@0:0x100000:int8[1] shape=[1048576]\n";
  auto r1 = sim::run_timing(v1(), prog(one));
  auto r2 = sim::run_timing(v1(), prog(two));
  const double link = 1048576.0 / v1().timing.noc.link_bytes_per_cycle;
  EXPECT_GE(static_cast<double>(r1.cycles), link);
  EXPECT_GE(static_cast<double>(r2.cycles), 2 * link);
  EXPECT_EQ(r2.noc_bytes, 2u * 1048576);
  // Disjoint routes (core 1 <- core 0, core 3 <- core 2 on a 3x3 mesh) do not interfere.
  const std::string apart = one + ".core 3\n  load dst=sram:0x0:int8[1] a=sram@2:0x0:int8[1] shape=[1048576]\n";
  auto r3 = sim::run_timing(v1(), prog(apart));
  EXPECT_LT(static_cast<double>(r3.cycles), 1.2 * static_cast<double>(r1.cycles));
}

TEST(Timing, SramBankConflictsSlowStridedAccess) {
  // 4096 fp32 elements: contiguous reads use every bank; a stride of
  // banks x 64 B sends every element to the same bank.
  const auto& c = v1();
  const int64_t conflict = static_cast<int64_t>(c.core.sram_banks) * 64 / 4;
  auto seq = sim::run_timing(c, prog(".core 0\n  v.relu dst=sram:0x0:fp32[1] a=sram:0x400000:fp32[1] shape=[4096]\n"));
  auto bad = sim::run_timing(c, prog(".core 0\n  v.relu dst=sram:0x0:fp32[1] a=sram:0x400000:fp32[" +
                                     std::to_string(conflict) + "] shape=[4096]\n"));
  const auto& vs = seq.engines[0][static_cast<int>(isa::Engine::vector)];
  const auto& vb = bad.engines[0][static_cast<int>(isa::Engine::vector)];
  EXPECT_GE(vb.busy, 8 * vs.busy);
  // one element per cycle from the single bank
  EXPECT_GE(vb.busy, 4096u);
}

TEST(Timing, KernelLaunchGapIsPaidAtEachBarrier) {
  // timing.kernel_launch_ns models a GPU's kernel boundary (or an ASIC's
  // cross-core sync): every barrier release waits that long, host calls do not.
  const std::string two = ".core 0\n  barrier id=0\n  barrier id=1\n.core 1\n  barrier id=0\n  barrier id=1\n";
  arch::Chip c = v1();
  c.timing.kernel_launch_ns = 0;
  const auto r0 = sim::run_timing(c, prog(two));
  c.timing.kernel_launch_ns = 1000;
  const auto r1 = sim::run_timing(c, prog(two));
  EXPECT_EQ(r1.cycles - r0.cycles, 2u * 1000u);  // two barriers, 1000 cycles each at 1 GHz
}
