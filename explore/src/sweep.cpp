// seedchip — sweep files, design points and their evaluation (sweep.h).
#include "seedchip/explore/sweep.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <random>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"
#include "seedchip/llm/config.h"
#include "seedchip/serve/scenario.h"

namespace seedchip::explore {

namespace {

// ---- small helpers ----

std::string fmt_num(double v) {
  if (std::isfinite(v) && v == std::round(v) && std::abs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:.10g}", v);
}

std::optional<double> parse_num(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string where(const Sweep& s, const std::string& key) { return fmt::format("{}: {}", s.source, key); }

void check_keys(const YAML::Node& n, const std::vector<std::string>& allowed, const std::string& source,
                const std::string& path) {
  if (!n.IsMap()) throw SweepError(fmt::format("{}: {}: must be a map", source, path.empty() ? "(top level)" : path));
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string k = it->first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
    const std::string full = path.empty() ? k : path + "." + k;
    const std::string near = nearest(k, allowed);
    throw SweepError(fmt::format("{}: {}: unknown key{} (expected one of: {})", source, full,
                                 near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near), fmt::join(allowed, ", ")));
  }
}

std::string scalar(const YAML::Node& n, const std::string& source, const std::string& key) {
  if (!n.IsScalar()) throw SweepError(fmt::format("{}: {}: must be a scalar", source, key));
  return n.Scalar();
}

double number(const YAML::Node& n, const std::string& source, const std::string& key) {
  const auto v = parse_num(scalar(n, source, key));
  if (!v) throw SweepError(fmt::format("{}: {}: must be a number, got '{}'", source, key, n.Scalar()));
  return *v;
}

int64_t integer(const YAML::Node& n, const std::string& source, const std::string& key, int64_t lo) {
  const double v = number(n, source, key);
  if (v != std::round(v) || v < static_cast<double>(lo) || v > 1e12)
    throw SweepError(fmt::format("{}: {}: must be an integer >= {}, got '{}'", source, key, lo, n.Scalar()));
  return static_cast<int64_t>(v);
}

bool is_int(double v) { return v == std::round(v) && std::abs(v) < 1e15; }

// Every full key path the chip schema names (for suggestions).
std::vector<std::string> schema_paths(const std::map<std::string, std::vector<std::string>>& schema) {
  std::vector<std::string> out;
  for (const auto& [path, keys] : schema)
    for (const auto& k : keys)
      if (k != "*") out.push_back(path.empty() ? k : path + "." + k);
  return out;
}

std::vector<std::string> split_path(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = key.find('.', start);
    parts.push_back(key.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

// Whether the loader accepts `key`: the deepest map of the path the base
// chip has must allow the next component (maps the base lacks are checked
// when a point is loaded).
bool key_known(const std::string& key, const std::map<std::string, std::vector<std::string>>& schema) {
  const auto parts = split_path(key);
  std::string parent;
  for (const auto& part : parts) {
    if (part.empty()) return false;
    auto it = schema.find(parent);
    if (it == schema.end()) return true;  // a map the base chip does not have
    const auto& keys = it->second;
    if (std::find(keys.begin(), keys.end(), "*") == keys.end() && std::find(keys.begin(), keys.end(), part) == keys.end())
      return false;
    parent = parent.empty() ? part : parent + "." + part;
  }
  return true;
}

YAML::Node find_path(const YAML::Node& root, const std::string& key) {
  YAML::Node n = root;
  for (const auto& part : split_path(key)) {
    if (!n.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node c = n[part];
    if (!c) return YAML::Node(YAML::NodeType::Undefined);
    n.reset(c);
  }
  return n;
}

void set_path(YAML::Node& root, const std::string& key, const std::string& value) {
  YAML::Node n = root;
  const auto parts = split_path(key);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!n[parts[i]] || !n[parts[i]].IsMap()) n[parts[i]] = YAML::Node(YAML::NodeType::Map);
    YAML::Node c = n[parts[i]];
    n.reset(c);
  }
  n[parts.back()] = value;
}

// Deterministic uniform [0, 1) from a 64-bit Mersenne twister (its sequence is fixed by the standard).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

std::vector<std::string> range_values(const Parameter& p) {
  std::vector<std::string> out;
  if (p.step > 0) {
    for (int64_t i = 0;; ++i) {
      const double v = p.from + static_cast<double>(i) * p.step;
      if (v > p.to + 1e-9 * std::max(1.0, std::abs(p.to))) break;
      out.push_back(fmt_num(p.integer ? std::round(v) : v));
    }
  } else {
    for (int64_t i = 0; i < p.points; ++i) {
      const double v = p.points == 1 ? p.from : p.from + (p.to - p.from) * static_cast<double>(i) / static_cast<double>(p.points - 1);
      out.push_back(fmt_num(p.integer ? std::round(v) : v));
    }
  }
  return out;
}

// A value of `p` at the quantile u in [0, 1).
std::string sample_value(const Parameter& p, double u) {
  if (!p.is_range) {
    const size_t n = p.values.size();
    return p.values[std::min(n - 1, static_cast<size_t>(u * static_cast<double>(n)))];
  }
  double v = p.from + u * (p.to - p.from);
  if (p.step > 0) v = p.from + std::round((v - p.from) / p.step) * p.step;
  v = std::clamp(v, std::min(p.from, p.to), std::max(p.from, p.to));
  return fmt_num(p.integer ? std::round(v) : v);
}

Workload read_workload(const YAML::Node& n, const std::string& source, const std::string& path) {
  check_keys(n, {"name", "model", "scenario", "precision", "dataset", "chips", "tp", "pp", "requests", "block_size",
                 "max_num_seqs", "ttft_slo", "tpot_slo", "expert_parallel", "seed"},
             source, path);
  Workload w;
  if (!n["model"]) throw SweepError(fmt::format("{}: {}.model: required key is missing", source, path));
  w.model = scalar(n["model"], source, path + ".model");
  w.name = n["name"] ? scalar(n["name"], source, path + ".name") : w.model;
  if (n["scenario"]) {
    w.scenario = scalar(n["scenario"], source, path + ".scenario");
    if (w.scenario != "server" && w.scenario != "offline")
      throw SweepError(fmt::format("{}: {}.scenario: '{}': expected server or offline", source, path, w.scenario));
  }
  if (n["precision"]) w.precision = scalar(n["precision"], source, path + ".precision");
  if (n["dataset"]) w.dataset = scalar(n["dataset"], source, path + ".dataset");
  if (n["chips"]) w.chips = integer(n["chips"], source, path + ".chips", 1);
  if (n["pp"]) w.pp = integer(n["pp"], source, path + ".pp", 1);
  if (n["requests"]) w.requests = integer(n["requests"], source, path + ".requests", 1);
  if (n["block_size"]) w.block_size = integer(n["block_size"], source, path + ".block_size", 1);
  if (n["max_num_seqs"]) w.max_num_seqs = integer(n["max_num_seqs"], source, path + ".max_num_seqs", 1);
  if (n["seed"]) w.seed = static_cast<uint64_t>(integer(n["seed"], source, path + ".seed", 0));
  if (n["ttft_slo"]) w.ttft_slo = number(n["ttft_slo"], source, path + ".ttft_slo");
  if (n["tpot_slo"]) w.tpot_slo = number(n["tpot_slo"], source, path + ".tpot_slo");
  if (n["expert_parallel"]) w.expert_parallel = n["expert_parallel"].as<bool>();
  if (n["tp"]) {
    w.tp.clear();
    if (n["tp"].IsSequence()) {
      for (size_t i = 0; i < n["tp"].size(); ++i) w.tp.push_back(integer(n["tp"][i], source, fmt::format("{}.tp[{}]", path, i), 1));
      if (w.tp.empty()) throw SweepError(fmt::format("{}: {}.tp: an empty list", source, path));
    } else {
      w.tp.push_back(integer(n["tp"], source, path + ".tp", 1));
    }
  }
  for (auto tp : w.tp)
    if (w.chips % (tp * w.pp) != 0)
      throw SweepError(fmt::format("{}: {}.tp: {} x pp {} does not divide chips {}", source, path, tp, w.pp, w.chips));
  return w;
}

}  // namespace

// ---- expressions ----

namespace {

class Expr {
 public:
  Expr(const std::string& s, const std::function<std::optional<double>(const std::string&)>& lookup, const std::string& where)
      : s_(s), lookup_(lookup), where_(where) {}
  double parse() {
    const double v = sum();
    skip();
    if (i_ != s_.size()) fail(fmt::format("unexpected '{}'", s_.substr(i_)));
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw SweepError(fmt::format("{}: expression '{}': {}", where_, s_, why));
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  double sum() {
    double v = product();
    while (true) {
      if (eat('+')) v += product();
      else if (eat('-')) v -= product();
      else return v;
    }
  }
  double product() {
    double v = power();
    while (true) {
      if (eat('*')) v *= power();
      else if (eat('/')) {
        const double d = power();
        if (d == 0) fail("division by zero");
        v /= d;
      } else return v;
    }
  }
  double power() {
    const double b = unary();
    if (eat('^')) return std::pow(b, power());
    return b;
  }
  double unary() {
    if (eat('-')) return -unary();
    if (eat('+')) return unary();
    return atom();
  }
  double atom() {
    skip();
    if (eat('(')) {
      const double v = sum();
      if (!eat(')')) fail("missing ')'");
      return v;
    }
    if (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) {
      char* end = nullptr;
      const double v = std::strtod(s_.c_str() + i_, &end);
      i_ = static_cast<size_t>(end - s_.c_str());
      return v;
    }
    const size_t start = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.')) ++i_;
    if (start == i_) fail(i_ < s_.size() ? fmt::format("unexpected '{}'", s_[i_]) : "unexpected end");
    const std::string name = s_.substr(start, i_ - start);
    if (eat('(')) {
      std::vector<double> args{sum()};
      while (eat(',')) args.push_back(sum());
      if (!eat(')')) fail("missing ')'");
      auto one = [&]() {
        if (args.size() != 1) fail(fmt::format("{}() takes one argument", name));
        return args[0];
      };
      if (name == "min") return *std::min_element(args.begin(), args.end());
      if (name == "max") return *std::max_element(args.begin(), args.end());
      if (name == "round") return std::round(one());
      if (name == "floor") return std::floor(one());
      if (name == "ceil") return std::ceil(one());
      if (name == "sqrt") return std::sqrt(one());
      fail(fmt::format("unknown function '{}' (min, max, round, floor, ceil, sqrt)", name));
    }
    const auto v = lookup_(name);
    if (!v) fail(fmt::format("'{}' is not a numeric key of the design", name));
    return *v;
  }

  const std::string& s_;
  const std::function<std::optional<double>(const std::string&)>& lookup_;
  const std::string& where_;
  size_t i_ = 0;
};

}  // namespace

double eval_expression(const std::string& expr, const std::function<std::optional<double>(const std::string&)>& lookup,
                       const std::string& where) {
  Expr e(expr, lookup, where);
  const double v = e.parse();
  if (!std::isfinite(v)) throw SweepError(fmt::format("{}: expression '{}': not a finite number", where, expr));
  return v;
}

std::string nearest(const std::string& key, const std::vector<std::string>& valid) {
  auto last = [](const std::string& k) {
    const size_t d = k.rfind('.');
    return d == std::string::npos ? k : k.substr(d + 1);
  };
  for (const auto& v : valid)
    if (v != key && last(v) == last(key) && key.find('.') == std::string::npos) return v;
  auto dist = [](const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t bd = std::string::npos;
  for (const auto& v : valid) {
    const size_t d = std::min(dist(key, v), dist(last(key), last(v)) + (key == last(key) ? 0 : 2));
    if (d < bd) {
      bd = d;
      best = v;
    }
  }
  if (bd <= std::max<size_t>(3, key.size() / 3)) return best;
  for (const auto& v : valid)  // "price" -> "price_usd"
    if (v.rfind(key + "_", 0) == 0) return v;
  return "";
}

// ---- loading ----

const std::vector<std::string>& design_figures() {
  static const std::vector<std::string> k = {"die_area_mm2", "tdp_w", "model_tdp_w", "unit_cost_usd", "price_usd",
                                             "yield", "hbm_stacks", "hbm_gib", "hbm_tb_s", "peak_tflops", "cores",
                                             "clock_mhz", "sram_mib"};
  return k;
}

Sweep load_sweep(const std::string& path) {
  Sweep s;
  s.source = path;
  YAML::Node root;
  try {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw SweepError(fmt::format("{}: cannot read sweep file", path));
    const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // YAML is UTF-8 text; keys and values also go into the JSON fingerprint and rows
    if (!valid_utf8(text)) throw SweepError(fmt::format("{}: not UTF-8 text", path));
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw SweepError(fmt::format("{}:{}:{}: malformed YAML: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (!root || root.IsNull()) throw SweepError(fmt::format("{}: an empty sweep file", path));
  try {
    check_keys(root, {"name", "base", "units", "parameters", "derived", "sample", "tdp", "constraints", "workloads", "baselines"},
               path, "");
    s.name = root["name"] ? scalar(root["name"], path, "name") : std::filesystem::path(path).stem().string();
    if (!root["base"]) throw SweepError(fmt::format("{}: base: required key is missing (a chip name or file)", path));
    s.base = scalar(root["base"], path, "base");
    // a relative chip file is relative to the sweep file
    if ((s.base.find('/') != std::string::npos || s.base.ends_with(".yaml") || s.base.ends_with(".yml")) &&
        std::filesystem::path(s.base).is_relative()) {
      const auto rel = std::filesystem::path(path).parent_path() / s.base;
      std::error_code ec;
      if (std::filesystem::exists(rel, ec)) s.base = rel.string();
    }
    try {
      const auto t = arch::find_chip_text(s.base);
      s.base_text = t.text;
      s.base_source = t.source;
    } catch (const arch::ChipError& e) {
      throw SweepError(fmt::format("{}: base: {}", path, e.what()));
    }
    std::map<std::string, std::vector<std::string>> schema;
    try {
      schema = arch::chip_schema(s.base_text, s.base_source);
    } catch (const arch::ChipError& e) {
      throw SweepError(fmt::format("{}: base: {}", path, e.what()));
    }
    const auto paths = schema_paths(schema);
    auto check_chip_key = [&](const std::string& key, const std::string& section) {
      if (key_known(key, schema)) return;
      const std::string near = nearest(key, paths);
      throw SweepError(fmt::format("{}: {}.{}: not a chip description key{}", path, section, key,
                                   near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near)));
    };
    if (root["units"]) s.units = integer(root["units"], path, "units", 1);
    if (root["tdp"]) {
      const std::string t = scalar(root["tdp"], path, "tdp");
      if (t != "model" && t != "declared") throw SweepError(fmt::format("{}: tdp: '{}': expected model or declared", path, t));
      s.model_tdp = t == "model";
    }
    // parameters
    const YAML::Node ps = root["parameters"];
    if (!ps || !ps.IsMap() || ps.size() == 0)
      throw SweepError(fmt::format("{}: parameters: an empty sweep (give at least one chip key to vary)", path));
    std::set<std::string> seen;
    for (auto it = ps.begin(); it != ps.end(); ++it) {
      Parameter p;
      p.key = it->first.as<std::string>();
      const std::string key = "parameters." + p.key;
      check_chip_key(p.key, "parameters");
      if (!seen.insert(p.key).second) throw SweepError(fmt::format("{}: {}: given twice", path, key));
      const YAML::Node v = it->second;
      if (v.IsSequence()) {
        for (size_t i = 0; i < v.size(); ++i) p.values.push_back(scalar(v[i], path, fmt::format("{}[{}]", key, i)));
        if (p.values.empty()) throw SweepError(fmt::format("{}: {}: an empty list", path, key));
      } else if (v.IsMap()) {
        check_keys(v, {"from", "to", "step", "points"}, path, key);
        if (!v["from"] || !v["to"]) throw SweepError(fmt::format("{}: {}: a range needs from and to", path, key));
        p.is_range = true;
        p.from = number(v["from"], path, key + ".from");
        p.to = number(v["to"], path, key + ".to");
        if (p.to < p.from) throw SweepError(fmt::format("{}: {}: to {} is below from {}", path, key, p.to, p.from));
        if (v["step"] && v["points"]) throw SweepError(fmt::format("{}: {}: give step or points, not both", path, key));
        if (v["step"]) {
          p.step = number(v["step"], path, key + ".step");
          if (!(p.step > 0)) throw SweepError(fmt::format("{}: {}.step: must be positive", path, key));
          if ((p.to - p.from) / p.step + 1 > kMaxDesignPoints)
            throw SweepError(fmt::format("{}: {}.step: {:.3g} values from {} to {}; at most {:.0f}", path, key,
                                         std::floor((p.to - p.from) / p.step) + 1, p.from, p.to, kMaxDesignPoints));
        } else if (v["points"]) {
          p.points = integer(v["points"], path, key + ".points", 1);
          if (static_cast<double>(p.points) > kMaxDesignPoints)
            throw SweepError(fmt::format("{}: {}.points: {} points; at most {:.0f}", path, key, p.points, kMaxDesignPoints));
        } else {
          p.points = 2;
        }
        p.integer = is_int(p.from) && is_int(p.to) && (p.step == 0 ? p.points <= 1 || is_int((p.to - p.from) / static_cast<double>(p.points - 1)) : is_int(p.step));
        p.values = range_values(p);
      } else {
        p.values.push_back(scalar(v, path, key));
      }
      s.parameters.push_back(std::move(p));
    }
    if (const YAML::Node d = root["derived"]) {
      if (!d.IsMap()) throw SweepError(fmt::format("{}: derived: must be a map of key: expression", path));
      for (auto it = d.begin(); it != d.end(); ++it) {
        const std::string k = it->first.as<std::string>();
        check_chip_key(k, "derived");
        if (seen.count(k)) throw SweepError(fmt::format("{}: derived.{}: also a parameter", path, k));
        s.derived.emplace_back(k, scalar(it->second, path, "derived." + k));
      }
    }
    if (const YAML::Node smp = root["sample"]) {
      if (smp.IsScalar()) {
        s.method = smp.Scalar();
      } else {
        check_keys(smp, {"method", "points", "seed"}, path, "sample");
        s.method = smp["method"] ? scalar(smp["method"], path, "sample.method") : "random";
        if (smp["points"]) s.samples = integer(smp["points"], path, "sample.points", 1);
        if (static_cast<double>(s.samples) > kMaxDesignPoints)
          throw SweepError(fmt::format("{}: sample.points: {} points; at most {:.0f}", path, s.samples, kMaxDesignPoints));
        if (smp["seed"]) s.seed = static_cast<uint64_t>(integer(smp["seed"], path, "sample.seed", 0));
      }
      if (s.method != "grid" && s.method != "random" && s.method != "latin-hypercube")
        throw SweepError(fmt::format("{}: sample.method: '{}': expected grid, random or latin-hypercube", path, s.method));
      if (s.method != "grid" && s.samples == 0)
        throw SweepError(fmt::format("{}: sample.points: required for method {}", path, s.method));
    }
    if (s.method == "grid") {
      double n = 1;
      for (const auto& p : s.parameters) n *= static_cast<double>(p.values.size());
      if (n > kMaxDesignPoints) throw SweepError(fmt::format("{}: parameters: a grid of {:.3g} points; use sample: {{method: latin-hypercube, points: N}}", path, n));
    }
    if (const YAML::Node c = root["constraints"]) {
      if (!c.IsMap()) throw SweepError(fmt::format("{}: constraints: must be a map of figure: {{min, max}}", path));
      for (auto it = c.begin(); it != c.end(); ++it) {
        DesignConstraint k;
        k.figure = it->first.as<std::string>();
        const std::string key = "constraints." + k.figure;
        const auto& figs = design_figures();
        if (std::find(figs.begin(), figs.end(), k.figure) == figs.end()) {
          const std::string near = nearest(k.figure, figs);
          throw SweepError(fmt::format("{}: {}: unknown figure{} (expected one of: {})", path, key,
                                       near.empty() ? "" : fmt::format(" (did you mean '{}'?)", near), fmt::join(figs, ", ")));
        }
        check_keys(it->second, {"min", "max"}, path, key);
        if (it->second["min"]) k.min = number(it->second["min"], path, key + ".min");
        if (it->second["max"]) k.max = number(it->second["max"], path, key + ".max");
        if (k.min > k.max) throw SweepError(fmt::format("{}: {}: min {} above max {}", path, key, k.min, k.max));
        s.constraints.push_back(k);
      }
    }
    const YAML::Node ws = root["workloads"];
    if (!ws || !ws.IsSequence() || ws.size() == 0)
      throw SweepError(fmt::format("{}: workloads: required (a list of serving jobs: model, scenario, chips, tp ...)", path));
    std::set<std::string> names;
    for (size_t i = 0; i < ws.size(); ++i) {
      auto w = read_workload(ws[i], path, fmt::format("workloads[{}]", i));
      try {
        (void)llm::find_model(w.model);
      } catch (const std::exception& e) {
        throw SweepError(fmt::format("{}: workloads[{}].model: {}", path, i, e.what()));
      }
      if (!names.insert(w.name).second) throw SweepError(fmt::format("{}: workloads[{}].name: '{}' given twice", path, i, w.name));
      s.workloads.push_back(std::move(w));
    }
    if (const YAML::Node b = root["baselines"]) {
      if (!b.IsSequence()) throw SweepError(fmt::format("{}: baselines: must be a list of chip names or files", path));
      for (size_t i = 0; i < b.size(); ++i) {
        const std::string c = scalar(b[i], path, fmt::format("baselines[{}]", i));
        try {
          (void)arch::find_chip(c);
        } catch (const arch::ChipError& e) {
          throw SweepError(fmt::format("{}: baselines[{}]: {}", path, i, e.what()));
        }
        s.baselines.push_back(c);
      }
    }
  } catch (const YAML::BadConversion& e) {
    // yaml-cpp's "bad conversion" says only that a node had the wrong kind
    throw SweepError(fmt::format("{}:{}:{}: wrong kind of YAML node here (keys are plain names; values the "
                                 "number, text, list or map their field takes)",
                                 path, e.mark.line + 1, e.mark.column + 1));
  } catch (const YAML::Exception& e) {
    throw SweepError(fmt::format("{}:{}:{}: {}", path, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  // what decides the results (not the name or the file's comments)
  nlohmann::json f;
  f["base"] = s.base_text;
  for (const auto& p : s.parameters) f["parameters"][p.key] = p.values;
  for (const auto& [k, e] : s.derived) f["derived"].push_back({k, e});
  f["sample"] = {s.method, s.samples, s.seed};
  f["tdp"] = s.model_tdp;
  f["units"] = s.units;
  for (const auto& c : s.constraints) f["constraints"].push_back({c.figure, fmt_num(c.min), fmt_num(c.max)});
  for (const auto& w : s.workloads)
    f["workloads"].push_back({w.name, w.model, w.scenario, w.precision, w.dataset, w.chips, w.requests, w.block_size,
                              w.max_num_seqs, w.pp, w.tp, w.ttft_slo, w.tpot_slo, w.expert_parallel, w.seed});
  f["baselines"] = s.baselines;
  // FNV-1a: the same digest from every build (std::hash is not specified)
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : f.dump()) h = (h ^ ch) * 1099511628211ull;
  s.fingerprint = fmt::format("{:016x}", h);
  return s;
}

// ---- points ----

std::vector<DesignPoint> design_points(const Sweep& s) {
  std::vector<DesignPoint> out;
  const size_t np = s.parameters.size();
  if (s.method == "grid") {
    size_t total = 1;
    for (const auto& p : s.parameters) total *= p.values.size();
    for (size_t i = 0; i < total; ++i) {
      DesignPoint d;
      d.index = static_cast<int64_t>(i);
      d.values.resize(np);
      size_t rest = i;
      for (size_t k = np; k-- > 0;) {
        const auto& vals = s.parameters[k].values;
        d.values[k] = vals[rest % vals.size()];
        rest /= vals.size();
      }
      out.push_back(std::move(d));
    }
  } else {
    std::mt19937_64 rng(s.seed);
    const auto n = static_cast<size_t>(s.samples);
    std::vector<std::vector<double>> u(np, std::vector<double>(n));
    for (size_t k = 0; k < np; ++k) {
      if (s.method == "random") {
        for (size_t i = 0; i < n; ++i) u[k][i] = uniform(rng);
      } else {  // one sample in each of n strata per parameter, strata shuffled (Fisher-Yates)
        std::vector<size_t> perm(n);
        for (size_t i = 0; i < n; ++i) perm[i] = i;
        for (size_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[static_cast<size_t>(uniform(rng) * static_cast<double>(i))]);
        for (size_t i = 0; i < n; ++i) u[k][i] = (static_cast<double>(perm[i]) + uniform(rng)) / static_cast<double>(n);
      }
    }
    for (size_t i = 0; i < n; ++i) {
      DesignPoint d;
      d.index = static_cast<int64_t>(i);
      for (size_t k = 0; k < np; ++k) d.values.push_back(sample_value(s.parameters[k], u[k][i]));
      out.push_back(std::move(d));
    }
  }
  for (auto& d : out) d.name = fmt::format("p{}", d.index);
  return out;
}

std::vector<DesignPoint> baseline_points(const Sweep& s) {
  std::vector<DesignPoint> out;
  for (size_t i = 0; i < s.baselines.size(); ++i) {
    DesignPoint d;
    d.index = -1 - static_cast<int64_t>(i);
    d.name = s.baselines[i];
    d.baseline = true;
    out.push_back(std::move(d));
  }
  return out;
}

std::string point_yaml(const Sweep& s, const DesignPoint& p) {
  YAML::Node root = YAML::Load(s.base_text);
  for (size_t k = 0; k < s.parameters.size(); ++k) set_path(root, s.parameters[k].key, p.values[k]);
  root["name"] = fmt::format("{}-{}", s.name, p.name);
  for (const auto& [key, expr] : s.derived) {
    const double v = eval_expression(
        expr,
        [&](const std::string& name) -> std::optional<double> {
          const YAML::Node n = find_path(root, name);
          if (!n || !n.IsScalar()) return std::nullopt;
          return parse_num(n.Scalar());
        },
        where(s, "derived." + key));
    set_path(root, key, fmt_num(v));
  }
  YAML::Emitter e;
  e << root;
  return e.c_str();
}

std::string set_keys(const std::string& yaml, const std::vector<std::pair<std::string, std::string>>& values) {
  YAML::Node root = YAML::Load(yaml);
  for (const auto& [k, v] : values) {
    const auto parts = split_path(k);
    if (std::find(parts.begin(), parts.end(), "") != parts.end())
      throw SweepError(fmt::format("key '{}': not a dotted chip key", k));
    set_path(root, k, v);
  }
  YAML::Emitter e;
  e << root;
  return e.c_str();
}

// ---- evaluation ----

namespace {

bool has_key(const Sweep& s, const std::string& key) {
  for (const auto& p : s.parameters)
    if (p.key == key) return true;
  for (const auto& d : s.derived)
    if (d.first == key) return true;
  return false;
}

std::map<std::string, double> design_of(const arch::Chip& chip, const econ::Cost& c, const econ::Assumptions& as) {
  std::map<std::string, double> d;
  d["die_area_mm2"] = c.area.total;
  d["tdp_w"] = chip.tdp_w;
  d["model_tdp_w"] = econ::tdp(chip).total_w;
  d["unit_cost_usd"] = c.unit_cost_usd;
  d["price_usd"] = econ::owner_price(chip, c, as);
  d["yield"] = c.yield;
  d["hbm_stacks"] = static_cast<double>(chip.memory.devices);
  d["hbm_gib"] = static_cast<double>(chip.memory.capacity_bytes) / static_cast<double>(1ull << 30);
  d["hbm_tb_s"] = chip.memory.bandwidth_bytes_per_s / 1e12;
  double peak = 0;
  for (const auto& [dt, rate] : chip.core.matrix.rate) peak = std::max(peak, chip.peak_ops_per_s(dt));
  d["peak_tflops"] = peak / 1e12;
  d["cores"] = static_cast<double>(chip.cores);
  d["clock_mhz"] = chip.clock_hz / 1e6;
  d["sram_mib"] = static_cast<double>(chip.sram_bytes_total()) / static_cast<double>(1ull << 20);
  return d;
}

WorkloadResult serve_workload(const Workload& w, const arch::Chip& chip, double price, double area, const econ::Assumptions& as) {
  WorkloadResult best;
  best.workload = w.name;
  best.status = "failed";
  bool have = false;
  std::vector<std::string> why;
  for (const int64_t tp : w.tp) {
    const serve::ScenarioArgs a = scenario_args(w, chip, tp);
    serve::ScenarioRun run;
    try {
      run = serve::run_scenario(a);
    } catch (const std::exception& e) {
      why.push_back(fmt::format("tp {}: {}", tp, e.what()));
      continue;
    }
    const auto& r = run.result;
    WorkloadResult wr;
    wr.workload = w.name;
    wr.tp = tp;
    wr.status = run.met ? "ok" : "slo_missed";
    if (!run.met)
      wr.reason = fmt::format("no rate met p99 TTFT <= {} s and p99 TPOT <= {} s", run.slo.ttft_s, run.slo.tpot_s);
    const double nchips = static_cast<double>(std::max<int64_t>(r.chips, 1));
    const double tps = run.served_tokens_per_s_per_chip;
    const double power = r.simulated_s > 0 ? r.energy_j / r.simulated_s / nchips : 0;
    const auto t = econ::tco(price, tps, power, chip.tdp_w, as);
    auto& f = wr.figures;
    f["served_tokens_per_s_per_chip"] = tps;
    f["served_tokens_per_s"] = tps * nchips;
    f["rate_qps"] = r.rate_qps;
    f["ttft_p99_s"] = r.ttft.p99;
    f["tpot_p99_s"] = r.tpot.p99;
    f["ttft_p50_s"] = r.ttft.p50;
    f["tpot_p50_s"] = r.tpot.p50;
    f["slo_attainment"] = r.slo_attainment;
    f["avg_power_w"] = power;
    f["tokens_per_joule"] = t.tokens_per_joule;
    f["tokens_per_s_per_usd"] = t.tokens_per_s_per_usd;
    f["tokens_per_s_per_mm2"] = area > 0 ? tps / area : 0;
    f["usd_per_million_tokens"] = t.usd_per_million_tokens;
    f["usd_per_chip_year"] = t.per_chip_year_usd;
    f["kv_peak_utilization"] = r.kv_peak_utilization;
    f["preemptions"] = static_cast<double>(r.preemptions);
    f["chips"] = nchips;
    const auto rank = [](const WorkloadResult& x) {
      return std::pair{x.status == "ok" ? 1 : 0, x.status == "ok" ? x.figures.at("served_tokens_per_s_per_chip")
                                                                 : x.figures.at("slo_attainment")};
    };
    if (!have || rank(wr) > rank(best)) {
      best = std::move(wr);
      have = true;
    }
  }
  if (!have) best.reason = fmt::format("{}", fmt::join(why, "; "));
  return best;
}

}  // namespace

serve::ScenarioArgs scenario_args(const Workload& w, const arch::Chip& chip, int64_t tp) {
  serve::ScenarioArgs a;
  a.model = w.model;
  a.chip_object = chip;
  a.opt.precision = w.precision;
  a.opt.tp = tp;
  a.opt.pp = w.pp;
  if (w.block_size > 0) a.opt.block_size = w.block_size;
  if (w.max_num_seqs > 0) a.opt.max_num_seqs = w.max_num_seqs;
  a.opt.expert_parallel = w.expert_parallel;
  a.chips = w.chips;
  a.scenario = w.scenario;
  a.dataset = w.dataset;
  a.requests = w.requests;
  a.seed = w.seed;
  a.ttft_slo = w.ttft_slo;
  a.tpot_slo = w.tpot_slo;
  return a;
}

PointResult evaluate(const Sweep& s, const DesignPoint& p) {
  PointResult r;
  r.point = p;
  auto invalid = [&](const std::string& why) {
    r.valid = false;
    r.reason = why;
    for (const auto& w : s.workloads) r.workloads.push_back({w.name, "invalid", why, 0, {}});
    return r;
  };
  arch::Chip chip;
  try {
    if (p.baseline) {
      chip = arch::find_chip(p.name);
      r.chip_yaml = arch::find_chip_text(p.name).text;
    } else {
      r.chip_yaml = point_yaml(s, p);
      chip = arch::load_chip_yaml(r.chip_yaml, p.name);
      if (s.model_tdp && !has_key(s, "tdp_w")) {
        // the provisioned power follows the design: the energy model's full-activity figure
        YAML::Node root = YAML::Load(r.chip_yaml);
        root["tdp_w"] = fmt_num(std::ceil(econ::tdp(chip).total_w));
        YAML::Emitter e;
        e << root;
        r.chip_yaml = e.c_str();
        chip = arch::load_chip_yaml(r.chip_yaml, p.name);
      }
    }
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
  econ::Assumptions as;
  econ::Cost cost;
  try {
    as = econ::assumptions(chip.process.node, p.name + ": process.node");
    cost = econ::chip_cost(chip, as, s.units);
  } catch (const std::exception& e) {
    return invalid(e.what());
  }
  r.design = design_of(chip, cost, as);
  if (!p.baseline)
    for (const auto& c : s.constraints) {
      const double v = r.design.at(c.figure);
      if (v < c.min) return invalid(fmt::format("constraint {}: {:.4g} below min {:.4g}", c.figure, v, c.min));
      if (v > c.max) return invalid(fmt::format("constraint {}: {:.4g} above max {:.4g}", c.figure, v, c.max));
    }
  r.valid = true;
  for (const auto& w : s.workloads)
    r.workloads.push_back(serve_workload(w, chip, r.design.at("price_usd"), r.design.at("die_area_mm2"), as));
  return r;
}

// ---- Pareto fronts ----

const std::vector<std::pair<std::string, bool>>& default_objectives() {
  static const std::vector<std::pair<std::string, bool>> k = {{"tokens_per_s_per_usd", true},
                                                              {"tokens_per_joule", true},
                                                              {"tokens_per_s_per_mm2", true},
                                                              {"usd_per_million_tokens", false}};
  return k;
}

std::vector<size_t> pareto_front(const std::vector<Row>& rows, const std::string& workload,
                                 const std::vector<std::pair<std::string, bool>>& objectives) {
  std::vector<size_t> cand;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].workload == workload && rows[i].status == "ok") cand.push_back(i);
  auto val = [&](size_t i, const std::pair<std::string, bool>& o) {
    auto it = rows[i].figures.find(o.first);
    const double v = it == rows[i].figures.end() ? 0 : it->second;
    return o.second ? v : -v;  // larger is better
  };
  std::vector<size_t> front;
  for (size_t a : cand) {
    bool dominated = false;
    for (size_t b : cand) {
      if (a == b) continue;
      bool all_ge = true, one_gt = false;
      for (const auto& o : objectives) {
        const double va = val(a, o), vb = val(b, o);
        if (vb < va) all_ge = false;
        if (vb > va) one_gt = true;
      }
      if (all_ge && one_gt) {
        dominated = true;
        break;
      }
    }
    if (!dominated) front.push_back(a);
  }
  return front;
}

}  // namespace seedchip::explore
