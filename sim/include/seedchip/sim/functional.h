// seedchip — the bit-exact functional model of the chip: executes a Program's
// instruction streams on every core's engines and computes the values.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/isa/program.h"

namespace seedchip::sim {

/// Raised when a program cannot be loaded or fails while running (bounds,
/// deadlock, bad matrix-engine state). The message is one line.
class SimError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Counts gathered during a functional run.
struct RunStats {
  std::array<uint64_t, isa::kNumEngines> instructions{};  ///< executed, per engine (all cores)
  uint64_t macs = 0;                                      ///< matrix-engine multiply-accumulates
  uint64_t vector_elements = 0;                           ///< elements produced by the vector engine
  uint64_t bytes_loaded = 0;                              ///< moved by dma_in
  uint64_t bytes_stored = 0;                              ///< moved by dma_out
  uint64_t barriers = 0;                                  ///< barrier episodes completed
  uint64_t host_calls = 0;                                ///< host.call episodes completed
  /// Per core, per engine: FNV-1a over the executed instruction indices (in
  /// order); the timing model computes the same, so `--mode both` can check
  /// that both executed the same instruction streams.
  std::vector<std::array<uint64_t, isa::kNumEngines>> order_hash;
  /// Total instructions over all engines.
  uint64_t total() const;
};

/// Checks that `p` can run on `chip`: target fingerprint, core and semaphore
/// indices, matrix-engine limits and dtypes, instruction memory, symbols and
/// data inside HBM. Throws SimError naming the first problem.
void validate_program(const arch::Chip& chip, const isa::Program& p);

/// Functional simulator of one chip running one program.
class FunctionalSim {
 public:
  /// Validates the program against the chip, reserves memories and writes
  /// the program's data blocks into HBM. Throws SimError.
  FunctionalSim(const arch::Chip& chip, const isa::Program& program);
  ~FunctionalSim();
  FunctionalSim(const FunctionalSim&) = delete;
  FunctionalSim& operator=(const FunctionalSim&) = delete;

  /// Copies `bytes` into HBM at `addr`; throws SimError when out of range.
  void write_hbm(uint64_t addr, std::span<const uint8_t> bytes);
  /// Copies HBM at `addr` into `out`; throws SimError when out of range.
  void read_hbm(uint64_t addr, std::span<uint8_t> out) const;

  /// Called for `host.call id` once every core has arrived (and drained);
  /// it may read and write HBM. Without a handler host.call is an error.
  void set_host_handler(std::function<void(int64_t id)> handler);

  /// Called now and then with the fraction of instructions executed (0..1),
  /// always from the thread that called run().
  void set_progress(std::function<void(double)> progress);

  /// Simulates cores in up to `threads` host threads between barriers (0:
  /// one per hardware thread; default 1). Results, statistics and errors do
  /// not depend on it for race-free programs (docs/isa.md §3.1).
  void set_threads(unsigned threads);

  /// Runs every core to completion. Throws SimError on a bounds violation,
  /// an invalid engine state, or a deadlock (naming who waits on what).
  RunStats run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace seedchip::sim
