// seedchip — chip economics (docs/cost.md).
#include "seedchip/econ/econ.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "econ_tables.h"

namespace seedchip::econ {

namespace {

// Reads {value, low, high, unit, source}; errors name the table and key.
Param read_param(const YAML::Node& n, const std::string& where) {
  if (!n.IsMap()) throw EconError(fmt::format("{}: expected {{value, low, high, source}}", where));
  Param p;
  try {
    p.value = n["value"].as<double>();
    p.low = n["low"] ? n["low"].as<double>() : p.value;
    p.high = n["high"] ? n["high"].as<double>() : p.value;
  } catch (const YAML::Exception&) {
    throw EconError(fmt::format("{}: value, low and high must be numbers", where));
  }
  if (n["unit"]) p.unit = n["unit"].as<std::string>();
  if (!n["source"]) throw EconError(fmt::format("{}: every parameter names its source", where));
  p.source = n["source"].as<std::string>();
  if (!(p.low <= p.value && p.value <= p.high))
    throw EconError(fmt::format("{}: value {} is outside its range [{}, {}]", where, p.value, p.low, p.high));
  return p;
}

const YAML::Node& nodes_table() {
  static const YAML::Node n = YAML::Load(detail::k_nodes);
  return n;
}

const std::map<std::string, Param>& global_params() {
  static const std::map<std::string, Param> m = [] {
    std::map<std::string, Param> out;
    const YAML::Node n = YAML::Load(detail::k_assumptions);
    for (const auto& kv : n) {
      const auto key = kv.first.as<std::string>();
      out[key] = read_param(kv.second, "econ/data/assumptions.yaml: " + key);
    }
    return out;
  }();
  return m;
}

const char* kNodeKeys[] = {"logic_mtr_mm2", "sram_mb_mm2", "d0_per_cm2", "alpha", "wafer_usd", "mask_musd"};

// Assumptions of a node without the calibrated parameters (the fit's own input).
Assumptions raw_assumptions(const std::string& node) {
  Assumptions a;
  a.node = node;
  a.params = global_params();
  const YAML::Node row = nodes_table()[node];
  for (const char* k : kNodeKeys) a.params[k] = read_param(row[k], fmt::format("econ/data/nodes.yaml: {}.{}", node, k));
  return a;
}

// Type class of a matrix dtype for the PE's transistor budget.
std::string type_class(DType t) {
  switch (t) {
    case DType::int8: return "int8";
    case DType::fp8e4m3:
    case DType::fp8e5m2: return "fp8";
    case DType::bf16:
    case DType::fp16: return "fp16";
    case DType::fp32: return "fp32";
    default: return "";
  }
}

constexpr double kMibToMbit = 8.388608;

// The area with the two fitted parameters explicit (the calibration varies them).
Area area_with(const AreaInputs& in, const Assumptions& a, double core_logic_mtr, double sram_scale) {
  const double mtr = a["logic_mtr_mm2"] * 1e6, sram = a["sram_mb_mm2"] * sram_scale;
  auto logic = [&](double ktr) { return ktr * 1e3 / mtr; };
  double pe_ktr = 0;
  for (const auto& [cls, r] : in.rate) pe_ktr += a["mac_ktr_" + cls] * r;
  Area ar;
  auto& b = ar.breakdown;
  b["matrix"] = logic(in.pes * pe_ktr);
  b["vector"] = logic(in.vector_lanes * a["vector_lane_ktr"]);
  b["noc"] = logic(in.noc_units * a["noc_router_ktr"]);
  b["core_logic"] = logic(in.control_units * core_logic_mtr * 1e3);
  b["sram"] = in.sram_mib * kMibToMbit / sram;
  b["accumulators"] = in.accumulator_mib * kMibToMbit / (sram * a["accumulator_density"]);
  b["instruction_memory"] = in.instruction_mib * kMibToMbit / sram;
  b["hbm_phy"] = in.hbm_stacks * a["hbm_phy_mm2"];
  b["dram_phy"] = in.dram_channels * a["dram_phy_mm2"];
  b["link_phy"] = in.links * a["link_phy_mm2"];
  b["pcie_phy"] = in.pcie_lanes / 16 * a["pcie_phy_mm2"];
  double sum = 0;
  for (const auto& [k, v] : b) sum += v;
  const double f = a["other_fraction"];
  b["other"] = sum * f / (1 - f);
  ar.total = sum + b["other"];
  return ar;
}

}  // namespace

std::vector<std::string> node_names() {
  std::vector<std::string> v;
  for (const auto& kv : nodes_table()) v.push_back(kv.first.as<std::string>());
  return v;
}

double Assumptions::operator[](const std::string& key) const {
  auto it = params.find(key);
  if (it == params.end()) throw EconError(fmt::format("internal: parameter '{}' missing", key));
  return it->second.value;
}

void Assumptions::set(const std::string& key, double value, const std::string& source) {
  auto it = params.find(key);
  if (it == params.end()) {
    std::string known;
    for (const auto& [k, p] : params) known += (known.empty() ? "" : ", ") + k;
    throw EconError(fmt::format("{}: unknown parameter '{}' (known: {})", source, key, known));
  }
  if (!std::isfinite(value) || value < 0)
    throw EconError(fmt::format("{}: {} = {}: must be a finite number >= 0", source, key, value));
  if (key == "other_fraction" && !(value < 1))
    throw EconError(fmt::format("{}: {} = {}: must be in [0, 1)", source, key, value));
  if ((key == "package_yield" || key == "utilization" || key == "life_years" || key == "dc_life_years" ||
       key.find("density") != std::string::npos || key.find("mm2") != std::string::npos || key == "alpha" ||
       key.find("scale") != std::string::npos) && !(value > 0))
    throw EconError(fmt::format("{}: {} = {}: must be positive", source, key, value));
  if ((key == "package_yield" || key == "utilization") && value > 1)
    throw EconError(fmt::format("{}: {} = {}: must be at most 1", source, key, value));
  it->second.value = value;
  it->second.low = it->second.high = value;  // fixed by the user: no longer uncertain
  it->second.source = source;
}

Assumptions assumptions(const std::string& node_in, const std::string& where) {
  const std::string node = node_in.empty() ? kDefaultNode : node_in;
  const YAML::Node row = nodes_table()[node];
  if (!row) {
    std::string known;
    for (const auto& n : node_names()) known += (known.empty() ? "" : ", ") + n;
    throw EconError(fmt::format("{}: unknown process node '{}' (known: {})", where, node, known));
  }
  Assumptions a = raw_assumptions(node);
  const auto& cal = calibration();
  a.params["core_logic_mtr"] = {cal.core_logic_mtr, cal.core_logic_mtr, cal.core_logic_mtr, "MTr per control unit",
                                "fitted on the calibration dies (seedchip chip cost --calibration)"};
  a.params["sram_scale"] = {cal.sram_scale, cal.sram_scale, cal.sram_scale, "x",
                            "fitted on the calibration dies (seedchip chip cost --calibration)"};
  return a;
}

void apply_overrides(Assumptions& a, const std::vector<std::string>& sets, const std::string& yaml_file) {
  if (!yaml_file.empty()) {
    YAML::Node n;
    try {
      n = YAML::LoadFile(yaml_file);
    } catch (const YAML::Exception& e) {
      throw EconError(fmt::format("{}: cannot be read as YAML: {}", yaml_file, e.what()));
    }
    if (!n.IsMap()) throw EconError(fmt::format("{}: expected a map of KEY: VALUE", yaml_file));
    for (const auto& kv : n) {
      const auto key = kv.first.as<std::string>();
      double v = 0;
      try {
        v = kv.second.as<double>();
      } catch (const YAML::Exception&) {
        throw EconError(fmt::format("{}: {}: expected a number", yaml_file, key));
      }
      a.set(key, v, yaml_file);
    }
  }
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos) throw EconError(fmt::format("--set '{}': expected KEY=VALUE", s));
    const std::string key = s.substr(0, eq), val = s.substr(eq + 1);
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(val, &used);
      if (used != val.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw EconError(fmt::format("--set {}: '{}' is not a number", key, val));
    }
    a.set(key, v, "--set " + s);
  }
}

