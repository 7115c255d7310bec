// seedchip — loading models as the command line and the Python API do:
// ONNX files or bytes and IR text compiled for a chip (int8/fp8 activation
// scales calibrated on given or deterministic random inputs), compiled .scp
// programs read back; inputs checked against a model's names, types and
// shapes; NAME=FILE arguments; and one ONNX backend test case run and
// compared as the conformance gate does.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"

namespace seedchip::runtime {

/// How a model is compiled.
struct LoadOptions {
  std::string precision = "fp32";        ///< fp32, bf16, fp8 or int8
  std::map<std::string, int64_t> dims;   ///< symbolic input dimensions (--dim NAME=VALUE)
  std::set<std::string> dump_ir;         ///< stages whose IR is printed
  /// For the timing model only: no calibration (timing does not need
  /// scales), weights imported and compiled by size, not by value; the
  /// model cannot then run functionally.
  bool timing_only = false;
  std::map<std::string, std::string> input_files;  ///< where calibration inputs came from (for errors)
};

/// Parses NAME=VALUE dimension arguments (`flag` names them in errors).
std::map<std::string, int64_t> parse_dims(const std::vector<std::string>& specs, const std::string& flag = "--dim");
/// Parses NAME=FILE arguments into a map (`flag` names them in errors).
std::map<std::string, std::string> parse_name_files(const std::vector<std::string>& specs, const std::string& flag = "--input");
/// Reads a tensor from .npy or ONNX .pb.
ir::HostTensor read_tensor_file(const std::string& path);

/// The model's inputs in order: `given` ones (checked against each binding's
/// name, type and shape; an unknown name is an error listing the inputs),
/// deterministic random data for the others. `flag` names them in errors,
/// with the file each came from when `files` has it.
std::vector<ir::HostTensor> prepare_inputs(const std::vector<compiler::IoBinding>& bindings,
                                           const std::map<std::string, ir::HostTensor>& given, const std::string& flag = "--input",
                                           const std::map<std::string, std::string>& files = {});

/// Compiles `g` for `chip` (int8/fp8: scales calibrated on `calibration`
/// inputs by name, random where absent). Throws std::runtime_error naming `source`.
compiler::CompiledModel compile_graph(const ir::Graph& g, const std::string& source, const arch::Chip& chip, const LoadOptions& o,
                                      const std::map<std::string, ir::HostTensor>& calibration = {});
/// IR text (as `--dump-ir` prints it) parsed (ir::parse verifies the
/// structure) and checked: every node's declared result types and shapes against
/// its inputs (frontends::check_declared_shapes). Throws ir::IrError naming `source`.
ir::Graph parse_ir(const std::string& text, const std::string& source);
/// An .onnx or .ir file compiled, or a .scp program read back with its I/O metadata.
compiler::CompiledModel load_model(const std::string& path, const arch::Chip& chip, const LoadOptions& o,
                                   const std::map<std::string, ir::HostTensor>& calibration = {});
/// An ONNX model's serialized bytes compiled (`source` names it in errors).
compiler::CompiledModel load_onnx_bytes(const std::string& bytes, const std::string& source, const arch::Chip& chip,
                                        const LoadOptions& o, const std::map<std::string, ir::HostTensor>& calibration = {});

/// Compares an output with its reference as the ONNX backend tests do (rtol
/// 1e-3, atol 1e-7 for floats, exact for integers); "" when they match.
std::string compare_outputs(const ir::HostTensor& got, const ir::HostTensor& want);

/// The verdict on one ONNX backend test case directory (model.onnx and
/// test_data_set_*): "PASS", "FAIL: why" or "UNSUPPORTED: ops or reason".
std::string run_conformance_case(const std::string& dir, const arch::Chip& chip);

}  // namespace seedchip::runtime
