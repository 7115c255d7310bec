// Tests of the fleet planner (plan.h): the shipped example solved and checked
// by recomputation, small fleets whose optimum is worked out by hand, costs
// against econ::tco, infeasible plans naming their conflicting constraints,
// max-served mode, scenarios, figures filled by the caller, bad input.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "seedchip/econ/econ.h"
#include "seedchip/explore/plan.h"

using namespace seedchip;
using namespace seedchip::explore;

namespace {

std::string source_dir() {
  const char* d = std::getenv("SEEDCHIP_SOURCE_DIR");
  return d && *d ? d : ".";
}
std::string example(const std::string& name) { return source_dir() + "/examples/fleet/" + name; }

size_t hw_index(const Fleet& f, const std::string& name) {
  for (size_t h = 0; h < f.hardware.size(); ++h)
    if (f.hardware[h].name == name) return h;
  ADD_FAILURE() << "no hardware " << name;
  return 0;
}
double total_bought(const Plan& p, const Fleet& f, const std::string& name) {
  const auto& b = p.bought[hw_index(f, name)];
  return static_cast<double>(std::accumulate(b.begin(), b.end(), int64_t{0}));
}
bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }
const PlanConstraint* find_constraint(const Plan& p, const std::string& name) {
  for (const auto& c : p.constraints)
    if (c.name == name) return &c;
  return nullptr;
}

// Two candidates, one quarter, costs only capex (no facility, no energy):
// a costs 1000 per 10 tokens/s (100 per token/s), b 3000 per 40 (75 per token/s).
// b's block comes last so that a test can append keys to it.
const char* kTiny = R"(
name: tiny
quarters: [Q1]
tco: {dc_capex_usd_per_w: 0, electricity_usd_per_kwh: 0, server_share_usd: 0}
demand:
  d: {model: m, tokens_per_s: 1010}
hardware:
  a: {price_usd: 1000, tdp_w: 100, server_chips: 1, tokens_per_s: {d: 10}, power_w: 50}
  b:
    price_usd: 3000
    tdp_w: 300
    server_chips: 1
    tokens_per_s: {d: 40}
    power_w: 150
)";

std::string with(const std::string& base, const std::string& extra) { return base + extra; }

// Expects `f` to throw PlanError whose message contains every one of `parts`.
template <class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const PlanError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what() << "\n  lacks: " << p;
  }
}

}  // namespace

