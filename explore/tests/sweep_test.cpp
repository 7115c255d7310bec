// Tests of design-space sweeps: sweep files and their errors, design points
// (grid, random, Latin hypercube), derived keys, validation and constraints,
// the SQLite store (resume, another sweep's file), threads giving the same
// rows as one, and Pareto fronts.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "seedchip/arch/chip.h"
#include "seedchip/explore/run.h"
#include "seedchip/explore/store.h"
#include "seedchip/explore/sweep.h"

using namespace seedchip;
using namespace seedchip::explore;

namespace {

std::filesystem::path tmp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("seedchip_explore_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

std::string write(const std::string& name, const std::string& text) {
  const auto p = tmp_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

std::string error_of(const std::string& text) {
  try {
    (void)load_sweep(write("bad.yaml", text));
  } catch (const SweepError& e) {
    return e.what();
  }
  return "";
}

// A small sweep: 4 designs x 1 quick workload on a 7B model.
const char* kSmall = R"(
name: small
base: seedchip-v1
parameters:
  cores: [4, 8]
  memory.devices: [2, 4]
derived:
  memory.capacity_gib: "36 * memory.devices"
  memory.bandwidth_gb_s: "1254.4 * memory.devices"
constraints:
  die_area_mm2: {max: 858}
workloads:
  - name: 7b
    model: llama-2-7b
    scenario: offline
    chips: 1
    tp: 1
    requests: 4
    block_size: 256
)";

}  // namespace

TEST(Sweep, Expressions) {
  auto look = [](const std::string& n) -> std::optional<double> {
    if (n == "memory.devices") return 4;
    return std::nullopt;
  };
  EXPECT_DOUBLE_EQ(eval_expression("36 * memory.devices", look, "x"), 144);
  EXPECT_DOUBLE_EQ(eval_expression("2 ^ 3 ^ 2", look, "x"), 512);  // right-associative
  EXPECT_DOUBLE_EQ(eval_expression("-(1 + 2) * 3 - 4 / 2", look, "x"), -11);
  EXPECT_DOUBLE_EQ(eval_expression("max(1, memory.devices, 3) + ceil(0.2) + round(2.5)", look, "x"), 4 + 1 + 3);
  for (const char* bad : {"1 +", "(1", "nope * 2", "1 / 0", "foo(1)", "2 $ 3"})
    EXPECT_THROW(eval_expression(bad, look, "f.yaml: derived.k"), SweepError) << bad;
  try {
    eval_expression("nope * 2", look, "f.yaml: derived.k");
  } catch (const SweepError& e) {
    EXPECT_NE(std::string(e.what()).find("f.yaml: derived.k"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("'nope'"), std::string::npos);
  }
}

TEST(Sweep, NearestKey) {
  const std::vector<std::string> keys = {"cores", "clock_mhz", "core.matrix.rows", "memory.devices", "process.node"};
  EXPECT_EQ(nearest("coers", keys), "cores");
  EXPECT_EQ(nearest("core.matrix.row", keys), "core.matrix.rows");
  EXPECT_EQ(nearest("node", keys), "process.node");
  EXPECT_EQ(nearest("zzzzzzzzzzzz", keys), "");
}

TEST(Sweep, BadFilesNameTheKey) {
  const std::string base = "base: seedchip-v1\nworkloads: [{model: llama-2-7b}]\n";
  EXPECT_NE(error_of(base + "parameters: {coers: [4, 8]}\n").find("parameters.coers: not a chip description key (did you mean 'cores'?)"),
            std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {core.matrix.rowz: [128]}\n").find("did you mean 'core.matrix.rows'"), std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {}\n").find("an empty sweep"), std::string::npos);
  EXPECT_NE(error_of(base).find("an empty sweep"), std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {cores: []}\n").find("parameters.cores: an empty list"), std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {cores: {from: 8, to: 4}}\n").find("to 4 is below from 8"), std::string::npos);
  EXPECT_NE(error_of(base + "paramters: {cores: [4]}\n").find("paramters: unknown key (did you mean 'parameters'?)"),
            std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {cores: [4]}\nconstraints: {die_aera_mm2: {max: 800}}\n").find("did you mean 'die_area_mm2'"),
            std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {cores: [4]}\nsample: {method: sobol, points: 4}\n").find("sample.method: 'sobol'"),
            std::string::npos);
  EXPECT_NE(error_of("base: nochip\nparameters: {cores: [4]}\nworkloads: [{model: llama-2-7b}]\n").find("base: unknown chip 'nochip'"),
            std::string::npos);
  EXPECT_NE(error_of("base: seedchip-v1\nparameters: {cores: [4]}\n").find("workloads: required"), std::string::npos);
  EXPECT_NE(error_of("base: seedchip-v1\nparameters: {cores: [4]}\nworkloads: [{model: m, chips: 8, tp: 3}]\n").find("workloads[0].tp"),
            std::string::npos);
  EXPECT_NE(error_of("parameters: [").find("malformed YAML"), std::string::npos);
  // a key that is a list: the place and what is wrong, not yaml-cpp's bare "bad conversion"
  EXPECT_NE(error_of(base + "parameters: {cores: [4]}\n? [x]\n: 1\n").find("bad.yaml:"), std::string::npos);
  EXPECT_NE(error_of(base + "parameters: {cores: [4]}\n? [x]\n: 1\n").find("keys are plain names"), std::string::npos);
  EXPECT_NE(error_of("").find("an empty sweep file"), std::string::npos);
  EXPECT_THROW(load_sweep("/nonexistent/sweep.yaml"), SweepError);
}

