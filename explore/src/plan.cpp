// seedchip — the fleet planner (plan.h, docs/plan.md): fleet files, the
// mixed-integer program, its solution with COIN-OR CBC, the explanation of an
// infeasible plan, the recomputation check and the printed/JSON plan.
#include "seedchip/explore/plan.h"
#include "seedchip/explore/sweep.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <coin/Cbc_C_Interface.h>
#include <coin/Clp_C_Interface.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "seedchip/econ/econ.h"

namespace seedchip::explore {

namespace {

constexpr double kHoursPerQuarter = 8760.0 / 4;
// Rows are scaled so that the solver sees numbers near 1..1e5: money in M USD,
// tokens in M tokens/s, units and HBM in thousands, power in MW.
constexpr double kMoney = 1e-6, kTokens = 1e-6, kThousand = 1e-3;

// The TCO parameters a fleet uses (econ::assumptions keys).
const std::vector<std::string>& tco_keys() {
  static const std::vector<std::string> k = {"pue",          "host_power_factor", "electricity_usd_per_kwh",
                                             "dc_capex_usd_per_w", "dc_life_years", "life_years",
                                             "server_share_usd",   "utilization",   "avg_power_fraction"};
  return k;
}

// ---------------------------------------------------------------- helpers

std::string did_you_mean(const std::string& key, const std::vector<std::string>& valid) {
  const std::string n = nearest(key, valid);
  return n.empty() ? "" : fmt::format(" (did you mean '{}'?)", n);
}

bool near(double a, double b, double rel = 1e-6) {
  return std::abs(a - b) <= rel * std::max({1.0, std::abs(a), std::abs(b)});
}

// 1234567 -> "1,234,567"
std::string commas(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-";
  const bool neg = v < 0;
  std::string d = fmt::format("{}", static_cast<long long>(std::llround(std::abs(v))));
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0 && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return neg ? "-" + out : out;
}

// 2.5e8 -> "250.0M"; 9.7e9 -> "9.70B"
std::string human(double v) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-";
  const double a = std::abs(v);
  if (a < 1e-6) return "0";  // solver round-off
  if (a >= 1e9) return fmt::format("{:.2f}B", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.1f}M", v / 1e6);
  if (a >= 1e4) return fmt::format("{:.1f}k", v / 1e3);
  if (a >= 1e3) return commas(v);
  if (a >= 100) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3g}", v);
}

std::string usd(double v) { return "$" + human(v); }

// ---------------------------------------------------------------- fleet files

// Reads one fleet document; every error names the file, the position and the key.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  const std::string& source() const { return source_; }

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& why) const {
    const YAML::Mark m = n.Mark();
    if (m.line >= 0)
      throw PlanError(fmt::format("{}:{}:{}: {}: {}", source_, m.line + 1, m.column + 1, key, why));
    throw PlanError(fmt::format("{}: {}: {}", source_, key, why));
  }
  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    throw PlanError(fmt::format("{}: {}: {}", source_, key, why));
  }

  // A map key as a name; a key that is itself a map or list is refused here
  // (yaml-cpp's own 'bad conversion' names no file).
  std::string key(const YAML::Node& k, const std::string& path) const {
    if (!k.IsScalar()) fail(k, path.empty() ? "(top level)" : path, "a key must be a plain name, not a map or list");
    return k.Scalar();
  }

  // A map without repeated keys (yaml-cpp would keep one of them silently).
  void unique(const YAML::Node& n, const std::string& path) const {
    if (!n.IsMap()) fail(n, path.empty() ? "(top level)" : path, "must be a map");
    std::set<std::string> seen;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = key(it->first, path);
      if (!seen.insert(k).second) fail(it->first, path.empty() ? k : path + "." + k, "duplicate key");
    }
  }

  // A map whose keys are all in `allowed`.
  void keys(const YAML::Node& n, const std::string& path, const std::vector<std::string>& allowed) const {
    unique(n, path);
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = key(it->first, path);
      if (std::find(allowed.begin(), allowed.end(), k) != allowed.end()) continue;
      fail(it->first, path.empty() ? k : path + "." + k,
           fmt::format("unknown key{} (expected one of: {})", did_you_mean(k, allowed), fmt::join(allowed, ", ")));
    }
  }

  std::string str(const YAML::Node& n, const std::string& key) const {
    if (!n.IsScalar()) fail(n, key, "must be a string");
    return n.Scalar();
  }

  bool boolean(const YAML::Node& n, const std::string& key) const {
    const std::string s = str(n, key);
    if (s == "true") return true;
    if (s == "false") return false;
    fail(n, key, fmt::format("must be true or false, got '{}'", s));
  }

  // A finite number >= `min` (negative figures are errors: demand, budgets, limits).
  double num(const YAML::Node& n, const std::string& key, double min = 0) const {
    if (!n.IsScalar()) fail(n, key, "must be a number");
    const std::string& s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v))
      fail(n, key, fmt::format("must be a number, got '{}'", s));
    if (v < min) fail(n, key, fmt::format("must be >= {}, got {}", min, s));
    return v;
  }

  int64_t integer(const YAML::Node& n, const std::string& key, int64_t min) const {
    const double v = num(n, key, static_cast<double>(min));
    if (v != std::round(v) || v > 1e15) fail(n, key, fmt::format("must be an integer, got '{}'", n.Scalar()));
    return static_cast<int64_t>(v);
  }

  // One value per quarter: a list of `q` numbers, or one number for every quarter.
  std::vector<double> per_quarter(const YAML::Node& n, const std::string& key, size_t q) const {
    if (n.IsScalar()) return std::vector<double>(q, num(n, key));
    if (!n.IsSequence()) fail(n, key, "must be a number or a list of one number per quarter");
    if (n.size() != q) fail(n, key, fmt::format("must list one number per quarter ({}), got {}", q, n.size()));
    std::vector<double> v;
    for (size_t i = 0; i < n.size(); ++i) v.push_back(num(n[i], fmt::format("{}[{}]", key, i)));
    return v;
  }

 private:
  std::string source_;
};

int quarter_index(const Reader& r, const Fleet& f, const YAML::Node& n, const std::string& key) {
  const std::string q = r.str(n, key);
  const auto it = std::find(f.quarters.begin(), f.quarters.end(), q);
  if (it == f.quarters.end())
    r.fail(n, key, fmt::format("'{}' is not one of the quarters{}", q, did_you_mean(q, f.quarters)));
  return static_cast<int>(it - f.quarters.begin());
}

void parse_demand(const Reader& r, Fleet& f, const YAML::Node& node) {
  if (!node || !node.IsMap() || node.size() == 0) r.fail(node, "demand", "must be a map of at least one demand");
  r.unique(node, "demand");
  for (auto it = node.begin(); it != node.end(); ++it) {
    Demand d;
    d.name = r.key(it->first, "demand");
    const std::string p = "demand." + d.name;
    const YAML::Node n = it->second;
    r.keys(n, p, {"model", "slo", "ttft_slo_s", "tpot_slo_s", "precision", "dataset", "tokens_per_s",
                  "growth_per_quarter"});
    if (!n["model"]) r.fail(n, p + ".model", "missing (the model to serve)");
    d.model = r.str(n["model"], p + ".model");
    if (n["slo"]) {
      d.slo = r.str(n["slo"], p + ".slo");
      const std::vector<std::string> slos = {"server", "offline", "custom"};
      if (std::find(slos.begin(), slos.end(), d.slo) == slos.end())
        r.fail(n["slo"], p + ".slo",
               fmt::format("must be server, offline or custom, got '{}'{}", d.slo, did_you_mean(d.slo, slos)));
    }
    if (n["ttft_slo_s"]) d.ttft_slo_s = r.num(n["ttft_slo_s"], p + ".ttft_slo_s");
    if (n["tpot_slo_s"]) d.tpot_slo_s = r.num(n["tpot_slo_s"], p + ".tpot_slo_s");
    if (d.slo == "custom" && !(std::isfinite(d.ttft_slo_s) || std::isfinite(d.tpot_slo_s)))
      r.fail(n, p + ".slo", "custom needs ttft_slo_s or tpot_slo_s");
    if (n["precision"]) d.precision = r.str(n["precision"], p + ".precision");
    if (n["dataset"]) d.dataset = r.str(n["dataset"], p + ".dataset");
    if (!n["tokens_per_s"]) r.fail(n, p + ".tokens_per_s", "missing (output tokens/s to serve, per quarter)");
    const YAML::Node t = n["tokens_per_s"];
    const std::string tk = p + ".tokens_per_s";
    if (n["growth_per_quarter"]) {
      // first quarter's figure grown geometrically
      if (!t.IsScalar()) r.fail(t, tk, "with growth_per_quarter, give the first quarter's figure (one number)");
      const double g = r.num(n["growth_per_quarter"], p + ".growth_per_quarter", -0.99);
      const double t0 = r.num(t, tk);
      for (size_t q = 0; q < f.quarters.size(); ++q) d.tokens_per_s.push_back(t0 * std::pow(1 + g, q));
    } else {
      d.tokens_per_s = r.per_quarter(t, tk, f.quarters.size());
    }
    f.demand.push_back(std::move(d));
  }
}

