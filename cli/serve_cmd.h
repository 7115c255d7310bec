// seedchip — `seedchip serve`: request streams served on simulated chips (docs/serving.md).
#pragma once

#include <string>

#include "seedchip/serve/scenario.h"

namespace seedchip::cli {

/// Arguments of `seedchip serve` and the run it makes (serve/scenario.h).
using ServeArgs = serve::ScenarioArgs;
using ServeRun = serve::ScenarioRun;
/// Runs the scenario (no output; a progress bar on a terminal).
ServeRun run_serve(ServeArgs a);
/// Runs the scenario and prints a summary or one JSON object.
int cmd_serve(ServeArgs a, bool json);

}  // namespace seedchip::cli