AreaInputs area_inputs(const arch::Chip& c) {
  AreaInputs in;
  const double cores = static_cast<double>(c.cores + c.process.spare_cores);
  in.pes = static_cast<double>(c.core.matrix.rows) * c.core.matrix.cols * cores;
  in.control_units = c.process.control_units > 0 ? c.process.control_units : cores;
  for (const auto& [t, r] : c.core.matrix.rate) {
    const std::string cls = type_class(t);
    if (!cls.empty()) in.rate[cls] = std::max(in.rate[cls], r);
  }
  constexpr double mib = 1024.0 * 1024.0;
  in.sram_mib = static_cast<double>(c.core.sram_bytes) * cores / mib;
  in.accumulator_mib = static_cast<double>(c.core.accumulator_bytes) * cores / mib;
  // 64 MiB or more per core stands for code fetched from HBM (the GPU descriptions): not on the die
  in.instruction_mib = c.core.instruction_memory_bytes < (64ull << 20) ? static_cast<double>(c.core.instruction_memory_bytes) * cores / mib : 0;
  in.vector_lanes = static_cast<double>(c.core.vector.lanes) * cores;
  in.noc_units = cores * c.timing.noc.link_bytes_per_cycle / 256.0;
  if (c.memory.type.rfind("hbm", 0) == 0) in.hbm_stacks = c.memory.devices;
  else in.dram_channels = c.memory.devices;
  in.links = c.interconnect.links;
  return in;
}