void parse_hardware(const Reader& r, Fleet& f, const YAML::Node& node) {
  if (!node || !node.IsMap() || node.size() == 0) r.fail(node, "hardware", "must be a map of at least one candidate");
  r.unique(node, "hardware");
  std::vector<std::string> demand_names;
  for (const auto& d : f.demand) demand_names.push_back(d.name);
  const size_t nq = f.quarters.size();
  for (auto it = node.begin(); it != node.end(); ++it) {
    Hardware h;
    h.name = r.key(it->first, "hardware");
    const std::string p = "hardware." + h.name;
    const YAML::Node n = it->second;
    r.keys(n, p, {"chip", "own", "price_usd", "server_share_usd", "power_w", "power_w_per_demand", "tdp_w",
                  "hbm_stacks", "hbm_gb", "tokens_per_s", "server_chips", "max_units", "min_total_units",
                  "max_total_units", "installed", "first_quarter"});
    if (n["chip"]) h.chip = r.str(n["chip"], p + ".chip");
    if (n["own"]) h.own = r.boolean(n["own"], p + ".own");
    if (n["price_usd"]) {
      if (n["price_usd"].IsSequence())
        h.price_usd_per_quarter = r.per_quarter(n["price_usd"], p + ".price_usd", nq);
      else
        h.price_usd = r.num(n["price_usd"], p + ".price_usd");
    }
    if (n["server_share_usd"]) h.server_share_usd = r.num(n["server_share_usd"], p + ".server_share_usd");
    if (n["power_w"]) h.power_w = r.num(n["power_w"], p + ".power_w");
    if (n["tdp_w"]) h.tdp_w = r.num(n["tdp_w"], p + ".tdp_w");
    if (n["hbm_stacks"]) h.hbm_stacks = r.num(n["hbm_stacks"], p + ".hbm_stacks");
    if (n["hbm_gb"]) h.hbm_gb = r.num(n["hbm_gb"], p + ".hbm_gb");
    // per-demand maps: keys must name demands
    for (const char* key : {"tokens_per_s", "power_w_per_demand"}) {
      const YAML::Node m = n[key];
      if (!m) continue;
      const std::string mp = p + "." + key;
      r.keys(m, mp, demand_names);
      auto& dst = std::string(key) == "tokens_per_s" ? h.tokens_per_s : h.power_w_per_demand;
      for (auto jt = m.begin(); jt != m.end(); ++jt) {
        const std::string d = r.key(jt->first, mp);
        dst[d] = r.num(jt->second, mp + "." + d);
      }
    }
    if (n["server_chips"]) h.server_chips = r.integer(n["server_chips"], p + ".server_chips", 1);
    if (n["max_units"]) h.max_units = r.per_quarter(n["max_units"], p + ".max_units", nq);
    if (n["min_total_units"]) h.min_total_units = r.num(n["min_total_units"], p + ".min_total_units");
    if (n["max_total_units"]) h.max_total_units = r.num(n["max_total_units"], p + ".max_total_units");
    if (h.min_total_units > h.max_total_units)
      r.fail(n["min_total_units"], p + ".min_total_units",
             fmt::format("{} is above max_total_units {}", h.min_total_units, h.max_total_units));
    if (n["installed"]) h.installed = r.integer(n["installed"], p + ".installed", 0);
    if (n["first_quarter"]) h.first_quarter = quarter_index(r, f, n["first_quarter"], p + ".first_quarter");
    f.hardware.push_back(std::move(h));
  }
}

// Scenario keys and the Scenario field each sets.
const std::vector<std::pair<std::string, double Scenario::*>>& scenario_fields() {
  static const std::vector<std::pair<std::string, double Scenario::*>> k = {
      {"hbm_scale", &Scenario::hbm_scale},         {"own_ramp_scale", &Scenario::own_ramp_scale},
      {"own_price_scale", &Scenario::own_price_scale}, {"gpu_price_scale", &Scenario::gpu_price_scale},
      {"demand_scale", &Scenario::demand_scale},   {"budget_scale", &Scenario::budget_scale},
      {"power_scale", &Scenario::power_scale}};
  return k;
}

void parse_scenarios(const Reader& r, Fleet& f, const YAML::Node& node) {
  r.unique(node, "scenarios");
  std::vector<std::string> allowed;
  for (const auto& [k, _] : scenario_fields()) allowed.push_back(k);
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = r.key(it->first, "scenarios");
    const std::string p = "scenarios." + name;
    r.keys(it->second, p, allowed);
    // a list of values sweeps that factor: the cartesian product, keys in file order
    std::vector<std::pair<std::string, std::vector<double>>> axes;
    for (auto jt = it->second.begin(); jt != it->second.end(); ++jt) {
      const std::string k = r.key(jt->first, p);
      std::vector<double> vals;
      if (jt->second.IsSequence()) {
        if (jt->second.size() == 0) r.fail(jt->second, p + "." + k, "must list at least one value");
        for (size_t i = 0; i < jt->second.size(); ++i) vals.push_back(r.num(jt->second[i], fmt::format("{}.{}[{}]", p, k, i)));
      } else {
        vals.push_back(r.num(jt->second, p + "." + k));
      }
      axes.emplace_back(k, vals);
    }
    const bool sweep = std::any_of(axes.begin(), axes.end(), [](const auto& a) { return a.second.size() > 1; });
    size_t combos = 1;
    for (const auto& ax : axes) combos *= ax.second.size();
    for (size_t c = 0; c < combos; ++c) {
      Scenario s;
      s.name = name;
      std::vector<size_t> idx(axes.size());
      size_t rest = c;
      for (size_t i = axes.size(); i-- > 0;) {  // the last axis varies fastest
        idx[i] = rest % axes[i].second.size();
        rest /= axes[i].second.size();
      }
      std::vector<std::string> parts;
      for (size_t i = 0; i < axes.size(); ++i) {
        const double v = axes[i].second[idx[i]];
        for (const auto& [k, field] : scenario_fields())
          if (k == axes[i].first) s.*field = v;
        if (axes[i].second.size() > 1) parts.push_back(fmt::format("{}={}", axes[i].first, v));
      }
      if (sweep) s.name += fmt::format("[{}]", fmt::join(parts, ","));
      f.scenarios.push_back(s);
    }
  }
}

}  // namespace

