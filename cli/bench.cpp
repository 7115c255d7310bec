// seedchip — benchmarks: compiled GEMMs against the matrix peak, HBM streaming
// against the modelled achievable bandwidth, and timing-simulator speed.
#include "bench.h"

#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/decoder.h"
#include "seedchip/serve/serve.h"
#include "seedchip/report/report.h"
#include "seedchip/sim/timing.h"

namespace seedchip::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint64_t instructions(const sim::TimingResult& r) {
  uint64_t n = 0;
  for (const auto& c : r.engines)
    for (const auto& e : c) n += e.instructions;
  return n;
}

ir::Graph gemm_graph(int64_t n, const std::string& in_t, const std::string& out_t) {
  return ir::parse(fmt::format(R"(graph "gemm" {{
  input %a : {0}[{1},{1}]
  input %b : {0}[{1},{1}]
  %c : {2}[{1},{1}] = MatMul(%a, %b) name="mm" opset=13
  output %c
}})",
                               in_t, n, out_t),
                   "bench");
}

// A GPT-2-medium decoder (24 layers, hidden 1024, 16 heads, MLP 4096) over
// `seq` tokens in bf16, written by the decoder builder as Hugging Face's
// eager model would export it (attention as two GEMMs and a softmax, causal
// mask, biases). Weights are graph inputs: the timing model needs their
// size and place in HBM, not their values.
ir::Graph gpt2_medium_graph(int64_t seq) {
  llm::ModelConfig c = llm::find_model("gpt2");
  c.name = "gpt2-medium";
  c.hidden = 1024;
  c.heads = c.kv_heads = 16;
  c.head_dim = 64;
  c.intermediate = 4096;
  c.layers = 24;
  llm::DecoderSpec s;
  s.tokens = s.context = seq;
  s.layers = c.layers;
  s.arithmetic = llm::Arithmetic::eager;
  return llm::decoder_graph(c, s, llm::precision_policy("bf16"));
}

}  // namespace

