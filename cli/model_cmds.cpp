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

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/hostops/hostops.h"
#include "seedchip/isa/program.h"
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

compiler::CompileOptions compile_options(const ModelArgs& a) {
  compiler::CompileOptions o;
  auto p = compiler::parse_precision(a.precision);
  if (!p) throw std::runtime_error(fmt::format("--precision '{}': expected fp32, bf16, fp8 or int8", a.precision));
  o.precision = *p;
  for (const auto& d : a.dump_ir) o.dump_ir.insert(d);
  return o;
}

frontends::ImportOptions import_options(const ModelArgs& a) {
  frontends::ImportOptions o;
  for (const auto& d : a.dims) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0) throw std::runtime_error(fmt::format("--dim '{}': expected NAME=VALUE", d));
    int64_t v = 0;
    try {
      size_t used = 0;
      v = std::stoll(d.substr(eq + 1), &used);
      if (used != d.size() - eq - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("--dim '{}': the value must be an integer", d));
    }
    if (v <= 0) throw std::runtime_error(fmt::format("--dim '{}': the value must be positive", d));
    o.dims[d.substr(0, eq)] = v;
  }
  return o;
}

bool is_onnx(const std::string& path) { return fs::path(path).extension() == ".onnx"; }

ir::HostTensor read_input(const std::string& file);

