// Tests of the economics model: tables, calibration, yield, cost, TDP, TCO
// and the sensitivity table; bad input.
#include <gtest/gtest.h>

#include "seedchip/arch/chip.h"
#include "seedchip/econ/econ.h"

using namespace seedchip;

TEST(Econ, TablesCarryEveryRequiredNodeWithSources) {
  const auto names = econ::node_names();
  for (const char* n : {"tsmc-n28", "tsmc-n7", "tsmc-n5", "tsmc-n4", "tsmc-n3", "samsung-sf4x", "samsung-sf3"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  for (const auto& n : names) {
    const auto a = econ::assumptions(n);
    for (const auto& [k, p] : a.params) {
      EXPECT_FALSE(p.source.empty()) << n << " " << k;
      EXPECT_LE(p.low, p.value) << k;
      EXPECT_LE(p.value, p.high) << k;
    }
  }
  // denser nodes are denser, and cost more per wafer
  EXPECT_GT(econ::assumptions("tsmc-n3")["logic_mtr_mm2"], econ::assumptions("tsmc-n7")["logic_mtr_mm2"]);
  EXPECT_GT(econ::assumptions("tsmc-n3")["wafer_usd"], econ::assumptions("tsmc-n7")["wafer_usd"]);
}

TEST(Econ, YieldModels) {
  // no defects, no loss; a bigger die yields less; negative binomial between Poisson and 1
  EXPECT_DOUBLE_EQ(econ::die_yield(800, 0, 3, "poisson"), 1.0);
  const double p = econ::die_yield(800, 0.1, 3, "poisson"), nb = econ::die_yield(800, 0.1, 3, "negative-binomial"),
               m = econ::die_yield(800, 0.1, 3, "murphy");
  EXPECT_NEAR(p, std::exp(-0.8), 1e-12);
  EXPECT_GT(nb, p);
  EXPECT_GT(m, p);
  EXPECT_LT(econ::die_yield(400, 0.1, 3, "poisson"), 1.0);
  EXPECT_GT(econ::die_yield(400, 0.1, 3, "poisson"), p);
  EXPECT_THROW(econ::die_yield(400, 0.1, 3, "seeds"), econ::EconError);
}

TEST(Econ, CalibrationFitsThePublishedDies) {
  const auto& cal = econ::calibration();
  EXPECT_GT(cal.core_logic_mtr, 0);
  EXPECT_GT(cal.sram_scale, 0);
  int fitted = 0;
  for (const auto& r : cal.rows) {
    if (r.role != "calibration") continue;
    ++fitted;
    EXPECT_GT(r.in_sample, 0);
    EXPECT_GT(r.loo, 0);
    // within a factor 1.5 in sample (the model has two scales for three dies)
    EXPECT_LT(std::abs(std::log(r.in_sample / r.published)), std::log(1.5)) << r.name;
  }
  EXPECT_GE(fitted, 2);
}

TEST(Econ, CostOfTheBuiltInChips) {
  for (const auto& name : arch::builtin_chip_names()) {
    const auto chip = arch::find_chip(name);
    const auto a = econ::assumptions(chip.process.node);
    const auto c = econ::chip_cost(chip, a, 100000);
    EXPECT_GT(c.area.total, 10) << name;
    EXPECT_LE(c.area.total, 858) << name;
    EXPECT_GT(c.dies_per_wafer, 0) << name;
    EXPECT_GT(c.yield, 0) << name;
    EXPECT_LE(c.yield, 1) << name;
    EXPECT_GT(c.unit_cost_usd, c.good_die_cost_usd) << name;
    EXPECT_NEAR(c.nre_per_unit_usd * 100000, c.nre_usd, 1e-6 * c.nre_usd);
    const auto j = econ::cost_json(c, a);
    for (const char* k : {"node", "die_area_mm2", "area_breakdown_mm2", "dies_per_wafer", "yield", "good_die_cost_usd",
                          "hbm_cost_usd", "package_cost_usd", "test_cost_usd", "nre_per_unit_usd", "unit_cost_usd", "tdp_w",
                          "assumptions"})
      EXPECT_TRUE(j.contains(k)) << k;
    for (const auto& [k, v] : j["assumptions"].items()) EXPECT_FALSE(v["source"].get<std::string>().empty()) << k;
  }
}

TEST(Econ, MoreUnitsCheaperSpareCoresHelpYield) {
  auto chip = arch::find_chip("seedchip-v1");
  const auto a = econ::assumptions("samsung-sf4x");
  const auto few = econ::chip_cost(chip, a, 10000), many = econ::chip_cost(chip, a, 1000000);
  EXPECT_GT(few.unit_cost_usd, many.unit_cost_usd);
  chip.process.spare_cores = 1;
  const auto spare = econ::chip_cost(chip, a, 10000);
  EXPECT_GT(spare.area.total, few.area.total);  // the spare core is on the die
  EXPECT_GT(spare.yield, few.yield);            // and a die with one bad core still sells
  EXPECT_THROW(econ::chip_cost(chip, a, 0), econ::EconError);
}

TEST(Econ, BadInputIsNamed) {
  auto err = [](auto f) {
    try {
      f();
    } catch (const econ::EconError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err([] { econ::assumptions("tsmc-n9", "chips/x.yaml: process.node"); }).find("chips/x.yaml: process.node: unknown process node 'tsmc-n9'"),
            std::string::npos);
  auto a = econ::assumptions("tsmc-n5");
  EXPECT_NE(err([&] { econ::apply_overrides(a, {"wafer_usd=-3"}, ""); }).find("must be a finite number >= 0"), std::string::npos);
  EXPECT_NE(err([&] { econ::apply_overrides(a, {"wafer_dollars=3"}, ""); }).find("unknown parameter 'wafer_dollars'"), std::string::npos);
  EXPECT_NE(err([&] { econ::apply_overrides(a, {"wafer_usd"}, ""); }).find("expected KEY=VALUE"), std::string::npos);
  econ::apply_overrides(a, {"wafer_usd=20000"}, "");
  EXPECT_EQ(a["wafer_usd"], 20000);
  // a die over the reticle
  auto big = arch::find_chip("seedchip-v1");
  big.cores = 64;
  EXPECT_NE(err([&] { econ::chip_cost(big, a, 1000); }).find("over the 858 mm2 reticle"), std::string::npos);
}

TEST(Econ, TdpFromTheEnergyModel) {
  const auto chip = arch::find_chip("seedchip-v1");
  const auto t = econ::tdp(chip);
  EXPECT_GT(t.matrix_w, 0);
  EXPECT_GT(t.hbm_w, 0);
  EXPECT_DOUBLE_EQ(t.static_w, chip.energy.static_w);
  EXPECT_NEAR(t.total_w, t.matrix_w + t.vector_w + t.sram_w + t.hbm_w + t.static_w, 1e-9);
}

TEST(Econ, TcoAndSensitivity) {
  const auto a = econ::assumptions("samsung-sf4x");
  const auto t = econ::tco(10000, 3000, 400, 450, a);
  EXPECT_GT(t.per_chip_year_usd, t.capex_per_year_usd);
  EXPECT_NEAR(t.usd_per_million_tokens, t.per_chip_year_usd / (3000.0 * 3600 * 8760 * a["utilization"]) * 1e6, 1e-9);
  EXPECT_NEAR(t.tokens_per_joule, 3000.0 / 400, 1e-12);
  // twice the throughput, half the cost per token
  EXPECT_NEAR(econ::tco(10000, 6000, 400, 450, a).usd_per_million_tokens, t.usd_per_million_tokens / 2, 1e-9);
  const auto chip = arch::find_chip("seedchip-v1");
  const auto rows = econ::sensitivity(a, [&](const econ::Assumptions& x) { return econ::chip_cost(chip, x, 100000).unit_cost_usd; });
  ASSERT_GT(rows.size(), 5u);
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_GE(rows[i - 1].swing(), rows[i].swing());
  // the HBM price moves the unit cost by capacity x its range
  for (const auto& r : rows) {
    if (r.key != "hbm3e_usd_per_gb") continue;
    EXPECT_NEAR(r.at_high - r.at_low, (r.high - r.low) * static_cast<double>(chip.memory.capacity_bytes) / 1e9 / a["package_yield"], 1e-6);
  }
}

TEST(Econ, RunEnergyFromTheTimingCounters) {
  const auto chip = arch::find_chip("seedchip-v1");
  econ::Activity act;
  act.macs[DType::fp8e4m3] = 1000000;
  act.macs[DType::uint8] = 1000;  // no uint8 entry: charged as int8
  act.vector_elements = 5000;
  act.sram_bytes = 1 << 20;
  act.hbm_bytes = 1 << 24;
  act.seconds = 1e-3;
  const auto e = econ::run_energy(chip, act);
  const auto& en = chip.energy;
  const double dyn = (1e6 * en.mac_pj.at(DType::fp8e4m3) + 1e3 * en.mac_pj.at(DType::int8) + 5000 * en.vector_pj_per_element +
                      (1 << 20) * en.sram_pj_per_byte + (1 << 24) * en.hbm_pj_per_byte) * 1e-12;
  EXPECT_NEAR(e.dynamic_j, dyn, 1e-15);
  EXPECT_NEAR(e.static_j, en.static_w * 1e-3, 1e-15);
  EXPECT_DOUBLE_EQ(e.total_j, e.dynamic_j + e.static_j);
}
