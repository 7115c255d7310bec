// seedchip — the fleet planner (docs/plan.md): which hardware to buy, how much
// and when, to serve a growing token demand at least cost (or to serve the
// most demand within a budget) under capex/opex budgets, an HBM allocation,
// the own chip's production ramp and data-centre power limits. The plan is a
// mixed-integer program solved with COIN-OR CBC; costs follow econ::tco. A
// fleet file (strict YAML) holds every input; figures it leaves out (a
// chip's price, power or tokens/s) are filled by the caller (fill_figures),
// which is where seedchip's serving simulator and cost model come in.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/numerics/input.h"

namespace seedchip::explore {

/// Bad fleet input or a plan with no feasible mix; the message names the file and key
/// (or the conflicting constraints).
struct PlanError : InputError {
  using InputError::InputError;
};

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInf = std::numeric_limits<double>::infinity();

/// One candidate kind of hardware (a key under `hardware:`).
struct Hardware {
  std::string name;                  ///< key in the file
  std::string chip;                  ///< chip name or file for the caller to serve/cost (may be empty when all figures are given)
  bool own = false;                  ///< own chip: production ramp and the HBM allocation apply
  double price_usd = kNaN;           ///< capex per unit; NaN: filled by the caller (econ::owner_price)
  std::vector<double> price_usd_per_quarter;  ///< when given: the price in each quarter (overrides price_usd)
  double server_share_usd = kNaN;    ///< host server cost per unit; NaN: the fleet's tco.server_share_usd
  double power_w = kNaN;             ///< average draw per unit while serving; NaN: filled by the caller
  /// Draw while serving one demand (from a serving run); else power_w.
  std::map<std::string, double> power_w_per_demand;
  double tdp_w = kNaN;               ///< provisioned power per unit (data-centre MW); NaN: filled by the caller
  double hbm_stacks = kNaN, hbm_gb = kNaN;  ///< per unit (counted against the allocation when own)
  /// Per demand name: output tokens/s one unit sustains at that demand's SLO (0: cannot
  /// serve it); absent: filled by the caller.
  std::map<std::string, double> tokens_per_s;
  int64_t server_chips = 8;          ///< units are bought in servers of this many chips
  std::vector<double> max_units;     ///< per quarter: most units bought (production or supply limit); empty: none
  double min_total_units = 0;        ///< over the horizon: at least this many bought (a production commitment)
  double max_total_units = kInf;     ///< over the horizon: at most this many bought
  int64_t installed = 0;             ///< units already installed before the first quarter (no capex)
  int first_quarter = 0;             ///< not bought before this quarter index

