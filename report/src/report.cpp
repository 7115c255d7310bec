// seedchip — metrics, traces and summaries of timing runs.
#include "seedchip/report/report.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include <fmt/format.h>

namespace seedchip::report {

namespace {

const char* kEngines[] = {"dma_in", "dma_out", "matrix", "vector", "control"};

std::string label_of(const std::vector<std::vector<std::string>>& labels, uint32_t core, uint32_t idx) {
  if (core < labels.size() && idx < labels[core].size()) return labels[core][idx];
  return {};
}

// The dtype the roofline uses: the fastest the matrix engine supports.
double peak_ops(const arch::Chip& chip) {
  double best = 0;
  for (const auto& [dt, rate] : chip.core.matrix.rate) best = std::max(best, chip.peak_ops_per_s(dt));
  return best;
}

}  // namespace

std::vector<NodeTime> node_times(const sim::TimingResult& r, const std::vector<std::vector<std::string>>& labels) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> span;
  for (const auto& s : r.slices) {
    std::string l = label_of(labels, s.core, s.index);
    if (l.empty()) l = "(unlabelled)";
    auto it = span.find(l);
    if (it == span.end()) span.emplace(l, std::pair{s.start, s.end});
    else it->second = {std::min(it->second.first, s.start), std::max(it->second.second, s.end)};
  }
  std::vector<NodeTime> out;
  for (const auto& [name, se] : span) {
    NodeTime n{name, se.second - se.first, 0};
    n.share = r.cycles ? static_cast<double>(n.cycles) / static_cast<double>(r.cycles) : 0;
    out.push_back(n);
  }
  std::stable_sort(out.begin(), out.end(), [](const NodeTime& a, const NodeTime& b) {
    return a.cycles != b.cycles ? a.cycles > b.cycles : a.name < b.name;
  });
  return out;
}

nlohmann::json metrics_json(const arch::Chip& chip, const sim::TimingResult& r,
                            const std::vector<std::vector<std::string>>& labels) {
  nlohmann::json j;
  j["chip"] = chip.name;
  j["cycles"] = r.cycles;
  j["seconds"] = r.seconds;
  nlohmann::json engines = nlohmann::json::array();
  for (size_t c = 0; c < r.engines.size(); ++c) {
    nlohmann::json core;
    core["core"] = c;
    for (int e = 0; e < 5; ++e) {
      const auto& t = r.engines[c][e];
      const uint64_t stalled = t.stall_sync + t.stall_memory;
      const uint64_t used = std::min<uint64_t>(r.cycles, t.busy + stalled);
      core[kEngines[e]] = {{"busy", t.busy},
                           {"stalled", {{"sync", t.stall_sync}, {"memory", t.stall_memory}}},
                           {"idle", r.cycles - used},
                           {"instructions", t.instructions},
                           {"utilization", r.cycles ? static_cast<double>(t.busy) / static_cast<double>(r.cycles) : 0.0}};
    }
    engines.push_back(core);
  }
  j["engines"] = engines;
  j["bytes"] = {{"hbm_read", r.hbm_read_bytes},   {"hbm_write", r.hbm_write_bytes}, {"sram_read", r.sram_read_bytes},
                {"sram_write", r.sram_write_bytes}, {"noc", r.noc_bytes}};
  j["macs"] = r.macs;
  j["vector_elements"] = r.vector_elements;
  j["achieved_ops_per_s"] = r.achieved_ops_per_s();
  j["achieved_hbm_bytes_per_s"] = r.achieved_hbm_bytes_per_s();
  j["hbm_bw_utilization"] = r.achieved_hbm_bytes_per_s() / chip.memory.bandwidth_bytes_per_s;
  j["energy_j"] = r.energy_j;
  j["energy_dynamic_j"] = r.energy_dynamic_j;
  j["energy_static_j"] = r.energy_static_j;
  j["average_power_w"] = r.seconds > 0 ? r.energy_j / r.seconds : 0.0;
  const double bytes = static_cast<double>(r.hbm_read_bytes + r.hbm_write_bytes);
  const double intensity = bytes > 0 ? r.ops / bytes : 0.0;
  const double ridge = peak_ops(chip) / chip.memory.bandwidth_bytes_per_s;
  j["roofline"] = {{"ops_per_byte", intensity},
                   {"ridge_ops_per_byte", ridge},
                   {"bound", intensity < ridge ? "memory" : "compute"},
                   {"peak_ops_per_s", peak_ops(chip)},
                   {"fraction_of_peak", r.achieved_ops_per_s() / peak_ops(chip)}};
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& n : node_times(r, labels)) nodes.push_back({{"node", n.name}, {"cycles", n.cycles}, {"share", n.share}});
  j["nodes"] = nodes;
  return j;
}

