// Compiler tests: IR in -> chip program -> functional simulation, compared
// with the host reference evaluator (hostops) op by op.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"
#include "seedchip/hostops/hostops.h"
#include "seedchip/numerics/convert.h"
#include "seedchip/runtime/model.h"
#include "seedchip/sim/timing.h"

using namespace seedchip;

namespace {

const arch::Chip& v1() {
  static const arch::Chip c = arch::find_chip("seedchip-v1");
  return c;
}

ir::HostTensor rnd(ir::ElemType t, std::vector<int64_t> s, uint32_t seed, double lo = -2, double hi = 2) {
  ir::HostTensor h(t, std::move(s));
  std::mt19937 g(seed);
  for (int64_t i = 0; i < h.elements(); ++i) {
    double u = static_cast<double>(g() >> 8) / 16777216.0;
    if (ir::elem_is_float(t)) h.set(i, lo + (hi - lo) * u);
    else h.set_int(i, static_cast<int64_t>(lo + (hi - lo) * u));
  }
  return h;
}

// Reference: evaluate the graph node by node on the host.
std::vector<ir::HostTensor> reference(const ir::Graph& g, const std::vector<ir::HostTensor>& inputs) {
  const auto vals = hostops::eval_graph(g, inputs);
  std::vector<ir::HostTensor> r;
  for (int o : g.outputs) r.push_back(*vals[o]);
  return r;
}

void check(const std::string& text, uint32_t seed = 1, double rtol = 1e-5, double atol = 1e-6, int cores = 0) {
  ir::Graph g = ir::parse(text, "test.ir");
  std::vector<ir::HostTensor> ins;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const auto& v = g.values[g.inputs[i]];
    ins.push_back(rnd(v.type, v.shape, seed + static_cast<uint32_t>(i)));
  }
  compiler::CompileOptions opt;
  opt.cores = cores;
  auto m = compiler::compile(g, v1(), opt);
  auto got = runtime::run_model(m, v1(), ins);
  auto want = reference(g, ins);
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].shape, want[k].shape);
    for (int64_t i = 0; i < got[k].elements(); ++i) {
      const double a = got[k].get(i), b = want[k].get(i);
      if (std::isnan(b)) {
        EXPECT_TRUE(std::isnan(a)) << "output " << k << " element " << i;
        continue;
      }
      ASSERT_LE(std::fabs(a - b), atol + rtol * std::fabs(b)) << "output " << k << " element " << i << ": got " << a
                                                              << " want " << b << "\n" << text;
    }
  }
}

}  // namespace

TEST(Compiler, ElementwiseWithBroadcastAndActivations) {
  check(R"(graph "g" {
  input %x : f32[2,3,40]
  input %y : f32[3,1]
  %a : f32[2,3,40] = Add(%x, %y) name="add" opset=14
  %b : f32[2,3,40] = Sigmoid(%a) name="sig" opset=13
  %c : f32[2,3,40] = LeakyRelu(%b) {alpha=0.1} name="lr" opset=16
  %d : f32[2,3,40] = Mul(%c, %x) name="mul" opset=14
  output %d
})");
}

TEST(Compiler, LayoutOps) {
  check(R"(graph "g" {
  input %x : f32[2,3,5]
  const %starts : i64[1] = [1]
  const %ends : i64[1] = [5]
  const %axes : i64[1] = [2]
  const %steps : i64[1] = [2]
  %t : f32[5,3,2] = Transpose(%x) {perm=ints[2,1,0]} name="tr" opset=13
  %s : f32[2,3,2] = Slice(%x, %starts, %ends, %axes, %steps) name="sl" opset=13
  %c : f32[2,3,7] = Concat(%x, %s) {axis=2} name="cat" opset=13
  output %t
  output %c
})");
}

TEST(Compiler, ReductionsSoftmaxLayerNorm) {
  check(R"(graph "g" {
  input %x : f32[4,6,33]
  const %w : f32[33] = [1.0,0.5,2.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,1.0,-1.0]
  %s : f32[4,6,33] = Softmax(%x) {axis=-1} name="sm" opset=13
  %r : f32[4,1,33] = ReduceMean(%x) {axes=ints[1]} name="rm" opset=13
  %a : i64[4,33] = ArgMax(%x) {axis=1, keepdims=0} name="am" opset=13
  output %s
  output %r
  output %a
})", 3, 1e-5, 1e-6);
}

