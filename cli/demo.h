// seedchip — `seedchip demo`: the built-in default job.
#pragma once

#include <string>

namespace seedchip::cli {

/// Assembles examples/gemm_bias_relu.s for `chip`, runs it on the functional
/// simulator with deterministic inputs, checks the result against the C++
/// reference and prints a summary. Returns the process exit code.
int run_demo(const std::string& chip);

}  // namespace seedchip::cli
