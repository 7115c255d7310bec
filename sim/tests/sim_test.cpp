// Tests for the functional simulator: engine semantics, numerics of the
// matrix and vector engines, synchronisation, and every error path.
#include <gtest/gtest.h>

#include "../src/mm_kernels.h"

#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/numerics/convert.h"
#include "seedchip/sim/functional.h"

using namespace seedchip;

namespace {

const arch::Chip& v1() {
  static const arch::Chip c = arch::find_chip("seedchip-v1");
  return c;
}

isa::Program asm_v1(const std::string& body, const std::string& chip = "seedchip-v1") {
  return isa::assemble(".chip " + chip + "\n" + body, "test.s");
}

std::string run_error(const isa::Program& p, const arch::Chip& chip = v1()) {
  try {
    sim::FunctionalSim s(chip, p);
    s.run();
  } catch (const sim::SimError& e) {
    return e.what();
  }
  return "no error";
}

template <typename T>
void put(sim::FunctionalSim& s, uint64_t addr, const std::vector<T>& v) {
  s.write_hbm(addr, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)});
}

template <typename T>
std::vector<T> get(const sim::FunctionalSim& s, uint64_t addr, size_t n) {
  std::vector<T> v(n);
  s.read_hbm(addr, {reinterpret_cast<uint8_t*>(v.data()), n * sizeof(T)});
  return v;
}

// Runs one vector instruction over n fp32 inputs a (and b) loaded at hbm
// 0x0 / 0x10000, result (dtype out) stored to hbm 0x20000.
std::vector<uint8_t> run_vec(const std::string& instr, const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                             size_t out_bytes) {
  const size_t n = a.size();
  std::string body = fmt::format(R"(.core 0
  load dst=sram:0x0:uint8[1] a=hbm:0x0:uint8[1] shape=[{0}] signal=0
  load dst=sram:0x10000:uint8[1] a=hbm:0x10000:uint8[1] shape=[{1}] signal=1
  nop engine=vector wait=0
  {2} wait=1 signal=2
  store dst=hbm:0x20000:uint8[1] a=sram:0x20000:uint8[1] shape=[{3}] wait=2
)",
                                 n, std::max<size_t>(b.size(), 1), instr, out_bytes);
  auto p = asm_v1(body);
  sim::FunctionalSim s(v1(), p);
  put(s, 0, a);
  put(s, 0x10000, b.empty() ? std::vector<uint8_t>{0} : b);
  s.run();
  return get<uint8_t>(s, 0x20000, out_bytes);
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::vector<float> as_f32(const std::vector<uint8_t>& b) {
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), b.size());
  return v;
}

}  // namespace

// ------------------------------------------------------------------ DMA

TEST(Dma, StridedMultiDimensionalCopyAndTranspose) {
  // 3-D copy with a transposing destination: src [2][3][4] int16-sized (fp16) elements.
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:fp16[12,1,3] a=hbm:0x0:fp16[12,4,1] shape=[2,3,4] signal=0
  store dst=hbm:0x1000:fp16[1] a=sram:0x0:fp16[1] shape=[24] wait=0
)");
  sim::FunctionalSim s(v1(), p);
  std::vector<uint16_t> src(24);
  for (int i = 0; i < 24; ++i) src[i] = static_cast<uint16_t>(i);
  put(s, 0, src);
  auto st = s.run();
  auto out = get<uint16_t>(s, 0x1000, 24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) EXPECT_EQ(out[i * 12 + k * 3 + j], src[i * 12 + j * 4 + k]);
  EXPECT_EQ(st.bytes_loaded, 48u);
  EXPECT_EQ(st.bytes_stored, 48u);
}

TEST(Dma, TransposingFp32CopiesInBlocksGiveEveryElement) {
  // [3][53][37] fp32 transposed into [3][37][53] on load (the strided side is
  // the source) and back on store (the strided side is the destination),
  // sizes that are not multiples of the 16 x 16 copy blocks; then a
  // destination whose rows collide (stride 0): there the last write wins.
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:fp32[1961,53,1] a=hbm:0x0:fp32[1961,1,37] shape=[3,37,53] signal=0
  store dst=hbm:0x10000:fp32[1] a=sram:0x0:fp32[1] shape=[5883] wait=0 signal=1
  store dst=hbm:0x20000:fp32[1961,1,37] a=sram:0x0:fp32[1961,53,1] shape=[3,37,53] wait=1 signal=2
  load dst=sram:0x40000:fp32[0,1] a=hbm:0x0:fp32[1,37] shape=[37,53] wait=2 signal=3
  store dst=hbm:0x30000:fp32[1] a=sram:0x40000:fp32[1] shape=[53] wait=3
)");
  sim::FunctionalSim s(v1(), p);
  std::vector<float> src(3 * 53 * 37);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
  put(s, 0, src);
  s.run();
  const auto t = get<float>(s, 0x10000, src.size());
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 37; ++j)
      for (int k = 0; k < 53; ++k) ASSERT_EQ(t[(i * 37 + j) * 53 + k], src[(i * 53 + k) * 37 + j]) << i << " " << j << " " << k;
  EXPECT_EQ(get<float>(s, 0x20000, src.size()), src);
  const auto last = get<float>(s, 0x30000, 53);
  for (int k = 0; k < 53; ++k) EXPECT_EQ(last[k], src[36 + 37 * k]) << k;
}

