// seedchip — `seedchip bench`: benchmarks of the modelled chip and of the tool.
#pragma once

#include <string>
#include <vector>

namespace seedchip::cli {

/// Settings of the per-model benchmark.
struct BenchOptions {
  std::string ort;  ///< node_modules holding onnxruntime-node ("" = $SEEDCHIP_ORT or build/ort/node_modules)
  int runs = 5;     ///< timed ONNX Runtime runs (the median is reported)
};

/// Runs the named benchmarks ("gemm", "hbm", "sim") on `chip`; each model
/// given is timed end to end in timing mode and simulated functionally (one
/// thread and all), beside ONNX Runtime on one thread when it is installed,
/// with the ratios. Returns the exit code.
int cmd_bench(const std::vector<std::string>& which, const std::string& chip, const std::vector<std::string>& models,
              const std::vector<int64_t>& sizes, const BenchOptions& bo = {});

}  // namespace seedchip::cli
