// seedchip — `seedchip compile`, `seedchip run`, `seedchip conformance`.
#include "model_cmds.h"
#include "progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/hostops/hostops.h"
#include "seedchip/isa/program.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/model.h"
#include "seedchip/runtime/tensor_io.h"
#include "seedchip/report/report.h"
#include "seedchip/sim/timing.h"

namespace fs = std::filesystem;

namespace seedchip::cli {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}

bool is_onnx(const std::string& path) { return fs::path(path).extension() == ".onnx"; }

runtime::LoadOptions load_options(const ModelArgs& a, const std::vector<std::string>& input_specs) {
  runtime::LoadOptions o;
  o.input_files = runtime::parse_name_files(input_specs);
  o.precision = a.precision;
  o.dims = runtime::parse_dims(a.dims);
  o.dump_ir.insert(a.dump_ir.begin(), a.dump_ir.end());
  o.timing_only = a.mode == "timing";
  return o;
}

// --input NAME=FILE arguments read into tensors.
std::map<std::string, ir::HostTensor> read_inputs(const std::vector<std::string>& specs) {
  std::map<std::string, ir::HostTensor> out;
  for (const auto& [name, file] : runtime::parse_name_files(specs)) {
    ir::HostTensor t = runtime::read_tensor_file(file);
    out.emplace(name, std::move(t));
  }
  return out;
}

void print_summary(const compiler::CompiledModel& m, const sim::RunStats* st) {
  std::map<std::string, int> where;
  for (const auto& p : m.placement) where[p.where]++;
  std::string w;
  for (const auto& [k, v] : where) w += fmt::format("{}{} {}", w.empty() ? "" : ", ", v, k);
  uint64_t n = 0;
  for (const auto& c : m.program.cores) n += c.code.size();
  fmt::print("ops: {} ({})\n", m.placement.size(), w);
  fmt::print("program: {} instructions on {} cores, {} bytes of constants\n", n, m.program.cores.size(), m.constant_bytes);
  // ops by instruction count
  auto sorted = m.placement;
  std::stable_sort(sorted.begin(), sorted.end(), [](auto& x, auto& y) { return x.instructions > y.instructions; });
  const size_t show = std::min<size_t>(sorted.size(), 12);
  fmt::print("{:<40} {:<22} {:<7} {:>12}\n", "node", "op", "where", "instructions");
  for (size_t i = 0; i < show; ++i)
    fmt::print("{:<40} {:<22} {:<7} {:>12}\n", sorted[i].node.substr(0, 40), sorted[i].op, sorted[i].where,
               sorted[i].instructions);
  if (sorted.size() > show) fmt::print("... {} more ops\n", sorted.size() - show);
  if (st)
    fmt::print("executed: {} instructions (dma_in {}, dma_out {}, matrix {}, vector {}, control {}), {} MACs\n",
               st->total(), st->instructions[0], st->instructions[1], st->instructions[2], st->instructions[3],
               st->instructions[4], st->macs);
}

}  // namespace

int cmd_compile(const std::string& model, const std::string& out, const ModelArgs& a,
                const std::vector<std::string>& input_specs) {
  const arch::Chip chip = arch::find_chip(a.chip);
  if (!is_onnx(model) && fs::path(model).extension() != ".ir")
    throw std::runtime_error(fmt::format("{}: compile takes an .onnx model (or .ir text)", model));
  auto m = runtime::load_model(model, chip, load_options(a, input_specs), read_inputs(input_specs));
  isa::write_program_file(m.program, out);
  fmt::print("{}: compiled for {} ({}) -> {}\n", model, chip.name, a.precision, out);
  print_summary(m, nullptr);
  return 0;
}