Area die_area(const AreaInputs& in, const Assumptions& a) {
  return area_with(in, a, a["core_logic_mtr"], a["sram_scale"]);
}

const std::vector<PublishedDie>& published_dies() {
  static const std::vector<PublishedDie> dies = [] {
    std::vector<PublishedDie> v;
    const YAML::Node n = YAML::Load(detail::k_dies);
    for (const auto& kv : n) {
      PublishedDie d;
      d.name = kv.first.as<std::string>();
      const auto& r = kv.second;
      d.role = r["role"].as<std::string>();
      d.bound = r["bound"].as<std::string>();
      d.node = r["node"].as<std::string>();
      d.source = r["source"].as<std::string>();
      d.area_mm2 = r["area_mm2"].as<double>();
      auto num = [&](const char* k) { return r[k] ? r[k].as<double>() : 0.0; };
      d.inputs.pes = num("pes");
      d.inputs.control_units = num("control_units");
      for (const auto& rk : r["rate"]) d.inputs.rate[rk.first.as<std::string>()] = rk.second.as<double>();
      d.inputs.sram_mib = num("sram_mib");
      d.inputs.accumulator_mib = num("accumulator_mib");
      d.inputs.vector_lanes = num("vector_lanes");
      d.inputs.noc_units = num("noc_units");
      d.inputs.hbm_stacks = num("hbm_stacks");
      d.inputs.dram_channels = num("dram_channels");
      d.inputs.links = num("links");
      d.inputs.pcie_lanes = num("pcie_lanes");
      v.push_back(std::move(d));
    }
    return v;
  }();
  return dies;
}

namespace {

// Least squares on log area over `dies` for (log core_logic_mtr, log
// sram_scale): a coarse grid, then finer ones around the best point.
std::pair<double, double> fit(const std::vector<const PublishedDie*>& dies) {
  std::vector<Assumptions> as;
  for (const auto* d : dies) as.push_back(raw_assumptions(d->node));
  auto loss = [&](double ll, double ls) {
    double s = 0;
    for (size_t i = 0; i < dies.size(); ++i) {
      const double e = std::log(area_with(dies[i]->inputs, as[i], std::exp(ll), std::exp(ls)).total / dies[i]->area_mm2);
      s += e * e;
    }
    // a weak pull towards 100 MTr and scale 1 keeps the fit determined when fewer dies than parameters remain
    const double dl = ll - std::log(100.0);
    return s + 1e-4 * (dl * dl + ls * ls);
  };
  double bl = std::log(100.0), bs = 0, span = 4.0;
  for (int round = 0; round < 4; ++round) {
    double best = loss(bl, bs), nl = bl, ns = bs;
    for (int i = -40; i <= 40; ++i)
      for (int j = -40; j <= 40; ++j) {
        const double l = bl + span * i / 40, s = bs + span * j / 40, v = loss(l, s);
        if (v < best) best = v, nl = l, ns = s;
      }
    bl = nl, bs = ns, span /= 10;
  }
  return {std::exp(bl), std::exp(bs)};
}

}  // namespace