TEST(Plan, SeedExampleSolvesAndMeetsItsOwnConstraints) {
  const Fleet f = load_fleet(example("seed-2026.yaml"));
  ASSERT_EQ(f.quarters.size(), 4u);
  const Plan p = solve(f);
  EXPECT_EQ(p.status, "optimal");
  const auto v = check_plan(p, f);
  EXPECT_TRUE(v.empty()) << v.front();
  // the seed facts: at least 100k and at most 350k own units; procurement within 11B USD
  const double own = total_bought(p, f, "seedchip-v2");
  EXPECT_GE(own, 100000);
  EXPECT_LE(own, 350000);
  EXPECT_LE(p.capex_total_usd, 11e9);
  EXPECT_NEAR(p.served_share, 1.0, 1e-9);
  // the own chip is far cheaper per token/s, so the planner is limited by its
  // HBM and ramp, and buys H200s for the rest
  EXPECT_GT(total_bought(p, f, "h200"), 0);
  bool hbm_binds = false;
  for (const auto& c : p.constraints)
    if (c.group == "hbm.stacks" && c.binding) {
      hbm_binds = true;
      EXPECT_LT(c.shadow_price, 0) << c.name;  // one more stack saves money
    }
  EXPECT_TRUE(hbm_binds);
  for (size_t q = 0; q < f.quarters.size(); ++q) {
    EXPECT_LE(p.hbm_stacks[q], f.hbm_stacks[q]);
    EXPECT_LE(p.mw[q], f.power_mw[q]);
  }
  // the same input, the same plan and the same output
  const Plan again = solve(f);
  EXPECT_EQ(again.bought, p.bought);
  EXPECT_EQ(plan_text(again, f), plan_text(p, f));
  const std::string text = plan_text(p, f);
  for (const char* s : {"seedchip-v2 (own)", "h200", "capex", "facility MW", "own HBM stacks (allocation)", "per Mtoken",
                        "binding constraints", "hbm.stacks[2026Q"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  const auto j = plan_json(p, f);
  EXPECT_EQ(j["status"], "optimal");
  EXPECT_EQ(j["hardware"].size(), 2u);
  EXPECT_DOUBLE_EQ(j["capex_total_usd"].get<double>(), p.capex_total_usd);
  EXPECT_EQ(j["constraints"].size(), p.constraints.size());
}

TEST(Plan, SeedExampleScenariosMoveThePlanTheExpectedWay) {
  const Fleet f = load_fleet(example("seed-2026.yaml"));
  const Plan base = solve(f);
  const double own = total_bought(base, f, "seedchip-v2"), gpus = total_bought(base, f, "h200");
  const auto results = solve_scenarios(f);
  ASSERT_EQ(results.size(), f.scenarios.size());
  std::map<std::string, Plan> r(results.begin(), results.end());
  ASSERT_TRUE(r.count("hbm-shortfall[hbm_scale=0.75]") && r.count("hbm-shortfall[hbm_scale=0.5]"));
  // less HBM: fewer own units, more GPUs, more cost
  const Plan& h75 = r.at("hbm-shortfall[hbm_scale=0.75]");
  const Plan& h50 = r.at("hbm-shortfall[hbm_scale=0.5]");
  EXPECT_LT(total_bought(h75, f, "seedchip-v2"), own);
  EXPECT_LT(total_bought(h50, f, "seedchip-v2"), total_bought(h75, f, "seedchip-v2"));
  EXPECT_GT(total_bought(h50, f, "h200"), gpus);
  EXPECT_GT(h50.total_cost_usd, h75.total_cost_usd);
  EXPECT_GT(h75.total_cost_usd, base.total_cost_usd);
  // a yield slip: the ramp shrinks, the own chip costs more: fewer own units
  const Plan& ys = r.at("yield-slip");
  EXPECT_LE(total_bought(ys, f, "seedchip-v2"), 0.7 * 350000 + 0.5);
  EXPECT_LT(total_bought(ys, f, "seedchip-v2"), own);
  EXPECT_GT(ys.total_cost_usd, base.total_cost_usd);
  // cheaper GPUs cost less; dearer ones cost more, and no more of them are bought
  EXPECT_LT(r.at("gpu-price[gpu_price_scale=0.8]").total_cost_usd, base.total_cost_usd);
  const Plan& dear = r.at("gpu-price[gpu_price_scale=1.25]");
  ASSERT_EQ(dear.status, "optimal");
  EXPECT_GT(dear.total_cost_usd, base.total_cost_usd);
  EXPECT_LE(total_bought(dear, f, "h200"), gpus);
  // each feasible scenario plan meets its own scenario's constraints
  for (const auto& s : f.scenarios) {
    const Plan& p = r.at(s.name);
    if (p.status == "infeasible") continue;
    const auto v = check_plan(p, apply_scenario(f, s));
    EXPECT_TRUE(v.empty()) << s.name << ": " << v.front();
  }
  const std::string text = scenarios_text(results, f);
  EXPECT_NE(text.find("hbm-shortfall[hbm_scale=0.5]"), std::string::npos);
  EXPECT_EQ(scenarios_json(results, f).size(), results.size());
}

TEST(Plan, InfeasibleExampleNamesTheConflictingConstraints) {
  const Fleet f = load_fleet(example("infeasible.yaml"));
  const Plan p = try_solve(f);
  EXPECT_EQ(p.status, "infeasible");
  // 25,000 stacks a quarter are 25,000 units of 4 stacks over the year, against a commitment of 100,000
  EXPECT_EQ(p.conflicts, (std::vector<std::string>{"hbm.stacks", "hardware.seedchip-v2.min_total_units"}));
  expect_error([&] { solve(f); }, {example("infeasible.yaml"), "no feasible plan", "hbm.stacks",
                                   "hardware.seedchip-v2.min_total_units", "short by 80,000 units"});
  EXPECT_FALSE(check_plan(p, f).empty());
}

TEST(Plan, TighterBudgetOrHbmOnTheExampleIsInfeasible) {
  const Fleet f = load_fleet(example("seed-2026.yaml"));
  Scenario budget;
  budget.name = "half budget";
  budget.budget_scale = 0.5;
  const Plan pb = try_solve(apply_scenario(f, budget));
  EXPECT_EQ(pb.status, "infeasible");
  EXPECT_TRUE(has(pb.conflicts, "budget.capex_usd"));
  EXPECT_NE(pb.message.find("budget.capex_usd over by"), std::string::npos) << pb.message;
  Scenario hbm;
  hbm.name = "a tenth of the HBM";
  hbm.hbm_scale = 0.1;  // 120,000 stacks: 30,000 units < the 100,000 committed
  const Plan ph = try_solve(apply_scenario(f, hbm));
  EXPECT_EQ(ph.status, "infeasible");
  EXPECT_TRUE(has(ph.conflicts, "hbm.stacks"));
  EXPECT_TRUE(has(ph.conflicts, "hardware.seedchip-v2.min_total_units"));
}

TEST(Plan, TinyFleetOptimumByHand) {
  // 1010 tokens/s: 25 b (1000 tokens/s, 75,000) and 1 a (10 tokens/s, 1,000) = 76,000;
  // 26 b (78,000) or 101 a (101,000) cost more
  const Fleet f = parse_fleet(kTiny, "tiny.yaml");
  const Plan p = solve(f);
  EXPECT_EQ(p.bought[0][0], 1);
  EXPECT_EQ(p.bought[1][0], 25);
  EXPECT_DOUBLE_EQ(p.capex_total_usd, 76000);
  EXPECT_DOUBLE_EQ(p.opex_total_usd, 0);
  EXPECT_NEAR(p.solver_cost_usd, 76000, 1e-6);
  EXPECT_NEAR(p.capacity[0][0], 1010, 1e-6);
  EXPECT_TRUE(check_plan(p, f).empty());
  // b limited to 10: 10 b (400 tokens/s) + 61 a (610) = 30,000 + 61,000
  const Fleet g = parse_fleet(std::string(kTiny) + "    max_units: 10\n", "tiny.yaml");
  ASSERT_EQ(g.hardware[1].max_units, std::vector<double>{10});
  const Plan q = solve(g);
  EXPECT_EQ(q.bought[1][0], 10);
  EXPECT_EQ(q.bought[0][0], 61);
  EXPECT_DOUBLE_EQ(q.capex_total_usd, 91000);
  const PlanConstraint* c = find_constraint(q, "hardware.b.max_units[Q1]");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->binding);
  // LP relaxation: one more b replaces 4 a: 3000 - 4000 = -1000
  EXPECT_NEAR(c->shadow_price, -1000, 1e-6);
  EXPECT_TRUE(check_plan(q, g).empty());
}

TEST(Plan, ServersOfEightAndInstalledUnitsPersist) {
  // two quarters, 100 then 200 tokens/s; one option of 10 tokens/s per unit bought in servers of 8:
  // Q1 needs 10 units (2 servers = 16), Q2 20 units (3 servers = 24 installed: buy 1 more,
  // not in Q1: the facility costs by the quarter installed)
  const Fleet f = parse_fleet(R"(
quarters: [Q1, Q2]
tco: {electricity_usd_per_kwh: 0, server_share_usd: 0}
hardware:
  a: {price_usd: 1000, tdp_w: 100, tokens_per_s: {d: 10}}
demand:
  d: {model: m, tokens_per_s: [100, 200]}
)", "servers.yaml");
  EXPECT_EQ(f.hardware[0].server_chips, 8);
  const Plan p = solve(f);
  EXPECT_EQ(p.bought[0], (std::vector<int64_t>{16, 8}));
  EXPECT_EQ(p.installed[0], (std::vector<int64_t>{16, 24}));
  EXPECT_TRUE(check_plan(p, f).empty());
}

TEST(Plan, AvailabilityAndGrowth) {
  // b (cheaper per token/s) only from Q2; demand grows 100% a quarter: Q1 on a, then b
  const Fleet f = parse_fleet(R"(
quarters: [Q1, Q2]
tco: {dc_capex_usd_per_w: 0, electricity_usd_per_kwh: 0, server_share_usd: 0}
hardware:
  a: {price_usd: 1000, tdp_w: 100, server_chips: 1, tokens_per_s: {d: 10}}
  b: {price_usd: 3000, tdp_w: 300, server_chips: 1, tokens_per_s: {d: 40}, first_quarter: Q2}
demand:
  d: {model: m, tokens_per_s: 400, growth_per_quarter: 1.0}
)", "avail.yaml");
  EXPECT_EQ(f.demand[0].tokens_per_s, (std::vector<double>{400, 800}));
  const Plan p = solve(f);
  EXPECT_EQ(p.bought[0], (std::vector<int64_t>{40, 0}));  // 400 tokens/s on a
  EXPECT_EQ(p.bought[1], (std::vector<int64_t>{0, 10}));  // the other 400 on b
  EXPECT_TRUE(check_plan(p, f).empty());
}

TEST(Plan, OpexFollowsEconTco) {
  // one unit kind, everything installed serves: a quarter's opex is a quarter of econ::tco's
  // facility + energy per chip-year; $/Mtoken is econ::tco's (capex over the life + opex per token)
  const Fleet f = parse_fleet(R"(
quarters: [Q1, Q2, Q3, Q4]
hardware:
  a: {price_usd: 20000, tdp_w: 700, server_chips: 1, tokens_per_s: {d: 1000}, power_w: 400}
demand:
  d: {model: m, tokens_per_s: 100000}
)", "tco.yaml");
  const Plan p = solve(f);
  EXPECT_EQ(p.bought[0], (std::vector<int64_t>{100, 0, 0, 0}));
  const econ::Assumptions a = econ::assumptions("");
  const econ::Tco t = econ::tco(20000, 1000, 400, 700, a);
  for (size_t q = 0; q < 4; ++q) EXPECT_NEAR(p.opex_usd[q], 100 * (t.facility_per_year_usd + t.energy_per_year_usd) / 4, 1e-6);
  EXPECT_NEAR(p.capex_total_usd, 100 * (20000 + a["server_share_usd"]), 1e-6);
  EXPECT_NEAR(p.usd_per_mtoken, t.usd_per_million_tokens, 1e-9);
  EXPECT_NEAR(p.mw[0], 100 * t.facility_w / 1e6, 1e-12);
  EXPECT_TRUE(check_plan(p, f).empty());
}

TEST(Plan, TinyInfeasibleBudgetAndHbm) {
  // 76,000 is the least the tiny fleet can cost
  expect_error([] { solve(parse_fleet(with(kTiny, "budget: {capex_usd: 70000}\n"), "tiny.yaml")); },
               {"tiny.yaml: no feasible plan", "budget.capex_usd", "demand.d.tokens_per_s"});
  // an own chip committed to 10 units of 4 stacks with 20 stacks allocated
  const std::string own = R"(
quarters: [Q1]
hardware:
  a: {own: true, price_usd: 1000, tdp_w: 100, server_chips: 1, hbm_stacks: 4, tokens_per_s: {d: 10}, min_total_units: 10}
  b: {price_usd: 3000, tdp_w: 300, server_chips: 1, tokens_per_s: {d: 40}}
demand:
  d: {model: m, tokens_per_s: 100}
)";
  const Plan p = try_solve(parse_fleet(own + "hbm: {stacks: 20}\n", "own.yaml"));
  EXPECT_EQ(p.status, "infeasible");
  EXPECT_EQ(p.conflicts, (std::vector<std::string>{"hbm.stacks", "hardware.a.min_total_units"}));
  // with 40 stacks the commitment is met exactly; with 24 fewer own units, and then none can be
  const Fleet f40 = parse_fleet(own + "hbm: {stacks: 40}\n", "own.yaml");
  const Plan p40 = solve(f40);
  EXPECT_EQ(p40.bought[0][0], 10);
  EXPECT_TRUE(check_plan(p40, f40).empty());
  EXPECT_TRUE(find_constraint(p40, "hbm.stacks[Q1]")->binding);
  // power: 10 a need 10 x 100 x 1.82 x 1.1 W = 2.002 kW of facility
  expect_error([&] { solve(parse_fleet(own + "hbm: {stacks: 40}\npower: {mw: 0.002}\n", "own.yaml")); },
               {"power.mw", "hardware.a.min_total_units"});
}

