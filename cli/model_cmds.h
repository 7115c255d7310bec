// seedchip — the model subcommands: compile, run, conformance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seedchip::cli {

/// Options shared by compile and run.
struct ModelArgs {
  std::string chip = "seedchip-v1";
  std::string precision = "fp32";
  std::vector<std::string> dims;     ///< NAME=VALUE
  std::vector<std::string> dump_ir;  ///< stage names
  std::string mode = "functional";   ///< functional, timing or both
  std::string metrics, trace;        ///< output paths (timing)
  std::string hbm = "fast";          ///< fast or detailed
  unsigned threads = 0;              ///< functional simulation threads (0: all hardware threads)
};

/// `seedchip compile MODEL.onnx -o OUT.scp`.
int cmd_compile(const std::string& model, const std::string& out, const ModelArgs& a,
                const std::vector<std::string>& calibration_inputs);
/// `seedchip run MODEL.onnx|MODEL.scp`: inputs NAME=FILE (.npy/.pb), outputs DIR/<name>.npy.
int cmd_run(const std::string& model, const ModelArgs& a, const std::vector<std::string>& inputs, const std::string& outdir);
/// The whole text file at `path`; errors name it ("no such file", "cannot open").
std::string read_text(const std::string& path);
/// `seedchip conformance DIR...`: one line per ONNX backend test case, then the counts;
/// returns 1 when fewer than `min_pass` cases pass (min_pass < 0: no minimum) or
/// when a case listed in `expect_file` does not pass; `write_pass` receives the passing names.
int cmd_conformance(const std::vector<std::string>& dirs, const std::string& chip, int64_t min_pass,
                    const std::string& expect_file = "", const std::string& write_pass = "");

}  // namespace seedchip::cli
