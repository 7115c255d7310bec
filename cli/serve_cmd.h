// seedchip — `seedchip serve`: request streams served on simulated chips (docs/serving.md).
#pragma once

#include <string>

#include "seedchip/serve/serve.h"

namespace seedchip::cli {

/// Arguments of `seedchip serve`.
struct ServeArgs {
  std::string model, chip = "seedchip-v1";
  serve::ServeOptions opt;
  int64_t chips = 0;  ///< --chips: total chips (0: tp x pp x replicas)
  std::string scenario = "offline", dataset, disaggregate, arrival = "poisson";
  int64_t requests = 0;
  double rate = -1;  ///< < 0: not given (server: search)
  uint64_t seed = 1;
  double ttft_slo = -1, tpot_slo = -1;  ///< < 0: the model's MLPerf limits
  bool json = false;
  std::string requests_out, trace_out;
};

/// A finished serving run: the result, its `--json` object, whether the
/// server scenario met its SLOs, and the summary's title.
struct ServeRun {
  serve::ServeResult result;
  nlohmann::json json;
  bool met = true;
  std::string what;
  serve::Slo slo;
};
/// Runs the scenario (no output).
ServeRun run_serve(ServeArgs a);
/// Runs the scenario and prints a summary or one JSON object.
int cmd_serve(ServeArgs a);

}  // namespace seedchip::cli