int cmd_run(const std::string& model, const ModelArgs& a, const std::vector<std::string>& input_specs,
            const std::string& outdir) {
  if (a.mode != "functional" && a.mode != "timing" && a.mode != "both")
    throw std::runtime_error(fmt::format("--mode '{}': expected functional, timing or both", a.mode));
  if (a.hbm != "fast" && a.hbm != "detailed")
    throw std::runtime_error(fmt::format("--hbm '{}': expected fast or detailed", a.hbm));
  const bool functional = a.mode != "timing", timing = a.mode != "functional";
  if (!timing && (!a.metrics.empty() || !a.trace.empty()))
    throw std::runtime_error("--metrics and --trace need --mode timing or both");
  // Fail before simulating when a report cannot be written.
  for (const auto* path : {&a.metrics, &a.trace}) {
    if (path->empty()) continue;
    std::ofstream probe(*path, std::ios::app);
    if (!probe) throw std::runtime_error(fmt::format("{}: cannot be written", *path));
  }
  const arch::Chip chip = arch::find_chip(a.chip);
  const auto given = read_inputs(input_specs);
  auto m = runtime::load_model(model, chip, load_options(a, input_specs), given);
  fmt::print("{} on {} ({}, mode {}):\n", model, chip.name, a.precision, a.mode);
  sim::RunStats st;
  if (functional) {
    const auto inputs = runtime::prepare_inputs(m.inputs, given, "--input", runtime::parse_name_files(input_specs));
    const auto t0 = std::chrono::steady_clock::now();
    ProgressBar bar("functional");
    auto outs = runtime::run_model(m, chip, inputs, &st, bar.callback(), a.threads);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::error_code ec;
    if (!outdir.empty()) fs::create_directories(outdir, ec);
    if (ec) throw std::runtime_error(fmt::format("{}: cannot create output directory: {}", outdir, ec.message()));
    fmt::print("functional simulation: {:.2f} s\n", wall);
    print_summary(m, &st);
    if (outdir.empty()) fmt::print("outputs not written (--output-dir DIR writes one .npy per output)\n");
    for (size_t i = 0; i < outs.size() && !outdir.empty(); ++i) {
      std::string safe = m.outputs[i].name;
      for (char& c : safe)
        if (c == '/' || c == '\\' || c == ':') c = '_';
      const std::string path = (fs::path(outdir) / (safe + ".npy")).string();
      runtime::write_npy(path, runtime::npy_from_host(outs[i]));
      fmt::print("wrote {} {}{}\n", path, ir::elem_name(outs[i].type), shape_str(outs[i].shape));
    }
  } else {
    print_summary(m, nullptr);
  }
  if (timing) {
    sim::TimingOptions to;
    to.hbm = a.hbm == "detailed" ? sim::HbmModel::detailed : sim::HbmModel::fast;
    to.record = true;
    const auto labels = m.instruction_labels();
    ProgressBar bar("timing");
    to.progress = bar.callback();
    const auto t0 = std::chrono::steady_clock::now();
    sim::TimingResult r = sim::run_timing(chip, m.program, to);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    uint64_t n = 0;
    for (const auto& c : r.engines)
      for (const auto& e : c) n += e.instructions;
    fmt::print("timing simulation: {} instructions in {:.3f} s wall ({:.2f} M instructions/s)\n", n, wall,
               wall > 0 ? static_cast<double>(n) / wall / 1e6 : 0.0);
    fmt::print("{}", report::summary_text(chip, r, labels));
    if (functional) {
      const std::string diff = runtime::stream_mismatch(st, r);
      if (!diff.empty())
        throw std::runtime_error(fmt::format("functional and timing models executed different instruction streams ({})", diff));
      fmt::print("both models executed the same instruction streams\n");
    }
    if (!a.metrics.empty()) {
      report::write_json(report::metrics_json(chip, r, labels), a.metrics);
      fmt::print("wrote {}\n", a.metrics);
    }
    if (!a.trace.empty()) {
      report::write_json(report::trace_json(chip, m.program, r, labels), a.trace);
      fmt::print("wrote {}\n", a.trace);
    }
  }
  return 0;
}

