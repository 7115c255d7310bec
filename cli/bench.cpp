// seedchip — benchmarks: compiled GEMMs against the matrix peak, HBM streaming
// against the modelled achievable bandwidth, and timing-simulator speed.
#include "bench.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/decoder.h"
#include "seedchip/serve/serve.h"
#include "seedchip/report/report.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/model.h"
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

// ---- the same model on ONNX Runtime (CPU), as a yardstick measured in the same run ----

// Runs the model with onnxruntime-node: one intra-op thread, one warm-up run,
// then `runs` timed runs; prints {"version", "session_s", "runs": [s...]}.
constexpr const char* kOrtScript = R"js(
const ort = require('onnxruntime-node');
const [model, spec, runs] = [process.argv[2], JSON.parse(process.argv[3]), Number(process.argv[4])];
const make = {
  float32: n => Float32Array.from({length: n}, (_, k) => ((k * 7919) % 2001) / 1000 - 1),
  float64: n => Float64Array.from({length: n}, (_, k) => ((k * 7919) % 2001) / 1000 - 1),
  float16: n => new Uint16Array(n).fill(0x3c00),
  int64: n => new BigInt64Array(n), int32: n => new Int32Array(n), int8: n => new Int8Array(n),
  uint8: n => new Uint8Array(n), bool: n => new Uint8Array(n),
};
(async () => {
  const t0 = process.hrtime.bigint();
  const s = await ort.InferenceSession.create(model, {intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential'});
  const session_s = Number(process.hrtime.bigint() - t0) / 1e9;
  const feeds = {};
  for (const i of spec) feeds[i.name] = new ort.Tensor(i.type, make[i.type](i.shape.reduce((a, b) => a * b, 1)), i.shape);
  await s.run(feeds);
  const t = [];
  for (let r = 0; r < runs; ++r) {
    const a = process.hrtime.bigint();
    await s.run(feeds);
    t.push(Number(process.hrtime.bigint() - a) / 1e9);
  }
  console.log(JSON.stringify({version: (ort.env.versions || {}).common || '?', session_s, runs: t}));
})().catch(e => { console.log(JSON.stringify({error: String(e).split('\n')[0]})); process.exit(1); });
)js";

struct OrtTiming {
  std::string version;
  double session_s = 0, per_run_s = 0;  // median
  int runs = 0;
};

std::string shell_quote(const std::string& s) {
  std::string r = "'";
  for (char c : s) r += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return r + "'";
}

// Where onnxruntime-node is installed: --ort, $SEEDCHIP_ORT, or
// build/ort/node_modules (scripts/setup.sh --bench puts it there).
std::string ort_modules(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* e = std::getenv("SEEDCHIP_ORT")) return e;
  return "build/ort/node_modules";
}

std::optional<OrtTiming> time_onnxruntime(const std::string& model, const std::vector<compiler::IoBinding>& inputs,
                                          const std::string& modules, int runs, std::string& why) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(fs::path(modules) / "onnxruntime-node", ec)) {
    why = fmt::format("onnxruntime-node not found in {} (scripts/setup.sh --bench installs it there; --ort DIR names "
                      "another node_modules)", modules);
    return std::nullopt;
  }
  nlohmann::json spec = nlohmann::json::array();
  for (const auto& b : inputs) {
    static const std::map<ir::ElemType, const char*> names = {
        {ir::ElemType::f32, "float32"}, {ir::ElemType::f64, "float64"}, {ir::ElemType::f16, "float16"},
        {ir::ElemType::i64, "int64"},   {ir::ElemType::i32, "int32"},   {ir::ElemType::i8, "int8"},
        {ir::ElemType::u8, "uint8"},    {ir::ElemType::boolean, "bool"}};
    const auto it = names.find(b.type);
    if (it == names.end()) {
      why = fmt::format("input '{}' is {}, which the benchmark does not feed to ONNX Runtime", b.name, ir::elem_name(b.type));
      return std::nullopt;
    }
    spec.push_back({{"name", b.name}, {"type", it->second}, {"shape", b.shape}});
  }
  const fs::path script = fs::temp_directory_path() / fmt::format("seedchip-bench-ort-{}.js", ::getpid());
  {
    std::ofstream f(script);
    f << kOrtScript;
    if (!f) {
      why = fmt::format("cannot write {}", script.string());
      return std::nullopt;
    }
  }
  const std::string cmd = fmt::format("NODE_PATH={} node {} {} {} {} 2>/dev/null", shell_quote(fs::absolute(modules).string()),
                                      shell_quote(script.string()), shell_quote(fs::absolute(model).string()),
                                      shell_quote(spec.dump()), runs);
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  fs::remove(script, ec);
  // the result is the last line node printed
  while (!out.empty() && out.back() == '\n') out.pop_back();
  const std::string line = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    why = out.empty() ? "node did not run (is nodejs installed?)" : "ONNX Runtime gave no result";
    return std::nullopt;
  }
  if (j.contains("error")) {
    why = "ONNX Runtime: " + j["error"].get<std::string>();
    return std::nullopt;
  }
  OrtTiming t;
  t.version = j.value("version", "?");
  t.session_s = j.value("session_s", 0.0);
  auto r = j.value("runs", std::vector<double>{});
  if (r.empty()) {
    why = "ONNX Runtime gave no timed run";
    return std::nullopt;
  }
  std::sort(r.begin(), r.end());
  t.per_run_s = r[r.size() / 2];
  t.runs = static_cast<int>(r.size());
  return t;
}