TEST(Compiler, LayerNormalizationMatchesItsDefinition) {
  ir::Graph g = ir::parse(R"(graph "g" {
  input %x : f32[5,70]
  input %s : f32[70]
  input %b : f32[70]
  %y : f32[5,70] = LayerNormalization(%x, %s, %b) {axis=-1, epsilon=0.001} name="ln" opset=17
  output %y
})", "ln.ir");
  auto x = rnd(ir::ElemType::f32, {5, 70}, 1), sc = rnd(ir::ElemType::f32, {70}, 2), bi = rnd(ir::ElemType::f32, {70}, 3);
  auto m = compiler::compile(g, v1(), {});
  auto y = runtime::run_model(m, v1(), {x, sc, bi})[0];
  for (int r = 0; r < 5; ++r) {
    double mean = 0, var = 0;
    for (int c = 0; c < 70; ++c) mean += x.get(r * 70 + c) / 70;
    for (int c = 0; c < 70; ++c) var += (x.get(r * 70 + c) - mean) * (x.get(r * 70 + c) - mean) / 70;
    for (int c = 0; c < 70; ++c) {
      double want = (x.get(r * 70 + c) - mean) / std::sqrt(var + 0.001) * sc.get(c) + bi.get(c);
      ASSERT_NEAR(y.get(r * 70 + c), want, 1e-5 * (1 + std::fabs(want)));
    }
  }
}

TEST(Compiler, MatMulGemmConvPool) {
  check(R"(graph "g" {
  input %x : f32[2,70,300]
  input %w : f32[300,40]
  %y : f32[2,70,40] = MatMul(%x, %w) name="mm" opset=13
  output %y
})", 5, 1e-4, 1e-4);
  // Conv (padded, strided, grouped) + MaxPool against direct loops.
  for (int64_t group : {1, 2, 4}) {
    ir::Graph g = ir::parse(fmt::format(R"(graph "g" {{
  input %x : f32[2,4,9,9]
  input %w : f32[4,{},3,3]
  input %b : f32[4]
  %y : f32[2,4,5,5] = Conv(%x, %w, %b) {{group={}, kernel_shape=ints[3,3], pads=ints[1,1,1,1], strides=ints[2,2]}} name="conv" opset=11
  %p : f32[2,4,3,3] = MaxPool(%y) {{kernel_shape=ints[3,3], pads=ints[1,1,1,1], strides=ints[2,2]}} name="mp" opset=12
  output %y
  output %p
}})", 4 / group, group), "conv.ir");
    auto x = rnd(ir::ElemType::f32, {2, 4, 9, 9}, 1), w = rnd(ir::ElemType::f32, {4, 4 / group, 3, 3}, 2),
         bias = rnd(ir::ElemType::f32, {4}, 3);
    auto m = compiler::compile(g, v1(), {});
    auto out = runtime::run_model(m, v1(), {x, w, bias});
    const int64_t cg = 4 / group;
    std::vector<double> y(2 * 4 * 25);
    for (int n = 0; n < 2; ++n)
      for (int co = 0; co < 4; ++co)
        for (int oh = 0; oh < 5; ++oh)
          for (int ow = 0; ow < 5; ++ow) {
            double acc = bias.get(co);
            const int64_t g0 = co / (4 / group) * cg;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int kh = 0; kh < 3; ++kh)
                for (int kw = 0; kw < 3; ++kw) {
                  const int ih = oh * 2 + kh - 1, iw = ow * 2 + kw - 1;
                  if (ih < 0 || ih >= 9 || iw < 0 || iw >= 9) continue;
                  acc += x.get(((n * 4 + g0 + ci) * 9 + ih) * 9 + iw) * w.get(((co * cg + ci) * 3 + kh) * 3 + kw);
                }
            y[((n * 4 + co) * 5 + oh) * 5 + ow] = acc;
            ASSERT_NEAR(out[0].get(((n * 4 + co) * 5 + oh) * 5 + ow), acc, 1e-4) << "group " << group;
          }
    for (int n = 0; n < 2; ++n)
      for (int c = 0; c < 4; ++c)
        for (int oh = 0; oh < 3; ++oh)
          for (int ow = 0; ow < 3; ++ow) {
            double mx = -INFINITY;
            for (int kh = 0; kh < 3; ++kh)
              for (int kw = 0; kw < 3; ++kw) {
                const int ih = oh * 2 + kh - 1, iw = ow * 2 + kw - 1;
                if (ih >= 0 && ih < 5 && iw >= 0 && iw < 5) mx = std::max(mx, y[((n * 4 + c) * 5 + ih) * 5 + iw]);
              }
            ASSERT_NEAR(out[1].get(((n * 4 + c) * 3 + oh) * 3 + ow), mx, 1e-4);
          }
  }
}