const Calibration& calibration() {
  static const Calibration cal = [] {
    Calibration c;
    std::vector<const PublishedDie*> fitted;
    for (const auto& d : published_dies())
      if (d.role == "calibration") fitted.push_back(&d);
    std::tie(c.core_logic_mtr, c.sram_scale) = fit(fitted);
    for (const auto& d : published_dies()) {
      Calibration::Row r;
      r.name = d.name, r.role = d.role, r.bound = d.bound, r.published = d.area_mm2;
      r.in_sample = area_with(d.inputs, raw_assumptions(d.node), c.core_logic_mtr, c.sram_scale).total;
      if (d.role == "calibration") {
        std::vector<const PublishedDie*> rest;
        for (const auto* f : fitted)
          if (f != &d) rest.push_back(f);
        const auto [ll, ls] = fit(rest);
        r.loo = area_with(d.inputs, raw_assumptions(d.node), ll, ls).total;
      }
      c.rows.push_back(r);
    }
    return c;
  }();
  return cal;
}

double die_yield(double area_mm2, double d0, double alpha, const std::string& model) {
  const double ad = area_mm2 / 100.0 * d0;  // area in cm2 x defects per cm2
  if (model == "poisson") return std::exp(-ad);
  if (model == "murphy") return ad == 0 ? 1.0 : std::pow((1 - std::exp(-ad)) / ad, 2);
  if (model == "negative-binomial") return std::pow(1 + ad / alpha, -alpha);
  throw EconError(fmt::format("--yield-model '{}': expected negative-binomial, poisson or murphy", model));
}

Energy run_energy(const arch::Chip& chip, const Activity& act) {
  const auto& en = chip.energy;
  double dyn = 0;
  for (const auto& [dt, macs] : act.macs) {
    auto it = en.mac_pj.find(dt);
    if (it == en.mac_pj.end() && (dt == DType::uint8 || dt == DType::int4)) it = en.mac_pj.find(DType::int8);
    if (it != en.mac_pj.end()) dyn += static_cast<double>(macs) * it->second;
  }
  dyn += static_cast<double>(act.vector_elements) * en.vector_pj_per_element;
  dyn += static_cast<double>(act.sram_bytes) * en.sram_pj_per_byte;
  dyn += static_cast<double>(act.hbm_bytes) * en.hbm_pj_per_byte;
  Energy e;
  e.dynamic_j = dyn * 1e-12;
  e.static_j = en.static_w * act.seconds;
  e.total_j = e.dynamic_j + e.static_j;
  return e;
}

Tdp tdp(const arch::Chip& c) {
  Tdp t;
  const double pes = static_cast<double>(c.core.matrix.rows) * c.core.matrix.cols * c.cores;
  for (const auto& [dt, r] : c.core.matrix.rate) {
    auto it = c.energy.mac_pj.find(dt);
    if (it != c.energy.mac_pj.end()) t.matrix_w = std::max(t.matrix_w, pes * r * c.clock_hz * it->second * 1e-12);
  }
  t.vector_w = static_cast<double>(c.core.vector.lanes) * c.cores * c.clock_hz * c.energy.vector_pj_per_element * 1e-12;
  t.sram_w = static_cast<double>(c.core.sram_banks) * c.timing.sram.bytes_per_cycle_per_bank * c.cores * c.clock_hz *
             c.energy.sram_pj_per_byte * 1e-12;
  t.hbm_w = c.memory.bandwidth_bytes_per_s * c.energy.hbm_pj_per_byte * 1e-12;
  t.static_w = c.energy.static_w;
  t.total_w = t.matrix_w + t.vector_w + t.sram_w + t.hbm_w + t.static_w;
  return t;
}

