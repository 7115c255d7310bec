// Fuzz target: fleet plan files (YAML): accepted plans have non-negative,
// finite demand and budget figures.
#include <cmath>

#include "fuzz_util.h"
#include "seedchip/explore/plan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string source = "fuzz-fleet.yaml";
  try {
    explore::Fleet f = explore::parse_fleet(std::string(reinterpret_cast<const char*>(data), size), source);
    for (double x : f.hbm_stacks) fuzz::require(std::isfinite(x) && x >= 0, "HBM stacks negative or not finite");
    for (double x : f.power_mw) fuzz::require(std::isfinite(x) && x >= 0, "power limit negative or not finite");
    fuzz::require(std::isfinite(f.max_seconds) && f.max_seconds > 0, "solver time limit not positive");
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
