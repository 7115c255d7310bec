// seedchip — the flagship comparison (`seedchip analyze`, README's main
// command): chips served on one workload at its SLOs, each costed, with the
// throughput-vs-rate curve and latency distributions of its best layout, the
// cost sensitivity of the own chip, and the ratios against a baseline.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"
#include "seedchip/explore/sweep.h"
#include "seedchip/serve/scenario.h"

namespace seedchip::explore {

/// One point of a throughput-vs-rate curve (a server run at a fixed rate).
struct RatePoint {
  double rate_qps = 0, tokens_per_s_per_chip = 0, ttft_p99_s = 0, tpot_p99_s = 0, attainment = 0;
};

/// One chip served on the workload and costed.
struct ChipResult {
  arch::Chip chip;
  econ::Assumptions assumptions;
  econ::Cost cost;
  econ::Tdp tdp;
  econ::Tco tco;
  double price_usd = 0, avg_power_w = 0;
  int64_t tp = 0;
  serve::ScenarioRun run;          ///< the best layout's server run
  std::vector<RatePoint> curve;    ///< throughput vs offered rate around the passing rate
  std::vector<econ::Swing> sensitivity;  ///< $/Mtok over each uncertain parameter (own chips; empty for a bought part)
  double tokens_per_s_per_chip() const { return run.served_tokens_per_s_per_chip; }
};

/// Serves `w` on `chip` (best of w.tp meeting the SLOs) and costs it for
/// `units`; with `details`, also its rate curve and (own chips) the cost
/// sensitivity. Throws std::runtime_error when no layout runs.
ChipResult serve_and_cost(const std::string& chip, const Workload& w, int64_t units, bool details = true);

/// The comparison's headline: each chip's figures and its ratio to the baseline.
nlohmann::json headline_json(const std::vector<ChipResult>& chips, const Workload& w, size_t baseline);
std::string headline_text(const std::vector<ChipResult>& chips, const Workload& w, size_t baseline);

}  // namespace seedchip::explore

namespace seedchip::explore {
/// The built-in fleet file (examples/fleet/seed-2026.yaml) as text.
const char* default_fleet_yaml();

struct Fleet;
/// Fills a fleet's missing figures: prices, TDP and HBM from the cost model,
/// tokens/s and draw from server-scenario (or offline) runs of each demand's
/// model on 8 chips of each hardware (best of tp 2, 4, 8; `requests` each;
/// the pairs on two threads). Throws PlanError naming the hardware and demand.
void fill_fleet(Fleet& f, int64_t requests);
}  // namespace seedchip::explore
