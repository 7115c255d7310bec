// seedchip — loading, validating and summarising chip descriptions.
#include "seedchip/arch/chip.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "builtin_chips.h"
#include "yaml_reader.h"

namespace seedchip::arch {

namespace {

using detail::Field;
using detail::MapReader;
using detail::NumberRange;

// ---- validation ranges (documented in chips/README.md; keep them in sync) ----
// Counts (cores, PE rows/cols, banks, semaphores, queue entries, lanes) are
// capped at 2^16, far beyond any real part; memories at 1 TiB per core, so
// sram_bytes * cores <= 2^56 and no derived size can overflow uint64.
constexpr uint64_t kMaxCount = 65536;
constexpr uint64_t kMaxKiB = uint64_t{1} << 30;
constexpr uint64_t kMaxDevices = 1024;
// Instructions name cores and semaphores in one byte, 0xFF meaning none/local.
constexpr uint64_t kMaxIndexed = 255;
constexpr NumberRange kClockMhz{0, true, 100000};       // up to 100 GHz
constexpr NumberRange kRate{0, true, 1};                // a PE does at most one MAC per cycle
constexpr NumberRange kCapacityGiB{0, true, 16777216};  // up to 2^24 GiB = 2^54 bytes
constexpr NumberRange kBandwidthGBs{0, true, 1e9};      // up to 1 EB/s
constexpr NumberRange kTdpW{0, true, 1e6};              // up to 1 MW
constexpr std::array<std::string_view, 7> kMemoryTypes = {"hbm3e", "hbm3",    "hbm2e", "ddr3",
                                                          "ddr4",  "lpddr5x", "gddr7"};
constexpr std::string_view kBuiltinPrefix = "builtin:";
// Timing and energy. Rates and bandwidths must be positive (zero would stall
// the simulator forever); latencies may be zero (an idealised part).
constexpr uint64_t kMaxCycles = 1000000000;           // 10^9 cycles of any clock
constexpr uint64_t kMaxBytes = uint64_t{1} << 20;     // bursts and rows up to 1 MiB
// Lower bounds keep every time finite in the simulators' 64-bit cycle counts
// (a rate of 1e-25 would overflow them and come out faster, not slower).
constexpr NumberRange kBytesPerCycle{1e-3, false, 1e6};   // per port, bank or link
constexpr NumberRange kRowsPerCycle{1e-3, false, 65536};  // at most every row of the largest array
constexpr NumberRange kCyclesPerGroup{0, true, 1e6};  // vector throughput, > 0
constexpr NumberRange kEfficiency{0.01, false, 1};    // achieved / peak bandwidth: at least 1%
constexpr NumberRange kTckNs{0, true, 1000};          // memory clock period, down to 1 MHz
constexpr NumberRange kLatencyNs{0, false, 1e9};      // up to one second
constexpr NumberRange kHostCallUs{0, false, 1e9};     // up to 1000 s
constexpr NumberRange kEnergyPj{0, false, 1e9};       // per MAC, element or byte
constexpr NumberRange kStaticW{0, false, 1e6};
constexpr NumberRange kPriceUsd{0, true, 1e9};        // a price: positive, up to 1e9 USD        // checked against tdp_w as well
constexpr double kDetailedPeakTolerance = 0.02;       // detailed model vs memory.bandwidth_gb_s
constexpr std::array<std::string_view, 2> kTopologies = {"mesh", "ring"};

uint32_t read_count(const MapReader& m, std::string_view key, uint64_t max = kMaxCount) {
  return static_cast<uint32_t>(m.required(key).as_uint(1, max));
}

uint64_t read_kib(const MapReader& m, std::string_view key) {
  return m.required(key).as_uint(1, kMaxKiB) * 1024;  // cannot overflow: kMaxKiB * 1024 = 2^40
}

bool valid_name(std::string_view s) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  return !s.empty() && s.size() <= 64 && s[0] != '.' && s[0] != '-' &&
         std::all_of(s.begin(), s.end(), ok);
}

std::string all_dtype_names() {
  std::string out;
  for (int i = 0; i < kNumDTypes; ++i) {
    if (i) out += ", ";
    out += dtype_name(static_cast<DType>(i));
  }
  return out;
}

// "34.0", "91.75", "1.05": two decimals, a trailing zero dropped.
std::string two_decimals(double v) {
  std::string s = fmt::format("{:.2f}", v);
  if (s.size() > 1 && s.back() == '0') s.pop_back();
  return s;
}

MatrixEngineDesc read_matrix(const Field& f) {
  const MapReader m = f.as_map({"rows", "cols", "dataflow", "rate"});
  MatrixEngineDesc d;
  d.rows = read_count(m, "rows");
  d.cols = read_count(m, "cols");
  const Field df = m.required("dataflow");
  d.dataflow = df.as_string();
  if (d.dataflow != "weight_stationary") {
    df.fail(fmt::format("unsupported dataflow '{}' (supported: weight_stationary)", d.dataflow));
  }
  const Field rf = m.required("rate");
  const MapReader rates = rf.as_open_map();
  if (rates.size() == 0) rf.fail("must list at least one dtype, e.g. {int8: 1}");
  for (const Field& e : rates.entries()) {
    const std::string key = e.path().substr(rf.path().size() + 1);
    // Only canonical names: the "fp8" alias would hide which fp8 format is meant.
    const std::optional<DType> t = parse_dtype(key);
    if (!t || dtype_name(*t) != key) {
      e.fail(fmt::format("unknown dtype (expected one of: {})", all_dtype_names()));
    }
    d.rate[*t] = e.as_number(kRate);
  }
  return d;
}

CoreDesc read_core(const Field& f) {
  const MapReader m = f.as_map({"sram_kib", "sram_banks", "accumulator_kib", "semaphores",
                                "queue_depth", "instruction_memory_kib", "matrix", "vector"});
  CoreDesc c;
  c.sram_bytes = read_kib(m, "sram_kib");
  c.sram_banks = read_count(m, "sram_banks");
  if (c.sram_bytes % c.sram_banks != 0) {
    m.required("sram_banks")
        .fail(fmt::format("must divide sram_kib * 1024 = {} bytes, got '{}'", c.sram_bytes,
                          c.sram_banks));
  }
  c.accumulator_bytes = read_kib(m, "accumulator_kib");
  c.semaphores = read_count(m, "semaphores", kMaxIndexed);
  c.queue_depth = read_count(m, "queue_depth");
  c.instruction_memory_bytes = read_kib(m, "instruction_memory_kib");
  c.matrix = read_matrix(m.required("matrix"));
  const MapReader v = m.required("vector").as_map({"lanes"});
  c.vector.lanes = read_count(v, "lanes");
  return c;
}

MemoryDesc read_memory(const Field& f) {
  const MapReader m = f.as_map({"type", "devices", "capacity_gib", "bandwidth_gb_s"});
  MemoryDesc d;
  const Field tf = m.required("type");
  d.type = tf.as_string();
  if (std::find(kMemoryTypes.begin(), kMemoryTypes.end(), d.type) == kMemoryTypes.end()) {
    tf.fail(fmt::format("unknown memory type '{}' (expected one of: {})", d.type,
                        fmt::join(kMemoryTypes, ", ")));
  }
  d.devices = read_count(m, "devices", kMaxDevices);
  // GiB may be fractional (e.g. 0.5 for a small LPDDR part); round to whole bytes.
  const Field cf = m.required("capacity_gib");
  const double bytes = std::round(cf.as_number(kCapacityGiB) * 1073741824.0);
  if (bytes < 1) cf.fail(fmt::format("must be at least one byte, {}", cf.got()));
  d.capacity_bytes = static_cast<uint64_t>(bytes);  // <= 2^54 by kCapacityGiB
  d.bandwidth_bytes_per_s = m.required("bandwidth_gb_s").as_number(kBandwidthGBs) * 1e9;
  return d;
}

uint32_t read_cycles(const MapReader& m, std::string_view key, uint64_t min) {
  return static_cast<uint32_t>(m.required(key).as_uint(min, kMaxCycles));
}

DmaTiming read_dma_timing(const Field& f) {
  const MapReader m = f.as_map({"setup_cycles", "port_bytes_per_cycle", "burst_bytes"});
  DmaTiming d;
  d.setup_cycles = read_cycles(m, "setup_cycles", 0);
  d.port_bytes_per_cycle = m.required("port_bytes_per_cycle").as_number(kBytesPerCycle);
  d.burst_bytes = static_cast<uint32_t>(m.required("burst_bytes").as_uint(1, kMaxBytes));
  return d;
}

MatrixTiming read_matrix_timing(const Field& f) {
  const MapReader m = f.as_map({"weight_rows_per_cycle", "pipeline_cycles"});
  MatrixTiming d;
  d.weight_rows_per_cycle = m.required("weight_rows_per_cycle").as_number(kRowsPerCycle);
  d.pipeline_cycles = read_cycles(m, "pipeline_cycles", 0);
  return d;
}

VectorTiming read_vector_timing(const Field& f) {
  const MapReader m =
      f.as_map({"latency_cycles", "simple_cycles", "transcendental_cycles", "divide_cycles"});
  VectorTiming d;
  d.latency_cycles = read_cycles(m, "latency_cycles", 0);
  d.simple_cycles = m.required("simple_cycles").as_number(kCyclesPerGroup);
  d.transcendental_cycles = m.required("transcendental_cycles").as_number(kCyclesPerGroup);
  d.divide_cycles = m.required("divide_cycles").as_number(kCyclesPerGroup);
  return d;
}

NocTiming read_noc_timing(const Field& f) {
  const MapReader m = f.as_map({"topology", "link_bytes_per_cycle", "hop_cycles"});
  NocTiming d;
  const Field tf = m.required("topology");
  d.topology = tf.as_string();
  if (std::find(kTopologies.begin(), kTopologies.end(), d.topology) == kTopologies.end()) {
    tf.fail(fmt::format("unknown topology '{}' (expected one of: {})", d.topology,
                        fmt::join(kTopologies, ", ")));
  }
  d.link_bytes_per_cycle = m.required("link_bytes_per_cycle").as_number(kBytesPerCycle);
  d.hop_cycles = read_cycles(m, "hop_cycles", 0);
  return d;
}

HbmTiming read_detailed(const Field& f) {
  // clang-format off
  const MapReader m = f.as_map({"channels", "pseudo_channels", "bank_groups", "banks_per_group",
                                "row_bytes", "burst_bytes", "tck_ns", "tRCD", "tRP", "tRAS", "tCL",
                                "tWL", "tCCD_S", "tCCD_L", "tRRD_S", "tRRD_L", "tFAW", "tWR",
                                "tWTR", "tRTW", "tREFI", "tRFC", "tBURST"});
  // clang-format on
  HbmTiming d;
  d.channels = read_count(m, "channels");
  d.pseudo_channels = read_count(m, "pseudo_channels");
  d.bank_groups = read_count(m, "bank_groups");
  d.banks_per_group = read_count(m, "banks_per_group");
  d.row_bytes = static_cast<uint32_t>(m.required("row_bytes").as_uint(1, kMaxBytes));
  d.burst_bytes = static_cast<uint32_t>(m.required("burst_bytes").as_uint(1, kMaxBytes));
  if (d.row_bytes % d.burst_bytes != 0) {
    m.required("burst_bytes")
        .fail(fmt::format("must divide row_bytes = {}, got '{}'", d.row_bytes, d.burst_bytes));
  }
  d.tck_ns = m.required("tck_ns").as_number(kTckNs);
  // Every JEDEC constraint is at least one clock.
  d.tRCD = read_cycles(m, "tRCD", 1);
  d.tRP = read_cycles(m, "tRP", 1);
  d.tRAS = read_cycles(m, "tRAS", 1);
  d.tCL = read_cycles(m, "tCL", 1);
  d.tWL = read_cycles(m, "tWL", 1);
  d.tCCD_S = read_cycles(m, "tCCD_S", 1);
  d.tCCD_L = read_cycles(m, "tCCD_L", 1);
  d.tRRD_S = read_cycles(m, "tRRD_S", 1);
  d.tRRD_L = read_cycles(m, "tRRD_L", 1);
  d.tFAW = read_cycles(m, "tFAW", 1);
  d.tWR = read_cycles(m, "tWR", 1);
  d.tWTR = read_cycles(m, "tWTR", 1);
  d.tRTW = read_cycles(m, "tRTW", 1);
  d.tREFI = read_cycles(m, "tREFI", 1);
  d.tRFC = read_cycles(m, "tRFC", 1);
  d.tBURST = read_cycles(m, "tBURST", 1);
  if (d.tREFI <= d.tRFC) {
    m.required("tREFI").fail(fmt::format(
        "must exceed tRFC = {} (the device would never leave refresh), got '{}'", d.tRFC, d.tREFI));
  }
  return d;
}

// Peak of the command-level model in bytes/s (see Chip::detailed_peak_bytes_per_s).
double detailed_peak(uint32_t devices, const HbmTiming& h) {
  if (!(h.tck_ns > 0) || h.tBURST == 0) return 0;
  return static_cast<double>(devices) * h.channels * h.pseudo_channels * h.burst_bytes /
         (h.tBURST * h.tck_ns * 1e-9);
}

// The command-level model must describe the same memory as memory.bandwidth_gb_s.
void check_detailed_peak(const Field& f, const HbmTiming& h, const MemoryDesc& mem) {
  const double peak = detailed_peak(mem.devices, h);
  const double want = mem.bandwidth_bytes_per_s;
  if (std::abs(peak - want) <= kDetailedPeakTolerance * want) return;
  f.fail(fmt::format(
      "peak bandwidth {} devices x {} channels x {} pseudo-channels x {} B / ({} x {} ns) = {} "
      "GB/s is {:+.1f}% off memory.bandwidth_gb_s = {} GB/s (at most {:.0f}% allowed)",
      mem.devices, h.channels, h.pseudo_channels, h.burst_bytes, h.tBURST, h.tck_ns,
      two_decimals(peak / 1e9), (peak / want - 1) * 100, two_decimals(want / 1e9),
      kDetailedPeakTolerance * 100));
}

MemoryTiming read_memory_timing(const Field& f, const MemoryDesc& mem) {
  const MapReader m = f.as_map({"latency_ns", "efficiency", "detailed"});
  MemoryTiming d;
  d.latency_ns = m.required("latency_ns").as_number(kLatencyNs);
  const MapReader e = m.required("efficiency").as_map({"sequential", "strided", "random"});
  d.efficiency_sequential = e.required("sequential").as_number(kEfficiency);
  d.efficiency_strided = e.required("strided").as_number(kEfficiency);
  d.efficiency_random = e.required("random").as_number(kEfficiency);
  const Field df = m.required("detailed");
  d.detailed = read_detailed(df);
  check_detailed_peak(df, d.detailed, mem);
  return d;
}

// `mem` is the memory section the detailed model must agree with.
TimingDesc read_timing(const Field& f, const MemoryDesc& mem) {
  const MapReader m =
      f.as_map({"dma", "matrix", "vector", "sram", "noc", "memory", "host_call_us", "kernel_launch_ns"});
  TimingDesc t;
  t.dma = read_dma_timing(m.required("dma"));
  t.matrix = read_matrix_timing(m.required("matrix"));
  t.vector = read_vector_timing(m.required("vector"));
  const MapReader sram = m.required("sram").as_map({"bytes_per_cycle_per_bank"});
  t.sram.bytes_per_cycle_per_bank =
      sram.required("bytes_per_cycle_per_bank").as_number(kBytesPerCycle);
  t.noc = read_noc_timing(m.required("noc"));
  t.memory = read_memory_timing(m.required("memory"), mem);
  t.host_call_us = m.required("host_call_us").as_number(kHostCallUs);
  if (auto k = m.optional("kernel_launch_ns")) t.kernel_launch_ns = k->as_number(kLatencyNs);
  return t;
}

std::string dtype_list(const std::map<DType, double>& m) {
  std::string out;
  for (const auto& [t, v] : m) {
    if (!out.empty()) out += ", ";
    out += dtype_name(t);
  }
  return out;
}

// `rates` is core.matrix.rate (mac_pj must name exactly its dtypes); static_w <= `tdp_w`.
EnergyDesc read_energy(const Field& f, const std::map<DType, double>& rates, double tdp_w) {
  const MapReader m = f.as_map(
      {"mac_pj", "vector_pj_per_element", "sram_pj_per_byte", "hbm_pj_per_byte", "static_w"});
  EnergyDesc d;
  const Field mf = m.required("mac_pj");
  const MapReader macs = mf.as_open_map();
  for (const Field& e : macs.entries()) {
    const std::string key = e.path().substr(mf.path().size() + 1);
    const std::optional<DType> t = parse_dtype(key);
    if (!t || dtype_name(*t) != key) {
      e.fail(fmt::format("unknown dtype (expected one of: {})", all_dtype_names()));
    }
    if (rates.count(*t) == 0) {
      e.fail(fmt::format("not a matrix dtype (mac_pj must cover exactly core.matrix.rate: {})",
                         dtype_list(rates)));
    }
    d.mac_pj[*t] = e.as_number(kEnergyPj);
  }
  for (const auto& [t, rate] : rates) {
    if (d.mac_pj.count(t) == 0) {
      mf.fail(fmt::format("missing {} (mac_pj must cover exactly core.matrix.rate: {})",
                          dtype_name(t), dtype_list(rates)));
    }
  }
  d.vector_pj_per_element = m.required("vector_pj_per_element").as_number(kEnergyPj);
  d.sram_pj_per_byte = m.required("sram_pj_per_byte").as_number(kEnergyPj);
  d.hbm_pj_per_byte = m.required("hbm_pj_per_byte").as_number(kEnergyPj);
  const Field sf = m.required("static_w");
  d.static_w = sf.as_number(kStaticW);
  if (d.static_w > tdp_w) sf.fail(fmt::format("must not exceed tdp_w = {} W, {}", tdp_w, sf.got()));
  return d;
}

InterconnectDesc read_interconnect(const Field& f) {
  const MapReader m =
      f.as_map({"topology", "links", "link_bandwidth_gb_s", "latency_ns", "efficiency", "max_chips"});
  InterconnectDesc d;
  const Field tf = m.required("topology");
  d.topology = tf.as_string();
  if (d.topology != "switch" && d.topology != "ring" && d.topology != "full_mesh")
    tf.fail(fmt::format("expected switch, ring or full_mesh, {}", tf.got()));
  d.links = read_count(m, "links", kMaxIndexed);
  d.link_bytes_per_s = m.required("link_bandwidth_gb_s").as_number(kBandwidthGBs) * 1e9;
  d.latency_ns = m.required("latency_ns").as_number(kLatencyNs);
  d.efficiency = m.required("efficiency").as_number(kEfficiency);
  const Field mf = m.required("max_chips");
  d.max_chips = read_count(m, "max_chips", uint64_t{1} << 20);
  if (d.topology == "full_mesh" && d.max_chips > d.links + 1)
    mf.fail(fmt::format("a full mesh of {} links connects at most {} chips, {}", d.links, d.links + 1, mf.got()));
  if (d.topology == "ring" && d.links < 2) tf.fail("a ring needs links >= 2");
  return d;
}

ProcessDesc read_process(const Field& f) {
  const MapReader m = f.as_map({"node", "spare_cores", "control_units", "package", "hbm_usd_per_gb", "price_usd"});
  ProcessDesc d;
  if (auto n = m.optional("node")) {
    d.node = n->as_string();
    if (d.node.empty()) n->fail("must name a process node");
  }
  if (auto s = m.optional("spare_cores")) d.spare_cores = static_cast<uint32_t>(s->as_uint(0, kMaxIndexed));
  if (auto s = m.optional("control_units")) d.control_units = static_cast<uint32_t>(s->as_uint(1, kMaxIndexed));
  if (auto p = m.optional("package")) {
    d.package = p->as_string();
    if (d.package != "cowos-s" && d.package != "cowos-l" && d.package != "organic")
      p->fail(fmt::format("expected cowos-s, cowos-l or organic, {}", p->got()));
  }
  if (auto h = m.optional("hbm_usd_per_gb")) d.hbm_usd_per_gb = h->as_number(kPriceUsd);
  if (auto p = m.optional("price_usd")) d.price_usd = p->as_number(kPriceUsd);
  return d;
}

Chip read_chip(const Field& doc) {
  const MapReader top = doc.as_map({"name", "description", "clock_mhz", "cores", "core", "memory", "tdp_w", "timing", "energy",
                                    "interconnect", "process"});
  Chip c;
  const Field nf = top.required("name");
  c.name = nf.as_string();
  if (!valid_name(c.name)) {
    nf.fail(fmt::format(
        "must be 1-64 letters, digits, '.', '_' or '-' (not leading '.' or '-'), {}", nf.got()));
  }
  if (auto d = top.optional("description")) c.description = d->as_string();
  c.clock_hz = top.required("clock_mhz").as_number(kClockMhz) * 1e6;
  c.cores = read_count(top, "cores", kMaxIndexed);
  c.core = read_core(top.required("core"));
  c.memory = read_memory(top.required("memory"));
  c.tdp_w = top.required("tdp_w").as_number(kTdpW);
  c.timing = read_timing(top.required("timing"), c.memory);
  c.energy = read_energy(top.required("energy"), c.core.matrix.rate, c.tdp_w);
  if (auto ic = top.optional("interconnect")) c.interconnect = read_interconnect(*ic);
  if (auto pr = top.optional("process")) c.process = read_process(*pr);
  return c;
}

void fnv1a(uint64_t& h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
}

void fnv1a_u64(uint64_t& h, uint64_t v) {
  std::array<unsigned char, 8> le{};  // little-endian whatever the host order
  for (std::size_t i = 0; i < 8; ++i) le[i] = static_cast<unsigned char>(v >> (8 * i));
  fnv1a(h, le.data(), le.size());
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The summary's dtype columns: "fp8" is the faster of the two fp8 formats.
struct SummaryType {
  const char* key;
  double (*peak)(const Chip&);
  bool is_float;
};
constexpr std::array<SummaryType, 5> kSummaryTypes = {{
    {"int8", [](const Chip& c) { return c.peak_ops_per_s(DType::int8); }, false},
    {"fp8",
     [](const Chip& c) {
       return std::max(c.peak_ops_per_s(DType::fp8e4m3), c.peak_ops_per_s(DType::fp8e5m2));
     },
     true},
    {"bf16", [](const Chip& c) { return c.peak_ops_per_s(DType::bf16); }, true},
    {"fp16", [](const Chip& c) { return c.peak_ops_per_s(DType::fp16); }, true},
    {"fp32", [](const Chip& c) { return c.peak_ops_per_s(DType::fp32); }, true},
}};

// Decimal SI prefixes: si(91.75e12, "OP/s") = "91.75 TOP/s".
std::string si(double v, std::string_view unit) {
  static constexpr std::array<const char*, 7> kPrefix = {"", "k", "M", "G", "T", "P", "E"};
  std::size_t i = 0;
  // Round to the printed precision first so 999.999e9 prints as 1.0 T, not 1000.0 G.
  while (i + 1 < kPrefix.size() && std::round(std::abs(v) * 100) / 100 >= 1000) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{} {}{}", two_decimals(v), kPrefix[i], unit);
}

// Binary prefixes for memory sizes: iec(24 << 20) = "24.0 MiB".
std::string iec(uint64_t bytes) {
  static constexpr std::array<const char*, 7> kPrefix = {"B",   "KiB", "MiB", "GiB",
                                                         "TiB", "PiB", "EiB"};
  double v = static_cast<double>(bytes);
  std::size_t i = 0;
  while (i + 1 < kPrefix.size() && std::round(v * 100) / 100 >= 1024) {
    v /= 1024;
    ++i;
  }
  return fmt::format("{} {}", two_decimals(v), kPrefix[i]);
}


}  // namespace

// ---- derived figures ----

double Chip::peak_ops_per_s(DType t) const {
  auto it = core.matrix.rate.find(t);
  if (it == core.matrix.rate.end() || !(it->second > 0)) return 0;
  return 2.0 * core.matrix.rows * core.matrix.cols * it->second * clock_hz * cores;
}

bool Chip::matrix_supports(DType t) const {
  auto it = core.matrix.rate.find(t);
  return it != core.matrix.rate.end() && it->second > 0;
}

uint64_t Chip::sram_bytes_total() const { return core.sram_bytes * cores; }

double Chip::detailed_peak_bytes_per_s() const {
  return detailed_peak(memory.devices, timing.memory.detailed);
}

double Chip::ridge_ops_per_byte(DType t) const {
  if (!(memory.bandwidth_bytes_per_s > 0)) return 0;
  return peak_ops_per_s(t) / memory.bandwidth_bytes_per_s;
}

// Canonical byte stream (version 1): the ASCII tag "seedchip-isa-fingerprint-v1",
// then nine unsigned 64-bit little-endian words in this order: cores, matrix
// rows, matrix cols, supported-dtype mask (bit k set when DType value k has a
// rate > 0), sram_bytes, accumulator_bytes, semaphores, memory capacity_bytes,
// instruction_memory_bytes. Changing the set or order means bumping the tag.
uint64_t Chip::isa_fingerprint() const {
  uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  constexpr std::string_view kTag = "seedchip-isa-fingerprint-v1";
  fnv1a(h, kTag.data(), kTag.size());
  uint64_t mask = 0;
  for (int i = 0; i < kNumDTypes; ++i) {
    if (matrix_supports(static_cast<DType>(i))) mask |= uint64_t{1} << i;
  }
  for (uint64_t v : {uint64_t{cores}, uint64_t{core.matrix.rows}, uint64_t{core.matrix.cols}, mask,
                     core.sram_bytes, core.accumulator_bytes, uint64_t{core.semaphores},
                     memory.capacity_bytes, core.instruction_memory_bytes}) {
    fnv1a_u64(h, v);
  }
  return h;
}

// ---- loading ----

double allreduce_seconds(const InterconnectDesc& ic, uint32_t chips, double bytes) {
  if (chips <= 1 || bytes <= 0) return 0;
  const double n = chips, bw = ic.link_bytes_per_s * ic.efficiency;
  if (ic.topology == "full_mesh")  // reduce-scatter and all-gather: one step each, n-1 links at once
    return 2 * ((n - 1) / n * bytes / ((n - 1) * bw) + ic.latency_ns * 1e-9);
  const double links = ic.topology == "ring" ? 2.0 : static_cast<double>(ic.links);
  return 2 * (n - 1) * (bytes / n / (links * bw) + ic.latency_ns * 1e-9);
}

Chip load_chip_yaml(const std::string& text, const std::string& source) {
  // A second document starts with a "---" line after content. (Not found with
  // YAML::LoadAll: yaml-cpp 0.7's loops forever on some inputs, e.g. ",".)
  {
    bool content = false;
    int line = 0;
    for (size_t at = 0; at <= text.size(); ++line) {
      size_t end = text.find('\n', at);
      if (end == std::string::npos) end = text.size();
      const std::string_view l(text.data() + at, end - at);
      const bool marker = l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
      if (marker && content) {
        YAML::Mark m;
        m.line = line;
        m.column = 0;
        detail::throw_error(source, m, "", "more than one YAML document (one chip per file)");
      }
      const size_t first = l.find_first_not_of(" \t\r");
      if (!marker && first != std::string_view::npos && l[first] != '#') content = true;
      at = end + 1;
    }
  }
  std::vector<YAML::Node> docs;
  try {
    docs.push_back(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    detail::throw_error(source, e.mark, "", "malformed YAML: " + e.msg);
  }
  if (docs[0].IsNull()) {
    detail::throw_error(source, YAML::Mark::null_mark(), "",
                        "empty file (expected a chip description map)");
  }
  try {
    Chip chip = read_chip(Field(&source, "", docs[0], docs[0].Mark()));
    chip.source = source;
    return chip;
  } catch (const YAML::Exception& e) {
    // Not expected (the reader does no yaml-cpp conversions), but never let one escape untyped.
    detail::throw_error(source, e.mark, "", std::string("YAML error: ") + e.msg);
  }
}

namespace {
std::string read_chip_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw ChipError(fmt::format("{}: cannot read chip file: no such file", path));
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw ChipError(fmt::format("{}: cannot read chip file: not a regular file", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ChipError(fmt::format("{}: cannot read chip file: {}", path, std::strerror(errno)));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) throw ChipError(fmt::format("{}: cannot read chip file: read error", path));
  return buf.str();
}
}  // namespace

Chip load_chip_file(const std::string& path) { return load_chip_yaml(read_chip_file(path), path); }

std::vector<std::string> builtin_chip_names() {
  std::vector<std::string> names;
  for (std::size_t i = 0; i < detail::kNumEmbeddedChips; ++i) {
    names.emplace_back(detail::kEmbeddedChips[i].name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

ChipText find_chip_text(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos || ends_with(name_or_path, ".yaml") ||
      ends_with(name_or_path, ".yml")) {
    return {read_chip_file(name_or_path), name_or_path};
  }
  for (std::size_t i = 0; i < detail::kNumEmbeddedChips; ++i) {
    if (name_or_path == detail::kEmbeddedChips[i].name) {
      const auto& e = detail::kEmbeddedChips[i];
      return {std::string(reinterpret_cast<const char*>(e.text), e.size), std::string(kBuiltinPrefix) + e.name};
    }
  }
  const char* env = std::getenv("SEEDCHIP_CHIP_PATH");
  const std::string search = env ? env : "";
  if (!name_or_path.empty()) {
    std::string_view rest = search;
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      const std::string_view dir = rest.substr(0, colon);
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
      if (dir.empty()) continue;  // "a::b" or a trailing ':' adds nothing
      const std::filesystem::path candidate = std::filesystem::path(dir) / (name_or_path + ".yaml");
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec))
        return {read_chip_file(candidate.string()), candidate.string()};
    }
  }
  throw ChipError(fmt::format("unknown chip '{}': built-in chips are {}; {}", name_or_path,
                              fmt::join(builtin_chip_names(), ", "),
                              search.empty() ? std::string("SEEDCHIP_CHIP_PATH is not set")
                                             : "no NAME.yaml in SEEDCHIP_CHIP_PATH=" + search));
}

Chip find_chip(const std::string& name_or_path) {
  const ChipText t = find_chip_text(name_or_path);
  return load_chip_yaml(t.text, t.source);
}

std::map<std::string, std::vector<std::string>> chip_schema(const std::string& text, const std::string& source) {
  detail::SchemaLog log;
  detail::schema_log = &log;
  try {
    (void)load_chip_yaml(text, source);
  } catch (...) {
    detail::schema_log = nullptr;
    throw;
  }
  detail::schema_log = nullptr;
  return log;
}

// ---- summaries ----

nlohmann::json chip_summary_json(const Chip& c) {
  nlohmann::json peak = nlohmann::json::object();
  nlohmann::json ridge = nlohmann::json::object();
  for (const SummaryType& s : kSummaryTypes) {
    const double p = s.peak(c);
    if (p <= 0) continue;
    peak[s.key] = p;
    ridge[s.key] = c.memory.bandwidth_bytes_per_s > 0 ? p / c.memory.bandwidth_bytes_per_s : 0.0;
  }
  return nlohmann::json{
      {"name", c.name},
      {"description", c.description},
      {"source", c.source},
      {"clock_hz", c.clock_hz},
      {"cores", c.cores},
      {"peak_ops_per_s", peak},
      {"hbm_bytes_per_s", c.memory.bandwidth_bytes_per_s},
      {"hbm_capacity_bytes", c.memory.capacity_bytes},
      {"memory_type", c.memory.type},
      {"sram_bytes_per_core", c.core.sram_bytes},
      {"sram_bytes_total", c.sram_bytes_total()},
      {"accumulator_bytes_per_core", c.core.accumulator_bytes},
      {"ridge_ops_per_byte", ridge},
      {"tdp_w", c.tdp_w},
      {"isa_fingerprint", fmt::format("{:016x}", c.isa_fingerprint())},
  };
}

std::string chip_summary_text(const Chip& c) {
  std::string out;
  auto row = [&out](std::string_view label, const std::string& value) {
    out += fmt::format("{:<22}{}\n", label, value);
  };
  row("chip", c.name);
  if (!c.description.empty()) row("description", c.description);
  row("source", c.source);
  row("clock", si(c.clock_hz, "Hz"));
  row("cores", fmt::format("{}", c.cores));
  row("matrix engine", fmt::format("{} x {} {} per core", c.core.matrix.rows, c.core.matrix.cols,
                                   c.core.matrix.dataflow));
  for (const SummaryType& s : kSummaryTypes) {
    const double p = s.peak(c);
    if (p > 0) row(fmt::format("peak {}", s.key), si(p, s.is_float ? "FLOP/s" : "OP/s"));
  }
  row("vector engine", fmt::format("{} lanes per core", c.core.vector.lanes));
  row("memory",
      fmt::format("{} x{}, {}, {}", c.memory.type, c.memory.devices, iec(c.memory.capacity_bytes),
                  si(c.memory.bandwidth_bytes_per_s, "B/s")));
  for (const SummaryType& s : kSummaryTypes) {
    const double p = s.peak(c);
    if (p > 0 && c.memory.bandwidth_bytes_per_s > 0) {
      row(fmt::format("ridge {}", s.key),
          fmt::format("{} {}/B", two_decimals(p / c.memory.bandwidth_bytes_per_s),
                      s.is_float ? "FLOP" : "OP"));
    }
  }
  row("SRAM", fmt::format("{} per core, {} total, {} banks", iec(c.core.sram_bytes),
                          iec(c.sram_bytes_total()), c.core.sram_banks));
  row("accumulators", fmt::format("{} per core", iec(c.core.accumulator_bytes)));
  row("instruction memory", fmt::format("{} per core", iec(c.core.instruction_memory_bytes)));
  row("sync", fmt::format("{} semaphores, queue depth {}", c.core.semaphores, c.core.queue_depth));
  row("TDP", fmt::format("{} W", two_decimals(c.tdp_w)));
  row("ISA fingerprint", fmt::format("{:016x}", c.isa_fingerprint()));
  return out;
}

}  // namespace seedchip::arch