Cost chip_cost(const arch::Chip& chip, const Assumptions& a, int64_t units, const std::string& yield_model) {
  if (units < 1) throw EconError(fmt::format("--units {}: must be at least 1", units));
  Cost c;
  c.node = a.node;
  c.yield_model = yield_model;
  c.units = units;
  const AreaInputs in = area_inputs(chip);
  c.area = die_area(in, a);
  const double physical = static_cast<double>(chip.cores + chip.process.spare_cores);
  c.area.core_mm2 = (c.area.breakdown["matrix"] + c.area.breakdown["vector"] + c.area.breakdown["sram"] +
                     c.area.breakdown["accumulators"] + c.area.breakdown["instruction_memory"] + c.area.breakdown["noc"] +
                     c.area.breakdown["core_logic"]) /
                    physical;
  const double A = c.area.total, reticle = a["reticle_mm2"];
  if (A > reticle)
    throw EconError(fmt::format("{}: the die comes to {:.0f} mm2, over the {:.0f} mm2 reticle (26 x 33 mm): fewer cores, less "
                                "SRAM or a multi-die package",
                                chip.source, A, reticle));
  constexpr double r = 150.0;  // 300 mm wafer
  c.dies_per_wafer = std::floor(std::numbers::pi * r * r / A - std::numbers::pi * 2 * r / std::sqrt(2 * A));
  const double d0 = a["d0_per_cm2"], alpha = a["alpha"];
  if (chip.process.spare_cores == 0) {
    c.yield = die_yield(A, d0, alpha, yield_model);
  } else {
    // the uncore must be clean; at least `cores` of cores + spare must work (each core's defects independent)
    const double y = die_yield(c.area.core_mm2, d0, alpha, yield_model);
    const int n = static_cast<int>(chip.cores), m = static_cast<int>(chip.cores + chip.process.spare_cores);
    double p = 0;
    for (int k = n; k <= m; ++k) p += std::exp(std::lgamma(m + 1) - std::lgamma(k + 1) - std::lgamma(m - k + 1)) * std::pow(y, k) * std::pow(1 - y, m - k);
    c.yield = die_yield(A - physical * c.area.core_mm2, d0, alpha, yield_model) * p;
  }
  c.good_die_cost_usd = a["wafer_usd"] / (c.dies_per_wafer * c.yield);
  const bool hbm = chip.memory.type.rfind("hbm", 0) == 0;
  // the memory's price by type (unless the chip file states one) and the package's: parameter keys
  const std::string& mt = chip.memory.type;
  const std::string mem_key = mt == "hbm3e" || mt == "hbm3" ? mt + "_usd_per_gb" : hbm ? "hbm2e_usd_per_gb" : "dram_usd_per_gb";
  const double usd_gb = chip.process.hbm_usd_per_gb > 0 ? chip.process.hbm_usd_per_gb : a[mem_key];
  c.hbm_cost_usd = static_cast<double>(chip.memory.capacity_bytes) / 1e9 * usd_gb;
  std::string pkg_key = "package_" + (!chip.process.package.empty() ? chip.process.package : hbm ? "cowos-s" : "organic") + "_usd";
  std::replace(pkg_key.begin(), pkg_key.end(), '-', '_');
  c.package_cost_usd = a[pkg_key];
  c.test_cost_usd = a["test_usd"];
  c.nre_usd = (a["mask_musd"] + a["ip_musd"] + a["design_musd"]) * 1e6;
  c.nre_per_unit_usd = c.nre_usd / static_cast<double>(units);
  c.unit_cost_usd = (c.good_die_cost_usd + c.hbm_cost_usd + c.package_cost_usd + c.test_cost_usd) / a["package_yield"] +
                    c.nre_per_unit_usd;
  c.tdp_w = tdp(chip).total_w;
  c.price_usd = owner_price(chip, c, a);
  c.used = {"logic_mtr_mm2", "sram_mb_mm2", "core_logic_mtr", "sram_scale", "other_fraction", "accumulator_density",
            "vector_lane_ktr", "noc_router_ktr", "reticle_mm2", "d0_per_cm2", "alpha", "wafer_usd", "package_yield",
            "test_usd", "mask_musd", "ip_musd", "design_musd", "margin"};
  for (const auto& [cls, rr] : in.rate) c.used.push_back("mac_ktr_" + cls);
  if (in.hbm_stacks > 0) c.used.push_back("hbm_phy_mm2");
  if (in.dram_channels > 0) c.used.push_back("dram_phy_mm2");
  if (in.links > 0) c.used.push_back("link_phy_mm2");
  c.used.push_back("pcie_phy_mm2");
  if (chip.process.hbm_usd_per_gb == 0) c.used.push_back(mem_key);
  c.used.push_back(pkg_key);
  std::sort(c.used.begin(), c.used.end());
  return c;
}

double owner_price(const arch::Chip& chip, const Cost& c, const Assumptions& a) {
  return chip.process.price_usd > 0 ? chip.process.price_usd : c.unit_cost_usd * (1 + a["margin"]);
}