TEST(Plan, MaxServedWithinBudget) {
  // 30,000 USD: 10 b serve 400 tokens/s (b gives more tokens/s per USD than a)
  const Fleet f = parse_fleet(with(kTiny, "objective: max-served\nbudget: {capex_usd: 30000}\n"), "tiny.yaml");
  const Plan p = solve(f);
  EXPECT_EQ(p.objective, "max-served");
  EXPECT_EQ(p.bought[1][0], 10);
  EXPECT_EQ(p.bought[0][0], 0);
  EXPECT_NEAR(p.served[0][0], 400, 1e-6);
  EXPECT_NEAR(p.served_share, 400.0 / 1010, 1e-9);
  EXPECT_TRUE(check_plan(p, f).empty());
  const PlanConstraint* c = find_constraint(p, "budget.capex_usd");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->binding);
  EXPECT_NEAR(c->shadow_price, 40.0 / 3000, 1e-9);  // tokens/s per USD more
  // with money to spare it serves the demand, at the least cost (the min-cost plan)
  const Fleet g = parse_fleet(with(kTiny, "objective: max-served\nbudget: {capex_usd: 1e6}\n"), "tiny.yaml");
  const Plan q = solve(g);
  EXPECT_NEAR(q.served_share, 1.0, 1e-6);
  EXPECT_NEAR(q.capex_total_usd, 76000, 1e-6);
}

