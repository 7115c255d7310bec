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

int cmd_plan(const PlanArgs& a) {
  explore::Fleet f = explore::load_fleet(a.fleet);
  explore::fill_fleet(f, a.requests);
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