TEST(Dma, BroadcastAndNegativeStrides) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:int32[4,1] a=hbm:0xC:int32[0,-1] shape=[2,4] signal=0
  store dst=hbm:0x100:int32[1] a=sram:0x0:int32[1] shape=[8] wait=0
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, std::vector<int32_t>{10, 11, 12, 13});
  s.run();
  EXPECT_EQ(get<int32_t>(s, 0x100, 8), (std::vector<int32_t>{13, 12, 11, 10, 13, 12, 11, 10}));
}

TEST(Dma, GatherAndScatterRows) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:int32[1] a=hbm:0x0:int32[1] shape=[3] signal=0
  load.gather dst=sram:0x100:fp32[2,1] a=hbm:0x1000:fp32[2,1] b=sram:0x0:int32[1] shape=[3,2] wait=0 signal=1
  store.scatter dst=hbm:0x2000:fp32[2,1] a=sram:0x100:fp32[2,1] b=sram:0x0:int32[1] shape=[3,2] wait=1
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, std::vector<int32_t>{4, 0, 2});
  put(s, 0x1000, std::vector<float>{0, 1, 10, 11, 20, 21, 30, 31, 40, 41});
  s.run();
  auto out = get<float>(s, 0x2000, 10);
  EXPECT_EQ(out, (std::vector<float>{0, 1, 0, 0, 20, 21, 0, 0, 40, 41}));
}

TEST(Dma, GatherIndexOutOfRangeIsReported) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:int32[1] a=hbm:0x0:int32[1] shape=[2] signal=0
  load.gather dst=sram:0x100:fp32[2,1] a=hbm:0x1000:fp32[2,1] b=sram:0x0:int32[1] shape=[2,2] wait=0
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, std::vector<int32_t>{1, -1000});
  try {
    s.run();
    FAIL() << "expected an error";
  } catch (const sim::SimError& e) {
    EXPECT_EQ(std::string(e.what()),
              "core 0 dma_in instruction #1 (load.gather): index -1000 (row 1) puts operand a outside hbm "
              "(size 0x2400000000)");
  }
}

// ------------------------------------------------------------------ bounds

TEST(Bounds, OutOfRangeAccessNamesCoreEngineInstructionAndAddress) {
  auto p = asm_v1(R"(.core 3
  nop engine=vector
  v.relu dst=sram:0xFFFFF0:fp32[1] a=sram:0x0:fp32[1] shape=[8]
)");
  EXPECT_EQ(run_error(p), "core 3 vector instruction #1 (v.relu): operand dst accesses bytes [0xfffff0, 0x1000010) "
                          "outside sram of core 3 (size 0x1000000)");
  p = asm_v1(".core 0\n  load dst=sram:0x0:int8[1] a=hbm:0x0:int8[-1] shape=[2]\n");
  EXPECT_EQ(run_error(p), "core 0 dma_in instruction #0 (load): operand a accesses bytes [-0x1, 0x1) outside hbm "
                          "(size 0x2400000000)");
  p = asm_v1(".core 1\n  store dst=hbm:0x0:int8[1] a=acc:0x1FFFFF:int8[1] shape=[2]\n");
  EXPECT_EQ(run_error(p), "core 1 dma_out instruction #0 (store): operand a accesses bytes [0x1fffff, 0x200001) "
                          "outside acc of core 1 (size 0x200000)");
  p = asm_v1(".core 0\n  load dst=sram:0x0:int8[1] a=sram@7:0xFFFFFF:int8[1] shape=[2]\n");
  EXPECT_EQ(run_error(p), "core 0 dma_in instruction #0 (load): operand a accesses bytes [0xffffff, 0x1000001) "
                          "outside sram of core 7 (size 0x1000000)");
}

// ------------------------------------------------------------------ sync

TEST(Sync, DeadlockNamesWhoWaitsOnWhat) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:int8[1] a=hbm:0x0:int8[1] shape=[4] wait=3
  v.relu dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[1] wait=5
)");
  EXPECT_EQ(run_error(p), "deadlock: no engine can make progress: core 0 dma_in #0 (load) waits on semaphore 3 "
                          "(count 0); core 0 vector #1 (v.relu) waits on semaphore 5 (count 0)");
}

TEST(Sync, BarrierWithAMissingCoreDeadlocks) {
  auto p = asm_v1(".core 0\n  barrier id=1\n.core 1\n  nop engine=vector\n");
  EXPECT_EQ(run_error(p), "deadlock: no engine can make progress: core 0 control #0 (barrier 1) waits for core 1 "
                          "(finished)");
  p = asm_v1(".core 0\n  barrier id=1\n.core 1\n  barrier id=2\n");
  EXPECT_EQ(run_error(p),
            "barrier mismatch: core 0 is at barrier 1 (instruction #0) but core 1 is at barrier 2 (instruction #0)");
  // A core with an empty stream takes no part in barriers.
  p = asm_v1(".core 0\n  barrier id=1\n.core 1\n");
  EXPECT_EQ(run_error(p), "no error");
}

TEST(Sync, FullQueueBlocksDispatchAndIsReported) {
  // The matrix queue (16 entries) fills with instructions waiting on a
  // semaphore that only a later, never-dispatched DMA would signal.
  std::string body = ".core 0\n";
  for (int i = 0; i < 17; ++i) body += "  nop engine=matrix wait=0\n";
  body += "  load dst=sram:0x0:int8[1] a=hbm:0x0:int8[1] shape=[1] signal=0\n";
  auto err = run_error(asm_v1(body));
  EXPECT_NE(err.find("core 0 matrix #0 (nop) waits on semaphore 0 (count 0)"), std::string::npos) << err;
  EXPECT_NE(err.find("core 0 control cannot dispatch #16 (nop): matrix queue full (16 entries)"), std::string::npos)
      << err;
}

