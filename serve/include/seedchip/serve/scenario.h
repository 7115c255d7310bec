// seedchip — one serving job as `seedchip serve` runs it: a model, a chip and
// a layout, requests from a dataset or trace, and MLPerf's offline or server
// scenario (or a trace replay), summarised as the command's JSON object with
// the chip's cost keys (docs/serving.md). The command line, `seedchip tco`
// and the design-space sweeps all run serving through this.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/serve/serve.h"

namespace seedchip::serve {

/// A serving job (the flags of `seedchip serve`).
struct ScenarioArgs {
  std::string model, chip = "seedchip-v1";
  /// When set, the chip itself (a sweep's design point) instead of `chip`'s name or file.
  std::optional<arch::Chip> chip_object;
  ServeOptions opt;
  int64_t chips = 0;  ///< --chips: total chips (0: tp x pp x replicas)
  std::string scenario = "offline", dataset, disaggregate, arrival = "poisson";
  int64_t requests = 0;
  double rate = -1;  ///< < 0: not given (server: search)
  uint64_t seed = 1;
  double ttft_slo = -1, tpot_slo = -1;  ///< < 0: the model's MLPerf limits
  std::string requests_out, trace_out;
  std::function<void(double)> progress;  ///< 0..1 now and then (may be empty)
};

/// A finished serving job: the result, its JSON object, whether the server
/// scenario met its SLOs, and a one-line title.
struct ScenarioRun {
  ServeResult result;
  nlohmann::json json;
  bool met = true;
  std::string what;
  Slo slo;
  /// Output tokens/s one chip sustains: offline, all output over the run;
  /// server, the passing rate times the mean output length (the drain after
  /// the last arrival is not the deployment's capacity).
  double served_tokens_per_s_per_chip = 0;
};

/// The dataset a built-in model serves by default (mlperf-llama2-70b, ...).
std::string default_dataset(const std::string& model);

/// Runs the job. Throws std::runtime_error (a flag's name and the reason) for
/// a bad layout or arguments, RequestError for bad requests.
ScenarioRun run_scenario(ScenarioArgs a);

}  // namespace seedchip::serve
