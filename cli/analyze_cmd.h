// seedchip — `seedchip analyze`: the flagship analysis on built-in defaults
// (README's main command): the own chip against a bought GPU on one
// workload at its SLOs, cost and TCO, the fleet plan, and the report.
#pragma once

#include <string>

namespace seedchip::cli {

/// Arguments of `seedchip analyze`.
struct AnalyzeArgs {
  std::string chip = "seedchip-v2", baseline = "nvidia-h200-sxm", model = "llama-2-70b", precision = "fp8";
  int64_t chips = 8, requests = 1500, units = 200000;
  std::string fleet;   ///< fleet file (empty: the built-in examples/fleet/seed-2026.yaml)
  std::string report;  ///< folder for the HTML report (empty: none)
  bool json = false;
};
int cmd_analyze(const AnalyzeArgs& a);

}  // namespace seedchip::cli
