// seedchip — one serving job (scenario.h).
#include "seedchip/serve/scenario.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "seedchip/econ/econ.h"
#include "seedchip/llm/config.h"

namespace seedchip::serve {

namespace {
// A built-in model's name, or a config file's stem ("llama-3.1-405b" has no extension to strip).
std::string model_key(const std::string& name) {
  const std::filesystem::path p(name);
  return p.extension() == ".json" ? p.stem().string() : p.filename().string();
}
}  // namespace

std::string default_dataset(const std::string& model) {
  const std::string key = model_key(model);
  return key == "llama-3.1-405b" ? "mlperf-llama3.1-405b" : key == "mixtral-8x7b" ? "mlperf-mixtral-8x7b" : "mlperf-llama2-70b";
}

ScenarioRun run_scenario(ScenarioArgs a) {
  auto& o = a.opt;
  o.routing_seed = a.seed;
  if (!a.disaggregate.empty()) {
    int64_t p = 0, d = 0;
    char extra = 0;
    if (std::sscanf(a.disaggregate.c_str(), "%ld:%ld%c", &p, &d, &extra) != 2 || p < 1 || d < 1)
      throw std::runtime_error(fmt::format("--disaggregate '{}': expected P:D, prefill and decode replica counts >= 1", a.disaggregate));
    o.prefill_replicas = p;
    o.decode_replicas = d;
  }
  if (a.chips > 0) {
    const int64_t per = o.tp * o.pp;
    const int64_t engines = o.prefill_replicas > 0 ? o.prefill_replicas + o.decode_replicas : o.replicas;
    if (o.prefill_replicas == 0 && a.chips % per == 0 && o.replicas == 1) o.replicas = a.chips / per;
    else if (a.chips != per * engines)
      throw std::runtime_error(fmt::format("--chips {}: the layout uses {} (--tp {} x --pp {} x {} replicas)", a.chips,
                                           per * engines, o.tp, o.pp, engines));
    if (a.chips % per != 0)
      throw std::runtime_error(fmt::format("--chips {}: not a multiple of --tp {} x --pp {}", a.chips, o.tp, o.pp));
  }
  if (a.scenario != "offline" && a.scenario != "server" && a.scenario != "trace")
    throw std::runtime_error(fmt::format("--scenario '{}': expected offline, server or trace", a.scenario));
  if (a.rate != -1 && !(a.rate > 0)) throw std::runtime_error(fmt::format("--rate {}: must be positive", a.rate));
  const auto model = llm::find_model(a.model);
  const auto chip = a.chip_object ? *a.chip_object : arch::find_chip(a.chip);
  // requests
  std::vector<Request> reqs;
  std::string source = a.dataset;
  if (a.scenario == "trace") {
    if (a.dataset.empty()) throw std::runtime_error("--scenario trace needs --dataset FILE (a CSV or JSONL trace)");
    reqs = read_trace(a.dataset);
    if (a.requests > 0 && static_cast<size_t>(a.requests) < reqs.size()) reqs.resize(static_cast<size_t>(a.requests));
  } else {
    if (source.empty()) source = default_dataset(a.model);
    std::error_code ec;
    if (std::filesystem::is_regular_file(source, ec)) reqs = read_trace(source);
    else reqs = dataset_requests(source, a.requests, a.seed);
    if (a.requests > 0 && static_cast<size_t>(a.requests) < reqs.size()) reqs.resize(static_cast<size_t>(a.requests));
    for (auto& r : reqs) r.arrival_s = 0;
  }
  Slo slo = mlperf_slo(model_key(a.model));
  for (const auto& [flag, v] : {std::pair{"--ttft-slo", a.ttft_slo}, std::pair{"--tpot-slo", a.tpot_slo}})
    if (v >= 0 && !(v > 0 && std::isfinite(v)))
      throw std::runtime_error(fmt::format("{} {}: must be a positive number of seconds", flag, v));
  if (a.ttft_slo >= 0) slo.ttft_s = a.ttft_slo;
  if (a.tpot_slo >= 0) slo.tpot_s = a.tpot_slo;
  const auto arrivals = parse_arrivals(a.arrival);
  const Deployment dep(model, chip, o);
  ServeResult r;
  std::string what;
  bool met = true;
  if (a.scenario == "offline") {
    r = dep.serve(reqs, slo, a.progress);
    what = fmt::format("{} offline on {} x {} ({}, tp {} pp {}), {} requests of {}", model.name, chips_needed(o), chip.name,
                       o.precision, o.tp, o.pp, reqs.size(), source);
  } else if (a.scenario == "trace") {
    r = dep.serve(reqs, slo, a.progress);
    what = fmt::format("{} trace {} on {} x {} ({}, tp {} pp {})", model.name, a.dataset, chips_needed(o), chip.name,
                       o.precision, o.tp, o.pp);
  } else if (a.rate != -1) {
    assign_arrivals(reqs, a.rate, arrivals, a.seed);
    r = dep.serve(reqs, slo, a.progress);
    r.rate_qps = a.rate;
    what = fmt::format("{} server at {} requests/s on {} x {} ({})", model.name, a.rate, chips_needed(o), chip.name, o.precision);
  } else {
    auto s = search_rate(dep, reqs, slo, arrivals, a.seed, a.progress);
    r = std::move(s.best);
    met = s.met;
    what = fmt::format("{} server on {} x {} ({}): largest rate meeting p99 TTFT <= {} s and p99 TPOT <= {} s", model.name,
                       chips_needed(o), chip.name, o.precision, slo.ttft_s, slo.tpot_s);
  }
  if (!a.requests_out.empty()) write_requests_csv(r, a.requests_out);
  if (!a.trace_out.empty()) write_trace(r, a.trace_out);
  ScenarioRun run;
  const double nchips = static_cast<double>(std::max<int64_t>(r.chips, 1));
  if (a.scenario == "server" && r.rate_qps > 0) {
    double out = 0;
    for (const auto& q : r.requests) out += static_cast<double>(q.output);
    run.served_tokens_per_s_per_chip =
        r.requests.empty() ? 0 : r.rate_qps * out / static_cast<double>(r.requests.size()) / nchips;
  } else {
    run.served_tokens_per_s_per_chip = r.output_tokens_per_s / nchips;
  }
  {
    auto& j = run.json;
    j = r.json();
    j["scenario"] = a.scenario;
    j["model"] = model.name;
    j["chip"] = chip.name;
    j["precision"] = o.precision;
    j["tp"] = o.tp;
    j["pp"] = o.pp;
    j["replicas"] = o.prefill_replicas > 0 ? o.prefill_replicas + o.decode_replicas : o.replicas;
    j["dataset"] = a.scenario == "trace" ? a.dataset : source;
    j["served_tokens_per_s_per_chip"] = run.served_tokens_per_s_per_chip;
    if (a.scenario == "server") j["slo_met"] = met;
    // cost keys (docs/cost.md) when the chip can be costed: the run's own average draw per chip
    econ::add_tco_keys(j, chip, run.served_tokens_per_s_per_chip,
                       r.simulated_s > 0 ? r.energy_j / r.simulated_s / nchips : 0);
  }
  run.met = met;
  run.what = what;
  run.result = std::move(r);
  run.slo = slo;
  return run;
}

}  // namespace seedchip::serve
