// Fuzz target: chip descriptions (YAML). An accepted chip must have finite,
// positive derived figures.
#include <cmath>

#include "fuzz_util.h"
#include "seedchip/arch/chip.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string source = "fuzz-chip.yaml";
  try {
    arch::Chip c = arch::load_chip_yaml(std::string(reinterpret_cast<const char*>(data), size), source);
    double best = 0;
    for (int k = 0; k < kNumDTypes; ++k) {
      const DType t = static_cast<DType>(k);
      double p = c.peak_ops_per_s(t);
      fuzz::require(std::isfinite(p) && p >= 0, "a matrix peak is negative or not finite");
      best = std::max(best, p);
      double r = c.ridge_ops_per_byte(t);
      fuzz::require(std::isfinite(r) && r >= 0, "a ridge point is negative or not finite");
    }
    fuzz::require(best > 0, "no dtype has a matrix peak");
    fuzz::require(std::isfinite(c.clock_hz) && c.clock_hz > 0, "clock is not positive");
    fuzz::require(c.sram_bytes_total() > 0, "no SRAM");
    (void)c.isa_fingerprint();
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
