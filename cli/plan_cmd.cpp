// seedchip — `seedchip plan` (docs/plan.md).
#include "plan_cmd.h"

#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"
#include "seedchip/explore/analysis.h"
#include "seedchip/explore/report.h"

namespace seedchip::cli {

namespace {

// A chip named by a fleet file: a relative path is relative to the file.
std::string chip_ref(const explore::Fleet& f, const std::string& chip) {
  if ((chip.find('/') != std::string::npos || chip.ends_with(".yaml") || chip.ends_with(".yml")) &&
      std::filesystem::path(chip).is_relative()) {
    const auto rel = std::filesystem::path(f.source).parent_path() / chip;
    std::error_code ec;
    if (std::filesystem::exists(rel, ec)) return rel.string();
  }
  return chip;
}

explore::Workload workload_of(const explore::Demand& d, int64_t requests) {
  explore::Workload w;
  w.name = d.name;
  w.model = d.model;
  w.scenario = d.slo == "offline" ? "offline" : "server";
  w.precision = d.precision;
  w.dataset = d.dataset;
  w.chips = 8;
  w.tp = {2, 4, 8};
  w.requests = requests;
  w.block_size = 256;
  if (d.slo == "custom") {
    w.ttft_slo = std::isnan(d.ttft_slo_s) ? -1 : d.ttft_slo_s;
    w.tpot_slo = std::isnan(d.tpot_slo_s) ? -1 : d.tpot_slo_s;
  }
  return w;
}

}  // namespace

void fill_fleet(explore::Fleet& f, int64_t requests) {
  // the serving runs a missing tokens/s needs, all at once on two threads
  std::map<std::pair<size_t, size_t>, std::shared_future<explore::Served>> runs;
  std::vector<std::pair<size_t, size_t>> todo;
  for (size_t h = 0; h < f.hardware.size(); ++h)
    for (size_t d = 0; d < f.demand.size(); ++d)
      if (!f.hardware[h].chip.empty() && std::isnan(f.hardware[h].rate(f.demand[d].name))) todo.emplace_back(h, d);
  std::vector<explore::Served> results(todo.size());
  std::vector<std::string> errors(todo.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const auto& [h, d] = todo[i];
      try {
        const auto r = explore::serve_and_cost(chip_ref(f, f.hardware[h].chip), workload_of(f.demand[d], requests), 100000, false);
        // a deployment that misses the SLOs at every rate serves none of this demand
        results[i] = {r.run.met ? r.tokens_per_s_per_chip() : 0.0, r.avg_power_w};
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  {
    auto t = std::async(std::launch::async, worker);
    worker();
    t.get();
  }
  for (size_t i = 0; i < todo.size(); ++i)
    if (!errors[i].empty())
      throw explore::PlanError(fmt::format("{}: hardware.{}: serving {}: {}", f.source, f.hardware[todo[i].first].name,
                                           f.demand[todo[i].second].name, errors[i]));
  std::map<std::pair<std::string, std::string>, explore::Served> served;
  for (size_t i = 0; i < todo.size(); ++i) served[{f.hardware[todo[i].first].name, f.demand[todo[i].second].name}] = results[i];
  explore::fill_figures(
      f, [&](const explore::Hardware& h, const explore::Demand& d) { return served.at({h.name, d.name}); },
      [&](explore::Hardware& h) {
        if (h.chip.empty()) throw explore::PlanError(fmt::format("{}: hardware.{}: no chip to cost (give chip: or the figures)", f.source, h.name));
        const auto chip = arch::find_chip(chip_ref(f, h.chip));
        const auto as = econ::assumptions(chip.process.node, chip.source + ": process.node");
        const int64_t units = std::isfinite(h.max_total_units) && h.max_total_units > 0 ? static_cast<int64_t>(h.max_total_units) : 100000;
        const auto c = econ::chip_cost(chip, as, units);
        if (std::isnan(h.price_usd) && h.price_usd_per_quarter.empty()) h.price_usd = econ::owner_price(chip, c, as);
        if (std::isnan(h.tdp_w)) h.tdp_w = chip.tdp_w;
        if (std::isnan(h.hbm_stacks)) h.hbm_stacks = chip.memory.type.rfind("hbm", 0) == 0 ? chip.memory.devices : 0;
        if (std::isnan(h.hbm_gb)) h.hbm_gb = static_cast<double>(chip.memory.capacity_bytes) / 1e9;
      });
}

int cmd_plan(const PlanArgs& a) {
  explore::Fleet f = explore::load_fleet(a.fleet);
  fill_fleet(f, a.requests);
  const explore::Plan p = explore::solve(f);
  const auto scen = explore::solve_scenarios(f);
  std::vector<std::string> violations;
  if (a.check) violations = explore::check_plan(p, f);
  std::string report_path;
  if (!a.report.empty()) {
    report::svg::Page page(fmt::format("seedchip plan: {}", f.name));
    explore::add_plan_sections(page, p, f);
    for (const auto& [name, sp] : scen)
      for (const auto& sc : f.scenarios)
        if (sc.name == name && sp.status != "infeasible")
          explore::add_plan_sections(page, sp, explore::apply_scenario(f, sc), fmt::format("Scenario {}: {}", name, sp.status));
    report_path = page.write(a.report);
  }
  if (a.json) {
    auto j = explore::plan_json(p, f);
    j["scenarios"] = explore::scenarios_json(scen, f);
    if (a.check) j["violations"] = violations;
    if (!report_path.empty()) j["report"] = report_path;
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", explore::plan_text(p, f));
    if (!scen.empty()) fmt::print("\n{}", explore::scenarios_text(scen, f));
    if (a.check) fmt::print("\ncheck: {}\n", violations.empty() ? "every constraint and figure recomputed from the decisions agrees" : "VIOLATIONS");
    for (const auto& v : violations) fmt::print("  {}\n", v);
    if (!report_path.empty()) fmt::print("report: {}\n", report_path);
  }
  return violations.empty() ? 0 : 1;
}

}  // namespace seedchip::cli