// fp32 host data goes to the chip bit for bit, NaNs as the one canonical NaN,
// whichever path converts it (the fast fp32 paths and the general one).
TEST(Compiler, ChipBytesKeepFp32BitsAndCanonicaliseNaNs) {
  const std::vector<uint32_t> bits = {0x3fc00000u, 0x80000000u, 0x7f800000u, 0xff800000u,
                                      0x7f800001u, 0xffc00001u, 0x00000001u, 0x7f7fffffu};
  ir::HostTensor t(ir::ElemType::f32, {static_cast<int64_t>(bits.size())});
  std::memcpy(t.data.data(), bits.data(), bits.size() * 4);
  const auto f = compiler::to_chip_bytes(t, DType::fp32);
  for (size_t i = 0; i < bits.size(); ++i) {
    uint32_t got;
    std::memcpy(&got, f.data() + 4 * i, 4);
    const bool nan = (bits[i] & 0x7fffffffu) > 0x7f800000u;
    EXPECT_EQ(got, nan ? 0x7fc00000u : bits[i]) << i;
  }
  const auto b = compiler::to_chip_bytes(t, DType::bf16);
  ir::HostTensor d(ir::ElemType::f64, {static_cast<int64_t>(bits.size())});  // the general path, from double
  for (size_t i = 0; i < bits.size(); ++i) d.set(static_cast<int64_t>(i), t.get(static_cast<int64_t>(i)));
  EXPECT_EQ(b, compiler::to_chip_bytes(d, DType::bf16));
  EXPECT_EQ(f, compiler::to_chip_bytes(d, DType::fp32));
  // to integers: NaN is 0 (constants) or an error (inputs), infinities saturate (clang's UBSan found NaN
  // weights quantised to int8 cast to int64)
  const auto i8 = compiler::to_chip_bytes(t, DType::int8);
  EXPECT_EQ(static_cast<int8_t>(i8[4]), 0);
  EXPECT_EQ(static_cast<int8_t>(i8[2]), 127);
  EXPECT_EQ(static_cast<int8_t>(i8[3]), -128);
  EXPECT_THROW(compiler::to_chip_bytes(t, DType::int8, true, "input 'x'"), compiler::CompileError);
}

// Timing-only compiles (constant_values = false) must emit the very program a
// full compile does, only without the constants' bytes.
TEST(Compiler, WithoutConstantValuesEmitsTheSameProgram) {
  ir::Graph g = ir::parse(R"(graph "g" {
  input %x : f32[2,8,9,9]
  input %w1 : f32[8,8,3,3]
  input %w2 : f32[8,1,3,3]
  input %w3 : f32[8,4,1,1]
  input %wf : f32[10,648]
  input %wm : f32[10,6]
  input %sc : f32[8]
  input %bi : f32[8]
  input %mu : f32[8]
  input %va : f32[8]
  %a : f32[2,8,9,9] = Conv(%x, %w1) {kernel_shape=ints[3,3], pads=ints[1,1,1,1]} name="conv" opset=11
  %b : f32[2,8,9,9] = Conv(%a, %w2) {group=8, kernel_shape=ints[3,3], pads=ints[1,1,1,1]} name="dw" opset=11
  %c : f32[2,8,9,9] = Conv(%b, %w3) {group=2, kernel_shape=ints[1,1]} name="grouped" opset=11
  %n : f32[2,8,9,9] = BatchNormalization(%c, %sc, %bi, %mu, %va) {epsilon=0.00001} name="bn" opset=15
  %p : f32[2,8,9,9] = AveragePool(%n) {kernel_shape=ints[3,3], pads=ints[1,1,1,1]} name="pool" opset=11
  %f : f32[2,648] = Flatten(%p) name="flat" opset=13
  %y : f32[2,10] = Gemm(%f, %wf) {transB=1} name="fc" opset=13
  %z : f32[2,6] = MatMul(%y, %wm) name="mm" opset=13
  output %z
})", "lean.ir");
  // the weights become constants
  for (uint32_t k = 1; k < g.inputs.size(); ++k) {
    auto& v = g.values[g.inputs[k]];
    v.data = std::make_shared<const ir::HostTensor>(rnd(v.type, v.shape, k));
  }
  g.inputs.resize(1);
  for (auto p : {compiler::Precision::fp32, compiler::Precision::bf16, compiler::Precision::int8, compiler::Precision::fp8}) {
    compiler::CompileOptions o;
    o.precision = p;
    o.uncalibrated_ok = true;
    const auto full = compiler::compile(g, v1(), o);
    o.constant_values = false;
    const auto lean = compiler::compile(g, v1(), o);
    const std::string name(compiler::precision_name(p));
    EXPECT_EQ(lean.program.cores, full.program.cores) << name;
    EXPECT_EQ(lean.program.symbols, full.program.symbols) << name;
    EXPECT_EQ(lean.placement.size(), full.placement.size()) << name;
    uint64_t bytes = 0;
    for (const auto& d : full.program.data) bytes += d.bytes.size();
    EXPECT_GT(bytes, 10u * 648 * 4 / 4) << name;
    EXPECT_EQ(full.constant_bytes, bytes) << name;
    EXPECT_EQ(lean.constant_bytes, bytes) << name;
    EXPECT_TRUE(lean.program.data.empty()) << name;
    EXPECT_TRUE(full.constant_values);
    EXPECT_FALSE(lean.constant_values);
    EXPECT_EQ(sim::run_timing(v1(), lean.program).cycles, sim::run_timing(v1(), full.program).cycles) << name;
    EXPECT_THROW(runtime::run_model(lean, v1(), {rnd(ir::ElemType::f32, {2, 8, 9, 9}, 9)}), std::runtime_error) << name;
  }
}

