// seedchip — `seedchip chip cost` and `seedchip tco`: die area, unit cost,
// TDP and total cost of ownership (docs/cost.md).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"
#include "serve_cmd.h"

namespace seedchip::cli {

/// What selects and overrides a costing's assumptions.
struct CostArgs {
  std::string chip, node, assumptions_file, yield_model = "negative-binomial";
  std::vector<std::string> sets;
  int64_t units = 100000;
  bool json = false, sensitivity = false, calibration = false;
};

/// The assumptions of `chip` under `a` (node from --node, else the chip's process.node).
econ::Assumptions cost_assumptions(const arch::Chip& chip, const CostArgs& a);

/// The area and TDP lines `chip show` adds.
struct ChipEconomics {
  bool ok = false;
  std::string node, why;
  double area_mm2 = 0, tdp_w = 0;
};
ChipEconomics chip_economics(const arch::Chip& chip);

/// `seedchip chip cost`.
int cmd_chip_cost(const CostArgs& a);

/// Arguments of `seedchip tco`.
struct TcoArgs {
  CostArgs cost;
  std::string serve_json;          ///< a `seedchip serve --json` result
  ServeArgs serve;                 ///< or a serving run to make (serve.model set: offline unless --scenario)
  double tokens_per_s = 0;         ///< or the throughput per chip ...
  double power_w = 0;              ///< ... and average draw per chip (0: avg_power_fraction x TDP)
};
int cmd_tco(const TcoArgs& a);

}  // namespace seedchip::cli
