// seedchip — the timing model: executes a program's instruction streams on
// decoupled engines in simulated time (no tensor data), giving cycles,
// per-engine utilisation, bytes per memory level and a trace; its counters
// feed the energy model (econ::run_energy), whose joules it reports.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/isa/program.h"

namespace seedchip::sim {

/// How HBM is modelled.
enum class HbmModel { fast, detailed };

/// Options of a timing run.
struct TimingOptions {
  HbmModel hbm = HbmModel::fast;
  bool record = false;  ///< keep per-instruction slices (for traces)
  /// Optional per-core, per-instruction label (e.g. the ONNX node); empty = none.
  std::vector<std::vector<std::string>> labels;
  /// Called now and then with the fraction of instructions issued (0..1).
  std::function<void(double)> progress;
};

/// Time accounting of one engine of one core.
struct EngineTime {
  uint64_t busy = 0;          ///< cycles executing
  uint64_t stall_sync = 0;    ///< cycles with work queued but waiting on a semaphore or barrier
  uint64_t stall_memory = 0;  ///< cycles a DMA waited for HBM bandwidth
  uint64_t instructions = 0;
  uint64_t order_hash = 1469598103934665603ull;  ///< FNV-1a over executed instruction indices
};

/// One executed instruction (record mode).
struct Slice {
  uint32_t core;
  uint8_t engine;
  uint32_t index;   ///< instruction index in the core's stream
  uint64_t start, end;  ///< cycles
  uint64_t hbm_bytes;
};

/// Everything a timing run measures.
struct TimingResult {
  uint64_t cycles = 0;
  double seconds = 0;
  std::vector<std::array<EngineTime, 5>> engines;  ///< per core, per isa::Engine
  uint64_t hbm_read_bytes = 0, hbm_write_bytes = 0, sram_read_bytes = 0, sram_write_bytes = 0, noc_bytes = 0;
  uint64_t macs = 0, vector_elements = 0;
  double ops = 0;            ///< 2 x MACs + vector elements
  double energy_j = 0, energy_dynamic_j = 0, energy_static_j = 0;
  std::vector<Slice> slices; ///< record mode only
  /// Achieved rates.
  double achieved_ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
  double achieved_hbm_bytes_per_s() const {
    return seconds > 0 ? static_cast<double>(hbm_read_bytes + hbm_write_bytes) / seconds : 0;
  }
};

/// Runs `p` on `chip` in simulated time. Throws SimError (deadlock, invalid
/// program) with the same messages as the functional model.
TimingResult run_timing(const arch::Chip& chip, const isa::Program& p, const TimingOptions& opt = {});

}  // namespace seedchip::sim