TEST(Compiler, KSplitGemmAccumulatesAcrossTiles) {
  // K = 5000 fp32: a full-K tile would be too narrow, so K is split into
  // chunks that accumulate in the accumulator across the tiles of a group.
  check(R"(graph "g" {
  input %a : f32[300,5000]
  input %b : f32[5000,300]
  %c : f32[300,300] = MatMul(%a, %b) name="mm" opset=13
  output %c
})", 11, 1e-4, 1e-3, 3);
}

TEST(Compiler, MultiCoreGivesTheSameResult) {
  const char* g = R"(graph "g" {
  input %x : f32[64,200]
  %e : f32[64,200] = Exp(%x) name="e" opset=13
  %s : f32[64,200] = Softmax(%e) {axis=1} name="s" opset=13
  output %s
})";
  check(g, 9, 1e-5, 1e-6, 1);
  check(g, 9, 1e-5, 1e-6, 8);
}

// The highest HBM byte address any instruction operand starts at.
uint64_t top_hbm_operand(const isa::Program& p) {
  uint64_t top = 0;
  for (const auto& c : p.cores)
    for (const auto& in : c.code)
      for (const isa::Operand* o : {&in.dst, &in.a, &in.b})
        if (o->space == isa::Space::hbm) top = std::max(top, o->addr);
  return top;
}

TEST(Compiler, ConvolutionsReuseOneScratchBuffer) {
  // Each padded 3x3 Conv pads its input and builds im2col rows in HBM
  // scratch (32*32*72*4 = 288 KiB here); scratch is dead once the node's
  // kernels end at their barrier, so a chain of four needs no more scratch
  // than a chain of two: only the weights (inputs, 2.3 KiB each) are added.
  auto chain = [](int n) {
    std::string t = "graph \"g\" {\n  input %x0 : f32[1,8,32,32]\n";
    for (int i = 0; i < n; ++i) t += fmt::format("  input %w{} : f32[8,8,3,3]\n", i);
    for (int i = 0; i < n; ++i)
      t += fmt::format("  %x{} : f32[1,8,32,32] = Conv(%x{}, %w{}) {{kernel_shape=ints[3,3], pads=ints[1,1,1,1]}} "
                       "name=\"c{}\" opset=11\n", i + 1, i, i, i);
    return t + fmt::format("  output %x{}\n}}", n);
  };
  const auto two = compiler::compile(ir::parse(chain(2), "two.ir"), v1(), {});
  const auto four = compiler::compile(ir::parse(chain(4), "four.ir"), v1(), {});
  const uint64_t col_bytes = 32 * 32 * 72 * 4;
  EXPECT_GT(top_hbm_operand(two.program), col_bytes);
  EXPECT_LT(top_hbm_operand(four.program), top_hbm_operand(two.program) + col_bytes / 4);
  check(chain(4), 17, 1e-3, 1e-3);  // and the reused bytes give the right answer (values reach ~40: fp32 sums in another order)
}

TEST(Compiler, PointwiseConvolutionReadsItsInputInPlace) {
  // A 1x1, stride-1, unpadded Conv is a GEMM over the input as it lies
  // (rows = pixels, channels H*W apart): no im2col copy, so the program
  // touches no HBM beyond its input, weights and output (all graph I/O here).
  for (int group : {1, 2}) {
    const std::string g = fmt::format(R"(graph "g" {{
  input %x : f32[2,16,8,8]
  input %w : f32[8,{},1,1]
  input %b : f32[8]
  %y : f32[2,8,8,8] = Conv(%x, %w, %b) {{group={}, kernel_shape=ints[1,1]}} name="pw" opset=11
  output %y
}})", 16 / group, group);
    const auto m = compiler::compile(ir::parse(g, "pw.ir"), v1(), {});
    const uint64_t io = 2 * 16 * 64 * 4 + 8 * (16 / group) * 4 + 8 * 4 + 2 * 8 * 64 * 4;
    EXPECT_LT(top_hbm_operand(m.program), io) << "group " << group;
    check(g, 23 + group, 1e-5, 1e-5);
  }
}

// MLIR-style pass tests: compiler/tests/passes/NAME.ir names its pass on the
// first line (`; pass: fold`); the printed result must equal NAME.expected.
TEST(Passes, IrInIrOut) {
  namespace fs = std::filesystem;
  const char* src = std::getenv("SEEDCHIP_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  const fs::path dir = fs::path(src) / "compiler" / "tests" / "passes";
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".ir") continue;
    auto slurp = [](const fs::path& p) {
      std::ifstream f(p);
      std::stringstream ss;
      ss << f.rdbuf();
      return ss.str();
    };
    const std::string text = slurp(e.path());
    const std::string tag = "; pass: ";
    ASSERT_EQ(text.rfind(tag, 0), 0u) << e.path();
    const std::string pass = text.substr(tag.size(), text.find('\n') - tag.size());
    ir::Graph g = compiler::run_pass(pass, ir::parse(text, e.path().string()));
    fs::path exp = e.path();
    exp.replace_extension(".expected");
    EXPECT_EQ(ir::print(g, true), slurp(exp)) << e.path();
    ++n;
  }
  EXPECT_GE(n, 4);
}

