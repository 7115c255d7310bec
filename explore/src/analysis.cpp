// seedchip — the flagship comparison (analysis.h).
#include "seedchip/explore/analysis.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <future>
#include <map>

#include <fmt/format.h>

#include "default_fleet.h"
#include "seedchip/explore/plan.h"

namespace seedchip::explore {

namespace {

double per_chip_power(const serve::ServeResult& r) {
  const double n = static_cast<double>(std::max<int64_t>(r.chips, 1));
  return r.simulated_s > 0 ? r.energy_j / r.simulated_s / n : 0;
}

}  // namespace

ChipResult serve_and_cost(const std::string& name, const Workload& w, int64_t units, bool details) {
  ChipResult c;
  c.chip = arch::find_chip(name);
  c.assumptions = econ::assumptions(c.chip.process.node, c.chip.source + ": process.node");
  c.cost = econ::chip_cost(c.chip, c.assumptions, units);
  c.tdp = econ::tdp(c.chip);
  c.price_usd = econ::owner_price(c.chip, c.cost, c.assumptions);
  std::vector<std::string> why;
  bool have = false;
  for (const int64_t tp : w.tp) {
    serve::ScenarioRun run;
    try {
      run = serve::run_scenario(scenario_args(w, c.chip, tp));
    } catch (const std::exception& e) {
      why.push_back(fmt::format("tp {}: {}", tp, e.what()));
      continue;
    }
    const bool better = !have || (run.met && !c.run.met) ||
                        (run.met == c.run.met && run.served_tokens_per_s_per_chip > c.run.served_tokens_per_s_per_chip);
    if (better) {
      c.run = std::move(run);
      c.tp = tp;
      have = true;
    }
  }
  if (!have) throw std::runtime_error(fmt::format("{} on {}: no layout runs: {}", w.model, c.chip.name, fmt::join(why, "; ")));
  c.avg_power_w = per_chip_power(c.run.result);
  c.tco = econ::tco(c.price_usd, c.tokens_per_s_per_chip(), c.avg_power_w, c.chip.tdp_w, c.assumptions);
  // throughput and tail latency against the offered rate, around the passing one
  if (details && w.scenario == "server" && c.run.result.rate_qps > 0) {
    for (const double f : {0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5}) {
      auto a = scenario_args(w, c.chip, c.tp);
      a.rate = c.run.result.rate_qps * f;
      const auto r = serve::run_scenario(a);
      RatePoint p;
      p.rate_qps = a.rate;
      p.tokens_per_s_per_chip = r.result.output_tokens_per_s / static_cast<double>(std::max<int64_t>(r.result.chips, 1));
      p.ttft_p99_s = r.result.ttft.p99;
      p.tpot_p99_s = r.result.tpot.p99;
      p.attainment = r.result.slo_attainment;
      c.curve.push_back(p);
    }
  }
  if (details && c.chip.process.price_usd <= 0) {
    const double tps = c.tokens_per_s_per_chip(), power = c.avg_power_w;
    const auto& chip = c.chip;
    c.sensitivity = econ::sensitivity(c.assumptions, [&](const econ::Assumptions& x) {
      const econ::Cost cx = econ::chip_cost(chip, x, units);
      return econ::tco(econ::owner_price(chip, cx, x), tps, power, chip.tdp_w, x).usd_per_million_tokens;
    });
  }
  return c;
}

nlohmann::json headline_json(const std::vector<ChipResult>& chips, const Workload& w, size_t baseline) {
  nlohmann::json j;
  j["workload"] = {{"model", w.model}, {"scenario", w.scenario}, {"precision", w.precision}, {"chips", w.chips},
                   {"requests", w.requests}};
  const auto& b = chips.at(baseline);
  for (const auto& c : chips) {
    nlohmann::json x;
    x["chip"] = c.chip.name;
    x["tp"] = c.tp;
    x["slo_met"] = c.run.met;
    x["ttft_slo_s"] = c.run.slo.ttft_s;
    x["tpot_slo_s"] = c.run.slo.tpot_s;
    x["served_tokens_per_s_per_chip"] = c.tokens_per_s_per_chip();
    x["ttft_p99_s"] = c.run.result.ttft.p99;
    x["tpot_p99_s"] = c.run.result.tpot.p99;
    x["rate_qps"] = c.run.result.rate_qps;
    x["avg_power_w"] = c.avg_power_w;
    x["tdp_w"] = c.chip.tdp_w;
    x["die_area_mm2"] = c.cost.area.total;
    x["unit_cost_usd"] = c.cost.unit_cost_usd;
    x["price_usd"] = c.price_usd;
    x["tokens_per_joule"] = c.tco.tokens_per_joule;
    x["tokens_per_s_per_usd"] = c.tco.tokens_per_s_per_usd;
    x["usd_per_million_tokens"] = c.tco.usd_per_million_tokens;
    x["usd_per_chip_year"] = c.tco.per_chip_year_usd;
    auto ratio = [](double a, double bb) { return bb > 0 ? a / bb : 0.0; };
    x["vs_baseline"] = {
        {"tokens_per_s_per_chip", ratio(c.tokens_per_s_per_chip(), b.tokens_per_s_per_chip())},
        {"tokens_per_joule", ratio(c.tco.tokens_per_joule, b.tco.tokens_per_joule)},
        // served tokens per TCO dollar: the inverse of $/Mtok
        {"tokens_per_tco_usd", ratio(b.tco.usd_per_million_tokens, c.tco.usd_per_million_tokens)},
    };
    j["chips"].push_back(x);
  }
  j["baseline"] = b.chip.name;
  return j;
}

std::string headline_text(const std::vector<ChipResult>& chips, const Workload& w, size_t baseline) {
  const auto& b = chips.at(baseline);
  std::string s = fmt::format("{} {} on {} chips ({}, {} requests; p99 TTFT <= {} s, p99 TPOT <= {} s)\n", w.model, w.scenario,
                              w.chips, w.precision, w.requests, b.run.slo.ttft_s, b.run.slo.tpot_s);
  s += fmt::format("  {:<18} {:>4} {:>11} {:>9} {:>9} {:>7} {:>6} {:>8} {:>7} {:>9} {:>8}\n", "chip", "tp", "tok/s/chip", "p99 TTFT",
                   "p99 TPOT", "W avg", "tok/J", "price $", "mm2", "$/Mtok", "SLO");
  for (const auto& c : chips)
    s += fmt::format("  {:<18} {:>4} {:>11.1f} {:>8.3f}s {:>7.1f}ms {:>7.0f} {:>6.2f} {:>8.0f} {:>7.0f} {:>9.4f} {:>8}\n", c.chip.name,
                     c.tp, c.tokens_per_s_per_chip(), c.run.result.ttft.p99, 1e3 * c.run.result.tpot.p99, c.avg_power_w,
                     c.tco.tokens_per_joule, c.price_usd, c.cost.area.total, c.tco.usd_per_million_tokens,
                     c.run.met ? "met" : "missed");
  for (size_t i = 0; i < chips.size(); ++i) {
    if (i == baseline) continue;
    const auto& c = chips[i];
    s += fmt::format("  {} vs {}: {:.2f}x tokens/s per chip, {:.2f}x tokens per joule, {:.2f}x tokens per TCO dollar\n",
                     c.chip.name, b.chip.name, c.tokens_per_s_per_chip() / b.tokens_per_s_per_chip(),
                     c.tco.tokens_per_joule / b.tco.tokens_per_joule,
                     b.tco.usd_per_million_tokens / c.tco.usd_per_million_tokens);
  }
  return s;
}

namespace {

// A chip named by a fleet file: a relative path is relative to the file.
std::string chip_ref(const Fleet& f, const std::string& chip) {
  if ((chip.find('/') != std::string::npos || chip.ends_with(".yaml") || chip.ends_with(".yml")) &&
      std::filesystem::path(chip).is_relative()) {
    const auto rel = std::filesystem::path(f.source).parent_path() / chip;
    std::error_code ec;
    if (std::filesystem::exists(rel, ec)) return rel.string();
  }
  return chip;
}

Workload workload_of(const Demand& d, int64_t requests) {
  Workload w;
  w.name = d.name;
  w.model = d.model;
  w.scenario = d.slo == "offline" ? "offline" : "server";
  w.precision = d.precision;
  w.dataset = d.dataset;
  w.chips = 8;
  w.tp = {2, 4, 8};
  w.requests = requests;
  w.block_size = 256;
  if (d.slo == "custom") {
    w.ttft_slo = std::isnan(d.ttft_slo_s) ? -1 : d.ttft_slo_s;
    w.tpot_slo = std::isnan(d.tpot_slo_s) ? -1 : d.tpot_slo_s;
  }
  return w;
}

}  // namespace

void fill_fleet(Fleet& f, int64_t requests) {
  // the serving runs a missing tokens/s needs, all at once on two threads
  std::map<std::pair<size_t, size_t>, std::shared_future<Served>> runs;
  std::vector<std::pair<size_t, size_t>> todo;
  for (size_t h = 0; h < f.hardware.size(); ++h)
    for (size_t d = 0; d < f.demand.size(); ++d)
      if (!f.hardware[h].chip.empty() && std::isnan(f.hardware[h].rate(f.demand[d].name))) todo.emplace_back(h, d);
  std::vector<Served> results(todo.size());
  std::vector<std::string> errors(todo.size());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      const auto& [h, d] = todo[i];
      try {
        const auto r = serve_and_cost(chip_ref(f, f.hardware[h].chip), workload_of(f.demand[d], requests), 100000, false);
        // a deployment that misses the SLOs at every rate serves none of this demand
        results[i] = {r.run.met ? r.tokens_per_s_per_chip() : 0.0, r.avg_power_w};
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    }
  };
  {
    auto t = std::async(std::launch::async, worker);
    worker();
    t.get();
  }
  for (size_t i = 0; i < todo.size(); ++i)
    if (!errors[i].empty())
      throw PlanError(fmt::format("{}: hardware.{}: serving {}: {}", f.source, f.hardware[todo[i].first].name,
                                           f.demand[todo[i].second].name, errors[i]));
  std::map<std::pair<std::string, std::string>, Served> served;
  for (size_t i = 0; i < todo.size(); ++i) served[{f.hardware[todo[i].first].name, f.demand[todo[i].second].name}] = results[i];
  fill_figures(
      f, [&](const Hardware& h, const Demand& d) { return served.at({h.name, d.name}); },
      [&](Hardware& h) {
        if (h.chip.empty()) throw PlanError(fmt::format("{}: hardware.{}: no chip to cost (give chip: or the figures)", f.source, h.name));
        const auto chip = arch::find_chip(chip_ref(f, h.chip));
        const auto as = econ::assumptions(chip.process.node, chip.source + ": process.node");
        const int64_t units = std::isfinite(h.max_total_units) && h.max_total_units > 0 ? static_cast<int64_t>(h.max_total_units) : 100000;
        const auto c = econ::chip_cost(chip, as, units);
        if (std::isnan(h.price_usd) && h.price_usd_per_quarter.empty()) h.price_usd = econ::owner_price(chip, c, as);
        if (std::isnan(h.tdp_w)) h.tdp_w = chip.tdp_w;
        if (std::isnan(h.hbm_stacks)) h.hbm_stacks = chip.memory.type.rfind("hbm", 0) == 0 ? chip.memory.devices : 0;
        if (std::isnan(h.hbm_gb)) h.hbm_gb = static_cast<double>(chip.memory.capacity_bytes) / 1e9;
      });
}

const char* default_fleet_yaml() { return detail::kDefaultFleet; }

}  // namespace seedchip::explore
