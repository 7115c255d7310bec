// seedchip — serving requests: built-in datasets with published length
// statistics (synthetic, seeded), fixed lengths, trace files (CSV and JSONL
// in the Vidur/Splitwise columns), and arrival processes.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/input.h"

namespace seedchip::serve {

/// One request: when it arrives, its prompt length and how many tokens it generates.
struct Request {
  int64_t id = 0;
  double arrival_s = 0;
  int64_t prompt = 0, output = 0;
};

/// Bad request input (a trace line, a dataset name, a flag); the message
/// names the file and line or the flag.
class RequestError : public InputError {
 public:
  using InputError::InputError;
};

/// Published statistics of one length distribution; 0 = not published.
struct LengthStats {
  double min = 1, median = 0, mean = 0, p99 = 0, max = 0;
};

/// A built-in dataset: its size, where its figures come from and its length
/// statistics (docs/serving.md states which are published and which assumed).
struct DatasetInfo {
  std::string name;
  int64_t samples = 0;
  LengthStats input, output;
  int64_t max_total = 0;  ///< input + output limit (0: none)
  std::string source;
};

/// The built-in datasets (mlperf-llama2-70b, mlperf-llama3.1-405b, mlperf-mixtral-8x7b).
const std::vector<DatasetInfo>& builtin_datasets();

/// A quantile function through the published anchors: log-length follows a
/// normal-quantile shape from min to the median and from the median to p99
/// with an exponent fitted so the mean matches, then log-linearly to the max.
class LengthDistribution {
 public:
  explicit LengthDistribution(const LengthStats& s);
  /// Length at quantile u in (0, 1), rounded, within [min, max].
  int64_t quantile(double u) const;
  double fitted_exponent() const { return k_; }

 private:
  double raw(double u) const;
  LengthStats s_;
  double k_ = 1;
};

/// `n` requests (0: the dataset's size) of a dataset NAME or `fixed:IN:OUT`,
/// all arriving at 0. Lengths are a stratified sample of each distribution
/// (so the sample's quantiles match it) paired and ordered by a seeded shuffle.
std::vector<Request> dataset_requests(const std::string& name, int64_t n, uint64_t seed);

/// Reads a trace: CSV with a header naming arrived_at, num_prefill_tokens and
/// num_decode_tokens (other columns ignored), or JSONL objects with those
/// fields (chosen by a .jsonl/.json extension or a leading '{'). Errors name
/// the file and line.
std::vector<Request> read_trace(const std::string& path);

/// Arrival processes for the server scenario.
struct Arrivals {
  enum class Kind { poisson, gamma, fixed } kind = Kind::poisson;
  double cv = 1;  ///< gamma: coefficient of variation of the gaps
};
/// Parses poisson | gamma:CV | fixed; throws naming --arrival.
Arrivals parse_arrivals(const std::string& s);
/// Sets arrival times at `rate` requests per second (seeded), first at 0.
void assign_arrivals(std::vector<Request>& r, double rate, const Arrivals& a, uint64_t seed);

}  // namespace seedchip::serve
