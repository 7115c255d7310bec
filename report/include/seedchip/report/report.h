// seedchip — reports of a timing run: metrics JSON, a Perfetto/Chrome trace,
// and the terminal summary (top nodes, roofline position).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/sim/timing.h"

namespace seedchip::report {

/// Time attributed to one label (ONNX node): the span from its first
/// instruction's start to its last one's end, and its share of the run.
struct NodeTime {
  std::string name;
  uint64_t cycles = 0;
  double share = 0;
};

/// Per-label spans, largest first (requires a recorded run).
std::vector<NodeTime> node_times(const sim::TimingResult& r, const std::vector<std::vector<std::string>>& labels);

/// The metrics object: cycles, seconds, engines, bytes, achieved rates,
/// energy, average power, roofline and the per-node table.
nlohmann::json metrics_json(const arch::Chip& chip, const sim::TimingResult& r,
                            const std::vector<std::vector<std::string>>& labels);

/// Chrome trace-event JSON (opens in ui.perfetto.dev): one track per engine
/// per core, slices named by node (or mnemonic), an HBM bandwidth counter.
nlohmann::json trace_json(const arch::Chip& chip, const isa::Program& p, const sim::TimingResult& r,
                          const std::vector<std::vector<std::string>>& labels);

/// Writes `j` to `path` (compact); throws std::runtime_error naming the path when it cannot.
void write_json(const nlohmann::json& j, const std::string& path);

/// A few lines for the terminal: time, rates, energy, roofline, top nodes.
std::string summary_text(const arch::Chip& chip, const sim::TimingResult& r,
                         const std::vector<std::vector<std::string>>& labels, size_t top = 8);

}  // namespace seedchip::report
