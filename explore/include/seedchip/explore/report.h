// seedchip — the HTML report's sections (docs/explore.md "The report"):
// Pareto fronts and the roofline of a sweep's designs, area and cost
// breakdowns, serving latency CDFs and throughput against rate, the cost
// sensitivity table; the fleet plan's section is added by the planner's caller.
#pragma once

#include <vector>

#include "seedchip/explore/analysis.h"
#include "seedchip/explore/plan.h"
#include "seedchip/explore/run.h"
#include "seedchip/explore/sweep.h"
#include "seedchip/report/svg.h"

namespace seedchip::explore {

/// A sweep's sections: per workload its Pareto front (tokens/s per chip vs
/// $/Mtok, tokens/J vs tokens/s per $), the roofline of the front's designs and
/// the baselines, their area and unit-cost breakdowns, and a table of the best.
void add_sweep_sections(report::svg::Page& page, const Sweep& s, const SweepOutcome& o);

/// A comparison's sections: the headline table, latency CDFs (TTFT, TPOT) and
/// throughput vs offered rate per chip, rooflines, area and cost breakdowns,
/// and the own chip's sensitivity table.
void add_comparison_sections(report::svg::Page& page, const std::vector<ChipResult>& chips, const Workload& w, size_t baseline);

/// Area and unit-cost breakdown bars of named chips (name, chip, cost).
void add_cost_sections(report::svg::Page& page, const std::vector<std::pair<std::string, econ::Cost>>& costs,
                       const std::vector<double>& prices);

}  // namespace seedchip::explore

namespace seedchip::explore {
/// The fleet plan's sections: units installed per quarter per hardware,
/// capex and opex per quarter, facility MW and HBM used against the limits,
/// and the binding constraints.
void add_plan_sections(report::svg::Page& page, const Plan& p, const Fleet& f, const std::string& title = "");
}  // namespace seedchip::explore
