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

#include "seedchip/numerics/input.h"
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

/// Timing of one DMA engine (dma_in and dma_out each have one port).
struct DmaTiming {
  /// Core cycles from issue to the first byte (descriptor decode, address translation).
  uint32_t setup_cycles = 0;
  double port_bytes_per_cycle = 0;  ///< bytes per core cycle through the engine's one port, > 0
  uint32_t burst_bytes = 0;         ///< bytes per memory request the engine issues

  /// Member-wise equality.
  bool operator==(const DmaTiming&) const = default;
};

/// Timing of the matrix engine.
struct MatrixTiming {
  /// Weight rows loaded per core cycle by mm.ldw (a K-row tile takes K / rate cycles), > 0.
  double weight_rows_per_cycle = 0;
  /// Fixed latency added once per matrix instruction (array fill and drain).
  uint32_t pipeline_cycles = 0;

  /// Member-wise equality.
  bool operator==(const MatrixTiming&) const = default;
};

/// Timing of the vector engine; throughputs are cycles per group of `lanes` elements.
struct VectorTiming {
  uint32_t latency_cycles = 0;       ///< pipeline latency of one vector instruction
  double simple_cycles = 0;          ///< add, mul, max, compare, convert, ... (> 0)
  double transcendental_cycles = 0;  ///< exp, log, tanh, erf, rsqrt, ... (> 0)
  double divide_cycles = 0;          ///< division and reciprocal (> 0)

  /// Member-wise equality.
  bool operator==(const VectorTiming&) const = default;
};

/// Timing of the scratchpad SRAM.
struct SramTiming {
  double bytes_per_cycle_per_bank = 0;  ///< bytes per core cycle one bank serves, > 0

  /// Member-wise equality.
  bool operator==(const SramTiming&) const = default;
};

/// Timing of the on-chip network connecting cores (and memory controllers).
struct NocTiming {
  std::string topology;             ///< "mesh" or "ring"
  double link_bytes_per_cycle = 0;  ///< bytes per core cycle per link and direction, > 0
  uint32_t hop_cycles = 0;          ///< router plus link latency per hop, in core cycles

  /// Member-wise equality.
  bool operator==(const NocTiming&) const = default;
};

/// Command-level parameters of one memory device (one HBM stack or one DRAM
/// channel), JEDEC-style. Every t* value is in memory-clock cycles (tCK).
struct HbmTiming {
  uint32_t channels = 0;         ///< independent channels per device
  uint32_t pseudo_channels = 0;  ///< pseudo-channels per channel (1 for DDR)
  uint32_t bank_groups = 0;      ///< bank groups per pseudo-channel (1 where there are none)
  uint32_t banks_per_group = 0;  ///< banks per bank group
  uint32_t row_bytes = 0;        ///< row (page) size per pseudo-channel, a multiple of burst_bytes
  uint32_t burst_bytes = 0;      ///< bytes per RD/WR burst on one pseudo-channel
  double tck_ns = 0;             ///< memory command clock period in ns, > 0
  uint32_t tRCD = 0;             ///< ACT to RD/WR
  uint32_t tRP = 0;              ///< PRE to ACT
  uint32_t tRAS = 0;             ///< ACT to PRE
  uint32_t tCL = 0;              ///< RD to first data (read latency)
  uint32_t tWL = 0;              ///< WR to first data (write latency)
  uint32_t tCCD_S = 0;           ///< RD to RD (or WR to WR), different bank group
  uint32_t tCCD_L = 0;           ///< RD to RD (or WR to WR), same bank group
  uint32_t tRRD_S = 0;           ///< ACT to ACT, different bank group
  uint32_t tRRD_L = 0;           ///< ACT to ACT, same bank group
  uint32_t tFAW = 0;             ///< window in which at most four ACTs may issue
  uint32_t tWR = 0;              ///< end of write data to PRE (write recovery)
  uint32_t tWTR = 0;             ///< end of write data to RD (write-to-read turnaround)
  uint32_t tRTW = 0;             ///< RD to WR (read-to-write turnaround)
  uint32_t tREFI = 0;            ///< average interval between REF commands, > tRFC
  uint32_t tRFC = 0;             ///< duration of one (all-bank) refresh
  uint32_t tBURST = 0;           ///< cycles one burst occupies the data bus

  /// Member-wise equality.
  bool operator==(const HbmTiming&) const = default;
};

/// Timing of the off-chip memory: a fast transfer-level model (latency and
/// efficiency by access pattern) plus the command-level parameters it is
/// checked against.
struct MemoryTiming {
  double latency_ns = 0;  ///< unloaded request latency, request issue to first data
  /// Achieved / peak bandwidth for streaming access, in (0, 1].
  double efficiency_sequential = 0;
  /// Achieved / peak bandwidth for strided access (a new row every few bursts), in (0, 1].
  double efficiency_strided = 0;
  /// Achieved / peak bandwidth for independent dma.burst_bytes accesses to random rows, in (0, 1].
  double efficiency_random = 0;
  HbmTiming detailed;  ///< command-level model of one device

  /// Member-wise equality.
  bool operator==(const MemoryTiming&) const = default;
};

/// Timing parameters of the whole chip (they do not change compiled programs,
/// so they are outside Chip::isa_fingerprint). Cycles are core cycles unless
/// stated otherwise.
struct TimingDesc {
  DmaTiming dma;            ///< each DMA engine
  MatrixTiming matrix;      ///< the matrix engine
  VectorTiming vector;      ///< the vector engine
  SramTiming sram;          ///< the scratchpad SRAM
  NocTiming noc;            ///< the on-chip network
  MemoryTiming memory;      ///< off-chip memory
  double host_call_us = 0;  ///< round trip of one host fallback call (driver, PCIe, sync)
  /// Extra time at each kernel boundary (each barrier of the program): kernel
  /// launch and tail of a GPU, or the cross-core sync of an ASIC. Optional, 0 = none.
  double kernel_launch_ns = 0;

