// seedchip — loading models, inputs and conformance cases (load.h).
#include "seedchip/runtime/load.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/frontends/ir_check.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/hostops/hostops.h"
#include "seedchip/isa/program.h"
#include "seedchip/runtime/model.h"
#include "seedchip/runtime/tensor_io.h"

namespace fs = std::filesystem;

namespace seedchip::runtime {

namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}

compiler::CompileOptions compile_options(const LoadOptions& a) {
  compiler::CompileOptions o;
  auto p = compiler::parse_precision(a.precision);
  if (!p) throw std::runtime_error(fmt::format("--precision '{}': expected fp32, bf16, fp8 or int8", a.precision));
  o.precision = *p;
  o.dump_ir = a.dump_ir;
  return o;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs, const std::string& flag) {
  std::map<std::string, int64_t> dims;
  for (const auto& d : specs) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0) throw std::runtime_error(fmt::format("{} '{}': expected NAME=VALUE", flag, d));
    int64_t v = 0;
    try {
      size_t used = 0;
      v = std::stoll(d.substr(eq + 1), &used);
      if (used != d.size() - eq - 1) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw std::runtime_error(fmt::format("{} '{}': the value must be an integer", flag, d));
    }
    if (v <= 0) throw std::runtime_error(fmt::format("{} '{}': the value must be positive", flag, d));
    dims[d.substr(0, eq)] = v;
  }
  return dims;
}

std::map<std::string, std::string> parse_name_files(const std::vector<std::string>& specs, const std::string& flag) {
  std::map<std::string, std::string> given;
  for (const auto& s : specs) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == s.size())
      throw std::runtime_error(fmt::format("{} '{}': expected NAME=FILE", flag, s));
    if (!given.emplace(s.substr(0, eq), s.substr(eq + 1)).second)
      throw std::runtime_error(fmt::format("{} {}: given twice", flag, s.substr(0, eq)));
  }
  return given;
}

ir::HostTensor read_tensor_file(const std::string& file) {
  if (fs::path(file).extension() == ".pb") return frontends::read_tensor_pb(file);
  return host_from_npy(read_npy(file), file);
}

std::vector<ir::HostTensor> prepare_inputs(const std::vector<compiler::IoBinding>& bindings,
                                           const std::map<std::string, ir::HostTensor>& given, const std::string& flag,
                                           const std::map<std::string, std::string>& files) {
  for (const auto& [name, t] : given) {
    bool found = false;
    for (const auto& b : bindings) found = found || b.name == name;
    if (!found) {
      std::string names;
      for (const auto& b : bindings) names += (names.empty() ? "" : ", ") + b.name;
      throw std::runtime_error(fmt::format("{} {}: the model has no input '{}' (inputs: {})", flag, name, name, names));
    }
  }
  std::vector<ir::HostTensor> inputs;
  for (size_t i = 0; i < bindings.size(); ++i) {
    const auto& b = bindings[i];
    auto it = given.find(b.name);
    if (it == given.end()) {
      inputs.push_back(random_input(b, 1234 + static_cast<uint32_t>(i)));
      continue;
    }
    const ir::HostTensor& t = it->second;
    const auto f = files.find(b.name);
    const std::string what = f == files.end() ? "the array" : f->second;
    if (t.type != b.type)
      throw std::runtime_error(fmt::format("{} {}: {} holds {} data, the model's input is {}", flag, b.name, what,
                                           ir::elem_name(t.type), ir::elem_name(b.type)));
    if (t.shape != b.shape)
      throw std::runtime_error(fmt::format("{} {}: {} has shape {}, the model's input is {}", flag, b.name, what, shape_str(t.shape),
                                           shape_str(b.shape)));
    inputs.push_back(t);
  }
  return inputs;
}

compiler::CompiledModel compile_graph(const ir::Graph& g, const std::string& source, const arch::Chip& chip, const LoadOptions& a,
                                      const std::map<std::string, ir::HostTensor>& calibration) {
  const auto& calibration_files = a.input_files;
  auto opt = compile_options(a);
  opt.uncalibrated_ok = a.timing_only;
  opt.constant_values = !a.timing_only;
  if ((opt.precision == compiler::Precision::int8 || opt.precision == compiler::Precision::fp8) && !a.timing_only) {
    std::vector<compiler::IoBinding> bindings;
    for (int v : g.inputs) bindings.push_back({g.values[v].name, "", g.values[v].type, g.values[v].shape});
    opt.calibration = {prepare_inputs(bindings, calibration, "--input", calibration_files)};
    opt.runner = [&chip](const compiler::CompiledModel& cm, const std::vector<ir::HostTensor>& ins) { return run_model(cm, chip, ins); };
  }
  try {
    auto m = compiler::compile(g, chip, opt);
    m.source = source;
    return m;
  } catch (const compiler::CompileError& e) {
    throw std::runtime_error(fmt::format("{}: {}", source, e.what()));
  }
}