TEST(Sync, SemaphoresOrderEnginesAndBarrierJoinsCores) {
  // Core 1 writes a value to HBM; core 0 reads it only after the barrier.
  auto p = asm_v1(R"(.core 0
  barrier id=0
  load dst=sram:0x0:int32[1] a=hbm:0x100:int32[1] shape=[1] signal=0
  v.add dst=sram:0x0:int32[1] a=sram:0x0:int32[1] b=imm:int32:5 shape=[1] wait=0 signal=1
  store dst=hbm:0x200:int32[1] a=sram:0x0:int32[1] shape=[1] wait=1
.core 1
  load dst=sram:0x0:int32[1] a=hbm:0x0:int32[1] shape=[1] signal=0
  store dst=hbm:0x100:int32[1] a=sram:0x0:int32[1] shape=[1] wait=0
  barrier id=0
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, std::vector<int32_t>{37});
  auto st = s.run();
  EXPECT_EQ(get<int32_t>(s, 0x200, 1)[0], 42);
  EXPECT_EQ(st.barriers, 1u);
}

TEST(Sync, HostCallRunsTheHandlerWhileAllCoresWait) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:int32[1] a=hbm:0x0:int32[1] shape=[1] signal=0
  store dst=hbm:0x10:int32[1] a=sram:0x0:int32[1] shape=[1] wait=0
  host.call id=3
  load dst=sram:0x0:int32[1] a=hbm:0x20:int32[1] shape=[1] signal=0
  store dst=hbm:0x30:int32[1] a=sram:0x0:int32[1] shape=[1] wait=0
.core 1
  host.call id=3
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, std::vector<int32_t>{21});
  int calls = 0;
  s.set_host_handler([&](int64_t id) {
    EXPECT_EQ(id, 3);
    ++calls;
    auto v = get<int32_t>(s, 0x10, 1);  // core 0's store has drained before the call
    put(s, 0x20, std::vector<int32_t>{v[0] * 2});
  });
  auto st = s.run();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(st.host_calls, 1u);
  EXPECT_EQ(get<int32_t>(s, 0x30, 1)[0], 42);
  sim::FunctionalSim s2(v1(), p);
  try {
    s2.run();
    FAIL();
  } catch (const sim::SimError& e) {
    EXPECT_STREQ(e.what(), "core 0 control instruction #2 (host.call): host op 3 needs a host handler");
  }
}

// ------------------------------------------------------------------ loading

TEST(Load, ProgramForAnotherChipIsRefused) {
  auto p = asm_v1(".core 0\n  nop engine=vector\n", "tpu-v1");
  auto err = run_error(p);
  EXPECT_NE(err.find("program was built for chip 'tpu-v1' (fingerprint 0x"), std::string::npos) << err;
  EXPECT_NE(err.find("but is run on chip 'seedchip-v1'"), std::string::npos) << err;
}

// Constant blocks are read where the program holds them until written or
// read across their edge: the program must see plain HBM either way, and
// the program's own bytes must stay as they were.
TEST(Load, ConstantBlocksBehaveAsHbm) {
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x0:uint8[1] a=hbm:0x101f80:uint8[1] shape=[256] signal=0
  store dst=hbm:0x300000:uint8[1] a=sram:0x0:uint8[1] shape=[256] wait=0 signal=1
  store dst=hbm:0x200010:uint8[1] a=sram:0x0:uint8[1] shape=[16] wait=1 signal=2
  load dst=sram:0x1000:uint8[1] a=hbm:0x200000:uint8[1] shape=[8192] wait=2 signal=3
  store dst=hbm:0x310000:uint8[1] a=sram:0x1000:uint8[1] shape=[8192] wait=3
  load dst=sram:0x4000:uint8[1] a=hbm:0x102100:uint8[1] shape=[64] signal=4
  store dst=hbm:0x320000:uint8[1] a=sram:0x4000:uint8[1] shape=[64] wait=4
)");
  std::vector<uint8_t> A(8192), B(8192), C(8192), small{1, 2, 3};
  for (size_t i = 0; i < 8192; ++i) A[i] = static_cast<uint8_t>(i % 251), B[i] = static_cast<uint8_t>(i * 7 % 253),
                                    C[i] = static_cast<uint8_t>(i * 3 % 241);
  p.data = {{0x200000, C}, {0x100000, A}, {0x102000, B}, {0x400000, small}};
  const isa::Program before = p;
  sim::FunctionalSim s(v1(), p);
  s.run();
  std::vector<uint8_t> cross(256);  // 0x101f80 .. 0x102080: the last 128 bytes of A, the first 128 of B
  for (size_t i = 0; i < 128; ++i) cross[i] = A[8192 - 128 + i], cross[128 + i] = B[i];
  EXPECT_EQ(get<uint8_t>(s, 0x300000, 256), cross);
  std::vector<uint8_t> c2 = C;
  std::copy(cross.begin(), cross.begin() + 16, c2.begin() + 16);
  EXPECT_EQ(get<uint8_t>(s, 0x310000, 8192), c2);
  EXPECT_EQ(get<uint8_t>(s, 0x200000, 8192), c2);
  EXPECT_EQ(get<uint8_t>(s, 0x320000, 64), std::vector<uint8_t>(B.begin() + 0x100, B.begin() + 0x140));
  EXPECT_EQ(get<uint8_t>(s, 0x100000, 8192), A);
  EXPECT_EQ(get<uint8_t>(s, 0x400000, 3), small);
  s.write_hbm(0x102000, std::vector<uint8_t>{9, 9});
  EXPECT_EQ(get<uint8_t>(s, 0x102000, 3), (std::vector<uint8_t>{9, 9, B[2]}));
  EXPECT_EQ(p, before);  // the program's constants are untouched
  // overlapping blocks: the later one wins, as when each is written in turn
  p.data = {{0x100000, A}, {0x100100, std::vector<uint8_t>(8192, 5)}};
  sim::FunctionalSim o(v1(), p);
  EXPECT_EQ(get<uint8_t>(o, 0x1000ff, 2), (std::vector<uint8_t>{A[0xff], 5}));
}

