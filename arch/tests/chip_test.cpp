// seedchip — tests for chip descriptions: built-ins, derived figures,
// summaries, strict YAML validation and chip lookup.
#include "seedchip/arch/chip.h"

#include <gtest/gtest.h>
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
// make one thing wrong at a known line:column.
const std::vector<std::string> kBase = {
    "name: test-chip",                  // 1
    "description: \"a test chip\"",     // 2
    "clock_mhz: 1000",                  // 3
    "cores: 2",                         // 4
    "core:",                            // 5
    "  sram_kib: 1024",                 // 6
    "  sram_banks: 8",                  // 7
    "  accumulator_kib: 256",           // 8
    "  semaphores: 16",                 // 9
    "  queue_depth: 8",                 // 10
    "  instruction_memory_kib: 64",     // 11
    "  matrix:",                        // 12
    "    rows: 128",                    // 13
    "    cols: 64",                     // 14
    "    dataflow: weight_stationary",  // 15
    "    rate: {int8: 1, bf16: 0.5}",   // 16
    "  vector:",                        // 17
    "    lanes: 64",                    // 18
    "memory:",                          // 19
    "  type: hbm3",                     // 20
    "  devices: 2",                     // 21
    "  capacity_gib: 32",               // 22
    "  bandwidth_gb_s: 1638.4",         // 23
    "tdp_w: 150",                       // 24
};

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
    EXPECT_NE(load_chip_yaml(with_line(line, text), "a.yaml").isa_fingerprint(), base) << text;
  }
}

TEST(Fingerprint, IgnoresTimingAndPowerParameters) {
  const uint64_t base = load_chip_yaml(join(kBase), "a.yaml").isa_fingerprint();
  const std::vector<std::pair<int, std::string>> changes = {
      {3, "clock_mhz: 1500"},
      {23, "  bandwidth_gb_s: 800"},
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
      "core, memory, tdp_w)");
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
            "my.yaml:26:1: more than one YAML document (one chip per file)");
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

}  // namespace
}  // namespace seedchip::arch
