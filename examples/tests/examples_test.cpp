// Every example assembles, round-trips through the binary form and the
// disassembler, and computes what its plain C++ reference computes.
#include <gtest/gtest.h>

#include <cmath>

#include "seedchip/arch/chip.h"
#include "seedchip/examples/examples.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/sim/functional.h"

using namespace seedchip;

namespace {

const arch::Chip& v1() {
  static const arch::Chip c = arch::find_chip("seedchip-v1");
  return c;
}

isa::Program load(const char* name) { return isa::assemble(std::string(examples::get(name).text), name); }

template <typename T>
void put(sim::FunctionalSim& s, const isa::Program& p, const char* sym, const std::vector<T>& v) {
  ASSERT_EQ(p.find_symbol(sym)->bytes(), v.size() * sizeof(T)) << sym;
  s.write_hbm(p.find_symbol(sym)->addr, {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)});
}

template <typename T>
std::vector<T> get(const sim::FunctionalSim& s, const isa::Program& p, const char* sym) {
  std::vector<T> v(p.find_symbol(sym)->bytes() / sizeof(T));
  s.read_hbm(p.find_symbol(sym)->addr, {reinterpret_cast<uint8_t*>(v.data()), v.size() * sizeof(T)});
  return v;
}

}  // namespace

TEST(Examples, AllRoundTripThroughBinaryAndDisassembly) {
  ASSERT_GE(examples::all().size(), 3u);
  for (const auto& e : examples::all()) {
    auto p = isa::assemble(std::string(e.text), std::string(e.name));
    auto bytes = isa::serialize(p);
    auto q = isa::deserialize(bytes, "mem");
    EXPECT_EQ(q, p) << e.name;
    auto r = isa::assemble(isa::disassemble(q), "disasm");
    EXPECT_EQ(isa::serialize(r), bytes) << e.name;
  }
}

TEST(Examples, GemmBiasReluMatchesReferenceBitForBit) {
  for (const char* chip : {"seedchip-v1", "tpu-v1"}) {
    std::string text(examples::get("gemm_bias_relu").text);
    text.replace(text.find(".chip seedchip-v1"), 17, std::string(".chip ") + chip);
    auto p = isa::assemble(text, "gemm_bias_relu.s");
    constexpr int M = 128, K = 512, N = 512;
    auto a = examples::random_int8(M * K, 11), b = examples::random_int8(K * N, 12);
    auto bias = examples::random_int32(N, 13, -100000, 100000);
    sim::FunctionalSim s(arch::find_chip(chip), p);
    put(s, p, "A", a);
    put(s, p, "B", b);
    put(s, p, "bias", bias);
    auto st = s.run();
    EXPECT_EQ(get<int8_t>(s, p, "C"), examples::gemm_bias_relu_ref(a, b, bias, M, K, N, 1024.0f)) << chip;
    EXPECT_EQ(st.macs, static_cast<uint64_t>(M) * K * N);
  }
}

TEST(Examples, SoftmaxIsBitExactToTheIsaReferenceAndWithinRoundingOfTheTruth) {
  auto p = load("softmax");
  constexpr int R = 64, C = 1000;
  auto x = examples::random_f32(R * C, 21, -20.0f, 20.0f);
  sim::FunctionalSim s(v1(), p);
  put(s, p, "X", x);
  s.run();
  auto y = get<float>(s, p, "Y");
  auto isa_ref = examples::softmax_isa_ref(x, R, C);
  auto exact = examples::softmax_exact(x, R, C);
  // Error bound from docs/isa.md: sequential fp32 sum of C terms plus a few
  // single-rounding ops: |y - exact| <= (C + 8) * 2^-24 * exact, relative.
  const double bound = (C + 8) * std::ldexp(1.0, -24);
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_EQ(y[i], isa_ref[i]) << i;
    if (exact[i] > 1e-30) worst = std::max(worst, std::fabs(y[i] - exact[i]) / exact[i]);
  }
  EXPECT_LE(worst, bound);
  EXPECT_GT(worst, 0.0);  // fp32 really rounds: the comparison is not vacuous
}

TEST(Examples, TwoCoreSplitKWithBarrierMatchesReference) {
  auto p = load("two_core_splitk");
  auto x = examples::random_int8(16 * 512, 31), w = examples::random_int8(512 * 128, 32);
  sim::FunctionalSim s(v1(), p);
  put(s, p, "X", x);
  put(s, p, "W", w);
  auto st = s.run();
  EXPECT_EQ(get<int32_t>(s, p, "Y"), examples::matmul_relu_ref(x, w, 16, 512, 128));
  EXPECT_EQ(st.barriers, 1u);
}