TEST(Compiler, RmsNormalizationMatchesItsDefinition) {
  check(R"(graph "g" {
  input %x : f32[6,300]
  input %s : f32[300]
  %y : f32[6,300] = RMSNormalization(%x, %s) {axis=-1, epsilon=0.001} name="rms" opset=23
  output %y
})", 4, 1e-5, 1e-6);
}

TEST(Compiler, SwiGluIsSiluOfTheGateTimesUp) {
  ir::Graph g = ir::parse(R"(graph "g" {
  input %x : f32[7,600]
  %y : f32[7,300] = SwiGLU(%x) name="swiglu" domain="seedchip" opset=1
  output %y
})", "swiglu.ir");
  auto x = rnd(ir::ElemType::f32, {7, 600}, 9, -4, 4);
  auto m = compiler::compile(g, v1(), {});
  auto y = runtime::run_model(m, v1(), {x})[0];
  for (int r = 0; r < 7; ++r)
    for (int c = 0; c < 300; ++c) {
      const double gate = x.get(r * 600 + c), up = x.get(r * 600 + 300 + c);
      const double want = gate / (1 + std::exp(-gate)) * up;
      ASSERT_NEAR(y.get(r * 300 + c), want, 1e-5 * (1 + std::fabs(want))) << r << "," << c;
    }
}

TEST(Compiler, ShortRowStreamsUseWideTilesAndStayExact) {
  // decode-step attention: one query row per (sequence, head) against a long
  // KV panel; the GEMM takes several array widths per tile
  check(R"(graph "g" {
  input %q : f32[6,1,64]
  input %k : f32[6,64,1100]
  %s : f32[6,1,1100] = MatMul(%q, %k) name="scores" opset=13
  output %s
})", 11, 1e-4, 1e-4);
  // a GEMM whose M needs two tiles on a small part: equal tiles, K in halves
  check(R"(graph "g" {
  input %x : f32[300,700]
  input %w : f32[700,520]
  %y : f32[300,520] = MatMul(%x, %w) name="mm" opset=13
  output %y
})", 12, 1e-4, 1e-4);
}

TEST(Compiler, BroadcastOperandsAreReadCompactly) {
  const std::string text = R"(graph "g" {
  input %x : f32[512,1024]
  input %r : f32[512,1]
  %y : f32[512,1024] = Div(%x, %r) name="div" opset=14
  output %y
})";
  check(text, 13, 1e-6, 1e-6);
  // the [512,1] operand is fetched once per tile row, not once per element
  auto m = compiler::compile(ir::parse(text, "div.ir"), v1(), {});
  sim::RunStats st;
  runtime::run_model(m, v1(), {rnd(ir::ElemType::f32, {512, 1024}, 1), rnd(ir::ElemType::f32, {512, 1}, 2, 1, 2)}, &st);
  EXPECT_LT(st.bytes_loaded, 512u * 1024 * 4 + 512 * 4 * 64);
}

// Cores simulated in parallel threads between barriers give the same values,
// counts and instruction streams as one thread.
TEST(Compiler, ThreadedFunctionalSimulationMatchesOneThread) {
  auto m = compiler::compile(ir::parse(R"(graph "g" {
  input %x : f32[256,512]
  input %w : f32[512,384]
  %y : f32[256,384] = MatMul(%x, %w) name="mm" opset=13
  %z : f32[256,384] = Relu(%y) name="relu" opset=14
  %s : f32[256,1] = ReduceMax(%z) {axes=ints[1]} name="mx" opset=13
  output %z
  output %s
})", "t.ir"), v1(), {});
  const std::vector<ir::HostTensor> ins{rnd(ir::ElemType::f32, {256, 512}, 1), rnd(ir::ElemType::f32, {512, 384}, 2)};
  sim::RunStats one, four;
  const auto a = runtime::run_model(m, v1(), ins, &one, {}, 1);
  const auto b = runtime::run_model(m, v1(), ins, &four, {}, 4);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].data, b[i].data) << "output " << i;
  EXPECT_EQ(one.instructions, four.instructions);
  EXPECT_EQ(one.macs, four.macs);
  EXPECT_EQ(one.bytes_loaded, four.bytes_loaded);
  EXPECT_EQ(one.barriers, four.barriers);
  EXPECT_EQ(one.order_hash, four.order_hash);
  EXPECT_GT(one.barriers + one.instructions[static_cast<int>(isa::Engine::matrix)], 0u);
}

