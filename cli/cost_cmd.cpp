// seedchip — `seedchip chip cost` and `seedchip tco` (docs/cost.md).
#include "cost_cmd.h"

#include <fstream>

#include <fmt/format.h>

namespace seedchip::cli {

econ::Assumptions cost_assumptions(const arch::Chip& chip, const CostArgs& a) {
  econ::Assumptions as = !a.node.empty() ? econ::assumptions(a.node, "--node")
                                         : econ::assumptions(chip.process.node, chip.source + ": process.node");
  econ::apply_overrides(as, a.sets, a.assumptions_file);
  return as;
}

namespace {

void print_calibration() {
  const auto& cal = econ::calibration();
  fmt::print("area model calibration: core_logic_mtr {:.1f} MTr per control unit, sram_scale {:.3f} (least squares on "
             "log area over the calibration dies)\n",
             cal.core_logic_mtr, cal.sram_scale);
  fmt::print("  {:<12} {:<12} {:>10} {:>10} {:>8} {:>10} {:>8}\n", "die", "role", "published", "in-sample", "error",
             "leave-out", "error");
  for (const auto& r : cal.rows) {
    const std::string pub = fmt::format("{}{:.0f}", r.bound == "upper" ? "<" : "", r.published);
    const std::string loo = r.loo > 0 ? fmt::format("{:.0f}", r.loo) : "-";
    const std::string loo_e = r.loo > 0 ? fmt::format("{:+.1f}%", 100 * (r.loo / r.published - 1)) : "-";
    fmt::print("  {:<12} {:<12} {:>10} {:>10.0f} {:>+7.1f}% {:>10} {:>8}\n", r.name, r.role, pub, r.in_sample,
               100 * (r.in_sample / r.published - 1), loo, loo_e);
  }
}

void print_swings(const std::vector<econ::Swing>& rows, const std::string& what, size_t n) {
  fmt::print("sensitivity of {} (each parameter over its range, the others at their values; largest first)\n", what);
  fmt::print("  {:<26} {:>12} {:>12} {:>12} {:>12} {:>10}\n", "parameter", "low", "high", "at low", "at high", "swing");
  for (size_t i = 0; i < rows.size() && i < n; ++i) {
    const auto& r = rows[i];
    fmt::print("  {:<26} {:>12.4g} {:>12.4g} {:>12.4g} {:>12.4g} {:>10.4g}\n", r.key, r.low, r.high, r.at_low, r.at_high,
               r.swing());
  }
}

}  // namespace

int cmd_chip_cost(const CostArgs& a) {
  if (a.calibration) {
    print_calibration();
    if (a.chip.empty()) return 0;
  }
  if (a.chip.empty()) throw std::runtime_error("chip cost: name a chip (or --calibration)");
  const arch::Chip chip = arch::find_chip(a.chip);
  const econ::Assumptions as = cost_assumptions(chip, a);
  const econ::Cost c = econ::chip_cost(chip, as, a.units, a.yield_model);
  if (a.json) {
    auto j = econ::cost_json(c, as);
    j["chip"] = chip.name;
    j["tdp_w_chip_file"] = chip.tdp_w;
    if (a.sensitivity) {
      auto rows = econ::sensitivity(as, [&](const econ::Assumptions& x) { return econ::chip_cost(chip, x, a.units, a.yield_model).unit_cost_usd; });
      nlohmann::json t = nlohmann::json::array();
      for (const auto& r : rows)
        t.push_back({{"parameter", r.key}, {"low", r.low}, {"high", r.high}, {"unit_cost_at_low", r.at_low},
                     {"unit_cost_at_high", r.at_high}, {"swing", r.swing()}});
      j["sensitivity_unit_cost_usd"] = t;
    }
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("{} on {} ({} units, {} yield)\n", chip.name, c.node, c.units, c.yield_model);
  fmt::print("  die area      {:8.1f} mm2 (one core {:.1f} mm2, {} + {} spare cores)\n", c.area.total, c.area.core_mm2,
             chip.cores, chip.process.spare_cores);
  std::vector<std::pair<double, std::string>> parts;
  for (const auto& [k, v] : c.area.breakdown)
    if (v > 0) parts.emplace_back(v, k);
  std::sort(parts.rbegin(), parts.rend());
  for (const auto& [v, k] : parts) fmt::print("    {:<20} {:8.1f} mm2 {:5.1f}%\n", k, v, 100 * v / c.area.total);
  fmt::print("  dies per wafer {:7.0f}, yield {:.1f}% (D0 {} /cm2, alpha {})\n", c.dies_per_wafer, 100 * c.yield,
             as["d0_per_cm2"], as["alpha"]);
  fmt::print("  good die      ${:9.0f}  (wafer ${:.0f})\n", c.good_die_cost_usd, as["wafer_usd"]);
  fmt::print("  memory        ${:9.0f}  ({:.0f} GB of {})\n", c.hbm_cost_usd, static_cast<double>(chip.memory.capacity_bytes) / 1e9,
             chip.memory.type);
  fmt::print("  package       ${:9.0f}\n  test          ${:9.0f}\n", c.package_cost_usd, c.test_cost_usd);
  fmt::print("  NRE per unit  ${:9.0f}  (${:.1f}M over {} units)\n", c.nre_per_unit_usd, c.nre_usd / 1e6, c.units);
  fmt::print("  unit cost     ${:9.0f}  (package yield {:.0f}%)\n", c.unit_cost_usd, 100 * as["package_yield"]);
  if (chip.process.price_usd > 0) fmt::print("  market price  ${:9.0f}  (process.price_usd)\n", chip.process.price_usd);
  const auto t = econ::tdp(chip);
  fmt::print("  TDP           {:6.0f} W at full activity (matrix {:.0f}, vector {:.0f}, SRAM {:.0f}, memory {:.0f}, static "
             "{:.0f}); the chip file states {:.0f} W\n",
             t.total_w, t.matrix_w, t.vector_w, t.sram_w, t.hbm_w, t.static_w, chip.tdp_w);
  fmt::print("  every parameter and its source: --json (assumptions)\n");
  if (a.sensitivity)
    print_swings(econ::sensitivity(as, [&](const econ::Assumptions& x) { return econ::chip_cost(chip, x, a.units, a.yield_model).unit_cost_usd; }),
                 "the unit cost (USD)", 15);
  return 0;
}

int cmd_tco(const TcoArgs& a) {
  if (a.cost.chip.empty()) throw std::runtime_error("tco: --chip is required");
  const arch::Chip chip = arch::find_chip(a.cost.chip);
  const econ::Assumptions as = cost_assumptions(chip, a.cost);
  const econ::Cost c = econ::chip_cost(chip, as, a.cost.units, a.cost.yield_model);
  double tps = a.tokens_per_s, power = a.power_w;
  std::string from = "--tokens-per-s";
  if (!a.serve_json.empty() || !a.serve.model.empty()) {
    if (!a.serve_json.empty() && !a.serve.model.empty())
      throw std::runtime_error("tco: --serve-json and --model both give the throughput; pass one");
    nlohmann::json j;
    if (!a.serve.model.empty()) {
      ServeArgs sa = a.serve;
      sa.chip = a.cost.chip;
      const ServeRun run = run_serve(sa);
      j = run.json;
      from = fmt::format("seedchip serve --model {} ({}, {} requests)", sa.model, sa.scenario, run.result.requests.size());
    } else {
      std::ifstream f(a.serve_json);
      if (!f) throw std::runtime_error(fmt::format("--serve-json {}: cannot be read", a.serve_json));
      try {
        f >> j;
      } catch (const std::exception& e) {
        throw std::runtime_error(fmt::format("--serve-json {}: not JSON: {}", a.serve_json, e.what()));
      }
      from = a.serve_json;
    }
    for (const char* k : {"output_tokens_per_s_per_chip", "energy_j", "simulated_s", "chips"})
      if (!j.contains(k) || !j[k].is_number())
        throw std::runtime_error(fmt::format("--serve-json {}: field '{}' is missing (a `seedchip serve --json` result?)", a.serve_json, k));
    if (j.contains("chip") && j["chip"] != chip.name)
      throw std::runtime_error(fmt::format("--serve-json {}: a run on '{}', not '{}'", a.serve_json, j["chip"].get<std::string>(), chip.name));
    // the served capacity (server: the passing rate), else all output over the run (older JSON)
    tps = j.contains("served_tokens_per_s_per_chip") && j["served_tokens_per_s_per_chip"].is_number()
              ? j["served_tokens_per_s_per_chip"].get<double>()
              : j["output_tokens_per_s_per_chip"].get<double>();
    const double sim = j["simulated_s"].get<double>(), chips = j["chips"].get<double>();
    if (power <= 0 && sim > 0 && chips > 0) power = j["energy_j"].get<double>() / sim / chips;
  }
  if (!(tps > 0)) throw std::runtime_error("tco: needs a throughput: --serve-json FILE, --model M (runs serve) or --tokens-per-s X (> 0)");
  if (power <= 0) power = as["avg_power_fraction"] * chip.tdp_w;
  const double price = econ::owner_price(chip, c, as);
  const econ::Tco t = econ::tco(price, tps, power, chip.tdp_w, as);
  auto figure = [&](const econ::Assumptions& x) {
    const econ::Cost cx = econ::chip_cost(chip, x, a.cost.units, a.cost.yield_model);
    return econ::tco(econ::owner_price(chip, cx, x), tps, power, chip.tdp_w, x).usd_per_million_tokens;
  };
  if (a.cost.json) {
    nlohmann::json j = {{"chip", chip.name},
                        {"node", c.node},
                        {"price_usd", t.price_usd},
                        {"price_basis", chip.process.price_usd > 0 ? "market price (process.price_usd)" : "unit cost x (1 + margin)"},
                        {"server_share_usd", t.server_share_usd},
                        {"capex_per_year_usd", t.capex_per_year_usd},
                        {"facility_per_year_usd", t.facility_per_year_usd},
                        {"energy_per_year_usd", t.energy_per_year_usd},
                        {"per_chip_year_usd", t.per_chip_year_usd},
                        {"tokens_per_s_per_chip", tps},
                        {"avg_power_w", power},
                        {"facility_w", t.facility_w},
                        {"usd_per_million_tokens", t.usd_per_million_tokens},
                        {"tokens_per_joule", t.tokens_per_joule},
                        {"tokens_per_s_per_usd", t.tokens_per_s_per_usd}};
    nlohmann::json asj = nlohmann::json::object();
    for (const char* k : {"server_share_usd", "host_power_factor", "pue", "electricity_usd_per_kwh", "dc_capex_usd_per_w",
                          "dc_life_years", "life_years", "utilization", "margin", "avg_power_fraction"})
      asj[k] = econ::param_json(as.params.at(k));
    j["assumptions"] = asj;
    if (a.cost.sensitivity) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : econ::sensitivity(as, figure))
        rows.push_back({{"parameter", r.key}, {"low", r.low}, {"high", r.high}, {"at_low", r.at_low}, {"at_high", r.at_high},
                        {"swing", r.swing()}});
      j["sensitivity_usd_per_million_tokens"] = rows;
    }
    fmt::print("{}\n", j.dump(2));
    return 0;
  }
  fmt::print("{} total cost of ownership ({:.1f} output tokens/s per chip at {:.0f} W, from {})\n", chip.name, tps, power, from);
  fmt::print("  price          ${:9.0f}  ({})\n", t.price_usd,
             chip.process.price_usd > 0 ? "market price" : fmt::format("unit cost on {} x (1 + margin {})", c.node, as["margin"]));
  fmt::print("  server share   ${:9.0f}  (host, board, network per chip)\n", t.server_share_usd);
  fmt::print("  per chip-year  ${:9.0f}  = capex ${:.0f} + facility ${:.0f} + energy ${:.0f}\n", t.per_chip_year_usd,
             t.capex_per_year_usd, t.facility_per_year_usd, t.energy_per_year_usd);
  fmt::print("  per million output tokens ${:.4f} (utilisation {:.0f}%, PUE {}, {} USD/kWh, {} years)\n", t.usd_per_million_tokens,
             100 * as["utilization"], as["pue"], as["electricity_usd_per_kwh"], as["life_years"]);
  fmt::print("  tokens per joule {:.2f}; tokens/s per USD of chip {:.4f}\n", t.tokens_per_joule, t.tokens_per_s_per_usd);
  if (a.cost.sensitivity) print_swings(econ::sensitivity(as, figure), "USD per million output tokens", 15);
  return 0;
}

ChipEconomics chip_economics(const arch::Chip& chip) {
  ChipEconomics e;
  try {
    const auto a = econ::assumptions(chip.process.node, chip.source + ": process.node");
    e.node = a.node;
    e.area_mm2 = econ::die_area(econ::area_inputs(chip), a).total;
    e.tdp_w = econ::tdp(chip).total_w;
    e.ok = true;
  } catch (const econ::EconError& x) {
    e.why = x.what();
  }
  return e;
}

}  // namespace seedchip::cli
