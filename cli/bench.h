// seedchip — `seedchip bench`: benchmarks of the modelled chip and of the tool.
#pragma once

#include <string>
#include <vector>

namespace seedchip::cli {

/// Runs the named benchmarks ("gemm", "hbm", "sim") on `chip`; models given
/// are timed too (wall time of compile + timing simulation). Returns the exit code.
int cmd_bench(const std::vector<std::string>& which, const std::string& chip, const std::vector<std::string>& models,
              const std::vector<int64_t>& sizes);

}  // namespace seedchip::cli