std::string read_text(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw std::runtime_error(fmt::format("{}: no such file", path));
  std::ifstream f(path);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot open", path));
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

namespace {

void collect_cases(const fs::path& p, std::vector<fs::path>& out) {
  if (fs::exists(p / "model.onnx")) {
    out.push_back(p);
    return;
  }
  if (!fs::is_directory(p)) throw std::runtime_error(fmt::format("{}: not a test case directory", p.string()));
  std::vector<fs::path> subs;
  for (const auto& e : fs::directory_iterator(p))
    if (e.is_directory()) subs.push_back(e.path());
  std::sort(subs.begin(), subs.end());
  for (const auto& s : subs) collect_cases(s, out);
}

}  // namespace

int cmd_conformance(const std::vector<std::string>& dirs, const std::string& chip_name, int64_t min_pass,
                    const std::string& expect_file, const std::string& write_pass) {
  const arch::Chip chip = arch::find_chip(chip_name);
  // The expected list is read first: a bad file is refused before the run.
  std::vector<std::string> expected;
  std::set<std::string> listed;
  if (!expect_file.empty()) {
    std::istringstream in(read_text(expect_file));
    std::string line;
    for (int ln = 1; std::getline(in, line); ++ln) {
      const auto b = line.find_first_not_of(" \t\r"), e = line.find_last_not_of(" \t\r");
      if (b == std::string::npos || line[b] == '#') continue;
      const std::string name = line.substr(b, e - b + 1);
      if (name.find_first_of(" \t/") != std::string::npos)
        throw std::runtime_error(fmt::format("{}:{}: '{}' is not a test case name", expect_file, ln, name));
      if (!listed.insert(name).second)
        throw std::runtime_error(fmt::format("{}:{}: case '{}' is listed twice", expect_file, ln, name));
      expected.push_back(name);
    }
  }
  std::vector<fs::path> cases;
  for (const auto& d : dirs) collect_cases(d, cases);
  int passed = 0, failed = 0, skipped = 0;
  std::map<std::string, std::string> verdicts;
  for (const auto& c : cases) {
    const std::string name = c.filename().string();
    const std::string verdict = runtime::run_conformance_case(c.string(), chip);
    if (verdict == "PASS") ++passed;
    else if (verdict.rfind("UNSUPPORTED", 0) == 0) ++skipped;
    else ++failed;
    verdicts[name] = verdict;
    fmt::print("{} {}\n", name, verdict);
  }
  fmt::print("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
  if (!write_pass.empty()) {
    std::ofstream out(write_pass);
    out << "# ONNX backend node cases that `seedchip conformance` passes (written by --write-pass)\n";
    for (const auto& [name, v] : verdicts)
      if (v == "PASS") out << name << "\n";
    if (!out) throw std::runtime_error(fmt::format("{}: cannot write", write_pass));
  }
  int status = 0;
  if (!expect_file.empty()) {
    // Case by case: a regression in one case cannot hide behind a gain in another.
    std::vector<std::string> lost;
    for (const auto& name : expected) {
      const auto it = verdicts.find(name);
      if (it == verdicts.end()) lost.push_back(name + " (not found)");
      else if (it->second != "PASS") lost.push_back(fmt::format("{} ({})", name, it->second.substr(0, 120)));
    }
    std::vector<std::string> gained;
    for (const auto& [name, v] : verdicts)
      if (v == "PASS" && !listed.count(name)) gained.push_back(name);
    if (!gained.empty())
      fmt::print("{} cases pass that {} does not list (add them with --write-pass): {}\n", gained.size(), expect_file,
                 fmt::join(gained, ", "));
    if (!lost.empty()) {
      fmt::print(stderr, "seedchip: error: {}: {} of its {} cases do not pass: {}\n", expect_file, lost.size(),
                 expected.size(), fmt::join(lost, "; "));
      status = 1;
    }
  }
  if (min_pass >= 0 && passed < min_pass) {
    fmt::print(stderr, "seedchip: error: {} cases passed, fewer than the required {}\n", passed, min_pass);
    status = 1;
  }
  return status;
}

}  // namespace seedchip::cli