// softmax(scale * q x kt + mask) x v in double precision
std::vector<double> attention_ref(const ir::HostTensor& q, const ir::HostTensor& kt, const ir::HostTensor& v, int64_t causal,
                                  int64_t group, int64_t context = -1) {
  const int64_t B = q.shape[0], M = q.shape[1], D = q.shape[2], C = kt.shape[2];
  std::vector<double> out(static_cast<size_t>(B * M * D));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < M; ++r) {
      std::vector<double> s(static_cast<size_t>(C));
      double mx = -1e300;
      for (int64_t j = 0; j < C; ++j) {
        double acc = 0;
        for (int64_t d = 0; d < D; ++d) acc += q.get((b * M + r) * D + d) * kt.get((b * D + d) * C + j);
        const bool hidden = (causal >= 0 && j > r % group + causal) || (context >= 0 && j >= context);
        s[static_cast<size_t>(j)] = hidden ? -1e300 : acc / std::sqrt(static_cast<double>(D));
        mx = std::max(mx, s[static_cast<size_t>(j)]);
      }
      double sum = 0;
      for (auto& x : s) sum += (x = x <= -1e299 ? 0 : std::exp(x - mx));
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0;
        for (int64_t j = 0; j < C; ++j) acc += s[static_cast<size_t>(j)] * v.get((b * C + j) * D + d);
        out[static_cast<size_t>((b * M + r) * D + d)] = acc / sum;
      }
    }
  return out;
}

TEST(Compiler, FlashAttentionMatchesSoftmaxAttention) {
  for (int64_t causal : {-1, 290}) {
    SCOPED_TRACE(causal);
    ir::Graph g = ir::parse(fmt::format(R"(graph "g" {{
  input %q : f32[3,20,64]
  input %k : f32[3,64,300]
  input %v : f32[3,300,64]
  %o : f32[3,20,64] = FlashAttention(%q, %k, %v) {{causal_offset={}, rows_per_group=10}} name="attn" domain="seedchip" opset=1
  output %o
}})",
                                        causal),
                            "attn.ir");
    auto q = rnd(ir::ElemType::f32, {3, 20, 64}, 21), k = rnd(ir::ElemType::f32, {3, 64, 300}, 22),
         v = rnd(ir::ElemType::f32, {3, 300, 64}, 23);
    auto m = compiler::compile(g, v1(), {});
    auto y = runtime::run_model(m, v1(), {q, k, v})[0];
    const auto want = attention_ref(q, k, v, causal, 10);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(y.get(static_cast<int64_t>(i)), want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
  }
}

TEST(Compiler, FlashAttentionOverSeveralQueryTilesReusesItsPanels) {
  // 1800 query rows need several tiles per batch entry; later tiles find K and
  // V already in their slot, and every running statistic starts afresh
  ir::Graph g = ir::parse(R"(graph "g" {
  input %q : f32[2,1800,64]
  input %k : f32[2,64,700]
  input %v : f32[2,700,64]
  %o : f32[2,1800,64] = FlashAttention(%q, %k, %v) {causal_offset=100, rows_per_group=600} name="attn" domain="seedchip" opset=1
  output %o
})", "attn.ir");
  auto q = rnd(ir::ElemType::f32, {2, 1800, 64}, 31), k = rnd(ir::ElemType::f32, {2, 64, 700}, 32),
       v = rnd(ir::ElemType::f32, {2, 700, 64}, 33);
  auto m = compiler::compile(g, v1(), {});
  auto y = runtime::run_model(m, v1(), {q, k, v})[0];
  const auto want = attention_ref(q, k, v, 100, 600);
  for (size_t i = 0; i < want.size(); ++i)
    ASSERT_NEAR(y.get(static_cast<int64_t>(i)), want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
}

TEST(Compiler, MatMulInt4IsWeightOnlyQuantisation) {
  // y = bf16(A) x (int4 nibbles of B, low nibble = even column) x scale[n]
  ir::Graph g = ir::parse(R"(graph "g" {
  input %a : f32[5,300]
  input %b : u8[300,70]
  input %s : f32[140]
  %y : f32[5,140] = MatMulInt4(%a, %b, %s) name="w4" domain="seedchip" opset=1
  output %y
})", "w4.ir");
  auto a = rnd(ir::ElemType::f32, {5, 300}, 41), b = rnd(ir::ElemType::u8, {300, 70}, 42, 0, 256),
       s = rnd(ir::ElemType::f32, {140}, 43, 0.01, 0.1);
  auto m = compiler::compile(g, v1(), {});
  auto y = runtime::run_model(m, v1(), {a, b, s})[0];
  auto nib = [&](int64_t k, int64_t n) {
    const int64_t byte = b.get_int(k * 70 + n / 2);
    const int64_t v = n % 2 ? (byte >> 4) & 15 : byte & 15;
    return static_cast<double>(v >= 8 ? v - 16 : v);
  };
  for (int64_t i = 0; i < 5; ++i)
    for (int64_t n = 0; n < 140; ++n) {
      double acc = 0;
      for (int64_t k = 0; k < 300; ++k) {
        ir::HostTensor t(ir::ElemType::bf16, {1});
        t.set(0, a.get(i * 300 + k));
        acc += t.get(0) * nib(k, n);
      }
      const double want = acc * s.get(n);
      ASSERT_NEAR(y.get(i * 140 + n), want, 1e-5 * (1 + std::fabs(want))) << i << "," << n;
    }
}

