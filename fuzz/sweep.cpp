// Fuzz target: sweep files (YAML). An accepted sweep has a bounded number of
// design points; small ones are enumerated, each point a full set of values.
#include "fuzz_util.h"
#include "seedchip/explore/sweep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string path = fuzz::scratch_file("fuzz-sweep.yaml", data, size);
  try {
    explore::Sweep s = explore::load_sweep(path);
    double total = 1;
    for (const auto& p : s.parameters) total *= static_cast<double>(p.values.size());
    if (s.method != "grid") total = static_cast<double>(s.samples);
    fuzz::require(total >= 1 && total <= explore::kMaxDesignPoints, "design point count out of range");
    if (total <= 1000) {
      auto pts = explore::design_points(s);
      fuzz::require(static_cast<double>(pts.size()) == total, "design_points gives another count");
      for (const auto& d : pts) fuzz::require(d.values.size() == s.parameters.size(), "a point lacks a value");
    }
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, path);
  }
  return 0;
}
