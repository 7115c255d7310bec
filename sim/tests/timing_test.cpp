// Tests for the timing model: cost formulas from the chip description,
// overlap through semaphores, shared HBM, determinism, and agreement with
// the functional model on what executed.
#include <gtest/gtest.h>

#include <cmath>

#include "seedchip/arch/chip.h"
#include "seedchip/examples/examples.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/sim/functional.h"
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