TEST(Load, ChipLimitsAreChecked) {
  auto tpu = arch::find_chip("tpu-v1");
  auto p = asm_v1(".core 0\n  mm.ldw a=sram:0x0:bf16[16,1] shape=[16,16]\n", "tpu-v1");
  EXPECT_EQ(run_error(p, tpu), "core 0 matrix instruction #0 (mm.ldw): the matrix engine of chip 'tpu-v1' does not "
                               "support bf16");
  p = asm_v1(".core 0\n  mm.ldw a=sram:0x0:int8[300,1] shape=[300,16]\n");
  EXPECT_EQ(run_error(p), "core 0 matrix instruction #0 (mm.ldw): weight tile 300 x 16 exceeds the 256 x 256 array");
  p = asm_v1(".core 0\n  load dst=sram:0x0:int8[1] a=sram@9:0x0:int8[1] shape=[1]\n");
  EXPECT_EQ(run_error(p), "core 0 dma_in instruction #0 (load): operand names core 9 but the chip has 8 cores");
  p = asm_v1(".core 2\n  load dst=sram:0x0:int8[1] a=sram@2:0x10:int8[1] shape=[1]\n");
  EXPECT_EQ(run_error(p), "core 2 dma_in instruction #0 (load): operand names its own core 2; write it without @2");
  p = asm_v1(".tensor big input fp32 [100000000000] @0x0\n.core 0\n  nop engine=vector\n");
  EXPECT_EQ(run_error(p), "tensor 'big' at 0x0 (400000000000 bytes) lies outside HBM (154618822656 bytes)");
}

// ------------------------------------------------------------------ matrix engine

namespace {

struct MmCase {
  DType at, wt, acc;
};

// Runs one ldw + run with random data of the given dtypes; compares with a
// reference that follows docs/isa.md's accumulation order literally.
void check_matmul(DType at, DType wt, uint32_t m, uint32_t k, uint32_t n, bool accumulate) {
  const DType acc = dtype_is_int(at) ? DType::int32 : DType::fp32;
  std::mt19937 g(m * 131 + k * 7 + n + static_cast<int>(at) * 1000);
  auto bytes_for = [](DType t, size_t count) { return (count * dtype_bits(t) + 7) / 8; };
  std::vector<uint8_t> A(bytes_for(at, m * k)), W(bytes_for(wt, k * n)), C0(m * n * 4);
  auto fill = [&](std::vector<uint8_t>& buf, DType t, size_t count) {
    for (size_t i = 0; i < count; ++i) {
      float v = static_cast<float>(static_cast<int>(g() % 2001) - 1000) / 97.0f;
      if (dtype_is_int(t)) num::store_i64(t, buf.data(), static_cast<int64_t>(i), static_cast<int64_t>(g() % 256) - 128);
      else num::store_f32(t, buf.data(), static_cast<int64_t>(i), v);
    }
  };
  fill(A, at, m * k);
  fill(W, wt, k * n);
  fill(C0, acc, m * n);
  auto p = asm_v1(fmt::format(R"(.core 0
  load dst=sram:0x0:uint8[1] a=hbm:0x0:uint8[1] shape=[{0}] signal=0
  load dst=sram:0x100000:uint8[1] a=hbm:0x100000:uint8[1] shape=[{1}] signal=1
  load dst=acc:0x0:uint8[1] a=hbm:0x200000:uint8[1] shape=[{2}] signal=2
  mm.ldw a=sram:0x100000:{3}[{6},1] shape=[{7},{6}] wait=1
  nop engine=matrix wait=2
  mm.run dst=acc:0x0:{5}[{6},1] a=sram:0x0:{4}[{7},1] shape=[{8},{7},{6}] acc={9} wait=0 signal=3
  store dst=hbm:0x300000:uint8[1] a=acc:0x0:uint8[1] shape=[{2}] wait=3
)",
                              A.size(), W.size(), C0.size(), dtype_name(wt), dtype_name(at), dtype_name(acc), n, k, m,
                              accumulate ? 1 : 0));
  sim::FunctionalSim s(v1(), p);
  put(s, 0, A);
  put(s, 0x100000, W);
  put(s, 0x200000, C0);
  s.run();
  auto C = get<uint8_t>(s, 0x300000, C0.size());
  for (uint32_t i = 0; i < m; ++i)
    for (uint32_t j = 0; j < n; ++j) {
      const int64_t o = i * n + j;
      if (acc == DType::int32) {
        int64_t sum = 0;
        for (uint32_t kk = 0; kk < k; ++kk)
          sum += num::load_i64(at, A.data(), i * k + kk) * num::load_i64(wt, W.data(), kk * n + j);
        if (accumulate) sum += num::load_i64(DType::int32, C0.data(), o);
        ASSERT_EQ(num::load_i64(DType::int32, C.data(), o), static_cast<int32_t>(sum)) << i << "," << j;
      } else {
        float psum = 0.0f;
        for (uint32_t kk = 0; kk < k; ++kk)
          psum = std::fma(num::load_f32(at, A.data(), i * k + kk), num::load_f32(wt, W.data(), kk * n + j), psum);
        float want = accumulate ? num::load_f32(DType::fp32, C0.data(), o) + psum : psum;
        float got = num::load_f32(DType::fp32, C.data(), o);
        ASSERT_EQ(std::bit_cast<uint32_t>(got), std::bit_cast<uint32_t>(want))
            << dtype_name(at) << " " << i << "," << j << " got " << got << " want " << want;
      }
    }
}

}  // namespace