int cmd_bench(const std::vector<std::string>& which, const std::string& chip_name, const std::vector<std::string>& models,
              const std::vector<int64_t>& sizes_in) {
  const arch::Chip chip = arch::find_chip(chip_name);
  auto want = [&](const char* b) { return which.empty() || std::find(which.begin(), which.end(), b) != which.end(); };
  double total_instr = 0;
  if (want("gemm")) {
    struct D {
      DType dt;
      const char *in, *out;
    };
    const D dts[] = {{DType::fp8e4m3, "f8e4m3", "f32"}, {DType::int8, "i8", "i32"}, {DType::bf16, "bf16", "f32"},
                     {DType::fp32, "f32", "f32"}};
    // 16384 needs K-split tiling to fit the 4 MiB instruction memory (docs/timing.md, known limits)
    std::vector<int64_t> sizes = sizes_in.empty() ? std::vector<int64_t>{128, 256, 512, 1024, 2048, 4096, 8192}
                                                  : sizes_in;
    fmt::print("GEMM n x n x n on {} (compiled by `seedchip compile`, timed by the timing model)\n", chip.name);
    fmt::print("{:>8} {:>8} {:>14} {:>12} {:>9} {:>12} {:>10}\n", "dtype", "n", "cycles", "TOP/s", "of peak",
               "instructions", "wall s");
    for (const auto& d : dts) {
      if (!chip.matrix_supports(d.dt)) continue;
      for (int64_t n : sizes) {
        const auto t0 = Clock::now();
        auto m = compiler::compile(gemm_graph(n, d.in, d.out), chip, {});
        auto r = sim::run_timing(chip, m.program);
        const double wall = since(t0);
        const double ops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
        const double achieved = ops / r.seconds;
        fmt::print("{:>8} {:>8} {:>14} {:>12.2f} {:>8.1f}% {:>12} {:>10.3f}\n", dtype_name(d.dt), n, r.cycles,
                   achieved / 1e12, 100 * achieved / chip.peak_ops_per_s(d.dt), instructions(r), wall);
        total_instr += static_cast<double>(instructions(r));
      }
    }
    // fp32 operands compiled at a reduced precision: both are runtime tensors,
    // cast to bf16 once or quantised dynamically to fp8 (docs/compiler.md)
    fmt::print("GEMM of two fp32 inputs at --precision bf16 / fp8: the whole graph and the MatMul alone\n");
    fmt::print("{:>9} {:>8} {:>14} {:>12} {:>9} {:>14} {:>9}\n", "precision", "n", "cycles", "TOP/s", "of peak", "MatMul cycles",
               "of peak");
    for (const auto& [prec, dt] : {std::pair{compiler::Precision::bf16, DType::bf16}, std::pair{compiler::Precision::fp8, DType::fp8e4m3}}) {
      if (!chip.matrix_supports(dt)) continue;
      for (int64_t n : sizes) {
        compiler::CompileOptions o;
        o.precision = prec;
        auto m = compiler::compile(gemm_graph(n, "f32", "f32"), chip, o);
        sim::TimingOptions to;
        to.record = true;
        auto r = sim::run_timing(chip, m.program, to);
        uint64_t mm_cycles = 0;
        for (const auto& t : report::node_times(r, m.instruction_labels()))
          if (t.name == "mm") mm_cycles = t.cycles;
        const double ops = 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
        const double peak = chip.peak_ops_per_s(dt);
        const double mm_s = static_cast<double>(mm_cycles) / chip.clock_hz;
        fmt::print("{:>9} {:>8} {:>14} {:>12.2f} {:>8.1f}% {:>14} {:>8.1f}%\n", compiler::precision_name(prec), n, r.cycles,
                   ops / r.seconds / 1e12, 100 * ops / r.seconds / peak, mm_cycles, 100 * ops / mm_s / peak);
      }
    }
  }
  if (want("hbm")) {
    // Streaming copy: an Identity model's output copy kernel (HBM -> SRAM -> HBM on every core).
    const int64_t n = int64_t{1} << 28;  // 1 GiB of fp32
    ir::Graph g = ir::parse(fmt::format(R"(graph "copy" {{
  input %x : f32[{}]
  %y : f32[{}] = Identity(%x) name="copy" opset=13
  output %y
}})",
                                        n, n),
                            "bench");
    const auto t0 = Clock::now();
    auto m = compiler::compile(g, chip, {});
    auto r = sim::run_timing(chip, m.program);
    const double wall = since(t0);
    const double bytes = 2.0 * static_cast<double>(n) * 4;
    const double achievable = chip.memory.bandwidth_bytes_per_s * chip.timing.memory.efficiency_sequential;
    fmt::print("HBM streaming copy of {} MiB: {:.1f} GB/s = {:.1f}% of the modelled achievable {:.1f} GB/s "
               "({:.1f}% of peak), {} instructions, {:.3f} s wall\n",
               static_cast<double>(n) * 4 / (1 << 20), bytes / r.seconds / 1e9, 100 * bytes / r.seconds / achievable,
               achievable / 1e9, 100 * bytes / r.seconds / chip.memory.bandwidth_bytes_per_s, instructions(r), wall);
  }
  if (want("sim")) {
    // Simulator speed on a large program (a 8192^3 fp8 GEMM).
    const auto dt = chip.matrix_supports(DType::fp8e4m3) ? "f8e4m3" : "i8";
    auto m = compiler::compile(gemm_graph(8192, dt, dt == std::string("i8") ? "i32" : "f32"), chip, {});
    const auto t0 = Clock::now();
    auto r = sim::run_timing(chip, m.program);
    const double wall = since(t0);
    total_instr = static_cast<double>(instructions(r));
    fmt::print("timing simulator: {} instructions in {:.3f} s = {:.2f} M instructions/s\n", instructions(r), wall,
               total_instr / wall / 1e6);
  }
  if (want("gpt2")) {
    const auto t0 = Clock::now();
    auto m = compiler::compile(gpt2_medium_graph(1024), chip, {});
    const double compile_s = since(t0);
    const auto t1 = Clock::now();
    auto r = sim::run_timing(chip, m.program);
    const double time_s = since(t1);
    fmt::print("gpt2-medium decoder (24 layers, 1024 tokens, bf16): compile {:.2f} s + timing {:.2f} s wall "
               "({} instructions, {:.2f} M/s); predicted {:.3f} ms\n",
               compile_s, time_s, instructions(r), static_cast<double>(instructions(r)) / time_s / 1e6, r.seconds * 1e3);
  }
  if (std::find(which.begin(), which.end(), "serve") != which.end()) {
    // MLPerf Llama-2-70B on 8 chips: offline over the whole dataset, then the
    // server scenario's rate search, each from a fresh deployment (oracle built anew)
    serve::ServeOptions o;
    o.precision = chip.matrix_supports(DType::fp8e4m3) ? "fp8" : "bf16";
    o.block_size = 64;
    o.replicas = 8;
    const auto model = llm::find_model("llama-2-70b");
    const auto reqs = serve::dataset_requests("mlperf-llama2-70b", 0, 1);
    for (const char* scenario : {"offline", "server"}) {
      const auto t0 = Clock::now();
      const serve::Deployment d(model, chip, o);
      serve::ServeResult r;
      if (std::string(scenario) == "offline") r = d.serve(reqs, serve::mlperf_slo("llama-2-70b"));
      else r = serve::search_rate(d, reqs, serve::mlperf_slo("llama-2-70b"), {}, 1).best;
      const double wall = since(t0);
      fmt::print("serve {} llama-2-70b on 8 x {} ({}, TP1 x 8): {:.1f} s wall ({} programs timed in {:.1f} s), "
                 "{:.0f} output tokens/s per chip{}\n",
                 scenario, chip.name, o.precision, wall, r.oracle_programs, r.oracle_build_s,
                 r.output_tokens_per_s / 8, std::string(scenario) == "server" ? fmt::format(" at {:.2f} requests/s", r.rate_qps) : "");
    }
  }
  for (const auto& path : models) {
    const auto t0 = Clock::now();
    ir::Graph g = frontends::import_onnx(path, {});
    compiler::CompileOptions o;
    o.uncalibrated_ok = true;
    auto m = compiler::compile(g, chip, o);
    const double compile_s = since(t0);
    const auto t1 = Clock::now();
    auto r = sim::run_timing(chip, m.program);
    const double time_s = since(t1);
    fmt::print("{}: compile {:.2f} s + timing {:.2f} s wall ({} instructions, {:.2f} M/s); predicted {:.3f} ms\n", path,
               compile_s, time_s, instructions(r), static_cast<double>(instructions(r)) / time_s / 1e6, r.seconds * 1e3);
  }
  return 0;
}

}  // namespace seedchip::cli