  /// Capex per unit bought in quarter `q` (the chip; the server share is separate).
  double price(size_t q) const { return price_usd_per_quarter.empty() ? price_usd : price_usd_per_quarter[q]; }
  /// Average draw per unit while serving demand `d`.
  double power(const std::string& d) const {
    const auto it = power_w_per_demand.find(d);
    return it != power_w_per_demand.end() ? it->second : power_w;
  }
  /// Tokens/s per unit on demand `d` (0: cannot serve it; NaN: not known yet).
  double rate(const std::string& d) const {
    const auto it = tokens_per_s.find(d);
    return it != tokens_per_s.end() ? it->second : kNaN;
  }
};

/// One demand (a key under `demand:`): a model served at an SLO class.
struct Demand {
  std::string name, model;
  std::string slo = "server";        ///< server (the model's MLPerf p99 TTFT/TPOT limits) | offline | custom (ttft/tpot below)
  double ttft_slo_s = kNaN, tpot_slo_s = kNaN;
  std::string precision = "fp8", dataset;  ///< how the caller serves it (dataset empty: the model's)
  std::vector<double> tokens_per_s;  ///< output tokens/s to sustain, per quarter, growth applied
};

/// Budgets (USD); infinity / empty: no limit.
struct Budget {
  double capex_usd = kInf, opex_usd = kInf, total_usd = kInf;
  std::vector<double> capex_usd_per_quarter, opex_usd_per_quarter;
};

/// A scenario (a key under `scenarios:`): factors applied to the fleet before solving.
struct Scenario {
  std::string name;
  double hbm_scale = 1;        ///< HBM allocation
  double own_ramp_scale = 1;   ///< the own chip's max_units and max_total_units (a yield slip ships fewer good parts)
  double own_price_scale = 1;  ///< the own chip's price (a yield slip raises the good-die cost)
  double gpu_price_scale = 1;  ///< bought hardware's price
  double demand_scale = 1, budget_scale = 1, power_scale = 1;
};

/// A parsed fleet file.
struct Fleet {
  std::string source, name, description;
  std::vector<std::string> quarters;  ///< 3-month periods, in order
  std::string objective = "min-cost"; ///< min-cost | max-served
  std::vector<Hardware> hardware;     ///< file order
  std::vector<Demand> demand;         ///< file order
  Budget budget;
  std::vector<double> hbm_stacks, hbm_gb;  ///< allocation per quarter for own hardware (empty: none)
  bool hbm_carry_over = false;        ///< stacks not used in a quarter stay available later
  std::vector<double> power_mw;       ///< data-centre limit per quarter, facility MW (empty: none)
  /// TCO parameters (econ::assumptions keys pue, host_power_factor,
  /// electricity_usd_per_kwh, dc_capex_usd_per_w, dc_life_years, life_years,
  /// server_share_usd, utilization, avg_power_fraction): econ's values, overridden by `tco:`.
  std::map<std::string, double> tco;
  std::map<std::string, std::string> tco_source;  ///< where each came from
  std::vector<Scenario> scenarios;    ///< lists in the file are expanded (one scenario per value)
  double max_seconds = 60;            ///< solver time limit (a plan reports "time limit" when hit)
};

/// Reads and checks `path` (strict YAML: unknown keys are rejected naming the
/// key and the nearest valid one; negative demand, budget or limits are
/// rejected naming the file and key). Throws PlanError.
Fleet load_fleet(const std::string& path);
/// The same from text; `source` names it in errors.
Fleet parse_fleet(const std::string& yaml, const std::string& source);

/// A (hardware, demand) pair's figures from a serving run.
struct Served {
  double tokens_per_s = 0, power_w = 0;  ///< per unit; power 0: not measured
};
/// Fills what the file left out: `cost(h)` once per hardware missing
/// price_usd, tdp_w or (own) HBM figures; `fill(h, d)` once per pair missing
/// tokens/s (0 tokens/s: h cannot serve d). power_w left NaN becomes
/// avg_power_fraction x tdp_w. Throws PlanError naming the key still missing.
void fill_figures(Fleet& f, const std::function<Served(const Hardware&, const Demand&)>& fill,
                  const std::function<void(Hardware&)>& cost);
/// PlanError naming the first figure solve() needs that is missing; nothing when complete.
void check_figures(const Fleet& f);

/// One constraint row of the plan with its activity.
struct PlanConstraint {
  std::string name;   ///< e.g. hbm.stacks[2026Q2]
  std::string group;  ///< the file key it comes from, e.g. hbm.stacks
  std::string unit;
  char sense = 'L';   ///< L: lhs <= rhs; G: lhs >= rhs
  double lhs = 0, rhs = 0, slack = 0;  ///< slack >= 0 when met
  bool binding = false;  ///< no room left: less slack than one more server (or zero for continuous rows)
  double shadow_price = kNaN;  ///< LP relaxation: objective change per unit more rhs (USD, or tokens/s in max-served)
};

/// The solved plan. Indices: [h] hardware, [d] demand, [q] quarter, in the fleet's order.
struct Plan {
  std::string status;     ///< optimal | time limit | infeasible
  std::string objective;  ///< min-cost | max-served
  std::vector<std::vector<int64_t>> bought;     ///< [h][q] units bought
  std::vector<std::vector<int64_t>> installed;  ///< [h][q] units installed (bought so far + installed at start)
  std::vector<std::vector<std::vector<double>>> assigned;  ///< [h][d][q] units serving d
  std::vector<std::vector<double>> capacity;    ///< [d][q] tokens/s of the units assigned
  std::vector<std::vector<double>> served;      ///< [d][q] min(capacity, demand)
  std::vector<double> capex_usd, facility_usd, energy_usd, opex_usd;  ///< [q]
  std::vector<double> mw;                       ///< [q] facility MW provisioned (installed x TDP x host x PUE)
  std::vector<double> hbm_stacks, hbm_gb;       ///< [q] used by own hardware bought that quarter
  double capex_total_usd = 0, opex_total_usd = 0, total_cost_usd = 0;  ///< cash over the horizon
  double amortised_cost_usd = 0;  ///< capex over the life for the quarters installed + opex
  double served_mtokens = 0;      ///< million output tokens served over the horizon (hours served)
  double usd_per_mtoken = 0;      ///< amortised cost / served_mtokens (econ::tco's basis)
  double served_share = 0;        ///< served / demanded tokens
  std::vector<PlanConstraint> constraints;  ///< every constraint from the file, in model order
  std::vector<std::string> conflicts;   ///< infeasible: the conflicting constraint groups
  std::vector<std::string> relaxation;  ///< infeasible: the smallest relaxation that makes the plan feasible
  std::string message;                  ///< infeasible: the whole explanation
  double solver_cost_usd = kNaN;        ///< the solver's own total cost (check_plan compares it with the recomputed one)
};

/// Solves `f` with CBC (single-threaded, deterministic). Throws PlanError
/// for missing figures or an infeasible plan naming the conflicting constraints.
Plan solve(const Fleet& f);
/// As solve(), but an infeasible plan is returned (status "infeasible",
/// conflicts and message set) instead of thrown.
Plan try_solve(const Fleet& f);

/// The plan as JSON (every figure of the printed tables, and the constraints).
nlohmann::json plan_json(const Plan& p, const Fleet& f);
/// The printed tables: units per quarter per hardware, served vs demand,
/// capex and opex, MW, HBM used against allocation, $/Mtoken, binding constraints.
std::string plan_text(const Plan& p, const Fleet& f);

/// Recomputes every constraint of `f` and every reported figure from the
/// plan's decisions (units bought, units assigned), without the solver:
/// the violations, one line each (empty: consistent).
std::vector<std::string> check_plan(const Plan& p, const Fleet& f);

/// `f` with scenario `s` applied.
Fleet apply_scenario(const Fleet& f, const Scenario& s);
/// Each scenario of the file solved (try_solve), in file order.
std::vector<std::pair<std::string, Plan>> solve_scenarios(const Fleet& f);
/// One line per scenario (units of each hardware, cost, $/Mtoken, served, binding groups).
std::string scenarios_text(const std::vector<std::pair<std::string, Plan>>& results, const Fleet& f);
nlohmann::json scenarios_json(const std::vector<std::pair<std::string, Plan>>& results, const Fleet& f);

}  // namespace seedchip::explore
