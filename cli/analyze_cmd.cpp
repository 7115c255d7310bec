// seedchip — `seedchip analyze` (README's main command; docs/explore.md "The flagship analysis").
#include "analyze_cmd.h"

#include <future>

#include <fmt/format.h>

#include "progress.h"
#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"
#include "seedchip/explore/analysis.h"
#include "seedchip/explore/report.h"

namespace seedchip::cli {

int cmd_analyze(const AnalyzeArgs& a) {
  explore::Workload w;
  w.name = a.model + "-server";
  w.model = a.model;
  w.scenario = "server";
  w.precision = a.precision;
  w.chips = a.chips;
  w.requests = a.requests;
  w.block_size = 256;
  w.tp.clear();
  for (int64_t tp = 1; tp <= a.chips; tp *= 2)
    if (a.chips % tp == 0 && tp >= 2) w.tp.push_back(tp);
  if (w.tp.empty()) w.tp.push_back(1);
  // bad names fail before any serving starts
  (void)arch::find_chip(a.chip);
  (void)arch::find_chip(a.baseline);
  (void)llm::find_model(a.model);
  if (a.chips < 1) throw std::runtime_error(fmt::format("--chips {}: must be at least 1", a.chips));
  if (a.requests < 10) throw std::runtime_error(fmt::format("--requests {}: at least 10 for a rate search", a.requests));
  // the two chips' runs are independent: one thread each
  auto other = std::async(std::launch::async, [&] { return explore::serve_and_cost(a.baseline, w, a.units); });
  std::vector<explore::ChipResult> chips;
  chips.push_back(explore::serve_and_cost(a.chip, w, a.units));
  chips.push_back(other.get());
  auto head = explore::headline_json(chips, w, 1);
  // the fleet plan: this comparison's figures for the hardware running these chips on
  // this model at server limits; the rest from the file or from serving runs
  explore::Fleet f = a.fleet.empty() ? explore::parse_fleet(explore::default_fleet_yaml(), "builtin:seed-2026")
                                     : explore::load_fleet(a.fleet);
  for (auto& h : f.hardware)
    for (const auto& c : chips)
      if (h.chip == c.chip.name)
        for (const auto& d : f.demand)
          if (d.model == w.model && d.slo == "server") {
            h.tokens_per_s[d.name] = c.run.met ? c.tokens_per_s_per_chip() : 0.0;
            h.power_w_per_demand[d.name] = c.avg_power_w;
          }
  explore::fill_fleet(f, 1000);
  const explore::Plan plan = explore::try_solve(f);
  head["plan"] = explore::plan_json(plan, f);
  std::string report_path;
  if (!a.report.empty()) {
    report::svg::Page page(fmt::format("seedchip: {} vs {} on {}", a.chip, a.baseline, a.model));
    explore::add_comparison_sections(page, chips, w, 1);
    if (plan.status != "infeasible") explore::add_plan_sections(page, plan, f);
    else page.paragraph("The fleet plan is infeasible: " + plan.message);
    report_path = page.write(a.report);
    head["report"] = report_path;
  }
  if (a.json) {
    fmt::print("{}\n", head.dump(2));
  } else {
    fmt::print("{}\n", explore::headline_text(chips, w, 1));
    if (plan.status == "infeasible") fmt::print("fleet plan {}: infeasible: {}\n", f.source, plan.message);
    else fmt::print("{}", explore::plan_text(plan, f));
    if (!report_path.empty()) fmt::print("report: {}\n", report_path);
  }
  return 0;
}

}  // namespace seedchip::cli