TEST(Plan, CheckPlanCatchesWrongPlans) {
  const std::string text = with(kTiny, "budget: {capex_usd: 80000}\n");
  const Fleet f = parse_fleet(text, "tiny.yaml");
  const Plan p = solve(f);
  ASSERT_TRUE(check_plan(p, f).empty());
  Plan fewer = p;
  fewer.bought[1][0] -= 1;  // then more is assigned than installed, and the reported figures are stale
  auto v = check_plan(fewer, f);
  EXPECT_FALSE(v.empty());
  EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](const std::string& s) { return s.find("installed") != std::string::npos; }));
  Plan more = p;
  more.bought[1][0] += 2;  // 6,000 more: over the 80,000 budget
  v = check_plan(more, f);
  EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](const std::string& s) { return s.find("budget.capex_usd") != std::string::npos; }));
  Plan idle = p;
  idle.assigned[1][0][0] = 0;  // nothing serves on b: demand unmet
  v = check_plan(idle, f);
  EXPECT_TRUE(std::any_of(v.begin(), v.end(), [](const std::string& s) { return s.find("demand.d.tokens_per_s[Q1]") != std::string::npos; }));
}

TEST(Plan, FiguresFilledByTheCaller) {
  Fleet f = parse_fleet(R"(
quarters: [Q1]
hardware:
  mine: {chip: seedchip-v1, own: true, server_chips: 1}
  gpu: {chip: nvidia-h200-sxm, server_chips: 1, price_usd: 32000, tdp_w: 700, tokens_per_s: {chat: 2000}}
demand:
  chat: {model: llama-2-70b, tokens_per_s: 10000}
  batch: {model: llama-2-70b, slo: offline, tokens_per_s: 5000}
hbm: {stacks: 1000}
)", "fill.yaml");
  // missing figures are named
  expect_error([&] { solve(f); }, {"fill.yaml", "hardware.mine.price_usd", "seedchip-v1"});
  std::vector<std::string> calls;
  int costed = 0;
  fill_figures(
      f,
      [&](const Hardware& h, const Demand& d) {
        calls.push_back(h.name + "/" + d.name);
        return Served{h.name == "mine" ? 1000.0 : 0.0, 150};  // the GPU cannot serve batch here
      },
      [&](Hardware& h) {
        ++costed;
        h.price_usd = 5000;
        h.tdp_w = 450;
        h.hbm_stacks = 4;
        h.hbm_gb = 144;
      });
  EXPECT_EQ(costed, 1);
  EXPECT_EQ(calls, (std::vector<std::string>{"mine/chat", "mine/batch", "gpu/batch"}));
  EXPECT_DOUBLE_EQ(f.hardware[0].power("chat"), 150);
  EXPECT_DOUBLE_EQ(f.hardware[1].power_w, 0.75 * 700);  // avg_power_fraction x TDP
  const Plan p = solve(f);
  EXPECT_TRUE(check_plan(p, f).empty());
  EXPECT_DOUBLE_EQ(p.assigned[1][1][0], 0);  // batch only on the own chip
  EXPECT_GE(p.capacity[1][0], 5000 - 1e-6);
}

