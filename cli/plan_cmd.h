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

}  // namespace seedchip::cli