nlohmann::json trace_json(const arch::Chip& chip, const isa::Program& p, const sim::TimingResult& r,
                          const std::vector<std::vector<std::string>>& labels) {
  nlohmann::json ev = nlohmann::json::array();
  const double us_per_cycle = 1e6 / chip.clock_hz;
  for (size_t c = 0; c < r.engines.size(); ++c) {
    ev.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", c}, {"args", {{"name", fmt::format("core {}", c)}}}});
    for (int e = 0; e < 5; ++e)
      ev.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", c}, {"tid", e}, {"args", {{"name", kEngines[e]}}}});
  }
  const int chip_pid = static_cast<int>(r.engines.size());
  ev.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", chip_pid}, {"args", {{"name", "memory"}}}});
  std::vector<const std::vector<isa::Instr>*> code(r.engines.size(), nullptr);
  for (const auto& cc : p.cores)
    if (cc.core < code.size()) code[cc.core] = &cc.code;
  for (const auto& s : r.slices) {
    const isa::Instr& in = (*code[s.core])[s.index];
    const std::string mn(isa::op_info(in.op)->mnemonic);
    std::string l = label_of(labels, s.core, s.index);
    nlohmann::json e = {{"name", l.empty() ? mn : l},
                        {"cat", kEngines[s.engine]},
                        {"ph", "X"},
                        {"ts", static_cast<double>(s.start) * us_per_cycle},
                        {"dur", static_cast<double>(std::max<uint64_t>(s.end - s.start, 1)) * us_per_cycle},
                        {"pid", s.core},
                        {"tid", s.engine},
                        {"args", {{"op", mn}, {"index", s.index}}}};
    ev.push_back(std::move(e));
  }
  // HBM bandwidth counter: bytes per bucket of the run.
  const uint64_t buckets = std::min<uint64_t>(200, std::max<uint64_t>(1, r.cycles / 64));
  std::vector<double> bytes(buckets, 0.0);
  const double width = std::max(1.0, static_cast<double>(r.cycles) / static_cast<double>(buckets));
  for (const auto& s : r.slices) {
    if (!s.hbm_bytes) continue;
    const double a = static_cast<double>(s.start), b = static_cast<double>(std::max(s.end, s.start + 1));
    for (uint64_t k = static_cast<uint64_t>(a / width); k < buckets && static_cast<double>(k) * width < b; ++k) {
      const double lo = std::max(a, static_cast<double>(k) * width), hi = std::min(b, static_cast<double>(k + 1) * width);
      if (hi > lo) bytes[k] += static_cast<double>(s.hbm_bytes) * (hi - lo) / (b - a);
    }
  }
  for (uint64_t k = 0; k < buckets; ++k) {
    const double gbs = bytes[k] / (width / chip.clock_hz) / 1e9;
    ev.push_back({{"name", "HBM bandwidth (GB/s)"},
                  {"ph", "C"},
                  {"ts", static_cast<double>(k) * width * us_per_cycle},
                  {"pid", chip_pid},
                  {"args", {{"GB/s", gbs}}}});
  }
  return {{"traceEvents", ev}, {"displayTimeUnit", "ns"}};
}

void write_json(const nlohmann::json& j, const std::string& path) {
  std::ofstream f(path, std::ios::trunc);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  f << j.dump() << "\n";
  if (!f) throw std::runtime_error(fmt::format("{}: write failed", path));
}

std::string summary_text(const arch::Chip& chip, const sim::TimingResult& r,
                         const std::vector<std::vector<std::string>>& labels, size_t top) {
  std::string s;
  s += fmt::format("time: {} cycles = {:.3f} ms at {:.0f} MHz\n", r.cycles, r.seconds * 1e3, chip.clock_hz / 1e6);
  const double bytes = static_cast<double>(r.hbm_read_bytes + r.hbm_write_bytes);
  const double intensity = bytes > 0 ? r.ops / bytes : 0;
  const double ridge = peak_ops(chip) / chip.memory.bandwidth_bytes_per_s;
  s += fmt::format("achieved: {:.2f} TOP/s ({:.1f}% of peak), HBM {:.1f} GB/s ({:.1f}% of peak)\n",
                   r.achieved_ops_per_s() / 1e12, 100 * r.achieved_ops_per_s() / peak_ops(chip),
                   r.achieved_hbm_bytes_per_s() / 1e9, 100 * r.achieved_hbm_bytes_per_s() / chip.memory.bandwidth_bytes_per_s);
  s += fmt::format("roofline: {:.1f} ops/byte vs ridge {:.1f}: {}-bound\n", intensity, ridge,
                   intensity < ridge ? "memory" : "compute");
  s += fmt::format("energy: {:.3f} mJ ({:.1f} W average)\n", r.energy_j * 1e3, r.seconds > 0 ? r.energy_j / r.seconds : 0);
  auto nodes = node_times(r, labels);
  if (!nodes.empty()) {
    s += fmt::format("{:<48} {:>12} {:>7}\n", "top nodes by time", "cycles", "share");
    for (size_t i = 0; i < std::min(top, nodes.size()); ++i)
      s += fmt::format("{:<48} {:>12} {:>6.1f}%\n", nodes[i].name.substr(0, 48), nodes[i].cycles, 100 * nodes[i].share);
  }
  return s;
}

}  // namespace seedchip::report