TEST(Matrix, Int8AndUint8AndInt4AreExact) {
  check_matmul(DType::int8, DType::int8, 33, 256, 200, false);
  check_matmul(DType::uint8, DType::int8, 5, 100, 256, true);
  check_matmul(DType::int8, DType::uint8, 7, 64, 9, false);
  check_matmul(DType::int8, DType::int4, 17, 255, 31, true);
}

TEST(Matrix, FloatPathsFollowTheDocumentedAccumulationOrder) {
  check_matmul(DType::fp32, DType::fp32, 9, 256, 40, false);
  check_matmul(DType::bf16, DType::bf16, 12, 200, 256, true);
  check_matmul(DType::fp16, DType::fp16, 3, 77, 50, false);
  check_matmul(DType::fp8e4m3, DType::fp8e5m2, 8, 256, 64, true);
  check_matmul(DType::fp8e5m2, DType::fp8e5m2, 4, 31, 5, false);
}

// Every host variant of the float kernel gives the scalar chain's bits, over
// shapes that leave partial row and column blocks, and the engine's results
// (through mm.run) follow the same order.
TEST(Matrix, HostKernelVariantsGiveTheSameBits) {
  std::mt19937 g(7);
  for (uint32_t m : {1u, 5u, 7u, 8u, 9u, 17u}) {
    for (uint32_t n : {1u, 15u, 16u, 17u, 31u, 33u, 100u}) {
      for (uint32_t k : {1u, 3u, 130u}) {
        std::vector<float> a(m * k), w(k * n);
        for (auto& v : a) v = static_cast<float>(static_cast<int>(g() % 20001) - 10000) / 977.0f;
        for (auto& v : w) v = static_cast<float>(static_cast<int>(g() % 20001) - 10000) / 1013.0f;
        std::vector<float> want(m * n);
        for (uint32_t i = 0; i < m; ++i)
          for (uint32_t j = 0; j < n; ++j) {
            float p = 0.0f;
            for (uint32_t kk = 0; kk < k; ++kk) p = std::fma(a[i * k + kk], w[kk * n + j], p);
            want[i * n + j] = p;
          }
        for (auto isa : sim::detail::available_mm_isas()) {
          std::vector<float> got(m * n + 1, 12345.0f);  // one guard element past the end
          sim::detail::mm_f32(isa, a.data(), w.data(), got.data(), m, k, n);
          for (uint32_t i = 0; i < m * n; ++i)
            ASSERT_EQ(std::bit_cast<uint32_t>(got[i]), std::bit_cast<uint32_t>(want[i]))
                << "variant " << static_cast<int>(isa) << " m=" << m << " k=" << k << " n=" << n << " at " << i;
          ASSERT_EQ(got[m * n], 12345.0f) << "wrote past the end";
          // strided rows (lda = k + 3, ldo = n + 2) and out = partial sum + old
          const uint32_t lda = k + 3, ldo = n + 2;
          std::vector<float> as(m * lda, 777.0f), out(m * ldo, 0.0f);
          for (uint32_t i = 0; i < m; ++i)
            for (uint32_t kk = 0; kk < k; ++kk) as[i * lda + kk] = a[i * k + kk];
          for (uint32_t i = 0; i < m * ldo; ++i) out[i] = static_cast<float>(i % 13) - 6.5f;
          const std::vector<float> old = out;
          sim::detail::mm_f32(isa, as.data(), lda, w.data(), out.data(), ldo, m, k, n, true);
          for (uint32_t i = 0; i < m; ++i)
            for (uint32_t j = 0; j < ldo; ++j) {
              const float e = j < n ? want[i * n + j] + old[i * ldo + j] : old[i * ldo + j];
              ASSERT_EQ(std::bit_cast<uint32_t>(out[i * ldo + j]), std::bit_cast<uint32_t>(e))
                  << "strided, adding: variant " << static_cast<int>(isa) << " m=" << m << " k=" << k << " n=" << n;
            }
        }
      }
    }
  }
  check_matmul(DType::fp32, DType::fp32, 17, 130, 33, true);
  check_matmul(DType::bf16, DType::bf16, 7, 3, 17, false);
}

TEST(Matrix, StateErrors) {
  auto p = asm_v1(".core 0\n  mm.run dst=acc:0x0:fp32[4,1] a=sram:0x0:bf16[4,1] shape=[2,4,4]\n");
  EXPECT_EQ(run_error(p), "core 0 matrix instruction #0 (mm.run): no weights loaded (mm.ldw must come first)");
  p = asm_v1(".core 0\n  mm.ldw a=sram:0x0:bf16[4,1] shape=[4,4]\n"
             "  mm.run dst=acc:0x0:fp32[4,1] a=sram:0x0:bf16[8,1] shape=[2,8,4]\n");
  EXPECT_EQ(run_error(p), "core 0 matrix instruction #1 (mm.run): shape K=8 N=4 does not match the loaded weights (4 x 4)");
  p = asm_v1(".core 0\n  mm.ldw a=sram:0x0:bf16[4,1] shape=[4,4]\n"
             "  mm.run dst=acc:0x0:fp32[4,1] a=sram:0x0:fp16[4,1] shape=[2,4,4]\n");
  EXPECT_EQ(run_error(p), "core 0 matrix instruction #1 (mm.run): input dtype fp16 cannot multiply weights of dtype bf16");
  p = asm_v1(".core 0\n  mm.ldw a=sram:0x0:int8[4,1] shape=[4,4]\n"
             "  mm.run dst=acc:0x0:fp32[4,1] a=sram:0x0:int8[4,1] shape=[2,4,4]\n");
  EXPECT_EQ(run_error(p), "core 0 matrix instruction #1 (mm.run): dst must be int32 for int8 inputs");
}

