// seedchip — the flagship comparison (analysis.h).
#include "seedchip/explore/analysis.h"

#include <algorithm>

#include <fmt/format.h>

#include "default_fleet.h"

namespace seedchip::explore {

namespace {

serve::ScenarioArgs args_of(const Workload& w, const arch::Chip& chip, int64_t tp) {
  serve::ScenarioArgs a;
  a.model = w.model;
  a.chip_object = chip;
  a.opt.precision = w.precision;
  a.opt.tp = tp;
  a.opt.pp = w.pp;
  if (w.block_size > 0) a.opt.block_size = w.block_size;
  if (w.max_num_seqs > 0) a.opt.max_num_seqs = w.max_num_seqs;
  a.opt.expert_parallel = w.expert_parallel;
  a.chips = w.chips;
  a.scenario = w.scenario;
  a.dataset = w.dataset;
  a.requests = w.requests;
  a.seed = w.seed;
  a.ttft_slo = w.ttft_slo;
  a.tpot_slo = w.tpot_slo;
  return a;
}

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
      run = serve::run_scenario(args_of(w, c.chip, tp));
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
      auto a = args_of(w, c.chip, c.tp);
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

const char* default_fleet_yaml() { return detail::kDefaultFleet; }

}  // namespace seedchip::explore