TEST(Compiler, PagedFlashAttentionGathersPagesThroughTheTable) {
  // KV pages of 128 keys in a shared pool; each entry's table lists its pages
  const int64_t B = 2, M = 6, D = 64, page = 128, pages = 3, P = 8, C = pages * page;
  const std::vector<std::vector<int64_t>> tables = {{5, 1, 7}, {0, 6, 2}};
  auto q = rnd(ir::ElemType::f32, {B, M, D}, 51), kp = rnd(ir::ElemType::f32, {P, D, page}, 52),
       vp = rnd(ir::ElemType::f32, {P, page, D}, 53);
  ir::HostTensor tab(ir::ElemType::i32, {B, pages});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < pages; ++j) tab.set_int(b * pages + j, tables[b][j]);
  // the same keys and values laid out contiguously, for the reference
  ir::HostTensor kt(ir::ElemType::f32, {B, D, C}), v(ir::ElemType::f32, {B, C, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t d = 0; d < D; ++d) {
        const int64_t pg = tables[b][c / page], t = c % page;
        kt.set((b * D + d) * C + c, kp.get((pg * D + d) * page + t));
        v.set((b * C + c) * D + d, vp.get((pg * page + t) * D + d));
      }
  for (const auto& [attrs, causal, context] : {std::tuple{std::string("causal_offset=297, rows_per_group=3, context=300"), int64_t{297}, int64_t{300}},
                                               std::tuple{std::string("context=250"), int64_t{-1}, int64_t{250}}}) {
    SCOPED_TRACE(attrs);
    ir::Graph g = ir::parse(fmt::format(R"(graph "g" {{
  input %q : f32[2,6,64]
  input %k : f32[8,64,128]
  input %v : f32[8,128,64]
  input %t : i32[2,3]
  %o : f32[2,6,64] = FlashAttention(%q, %k, %v, %t) {{{}}} name="attn" domain="seedchip" opset=1
  output %o
}})",
                                        attrs),
                            "paged.ir");
    auto m = compiler::compile(g, v1(), {});
    auto y = runtime::run_model(m, v1(), {q, kp, vp, tab})[0];
    const auto want = attention_ref(q, kt, v, causal, 3, context);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(y.get(static_cast<int64_t>(i)), want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
  }
}

TEST(Compiler, FlashAttentionOnlineSoftmaxOverLongContexts) {
  // 5000 keys: a block of query rows cannot keep all its scores in the
  // accumulator, so the keys are visited block by block with the online
  // softmax (running max and sum, output rescaled)
  for (int64_t causal : {-1, 4900}) {
    SCOPED_TRACE(causal);
    ir::Graph g = ir::parse(fmt::format(R"(graph "g" {{
  input %q : f32[1,100,64]
  input %k : f32[1,64,5000]
  input %v : f32[1,5000,64]
  %o : f32[1,100,64] = FlashAttention(%q, %k, %v) {{causal_offset={}}} name="attn" domain="seedchip" opset=1
  output %o
}})",
                                        causal),
                            "long.ir");
    auto q = rnd(ir::ElemType::f32, {1, 100, 64}, 61), k = rnd(ir::ElemType::f32, {1, 64, 5000}, 62),
         v = rnd(ir::ElemType::f32, {1, 5000, 64}, 63);
    auto m = compiler::compile(g, v1(), {});
    auto y = runtime::run_model(m, v1(), {q, k, v})[0];
    const auto want = attention_ref(q, k, v, causal, 100);
    for (size_t i = 0; i < want.size(); ++i)
      ASSERT_NEAR(y.get(static_cast<int64_t>(i)), want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
  }
}

// A GEMM of two runtime fp32 operands at --precision bf16 (an ONNX graph whose
// weights are inputs): both are cast to bf16 once, so the GEMM tiles as a
// bf16 GEMM does instead of converting every tile (81% of the bf16 peak before).
TEST(Compiler, GemmOfTwoActivationsReachesTheBf16Rate) {
  const auto chip = arch::find_chip("seedchip-v1");
  const int64_t n = 8192;
  const auto g = ir::parse(fmt::format(R"(graph "g" {{
  input %a : f32[{0},{0}]
  input %b : f32[{0},{0}]
  %c : f32[{0},{0}] = MatMul(%a, %b) name="mm" opset=13
  output %c
}})",
                                       n),
                           "g");
  compiler::CompileOptions o;
  o.precision = compiler::Precision::bf16;
  const auto m = compiler::compile(g, chip, o);
  int casts = 0;
  for (const auto& p : m.placement) casts += p.op == "Cast";
  EXPECT_EQ(casts, 2);
  const auto r = sim::run_timing(chip, m.program);
  const double flops = 2.0 * static_cast<double>(n * n) * static_cast<double>(n);
  EXPECT_GE(flops / r.seconds / chip.peak_ops_per_s(DType::bf16), 0.90);
}

