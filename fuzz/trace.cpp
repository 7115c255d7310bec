// Fuzz target: serving traces. The first byte picks the form (even: CSV,
// odd: JSONL); accepted requests have finite, non-negative arrivals and
// positive token counts.
#include <cmath>

#include "fuzz_util.h"
#include "seedchip/serve/requests.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  if (size == 0) return 0;
  const std::string path = fuzz::scratch_file(data[0] % 2 ? "fuzz-trace.jsonl" : "fuzz-trace.csv", data + 1, size - 1);
  try {
    auto r = serve::read_trace(path);
    for (const auto& q : r) {
      fuzz::require(std::isfinite(q.arrival_s) && q.arrival_s >= 0, "arrival time negative or not finite");
      fuzz::require(q.prompt > 0 && q.output > 0, "token count not positive");
    }
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, path);
  }
  return 0;
}
