// seedchip — the command-line tool: one subcommand per job.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "demo.h"
#include "bench.h"
#include "llm_cmd.h"
#include "cost_cmd.h"
#include "analyze_cmd.h"
#include "explore_cmd.h"
#include "plan_cmd.h"
#include "serve_cmd.h"
#include "model_cmds.h"
#include "seedchip/numerics/input.h"
#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/llm.h"
#include "seedchip/llm/safetensors.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/isa/program.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/tensor_io.h"
#include "seedchip/sim/functional.h"

namespace {

using namespace seedchip;

using cli::read_text;

// A program file: assembly text (.s/.asm) is assembled, anything else is
// read as a binary container.
isa::Program load_program(const std::string& path) {
  auto ext = std::filesystem::path(path).extension().string();
  if (ext == ".s" || ext == ".asm") return isa::assemble(read_text(path), path);
  return isa::read_program_file(path);
}

void print_stats(const sim::RunStats& st) {
  fmt::print("instructions: {} (dma_in {}, dma_out {}, matrix {}, vector {}, control {})\n", st.total(),
             st.instructions[0], st.instructions[1], st.instructions[2], st.instructions[3], st.instructions[4]);
  fmt::print("matrix MACs: {}  vector elements: {}  bytes loaded: {}  stored: {}  barriers: {}\n", st.macs,
             st.vector_elements, st.bytes_loaded, st.bytes_stored, st.barriers);
}


}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"seedchip: the SeedChip AI inference accelerator in software (ISA, simulator, tools)", "seedchip"};
  app.set_version_flag("--version", std::string("seedchip ") + SEEDCHIP_VERSION);
  app.require_subcommand(1);

  // chip
  auto* chip_cmd = app.add_subcommand("chip", "Chip descriptions");
  chip_cmd->require_subcommand(1);
  std::string chip_name;
  bool chip_json = false;
  auto* chip_show = chip_cmd->add_subcommand("show", "Print a chip's derived figures (peaks, bandwidth, SRAM, ridge point)");
  chip_show->add_option("chip", chip_name, "Built-in chip name or YAML file")->required();
  chip_show->add_flag("--json", chip_json, "Print one JSON object");
  auto* chip_list = chip_cmd->add_subcommand("list", "List the built-in chips");
  cli::CostArgs ca;
  auto cost_flags = [](CLI::App* c, cli::CostArgs& x) {
    c->add_option("--node", x.node, "Process node (default: the chip's process.node, else samsung-sf4x)");
    c->add_option("--units", x.units, "Units built (NRE is amortised over them)")->capture_default_str();
    c->add_option("--yield-model", x.yield_model, "negative-binomial, poisson or murphy")->capture_default_str();
    c->add_option("--set", x.sets, "Override a parameter: KEY=VALUE (repeatable; keys in --json's assumptions)");
    c->add_option("--assumptions", x.assumptions_file, "YAML file of KEY: VALUE overrides");
    c->add_flag("--sensitivity", x.sensitivity, "Vary each uncertain parameter over its range (a tornado table)");
    c->add_flag("--json", x.json, "Print one JSON object");
  };
  auto* chip_cost = chip_cmd->add_subcommand("cost", "Die area, yield, unit cost and TDP of a chip (docs/cost.md)");
  chip_cost->add_option("chip", ca.chip, "Built-in chip name or YAML file");
  chip_cost->add_flag("--calibration", ca.calibration, "Print the area model's fit on published dies");
  cost_flags(chip_cost, ca);
  auto* tco_cmd = app.add_subcommand("tco", "Total cost of ownership per chip-year and per million output tokens (docs/cost.md)");
  cli::TcoArgs ta;
  tco_cmd->add_option("--chip", ta.cost.chip, "Built-in chip name or YAML file")->required();
  tco_cmd->add_option("--serve-json", ta.serve_json, "A `seedchip serve --json` result on that chip");
  tco_cmd->add_option("--model", ta.serve.model, "Or: serve this model on the chip first (offline; the serve flags below)");
  tco_cmd->add_option("--dataset", ta.serve.dataset, "Serving run: dataset (default: the model's MLPerf one)");
  tco_cmd->add_option("--requests", ta.serve.requests, "Serving run: requests");
  tco_cmd->add_option("--tp", ta.serve.opt.tp, "Serving run: tensor-parallel chips per replica");
  tco_cmd->add_option("--serve-chips", ta.serve.chips, "Serving run: total chips");
  tco_cmd->add_option("--precision", ta.serve.opt.precision, "Serving run: precision");
  tco_cmd->add_option("--tokens-per-s", ta.tokens_per_s, "Or: output tokens/s per chip");
  tco_cmd->add_option("--power-w", ta.power_w, "Average draw per chip, W (default: the serving run's, else avg_power_fraction x TDP)");
  cost_flags(tco_cmd, ta.cost);

  // asm
  auto* asm_cmd = app.add_subcommand("asm", "Assemble a text program into a binary program");
  std::string asm_in, asm_out;
  asm_cmd->add_option("file", asm_in, "Assembly file (.s)")->required();
  asm_cmd->add_option("-o,--output", asm_out, "Binary program to write")->required();

  // disasm
  auto* dis_cmd = app.add_subcommand("disasm", "Print a binary program as assembly");
  std::string dis_in, dis_out;
  dis_cmd->add_option("file", dis_in, "Binary program")->required();
  dis_cmd->add_option("-o,--output", dis_out, "Write the assembly here instead of stdout");

  // sim
  auto* sim_cmd = app.add_subcommand("sim", "Run a program on the functional simulator");
  std::string sim_in, sim_chip = "seedchip-v1", sim_outdir;
  std::vector<std::string> sim_inputs;
  sim_cmd->add_option("file", sim_in, "Binary program (or .s assembly)")->required();
  sim_cmd->add_option("--chip", sim_chip, "Chip name or YAML file")->capture_default_str();
  sim_cmd->add_option("--input", sim_inputs, "SYMBOL=FILE.npy for each input tensor");
  sim_cmd->add_option("--output-dir", sim_outdir, "Directory for one .npy per output tensor (default: outputs not written)");

  // demo
  auto* demo_cmd = app.add_subcommand("demo", "Run the built-in example (int8 GEMM + bias + ReLU) and check it");
  std::string demo_chip = "seedchip-v1";
  demo_cmd->add_option("--chip", demo_chip, "Chip name or YAML file")->capture_default_str();

  // compile / run / conformance
  cli::ModelArgs margs;
  auto add_model_opts = [&](CLI::App* c) {
    c->add_option("--chip", margs.chip, "Chip name or YAML file")->capture_default_str();
    c->add_option("--precision", margs.precision, "fp32, bf16, fp8 or int8")->capture_default_str();
    c->add_option("--dim", margs.dims, "NAME=VALUE for a symbolic dimension");
    c->add_option("--dump-ir", margs.dump_ir, "Print the IR after a stage: import, canonicalize, fold, fuse, quantize or all");
  };
  auto* compile_cmd = app.add_subcommand("compile", "Compile an ONNX model into a chip program");
  std::string compile_in, compile_out;
  compile_cmd->add_option("model", compile_in, "ONNX model")->required();
  compile_cmd->add_option("-o,--output", compile_out, "Program to write (.scp)")->required();
  std::vector<std::string> compile_inputs;
  compile_cmd->add_option("--input", compile_inputs, "NAME=FILE calibration input for int8/fp8 (random where absent)");
  add_model_opts(compile_cmd);
  auto* run_cmd = app.add_subcommand("run", "Compile (if needed) and run a model on the functional simulator");
  std::string run_in, run_outdir;
  std::vector<std::string> run_inputs;
  run_cmd->add_option("model", run_in, "ONNX model or compiled .scp program")->required();
  run_cmd->add_option("--input", run_inputs, "NAME=FILE (.npy or ONNX TensorProto .pb); others get random data");
  run_cmd->add_option("--output-dir", run_outdir, "Directory for one .npy per output (default: outputs not written)");
  run_cmd->add_option("--mode", margs.mode, "functional (values), timing (cycles, no data) or both")->capture_default_str();
  run_cmd->add_option("--threads", margs.threads, "Host threads for the functional simulation's cores (0: all hardware threads)")
      ->capture_default_str();
  run_cmd->add_option("--metrics", margs.metrics, "Write timing metrics JSON here");
  run_cmd->add_option("--trace", margs.trace, "Write a Perfetto/Chrome trace JSON here");
  run_cmd->add_option("--hbm", margs.hbm, "HBM model: fast or detailed")->capture_default_str();
  add_model_opts(run_cmd);
  auto* conf_cmd = app.add_subcommand("conformance", "Run ONNX backend test cases (model.onnx + test_data_set_*)");
  std::vector<std::string> conf_dirs;
  std::string conf_chip = "seedchip-v1";
  int64_t conf_min = -1;
  conf_cmd->add_option("dirs", conf_dirs, "Test case directories, or directories of them")->required();
  conf_cmd->add_option("--chip", conf_chip, "Chip name or YAML file")->capture_default_str();
  conf_cmd->add_option("--min-pass", conf_min, "Exit 1 when fewer cases pass");
  std::string conf_expect, conf_write;
  conf_cmd->add_option("--expect", conf_expect,
                       "File listing the cases that must pass (one name per line, # comments): exit 1 naming each "
                       "listed case that does not");
  conf_cmd->add_option("--write-pass", conf_write, "Write the names of the cases that passed to this file (for --expect)");

  auto* opt_cmd = app.add_subcommand("opt", "Run compiler passes on IR text (as printed by --dump-ir) and print the result");
  std::string opt_in;
  std::vector<std::string> opt_passes;
  opt_cmd->add_option("file", opt_in, "IR text file")->required();
  opt_cmd->add_option("--pass", opt_passes, "Pass to run, in order: fold, fuse, dce")->required();

  auto* bench_cmd = app.add_subcommand("bench", "Benchmarks: compiled GEMMs vs peak, HBM streaming, simulator speed");
  std::vector<std::string> bench_which, bench_models;
  std::vector<int64_t> bench_sizes;
  std::string bench_chip = "seedchip-v1";
  bench_cmd->add_option("which", bench_which, "gemm, hbm, sim, gpt2 (default: these four), serve (MLPerf Llama-2-70B on 8 chips: offline and the server rate search)");
  bench_cmd->add_option("--chip", bench_chip, "Chip name or YAML file")->capture_default_str();
  cli::BenchOptions bench_opt;
  bench_cmd->add_option("--model", bench_models,
                        "ONNX model to time end to end in timing mode and simulate functionally, beside ONNX Runtime "
                        "(repeat for more)")->take_last();
  bench_cmd->add_option("--sizes", bench_sizes, "GEMM sizes (default 128 ... 16384)");
  bench_cmd->add_option("--ort", bench_opt.ort,
                        "node_modules directory holding onnxruntime-node (default: $SEEDCHIP_ORT, else build/ort/node_modules)");
  bench_cmd->add_option("--runs", bench_opt.runs, "Timed ONNX Runtime runs per model (the median is reported)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));

  auto* llm_cmd = app.add_subcommand("llm", "LLM inference on the chip: timing, and generation from safetensors weights (docs/llm.md)");
  cli::LlmArgs la;
  llm_cmd->add_option("--model", la.model, "Built-in model name or config.json")->required();
  llm_cmd->add_option("--chip", la.chip, "Chip name or YAML file")->capture_default_str();
  llm_cmd->add_option("--chips", la.opt.chips, "Chips (tensor parallel)")->capture_default_str();
  llm_cmd->add_option("--batch", la.opt.batch, "Sequences per batch (timing)")->capture_default_str();
  llm_cmd->add_option("--prompt-len", la.opt.prompt, "Prompt tokens (timing)")->capture_default_str();
  llm_cmd->add_option("--gen-len", la.opt.generate, "Generated tokens (timing)")->capture_default_str();
  llm_cmd->add_option("--precision", la.opt.precision, "fp32, bf16, fp8, int8, w8a16 or w4a16")->capture_default_str();
  llm_cmd->add_option("--kv-page", la.opt.kv_page, "Tokens per KV-cache page (the cache is a page pool; 0 = contiguous)")
      ->capture_default_str();
  llm_cmd->add_option("--mode", la.mode, "timing, functional (generate on the functional simulator) or both")->capture_default_str();
  llm_cmd->add_option("--prompt-ids", la.prompt_ids, "Prompt token ids: 1,2,3 or 1 2 3 (functional)");
  llm_cmd->add_option("--generate", la.generate, "Tokens to generate greedily (functional)")->capture_default_str();
  llm_cmd->add_flag("--json", la.json, "Print one JSON object");
  llm_cmd->add_option("--weights", la.weights,
                      "safetensors file, shard index (.index.json) or directory: checked against the config, and generated from in functional mode");
  llm_cmd->add_option("--dump-layer", la.dump_layer, "Write the timed decode-step layer (one chip's shard) as IR text to this file (seedchip compile/run take it)");
  llm_cmd->add_option("--dump-prefill", la.dump_prefill, "Write the timed first prefill chunk's layer as IR text to this file");

  auto* serve_cmd = app.add_subcommand("serve", "Serve request streams on simulated chips: continuous batching, MLPerf offline/server, SLOs (docs/serving.md)");
  cli::ServeArgs sa;
  serve_cmd->add_option("--model", sa.model, "Built-in model name or config.json")->required();
  serve_cmd->add_option("--chip", sa.chip, "Chip name or YAML file")->capture_default_str();
  serve_cmd->add_option("--chips", sa.chips, "Total chips (replicas = chips / (tp x pp))");
  serve_cmd->add_option("--tp", sa.opt.tp, "Tensor-parallel chips per replica")->capture_default_str();
  serve_cmd->add_option("--pp", sa.opt.pp, "Pipeline stages per replica")->capture_default_str();
  serve_cmd->add_option("--replicas", sa.opt.replicas, "Data-parallel replicas behind the router")->capture_default_str();
  serve_cmd->add_option("--router", sa.opt.router, "round-robin or least-outstanding")->capture_default_str();
  serve_cmd->add_option("--precision", sa.opt.precision, "fp32, bf16, fp8, int8, w8a16 or w4a16")->capture_default_str();
  serve_cmd->add_option("--scenario", sa.scenario, "offline, server or trace")->capture_default_str();
  serve_cmd->add_option("--dataset", sa.dataset, "mlperf-llama2-70b, mlperf-llama3.1-405b, mlperf-mixtral-8x7b, fixed:IN:OUT or a trace file (CSV/JSONL)");
  serve_cmd->add_option("--requests", sa.requests, "Requests (default: the dataset's size)");
  serve_cmd->add_option("--rate", sa.rate, "Server: requests/s (default: search the largest meeting the SLOs)");
  serve_cmd->add_option("--arrival", sa.arrival, "poisson, gamma:CV or fixed")->capture_default_str();
  serve_cmd->add_option("--seed", sa.seed, "Seed of the dataset sample, the arrivals and the MoE routing")->capture_default_str();
  serve_cmd->add_option("--max-num-seqs", sa.opt.max_num_seqs, "Sequences per step (default: vLLM's for the chip)");
  serve_cmd->add_option("--max-batched-tokens", sa.opt.max_batched_tokens, "Token budget per step (default: vLLM's for the chip)");
  serve_cmd->add_option("--block-size", sa.opt.block_size, "KV-cache block (tokens)")->capture_default_str();
  serve_cmd->add_option("--memory-utilization", sa.opt.memory_utilization, "Share of HBM the engine uses")->capture_default_str();
  serve_cmd->add_option("--ttft-slo", sa.ttft_slo, "p99 TTFT limit, s (default: the model's MLPerf limit)");
  serve_cmd->add_option("--tpot-slo", sa.tpot_slo, "p99 TPOT limit, s (default: the model's MLPerf limit)");
  serve_cmd->add_flag("--expert-parallel", sa.opt.expert_parallel, "Mixture of experts: whole experts on different chips of a replica (experts/tp each), not a slice of every expert");
  serve_cmd->add_option("--disaggregate", sa.disaggregate, "P:D prefill and decode replicas (KV caches move over the links)");
  bool serve_json = false;
  serve_cmd->add_flag("--json", serve_json, "Print one JSON object");
  serve_cmd->add_option("--requests-out", sa.requests_out, "Write one CSV row per request");
  serve_cmd->add_option("--trace", sa.trace_out, "Write a Perfetto/Chrome trace (a track per engine, a span per request)");

  auto* explore_cmd = app.add_subcommand("explore", "Design-space sweep: vary chip keys, serve and cost every design, SQLite results, Pareto fronts (docs/explore.md)");
  cli::ExploreArgs ea;
  explore_cmd->add_option("sweep", ea.sweep, "Sweep file (YAML)")->required();
  explore_cmd->add_option("--jobs", ea.jobs, "Worker threads")->capture_default_str();
  explore_cmd->add_option("--db", ea.db, "SQLite results file: one row per design x workload; an existing one is resumed");
  explore_cmd->add_option("--report", ea.report, "Write an HTML report (SVG figures) into this folder");
  explore_cmd->add_flag("--json", ea.json, "Print one JSON object (every row and the Pareto fronts)");
  explore_cmd->add_flag("--mpi", ea.mpi, "Spread the points over MPI ranks (mpirun -np N seedchip explore ... --mpi)");
  explore_cmd->add_option("--max-points", ea.max_points, "Evaluate at most this many new points, then stop (resume later)");
  explore_cmd->add_option("--top", ea.top, "Designs listed per workload")->capture_default_str();

  auto* analyze_cmd = app.add_subcommand("analyze", "The flagship analysis: the own chip vs a GPU at MLPerf server limits, cost and TCO, the fleet plan, the report");
  cli::AnalyzeArgs aa;
  analyze_cmd->add_option("--chip", aa.chip, "The own chip (name or YAML)")->capture_default_str();
  analyze_cmd->add_option("--baseline", aa.baseline, "The bought chip to compare with")->capture_default_str();
  analyze_cmd->add_option("--model", aa.model, "Model served (its MLPerf server limits)")->capture_default_str();
  analyze_cmd->add_option("--precision", aa.precision, "Precision")->capture_default_str();
  analyze_cmd->add_option("--chips", aa.chips, "Chips per deployment")->capture_default_str();
  analyze_cmd->add_option("--requests", aa.requests, "Requests per serving run")->capture_default_str();
  analyze_cmd->add_option("--units", aa.units, "Own-chip volume for the unit cost")->capture_default_str();
  analyze_cmd->add_option("--fleet", aa.fleet, "Fleet file for the plan (default: the built-in examples/fleet/seed-2026.yaml)");
  analyze_cmd->add_option("--report", aa.report, "Write the HTML report into this folder");
  analyze_cmd->add_flag("--json", aa.json, "Print one JSON object");

  auto* plan_cmd = app.add_subcommand("plan", "The fleet planner: which hardware to buy per quarter under budget, HBM and power limits (MILP, docs/plan.md)");
  cli::PlanArgs pa;
  plan_cmd->add_option("fleet", pa.fleet, "Fleet file (YAML)")->required();
  plan_cmd->add_flag("--json", pa.json, "Print one JSON object");
  plan_cmd->add_option("--report", pa.report, "Write an HTML report (SVG figures) into this folder");
  plan_cmd->add_flag("--check", pa.check, "Recompute every constraint from the plan's decisions; exit 1 on a violation");
  plan_cmd->add_option("--requests", pa.requests, "Requests per serving run that fills a missing tokens/s")->capture_default_str();

  auto* val_cmd = app.add_subcommand("validate", "Predict published GPU measurements and report the error (docs/llm.md)");
  std::string val_csv;
  bool val_check = false, val_json = false;
  double val_mae = 0.15, val_max = 0.30;
  val_cmd->add_option("--csv", val_csv, "Calibration CSV (default: the built-in copy of reference/calibration.csv)");
  val_cmd->add_flag("--check", val_check, "Exit 1 when the mean absolute error or a row's error is over its limit");
  val_cmd->add_option("--max-mae", val_mae, "Limit on the mean absolute error for --check")->capture_default_str();
  val_cmd->add_option("--max-error", val_max, "Limit on any row's absolute error for --check")->capture_default_str();
  val_cmd->add_flag("--json", val_json, "Print one JSON object");

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    // the one-line error form and exit 1, like every other rejection
    fmt::print(stderr, "seedchip: error: {} (see --help)\n", one_line(e.what()));
    return 1;
  }

  try {
    if (chip_cmd->parsed()) {
      if (chip_cost->parsed()) return cli::cmd_chip_cost(ca);
      if (chip_list->parsed()) {
        for (const auto& n : arch::builtin_chip_names()) {
          auto c = arch::find_chip(n);
          fmt::print("{:<16} {}\n", n, c.description);
        }
      } else {
        auto c = arch::find_chip(chip_name);
        cli::ChipEconomics e = cli::chip_economics(c);
        if (chip_json) {
          auto j = arch::chip_summary_json(c);
          if (e.ok) j["die_area_mm2"] = e.area_mm2, j["node"] = e.node, j["tdp_w_energy_model"] = e.tdp_w;
          fmt::print("{}\n", j.dump(2));
        } else {
          fmt::print("{}", arch::chip_summary_text(c));
          if (e.ok)
            fmt::print("{:<22}{:.0f} mm2 on {} (seedchip chip cost {} for the breakdown)\n"
                       "{:<22}{:.0f} W at full activity of every engine (energy model)\n",
                       "die area (model)", e.area_mm2, e.node, c.name, "TDP (model)", e.tdp_w);
          else
            fmt::print("{:<22}{}\n", "die area (model)", e.why);
        }
      }
    } else if (tco_cmd->parsed()) {
      return cli::cmd_tco(ta);
    } else if (asm_cmd->parsed()) {
      auto p = isa::assemble(read_text(asm_in), asm_in);
      isa::write_program_file(p, asm_out);
      size_t n = 0;
      for (const auto& c : p.cores) n += c.code.size();
      fmt::print("{}: {} instructions on {} cores for chip {}\n", asm_out, n, p.cores.size(), p.target);
    } else if (dis_cmd->parsed()) {
      auto text = isa::disassemble(isa::read_program_file(dis_in));
      if (dis_out.empty()) {
        fmt::print("{}", text);
      } else {
        std::ofstream f(dis_out);
        f << text;
        if (!f) throw std::runtime_error(fmt::format("{}: cannot write", dis_out));
      }
    } else if (sim_cmd->parsed()) {
      auto chip = arch::find_chip(sim_chip);
      auto p = load_program(sim_in);
      sim::FunctionalSim s(chip, p);
      runtime::bind_inputs(s, p, runtime::parse_name_files(sim_inputs));
      auto st = s.run();
      fmt::print("{} on {}: ok\n", sim_in, chip.name);
      print_stats(st);
      if (sim_outdir.empty()) {
        fmt::print("outputs not written (--output-dir DIR writes one .npy per output)\n");
      } else {
        for (const auto& o : runtime::write_outputs(s, p, sim_outdir)) fmt::print("wrote {}\n", o);
      }
    } else if (demo_cmd->parsed()) {
      return cli::run_demo(demo_chip);
    } else if (compile_cmd->parsed()) {
      return cli::cmd_compile(compile_in, compile_out, margs, compile_inputs);
    } else if (run_cmd->parsed()) {
      return cli::cmd_run(run_in, margs, run_inputs, run_outdir);
    } else if (llm_cmd->parsed()) {
      for (const auto* o : llm_cmd->get_options())
        if (o->count() > 0) la.given.insert(o->get_name());
      return cli::cmd_llm(la);
    } else if (serve_cmd->parsed()) {
      // 0 and -1 mean "not given" inside: a given value must be a real one
      for (const auto& [f, v] : {std::pair{"--rate", sa.rate}, std::pair{"--ttft-slo", sa.ttft_slo},
                                 std::pair{"--tpot-slo", sa.tpot_slo}, std::pair{"--chips", static_cast<double>(sa.chips)},
                                 std::pair{"--requests", static_cast<double>(sa.requests)},
                                 std::pair{"--max-num-seqs", static_cast<double>(sa.opt.max_num_seqs)},
                                 std::pair{"--max-batched-tokens", static_cast<double>(sa.opt.max_batched_tokens)}})
        if (serve_cmd->get_option(f)->count() > 0 && !(v > 0 && std::isfinite(v)))
          throw std::runtime_error(fmt::format("{} {}: must be a positive number", f, v));
      // options only the server scenario reads are refused elsewhere rather than ignored
      for (const char* f : {"--rate", "--arrival"})
        if (serve_cmd->get_option(f)->count() > 0 && sa.scenario != "server")
          throw std::runtime_error(fmt::format("{} applies to --scenario server only (this run is --scenario {})", f, sa.scenario));
      return cli::cmd_serve(sa, serve_json);
    } else if (plan_cmd->parsed()) {
      return cli::cmd_plan(pa);
    } else if (analyze_cmd->parsed()) {
      return cli::cmd_analyze(aa);
    } else if (explore_cmd->parsed()) {
      return cli::cmd_explore(ea);
    } else if (val_cmd->parsed()) {
      return cli::cmd_validate(val_csv, val_check, val_mae, val_max, val_json);
    } else if (bench_cmd->parsed()) {
      return cli::cmd_bench(bench_which, bench_chip, bench_models, bench_sizes, bench_opt);
    } else if (opt_cmd->parsed()) {
      ir::Graph g = runtime::parse_ir(read_text(opt_in), opt_in);
      for (const auto& p : opt_passes) g = compiler::run_pass(p, std::move(g));
      fmt::print("{}", ir::print(g, true));
    } else if (conf_cmd->parsed()) {
      return cli::cmd_conformance(conf_dirs, conf_chip, conf_min, conf_expect, conf_write);
    }
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "seedchip: error: {}\n", one_line(e.what()));
    return 1;
  }
  return 0;
}