// ------------------------------------------------------------------ vector engine

TEST(Vector, UnaryOpsMatchTheirDefinitions) {
  std::vector<float> x = {-3.5f, -1.0f, -0.25f, -0.0f, 0.0f, 0.5f, 1.5f, 2.5f, 7.0f, 88.0f, -90.0f, 1e-3f};
  struct U {
    const char* op;
    double (*f)(double);
  };
  const U ops[] = {
      {"v.exp", [](double v) { return std::exp(v); }},    {"v.log", [](double v) { return std::log(v); }},
      {"v.tanh", [](double v) { return std::tanh(v); }},  {"v.erf", [](double v) { return std::erf(v); }},
      {"v.sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"v.rsqrt", [](double v) { return 1 / std::sqrt(v); }},
      {"v.sqrt", [](double v) { return std::sqrt(v); }},  {"v.neg", [](double v) { return -v; }},
      {"v.abs", [](double v) { return std::fabs(v); }},   {"v.recip", [](double v) { return 1 / v; }},
      {"v.relu", [](double v) { return v > 0 ? v : 0.0; }}, {"v.floor", [](double v) { return std::floor(v); }},
      {"v.ceil", [](double v) { return std::ceil(v); }},  {"v.round", [](double v) { return std::nearbyint(v); }},
      {"v.trunc", [](double v) { return std::trunc(v); }}, {"v.sin", [](double v) { return std::sin(v); }},
      {"v.cos", [](double v) { return std::cos(v); }},    {"v.not", [](double v) { return v == 0 ? 1.0 : 0.0; }},
      {"v.sign", [](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : v; }},
  };
  const size_t n = x.size();
  for (const auto& u : ops) {
    auto out = as_f32(run_vec(fmt::format("{} dst=sram:0x20000:fp32[1] a=sram:0x0:fp32[1] shape=[{}]", u.op, n),
                              f32_bytes(x), {}, n * 4));
    for (size_t i = 0; i < n; ++i) {
      float want = static_cast<float>(u.f(x[i]));
      if (std::isnan(want)) EXPECT_TRUE(std::isnan(out[i])) << u.op << " " << x[i];
      else EXPECT_EQ(out[i], want) << u.op << " " << x[i];
    }
  }
}

TEST(Vector, BinaryOpsBroadcastImmediatesAndConvert) {
  std::vector<float> a = {1.5f, -2.0f, 3.0f, 0.0f, 7.0f, -7.5f};
  std::vector<float> b = {0.5f, 4.0f, 3.0f, -1.0f, 2.0f, 2.0f};
  auto run2 = [&](const std::string& op) {
    return as_f32(run_vec(fmt::format("{} dst=sram:0x20000:fp32[1] a=sram:0x0:fp32[1] b=sram:0x10000:fp32[1] shape=[6]", op),
                          f32_bytes(a), f32_bytes(b), 24));
  };
  auto add = run2("v.add"), div = run2("v.div"), mx = run2("v.max"), lt = run2("v.lt"), pw = run2("v.pow"),
       md = run2("v.mod");
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(add[i], a[i] + b[i]);
    EXPECT_EQ(div[i], a[i] / b[i]);
    EXPECT_EQ(mx[i], std::max(a[i], b[i]));
    EXPECT_EQ(lt[i], a[i] < b[i] ? 1.0f : 0.0f);
    EXPECT_EQ(pw[i], static_cast<float>(std::pow(static_cast<double>(a[i]), static_cast<double>(b[i]))));
    EXPECT_EQ(md[i], std::fmod(a[i], b[i]));
  }
  // immediate + conversion to bf16 with rounding to nearest even
  auto out = run_vec("v.mul dst=sram:0x20000:bf16[1] a=sram:0x0:fp32[1] b=imm:fp32:3 shape=[6]", f32_bytes(a), {}, 12);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(num::load_f32(DType::bf16, out.data(), i), num::bf16_to_fp32(num::fp32_to_bf16(a[i] * 3)));
  // NaN propagates through max
  auto nan = as_f32(run_vec("v.max dst=sram:0x20000:fp32[1] a=sram:0x0:fp32[1] b=imm:fp32:nan shape=[6]", f32_bytes(a), {}, 24));
  for (float v : nan) EXPECT_TRUE(std::isnan(v));
}