ir::Graph parse_ir(const std::string& text, const std::string& source) {
  ir::Graph g = ir::parse(text, source);  // also verifies the structure
  frontends::check_declared_shapes(g, source);
  return g;
}

compiler::CompiledModel load_model(const std::string& path, const arch::Chip& chip, const LoadOptions& a,
                                   const std::map<std::string, ir::HostTensor>& calibration) {
  const auto ext = fs::path(path).extension();
  if (ext == ".onnx" || ext == ".ir") {
    ir::Graph g;
    if (ext == ".ir") {
      std::ifstream f(path);
      if (!f) throw std::runtime_error(fmt::format("{}: cannot open", path));
      std::stringstream ss;
      ss << f.rdbuf();
      g = parse_ir(ss.str(), path);
    } else {
      frontends::ImportOptions io;
      io.dims = a.dims;
      io.weight_values = !a.timing_only;
      g = frontends::import_onnx(path, io);
    }
    return compile_graph(g, path, chip, a, calibration);
  }
  compiler::CompiledModel m;
  m.program = isa::read_program_file(path);
  m.source = path;
  for (const auto& d : m.program.data) m.constant_bytes += d.bytes.size();
  try {
    compiler::load_io_metadata(m);
  } catch (const compiler::CompileError& e) {
    throw std::runtime_error(fmt::format("{}: {}", path, e.what()));
  }
  return m;
}

compiler::CompiledModel load_onnx_bytes(const std::string& bytes, const std::string& source, const arch::Chip& chip,
                                        const LoadOptions& a, const std::map<std::string, ir::HostTensor>& calibration) {
  frontends::ImportOptions io;
  io.dims = a.dims;
  io.weight_values = !a.timing_only;
  return compile_graph(frontends::import_onnx_bytes(bytes, source, io), source, chip, a, calibration);
}

std::string compare_outputs(const ir::HostTensor& got, const ir::HostTensor& want) {
  if (got.shape != want.shape) return fmt::format("shape {} != expected {}", shape_str(got.shape), shape_str(want.shape));
  const bool fl = ir::elem_is_float(want.type);
  for (int64_t i = 0; i < want.elements(); ++i) {
    if (fl) {
      const double x = got.get(i), y = want.get(i);
      if (std::isnan(x) && std::isnan(y)) continue;
      if (std::isinf(y) && x == y) continue;
      if (!(std::fabs(x - y) <= 1e-7 + 1e-3 * std::fabs(y))) return fmt::format("element {}: got {} expected {}", i, x, y);
    } else if (got.get_int(i) != want.get_int(i)) {
      return fmt::format("element {}: got {} expected {}", i, got.get_int(i), want.get_int(i));
    }
  }
  return {};
}

std::string run_conformance_case(const std::string& dir, const arch::Chip& chip) {
  const fs::path c(dir);
  try {
    ir::Graph g;
    try {
      g = frontends::import_onnx((c / "model.onnx").string(), {});
    } catch (const std::exception& e) {
      return "UNSUPPORTED: " + first_line(e.what());  // import failures on unsupported types/ops
    }
    std::set<std::string> unsupported;
    for (const auto& n : g.nodes)
      if (!compiler::is_supported_op(n.op) && !hostops::supported(n)) unsupported.insert(n.op);
    if (!unsupported.empty()) {
      std::string l;
      for (const auto& o : unsupported) l += (l.empty() ? "" : " ") + o;
      return "UNSUPPORTED: " + l;
    }
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
      auto outs = run_model(m, chip, ins);
      for (size_t i = 0; i < outs.size(); ++i) {
        auto want = frontends::read_tensor_pb((s / fmt::format("output_{}.pb", i)).string());
        if (want.type != outs[i].type)
          return fmt::format("FAIL: output {} type {} != expected {}", i, ir::elem_name(outs[i].type), ir::elem_name(want.type));
        const std::string why = compare_outputs(outs[i], want);
        if (!why.empty()) return fmt::format("FAIL: output {} {}", i, why);
      }
    }
    return "PASS";
  } catch (const std::exception& e) {
    return "FAIL: " + first_line(e.what());
  }
}

}  // namespace seedchip::runtime
