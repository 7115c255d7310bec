// seedchip — tests for chip descriptions: built-ins, derived figures,
// summaries, strict YAML validation and chip lookup.
#include "seedchip/arch/chip.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

namespace seedchip::arch {
namespace {

namespace fs = std::filesystem;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

void expect_rel(double actual, double expected, double tol = 1e-12) {
  EXPECT_NEAR(actual, expected, std::abs(expected) * tol) << "expected " << expected;
}

// A small valid chip; tests edit single lines (1-based numbers in comments) to
// make one thing wrong at a known line:column. Its detailed memory model is
// HBM3 at 6.4 Gb/s: 2 stacks x 16 x 2 x 32 B / (4 x 0.3125 ns) = 1638.4 GB/s.
const std::vector<std::string> kBase = {
    "name: test-chip",                    // 1
    "description: \"a test chip\"",       // 2
    "clock_mhz: 1000",                    // 3
    "cores: 2",                           // 4
    "core:",                              // 5
    "  sram_kib: 1024",                   // 6
    "  sram_banks: 8",                    // 7
    "  accumulator_kib: 256",             // 8
    "  semaphores: 16",                   // 9
    "  queue_depth: 8",                   // 10
    "  instruction_memory_kib: 64",       // 11
    "  matrix:",                          // 12
    "    rows: 128",                      // 13
    "    cols: 64",                       // 14
    "    dataflow: weight_stationary",    // 15
    "    rate: {int8: 1, bf16: 0.5}",     // 16
    "  vector:",                          // 17
    "    lanes: 64",                      // 18
    "memory:",                            // 19
    "  type: hbm3",                       // 20
    "  devices: 2",                       // 21
    "  capacity_gib: 32",                 // 22
    "  bandwidth_gb_s: 1638.4",           // 23
    "tdp_w: 150",                         // 24
    "timing:",                            // 25
    "  dma:",                             // 26
    "    setup_cycles: 32",               // 27
    "    port_bytes_per_cycle: 256",      // 28
    "    burst_bytes: 64",                // 29
    "  matrix:",                          // 30
    "    weight_rows_per_cycle: 1",       // 31
    "    pipeline_cycles: 192",           // 32
    "  vector:",                          // 33
    "    latency_cycles: 16",             // 34
    "    simple_cycles: 1",               // 35
    "    transcendental_cycles: 4",       // 36
    "    divide_cycles: 4",               // 37
    "  sram:",                            // 38
    "    bytes_per_cycle_per_bank: 64",   // 39
    "  noc:",                             // 40
    "    topology: ring",                 // 41
    "    link_bytes_per_cycle: 128",      // 42
    "    hop_cycles: 2",                  // 43
    "  memory:",                          // 44
    "    latency_ns: 100",                // 45
    "    efficiency:",                    // 46
    "      sequential: 0.9",              // 47
    "      strided: 0.75",                // 48
    "      random: 0.4",                  // 49
    "    detailed:",                      // 50
    "      channels: 16",                 // 51
    "      pseudo_channels: 2",           // 52
    "      bank_groups: 4",               // 53
    "      banks_per_group: 4",           // 54
    "      row_bytes: 1024",              // 55
    "      burst_bytes: 32",              // 56
    "      tck_ns: 0.3125",               // 57
    "      tRCD: 45",                     // 58
    "      tRP: 45",                      // 59
    "      tRAS: 106",                    // 60
    "      tCL: 45",                      // 61
    "      tWL: 23",                      // 62
    "      tCCD_S: 4",                    // 63
    "      tCCD_L: 8",                    // 64
    "      tRRD_S: 7",                    // 65
    "      tRRD_L: 13",                   // 66
    "      tFAW: 52",                     // 67
    "      tWR: 48",                      // 68
    "      tWTR: 24",                     // 69
    "      tRTW: 28",                     // 70
    "      tREFI: 12480",                 // 71
    "      tRFC: 1120",                   // 72
    "      tBURST: 4",                    // 73
    "  host_call_us: 5",                  // 74
    "energy:",                            // 75
    "  mac_pj: {int8: 0.06, bf16: 0.4}",  // 76
    "  vector_pj_per_element: 2",         // 77
    "  sram_pj_per_byte: 1",              // 78
    "  hbm_pj_per_byte: 32",              // 79
    "  static_w: 20",                     // 80
};

// The 1-based number of the kBase line starting with `prefix` (which must be unique).
int line_of(const std::string& prefix) {
  int found = 0;
  for (std::size_t i = 0; i < kBase.size(); ++i) {
    if (kBase[i].rfind(prefix, 0) == 0) {
      EXPECT_EQ(found, 0) << "ambiguous prefix " << prefix;
      found = static_cast<int>(i) + 1;
    }
  }
  EXPECT_NE(found, 0) << "no line starts with " << prefix;
  return found;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

// kBase with line `n` replaced by `text`.
std::string with_line(int n, const std::string& text) {
  auto lines = kBase;
  lines.at(static_cast<std::size_t>(n - 1)) = text;
  return join(lines);
}

// kBase with several lines replaced: {line, text} pairs.
std::string with_lines(const std::vector<std::pair<int, std::string>>& changes) {
  auto lines = kBase;
  for (const auto& [n, text] : changes) lines.at(static_cast<std::size_t>(n - 1)) = text;
  return join(lines);
}

// kBase without lines `first` to `last` inclusive.
std::string without_lines(int first, int last) {
  auto lines = kBase;
  lines.erase(lines.begin() + (first - 1), lines.begin() + last);
  return join(lines);
}

// kBase without line `n`.
std::string without_line(int n) {
  auto lines = kBase;
  lines.erase(lines.begin() + (n - 1));
  return join(lines);
}

// kBase with `text` inserted before line `n`.
std::string insert_line(int n, const std::string& text) {
  auto lines = kBase;
  lines.insert(lines.begin() + (n - 1), text);
  return join(lines);
}

// The ChipError message load_chip_yaml throws for `text`, or "" (a failure) if none.
std::string error_of(const std::string& text) {
  try {
    (void)load_chip_yaml(text, "my.yaml");
  } catch (const ChipError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ChipError for:\n" << text;
  return "";
}

fs::path source_dir() {
  const char* s = std::getenv("SEEDCHIP_SOURCE_DIR");
  return s ? fs::path(s) : fs::path(SEEDCHIP_TEST_FALLBACK_SOURCE_DIR);
}

// A fresh directory under the test temp dir, removed on destruction.
struct TempDir {
  fs::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = fs::path(::testing::TempDir()) /
           (std::string("seedchip_arch_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

// ---------------------------------------------------------------- built-ins

TEST(Builtins, NamesIncludeBothChips) {
  const auto names = builtin_chip_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "seedchip-v1"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "tpu-v1"), names.end());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(Builtins, AllLoadWithTheirOwnNameAndSource) {
  for (const auto& name : builtin_chip_names()) {
    SCOPED_TRACE(name);
    const Chip c = find_chip(name);
    EXPECT_EQ(c.name, name);  // the file stem is the lookup key: keep them equal
    EXPECT_EQ(c.source, "builtin:" + name);
    EXPECT_FALSE(c.description.empty());
    EXPECT_FALSE(chip_summary_text(c).empty());
  }
}

TEST(Builtins, EmbeddedTextMatchesTheFileInChips) {
  // Guards the build-time embedding: the library must not carry a stale copy.
  for (const auto& name : builtin_chip_names()) {
    SCOPED_TRACE(name);
    const fs::path file = source_dir() / "chips" / (name + ".yaml");
    ASSERT_TRUE(fs::exists(file)) << file;
    Chip from_file = load_chip_file(file.string());
    EXPECT_EQ(from_file.source, file.string());
    from_file.source = "builtin:" + name;
    EXPECT_EQ(from_file, find_chip(name));
  }
}

TEST(TpuV1, MatchesThePaper) {
  const Chip c = find_chip("tpu-v1");
  EXPECT_EQ(c.cores, 1u);
  EXPECT_EQ(c.core.matrix.rows, 256u);
  EXPECT_EQ(c.core.matrix.cols, 256u);
  EXPECT_EQ(c.core.matrix.dataflow, "weight_stationary");
  expect_rel(c.clock_hz, 700e6);
  // 2 * 65536 * 700e6 = 91.7504e12, the paper's "92 TOPS".
  expect_rel(c.peak_ops_per_s(DType::int8), 2.0 * 65536 * 700e6, 1e-6);
  EXPECT_TRUE(c.matrix_supports(DType::int8));
  for (DType t : {DType::fp32, DType::bf16, DType::fp16, DType::fp8e4m3, DType::fp8e5m2}) {
    EXPECT_FALSE(c.matrix_supports(t)) << dtype_name(t);
    EXPECT_EQ(c.peak_ops_per_s(t), 0.0) << dtype_name(t);
    EXPECT_EQ(c.ridge_ops_per_byte(t), 0.0) << dtype_name(t);
  }
  EXPECT_EQ(c.core.sram_bytes, 24u << 20);
  EXPECT_EQ(c.sram_bytes_total(), 24u << 20);
  EXPECT_EQ(c.core.accumulator_bytes, 4u << 20);
  EXPECT_EQ(c.memory.type, "ddr3");
  EXPECT_EQ(c.memory.devices, 2u);
  EXPECT_EQ(c.memory.capacity_bytes, uint64_t{8} << 30);
  expect_rel(c.memory.bandwidth_bytes_per_s, 34e9);
  expect_rel(c.ridge_ops_per_byte(DType::int8), 2.0 * 65536 * 700e6 / 34e9);
  EXPECT_EQ(c.core.vector.lanes, 256u);
  EXPECT_EQ(c.tdp_w, 75.0);
}

TEST(SeedchipV1, Figures) {
  const Chip c = find_chip("seedchip-v1");
  const double fp8 = 2.0 * 256 * 256 * 1e9 * 8;  // 1.048576e15
  EXPECT_EQ(c.cores, 8u);
  expect_rel(c.clock_hz, 1e9);
  expect_rel(c.peak_ops_per_s(DType::fp8e4m3), fp8);
  expect_rel(c.peak_ops_per_s(DType::fp8e5m2), fp8);
  expect_rel(c.peak_ops_per_s(DType::int8), fp8);
  expect_rel(c.peak_ops_per_s(DType::bf16), fp8 / 2);
  expect_rel(c.peak_ops_per_s(DType::fp16), fp8 / 2);
  expect_rel(c.peak_ops_per_s(DType::fp32), fp8 / 8);
  EXPECT_FALSE(c.matrix_supports(DType::int4));
  EXPECT_EQ(c.core.sram_bytes, uint64_t{16} << 20);
  EXPECT_EQ(c.sram_bytes_total(), uint64_t{128} << 20);
  EXPECT_EQ(c.core.sram_banks, 32u);
  EXPECT_EQ(c.core.accumulator_bytes, uint64_t{2} << 20);
  EXPECT_EQ(c.core.instruction_memory_bytes, uint64_t{4} << 20);
  EXPECT_EQ(c.core.semaphores, 32u);
  EXPECT_EQ(c.core.queue_depth, 16u);
  EXPECT_EQ(c.core.vector.lanes, 256u);
  EXPECT_EQ(c.memory.type, "hbm3e");
  EXPECT_EQ(c.memory.devices, 4u);
  EXPECT_EQ(c.memory.capacity_bytes, uint64_t{144} << 30);
  expect_rel(c.memory.bandwidth_bytes_per_s, 4 * 9.8e9 * 1024 / 8);  // 5017.6 GB/s
  expect_rel(c.ridge_ops_per_byte(DType::fp8e4m3), fp8 / 5017.6e9);
  EXPECT_EQ(c.tdp_w, 450.0);
  // DESIGN.md's envelope for the default chip.
  EXPECT_GT(c.peak_ops_per_s(DType::fp8e4m3), 0.8e15);
  EXPECT_LT(c.peak_ops_per_s(DType::fp8e4m3), 1.5e15);
  EXPECT_GE(c.memory.bandwidth_bytes_per_s, 4e12);
  EXPECT_LE(c.memory.bandwidth_bytes_per_s, 5.1e12);
  EXPECT_LE(c.tdp_w, 500.0);
}

TEST(SeedchipV1, TimingAndEnergy) {
  const Chip c = find_chip("seedchip-v1");
  const TimingDesc& t = c.timing;
  EXPECT_EQ(t.dma.setup_cycles, 32u);
  EXPECT_EQ(t.dma.port_bytes_per_cycle, 1024.0);
  EXPECT_EQ(t.dma.burst_bytes, 64u);
  // One direction of DMA across all cores can saturate HBM.
  EXPECT_GE(t.dma.port_bytes_per_cycle * c.clock_hz * c.cores, c.memory.bandwidth_bytes_per_s);
  EXPECT_EQ(t.matrix.weight_rows_per_cycle, 1.0);
  EXPECT_EQ(t.matrix.pipeline_cycles, c.core.matrix.rows + c.core.matrix.cols);
  EXPECT_EQ(t.vector.latency_cycles, 16u);
  EXPECT_EQ(t.vector.simple_cycles, 1.0);
  EXPECT_EQ(t.vector.transcendental_cycles, 4.0);
  EXPECT_EQ(t.vector.divide_cycles, 4.0);
  EXPECT_EQ(t.sram.bytes_per_cycle_per_bank, 64.0);
  EXPECT_EQ(t.noc.topology, "mesh");
  EXPECT_EQ(t.noc.link_bytes_per_cycle, 256.0);
  EXPECT_EQ(t.noc.hop_cycles, 2u);
  EXPECT_EQ(t.host_call_us, 5.0);
  const MemoryTiming& m = t.memory;
  EXPECT_GE(m.latency_ns, 100.0);
  EXPECT_LE(m.latency_ns, 120.0);
  EXPECT_GE(m.efficiency_sequential, m.efficiency_strided);
  EXPECT_GE(m.efficiency_strided, m.efficiency_random);
  const HbmTiming& h = m.detailed;
  EXPECT_EQ(h.channels * h.pseudo_channels * 32u, 1024u);  // 1024 data bits per stack
  EXPECT_EQ(h.row_bytes % h.burst_bytes, 0u);
  EXPECT_GT(h.tREFI, h.tRFC);
  // The command-level model reproduces 4 x 9.8 Gb/s x 1024 pins / 8 = 5017.6 GB/s.
  expect_rel(c.detailed_peak_bytes_per_s(), 5017.6e9, 1e-6);
  expect_rel(h.tREFI * h.tck_ns, 3900, 1e-3);  // 3.9 us
  expect_rel(h.tRCD * h.tck_ns, 14, 0.02);     // ~14 ns
  // Sequential efficiency leaves room for all-bank refresh.
  EXPECT_LE(m.efficiency_sequential, 1.0 - double(h.tRFC) / h.tREFI);
  // mac_pj covers exactly the matrix dtypes.
  ASSERT_EQ(c.energy.mac_pj.size(), c.core.matrix.rate.size());
  for (const auto& [dtype, rate] : c.core.matrix.rate) {
    EXPECT_EQ(c.energy.mac_pj.count(dtype), 1u) << dtype_name(dtype);
  }
  EXPECT_LT(c.energy.mac_pj.at(DType::int8), c.energy.mac_pj.at(DType::fp8e4m3));
  EXPECT_LT(c.energy.mac_pj.at(DType::fp8e4m3), c.energy.mac_pj.at(DType::bf16));
  EXPECT_LT(c.energy.mac_pj.at(DType::bf16), c.energy.mac_pj.at(DType::fp32));
  EXPECT_EQ(c.energy.hbm_pj_per_byte, 32.0);  // 4 pJ/bit
  EXPECT_LT(c.energy.static_w, c.tdp_w);
  // Plausibility: fp8 at peak plus HBM at peak plus static fits in the TDP.
  const double macs_per_s = c.peak_ops_per_s(DType::fp8e4m3) / 2;
  const double busy_w = macs_per_s * c.energy.mac_pj.at(DType::fp8e4m3) * 1e-12 +
                        c.memory.bandwidth_bytes_per_s * c.energy.hbm_pj_per_byte * 1e-12 +
                        c.energy.static_w;
  EXPECT_LT(busy_w, c.tdp_w);
  EXPECT_GT(busy_w, 0.5 * c.tdp_w);
}

TEST(TpuV1, TimingAndEnergy) {
  const Chip c = find_chip("tpu-v1");
  const HbmTiming& h = c.timing.memory.detailed;
  // Two DDR3-2133 channels of 64 bits: 2 x 64 B / (4 x 0.9375 ns) = 34.13 GB/s vs the paper's 34.
  EXPECT_EQ(h.channels, 1u);
  EXPECT_EQ(h.pseudo_channels, 1u);
  EXPECT_EQ(h.burst_bytes, 64u);
  EXPECT_EQ(h.tBURST, 4u);
  expect_rel(c.detailed_peak_bytes_per_s(), 2 * 64 / (4 * 0.9375e-9), 1e-9);
  EXPECT_LT(std::abs(c.detailed_peak_bytes_per_s() / c.memory.bandwidth_bytes_per_s - 1), 0.005);
  expect_rel(h.tREFI * h.tck_ns, 7800, 1e-3);             // 7.8 us
  EXPECT_EQ(c.timing.matrix.weight_rows_per_cycle, 1.0);  // 256 cycles per 256-row tile (paper)
  ASSERT_EQ(c.energy.mac_pj.size(), 1u);
  EXPECT_GT(c.energy.mac_pj.at(DType::int8), 0.0);
  // Idle 28 W plus MACs and DRAM at peak stays near the paper's 40 W busy.
  const double busy_w =
      c.peak_ops_per_s(DType::int8) / 2 * c.energy.mac_pj.at(DType::int8) * 1e-12 +
      c.memory.bandwidth_bytes_per_s * c.energy.hbm_pj_per_byte * 1e-12 + c.energy.static_w;
  EXPECT_GT(busy_w, 35.0);
  EXPECT_LT(busy_w, 50.0);
  EXPECT_LT(c.energy.static_w, c.tdp_w);
}

// ---------------------------------------------------------------- summaries

TEST(Summary, JsonHasTheRequiredKeys) {
  const Chip c = find_chip("seedchip-v1");
  const nlohmann::json j = chip_summary_json(c);
  for (const char* key :
       {"name", "description", "source", "clock_hz", "cores", "peak_ops_per_s", "hbm_bytes_per_s",
        "hbm_capacity_bytes", "memory_type", "sram_bytes_per_core", "sram_bytes_total",
        "accumulator_bytes_per_core", "ridge_ops_per_byte", "tdp_w", "isa_fingerprint"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["name"], "seedchip-v1");
  EXPECT_EQ(j["source"], "builtin:seedchip-v1");
  EXPECT_EQ(j["cores"], 8);
  EXPECT_EQ(j["memory_type"], "hbm3e");
  EXPECT_EQ(j["hbm_capacity_bytes"].get<uint64_t>(), uint64_t{144} << 30);
  EXPECT_EQ(j["sram_bytes_total"].get<uint64_t>(), uint64_t{128} << 20);
  EXPECT_EQ(j["accumulator_bytes_per_core"].get<uint64_t>(), uint64_t{2} << 20);
  for (const char* t : {"int8", "fp8", "bf16", "fp16", "fp32"}) {
    EXPECT_TRUE(j["peak_ops_per_s"].contains(t)) << t;
    EXPECT_TRUE(j["ridge_ops_per_byte"].contains(t)) << t;
  }
  expect_rel(j["peak_ops_per_s"]["fp8"].get<double>(), c.peak_ops_per_s(DType::fp8e4m3));
  expect_rel(j["peak_ops_per_s"]["fp32"].get<double>(), c.peak_ops_per_s(DType::fp32));
  expect_rel(j["ridge_ops_per_byte"]["bf16"].get<double>(), c.ridge_ops_per_byte(DType::bf16));
  const std::string fp = j["isa_fingerprint"];
  EXPECT_EQ(fp.size(), 16u);
  EXPECT_EQ(std::stoull(fp, nullptr, 16), c.isa_fingerprint());
}

TEST(Summary, JsonListsOnlySupportedDtypes) {
  const nlohmann::json j = chip_summary_json(find_chip("tpu-v1"));
  EXPECT_EQ(j["peak_ops_per_s"].size(), 1u);
  expect_rel(j["peak_ops_per_s"]["int8"].get<double>(), 91.7504e12);
  EXPECT_EQ(j["ridge_ops_per_byte"].size(), 1u);
}

TEST(Summary, TextUsesSiUnits) {
  const std::string tpu = chip_summary_text(find_chip("tpu-v1"));
  EXPECT_NE(tpu.find("91.75 TOP/s"), std::string::npos) << tpu;
  EXPECT_NE(tpu.find("34.0 GB/s"), std::string::npos) << tpu;
  EXPECT_NE(tpu.find("24.0 MiB"), std::string::npos) << tpu;
  EXPECT_NE(tpu.find("8.0 GiB"), std::string::npos) << tpu;
  EXPECT_NE(tpu.find("700.0 MHz"), std::string::npos) << tpu;
  EXPECT_EQ(tpu.find("fp32"), std::string::npos) << tpu;  // unsupported: not listed
  const std::string v1 = chip_summary_text(find_chip("seedchip-v1"));
  EXPECT_NE(v1.find("1.05 PFLOP/s"), std::string::npos) << v1;
  EXPECT_NE(v1.find("5.02 TB/s"), std::string::npos) << v1;
  EXPECT_NE(v1.find("128.0 MiB"), std::string::npos) << v1;
  EXPECT_NE(v1.find("144.0 GiB"), std::string::npos) << v1;
}

// ---------------------------------------------------------------- fingerprint

TEST(Fingerprint, StableAcrossLoads) {
  EXPECT_EQ(find_chip("seedchip-v1").isa_fingerprint(), find_chip("seedchip-v1").isa_fingerprint());
  EXPECT_NE(find_chip("seedchip-v1").isa_fingerprint(), find_chip("tpu-v1").isa_fingerprint());
  const Chip base = load_chip_yaml(join(kBase), "a.yaml");
  EXPECT_EQ(base.isa_fingerprint(), load_chip_yaml(join(kBase), "b.yaml").isa_fingerprint());
}

TEST(Fingerprint, GoldenValueOfTheCanonicalByteOrder) {
  // Changing this value invalidates every compiled program: bump the tag in
  // Chip::isa_fingerprint instead of silently changing the byte order.
  const Chip base = load_chip_yaml(join(kBase), "a.yaml");
  // Computed independently (Python: FNV-1a 64 over the tag and nine LE words).
  EXPECT_EQ(base.isa_fingerprint(), 0x6e1f38a7c76fb6b0ULL);
}

TEST(Fingerprint, ChangesWithProgramRelevantParameters) {
  const uint64_t base = load_chip_yaml(join(kBase), "a.yaml").isa_fingerprint();
  const std::vector<std::pair<int, std::string>> changes = {
      {13, "    rows: 256"},
      {14, "    cols: 128"},
      {4, "cores: 4"},
      {16, "    rate: {int8: 1}"},  // bf16 no longer supported
      {6, "  sram_kib: 2048"},
      {8, "  accumulator_kib: 512"},
      {9, "  semaphores: 32"},
      {22, "  capacity_gib: 64"},
      {11, "  instruction_memory_kib: 128"},
  };
  for (const auto& [line, text] : changes) {
    // mac_pj must list exactly the matrix dtypes: drop bf16 there too when the rate map does.
    const std::string yaml = text == "    rate: {int8: 1}"
                                 ? with_lines({{line, text}, {76, "  mac_pj: {int8: 0.06}"}})
                                 : with_line(line, text);
    EXPECT_NE(load_chip_yaml(yaml, "a.yaml").isa_fingerprint(), base) << text;
  }
}

TEST(Fingerprint, IgnoresTimingAndPowerParameters) {
  const uint64_t base = load_chip_yaml(join(kBase), "a.yaml").isa_fingerprint();
  const std::vector<std::pair<int, std::string>> changes = {
      {3, "clock_mhz: 1500"},
      {24, "tdp_w: 300"},
      {16, "    rate: {int8: 0.5, bf16: 0.25}"},  // same dtypes, other rates
      {1, "name: other-chip"},
      {7, "  sram_banks: 16"},
      {10, "  queue_depth: 4"},
      {18, "    lanes: 128"},
  };
  for (const auto& [line, text] : changes) {
    EXPECT_EQ(load_chip_yaml(with_line(line, text), "a.yaml").isa_fingerprint(), base) << text;
  }
  // Half the bandwidth, with the detailed memory model's clock halved to match.
  EXPECT_EQ(
      load_chip_yaml(with_lines({{23, "  bandwidth_gb_s: 819.2"}, {57, "      tck_ns: 0.625"}}),
                     "a.yaml")
          .isa_fingerprint(),
      base);
}

TEST(Fingerprint, IgnoresTimingAndEnergySections) {
  const Chip base = load_chip_yaml(join(kBase), "a.yaml");
  const std::vector<std::pair<int, std::string>> changes = {
      {27, "    setup_cycles: 100"},
      {28, "    port_bytes_per_cycle: 512"},
      {29, "    burst_bytes: 128"},
      {31, "    weight_rows_per_cycle: 2"},
      {32, "    pipeline_cycles: 0"},
      {34, "    latency_cycles: 8"},
      {36, "    transcendental_cycles: 8"},
      {39, "    bytes_per_cycle_per_bank: 32"},
      {41, "    topology: mesh"},
      {42, "    link_bytes_per_cycle: 64"},
      {43, "    hop_cycles: 5"},
      {45, "    latency_ns: 250"},
      {47, "      sequential: 0.8"},
      {49, "      random: 0.2"},
      {54, "      banks_per_group: 8"},
      {55, "      row_bytes: 2048"},
      {57, "      tck_ns: 0.315"},  // within the 2% tolerance
      {58, "      tRCD: 50"},
      {71, "      tREFI: 20000"},
      {72, "      tRFC: 2000"},
      {74, "  host_call_us: 50"},
      {76, "  mac_pj: {int8: 1, bf16: 2}"},
      {77, "  vector_pj_per_element: 9"},
      {80, "  static_w: 100"},
  };
  for (const auto& [line, text] : changes) {
    const Chip c = load_chip_yaml(with_line(line, text), "a.yaml");
    EXPECT_NE(c, base) << text;                                      // the change took effect...
    EXPECT_EQ(c.isa_fingerprint(), base.isa_fingerprint()) << text;  // ...but not on programs
  }
}

// ---------------------------------------------------------------- valid input

TEST(Load, BaseChip) {
  const Chip c = load_chip_yaml(join(kBase), "a.yaml");
  EXPECT_EQ(c.name, "test-chip");
  EXPECT_EQ(c.description, "a test chip");
  EXPECT_EQ(c.source, "a.yaml");
  EXPECT_EQ(c.core.matrix.rate.size(), 2u);
  EXPECT_EQ(c.core.matrix.rate.at(DType::bf16), 0.5);
  expect_rel(c.peak_ops_per_s(DType::int8), 2.0 * 128 * 64 * 1e9 * 2);
  EXPECT_EQ(c.memory.capacity_bytes, uint64_t{32} << 30);
}

TEST(Load, DescriptionIsOptional) {
  EXPECT_EQ(load_chip_yaml(without_line(2), "a.yaml").description, "");
}

TEST(Load, NumberForms) {
  EXPECT_EQ(load_chip_yaml(with_line(3, "clock_mhz: 1.5e3"), "a.yaml").clock_hz, 1.5e9);
  EXPECT_EQ(load_chip_yaml(with_line(3, "clock_mhz: +940.5"), "a.yaml").clock_hz, 940.5e6);
  EXPECT_EQ(load_chip_yaml(with_line(22, "  capacity_gib: 0.5"), "a.yaml").memory.capacity_bytes,
            uint64_t{512} << 20);
  expect_rel(
      static_cast<double>(
          load_chip_yaml(with_line(22, "  capacity_gib: 141"), "a.yaml").memory.capacity_bytes),
      141 * kGiB);
}

// ---------------------------------------------------------------- bad input

TEST(Errors, IntegerFields) {
  EXPECT_EQ(error_of(with_line(13, "    rows: 0")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '0'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 1.5")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '1.5'");
  EXPECT_EQ(error_of(with_line(13, "    rows: -3")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '-3'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 1e30")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '1e30'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 256.0")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '256.0'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 0x100")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '0x100'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 070")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '070'");
  EXPECT_EQ(error_of(with_line(13, "    rows: 70000")),
            "my.yaml:13:5: core.matrix.rows: must be at most 65536, got '70000'");
  EXPECT_EQ(error_of(with_line(4, "cores: 0")),
            "my.yaml:4:1: cores: must be a positive integer, got '0'");
  EXPECT_EQ(error_of(with_line(21, "  devices: 2000")),
            "my.yaml:21:3: memory.devices: must be at most 1024, got '2000'");
}

TEST(Errors, SizesCannotOverflow) {
  EXPECT_EQ(
      error_of(with_line(6, "  sram_kib: 99999999999999999999999")),
      "my.yaml:6:3: core.sram_kib: must be at most 1073741824, got '99999999999999999999999'");
  EXPECT_EQ(error_of(with_line(6, "  sram_kib: 18014398509481984")),  // 2^54 KiB = 2^64 bytes
            "my.yaml:6:3: core.sram_kib: must be at most 1073741824, got '18014398509481984'");
  EXPECT_EQ(error_of(with_line(22, "  capacity_gib: 1e30")),
            "my.yaml:22:3: memory.capacity_gib: must be a number in (0, 16777216], got '1e30'");
  EXPECT_EQ(error_of(with_line(22, "  capacity_gib: 1e-12")),
            "my.yaml:22:3: memory.capacity_gib: must be at least one byte, got '1e-12'");
  // The largest accepted sizes do not overflow the totals.
  const Chip big = load_chip_yaml(with_line(6, "  sram_kib: 1073741824"), "a.yaml");
  EXPECT_EQ(big.sram_bytes_total(), (uint64_t{1} << 40) * 2);
}

TEST(Errors, WrongTypes) {
  EXPECT_EQ(error_of(with_line(13, "    rows: abc")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got 'abc'");
  EXPECT_EQ(
      error_of(with_line(13, "    rows: \"256\"")),
      "my.yaml:13:5: core.matrix.rows: must be a positive integer, got the quoted string '256'");
  EXPECT_EQ(error_of(with_line(13, "    rows: !!str 256")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got '256' tagged "
            "tag:yaml.org,2002:str");
  EXPECT_EQ(error_of(with_line(13, "    rows: [256]")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got a list");
  EXPECT_EQ(error_of(with_line(13, "    rows: {a: 1}")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got a map");
  EXPECT_EQ(error_of(with_line(13, "    rows:")),
            "my.yaml:13:5: core.matrix.rows: must be a positive integer, got nothing");
  EXPECT_EQ(error_of(with_line(3, "clock_mhz: fast")),
            "my.yaml:3:1: clock_mhz: must be a number in (0, 100000], got 'fast'");
  EXPECT_EQ(
      error_of(with_line(3, "clock_mhz: '1000'")),
      "my.yaml:3:1: clock_mhz: must be a number in (0, 100000], got the quoted string '1000'");
  EXPECT_EQ(error_of(with_line(3, "clock_mhz: .inf")),
            "my.yaml:3:1: clock_mhz: must be a number in (0, 100000], got '.inf'");
  EXPECT_EQ(error_of(with_line(1, "name: [a, b]")),
            "my.yaml:1:1: name: must be a string, got a list");
  EXPECT_EQ(error_of(with_line(1, "name:")), "my.yaml:1:1: name: must be a string, got nothing");
  // A list where a map is expected.
  auto lines = kBase;
  lines[16] = "  vector: [64]";
  lines.erase(lines.begin() + 17);
  EXPECT_EQ(error_of(join(lines)), "my.yaml:17:3: core.vector: must be a map, got a list");
  EXPECT_EQ(error_of(with_line(16, "    rate: [int8]")),
            "my.yaml:16:5: core.matrix.rate: must be a map, got a list");
}

TEST(Errors, OutOfRangeNumbers) {
  EXPECT_EQ(error_of(with_line(3, "clock_mhz: 0")),
            "my.yaml:3:1: clock_mhz: must be a number in (0, 100000], got '0'");
  EXPECT_EQ(error_of(with_line(3, "clock_mhz: -700")),
            "my.yaml:3:1: clock_mhz: must be a number in (0, 100000], got '-700'");
  EXPECT_EQ(error_of(with_line(24, "tdp_w: 0")),
            "my.yaml:24:1: tdp_w: must be a number in (0, 1000000], got '0'");
  EXPECT_EQ(error_of(with_line(23, "  bandwidth_gb_s: -1")),
            "my.yaml:23:3: memory.bandwidth_gb_s: must be a number in (0, 1000000000], got '-1'");
  EXPECT_EQ(error_of(with_line(7, "  sram_banks: 7")),
            "my.yaml:7:3: core.sram_banks: must divide sram_kib * 1024 = 1048576 bytes, got '7'");
}

TEST(Errors, Rates) {
  // "    rate: {int8: 1, " is 20 characters: the second key starts at column 21.
  EXPECT_EQ(error_of(with_line(16, "    rate: {int8: 1, bf16: 0}")),
            "my.yaml:16:21: core.matrix.rate.bf16: must be a number in (0, 1], got '0'");
  EXPECT_EQ(error_of(with_line(16, "    rate: {int8: 1, bf16: -0.5}")),
            "my.yaml:16:21: core.matrix.rate.bf16: must be a number in (0, 1], got '-0.5'");
  EXPECT_EQ(error_of(with_line(16, "    rate: {int8: 1, bf16: 2}")),
            "my.yaml:16:21: core.matrix.rate.bf16: must be a number in (0, 1], got '2'");
  EXPECT_EQ(
      error_of(with_line(16, "    rate: {int8: 1, fp9: 1}")),
      "my.yaml:16:21: core.matrix.rate.fp9: unknown dtype (expected one of: fp32, bf16, fp16, "
      "fp8e4m3, fp8e5m2, int8, uint8, int32, int4)");
  // The "fp8" alias parse_dtype accepts is ambiguous in a chip file.
  EXPECT_NE(
      error_of(with_line(16, "    rate: {fp8: 1}")).find("core.matrix.rate.fp8: unknown dtype"),
      std::string::npos);
  EXPECT_EQ(error_of(with_line(16, "    rate: {}")),
            "my.yaml:16:5: core.matrix.rate: must list at least one dtype, e.g. {int8: 1}");
}

TEST(Errors, EnumeratedStrings) {
  EXPECT_EQ(
      error_of(with_line(15, "    dataflow: output_stationary")),
      "my.yaml:15:5: core.matrix.dataflow: unsupported dataflow 'output_stationary' (supported: "
      "weight_stationary)");
  EXPECT_EQ(error_of(with_line(20, "  type: hbm4")),
            "my.yaml:20:3: memory.type: unknown memory type 'hbm4' (expected one of: hbm3e, hbm3, "
            "hbm2e, ddr3, ddr4, lpddr5x, gddr7)");
  EXPECT_EQ(error_of(with_line(1, "name: my chip")),
            "my.yaml:1:1: name: must be 1-64 letters, digits, '.', '_' or '-' (not leading '.' or "
            "'-'), got 'my chip'");
}

TEST(Errors, UnknownKeys) {
  EXPECT_EQ(
      error_of(with_line(13, "    rowz: 128")),
      "my.yaml:13:5: core.matrix.rowz: unknown key (expected one of: rows, cols, dataflow, rate)");
  EXPECT_EQ(
      error_of(insert_line(25, "fan_rpm: 3000")),
      "my.yaml:25:1: fan_rpm: unknown key (expected one of: name, description, clock_mhz, cores, "
      "core, memory, tdp_w, timing, energy, interconnect, process)");
  EXPECT_EQ(error_of(insert_line(19, "    width: 4")),
            "my.yaml:19:5: core.vector.width: unknown key (expected one of: lanes)");
}

TEST(Errors, MissingKeys) {
  EXPECT_EQ(error_of(without_line(24)), "my.yaml:1:1: tdp_w: required key is missing");
  EXPECT_EQ(error_of(without_line(13)), "my.yaml:12:3: core.matrix.rows: required key is missing");
  EXPECT_EQ(error_of(without_line(20)), "my.yaml:19:1: memory.type: required key is missing");
}

TEST(Errors, DuplicateKeys) {
  EXPECT_EQ(error_of(insert_line(5, "cores: 3")),
            "my.yaml:5:1: cores: duplicate key (first defined at line 4)");
  EXPECT_EQ(error_of(with_line(16, "    rate: {int8: 1, int8: 0.5}")),
            "my.yaml:16:21: core.matrix.rate.int8: duplicate key (first defined at line 16)");
}

TEST(Load, TimingAndEnergy) {
  const Chip c = load_chip_yaml(join(kBase), "a.yaml");
  EXPECT_EQ(c.timing.dma.setup_cycles, 32u);
  EXPECT_EQ(c.timing.dma.port_bytes_per_cycle, 256.0);
  EXPECT_EQ(c.timing.dma.burst_bytes, 64u);
  EXPECT_EQ(c.timing.matrix.weight_rows_per_cycle, 1.0);
  EXPECT_EQ(c.timing.matrix.pipeline_cycles, 192u);
  EXPECT_EQ(c.timing.vector.latency_cycles, 16u);
  EXPECT_EQ(c.timing.vector.simple_cycles, 1.0);
  EXPECT_EQ(c.timing.vector.transcendental_cycles, 4.0);
  EXPECT_EQ(c.timing.vector.divide_cycles, 4.0);
  EXPECT_EQ(c.timing.sram.bytes_per_cycle_per_bank, 64.0);
  EXPECT_EQ(c.timing.noc.topology, "ring");
  EXPECT_EQ(c.timing.noc.link_bytes_per_cycle, 128.0);
  EXPECT_EQ(c.timing.noc.hop_cycles, 2u);
  EXPECT_EQ(c.timing.memory.latency_ns, 100.0);
  EXPECT_EQ(c.timing.memory.efficiency_sequential, 0.9);
  EXPECT_EQ(c.timing.memory.efficiency_strided, 0.75);
  EXPECT_EQ(c.timing.memory.efficiency_random, 0.4);
  const HbmTiming& h = c.timing.memory.detailed;
  EXPECT_EQ(h.channels, 16u);
  EXPECT_EQ(h.pseudo_channels, 2u);
  EXPECT_EQ(h.bank_groups, 4u);
  EXPECT_EQ(h.banks_per_group, 4u);
  EXPECT_EQ(h.row_bytes, 1024u);
  EXPECT_EQ(h.burst_bytes, 32u);
  EXPECT_EQ(h.tck_ns, 0.3125);
  // Every JEDEC parameter lands in its own field (distinct values catch a swapped read).
  const std::vector<uint32_t> got = {h.tRCD,   h.tRP,    h.tRAS,   h.tCL,   h.tWL, h.tCCD_S,
                                     h.tCCD_L, h.tRRD_S, h.tRRD_L, h.tFAW,  h.tWR, h.tWTR,
                                     h.tRTW,   h.tREFI,  h.tRFC,   h.tBURST};
  const std::vector<uint32_t> want = {45, 45, 106, 45, 23, 4,     8,    7,
                                      13, 52, 48,  24, 28, 12480, 1120, 4};
  EXPECT_EQ(got, want);
  EXPECT_EQ(c.timing.host_call_us, 5.0);
  EXPECT_EQ(c.energy.mac_pj, (std::map<DType, double>{{DType::int8, 0.06}, {DType::bf16, 0.4}}));
  EXPECT_EQ(c.energy.vector_pj_per_element, 2.0);
  EXPECT_EQ(c.energy.sram_pj_per_byte, 1.0);
  EXPECT_EQ(c.energy.hbm_pj_per_byte, 32.0);
  EXPECT_EQ(c.energy.static_w, 20.0);
  // 2 stacks x 16 x 2 x 32 B / (4 x 0.3125 ns) = 1638.4 GB/s.
  expect_rel(c.detailed_peak_bytes_per_s(), 1638.4e9);
}

TEST(Errors, ImpossibleRatesAndBandwidths) {
  EXPECT_EQ(error_of(with_line(28, "    port_bytes_per_cycle: 0")),
            "my.yaml:28:5: timing.dma.port_bytes_per_cycle: must be a number in [0.001, 1000000], "
            "got '0'");
  EXPECT_EQ(error_of(with_line(28, "    port_bytes_per_cycle: -64")),
            "my.yaml:28:5: timing.dma.port_bytes_per_cycle: must be a number in [0.001, 1000000], "
            "got '-64'");
  EXPECT_EQ(error_of(with_line(39, "    bytes_per_cycle_per_bank: 0")),
            "my.yaml:39:5: timing.sram.bytes_per_cycle_per_bank: must be a number in [0.001, "
            "1000000], got '0'");
  EXPECT_EQ(error_of(with_line(42, "    link_bytes_per_cycle: 0")),
            "my.yaml:42:5: timing.noc.link_bytes_per_cycle: must be a number in [0.001, 1000000], "
            "got '0'");
  EXPECT_EQ(error_of(with_line(42, "    link_bytes_per_cycle: -1.5")),
            "my.yaml:42:5: timing.noc.link_bytes_per_cycle: must be a number in [0.001, 1000000], "
            "got '-1.5'");
  EXPECT_EQ(error_of(with_line(31, "    weight_rows_per_cycle: 0")),
            "my.yaml:31:5: timing.matrix.weight_rows_per_cycle: must be a number in [0.001, 65536], "
            "got '0'");
  EXPECT_EQ(error_of(with_line(31, "    weight_rows_per_cycle: -1")),
            "my.yaml:31:5: timing.matrix.weight_rows_per_cycle: must be a number in [0.001, 65536], "
            "got '-1'");
  EXPECT_EQ(error_of(with_line(35, "    simple_cycles: 0")),
            "my.yaml:35:5: timing.vector.simple_cycles: must be a number in (0, 1000000], got '0'");
  EXPECT_EQ(error_of(with_line(29, "    burst_bytes: 0")),
            "my.yaml:29:5: timing.dma.burst_bytes: must be a positive integer, got '0'");
  // Zero latencies are an idealised part, not an impossible one.
  EXPECT_EQ(load_chip_yaml(with_line(27, "    setup_cycles: 0"), "a.yaml").timing.dma.setup_cycles,
            0u);
}

TEST(Errors, Efficiencies) {
  EXPECT_EQ(error_of(with_line(47, "      sequential: 0")),
            "my.yaml:47:7: timing.memory.efficiency.sequential: must be a number in [0.01, 1], got "
            "'0'");
  EXPECT_EQ(
      error_of(with_line(48, "      strided: 1.2")),
      "my.yaml:48:7: timing.memory.efficiency.strided: must be a number in [0.01, 1], got '1.2'");
  EXPECT_EQ(
      error_of(with_line(49, "      random: -0.1")),
      "my.yaml:49:7: timing.memory.efficiency.random: must be a number in [0.01, 1], got '-0.1'");
  // tiny but positive: the times would overflow the 64-bit cycle counts and come out short
  EXPECT_EQ(error_of(with_line(47, "      sequential: 1e-25")),
            "my.yaml:47:7: timing.memory.efficiency.sequential: must be a number in [0.01, 1], got '1e-25'");
  EXPECT_EQ(load_chip_yaml(with_line(47, "      sequential: 1"), "a.yaml")
                .timing.memory.efficiency_sequential,
            1.0);
}

TEST(Errors, DetailedMemoryModel) {
  EXPECT_EQ(error_of(with_line(57, "      tck_ns: 0")),
            "my.yaml:57:7: timing.memory.detailed.tck_ns: must be a number in (0, 1000], got '0'");
  EXPECT_EQ(error_of(with_line(57, "      tck_ns: -0.3125")),
            "my.yaml:57:7: timing.memory.detailed.tck_ns: must be a number in (0, 1000], got "
            "'-0.3125'");
  EXPECT_EQ(error_of(with_line(56, "      burst_bytes: 48")),
            "my.yaml:56:7: timing.memory.detailed.burst_bytes: must divide row_bytes = 1024, got "
            "'48'");
  EXPECT_EQ(error_of(with_line(55, "      row_bytes: 1000")),
            "my.yaml:56:7: timing.memory.detailed.burst_bytes: must divide row_bytes = 1000, got "
            "'32'");
  for (const char* key : {"channels", "pseudo_channels", "bank_groups", "banks_per_group"}) {
    const int n = line_of(std::string("      ") + key + ":");
    EXPECT_EQ(error_of(with_line(n, std::string("      ") + key + ": 0")),
              "my.yaml:" + std::to_string(n) + ":7: timing.memory.detailed." + key +
                  ": must be a positive integer, got '0'");
  }
  EXPECT_EQ(error_of(with_line(58, "      tRCD: 0")),
            "my.yaml:58:7: timing.memory.detailed.tRCD: must be a positive integer, got '0'");
  EXPECT_EQ(error_of(with_line(58, "      tRCD: 13.5")),
            "my.yaml:58:7: timing.memory.detailed.tRCD: must be a positive integer, got '13.5'");
  EXPECT_EQ(error_of(with_line(71, "      tREFI: 1120")),
            "my.yaml:71:7: timing.memory.detailed.tREFI: must exceed tRFC = 1120 (the device would "
            "never leave refresh), got '1120'");
  EXPECT_EQ(error_of(with_line(72, "      tRFC: 20000")),
            "my.yaml:71:7: timing.memory.detailed.tREFI: must exceed tRFC = 20000 (the device "
            "would never leave refresh), got '12480'");
}

TEST(Errors, DetailedPeakMustMatchBandwidth) {
  // 2 x 16 x 2 x 32 B / (4 x 0.5 ns) = 1024 GB/s, 37.5% short of 1638.4 GB/s.
  EXPECT_EQ(error_of(with_line(57, "      tck_ns: 0.5")),
            "my.yaml:50:5: timing.memory.detailed: peak bandwidth 2 devices x 16 channels x 2 "
            "pseudo-channels x 32 B / (4 x 0.5 ns) = 1024.0 GB/s is -37.5% off "
            "memory.bandwidth_gb_s = 1638.4 GB/s (at most 2% allowed)");
  // A bandwidth change alone is caught as well.
  EXPECT_EQ(error_of(with_line(23, "  bandwidth_gb_s: 800")),
            "my.yaml:50:5: timing.memory.detailed: peak bandwidth 2 devices x 16 channels x 2 "
            "pseudo-channels x 32 B / (4 x 0.3125 ns) = 1638.4 GB/s is +104.8% off "
            "memory.bandwidth_gb_s = 800.0 GB/s (at most 2% allowed)");
  EXPECT_NE(error_of(with_line(73, "      tBURST: 8")).find("= 819.2 GB/s is -50.0% off"),
            std::string::npos);
  EXPECT_NE(error_of(with_line(52, "      pseudo_channels: 1")).find("-50.0% off"),
            std::string::npos);
  // Within 2% passes: 0.318 ns gives 1610.06 GB/s (-1.7%); 0.32 ns gives -2.3%.
  EXPECT_NO_THROW((void)load_chip_yaml(with_line(57, "      tck_ns: 0.318"), "a.yaml"));
  EXPECT_NO_THROW((void)load_chip_yaml(with_line(57, "      tck_ns: 0.307"), "a.yaml"));
  EXPECT_NE(error_of(with_line(57, "      tck_ns: 0.32")).find("-2.3% off"), std::string::npos);
  EXPECT_NE(error_of(with_line(57, "      tck_ns: 0.305")).find("+2.5% off"), std::string::npos);
}

TEST(Errors, TimingAndEnergyKeys) {
  EXPECT_EQ(error_of(without_lines(25, 74)), "my.yaml:1:1: timing: required key is missing");
  EXPECT_EQ(error_of(without_lines(75, 80)), "my.yaml:1:1: energy: required key is missing");
  EXPECT_EQ(error_of(without_line(72)),
            "my.yaml:50:5: timing.memory.detailed.tRFC: required key is missing");
  EXPECT_EQ(error_of(without_line(74)),
            "my.yaml:25:1: timing.host_call_us: required key is missing");
  EXPECT_EQ(error_of(without_line(49)),
            "my.yaml:46:5: timing.memory.efficiency.random: required key is missing");
  EXPECT_EQ(error_of(insert_line(30, "    queues: 2")),
            "my.yaml:30:5: timing.dma.queues: unknown key (expected one of: setup_cycles, "
            "port_bytes_per_cycle, burst_bytes)");
  EXPECT_EQ(error_of(with_line(58, "      trcd: 45")),
            "my.yaml:58:7: timing.memory.detailed.trcd: unknown key (expected one of: channels, "
            "pseudo_channels, bank_groups, banks_per_group, row_bytes, burst_bytes, tck_ns, tRCD, "
            "tRP, tRAS, tCL, tWL, tCCD_S, tCCD_L, tRRD_S, tRRD_L, tFAW, tWR, tWTR, tRTW, tREFI, "
            "tRFC, tBURST)");
  EXPECT_EQ(error_of(with_line(41, "    topology: torus")),
            "my.yaml:41:5: timing.noc.topology: unknown topology 'torus' (expected one of: mesh, "
            "ring)");
  EXPECT_EQ(error_of(with_line(41, "    topology: [mesh]")),
            "my.yaml:41:5: timing.noc.topology: must be a string, got a list");
  EXPECT_EQ(error_of(with_line(45, "    latency_ns: -5")),
            "my.yaml:45:5: timing.memory.latency_ns: must be a number in [0, 1000000000], got "
            "'-5'");
  auto lines = kBase;
  lines[45] = "    efficiency: 0.9";                    // line 46
  lines.erase(lines.begin() + 46, lines.begin() + 49);  // its entries, lines 47-49
  EXPECT_EQ(error_of(join(lines)),
            "my.yaml:46:5: timing.memory.efficiency: must be a map, got '0.9'");
}

TEST(Errors, Energy) {
  // mac_pj must cover exactly core.matrix.rate's dtypes {int8, bf16}.
  EXPECT_EQ(error_of(with_line(76, "  mac_pj: {int8: 0.06}")),
            "my.yaml:76:3: energy.mac_pj: missing bf16 (mac_pj must cover exactly "
            "core.matrix.rate: bf16, int8)");
  const std::string extra = "  mac_pj: {int8: 0.06, bf16: 0.4, fp32: 1}";
  EXPECT_EQ(error_of(with_line(76, extra)),
            "my.yaml:76:" + std::to_string(extra.find("fp32") + 1) +
                ": energy.mac_pj.fp32: not a matrix dtype (mac_pj must cover exactly "
                "core.matrix.rate: bf16, int8)");
  const std::string unknown = "  mac_pj: {int8: 0.06, bf16: 0.4, fp9: 1}";
  EXPECT_EQ(error_of(with_line(76, unknown)),
            "my.yaml:76:" + std::to_string(unknown.find("fp9") + 1) +
                ": energy.mac_pj.fp9: unknown dtype (expected one of: fp32, bf16, fp16, fp8e4m3, "
                "fp8e5m2, int8, uint8, int32, int4)");
  EXPECT_EQ(error_of(with_line(76, "  mac_pj: {int8: -0.06, bf16: 0.4}")),
            "my.yaml:76:12: energy.mac_pj.int8: must be a number in [0, 1000000000], got '-0.06'");
  EXPECT_EQ(error_of(with_line(79, "  hbm_pj_per_byte: fast")),
            "my.yaml:79:3: energy.hbm_pj_per_byte: must be a number in [0, 1000000000], got "
            "'fast'");
  EXPECT_EQ(error_of(with_line(80, "  static_w: 200")),
            "my.yaml:80:3: energy.static_w: must not exceed tdp_w = 150 W, got '200'");
  EXPECT_EQ(load_chip_yaml(with_line(80, "  static_w: 0"), "a.yaml").energy.static_w, 0.0);
}

TEST(Errors, MalformedYaml) {
  // yaml-cpp's own wording, prefixed with its position as FILE:LINE:COLUMN.
  const std::regex form(R"(my\.yaml:[0-9]+:[0-9]+: malformed YAML: [^\n]+)");
  for (const std::string& text :
       {with_line(16, "    rate: {int8: 1, bf16: 0.5"), with_line(13, "\trows: 128"),
        with_line(3, "clock_mhz: 1: 2"), std::string("name: [x\n")}) {
    const std::string e = error_of(text);
    EXPECT_TRUE(std::regex_match(e, form)) << e;
  }
  EXPECT_EQ(error_of(with_line(3, "clock_mhz: 1: 2")),
            "my.yaml:3:13: malformed YAML: illegal map value");
}

TEST(Errors, EmptyAndNonMapDocuments) {
  EXPECT_EQ(error_of(""), "my.yaml: empty file (expected a chip description map)");
  EXPECT_EQ(error_of("# only a comment\n"),
            "my.yaml: empty file (expected a chip description map)");
  EXPECT_EQ(error_of("---\n"), "my.yaml: empty file (expected a chip description map)");
  EXPECT_EQ(error_of("- 1\n- 2\n"), "my.yaml:1:1: must be a map, got a list");
  EXPECT_EQ(error_of("just a string\n"), "my.yaml:1:1: must be a map, got 'just a string'");
  EXPECT_EQ(error_of(join(kBase) + "---\nname: second\n"),
            "my.yaml:81:1: more than one YAML document (one chip per file)");
  EXPECT_NO_THROW(arch::load_chip_yaml("---\n# a chip\n" + join(kBase), "my.yaml"));
  // yaml-cpp's LoadAll never returns on this one (found by fuzz_chip_yaml)
  EXPECT_EQ(error_of(","), "my.yaml: empty file (expected a chip description map)");
}

TEST(Errors, MessagesAreOneLine) {
  EXPECT_EQ(error_of(with_line(1, "name: |\n  two\n  lines")).find('\n'), std::string::npos);
}

// ---------------------------------------------------------------- files and lookup

TEST(Files, LoadAndFindByPath) {
  TempDir dir;
  const std::string path = dir.write("mine.yaml", join(kBase));
  const Chip a = load_chip_file(path);
  EXPECT_EQ(a.name, "test-chip");
  EXPECT_EQ(a.source, path);
  EXPECT_EQ(find_chip(path), a);
}

TEST(Files, ErrorsNameTheFile) {
  TempDir dir;
  const std::string path = dir.write("bad.yaml", with_line(13, "    rows: 0"));
  try {
    (void)find_chip(path);
    FAIL() << "no error";
  } catch (const ChipError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":13:5: core.matrix.rows: must be a positive integer, got '0'");
  }
  const std::string empty = dir.write("empty.yaml", "");
  EXPECT_THROW((void)load_chip_file(empty), ChipError);
  const std::string missing = (dir.path / "nope.yaml").string();
  try {
    (void)find_chip(missing);
    FAIL() << "no error";
  } catch (const ChipError& e) {
    EXPECT_EQ(std::string(e.what()), missing + ": cannot read chip file: no such file");
  }
  try {
    (void)load_chip_file(dir.path.string());
    FAIL() << "no error";
  } catch (const ChipError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.path.string() + ": cannot read chip file: not a regular file");
  }
}

TEST(Files, FindViaSearchPath) {
  TempDir dir;
  dir.write("custom-chip.yaml", with_line(1, "name: custom-chip"));
  const std::string search = "/nonexistent-seedchip-dir::" + dir.path.string() + ":";
  ASSERT_EQ(::setenv("SEEDCHIP_CHIP_PATH", search.c_str(), 1), 0);
  const Chip c = find_chip("custom-chip");
  EXPECT_EQ(c.name, "custom-chip");
  EXPECT_EQ(c.source, (dir.path / "custom-chip.yaml").string());
  // Built-ins win over the search path.
  dir.write("tpu-v1.yaml", with_line(1, "name: tpu-v1"));
  EXPECT_EQ(find_chip("tpu-v1").source, "builtin:tpu-v1");
  try {
    (void)find_chip("nope");
    FAIL() << "no error";
  } catch (const ChipError& e) {
    EXPECT_NE(std::string(e.what()).find("SEEDCHIP_CHIP_PATH=" + search), std::string::npos)
        << e.what();
  }
  ::unsetenv("SEEDCHIP_CHIP_PATH");
}

TEST(Files, UnknownNameListsBuiltins) {
  ::unsetenv("SEEDCHIP_CHIP_PATH");
  try {
    (void)find_chip("no-such-chip");
    FAIL() << "no error";
  } catch (const ChipError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("unknown chip 'no-such-chip'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("seedchip-v1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tpu-v1"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// ---------------------------------------------------------------- interconnect

namespace {
std::string with_interconnect(const std::string& body) { return join(kBase) + "\ninterconnect:\n" + body; }
const char* kMesh =
    "  topology: full_mesh\n  links: 7\n  link_bandwidth_gb_s: 100\n  latency_ns: 1000\n  efficiency: 0.5\n"
    "  max_chips: 8\n";
}  // namespace

TEST(Interconnect, OptionalAndParsed) {
  EXPECT_TRUE(load_chip_yaml(join(kBase), "my.yaml").interconnect.topology.empty());
  const Chip c = load_chip_yaml(with_interconnect(kMesh), "my.yaml");
  EXPECT_EQ(c.interconnect.topology, "full_mesh");
  EXPECT_EQ(c.interconnect.links, 7u);
  EXPECT_DOUBLE_EQ(c.interconnect.link_bytes_per_s, 100e9);
  EXPECT_DOUBLE_EQ(c.interconnect.latency_ns, 1000);
  EXPECT_DOUBLE_EQ(c.interconnect.efficiency, 0.5);
  EXPECT_EQ(c.interconnect.max_chips, 8u);
}

TEST(Interconnect, BadValuesNameTheKey) {
  std::string bad = kMesh;
  bad.replace(bad.find("full_mesh"), 9, "torus");
  EXPECT_NE(error_of(with_interconnect(bad)).find("interconnect.topology: expected switch, ring or full_mesh"),
            std::string::npos);
  bad = kMesh;
  bad.replace(bad.find("max_chips: 8"), 12, "max_chips: 9");
  EXPECT_NE(error_of(with_interconnect(bad)).find("interconnect.max_chips: a full mesh of 7 links connects at most 8"),
            std::string::npos);
  bad = kMesh;
  bad.replace(bad.find("efficiency: 0.5"), 15, "efficiency: 1.5");
  EXPECT_NE(error_of(with_interconnect(bad)).find("interconnect.efficiency"), std::string::npos);
}

TEST(Interconnect, AllReduceTimes) {
  InterconnectDesc ic;
  ic.links = 4;
  ic.link_bytes_per_s = 100e9;
  ic.latency_ns = 1000;
  ic.efficiency = 1;
  const double S = 64e6;
  EXPECT_EQ(allreduce_seconds(ic, 1, S), 0.0);  // nothing to reduce on one chip
  // ring: 2 (n-1) steps of S/n over both directions (2 links), plus a latency per step
  ic.topology = "ring";
  EXPECT_NEAR(allreduce_seconds(ic, 4, S), 6 * (S / 4 / 200e9 + 1e-6), 1e-12);
  // switch: the same steps over all links
  ic.topology = "switch";
  EXPECT_NEAR(allreduce_seconds(ic, 4, S), 6 * (S / 4 / 400e9 + 1e-6), 1e-12);
  // full mesh: reduce-scatter and all-gather in one step each over n-1 links
  ic.topology = "full_mesh";
  EXPECT_NEAR(allreduce_seconds(ic, 4, S), 2 * (0.75 * S / 300e9 + 1e-6), 1e-12);
  // efficiency scales the bandwidth term only
  ic.efficiency = 0.5;
  EXPECT_NEAR(allreduce_seconds(ic, 4, S), 2 * (0.75 * S / 150e9 + 1e-6), 1e-12);
}

TEST(Builtins, GpuChipsMatchSpecsCsv) {
  // nvidia-*.yaml are written from reference/specs.csv: their
  // derived peaks, bandwidths and capacities must be the datasheet figures.
  struct Row {
    const char* name;
    double fp8, bf16, int8, bw, gb;
  };
  for (const Row& r : {Row{"nvidia-h100-sxm", 1979e12, 989e12, 1979e12, 3.35e12, 80e9},
                       Row{"nvidia-h200-sxm", 1979e12, 989e12, 1979e12, 4.8e12, 141e9},
                       Row{"nvidia-a100-sxm", 0, 312e12, 624e12, 2.039e12, 80e9}}) {
    SCOPED_TRACE(r.name);
    const Chip c = find_chip(r.name);
    EXPECT_NEAR(c.peak_ops_per_s(DType::fp8e4m3), r.fp8, 0.002 * r.fp8);
    EXPECT_NEAR(c.peak_ops_per_s(DType::bf16), r.bf16, 0.002 * r.bf16);
    EXPECT_NEAR(c.peak_ops_per_s(DType::int8), r.int8, 0.002 * r.int8);
    EXPECT_NEAR(c.memory.bandwidth_bytes_per_s, r.bw, 1e-9 * r.bw);
    EXPECT_NEAR(static_cast<double>(c.memory.capacity_bytes), r.gb, 0.005 * r.gb);
    EXPECT_EQ(c.interconnect.topology, "switch");
    EXPECT_GT(c.timing.kernel_launch_ns, 0);
  }
}

TEST(Process, OptionalSectionIsReadAndChecked) {
  const std::string base = join(kBase);
  const Chip c = load_chip_yaml(base + "\nprocess:\n  node: tsmc-n5\n  spare_cores: 2\n  package: cowos-l\n  price_usd: 9000\n", "my.yaml");
  EXPECT_EQ(c.process.node, "tsmc-n5");
  EXPECT_EQ(c.process.spare_cores, 2u);
  EXPECT_EQ(c.process.package, "cowos-l");
  EXPECT_EQ(c.process.price_usd, 9000);
  EXPECT_TRUE(load_chip_yaml(base, "my.yaml").process.node.empty());  // absent: the economics defaults
  EXPECT_NE(error_of(base + "\nprocess:\n  package: bga\n").find("process.package: expected cowos-s, cowos-l or organic"),
            std::string::npos);
  EXPECT_NE(error_of(base + "\nprocess:\n  price_usd: -5\n").find("process.price_usd"), std::string::npos);
  EXPECT_NE(error_of(base + "\nprocess:\n  spare_cores: -1\n").find("process.spare_cores"), std::string::npos);
  EXPECT_NE(error_of(base + "\nprocess:\n  nodes: n5\n").find("process.nodes: unknown key"), std::string::npos);
}

}  // namespace
}  // namespace seedchip::arch


namespace seedchip::arch {
TEST(Schema, TheLoaderNamesItsKeys) {
  const auto t = find_chip_text("seedchip-v1");
  EXPECT_EQ(t.source, "builtin:seedchip-v1");
  EXPECT_EQ(load_chip_yaml(t.text, t.source), find_chip("seedchip-v1"));
  const auto s = chip_schema(t.text, t.source);
  auto has = [&](const std::string& map, const std::string& key) {
    auto it = s.find(map);
    return it != s.end() && std::find(it->second.begin(), it->second.end(), key) != it->second.end();
  };
  EXPECT_TRUE(has("", "cores"));
  EXPECT_TRUE(has("", "process"));
  EXPECT_TRUE(has("core.matrix", "rows"));
  EXPECT_TRUE(has("timing.matrix", "weight_rows_per_cycle"));
  EXPECT_TRUE(has("core.matrix.rate", "*"));  // an open map: any dtype
  EXPECT_FALSE(has("", "coers"));
  // a chip without an interconnect section has no schema entry for it
  const auto tpu = find_chip_text("tpu-v1");
  EXPECT_EQ(chip_schema(tpu.text, tpu.source).count("interconnect"), 0u);
  EXPECT_THROW(chip_schema("cores: [", "bad"), ChipError);
  EXPECT_THROW(find_chip_text("no-such-chip"), ChipError);
}

}  // namespace seedchip::arch
