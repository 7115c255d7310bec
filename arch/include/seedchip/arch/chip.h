// seedchip — chip descriptions: the parameters of one SeedChip-family part,
// loaded from strict YAML (see chips/README.md), and the figures derived
// from them. Every other layer (compiler, simulator, area/power model) reads
// the chip through this header, so derived figures are computed here once.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/dtype.h"

namespace seedchip::arch {

/// The matrix (systolic array) engine of one core.
struct MatrixEngineDesc {
  uint32_t rows = 0;     ///< processing elements along the reduction (K) dimension
  uint32_t cols = 0;     ///< processing elements along the output (N) dimension
  std::string dataflow;  ///< "weight_stationary" (the only one modelled so far)
  /// MACs per processing element per cycle for each supported input dtype,
  /// in (0, 1]; a dtype that is absent is unsupported by the matrix engine.
  std::map<DType, double> rate;

  /// Member-wise equality.
  bool operator==(const MatrixEngineDesc&) const = default;
};

/// The vector (SIMD) engine of one core.
struct VectorEngineDesc {
  uint32_t lanes = 0;  ///< fp32 elements processed per cycle

  /// Member-wise equality.
  bool operator==(const VectorEngineDesc&) const = default;
};

/// One core: engines plus its private memories. All cores of a chip are alike.
struct CoreDesc {
  uint64_t sram_bytes = 0;                ///< scratchpad SRAM per core
  uint32_t sram_banks = 0;                ///< SRAM banks (divides sram_bytes)
  uint64_t accumulator_bytes = 0;         ///< matrix-engine accumulator memory per core
  uint32_t semaphores = 0;                ///< hardware semaphores per core for engine sync
  uint32_t queue_depth = 0;               ///< per-engine instruction queue entries
  uint64_t instruction_memory_bytes = 0;  ///< instruction memory per core
  MatrixEngineDesc matrix;                ///< the matrix engine
  VectorEngineDesc vector;                ///< the vector engine

  /// Member-wise equality.
  bool operator==(const CoreDesc&) const = default;
};

/// Off-chip memory shared by all cores.
struct MemoryDesc {
  std::string type;                  ///< hbm3e, hbm3, hbm2e, ddr3, ddr4, lpddr5x or gddr7
  uint32_t devices = 0;              ///< HBM stacks or DRAM channels
  uint64_t capacity_bytes = 0;       ///< total capacity
  double bandwidth_bytes_per_s = 0;  ///< total peak bandwidth

  /// Member-wise equality.
  bool operator==(const MemoryDesc&) const = default;
};

/// A complete chip description plus its derived figures.
struct Chip {
  std::string name;         ///< short identifier, e.g. "seedchip-v1"
  std::string description;  ///< one line for humans (may be empty)
  std::string source;       ///< file path it was loaded from, or "builtin:NAME"
  double clock_hz = 0;      ///< core clock
  uint32_t cores = 0;       ///< number of identical cores
  CoreDesc core;            ///< the per-core description
  MemoryDesc memory;        ///< off-chip memory
  double tdp_w = 0;         ///< thermal design power in watts

  /// Dense matrix-engine peak in ops/s for input dtype `t` (a MAC counts as
  /// 2 ops): 2 * rows * cols * rate[t] * clock_hz * cores; 0 if unsupported.
  double peak_ops_per_s(DType t) const;
  /// True when the matrix engine accepts inputs of dtype `t`.
  bool matrix_supports(DType t) const;
  /// Scratchpad SRAM summed over all cores.
  uint64_t sram_bytes_total() const;
  /// Roofline ridge point for dtype `t`: peak ops/s / memory bytes/s (0 if unsupported).
  double ridge_ops_per_byte(DType t) const;
  /// 64-bit FNV-1a over exactly the parameters a compiled program depends on
  /// (see chip.cpp for the canonical byte order); clock, bandwidth, power,
  /// rates, banks and queue depth are excluded so sweeps of them reuse programs.
  uint64_t isa_fingerprint() const;

  /// Member-wise equality (including `source`).
  bool operator==(const Chip&) const = default;
};

/// A chip description could not be found, read or validated. The message is
/// one line: `FILE[:LINE:COLUMN]: KEY.PATH: reason`.
class ChipError : public std::runtime_error {
 public:
  using runtime_error::runtime_error;
};

/// Reads and validates the YAML chip description at `path`; throws ChipError.
Chip load_chip_file(const std::string& path);

/// Parses and validates chip YAML `text`; `source` names it in errors and is
/// stored in Chip::source. Throws ChipError.
Chip load_chip_yaml(const std::string& text, const std::string& source);

/// Resolves `name_or_path`: a path (contains '/' or ends in .yaml/.yml) is
/// loaded as a file; otherwise a built-in chip of that name; otherwise
/// NAME.yaml in the ':'-separated directories of env SEEDCHIP_CHIP_PATH.
/// Throws ChipError (listing the built-in names) when nothing matches.
Chip find_chip(const std::string& name_or_path);

/// Names of the chips embedded in the library (from chips/*.yaml), sorted.
std::vector<std::string> builtin_chip_names();

/// Derived figures as JSON (include <nlohmann/json.hpp> to use the result):
/// name, description, source, clock_hz, cores, peak_ops_per_s and
/// ridge_ops_per_byte ({dtype: value} for the supported ones among int8, fp8,
/// bf16, fp16, fp32), hbm_bytes_per_s, hbm_capacity_bytes, memory_type,
/// sram_bytes_per_core, sram_bytes_total, accumulator_bytes_per_core, tdp_w,
/// isa_fingerprint (16 lower-case hex digits).
nlohmann::json chip_summary_json(const Chip& chip);

/// The same figures as a human-readable table with SI units, one per line.
std::string chip_summary_text(const Chip& chip);

}  // namespace seedchip::arch