// fp8: a GEMM of two runtime tensors is quantised dynamically per tensor
// (m = max|x|, x_q = e4m3(x * (448 / m)), accumulator * (m_a/448 * m_b/448))
// and runs on the fp8 array: the values are the documented scheme's.
TEST(Compiler, GemmOfTwoActivationsQuantisesDynamicallyToFp8) {
  const int64_t M = 70, K = 300, N = 50;
  const auto g = ir::parse(fmt::format(R"(graph "g" {{
  input %a : f32[{0},{1}]
  input %b : f32[{1},{2}]
  %c : f32[{0},{2}] = MatMul(%a, %b) name="mm" opset=13
  output %c
}})",
                                       M, K, N),
                           "g");
  compiler::CompileOptions o;
  o.precision = compiler::Precision::fp8;
  // automatic: too small to pay for the quantisation passes, so bf16
  int reductions = 0;
  for (const auto& p : compiler::compile(g, v1(), o).placement) reductions += p.op == "ReduceAbsMax";
  EXPECT_EQ(reductions, 0);
  o.dynamic_fp8 = compiler::CompileOptions::DynamicFp8::always;
  const auto m = compiler::compile(g, v1(), o);
  for (const auto& p : m.placement) reductions += p.op == "ReduceAbsMax";
  EXPECT_EQ(reductions, 2);
  const auto a = rnd(ir::ElemType::f32, {M, K}, 3, -3, 3), b = rnd(ir::ElemType::f32, {K, N}, 4, -0.05, 0.05);
  const auto got = runtime::run_model(m, v1(), {a, b})[0];
  auto quant = [](const ir::HostTensor& x, float& scale) {
    float mx = 1e-30f;
    for (int64_t i = 0; i < x.elements(); ++i) mx = std::max(mx, std::fabs(static_cast<float>(x.get(i))));
    const float inv = 448.0f / mx;
    scale = mx * static_cast<float>(1.0 / 448.0);
    std::vector<float> q(static_cast<size_t>(x.elements()));
    for (size_t i = 0; i < q.size(); ++i) q[i] = num::e4m3_to_fp32(num::fp32_to_e4m3(static_cast<float>(x.get(static_cast<int64_t>(i))) * inv));
    return q;
  };
  float sa = 0, sb = 0;
  const auto qa = quant(a, sa), qb = quant(b, sb);
  const float s = sa * sb;
  double worst = 0, ref_max = 0, err_fp32 = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double acc = 0, exact = 0;
      for (int64_t k = 0; k < K; ++k) {
        acc += static_cast<double>(qa[static_cast<size_t>(i * K + k)]) * qb[static_cast<size_t>(k * N + j)];
        exact += a.get(i * K + k) * b.get(k * N + j);
      }
      const double want = static_cast<double>(static_cast<float>(acc) * s);
      worst = std::max(worst, std::fabs(got.get(i * N + j) - want));
      err_fp32 = std::max(err_fp32, std::fabs(got.get(i * N + j) - exact));
      ref_max = std::max(ref_max, std::fabs(want));
    }
  EXPECT_LE(worst, 1e-5 * ref_max);     // the scheme, up to fp32 summation order
  EXPECT_GT(err_fp32, 1e-4 * ref_max);  // really e4m3: not the fp32 product
  EXPECT_LE(err_fp32, 0.05 * ref_max);  // and within e4m3's error of it
}

TEST(Compiler, GemmOfTwoActivationsRunsAtTheFp8Rate) {
  const auto chip = arch::find_chip("seedchip-v1");
  const int64_t n = 8192;
  for (const char* t : {"f32", "bf16"}) {
    const auto g = ir::parse(fmt::format(R"(graph "g" {{
  input %a : {1}[{0},{0}]
  input %b : {1}[{0},{0}]
  %c : {1}[{0},{0}] = MatMul(%a, %b) name="mm" opset=13
  output %c
}})",
                                         n, t),
                             "g");
    compiler::CompileOptions o;
    o.precision = compiler::Precision::fp8;
    const auto m = compiler::compile(g, chip, o);
    sim::TimingOptions to;
    to.record = true;
    const auto r = sim::run_timing(chip, m.program, to);
    const auto labels = m.instruction_labels();
    // the GEMM itself: from its first instruction's start to its last one's end
    uint64_t first = UINT64_MAX, last = 0;
    for (const auto& sl : r.slices)
      if (labels[sl.core][sl.index] == "mm") first = std::min(first, sl.start), last = std::max(last, sl.end);
    ASSERT_LT(first, last);
    const double flops = 2.0 * static_cast<double>(n * n) * static_cast<double>(n);
    const double peak = chip.peak_ops_per_s(DType::fp8e4m3);
    EXPECT_GE(flops / (static_cast<double>(last - first) / chip.clock_hz) / peak, 0.95) << t;
    // with the quantisation passes (max |x| and the scaling, vector-bound on v1's 256 lanes)
    EXPECT_GE(flops / r.seconds / peak, 0.74) << t;
  }
}