TEST(Sweep, GridRangesAndSamples) {
  auto s = load_sweep(write("grid.yaml", R"(
base: seedchip-v1
parameters:
  cores: {from: 4, to: 12, step: 4}
  clock_mhz: {from: 800, to: 1200, points: 3}
  process.node: [samsung-sf4x, samsung-sf3]
workloads: [{model: llama-2-7b, chips: 1, tp: 1}]
)"));
  const auto pts = design_points(s);
  ASSERT_EQ(pts.size(), 3u * 3 * 2);
  EXPECT_EQ(pts[0].values, (std::vector<std::string>{"4", "800", "samsung-sf4x"}));
  EXPECT_EQ(pts[1].values, (std::vector<std::string>{"4", "800", "samsung-sf3"}));  // last varies fastest
  EXPECT_EQ(pts.back().values, (std::vector<std::string>{"12", "1200", "samsung-sf3"}));
  // Latin hypercube: each of n strata of a range holds exactly one sample
  auto lhs = load_sweep(write("lhs.yaml", R"(
base: seedchip-v1
parameters:
  clock_mhz: {from: 500, to: 1500}
  cores: [4, 8, 16, 32]
sample: {method: latin-hypercube, points: 8, seed: 7}
workloads: [{model: llama-2-7b, chips: 1, tp: 1}]
)"));
  const auto lp = design_points(lhs);
  ASSERT_EQ(lp.size(), 8u);
  std::set<int> strata;
  std::map<std::string, int> cores;
  for (const auto& p : lp) {
    strata.insert(static_cast<int>((std::stod(p.values[0]) - 500) / 125));
    cores[p.values[1]]++;
  }
  EXPECT_EQ(strata.size(), 8u);
  for (const auto& [c, n] : cores) EXPECT_EQ(n, 2) << c;  // 8 samples over 4 values: 2 each
  // deterministic, and the seed matters
  EXPECT_EQ(design_points(lhs)[3].values, lp[3].values);
  auto other = load_sweep(write("lhs2.yaml", R"(
base: seedchip-v1
parameters:
  clock_mhz: {from: 500, to: 1500}
  cores: [4, 8, 16, 32]
sample: {method: latin-hypercube, points: 8, seed: 8}
workloads: [{model: llama-2-7b, chips: 1, tp: 1}]
)"));
  EXPECT_NE(design_points(other)[0].values, lp[0].values);
  EXPECT_NE(other.fingerprint, lhs.fingerprint);
}

TEST(Sweep, PointsAreValidatedAndConstrained) {
  auto s = load_sweep(write("small.yaml", kSmall));
  const auto pts = design_points(s);
  ASSERT_EQ(pts.size(), 4u);
  // derived keys follow the point's values
  const auto chip = arch::load_chip_yaml(point_yaml(s, pts[0]), "p0");
  EXPECT_EQ(chip.cores, 4u);
  EXPECT_EQ(chip.memory.devices, 2u);
  EXPECT_NEAR(chip.memory.bandwidth_bytes_per_s, 2 * 1254.4e9, 1e6);
  // a value the chip loader refuses is an invalid point with the loader's reason, not an error
  auto bad = load_sweep(write("badpoint.yaml", R"(
base: seedchip-v1
parameters:
  core.matrix.rows: [0, 128]
constraints:
  die_area_mm2: {max: 300}
workloads: [{model: llama-2-7b, chips: 1, tp: 1, scenario: offline, requests: 4, block_size: 256}]
)"));
  const auto bp = design_points(bad);
  const auto r0 = evaluate(bad, bp[0]);
  EXPECT_FALSE(r0.valid);
  EXPECT_NE(r0.reason.find("core.matrix.rows"), std::string::npos) << r0.reason;
  ASSERT_EQ(r0.workloads.size(), 1u);
  EXPECT_EQ(r0.workloads[0].status, "invalid");
  const auto r1 = evaluate(bad, bp[1]);
  EXPECT_FALSE(r1.valid);  // 128 rows still over 300 mm2
  EXPECT_NE(r1.reason.find("constraint die_area_mm2"), std::string::npos) << r1.reason;
}

TEST(Sweep, RunsResumesAndMatchesAcrossThreads) {
  auto s = load_sweep(write("small.yaml", kSmall));
  const auto db = (tmp_dir() / "small.sqlite").string();
  std::filesystem::remove(db);
  RunOptions o;
  o.db = db;
  o.max_points = 2;  // stop half way, as a killed run would
  auto first = run_sweep(s, o);
  EXPECT_EQ(first.evaluated, 2u);
  EXPECT_FALSE(first.complete);
  o.max_points = -1;
  auto resumed = run_sweep(s, o);
  EXPECT_EQ(resumed.resumed, 2u);
  EXPECT_EQ(resumed.evaluated, 2u);
  EXPECT_TRUE(resumed.complete);
  ASSERT_EQ(resumed.rows.size(), 4u);
  // every valid design served its workload; more stacks serve more
  for (const auto& r : resumed.rows) {
    EXPECT_EQ(r.status, "ok") << r.name;
    EXPECT_GT(r.figures.at("served_tokens_per_s_per_chip"), 0) << r.name;
    EXPECT_GT(r.figures.at("usd_per_million_tokens"), 0) << r.name;
  }
  EXPECT_GT(resumed.rows[1].figures.at("served_tokens_per_s_per_chip"), resumed.rows[0].figures.at("served_tokens_per_s_per_chip"));
  // the same rows from two threads in memory as from the resumed file
  RunOptions t;
  t.jobs = 2;
  auto threaded = run_sweep(s, t);
  EXPECT_EQ(threaded.rows_json, resumed.rows_json);
  EXPECT_EQ(threaded.pareto, resumed.pareto);
  EXPECT_FALSE(resumed.pareto[0].second.empty());
  // a file of another sweep is refused
  auto other = load_sweep(write("other.yaml", std::string(kSmall) + "units: 5000\n"));
  try {
    run_sweep(other, o);
    FAIL() << "another sweep's database was accepted";
  } catch (const SweepError& e) {
    EXPECT_NE(std::string(e.what()).find("another sweep"), std::string::npos);
  }
}

TEST(Sweep, NoValidDesignIsAnError) {
  auto s = load_sweep(write("none.yaml", R"(
base: seedchip-v1
parameters:
  cores: [8, 16]
constraints:
  die_area_mm2: {max: 10}
workloads: [{model: llama-2-7b, chips: 1, tp: 1}]
)"));
  try {
    run_sweep(s, RunOptions{});
    FAIL();
  } catch (const SweepError& e) {
    EXPECT_NE(std::string(e.what()).find("no valid design"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("constraint die_area_mm2"), std::string::npos);
  }
}

TEST(Sweep, ParetoFront) {
  std::vector<Row> rows;
  auto row = [&](int64_t p, double per_usd, double per_j, double per_mm2, double tco, const char* st = "ok") {
    Row r;
    r.point = p;
    r.workload = "w";
    r.status = st;
    r.figures = {{"tokens_per_s_per_usd", per_usd}, {"tokens_per_joule", per_j}, {"tokens_per_s_per_mm2", per_mm2},
                 {"usd_per_million_tokens", tco}};
    rows.push_back(r);
  };
  row(0, 1, 1, 1, 1);
  row(1, 2, 2, 2, 0.5);  // dominates 0
  row(2, 3, 1, 1, 0.6);  // best per usd
  row(3, 9, 9, 9, 0.1, "slo_missed");  // not a candidate
  row(4, 2, 2, 2, 0.5);  // equal to 1: both stay
  const auto f = pareto_front(rows, "w", default_objectives());
  EXPECT_EQ(f, (std::vector<size_t>{1, 2, 4}));
}
