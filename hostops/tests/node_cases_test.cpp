// Runs the ONNX backend node test cases through hostops::eval. Skipped unless
// SEEDCHIP_ONNX_NODE_TESTS names a directory of cases (converted here with
// export_cases.py, about a second) or a file that script already wrote.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <unistd.h>

#include "seedchip/hostops/hostops.h"

using namespace seedchip;
using ir::ElemType;
using ir::HostTensor;

namespace {

// One model: named input values, nodes in order, expected graph outputs.
struct Case {
  struct Op {
    ir::Node node;
    std::vector<std::string> in, out;  // value names, "-" when omitted
  };
  std::string name;
  std::map<std::string, HostTensor> values;
  std::vector<Op> ops;
  std::vector<std::pair<std::string, HostTensor>> expect;
};

// Reads one TENSOR record: ELEM RANK DIM... VALUE...
HostTensor read_tensor(std::istream& in) {
  std::string elem;
  int rank = 0;
  in >> elem >> rank;
  auto t = ir::parse_elem(elem);
  if (!t) throw std::runtime_error("bad element type " + elem);
  std::vector<int64_t> shape(static_cast<size_t>(rank));
  for (auto& d : shape) in >> d;
  HostTensor x(*t, shape);
  for (int64_t i = 0; i < x.elements(); ++i) {
    std::string v;
    in >> v;
    if (ir::elem_is_float(*t))
      x.set(i, std::strtod(v.c_str(), nullptr));
    else if (*t == ElemType::u64)
      x.set_int(i, static_cast<int64_t>(std::strtoull(v.c_str(), nullptr, 10)));
    else
      x.set_int(i, std::strtoll(v.c_str(), nullptr, 10));
  }
  if (!in) throw std::runtime_error("truncated tensor");
  return x;
}

std::string unhex(const std::string& h) {
  std::string s;
  if (h == "-") return s;
  for (size_t i = 0; i + 1 < h.size(); i += 2) s += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return s;
}

ir::Attr read_attr(std::istream& in) {
  std::string kind;
  in >> kind;
  auto real = [&] {
    std::string v;
    in >> v;
    return std::strtod(v.c_str(), nullptr);
  };
  if (kind == "int") {
    int64_t v;
    in >> v;
    return v;
  }
  if (kind == "float") return real();
  if (kind == "string") {
    std::string v;
    in >> v;
    return unhex(v);
  }
  if (kind == "ints") {
    size_t n;
    in >> n;
    std::vector<int64_t> v(n);
    for (auto& x : v) in >> x;
    return v;
  }
  if (kind == "floats") {
    size_t n;
    in >> n;
    std::vector<double> v(n);
    for (auto& x : v) x = real();
    return v;
  }
  if (kind == "tensor") return read_tensor(in);
  throw std::runtime_error("bad attribute kind " + kind);
}

std::vector<std::string> read_names(std::istream& in) {
  size_t n;
  in >> n;
  std::vector<std::string> v(n);
  for (auto& x : v) in >> x;
  return v;
}

std::vector<Case> read_cases(const std::string& path, std::vector<std::string>& skipped) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::vector<Case> cases;
  std::string line;
  Case cur;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string kw;
    in >> kw;
    if (kw == "case") {
      cur = Case{};
      in >> cur.name;
    } else if (kw == "skip") {
      skipped.push_back(line.substr(5));
    } else if (kw == "value" || kw == "expect") {
      std::string name;
      in >> name;
      HostTensor t = read_tensor(in);
      if (kw == "value")
        cur.values[name] = t;
      else
        cur.expect.emplace_back(name, t);
    } else if (kw == "node") {
      Case::Op op;
      in >> op.node.op >> op.node.domain >> op.node.opset;
      if (op.node.domain == "-") op.node.domain.clear();
      op.node.name = cur.name + (cur.ops.empty() ? "" : "#" + std::to_string(cur.ops.size()));
      cur.ops.push_back(op);
    } else if (kw == "attr") {
      std::string name;
      in >> name;
      cur.ops.back().node.attrs[name] = read_attr(in);
    } else if (kw == "in") {
      cur.ops.back().in = read_names(in);
    } else if (kw == "out") {
      auto& op = cur.ops.back();
      op.out = read_names(in);
      for (size_t i = 0; i < op.out.size(); ++i) op.node.outputs.push_back(op.out[i] == "-" ? -1 : static_cast<int>(i));
    } else if (kw == "end") {
      if (cur.ops.empty()) throw std::runtime_error(cur.name + ": no nodes");
      // Fresh node names: the single node of a case is named after it.
      if (cur.ops.size() > 1) cur.ops[0].node.name += "#0";
      cases.push_back(cur);
    }
  }
  return cases;
}