TEST(Plan, ScenarioListsExpand) {
  const Fleet f = parse_fleet(with(kTiny, "scenarios:\n  s: {demand_scale: [1, 2], gpu_price_scale: 0.5}\n  t: {hbm_scale: 0.5}\n"),
                              "tiny.yaml");
  ASSERT_EQ(f.scenarios.size(), 3u);
  EXPECT_EQ(f.scenarios[0].name, "s[demand_scale=1]");
  EXPECT_EQ(f.scenarios[1].name, "s[demand_scale=2]");
  EXPECT_DOUBLE_EQ(f.scenarios[1].demand_scale, 2);
  EXPECT_DOUBLE_EQ(f.scenarios[1].gpu_price_scale, 0.5);
  EXPECT_EQ(f.scenarios[2].name, "t");
  const auto r = solve_scenarios(f);
  // twice the demand (2020 tokens/s) at half the price: 50 b + 2 a = 75,000 + 1,000 (51 b: 76,500)
  EXPECT_EQ(r[1].second.bought[1][0], 50);
  EXPECT_EQ(r[1].second.bought[0][0], 2);
  EXPECT_DOUBLE_EQ(r[1].second.capex_total_usd, 76000);
}

TEST(Plan, BadInputNamesFileAndKey) {
  const auto dir = std::filesystem::temp_directory_path() / "seedchip_plan_test";
  std::filesystem::create_directories(dir);
  const auto write = [&](const std::string& name, const std::string& text) {
    const std::string path = (dir / name).string();
    std::ofstream(path) << text;
    return path;
  };
  const std::string neg_demand = write("neg-demand.yaml", R"(
quarters: [Q1, Q2]
hardware:
  a: {price_usd: 1, tdp_w: 1, tokens_per_s: {d: 1}}
demand:
  d: {model: m, tokens_per_s: [10, -5]}
)");
  expect_error([&] { load_fleet(neg_demand); }, {neg_demand, ":6:", "demand.d.tokens_per_s[1]", "must be >= 0", "-5"});
  const std::string neg_budget = write("neg-budget.yaml", with(kTiny, "budget:\n  capex_usd: -1e9\n"));
  expect_error([&] { load_fleet(neg_budget); }, {neg_budget, "budget.capex_usd", "must be >= 0"});
  const std::string typo = write("typo.yaml", with(kTiny, "budgte: {capex_usd: 1}\n"));
  expect_error([&] { load_fleet(typo); }, {typo, "budgte: unknown key", "did you mean 'budget'?"});
  expect_error([] { parse_fleet("quarters: [Q1]\ndemand:\n  e: {model: m, tokens_per_sec: 5}\n", "tiny.yaml"); },
               {"tiny.yaml:3:", "demand.e.tokens_per_sec: unknown key", "did you mean 'tokens_per_s'?"});
  expect_error([] { parse_fleet(with(kTiny, "    price: 5\n"), "tiny.yaml"); },
               {"hardware.b.price: unknown key", "did you mean 'price_usd'?"});
  expect_error([] { parse_fleet(with(kTiny, "    power_w_per_demand: {e: 5}\n"), "tiny.yaml"); },
               {"hardware.b.power_w_per_demand.e: unknown key", "did you mean 'd'?"});
  expect_error([] { parse_fleet(with(kTiny, "objective: min-cots\n"), "tiny.yaml"); },
               {"objective", "did you mean 'min-cost'?"});
  expect_error([] { parse_fleet(with(kTiny, "    first_quarter: Q5\n"), "tiny.yaml"); },
               {"hardware.b.first_quarter", "'Q5' is not one of the quarters"});
  expect_error([] { parse_fleet(with(kTiny, "hbm: {stacks: [1, 2]}\n"), "tiny.yaml"); },
               {"hbm.stacks", "one number per quarter (1), got 2"});
  expect_error([] { parse_fleet(with(kTiny, "power: {mw: -3}\n"), "tiny.yaml"); }, {"power.mw", "must be >= 0"});
  const std::string one = "quarters: [Q1]\ndemand: {d: {model: m, tokens_per_s: 1}}\nhardware: {a: {tokens_per_s: {d: 1}}}\n";
  expect_error([&] { parse_fleet(one + "tco: {pue: 0}\n", "tiny.yaml"); }, {"tco.pue", "must be > 0"});
  expect_error([&] { parse_fleet(one + "tco: {pu: 1.2}\n", "tiny.yaml"); }, {"tco.pu", "did you mean 'pue'?"});
  expect_error([] { parse_fleet(with(kTiny, "tco: {pue: 1.5}\n"), "tiny.yaml"); }, {"tiny.yaml:15:1: tco: duplicate key"});
  expect_error([] { parse_fleet(with(kTiny, "scenarios: {s: {hbm_scale: -1}}\n"), "tiny.yaml"); },
               {"scenarios.s.hbm_scale", "must be >= 0"});
  expect_error([] { parse_fleet("quarters: [Q1]\nhardware: {a: {price_usd: 1}}\n", "nodemand.yaml"); },
               {"nodemand.yaml", "demand: missing"});
  expect_error([] { parse_fleet("quarters: [Q1\n", "broken.yaml"); }, {"broken.yaml:", "malformed YAML"});
  const std::string missing = (dir / "no-such-fleet.yaml").string();
  expect_error([&] { load_fleet(missing); }, {missing, "cannot open"});
  std::filesystem::remove_all(dir);
}

// The fuzzer's finding: a YAML complex key (`? {a: 1}`) came out as yaml-cpp's
// bare "bad conversion", naming no file; at every level it is refused by name.
TEST(Plan, KeysThatAreMapsAreRefusedNamingTheFile) {
  expect_error([] { parse_fleet(std::string(kTiny) + "? {avg_power_fraction: 0.75}\n", "tiny.yaml"); },
               {"tiny.yaml:", "a key must be a plain name"});
  expect_error([] { parse_fleet(std::string(kTiny) + "    ? [power_w]\n    : 5\n", "tiny.yaml"); },
               {"tiny.yaml:", "hardware.b", "a key must be a plain name"});
}