// The fp32 rows run vectorised; operands that overlap must still behave as
// the element-by-element definition in order (docs/isa.md), and operands may
// sit at any byte address.
TEST(Vector, Fp32RowsKeepElementOrderWhenOperandsOverlap) {
  auto run_at = [&](const std::string& instr, const std::vector<float>& a, size_t out_floats) {
    auto p = asm_v1(fmt::format(R"(.core 0
  load dst=sram:0x0:uint8[1] a=hbm:0x0:uint8[1] shape=[{0}] signal=0
  {1} wait=0 signal=1
  store dst=hbm:0x20000:uint8[1] a=sram:0x0:uint8[1] shape=[{2}] wait=1
)",
                                a.size() * 4, instr, out_floats * 4));
    sim::FunctionalSim s(v1(), p);
    put(s, 0, f32_bytes(a));
    s.run();
    return as_f32(get<uint8_t>(s, 0x20000, out_floats * 4));
  };
  std::vector<float> a(40);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i) * 1.25f - 7.0f;
  // dst one element past a: in order, every element copies the one just written
  auto smear = run_at("v.copy dst=sram:0x4:fp32[1] a=sram:0x0:fp32[1] shape=[32]", a, 33);
  for (size_t i = 0; i < 33; ++i) EXPECT_EQ(smear[i], a[0]) << i;
  // dst one element before a: each reads its neighbour before it is overwritten
  auto shift = run_at("v.add dst=sram:0x0:fp32[1] a=sram:0x4:fp32[1] b=imm:fp32:1 shape=[32]", a, 33);
  for (size_t i = 0; i < 32; ++i) EXPECT_EQ(shift[i], a[i + 1] + 1.0f) << i;
  EXPECT_EQ(shift[32], a[32]);
  // in place, and rows of a 2-D shape against a broadcast operand
  auto relu = run_at("v.relu dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[40]", a, 40);
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(relu[i], std::max(a[i], 0.0f)) << i;
  auto rows = run_at("v.mul dst=sram:0x0:fp32[20,1] a=sram:0x0:fp32[20,1] b=sram:0x0:fp32[0,1] shape=[2,20]", a, 40);
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(rows[i], a[i] * a[i]) << i;  // row 0 squares itself in place
  for (size_t i = 0; i < 20; ++i) EXPECT_EQ(rows[20 + i], a[20 + i] * rows[i]) << i;  // row 1 reads row 0's results
  // an operand at an odd byte address (the row is copied whole first so a is intact)
  auto p = asm_v1(R"(.core 0
  load dst=sram:0x1:uint8[1] a=hbm:0x0:uint8[1] shape=[160] signal=0
  v.sub dst=sram:0x1001:fp32[1] a=sram:0x1:fp32[1] b=imm:fp32:0.5 shape=[40] wait=0 signal=1
  store dst=hbm:0x20000:uint8[1] a=sram:0x1001:uint8[1] shape=[160] wait=1
)");
  sim::FunctionalSim s(v1(), p);
  put(s, 0, f32_bytes(a));
  s.run();
  auto odd = as_f32(get<uint8_t>(s, 0x20000, 160));
  for (size_t i = 0; i < 40; ++i) EXPECT_EQ(odd[i], a[i] - 0.5f) << i;
}

TEST(Vector, IntegerPathIsExactAndSaturatesOnStore) {
  std::vector<uint8_t> a = {100, 200, 7, 0x80}, b = {100, 100, 0, 0x80};  // int8: 100, -56, 7, -128
  auto add = run_vec("v.add dst=sram:0x20000:int8[1] a=sram:0x0:int8[1] b=sram:0x10000:int8[1] shape=[4]", a, b, 4);
  EXPECT_EQ(std::vector<int>(add.begin(), add.end()), (std::vector<int>{127, 44, 7, 128}));  // 200->127, -128+-128->-128
  auto div = run_vec("v.div dst=sram:0x20000:int8[1] a=sram:0x0:int8[1] b=imm:int32:-3 shape=[4]", a, {}, 4);
  EXPECT_EQ(static_cast<int8_t>(div[1]), 18);   // -56 / -3 toward zero
  EXPECT_EQ(static_cast<int8_t>(div[3]), 42);   // -128 / -3
  auto mod = run_vec("v.mod dst=sram:0x20000:int8[1] a=sram:0x0:int8[1] b=imm:int32:-3 shape=[4]", a, {}, 4);
  EXPECT_EQ(static_cast<int8_t>(mod[0]), -2);   // Python: 100 % -3 == -2
  auto divz = run_vec("v.div dst=sram:0x20000:int8[1] a=sram:0x0:int8[1] b=imm:int32:0 shape=[4]", a, {}, 4);
  EXPECT_EQ(divz, (std::vector<uint8_t>{0, 0, 0, 0}));
  // int8 -> uint8 copy saturates
  auto cp = run_vec("v.copy dst=sram:0x20000:uint8[1] a=sram:0x0:int8[1] shape=[4]", a, {}, 4);
  EXPECT_EQ(cp, (std::vector<uint8_t>{100, 0, 7, 0}));
}