  /// Member-wise equality.
  bool operator==(const TimingDesc&) const = default;
};

/// Energy parameters for the power model.
struct EnergyDesc {
  /// Energy per MAC by input dtype; covers exactly the dtypes of core.matrix.rate.
  std::map<DType, double> mac_pj;
  double vector_pj_per_element = 0;  ///< one vector-engine operation on one element
  double sram_pj_per_byte = 0;       ///< one byte read or written in scratchpad SRAM
  double hbm_pj_per_byte = 0;        ///< one byte moved to or from off-chip memory (HBM or DRAM)
  double static_w = 0;               ///< leakage and idle power of the package, <= tdp_w

  /// Member-wise equality.
  bool operator==(const EnergyDesc&) const = default;
};

/// Chip-to-chip links used for tensor parallelism (optional section).
struct InterconnectDesc {
  /// "switch" (every chip's links go to a switch: NVSwitch-style), "ring"
  /// (neighbours only) or "full_mesh" (a direct link to every other chip).
  std::string topology;
  uint32_t links = 0;             ///< links per chip
  double link_bytes_per_s = 0;    ///< per link and direction
  double latency_ns = 0;          ///< one transfer step: link, switch and software hop
  double efficiency = 1.0;        ///< achieved / link bandwidth of a collective, in (0, 1]
  uint32_t max_chips = 0;         ///< largest group the topology connects
  /// Member-wise equality.
  bool operator==(const InterconnectDesc&) const = default;
};

/// Seconds of an all-reduce of `bytes` per chip over `chips` chips (0 for
/// one chip): ring reduce-scatter plus all-gather, 2 (n-1) steps of bytes/n,
/// over 2 links (ring: both directions), all links (switch) or n-1 links at
/// once in one step each (full_mesh).
double allreduce_seconds(const InterconnectDesc& ic, uint32_t chips, double bytes);

/// How the chip is made and bought (optional `process:` section; the
/// economics library reads it, defaults in chips/README.md).
struct ProcessDesc {
  std::string node;          ///< process node (econ's table: tsmc-n7, samsung-sf4x, ...); empty: econ's default
  uint32_t spare_cores = 0;  ///< cores on the die beyond `cores` (harvesting: a die with that many bad cores still sells)
  /// Instruction-issuing units on the die when a description groups them
  /// into fewer cores (a GPU's SMs); 0: cores + spare_cores.
  uint32_t control_units = 0;
  std::string package;       ///< cowos-s, cowos-l or organic; empty: cowos-s with HBM, organic otherwise
  double hbm_usd_per_gb = 0; ///< memory price; 0: econ's default for the memory type
  double price_usd = 0;      ///< market price of a bought part (GPUs); 0: the part is costed from its design
  /// Member-wise equality.
  bool operator==(const ProcessDesc&) const = default;
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
  TimingDesc timing;        ///< timing parameters (not part of the ISA fingerprint)
  EnergyDesc energy;        ///< energy parameters
  InterconnectDesc interconnect;  ///< chip-to-chip links (topology empty: none described)
  ProcessDesc process;            ///< how it is made and bought (not part of the ISA fingerprint)

  /// Dense matrix-engine peak in ops/s for input dtype `t` (a MAC counts as
  /// 2 ops): 2 * rows * cols * rate[t] * clock_hz * cores; 0 if unsupported.
  double peak_ops_per_s(DType t) const;
  /// True when the matrix engine accepts inputs of dtype `t`.
  bool matrix_supports(DType t) const;
  /// Scratchpad SRAM summed over all cores.
  uint64_t sram_bytes_total() const;
  /// Roofline ridge point for dtype `t`: peak ops/s / memory bytes/s (0 if unsupported).
  double ridge_ops_per_byte(DType t) const;
  /// Peak bandwidth of the command-level memory model in bytes/s: devices *
  /// channels * pseudo_channels * burst_bytes / (tBURST * tck_ns ns). Loading
  /// checks that it is within 2% of memory.bandwidth_bytes_per_s.
  double detailed_peak_bytes_per_s() const;
  /// 64-bit FNV-1a over exactly the parameters a compiled program depends on
  /// (see chip.cpp for the canonical byte order); clock, bandwidth, power,
  /// rates, banks, queue depth, timing and energy are excluded so sweeps of them
  /// reuse programs.
  uint64_t isa_fingerprint() const;

  /// Member-wise equality (including `source`).
  bool operator==(const Chip&) const = default;
};

/// A chip description could not be found, read or validated. The message is
/// one line: `FILE[:LINE:COLUMN]: KEY.PATH: reason`.
class ChipError : public InputError {
 public:
  using InputError::InputError;
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

/// The YAML text find_chip would load for `name_or_path` and the source it
/// would name (the path, or "builtin:NAME"). Throws ChipError as find_chip.
struct ChipText {
  std::string text, source;
};
ChipText find_chip_text(const std::string& name_or_path);

/// The keys the loader accepts under each map it reads in the chip YAML
/// `text` (path "" is the top level, "core.matrix" a nested map; an open map
/// such as core.matrix.rate lists "*"). Maps absent from `text` are absent
/// here. Throws ChipError for text that does not load.
std::map<std::string, std::vector<std::string>> chip_schema(const std::string& text, const std::string& source);

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