// Empty when equal (rtol 1e-3, atol 1e-7 for floats, exact otherwise), else why not.
std::string compare(const HostTensor& got, const HostTensor& want) {
  if (got.type != want.type)
    return "type " + std::string(ir::elem_name(got.type)) + " != " + std::string(ir::elem_name(want.type));
  if (got.shape != want.shape) {
    std::string a, b;
    for (auto d : got.shape) a += std::to_string(d) + ",";
    for (auto d : want.shape) b += std::to_string(d) + ",";
    return "shape [" + a + "] != [" + b + "]";
  }
  for (int64_t i = 0; i < got.elements(); ++i) {
    if (ir::elem_is_float(got.type)) {
      const double g = got.get(i), w = want.get(i);
      if (std::isnan(g) && std::isnan(w)) continue;
      if (std::isinf(w) && g == w) continue;
      if (!(std::fabs(g - w) <= 1e-7 + 1e-3 * std::fabs(w)))
        return "element " + std::to_string(i) + ": " + std::to_string(g) + " != " + std::to_string(w);
    } else if (got.get_int(i) != want.get_int(i)) {
      return "element " + std::to_string(i) + ": " + std::to_string(got.get_int(i)) + " != " + std::to_string(want.get_int(i));
    }
  }
  return {};
}

// Cases whose reference output cannot be reproduced by a deterministic
// evaluator following the spec, with the reason.
const std::map<std::string, std::string>& known_differences() {
  // onnx 1.12's generator truncates f32 -> bf16; onnxruntime and newer onnx
  // helpers round to nearest even, as HostTensor::set does.
  static const std::string bf16 = "reference truncates f32->bf16, hostops rounds to nearest even";
  static const std::map<std::string, std::string> m = {
      {"test_cast_FLOAT_to_BFLOAT16", bf16},
      {"test_castlike_FLOAT_to_BFLOAT16", bf16},
      {"test_castlike_FLOAT_to_BFLOAT16_expanded", bf16},
  };
  return m;
}

}  // namespace

TEST(OnnxNodeCases, MatchReference) {
  const char* env = std::getenv("SEEDCHIP_ONNX_NODE_TESTS");
  if (!env || !*env) GTEST_SKIP() << "set SEEDCHIP_ONNX_NODE_TESTS to a directory of ONNX backend node test cases";
  std::string file = env;
  if (std::filesystem::is_directory(env)) {
    file = (std::filesystem::temp_directory_path() / ("hostops_node_cases_" + std::to_string(getpid()) + ".txt")).string();
    const std::string cmd = std::string("'") + SEEDCHIP_PYTHON + "' '" + HOSTOPS_EXPORT_SCRIPT + "' '" + env + "' '" + file + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::vector<std::string> skipped;
  const std::vector<Case> cases = read_cases(file, skipped);
  if (file != env) std::filesystem::remove(file);
  struct Tally {
    int total = 0, run = 0, match = 0, unsupported = 0, known = 0, fail = 0;
  } single, multi;
  std::set<std::string> missing_ops;
  std::vector<std::string> failures;
  for (const Case& c : cases) {
    Tally& t = c.ops.size() == 1 ? single : multi;
    ++t.total;
    bool all = true;
    for (const auto& op : c.ops)
      if (!hostops::supported(op.node)) {
        missing_ops.insert(op.node.op + "-" + std::to_string(op.node.opset));
        all = false;
      }
    if (!all) continue;
    ++t.run;
    std::string why;
    try {
      std::map<std::string, HostTensor> env_values = c.values;
      for (const auto& op : c.ops) {
        std::vector<const HostTensor*> in;
        for (const auto& n : op.in) {
          if (n == "-") {
            in.push_back(nullptr);
            continue;
          }
          auto it = env_values.find(n);
          if (it == env_values.end()) throw std::runtime_error("value " + n + " is undefined");
          in.push_back(&it->second);
        }
        auto out = hostops::eval(op.node, in);
        if (out.size() != op.out.size()) throw std::runtime_error(op.node.name + ": output count " + std::to_string(out.size()));
        for (size_t i = 0; i < out.size(); ++i)
          if (op.out[i] != "-") env_values[op.out[i]] = std::move(out[i]);
      }
      for (const auto& [n, want] : c.expect) {
        auto it = env_values.find(n);
        why = it == env_values.end() ? "output " + n + " not produced" : compare(it->second, want);
        if (!why.empty()) {
          why = "output " + n + ": " + why;
          break;
        }
      }
    } catch (const hostops::Unsupported& e) {
      ++t.unsupported;
      std::cout << "  unsupported: " << c.name << ": " << e.what() << "\n";
      continue;
    } catch (const std::exception& e) {
      why = std::string("threw: ") + e.what();
    }
    if (why.empty()) {
      ++t.match;
    } else if (known_differences().count(c.name)) {
      ++t.known;
      std::cout << "  known difference: " << c.name << ": " << known_differences().at(c.name) << "\n";
    } else {
      ++t.fail;
      failures.push_back(c.name + " (" + c.ops[0].node.op + "-" + std::to_string(c.ops[0].node.opset) + "): " + why);
    }
  }
  auto report = [](const char* what, const Tally& t) {
    std::cout << what << ": " << t.total << " cases, " << t.run << " with supported ops: " << t.match << " match, " << t.known
              << " known differences, " << t.unsupported << " unsupported attributes, " << t.fail << " fail\n";
  };
  std::cout << "ONNX node cases (" << skipped.size() << " not exported)\n";
  report("  single-node", single);
  report("  multi-node (expanded functions)", multi);
  std::string ops;
  for (const auto& o : missing_ops) ops += o + " ";
  std::cout << "  ops not supported: " << ops << "\n";
  for (const auto& f : failures) ADD_FAILURE() << f;
}