std::map<std::string, std::string> parse_input_specs(const std::vector<std::string>& specs) {
  std::map<std::string, std::string> given;
  for (const auto& s : specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw std::runtime_error(fmt::format("--input '{}': expected NAME=FILE (.npy or .pb)", s));
    given[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return given;
}

// The model's inputs: from --input files where given (checked against the
// model's names, types and shapes), deterministic random data otherwise.
std::vector<ir::HostTensor> prepare_inputs(const std::vector<compiler::IoBinding>& bindings,
                                           const std::map<std::string, std::string>& given) {
  for (const auto& [name, file] : given) {
    bool found = false;
    for (const auto& b : bindings) found = found || b.name == name;
    if (!found) {
      std::string names;
      for (const auto& b : bindings) names += (names.empty() ? "" : ", ") + b.name;
      throw std::runtime_error(fmt::format("--input {}: the model has no input '{}' (inputs: {})", name, name, names));
    }
  }
  std::vector<ir::HostTensor> inputs;
  for (size_t i = 0; i < bindings.size(); ++i) {
    const auto& b = bindings[i];
    auto it = given.find(b.name);
    if (it == given.end()) {
      inputs.push_back(runtime::random_input(b, 1234 + static_cast<uint32_t>(i)));
      continue;
    }
    ir::HostTensor t = read_input(it->second);
    if (t.type != b.type)
      throw std::runtime_error(fmt::format("--input {}: {} holds {} data, the model's input is {}", b.name, it->second,
                                           ir::elem_name(t.type), ir::elem_name(b.type)));
    if (t.shape != b.shape)
      throw std::runtime_error(fmt::format("--input {}: {} has shape {}, the model's input is {}", b.name, it->second,
                                           shape_str(t.shape), shape_str(b.shape)));
    inputs.push_back(std::move(t));
  }
  return inputs;
}

// Compiles an ONNX file, or loads a compiled .scp program. For int8/fp8 the
// activation scales are calibrated on `given` inputs (random where absent).
compiler::CompiledModel load_model(const std::string& path, const arch::Chip& chip, const ModelArgs& a,
                                   const std::map<std::string, std::string>& given) {
  const bool ir_text = fs::path(path).extension() == ".ir";
  if (is_onnx(path) || ir_text) {
    ir::Graph g;
    if (ir_text) {
      std::ifstream f(path);
      if (!f) throw std::runtime_error(fmt::format("{}: cannot open", path));
      std::stringstream ss;
      ss << f.rdbuf();
      g = ir::parse(ss.str(), path);
    } else {
      g = frontends::import_onnx(path, import_options(a));
    }
    auto opt = compile_options(a);
    opt.uncalibrated_ok = a.mode == "timing";
    if ((opt.precision == compiler::Precision::int8 || opt.precision == compiler::Precision::fp8) && a.mode != "timing") {
      std::vector<compiler::IoBinding> bindings;
      for (int v : g.inputs) bindings.push_back({g.values[v].name, "", g.values[v].type, g.values[v].shape});
      opt.calibration = {prepare_inputs(bindings, given)};
      opt.runner = [&chip](const compiler::CompiledModel& cm, const std::vector<ir::HostTensor>& ins) {
        return runtime::run_model(cm, chip, ins);
      };
    }
    try {
      return compiler::compile(g, chip, opt);
    } catch (const compiler::CompileError& e) {
      throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
    }
  }
  compiler::CompiledModel m;
  m.program = isa::read_program_file(path);
  try {
    compiler::load_io_metadata(m);
  } catch (const compiler::CompileError& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  return m;
}

ir::HostTensor read_input(const std::string& file) {
  const auto ext = fs::path(file).extension().string();
  if (ext == ".pb") return frontends::read_tensor_pb(file);
  return runtime::host_from_npy(runtime::read_npy(file), file);
}

void print_summary(const compiler::CompiledModel& m, const sim::RunStats* st) {
  std::map<std::string, int> where;
  for (const auto& p : m.placement) where[p.where]++;
  std::string w;
  for (const auto& [k, v] : where) w += fmt::format("{}{} {}", w.empty() ? "" : ", ", v, k);
  uint64_t n = 0;
  for (const auto& c : m.program.cores) n += c.code.size();
  fmt::print("ops: {} ({})\n", m.placement.size(), w);
  fmt::print("program: {} instructions on {} cores, {} bytes of constants\n", n, m.program.cores.size(), [&] {
    uint64_t b = 0;
    for (const auto& d : m.program.data) b += d.bytes.size();
    return b;
  }());
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
  auto m = load_model(model, chip, a, parse_input_specs(input_specs));
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
  const auto given = parse_input_specs(input_specs);
  auto m = load_model(model, chip, a, given);
  fmt::print("{} on {} ({}, mode {}):\n", model, chip.name, a.precision, a.mode);
  sim::RunStats st;
  if (functional) {
    const auto inputs = prepare_inputs(m.inputs, given);
    const auto t0 = std::chrono::steady_clock::now();
    ProgressBar bar("functional");
    auto outs = runtime::run_model(m, chip, inputs, &st, bar.callback());
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
      for (size_t c = 0; c < r.engines.size(); ++c)
        for (int e = 0; e < isa::kNumEngines; ++e)
          if (c < st.order_hash.size() && st.order_hash[c][e] != r.engines[c][e].order_hash)
            throw std::runtime_error(fmt::format(
                "functional and timing models executed different instruction streams (core {} {})", c,
                isa::engine_name(static_cast<isa::Engine>(e))));
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

namespace {

// Compares per the ONNX backend test rules (rtol 1e-3, atol 1e-7; exact for ints).
std::string compare(const ir::HostTensor& got, const ir::HostTensor& want) {
  if (got.shape != want.shape) return fmt::format("shape {} != expected {}", shape_str(got.shape), shape_str(want.shape));
  const bool fl = ir::elem_is_float(want.type);
  for (int64_t i = 0; i < want.elements(); ++i) {
    if (fl) {
      const double a = got.get(i), b = want.get(i);
      if (std::isnan(a) && std::isnan(b)) continue;
      if (std::isinf(b) && a == b) continue;
      if (!(std::fabs(a - b) <= 1e-7 + 1e-3 * std::fabs(b)))
        return fmt::format("element {}: got {} expected {}", i, a, b);
    } else if (got.get_int(i) != want.get_int(i)) {
      return fmt::format("element {}: got {} expected {}", i, got.get_int(i), want.get_int(i));
    }
  }
  return {};
}

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

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

int cmd_conformance(const std::vector<std::string>& dirs, const std::string& chip_name, int64_t min_pass) {
  const arch::Chip chip = arch::find_chip(chip_name);
  std::vector<fs::path> cases;
  for (const auto& d : dirs) collect_cases(d, cases);
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& c : cases) {
    const std::string name = c.filename().string();
    // Ops of the model (from the protobuf, before any compile step).
    std::set<std::string> unsupported;
    std::string verdict;
    try {
      ir::Graph g;
      try {
        g = frontends::import_onnx((c / "model.onnx").string(), {});
      } catch (const std::exception& e) {
        // import failures on unsupported types/ops count as unsupported
        const std::string msg = first_line(e.what());
        verdict = "UNSUPPORTED: " + msg;
      }
      if (verdict.empty()) {
        for (const auto& n : g.nodes)
          if (!compiler::is_supported_op(n.op) && !hostops::supported(n)) unsupported.insert(n.op);
        if (!unsupported.empty()) {
          std::string l;
          for (const auto& o : unsupported) l += (l.empty() ? "" : " ") + o;
          verdict = "UNSUPPORTED: " + l;
        }
      }
      if (verdict.empty()) {
        auto m = compiler::compile(g, chip, {});
        std::vector<fs::path> sets;
        for (const auto& e : fs::directory_iterator(c))
          if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
        std::sort(sets.begin(), sets.end());
        for (const auto& s : sets) {
          std::vector<ir::HostTensor> ins;
          for (size_t i = 0; i < m.inputs.size(); ++i) {
            auto t = frontends::read_tensor_pb((s / fmt::format("input_{}.pb", i)).string());
            // onnx 1.12 stores bfloat16 test data as uint16 bit patterns
            if (m.inputs[i].type == ir::ElemType::bf16 && t.type == ir::ElemType::u16) t.type = ir::ElemType::bf16;
            ins.push_back(std::move(t));
          }
          auto outs = runtime::run_model(m, chip, ins);
          for (size_t i = 0; i < outs.size(); ++i) {
            auto want = frontends::read_tensor_pb((s / fmt::format("output_{}.pb", i)).string());
            if (want.type != outs[i].type) {
              verdict = fmt::format("FAIL: output {} type {} != expected {}", i, ir::elem_name(outs[i].type), ir::elem_name(want.type));
              break;
            }
            std::string why = compare(outs[i], want);
            if (!why.empty()) {
              verdict = fmt::format("FAIL: output {} {}", i, why);
              break;
            }
          }
          if (!verdict.empty()) break;
        }
        if (verdict.empty()) verdict = "PASS";
      }
    } catch (const std::exception& e) {
      verdict = "FAIL: " + first_line(e.what());
    }
    if (verdict == "PASS") ++passed;
    else if (verdict.rfind("UNSUPPORTED", 0) == 0) ++skipped;
    else ++failed;
    fmt::print("{} {}\n", name, verdict);
  }
  fmt::print("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
  if (min_pass >= 0 && passed < min_pass) {
    fmt::print(stderr, "seedchip: error: {} cases passed, fewer than the required {}\n", passed, min_pass);
    return 1;
  }
  return 0;
}

}  // namespace seedchip::cli