// One model end to end, in both modes, beside ONNX Runtime on the same machine.
void bench_model(const std::string& path, const arch::Chip& chip, const BenchOptions& bo) {
  runtime::LoadOptions lo;
  lo.timing_only = true;
  auto t0 = Clock::now();
  const auto lean = runtime::load_model(path, chip, lo);
  const auto r = sim::run_timing(chip, lean.program);
  const double timing_s = since(t0);
  fmt::print("{} on {}: {} instructions, {:.1f} MB of weights\n", path, chip.name, instructions(r),
             static_cast<double>(lean.constant_bytes) / 1e6);
  fmt::print("  timing mode: import + compile + timing {:.3f} s wall; predicted {:.3f} ms\n", timing_s, r.seconds * 1e3);

  lo.timing_only = false;
  t0 = Clock::now();
  const auto m = runtime::load_model(path, chip, lo);
  const double compile_s = since(t0);
  std::vector<ir::HostTensor> ins;
  for (size_t i = 0; i < m.inputs.size(); ++i) ins.push_back(runtime::random_input(m.inputs[i], static_cast<uint32_t>(i)));
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::pair<unsigned, double>> sims;
  sim::RunStats st;
  for (unsigned th : {1u, hw}) {
    if (th == hw && hw == 1) break;
    t0 = Clock::now();
    (void)runtime::run_model(m, chip, ins, th == 1 ? &st : nullptr, {}, th);
    sims.emplace_back(th, since(t0));
  }
  std::string sim_line;
  for (const auto& [th, s] : sims) sim_line += fmt::format("{}{:.3f} s on {} thread{}", sim_line.empty() ? "" : ", ", s, th, th > 1 ? "s" : "");
  fmt::print("  functional mode: import + compile {:.3f} s; simulation {} ({:.2f} G multiply-accumulates)\n", compile_s,
             sim_line, static_cast<double>(st.macs) / 1e9);

  std::string why;
  const auto ort = time_onnxruntime(path, m.inputs, ort_modules(bo.ort), bo.runs, why);
  if (!ort) {
    fmt::print("  ONNX Runtime: not measured: {}\n", why);
    return;
  }
  fmt::print("  ONNX Runtime {} (CPU, 1 thread): {:.1f} ms per run (median of {}; session created in {:.3f} s)\n", ort->version,
             ort->per_run_s * 1e3, ort->runs, ort->session_s);
  std::string ratios;
  for (const auto& [th, s] : sims)
    ratios += fmt::format("{}{:.1f}x on {} thread{}", ratios.empty() ? "" : ", ", s / ort->per_run_s, th, th > 1 ? "s" : "");
  fmt::print("  ratio to one ONNX Runtime run: functional simulation {}; timing mode end to end {:.1f}x\n", ratios,
             timing_s / ort->per_run_s);
}

}  // namespace

int cmd_bench(const std::vector<std::string>& which, const std::string& chip_name, const std::vector<std::string>& models,
              const std::vector<int64_t>& sizes_in, const BenchOptions& bo) {
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
  for (const auto& path : models) bench_model(path, chip, bo);
  return 0;
}

}  // namespace seedchip::cli
