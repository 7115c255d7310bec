// seedchip — `seedchip plan FLEET.yaml`: the fleet planner (docs/plan.md).
#pragma once

#include <string>

#include "seedchip/explore/plan.h"

namespace seedchip::cli {

/// Arguments of `seedchip plan`.
struct PlanArgs {
  std::string fleet, report;
  bool json = false, check = false;
  int64_t requests = 1000;  ///< per serving run that fills a missing tokens/s
};
int cmd_plan(const PlanArgs& a);

/// Fills the fleet's missing figures: prices, TDP and HBM from the cost model,
/// tokens/s and draw from server-scenario runs of each demand's model on 8
/// chips of each hardware (pairs in parallel threads).
void fill_fleet(explore::Fleet& f, int64_t requests);

}  // namespace seedchip::cli