Fleet parse_fleet(const std::string& yaml, const std::string& source) {
  const Reader r(source);
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    throw PlanError(fmt::format("{}:{}:{}: malformed YAML: {}", source, e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  Fleet f;
  f.source = source;
  r.keys(root, "", {"name", "description", "quarters", "objective", "hardware", "demand", "budget", "hbm", "power",
                    "tco", "scenarios", "solver"});
  f.name = root["name"] ? r.str(root["name"], "name") : source;
  if (root["description"]) f.description = r.str(root["description"], "description");
  const YAML::Node qs = root["quarters"];
  if (!qs) r.fail("quarters", "missing (the list of quarters planned, e.g. [2026Q1, 2026Q2])");
  if (!qs.IsSequence() || qs.size() == 0) r.fail(qs, "quarters", "must be a non-empty list of quarter names");
  for (size_t i = 0; i < qs.size(); ++i) {
    const std::string q = r.str(qs[i], fmt::format("quarters[{}]", i));
    if (std::find(f.quarters.begin(), f.quarters.end(), q) != f.quarters.end())
      r.fail(qs[i], fmt::format("quarters[{}]", i), fmt::format("'{}' is listed twice", q));
    f.quarters.push_back(q);
  }
  const size_t nq = f.quarters.size();
  if (root["objective"]) {
    f.objective = r.str(root["objective"], "objective");
    const std::vector<std::string> objs = {"min-cost", "max-served"};
    if (std::find(objs.begin(), objs.end(), f.objective) == objs.end())
      r.fail(root["objective"], "objective",
             fmt::format("must be min-cost or max-served, got '{}'{}", f.objective, did_you_mean(f.objective, objs)));
  }
  if (!root["demand"]) r.fail("demand", "missing (the token demand to serve)");
  parse_demand(r, f, root["demand"]);
  if (!root["hardware"]) r.fail("hardware", "missing (the candidate hardware)");
  parse_hardware(r, f, root["hardware"]);

  if (const YAML::Node b = root["budget"]) {
    r.keys(b, "budget", {"capex_usd", "capex_usd_per_quarter", "opex_usd", "opex_usd_per_quarter", "total_usd"});
    if (b["capex_usd"]) f.budget.capex_usd = r.num(b["capex_usd"], "budget.capex_usd");
    if (b["opex_usd"]) f.budget.opex_usd = r.num(b["opex_usd"], "budget.opex_usd");
    if (b["total_usd"]) f.budget.total_usd = r.num(b["total_usd"], "budget.total_usd");
    if (b["capex_usd_per_quarter"])
      f.budget.capex_usd_per_quarter = r.per_quarter(b["capex_usd_per_quarter"], "budget.capex_usd_per_quarter", nq);
    if (b["opex_usd_per_quarter"])
      f.budget.opex_usd_per_quarter = r.per_quarter(b["opex_usd_per_quarter"], "budget.opex_usd_per_quarter", nq);
  }
  if (const YAML::Node h = root["hbm"]) {
    r.keys(h, "hbm", {"stacks", "gb", "carry_over"});
    if (h["stacks"]) f.hbm_stacks = r.per_quarter(h["stacks"], "hbm.stacks", nq);
    if (h["gb"]) f.hbm_gb = r.per_quarter(h["gb"], "hbm.gb", nq);
    if (h["carry_over"]) f.hbm_carry_over = r.boolean(h["carry_over"], "hbm.carry_over");
  }
  if (const YAML::Node p = root["power"]) {
    r.keys(p, "power", {"mw"});
    if (p["mw"]) f.power_mw = r.per_quarter(p["mw"], "power.mw", nq);
  }
  // TCO parameters: econ's defaults (econ/data/assumptions.yaml), overridden by the file
  const econ::Assumptions a = econ::assumptions("");
  for (const auto& k : tco_keys()) {
    const auto& prm = a.params.at(k);
    f.tco[k] = prm.value;
    f.tco_source[k] = "econ/data/assumptions.yaml: " + prm.source;
  }
  if (const YAML::Node t = root["tco"]) {
    r.keys(t, "tco", tco_keys());
    for (auto it = t.begin(); it != t.end(); ++it) {
      const std::string k = r.key(it->first, "tco");
      f.tco[k] = r.num(it->second, "tco." + k);
      f.tco_source[k] = source + ": tco." + k;
      if ((k == "pue" || k == "life_years" || k == "dc_life_years") && f.tco[k] <= 0)
        r.fail(it->second, "tco." + k, "must be > 0");
    }
  }
  if (const YAML::Node s = root["solver"]) {
    r.keys(s, "solver", {"max_seconds"});
    if (s["max_seconds"]) f.max_seconds = r.num(s["max_seconds"], "solver.max_seconds", 0.001);
  }
  if (const YAML::Node s = root["scenarios"]) parse_scenarios(r, f, s);
  return f;
}

Fleet load_fleet(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PlanError(fmt::format("{}: cannot open the fleet file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_fleet(text.str(), path);
}

// ---------------------------------------------------------------- figures

namespace {

double server_share(const Fleet& f, const Hardware& h) {
  return std::isnan(h.server_share_usd) ? f.tco.at("server_share_usd") : h.server_share_usd;
}
// Capex of one unit bought in quarter q: the chip and its share of a server.
double unit_capex(const Fleet& f, const Hardware& h, size_t q) { return h.price(q) + server_share(f, h); }
// Facility power one installed unit is provisioned for (its TDP with the host share, times PUE), W.
double facility_w(const Fleet& f, const Hardware& h) {
  return h.tdp_w * (1 + f.tco.at("host_power_factor")) * f.tco.at("pue");
}
// Data-centre capex per unit and quarter, amortised over the facility's life (econ::tco).
double facility_per_quarter(const Fleet& f, const Hardware& h) {
  return f.tco.at("dc_capex_usd_per_w") * facility_w(f, h) / f.tco.at("dc_life_years") / 4;
}
// Hours a quarter the fleet serves at its rate (econ::tco's utilisation).
double served_hours(const Fleet& f) { return kHoursPerQuarter * f.tco.at("utilization"); }
double unit_power(const Fleet& f, const Hardware& h, const std::string& d) {
  const double p = h.power(d);
  return std::isfinite(p) ? p : f.tco.at("avg_power_fraction") * h.tdp_w;
}
// Electricity of one unit serving demand d for a quarter, with host share and PUE (econ::tco).
double energy_per_quarter(const Fleet& f, const Hardware& h, const std::string& d) {
  return unit_power(f, h, d) * (1 + f.tco.at("host_power_factor")) * f.tco.at("pue") / 1000 * served_hours(f) *
         f.tco.at("electricity_usd_per_kwh");
}
// Limit of a per-quarter budget or allocation (infinity when not given).
double at(const std::vector<double>& v, size_t q) { return v.empty() ? kInf : v[q]; }

// Every figure of a plan from its decisions (bought, assigned): used to fill a
// solved plan and, on a copy, by check_plan to recompute it.
void compute_figures(Plan& p, const Fleet& f) {
  const size_t nh = f.hardware.size(), nd = f.demand.size(), nq = f.quarters.size();
  p.installed.assign(nh, std::vector<int64_t>(nq, 0));
  p.capacity.assign(nd, std::vector<double>(nq, 0));
  p.served.assign(nd, std::vector<double>(nq, 0));
  p.capex_usd.assign(nq, 0);
  p.facility_usd.assign(nq, 0);
  p.energy_usd.assign(nq, 0);
  p.opex_usd.assign(nq, 0);
  p.mw.assign(nq, 0);
  p.hbm_stacks.assign(nq, 0);
  p.hbm_gb.assign(nq, 0);
  p.amortised_cost_usd = 0;
  double demanded = 0, served = 0;
  const double life_quarters = f.tco.at("life_years") * 4;
  for (size_t h = 0; h < nh; ++h) {
    const Hardware& hw = f.hardware[h];
    int64_t inst = hw.installed;
    double basis = hw.installed * unit_capex(f, hw, 0);  // capex of the units installed so far (start: today's price)
    for (size_t q = 0; q < nq; ++q) {
      const int64_t b = p.bought[h][q];
      inst += b;
      basis += b * unit_capex(f, hw, q);
      p.installed[h][q] = inst;
      p.capex_usd[q] += b * unit_capex(f, hw, q);
      p.facility_usd[q] += inst * facility_per_quarter(f, hw);
      p.mw[q] += inst * facility_w(f, hw) / 1e6;
      p.amortised_cost_usd += basis / life_quarters;
      if (hw.own) {
        if (std::isfinite(hw.hbm_stacks)) p.hbm_stacks[q] += b * hw.hbm_stacks;
        if (std::isfinite(hw.hbm_gb)) p.hbm_gb[q] += b * hw.hbm_gb;
      }
      for (size_t d = 0; d < nd; ++d) {
        const double a = p.assigned[h][d][q];
        const double rate = hw.rate(f.demand[d].name);
        if (a > 0 && rate > 0) p.capacity[d][q] += a * rate;
        if (a > 0) p.energy_usd[q] += a * energy_per_quarter(f, hw, f.demand[d].name);
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) {
    p.opex_usd[q] = p.facility_usd[q] + p.energy_usd[q];
    p.amortised_cost_usd += p.opex_usd[q];
    for (size_t d = 0; d < nd; ++d) {
      p.served[d][q] = std::min(p.capacity[d][q], f.demand[d].tokens_per_s[q]);
      served += p.served[d][q];
      demanded += f.demand[d].tokens_per_s[q];
    }
  }
  p.capex_total_usd = p.opex_total_usd = 0;
  for (size_t q = 0; q < nq; ++q) p.capex_total_usd += p.capex_usd[q], p.opex_total_usd += p.opex_usd[q];
  p.total_cost_usd = p.capex_total_usd + p.opex_total_usd;
  p.served_mtokens = served * 3600 * served_hours(f) / 1e6;
  p.usd_per_mtoken = p.served_mtokens > 0 ? p.amortised_cost_usd / p.served_mtokens : 0;
  p.served_share = demanded > 0 ? served / demanded : 1;
}

}  // namespace

void check_figures(const Fleet& f) {
  const auto missing = [&](const Hardware& h, const std::string& key, const std::string& what) {
    throw PlanError(fmt::format("{}: hardware.{}.{}: missing ({}{})", f.source, h.name, key, what,
                                h.chip.empty() ? "" : fmt::format("; or let the caller derive it from chip '{}'", h.chip)));
  };
  for (const auto& h : f.hardware) {
    if (h.price_usd_per_quarter.empty() && !std::isfinite(h.price_usd)) missing(h, "price_usd", "capex per unit");
    if (!std::isfinite(h.tdp_w)) missing(h, "tdp_w", "provisioned power per unit, W");
    if (h.own && !f.hbm_stacks.empty() && !std::isfinite(h.hbm_stacks))
      missing(h, "hbm_stacks", "HBM stacks per unit, counted against hbm.stacks");
    if (h.own && !f.hbm_gb.empty() && !std::isfinite(h.hbm_gb))
      missing(h, "hbm_gb", "HBM GB per unit, counted against hbm.gb");
    for (const auto& d : f.demand)
      if (!std::isfinite(h.rate(d.name)))
        missing(h, "tokens_per_s." + d.name, fmt::format("output tokens/s per unit serving {} at the {} SLO", d.model, d.slo));
  }
}

void fill_figures(Fleet& f, const std::function<Served(const Hardware&, const Demand&)>& fill,
                  const std::function<void(Hardware&)>& cost) {
  for (auto& h : f.hardware) {
    const bool no_price = h.price_usd_per_quarter.empty() && !std::isfinite(h.price_usd);
    const bool no_hbm = h.own && (!std::isfinite(h.hbm_stacks) || !std::isfinite(h.hbm_gb));
    if ((no_price || !std::isfinite(h.tdp_w) || no_hbm) && cost) cost(h);
    for (const auto& d : f.demand) {
      if (std::isfinite(h.rate(d.name)) || !fill) continue;
      const Served s = fill(h, d);
      h.tokens_per_s[d.name] = std::max(0.0, s.tokens_per_s);
      if (s.power_w > 0 && !h.power_w_per_demand.count(d.name)) h.power_w_per_demand[d.name] = s.power_w;
    }
    if (!std::isfinite(h.power_w) && std::isfinite(h.tdp_w)) h.power_w = f.tco.at("avg_power_fraction") * h.tdp_w;
  }
  check_figures(f);
}

// ---------------------------------------------------------------- the program

namespace {

struct Col {
  std::string name;
  double lb = 0, ub = kInf, obj = 0;
  bool integer = false;
};

// A row: activity (scaled) sense rhs; natural lhs = activity / scale + offset.
struct Row {
  std::string name, group, unit;  // group "": structural (never relaxed nor reported)
  char sense = 'L';
  double rhs = 0, scale = 1, offset = 0;
  std::vector<std::pair<int, double>> coefs;
  Row(std::string n, std::string g, std::string u, char s = 'L', double r = 0, double k = 1)
      : name(std::move(n)), group(std::move(g)), unit(std::move(u)), sense(s), rhs(r), scale(k) {}
};

enum class Mode { MinCost, MaxServed, MinCostAtServed };

struct Model {
  std::vector<Col> cols;
  std::vector<Row> rows;
  bool maximize = false;
  double obj_scale = kMoney;  // solver objective = natural x obj_scale
  double obj_constant = 0;    // natural, outside the solver (the installed base's facility)
  std::vector<std::vector<int>> x;               // [h][q] servers bought
  std::vector<std::vector<std::vector<int>>> a;  // [h][d][q] units assigned (-1: none)
  std::vector<std::vector<int>> s;               // [d][q] tokens/s served (max-served)

  int add(Col c) {
    cols.push_back(std::move(c));
    return static_cast<int>(cols.size()) - 1;
  }
  void add(Row r) {
    if (!r.coefs.empty() || r.group.empty()) rows.push_back(std::move(r));
  }
};

Model build(const Fleet& f, Mode mode, double served_floor = 0) {
  const size_t nh = f.hardware.size(), nd = f.demand.size(), nq = f.quarters.size();
  const bool cost_objective = mode != Mode::MaxServed;
  Model m;
  m.maximize = mode == Mode::MaxServed;
  m.obj_scale = cost_objective ? kMoney : kTokens;
  m.x.assign(nh, std::vector<int>(nq, -1));
  m.a.assign(nh, std::vector<std::vector<int>>(nd, std::vector<int>(nq, -1)));
  m.s.assign(nd, std::vector<int>(nq, -1));

  for (size_t h = 0; h < nh; ++h) {
    const Hardware& hw = f.hardware[h];
    const double n = static_cast<double>(hw.server_chips);
    for (size_t q = 0; q < nq; ++q) {
      Col c{fmt::format("x[{},{}]", hw.name, f.quarters[q]), 0, kInf, 0, true};
      if (static_cast<int>(q) < hw.first_quarter) c.ub = 0;
      if (std::isfinite(hw.max_total_units)) c.ub = std::min(c.ub, std::floor(hw.max_total_units / n + 1e-9));
      // bought in q: its capex now, its facility share in every quarter from q on
      if (cost_objective) c.obj = n * (unit_capex(f, hw, q) + facility_per_quarter(f, hw) * (nq - q)) * kMoney;
      m.x[h][q] = m.add(c);
    }
    if (cost_objective) m.obj_constant += hw.installed * facility_per_quarter(f, hw) * nq;
    for (size_t d = 0; d < nd; ++d)
      for (size_t q = 0; q < nq; ++q) {
        if (!(hw.rate(f.demand[d].name) > 0) || (hw.installed == 0 && static_cast<int>(q) < hw.first_quarter)) continue;
        Col c{fmt::format("a[{},{},{}]", hw.name, f.demand[d].name, f.quarters[q])};
        if (cost_objective) c.obj = energy_per_quarter(f, hw, f.demand[d].name) * kMoney;
        m.a[h][d][q] = m.add(c);
      }
  }
  if (mode != Mode::MinCost)
    for (size_t d = 0; d < nd; ++d)
      for (size_t q = 0; q < nq; ++q)
        m.s[d][q] = m.add(Col{fmt::format("s[{},{}]", f.demand[d].name, f.quarters[q]), 0,
                              f.demand[d].tokens_per_s[q] * kTokens, mode == Mode::MaxServed ? 1.0 : 0.0});

  // units serving in q are at most the units installed by then
  for (size_t h = 0; h < nh; ++h)
    for (size_t q = 0; q < nq; ++q) {
      Row r{fmt::format("assign[{},{}]", f.hardware[h].name, f.quarters[q]), "", "units", 'L',
            static_cast<double>(f.hardware[h].installed)};
      for (size_t d = 0; d < nd; ++d)
        if (m.a[h][d][q] >= 0) r.coefs.emplace_back(m.a[h][d][q], 1.0);
      for (size_t q2 = 0; q2 <= q; ++q2) r.coefs.emplace_back(m.x[h][q2], -static_cast<double>(f.hardware[h].server_chips));
      m.add(r);
    }
  // demand: met (min-cost) or bounding what is served (max-served)
  for (size_t d = 0; d < nd; ++d)
    for (size_t q = 0; q < nq; ++q) {
      const Demand& dm = f.demand[d];
      Row r{fmt::format("demand.{}.tokens_per_s[{}]", dm.name, f.quarters[q]),
            mode == Mode::MinCost ? fmt::format("demand.{}.tokens_per_s", dm.name) : "", "tokens/s", 'G',
            mode == Mode::MinCost ? dm.tokens_per_s[q] * kTokens : 0, kTokens};
      for (size_t h = 0; h < nh; ++h)
        if (m.a[h][d][q] >= 0) r.coefs.emplace_back(m.a[h][d][q], f.hardware[h].rate(dm.name) * kTokens);
      if (mode != Mode::MinCost) r.coefs.emplace_back(m.s[d][q], -1.0);
      if (mode == Mode::MinCost && r.coefs.empty()) r.coefs.emplace_back(m.x[0][0], 0.0);  // unservable: keep the row
      m.add(r);
    }
  if (mode == Mode::MinCostAtServed) {
    Row r{"served_floor", "", "tokens/s", 'G', served_floor, kTokens};
    for (size_t d = 0; d < nd; ++d)
      for (size_t q = 0; q < nq; ++q) r.coefs.emplace_back(m.s[d][q], 1.0);
    m.add(r);
  }

  // money rows: capex of x, facility of installed units, energy of assigned ones
  const auto capex_terms = [&](Row& r, size_t q) {
    for (size_t h = 0; h < nh; ++h)
      r.coefs.emplace_back(m.x[h][q], f.hardware[h].server_chips * unit_capex(f, f.hardware[h], q) * kMoney);
  };
  const auto opex_terms = [&](Row& r, size_t q, double& constant) {
    for (size_t h = 0; h < nh; ++h) {
      const Hardware& hw = f.hardware[h];
      const double fac = facility_per_quarter(f, hw);
      constant += hw.installed * fac;
      for (size_t q2 = 0; q2 <= q; ++q2) r.coefs.emplace_back(m.x[h][q2], hw.server_chips * fac * kMoney);
      for (size_t d = 0; d < nd; ++d)
        if (m.a[h][d][q] >= 0) r.coefs.emplace_back(m.a[h][d][q], energy_per_quarter(f, hw, f.demand[d].name) * kMoney);
    }
  };
  // a row whose natural lhs carries `constant`: moved to the rhs
  const auto money_row = [&](Row r, double limit, double constant) {
    if (!std::isfinite(limit)) return;
    r.offset = constant;
    r.rhs = (limit - constant) * kMoney;
    r.scale = kMoney;
    // merge repeated columns (x appears once per quarter in total rows)
    std::map<int, double> merged;
    for (const auto& [c, v] : r.coefs) merged[c] += v;
    r.coefs.assign(merged.begin(), merged.end());
    m.add(r);
  };
  const Budget& b = f.budget;
  for (size_t q = 0; q < nq; ++q) {
    Row r{fmt::format("budget.capex_usd_per_quarter[{}]", f.quarters[q]), "budget.capex_usd_per_quarter", "USD"};
    capex_terms(r, q);
    money_row(r, at(b.capex_usd_per_quarter, q), 0);
  }
  {
    Row r{"budget.capex_usd", "budget.capex_usd", "USD"};
    for (size_t q = 0; q < nq; ++q) capex_terms(r, q);
    money_row(r, b.capex_usd, 0);
  }
  for (size_t q = 0; q < nq; ++q) {
    Row r{fmt::format("budget.opex_usd_per_quarter[{}]", f.quarters[q]), "budget.opex_usd_per_quarter", "USD"};
    double constant = 0;
    opex_terms(r, q, constant);
    money_row(r, at(b.opex_usd_per_quarter, q), constant);
  }
  {
    Row r{"budget.opex_usd", "budget.opex_usd", "USD"};
    double constant = 0;
    for (size_t q = 0; q < nq; ++q) opex_terms(r, q, constant);
    money_row(r, b.opex_usd, constant);
  }
  {
    Row r{"budget.total_usd", "budget.total_usd", "USD"};
    double constant = 0;
    for (size_t q = 0; q < nq; ++q) capex_terms(r, q), opex_terms(r, q, constant);
    money_row(r, b.total_usd, constant);
  }

  // HBM allocation: stacks (or GB) of own hardware bought in the quarter (or so far, with carry-over)
  const auto hbm_rows = [&](const std::vector<double>& alloc, double Hardware::*per_unit, const char* key,
                            const char* unit) {
    if (alloc.empty()) return;
    double cum = 0;
    for (size_t q = 0; q < nq; ++q) {
      cum += alloc[q];
      Row r{fmt::format("hbm.{}[{}]", key, f.quarters[q]), fmt::format("hbm.{}", key), unit, 'L',
            (f.hbm_carry_over ? cum : alloc[q]) * kThousand, kThousand};
      for (size_t h = 0; h < nh; ++h) {
        if (!f.hardware[h].own) continue;
        for (size_t q2 = f.hbm_carry_over ? 0 : q; q2 <= q; ++q2)
          r.coefs.emplace_back(m.x[h][q2], f.hardware[h].server_chips * (f.hardware[h].*per_unit) * kThousand);
      }
      m.add(r);
    }
  };
  hbm_rows(f.hbm_stacks, &Hardware::hbm_stacks, "stacks", "stacks");
  hbm_rows(f.hbm_gb, &Hardware::hbm_gb, "gb", "GB");

  // data-centre power: every installed unit's provisioned facility power
  if (!f.power_mw.empty())
    for (size_t q = 0; q < nq; ++q) {
      Row r{fmt::format("power.mw[{}]", f.quarters[q]), "power.mw", "MW", 'L'};
      double constant = 0;
      for (size_t h = 0; h < nh; ++h) {
        const double w = facility_w(f, f.hardware[h]) / 1e6;
        constant += f.hardware[h].installed * w;
        for (size_t q2 = 0; q2 <= q; ++q2) r.coefs.emplace_back(m.x[h][q2], f.hardware[h].server_chips * w);
      }
      r.offset = constant;
      r.rhs = f.power_mw[q] - constant;
      m.add(r);
    }

  // production ramp / supply and the totals over the horizon
  for (size_t h = 0; h < nh; ++h) {
    const Hardware& hw = f.hardware[h];
    const double n = static_cast<double>(hw.server_chips) * kThousand;
    for (size_t q = 0; q < hw.max_units.size(); ++q) {
      Row r{fmt::format("hardware.{}.max_units[{}]", hw.name, f.quarters[q]), fmt::format("hardware.{}.max_units", hw.name),
            "units", 'L', hw.max_units[q] * kThousand, kThousand};
      r.coefs.emplace_back(m.x[h][q], n);
      m.add(r);
    }
    Row total{"", "", "units", 'L', 0, kThousand};
    for (size_t q = 0; q < nq; ++q) total.coefs.emplace_back(m.x[h][q], n);
    if (hw.min_total_units > 0) {
      Row r = total;
      r.name = r.group = fmt::format("hardware.{}.min_total_units", hw.name);
      r.sense = 'G';
      r.rhs = hw.min_total_units * kThousand;
      m.add(r);
    }
    if (std::isfinite(hw.max_total_units)) {
      Row r = total;
      r.name = r.group = fmt::format("hardware.{}.max_total_units", hw.name);
      r.rhs = hw.max_total_units * kThousand;
      m.add(r);
    }
  }
  return m;
}

// Column-major arrays of a model, as CBC and CLP load them.
struct Arrays {
  std::vector<CoinBigIndex> start;
  std::vector<int> index;
  std::vector<double> value, collb, colub, obj, rowlb, rowub;
};

double coin(double v) { return std::isinf(v) ? (v > 0 ? DBL_MAX : -DBL_MAX) : v; }

Arrays arrays(const Model& m) {
  Arrays a;
  std::vector<std::vector<std::pair<int, double>>> by_col(m.cols.size());
  for (size_t r = 0; r < m.rows.size(); ++r)
    for (const auto& [c, v] : m.rows[r].coefs)
      if (v != 0) by_col[c].emplace_back(static_cast<int>(r), v);
  for (size_t c = 0; c < m.cols.size(); ++c) {
    a.start.push_back(static_cast<CoinBigIndex>(a.index.size()));
    for (const auto& [r, v] : by_col[c]) a.index.push_back(r), a.value.push_back(v);
    a.collb.push_back(coin(m.cols[c].lb));
    a.colub.push_back(coin(m.cols[c].ub));
    a.obj.push_back(m.cols[c].obj);
  }
  a.start.push_back(static_cast<CoinBigIndex>(a.index.size()));
  for (const auto& r : m.rows) {
    a.rowlb.push_back(r.sense == 'G' ? r.rhs : -DBL_MAX);
    a.rowub.push_back(r.sense == 'L' ? r.rhs : DBL_MAX);
  }
  return a;
}

struct MipResult {
  bool solution = false, optimal = false, infeasible = false;
  std::vector<double> x;
  double objective = 0;  // scaled, as the solver saw it
};

// CBC on the model: single-threaded (CBC's default), no log, a relative gap of
// 1e-9 so that the optimum is proven, within `max_seconds`.
MipResult run_cbc(const Model& m, double max_seconds) {
  Arrays a = arrays(m);
  Cbc_Model* cbc = Cbc_newModel();
  Cbc_loadProblem(cbc, static_cast<int>(m.cols.size()), static_cast<int>(m.rows.size()), a.start.data(), a.index.data(),
                  a.value.data(), a.collb.data(), a.colub.data(), a.obj.data(), a.rowlb.data(), a.rowub.data());
  for (size_t c = 0; c < m.cols.size(); ++c)
    if (m.cols[c].integer) Cbc_setInteger(cbc, static_cast<int>(c));
  Cbc_setObjSense(cbc, m.maximize ? -1 : 1);
  Cbc_setParameter(cbc, "log", "0");
  Cbc_setParameter(cbc, "slog", "0");
  Cbc_setParameter(cbc, "ratioGap", "1e-9");
  Cbc_setParameter(cbc, "sec", fmt::format("{}", max_seconds).c_str());
  Cbc_solve(cbc);
  MipResult r;
  r.optimal = Cbc_isProvenOptimal(cbc);
  r.infeasible = Cbc_isProvenInfeasible(cbc) || Cbc_isInitialSolveProvenPrimalInfeasible(cbc);
  const double* best = Cbc_bestSolution(cbc);
  if (!r.infeasible && best) {
    r.solution = true;
    r.x.assign(best, best + m.cols.size());
    r.objective = Cbc_getObjValue(cbc);
  }
  Cbc_deleteModel(cbc);
  return r;
}

// Row duals of the LP relaxation (CLP), scaled; empty when it does not solve.
std::vector<double> lp_duals(const Model& m) {
  Arrays a = arrays(m);
  Clp_Simplex* clp = Clp_newModel();
  Clp_setLogLevel(clp, 0);
  Clp_loadProblem(clp, static_cast<int>(m.cols.size()), static_cast<int>(m.rows.size()), a.start.data(), a.index.data(),
                  a.value.data(), a.collb.data(), a.colub.data(), a.obj.data(), a.rowlb.data(), a.rowub.data());
  Clp_setObjSense(clp, m.maximize ? -1 : 1);
  Clp_initialSolve(clp);
  std::vector<double> y;
  if (Clp_status(clp) == 0) {
    const double* d = Clp_dualRowSolution(clp);
    y.assign(d, d + m.rows.size());
  }
  Clp_deleteModel(clp);
  return y;
}

// The groups of the file's constraints, in model order.
std::vector<std::string> groups(const Model& m) {
  std::vector<std::string> g;
  for (const auto& r : m.rows)
    if (!r.group.empty() && std::find(g.begin(), g.end(), r.group) == g.end()) g.push_back(r.group);
  return g;
}

// The model with only the constraint groups in `keep` (structural rows always), no objective.
Model restricted(const Model& m, const std::set<std::string>& keep) {
  Model r = m;
  r.rows.clear();
  for (const auto& row : m.rows)
    if (row.group.empty() || keep.count(row.group)) r.rows.push_back(row);
  for (auto& c : r.cols) c.obj = 0;
  r.maximize = false;
  return r;
}

bool feasible(const Model& m, const std::set<std::string>& keep, double max_seconds) {
  return !run_cbc(restricted(m, keep), max_seconds).infeasible;  // undecided counts as feasible: the group is kept
}

// A constraint's figure in its unit: money and tokens/s abbreviated, counts in full.
std::string natural(double v, const std::string& unit) {
  if (unit == "USD") return usd(v);
  if (unit == "MW") return fmt::format("{:.1f} MW", std::abs(v) < 0.05 ? 0.0 : v);
  if (unit == "tokens/s") return human(v) + " tokens/s";
  return fmt::format("{} {}", commas(std::abs(v) < 0.5 ? 0.0 : v), unit);
}

// Why no plan exists: a deletion filter over the constraint groups leaves a
// minimal conflicting set (those groups alone admit no plan, and without any
// one of them the rest do); an elastic solve over every group gives the
// smallest relaxation (relative to each limit) that makes a plan feasible.
void explain(Plan& p, const Fleet& f, const Model& m) {
  const std::vector<std::string> all = groups(m);
  std::set<std::string> keep(all.begin(), all.end());
  for (const auto& g : all) {
    std::set<std::string> without = keep;
    without.erase(g);
    if (!feasible(m, without, f.max_seconds)) keep = without;
  }
  for (const auto& g : all)
    if (keep.count(g)) p.conflicts.push_back(g);

  Model e = m;
  for (auto& c : e.cols) c.obj = 0;
  e.maximize = false;
  std::vector<std::pair<size_t, int>> slack;  // row, its elastic column
  for (size_t r = 0; r < e.rows.size(); ++r) {
    if (e.rows[r].group.empty()) continue;
    const int c = e.add(Col{"e[" + e.rows[r].name + "]", 0, kInf, 1.0 / std::max(std::abs(e.rows[r].rhs), 1.0)});
    e.rows[r].coefs.emplace_back(c, e.rows[r].sense == 'L' ? -1.0 : 1.0);
    slack.emplace_back(r, c);
  }
  const MipResult er = run_cbc(e, f.max_seconds);
  if (er.solution)
    for (const auto& [r, c] : slack) {
      const double v = er.x[c];
      const Row& row = e.rows[r];
      // round-off and integer rounding: not a relaxation worth naming
      if (v <= 1e-4 * std::max(1.0, std::abs(row.rhs))) continue;
      const double limit = row.rhs / row.scale + row.offset, by = v / row.scale;
      p.relaxation.push_back(row.sense == 'L'
                                 ? fmt::format("{} over by {} (needs {}, limit {})", row.name, natural(by, row.unit),
                                               natural(limit + by, row.unit), natural(limit, row.unit))
                                 : fmt::format("{} short by {} (reaches {} of {})", row.name, natural(by, row.unit),
                                               natural(limit - by, row.unit), natural(limit, row.unit)));
    }
  std::string msg = fmt::format("{}: no feasible plan: ", f.source);
  if (p.conflicts.size() == 1)
    msg += fmt::format("{} cannot be met even with every other limit dropped (check which hardware can serve it and "
                       "from which quarter)", p.conflicts[0]);
  else
    msg += fmt::format("these constraints conflict (together they admit no plan; without any one of them the rest "
                       "do): {}", fmt::join(p.conflicts, ", "));
  if (!p.relaxation.empty()) msg += fmt::format("; the smallest relaxation: {}", fmt::join(p.relaxation, "; "));
  p.message = msg;
}

// The plan's constraint rows (activity, slack, binding, shadow price) at the solution `x`.
void report_constraints(Plan& p, const Model& m, const std::vector<double>& x, const Model& dual_model,
                        const std::vector<double>& duals) {
  std::map<std::string, double> dual_of;
  for (size_t r = 0; r < dual_model.rows.size() && r < duals.size(); ++r)
    dual_of[dual_model.rows[r].name] = duals[r] * dual_model.rows[r].scale / dual_model.obj_scale;
  for (const auto& row : m.rows) {
    if (row.group.empty()) continue;
    double act = 0, step = kInf;
    for (const auto& [c, v] : row.coefs) {
      act += v * x[c];
      if (v <= 0) continue;
      // could this column move towards the limit by one step?
      const Col& col = m.cols[c];
      const bool room = row.sense == 'L' ? x[c] < col.ub - 0.5 : x[c] > col.lb + 0.5;
      if (col.integer && room) step = std::min(step, v);
      if (!col.integer) step = std::min(step, 1e-7 * std::max(1.0, std::abs(row.rhs)));
    }
    PlanConstraint k;
    k.name = row.name;
    k.group = row.group;
    k.unit = row.unit;
    k.sense = row.sense;
    k.lhs = act / row.scale + row.offset;
    k.rhs = row.rhs / row.scale + row.offset;
    const double slack_scaled = row.sense == 'L' ? row.rhs - act : act - row.rhs;
    k.slack = slack_scaled / row.scale;
    k.binding = slack_scaled < step;
    const auto it = dual_of.find(row.name);
    if (it != dual_of.end()) k.shadow_price = it->second == 0 ? 0.0 : it->second;  // no -0
    p.constraints.push_back(k);
  }
}

}  // namespace

Plan try_solve(const Fleet& f) {
  check_figures(f);
  const size_t nh = f.hardware.size(), nd = f.demand.size(), nq = f.quarters.size();
  const bool max_served = f.objective == "max-served";
  Plan p;
  p.objective = f.objective;
  Model m = build(f, max_served ? Mode::MaxServed : Mode::MinCost);
  MipResult r = run_cbc(m, f.max_seconds);
  if (r.infeasible) {
    p.status = "infeasible";
    explain(p, f, m);
    return p;
  }
  if (!r.solution) throw PlanError(fmt::format("{}: the solver found no plan within solver.max_seconds ({} s)", f.source, f.max_seconds));
  bool optimal = r.optimal;
  const Model dual_model = m;
  if (max_served) {
    // second pass: the cheapest plan that serves (all but 1e-7 of) the most
    double served = 0;
    for (size_t d = 0; d < nd; ++d)
      for (size_t q = 0; q < nq; ++q) served += r.x[m.s[d][q]];
    Model m2 = build(f, Mode::MinCostAtServed, served * (1 - 1e-7));
    MipResult r2 = run_cbc(m2, f.max_seconds);
    if (r2.solution) {
      m = std::move(m2);
      r = std::move(r2);
      optimal = optimal && r.optimal;
    }
  }
  p.status = optimal ? "optimal" : "time limit";
  // integer decisions exactly integral; assignments clipped at 0
  std::vector<double> x = r.x;
  for (size_t c = 0; c < m.cols.size(); ++c)
    x[c] = m.cols[c].integer ? std::round(x[c]) : std::max(0.0, x[c]);
  p.bought.assign(nh, std::vector<int64_t>(nq, 0));
  p.assigned.assign(nh, std::vector<std::vector<double>>(nd, std::vector<double>(nq, 0)));
  for (size_t h = 0; h < nh; ++h)
    for (size_t q = 0; q < nq; ++q) {
      p.bought[h][q] = static_cast<int64_t>(x[m.x[h][q]]) * f.hardware[h].server_chips;
      for (size_t d = 0; d < nd; ++d)
        if (m.a[h][d][q] >= 0) p.assigned[h][d][q] = x[m.a[h][d][q]];
    }
  compute_figures(p, f);
  if (!m.maximize) {
    double obj = 0;
    for (size_t c = 0; c < m.cols.size(); ++c) obj += m.cols[c].obj * x[c];
    p.solver_cost_usd = obj / m.obj_scale + m.obj_constant;
  }
  report_constraints(p, m, x, dual_model, lp_duals(dual_model));
  return p;
}

Plan solve(const Fleet& f) {
  Plan p = try_solve(f);
  if (p.status == "infeasible") throw PlanError(p.message);
  return p;
}

// ---------------------------------------------------------------- checking

std::vector<std::string> check_plan(const Plan& p, const Fleet& f) {
  std::vector<std::string> v;
  const size_t nh = f.hardware.size(), nd = f.demand.size(), nq = f.quarters.size();
  if (p.status == "infeasible") return {"the plan is infeasible: nothing to check"};
  if (p.bought.size() != nh || p.assigned.size() != nh) return {"the plan's hardware does not match the fleet's"};
  for (size_t h = 0; h < nh; ++h) {
    if (p.bought[h].size() != nq || p.assigned[h].size() != nd) return {"the plan's quarters or demands do not match the fleet's"};
    for (const auto& row : p.assigned[h])
      if (row.size() != nq) return {"the plan's quarters do not match the fleet's"};
  }
  const auto over = [](double lhs, double limit) { return lhs > limit + 1e-7 * std::max(1.0, std::abs(limit)); };
  const auto qn = [&](size_t q) { return f.quarters[q]; };

  // the decisions themselves
  for (size_t h = 0; h < nh; ++h) {
    const Hardware& hw = f.hardware[h];
    double total = 0;
    for (size_t q = 0; q < nq; ++q) {
      const int64_t b = p.bought[h][q];
      total += static_cast<double>(b);
      if (b < 0) v.push_back(fmt::format("hardware.{} [{}]: {} units bought", hw.name, qn(q), b));
      if (b % hw.server_chips != 0)
        v.push_back(fmt::format("hardware.{} [{}]: {} units is not whole servers of {}", hw.name, qn(q), b, hw.server_chips));
      if (b > 0 && static_cast<int>(q) < hw.first_quarter)
        v.push_back(fmt::format("hardware.{}.first_quarter: {} units bought in {}, before {}", hw.name, b, qn(q),
                                qn(hw.first_quarter)));
      if (q < hw.max_units.size() && over(static_cast<double>(b), hw.max_units[q]))
        v.push_back(fmt::format("hardware.{}.max_units[{}]: {} bought > {}", hw.name, qn(q), b, hw.max_units[q]));
      double used = 0;
      for (size_t d = 0; d < nd; ++d) {
        const double a = p.assigned[h][d][q];
        used += a;
        if (a < -1e-7) v.push_back(fmt::format("hardware.{} [{}]: {} units assigned to {}", hw.name, qn(q), a, f.demand[d].name));
        if (a > 1e-7 && !(hw.rate(f.demand[d].name) > 0))
          v.push_back(fmt::format("hardware.{} [{}]: units assigned to {}, which it cannot serve", hw.name, qn(q), f.demand[d].name));
      }
      double inst = static_cast<double>(hw.installed);
      for (size_t q2 = 0; q2 <= q; ++q2) inst += static_cast<double>(p.bought[h][q2]);
      if (over(used, inst))
        v.push_back(fmt::format("hardware.{} [{}]: {} units assigned > {} installed", hw.name, qn(q), used, inst));
    }
    if (total < hw.min_total_units * (1 - 1e-9))
      v.push_back(fmt::format("hardware.{}.min_total_units: {} bought < {}", hw.name, total, hw.min_total_units));
    if (over(total, hw.max_total_units))
      v.push_back(fmt::format("hardware.{}.max_total_units: {} bought > {}", hw.name, total, hw.max_total_units));
  }

  // every reported figure, recomputed from the decisions
  Plan e;
  e.bought = p.bought;
  e.assigned = p.assigned;
  compute_figures(e, f);
  const auto same = [&](const std::string& what, double got, double want) {
    if (!near(got, want)) v.push_back(fmt::format("{}: reported {} but recomputed {}", what, got, want));
  };
  for (size_t q = 0; q < nq; ++q) {
    for (size_t h = 0; h < nh && h < p.installed.size(); ++h)
      same(fmt::format("installed {} [{}]", f.hardware[h].name, qn(q)), static_cast<double>(p.installed[h][q]),
           static_cast<double>(e.installed[h][q]));
    for (size_t d = 0; d < nd && d < p.capacity.size(); ++d) {
      same(fmt::format("capacity {} [{}]", f.demand[d].name, qn(q)), p.capacity[d][q], e.capacity[d][q]);
      same(fmt::format("served {} [{}]", f.demand[d].name, qn(q)), p.served[d][q], e.served[d][q]);
    }
    if (p.capex_usd.size() == nq) {
      same(fmt::format("capex [{}]", qn(q)), p.capex_usd[q], e.capex_usd[q]);
      same(fmt::format("opex [{}]", qn(q)), p.opex_usd[q], e.opex_usd[q]);
      same(fmt::format("facility MW [{}]", qn(q)), p.mw[q], e.mw[q]);
      same(fmt::format("HBM stacks [{}]", qn(q)), p.hbm_stacks[q], e.hbm_stacks[q]);
      same(fmt::format("HBM GB [{}]", qn(q)), p.hbm_gb[q], e.hbm_gb[q]);
    }
  }
  same("capex total", p.capex_total_usd, e.capex_total_usd);
  same("opex total", p.opex_total_usd, e.opex_total_usd);
  same("total cost", p.total_cost_usd, e.total_cost_usd);
  same("USD per Mtoken", p.usd_per_mtoken, e.usd_per_mtoken);
  if (std::isfinite(p.solver_cost_usd)) same("the solver's total cost", p.solver_cost_usd, e.total_cost_usd);

  // the fleet's limits against the recomputed figures
  for (size_t q = 0; q < nq; ++q) {
    for (size_t d = 0; d < nd; ++d) {
      const double want = f.demand[d].tokens_per_s[q];
      if (f.objective == "min-cost" && e.capacity[d][q] < want * (1 - 1e-7) - 1e-6)
        v.push_back(fmt::format("demand.{}.tokens_per_s[{}]: capacity {} < demand {}", f.demand[d].name, qn(q),
                                e.capacity[d][q], want));
    }
    if (over(e.capex_usd[q], at(f.budget.capex_usd_per_quarter, q)))
      v.push_back(fmt::format("budget.capex_usd_per_quarter[{}]: {} > {}", qn(q), e.capex_usd[q], f.budget.capex_usd_per_quarter[q]));
    if (over(e.opex_usd[q], at(f.budget.opex_usd_per_quarter, q)))
      v.push_back(fmt::format("budget.opex_usd_per_quarter[{}]: {} > {}", qn(q), e.opex_usd[q], f.budget.opex_usd_per_quarter[q]));
    if (over(e.mw[q], at(f.power_mw, q))) v.push_back(fmt::format("power.mw[{}]: {} MW > {}", qn(q), e.mw[q], f.power_mw[q]));
    double stacks = 0, gb = 0, stacks_alloc = 0, gb_alloc = 0;
    for (size_t q2 = f.hbm_carry_over ? 0 : q; q2 <= q; ++q2) {
      stacks += e.hbm_stacks[q2], gb += e.hbm_gb[q2];
      stacks_alloc += at(f.hbm_stacks, q2), gb_alloc += at(f.hbm_gb, q2);
    }
    if (over(stacks, stacks_alloc)) v.push_back(fmt::format("hbm.stacks[{}]: {} used > {}", qn(q), stacks, stacks_alloc));
    if (over(gb, gb_alloc)) v.push_back(fmt::format("hbm.gb[{}]: {} used > {}", qn(q), gb, gb_alloc));
  }
  if (over(e.capex_total_usd, f.budget.capex_usd))
    v.push_back(fmt::format("budget.capex_usd: {} > {}", e.capex_total_usd, f.budget.capex_usd));
  if (over(e.opex_total_usd, f.budget.opex_usd))
    v.push_back(fmt::format("budget.opex_usd: {} > {}", e.opex_total_usd, f.budget.opex_usd));
  if (over(e.total_cost_usd, f.budget.total_usd))
    v.push_back(fmt::format("budget.total_usd: {} > {}", e.total_cost_usd, f.budget.total_usd));
  return v;
}

// ---------------------------------------------------------------- scenarios

Fleet apply_scenario(const Fleet& f, const Scenario& s) {
  Fleet g = f;
  g.name = f.name + ": " + s.name;
  for (auto& v : g.hbm_stacks) v *= s.hbm_scale;
  for (auto& v : g.hbm_gb) v *= s.hbm_scale;
  for (auto& v : g.power_mw) v *= s.power_scale;
  for (auto& d : g.demand)
    for (auto& v : d.tokens_per_s) v *= s.demand_scale;
  for (double* b : {&g.budget.capex_usd, &g.budget.opex_usd, &g.budget.total_usd}) *b *= s.budget_scale;
  for (auto* b : {&g.budget.capex_usd_per_quarter, &g.budget.opex_usd_per_quarter})
    for (auto& v : *b) v *= s.budget_scale;
  for (auto& h : g.hardware) {
    const double price = h.own ? s.own_price_scale : s.gpu_price_scale;
    h.price_usd *= price;
    for (auto& v : h.price_usd_per_quarter) v *= price;
    if (h.own) {
      for (auto& v : h.max_units) v *= s.own_ramp_scale;
      h.max_total_units *= s.own_ramp_scale;
    }
  }
  g.scenarios.clear();
  return g;
}

std::vector<std::pair<std::string, Plan>> solve_scenarios(const Fleet& f) {
  std::vector<std::pair<std::string, Plan>> out;
  for (const auto& s : f.scenarios) out.emplace_back(s.name, try_solve(apply_scenario(f, s)));
  return out;
}

// ---------------------------------------------------------------- output

namespace {

std::vector<double> totals_bought(const Plan& p) {
  std::vector<double> t;
  for (const auto& row : p.bought) {
    double s = 0;
    for (const auto b : row) s += static_cast<double>(b);
    t.push_back(s);
  }
  return t;
}

// "one stack more saves $2,069" (min-cost) or "... serves 288 tokens/s more" (max-served).
std::string shadow_text(const PlanConstraint& c, const std::string& objective) {
  if (!std::isfinite(c.shadow_price) || std::abs(c.shadow_price) < 1e-9) return "";
  const std::string per = c.unit == "tokens/s" ? "token/s" : c.unit == "units" ? "unit" : c.unit == "stacks" ? "stack" : c.unit;
  if (objective == "max-served")
    return fmt::format("; one {} more serves {} tokens/s more (summed over quarters)", per, human(c.shadow_price));
  return fmt::format("; one {} more {} {}", per, c.shadow_price < 0 ? "saves" : "costs", usd(std::abs(c.shadow_price)));
}

}  // namespace

std::string plan_text(const Plan& p, const Fleet& f) {
  std::string out;
  const size_t nh = f.hardware.size(), nd = f.demand.size(), nq = f.quarters.size();
  const auto line = [&](const std::string& label, const std::vector<std::string>& cells, const std::string& last = "") {
    out += fmt::format("  {:<26}", label);
    for (const auto& c : cells) out += fmt::format("{:>20}", c);
    if (!last.empty()) out += fmt::format("{:>20}", last);
    out += '\n';
  };
  out += fmt::format("fleet plan {} ({}): {}, {}\n", f.name, f.source, p.objective, p.status);
  if (p.status == "infeasible") {
    out += p.message + '\n';
    return out;
  }
  std::vector<std::string> head(f.quarters.begin(), f.quarters.end());
  out += "units bought (installed at the quarter's end)\n";
  line("hardware", head, "total");
  const auto tb = totals_bought(p);
  for (size_t h = 0; h < nh; ++h) {
    std::vector<std::string> cells;
    for (size_t q = 0; q < nq; ++q) cells.push_back(fmt::format("{} ({})", commas(p.bought[h][q]), commas(p.installed[h][q])));
    line(f.hardware[h].name + (f.hardware[h].own ? " (own)" : ""), cells, commas(tb[h]));
  }
  out += "units serving each demand\n";
  for (size_t d = 0; d < nd; ++d)
    for (size_t h = 0; h < nh; ++h) {
      if (!(f.hardware[h].rate(f.demand[d].name) > 0)) continue;
      std::vector<std::string> cells;
      for (size_t q = 0; q < nq; ++q) cells.push_back(commas(p.assigned[h][d][q]));
      line(f.demand[d].name + " on " + f.hardware[h].name, cells);
    }
  out += "output tokens/s served (demand)\n";
  for (size_t d = 0; d < nd; ++d) {
    std::vector<std::string> cells;
    for (size_t q = 0; q < nq; ++q)
      cells.push_back(fmt::format("{} ({})", human(p.served[d][q]), human(f.demand[d].tokens_per_s[q])));
    line(fmt::format("{} ({}, {})", f.demand[d].name, f.demand[d].model, f.demand[d].slo), cells);
  }
  out += "money, power and memory\n";
  std::vector<std::string> capex, opex, mw, stacks, gb;
  for (size_t q = 0; q < nq; ++q) {
    capex.push_back(usd(p.capex_usd[q]) +
                    (f.budget.capex_usd_per_quarter.empty() ? "" : " (" + usd(f.budget.capex_usd_per_quarter[q]) + ")"));
    opex.push_back(usd(p.opex_usd[q]));
    mw.push_back(fmt::format("{:.1f}", p.mw[q]) + (f.power_mw.empty() ? "" : fmt::format(" ({:.0f})", f.power_mw[q])));
    stacks.push_back(commas(p.hbm_stacks[q]) + (f.hbm_stacks.empty() ? "" : " (" + commas(f.hbm_stacks[q]) + ")"));
    gb.push_back(commas(p.hbm_gb[q]) + (f.hbm_gb.empty() ? "" : " (" + commas(f.hbm_gb[q]) + ")"));
  }
  line(f.budget.capex_usd_per_quarter.empty() ? "capex" : "capex (budget)", capex, usd(p.capex_total_usd));
  line("opex (facility + energy)", opex, usd(p.opex_total_usd));
  line(f.power_mw.empty() ? "facility MW" : "facility MW (limit)", mw);
  line(f.hbm_stacks.empty() ? "own HBM stacks bought" : "own HBM stacks (allocation)", stacks);
  if (!f.hbm_gb.empty()) line("own HBM GB (allocation)", gb);
  out += fmt::format("cash over the horizon: capex {}{}, opex {}{}, total {}{}\n", usd(p.capex_total_usd),
                     std::isfinite(f.budget.capex_usd) ? " of " + usd(f.budget.capex_usd) : "", usd(p.opex_total_usd),
                     std::isfinite(f.budget.opex_usd) ? " of " + usd(f.budget.opex_usd) : "", usd(p.total_cost_usd),
                     std::isfinite(f.budget.total_usd) ? " of " + usd(f.budget.total_usd) : "");
  out += fmt::format("served {} Mtokens ({:.1f}% of demand); amortised cost {} (capex over {} years + opex): ${:.4f} per Mtoken\n",
                     human(p.served_mtokens), 100 * p.served_share, usd(p.amortised_cost_usd), f.tco.at("life_years"),
                     p.usd_per_mtoken);
  out += "binding constraints (no room for one more server; shadow prices from the LP relaxation)\n";
  bool any = false;
  std::set<std::string> summarised;
  for (const auto& c : p.constraints) {
    if (!c.binding) continue;
    any = true;
    // demand rows are met exactly in every quarter of a min-cost plan: one line per demand
    if (c.group.rfind("demand.", 0) == 0) {
      if (!summarised.insert(c.group).second) continue;
      std::vector<std::string> qs;
      for (const auto& k : p.constraints)
        if (k.group == c.group && k.binding)
          qs.push_back(k.name.substr(k.group.size() + 1, k.name.size() - k.group.size() - 2) +
                       (std::isfinite(k.shadow_price) ? " " + usd(k.shadow_price) : ""));
      out += fmt::format("  {:<46} met exactly in {} (cost of one token/s more: {})\n", c.group,
                         qs.size() == f.quarters.size() ? "every quarter" : fmt::format("{} quarters", qs.size()),
                         fmt::join(qs, ", "));
      continue;
    }
    out += fmt::format("  {:<46} {} {} {}, slack {}{}\n", c.name, natural(c.lhs, c.unit), c.sense == 'L' ? "<=" : ">=",
                       natural(c.rhs, c.unit), natural(c.slack, c.unit), shadow_text(c, p.objective));
  }
  if (!any) out += "  none\n";
  return out;
}

nlohmann::json plan_json(const Plan& p, const Fleet& f) {
  using nlohmann::json;
  json j;
  j["name"] = f.name;
  j["source"] = f.source;
  j["objective"] = p.objective;
  j["status"] = p.status;
  j["quarters"] = f.quarters;
  if (p.status == "infeasible") {
    j["conflicts"] = p.conflicts;
    j["relaxation"] = p.relaxation;
    j["message"] = p.message;
    return j;
  }
  const auto tb = totals_bought(p);
  json hw = json::array();
  for (size_t h = 0; h < f.hardware.size(); ++h) {
    json a = json::object();
    for (size_t d = 0; d < f.demand.size(); ++d) a[f.demand[d].name] = p.assigned[h][d];
    hw.push_back({{"name", f.hardware[h].name}, {"own", f.hardware[h].own}, {"bought", p.bought[h]},
                  {"installed", p.installed[h]}, {"bought_total", tb[h]}, {"assigned", a}});
  }
  j["hardware"] = hw;
  json dm = json::array();
  for (size_t d = 0; d < f.demand.size(); ++d)
    dm.push_back({{"name", f.demand[d].name}, {"model", f.demand[d].model}, {"slo", f.demand[d].slo},
                  {"demand_tokens_per_s", f.demand[d].tokens_per_s}, {"capacity_tokens_per_s", p.capacity[d]},
                  {"served_tokens_per_s", p.served[d]}});
  j["demand"] = dm;
  j["capex_usd"] = p.capex_usd;
  j["facility_usd"] = p.facility_usd;
  j["energy_usd"] = p.energy_usd;
  j["opex_usd"] = p.opex_usd;
  j["mw"] = p.mw;
  j["mw_limit"] = f.power_mw;
  j["hbm_stacks"] = p.hbm_stacks;
  j["hbm_stacks_allocation"] = f.hbm_stacks;
  j["hbm_gb"] = p.hbm_gb;
  j["hbm_gb_allocation"] = f.hbm_gb;
  j["capex_total_usd"] = p.capex_total_usd;
  j["opex_total_usd"] = p.opex_total_usd;
  j["total_cost_usd"] = p.total_cost_usd;
  j["amortised_cost_usd"] = p.amortised_cost_usd;
  j["served_mtokens"] = p.served_mtokens;
  j["served_share"] = p.served_share;
  j["usd_per_mtoken"] = p.usd_per_mtoken;
  json cs = json::array();
  for (const auto& c : p.constraints) {
    json k = {{"name", c.name}, {"group", c.group}, {"unit", c.unit}, {"sense", c.sense == 'L' ? "<=" : ">="},
              {"lhs", c.lhs}, {"rhs", c.rhs}, {"slack", c.slack}, {"binding", c.binding}};
    k["shadow_price"] = std::isfinite(c.shadow_price) ? json(c.shadow_price) : json(nullptr);
    cs.push_back(k);
  }
  j["constraints"] = cs;
  json tco = json::object();
  for (const auto& [k, v] : f.tco) tco[k] = {{"value", v}, {"source", f.tco_source.at(k)}};
  j["tco"] = tco;
  return j;
}

std::string scenarios_text(const std::vector<std::pair<std::string, Plan>>& results, const Fleet& f) {
  std::string out = fmt::format("  {:<34}{:>12}", "scenario", "status");
  for (const auto& h : f.hardware) out += fmt::format("{:>16}", h.name);
  out += fmt::format("{:>12}{:>12}{:>11}{:>9}  {}\n", "capex", "opex", "$/Mtoken", "served", "binding");
  for (const auto& [name, p] : results) {
    out += fmt::format("  {:<34}{:>12}", name, p.status);
    if (p.status == "infeasible") {
      out += fmt::format("  conflicts: {}\n", fmt::join(p.conflicts, ", "));
      continue;
    }
    for (const double t : totals_bought(p)) out += fmt::format("{:>16}", commas(t));
    std::vector<std::string> bind;
    for (const auto& c : p.constraints)
      if (c.binding && c.group.rfind("demand.", 0) != 0 && std::find(bind.begin(), bind.end(), c.group) == bind.end())
        bind.push_back(c.group);
    out += fmt::format("{:>12}{:>12}{:>11.4f}{:>8.1f}%  {}\n", usd(p.capex_total_usd), usd(p.opex_total_usd),
                       p.usd_per_mtoken, 100 * p.served_share, bind.empty() ? "-" : fmt::format("{}", fmt::join(bind, ", ")));
  }
  return out;
}

nlohmann::json scenarios_json(const std::vector<std::pair<std::string, Plan>>& results, const Fleet& f) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& [name, p] : results) {
    // the scenario's own fleet: its demand and limits are the ones the plan met
    const auto it = std::find_if(f.scenarios.begin(), f.scenarios.end(), [&, n = name](const Scenario& s) { return s.name == n; });
    nlohmann::json j = plan_json(p, it != f.scenarios.end() ? apply_scenario(f, *it) : f);
    j["scenario"] = name;
    a.push_back(j);
  }
  return a;
}

}  // namespace seedchip::explore