TEST(Vector, QuantizeAndDequantize) {
  std::vector<float> x = {0.5f, 1.5f, 2.5f, -2.5f, 1000.0f, -1000.0f, NAN, 0.26f};
  auto q = run_vec("v.quant dst=sram:0x20000:int8[1] a=sram:0x0:fp32[1] b=imm:fp32:0.5 shape=[8] zp=1", f32_bytes(x), {}, 8);
  // x/0.5 = 1, 3, 5, -5, 2000, -2000, nan, 0.52 -> round even, +1, saturate
  EXPECT_EQ(std::vector<int>(q.begin(), q.end()), (std::vector<int>{2, 4, 6, 0xFC, 127, 0x80, 1, 2}));
  // per-channel scales broadcast along rows
  std::vector<float> sc = {0.5f, 2.0f};
  auto q2 = run_vec("v.quant dst=sram:0x20000:uint8[2,1] a=sram:0x0:fp32[2,1] b=sram:0x10000:fp32[0,1] shape=[4,2] zp=128",
                    f32_bytes(x), f32_bytes(sc), 8);
  EXPECT_EQ(q2[0], 129);  // 0.5/0.5 + 128
  EXPECT_EQ(q2[1], 129);  // 1.5/2 = 0.75 -> 1
  EXPECT_EQ(q2[3], 127);  // -2.5/2 = -1.25 -> -1
  std::vector<uint8_t> qi = {0, 1, 2, 255};
  auto dq = as_f32(run_vec("v.dequant dst=sram:0x20000:fp32[1] a=sram:0x0:uint8[1] b=imm:fp32:0.25 shape=[4] zp=2", qi, {}, 16));
  EXPECT_EQ(dq, (std::vector<float>{-0.5f, -0.25f, 0.0f, 63.25f}));
  // fp8 quantisation: saturating by default, NaN when sat=0
  std::vector<float> big = {500.0f, -1e6f, 3.0f, 0.1f};
  auto f8 = run_vec("v.quant dst=sram:0x20000:fp8e4m3[1] a=sram:0x0:fp32[1] b=imm:fp32:1 shape=[4]", f32_bytes(big), {}, 4);
  EXPECT_EQ(f8[0], 0x7E);
  EXPECT_EQ(f8[1], 0xFE);
  auto f8n = run_vec("v.copy dst=sram:0x20000:fp8e4m3[1] a=sram:0x0:fp32[1] shape=[4] sat=0", f32_bytes(big), {}, 4);
  EXPECT_EQ(f8n[0], 0x7F);
  EXPECT_EQ(f8n[2], num::fp32_to_e4m3(3.0f));
}

TEST(Vector, ReductionsScansArgmaxAndSelect) {
  std::vector<float> x = {1, 5, -2, 5, 0.5f, 3, -1, -4, 2, 8, 8, 1};  // 3 rows of 4
  auto run_red = [&](const char* op, const char* dt) {
    return run_vec(fmt::format("{} dst=sram:0x20000:{}[1,1] a=sram:0x0:fp32[4,1] shape=[3,4]", op, dt), f32_bytes(x), {},
                   12);
  };
  EXPECT_EQ(as_f32(run_red("v.rsum", "fp32")), (std::vector<float>{9, -1.5f, 19}));
  EXPECT_EQ(as_f32(run_red("v.rmax", "fp32")), (std::vector<float>{5, 3, 8}));
  EXPECT_EQ(as_f32(run_red("v.rmin", "fp32")), (std::vector<float>{-2, -4, 1}));
  EXPECT_EQ(as_f32(run_red("v.rprod", "fp32")), (std::vector<float>{-50, 6, 128}));
  EXPECT_EQ(as_f32(run_red("v.rsumsq", "fp32")), (std::vector<float>{55, 26.25f, 133}));
  auto am = run_red("v.argmax", "int32");
  EXPECT_EQ(num::load_i64(DType::int32, am.data(), 0), 1);  // first of the tied maxima
  EXPECT_EQ(num::load_i64(DType::int32, am.data(), 2), 1);
  auto amin = run_red("v.argmin", "int32");
  EXPECT_EQ(num::load_i64(DType::int32, amin.data(), 1), 3);
  auto cs = as_f32(run_vec("v.cumsum dst=sram:0x20000:fp32[4,1] a=sram:0x0:fp32[4,1] shape=[3,4]", f32_bytes(x), {}, 48));
  EXPECT_EQ(cs[3], 9.0f);
  EXPECT_EQ(cs[6], 2.5f);
  // select: dst = a != 0 ? b : dst (dst pre-filled by the first instruction)
  std::vector<float> cond = {1, 0, 0, 1};
  auto sel = as_f32(run_vec("v.copy dst=sram:0x20000:fp32[1] a=imm:fp32:-9 shape=[4]\n"
                            "  v.select dst=sram:0x20000:fp32[1] a=sram:0x0:fp32[1] b=sram:0x10000:fp32[1] shape=[4]",
                            f32_bytes(cond), f32_bytes({10, 20, 30, 40}), 16));
  EXPECT_EQ(sel, (std::vector<float>{10, -9, -9, 40}));
  // an fp32 condition selecting int32 data keeps every bit (no trip through fp32)
  std::vector<int32_t> big = {16777217, -2147483647, 5, 7};
  std::vector<uint8_t> bigb(16);
  std::memcpy(bigb.data(), big.data(), 16);
  auto seli = run_vec("v.copy dst=sram:0x20000:int32[1] a=imm:int32:0 shape=[4]\n"
                      "  v.select dst=sram:0x20000:int32[1] a=sram:0x0:fp32[1] b=sram:0x10000:int32[1] shape=[4]",
                      f32_bytes(cond), bigb, 16);
  EXPECT_EQ(num::load_i64(DType::int32, seli.data(), 0), 16777217);
  EXPECT_EQ(num::load_i64(DType::int32, seli.data(), 1), 0);
  EXPECT_EQ(num::load_i64(DType::int32, seli.data(), 3), 7);
}

TEST(Determinism, SameProgramSameBits) {
  std::vector<float> x(4096);
  std::mt19937 g(5);
  for (auto& v : x) v = static_cast<float>(g() % 10000) / 777.0f - 6.0f;
  auto r1 = run_vec("v.exp dst=sram:0x20000:bf16[1] a=sram:0x0:fp32[1] shape=[4096]", f32_bytes(x), {}, 8192);
  auto r2 = run_vec("v.exp dst=sram:0x20000:bf16[1] a=sram:0x0:fp32[1] shape=[4096]", f32_bytes(x), {}, 8192);
  EXPECT_EQ(r1, r2);
}