nlohmann::json param_json(const Param& p) {
  return {{"value", p.value}, {"low", p.low}, {"high", p.high}, {"unit", p.unit}, {"source", p.source}};
}

nlohmann::json cost_json(const Cost& c, const Assumptions& a) {
  nlohmann::json br = nlohmann::json::object();
  for (const auto& [k, v] : c.area.breakdown) br[k] = v;
  nlohmann::json as = nlohmann::json::object();
  for (const auto& k : c.used) as[k] = param_json(a.params.at(k));
  return {{"node", c.node},
          {"die_area_mm2", c.area.total},
          {"area_breakdown_mm2", br},
          {"core_area_mm2", c.area.core_mm2},
          {"dies_per_wafer", c.dies_per_wafer},
          {"yield_model", c.yield_model},
          {"yield", c.yield},
          {"good_die_cost_usd", c.good_die_cost_usd},
          {"hbm_cost_usd", c.hbm_cost_usd},
          {"package_cost_usd", c.package_cost_usd},
          {"test_cost_usd", c.test_cost_usd},
          {"nre_usd", c.nre_usd},
          {"units", c.units},
          {"nre_per_unit_usd", c.nre_per_unit_usd},
          {"unit_cost_usd", c.unit_cost_usd},
          {"price_usd", c.price_usd},
          {"tdp_w", c.tdp_w},
          {"assumptions", as}};
}

Tco tco(double price_usd, double tokens_per_s, double avg_power_w, double tdp_w, const Assumptions& a) {
  Tco t;
  t.price_usd = price_usd;
  t.server_share_usd = a["server_share_usd"];
  t.capex_per_year_usd = (price_usd + t.server_share_usd) / a["life_years"];
  const double host = 1 + a["host_power_factor"], pue = a["pue"];
  // the facility is built for the chips' TDP with their host share; energy is paid on the average draw while serving
  t.facility_w = tdp_w * host * pue;
  t.facility_per_year_usd = a["dc_capex_usd_per_w"] * t.facility_w / a["dc_life_years"];
  const double hours = 8760 * a["utilization"];
  t.energy_per_year_usd = avg_power_w * host * pue / 1000 * hours * a["electricity_usd_per_kwh"];
  t.per_chip_year_usd = t.capex_per_year_usd + t.facility_per_year_usd + t.energy_per_year_usd;
  const double tokens_year = tokens_per_s * 3600 * hours;
  t.usd_per_million_tokens = tokens_year > 0 ? t.per_chip_year_usd / tokens_year * 1e6 : 0;
  t.tokens_per_joule = avg_power_w > 0 ? tokens_per_s / avg_power_w : 0;
  t.tokens_per_s_per_usd = price_usd > 0 ? tokens_per_s / price_usd : 0;
  return t;
}

std::vector<Swing> sensitivity(const Assumptions& a, const std::function<double(const Assumptions&)>& figure) {
  std::vector<Swing> out;
  for (const auto& [k, p] : a.params) {
    if (!(p.low < p.high)) continue;
    Assumptions lo = a, hi = a;
    lo.params[k].value = p.low;
    hi.params[k].value = p.high;
    Swing s;
    s.key = k, s.low = p.low, s.high = p.high;
    s.at_low = figure(lo), s.at_high = figure(hi);
    out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(), [](const Swing& x, const Swing& y) { return x.swing() > y.swing(); });
  return out;
}

void add_tco_keys(nlohmann::json& j, const arch::Chip& chip, double tps, double power) {
  Assumptions as;
  Cost c;
  try {
    as = assumptions(chip.process.node, chip.source + ": process.node");
    c = chip_cost(chip, as, 100000);
  } catch (const EconError&) {
    return;  // no cost for this chip: the keys are left out
  }
  if (power <= 0) power = as["avg_power_fraction"] * chip.tdp_w;
  const auto t = tco(owner_price(chip, c, as), tps, power, chip.tdp_w, as);
  j["price_usd"] = t.price_usd;
  j["usd_per_million_tokens"] = t.usd_per_million_tokens;
  j["tokens_per_joule"] = t.tokens_per_joule;
  j["tokens_per_s_per_usd"] = t.tokens_per_s_per_usd;
}


}  // namespace seedchip::econ
