// seedchip — `seedchip serve` (docs/serving.md).
#include "serve_cmd.h"

#include <filesystem>

#include <fmt/format.h>

#include "progress.h"
#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"
#include "cost_cmd.h"

namespace seedchip::cli {

namespace {

std::string model_key(const std::string& name) { return std::filesystem::path(name).stem().string(); }

void print_summary(const serve::ServeResult& r, const std::string& what) {
  fmt::print("{}\n", what);
  fmt::print("  requests {}  chips {}  engines {}  steps {}  simulated {:.2f} s\n", r.requests.size(), r.chips, r.engines,
             r.steps.size(), r.simulated_s);
  if (r.rate_qps > 0) fmt::print("  offered rate {:.3f} requests/s\n", r.rate_qps);
  fmt::print("  output tokens/s {:.1f} ({:.1f} per chip), requests/s {:.3f}\n", r.output_tokens_per_s,
             r.output_tokens_per_s / static_cast<double>(std::max<int64_t>(r.chips, 1)), r.requests_per_s);
  fmt::print("  {:<6} {:>10} {:>10} {:>10} {:>10}\n", "", "mean", "p50", "p90", "p99");
  auto row = [](const char* n, const serve::Summary& s, double k, const char* u) {
    fmt::print("  {:<6} {:>8.3f}{} {:>8.3f}{} {:>8.3f}{} {:>8.3f}{}\n", n, s.mean * k, u, s.p50 * k, u, s.p90 * k, u, s.p99 * k, u);
  };
  row("TTFT", r.ttft, 1, " s");
  row("TPOT", r.tpot, 1e3, "ms");
  row("E2E", r.e2e, 1, " s");
  row("queue", r.queue, 1, " s");
  if (r.slo.ttft_s > 0 || r.slo.tpot_s > 0)
    fmt::print("  SLO (TTFT <= {} s, TPOT <= {} s) met by {:.1f}% of requests\n", r.slo.ttft_s, r.slo.tpot_s,
               100 * r.slo_attainment);
  fmt::print("  KV cache: {} blocks per engine, peak use {:.1f}%, {} preemptions\n", r.kv_blocks_total,
             100 * r.kv_peak_utilization, r.preemptions);
  if (r.expert_imbalance_s > 0)
    fmt::print("  experts: {:.2f} s of engine time waiting on the most loaded chip's experts\n", r.expert_imbalance_s);
  fmt::print("  step-cost oracle: {} programs compiled and timed\n", r.oracle_programs);
}

}  // namespace

ServeRun run_serve(ServeArgs a) {
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
  const auto chip = arch::find_chip(a.chip);
  // requests
  std::vector<serve::Request> reqs;
  std::string source = a.dataset;
  if (a.scenario == "trace") {
    if (a.dataset.empty()) throw std::runtime_error("--scenario trace needs --dataset FILE (a CSV or JSONL trace)");
    reqs = serve::read_trace(a.dataset);
    if (a.requests > 0 && static_cast<size_t>(a.requests) < reqs.size()) reqs.resize(static_cast<size_t>(a.requests));
  } else {
    if (source.empty()) {
      const std::string key = model_key(a.model);
      source = key == "llama-3.1-405b" ? "mlperf-llama3.1-405b" : key == "mixtral-8x7b" ? "mlperf-mixtral-8x7b" : "mlperf-llama2-70b";
    }
    std::error_code ec;
    if (std::filesystem::is_regular_file(source, ec)) reqs = serve::read_trace(source);
    else reqs = serve::dataset_requests(source, a.requests, a.seed);
    if (a.requests > 0 && static_cast<size_t>(a.requests) < reqs.size()) reqs.resize(static_cast<size_t>(a.requests));
    for (auto& r : reqs) r.arrival_s = 0;
  }
  serve::Slo slo = serve::mlperf_slo(model_key(a.model));
  if (a.ttft_slo >= 0) slo.ttft_s = a.ttft_slo;
  if (a.tpot_slo >= 0) slo.tpot_s = a.tpot_slo;
  const auto arrivals = serve::parse_arrivals(a.arrival);
  ProgressBar bar("serve");
  const serve::Deployment dep(model, chip, o);
  serve::ServeResult r;
  std::string what;
  bool met = true;
  if (a.scenario == "offline") {
    r = dep.serve(reqs, slo, bar.callback());
    what = fmt::format("{} offline on {} x {} ({}, tp {} pp {}), {} requests of {}", model.name, serve::chips_needed(o), chip.name,
                       o.precision, o.tp, o.pp, reqs.size(), source);
  } else if (a.scenario == "trace") {
    r = dep.serve(reqs, slo, bar.callback());
    what = fmt::format("{} trace {} on {} x {} ({}, tp {} pp {})", model.name, a.dataset, serve::chips_needed(o), chip.name,
                       o.precision, o.tp, o.pp);
  } else if (a.rate != -1) {
    serve::assign_arrivals(reqs, a.rate, arrivals, a.seed);
    r = dep.serve(reqs, slo, bar.callback());
    r.rate_qps = a.rate;
    what = fmt::format("{} server at {} requests/s on {} x {} ({})", model.name, a.rate, serve::chips_needed(o), chip.name, o.precision);
  } else {
    auto s = serve::search_rate(dep, reqs, slo, arrivals, a.seed, bar.callback());
    r = std::move(s.best);
    met = s.met;
    what = fmt::format("{} server on {} x {} ({}): largest rate meeting p99 TTFT <= {} s and p99 TPOT <= {} s", model.name,
                       serve::chips_needed(o), chip.name, o.precision, slo.ttft_s, slo.tpot_s);
  }
  if (!a.requests_out.empty()) serve::write_requests_csv(r, a.requests_out);
  if (!a.trace_out.empty()) serve::write_trace(r, a.trace_out);
  ServeRun run;
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
    if (a.scenario == "server") j["slo_met"] = met;
    // cost keys (docs/cost.md) when the chip can be costed: the run's own average draw per chip
    add_tco_keys(j, chip, r.output_tokens_per_s / static_cast<double>(std::max<int64_t>(r.chips, 1)),
                 r.simulated_s > 0 ? r.energy_j / r.simulated_s / static_cast<double>(std::max<int64_t>(r.chips, 1)) : 0);
  }
  run.met = met;
  run.what = what;
  run.result = std::move(r);
  run.slo = slo;
  return run;
}

int cmd_serve(ServeArgs a) {
  const bool json = a.json;
  const ServeRun run = run_serve(std::move(a));
  const auto& r = run.result;
  const auto& slo = run.slo;
  if (json) fmt::print("{}\n", run.json.dump(2));
  else print_summary(r, run.what);
  if (!run.met) {
    fmt::print(stderr,
               "seedchip: error: no rate met p99 TTFT <= {} s and p99 TPOT <= {} s; the best attainment found was {:.1f}% "
               "of requests at {:.4g} requests/s (p99 TTFT {:.3f} s, p99 TPOT {:.4f} s)\n",
               slo.ttft_s, slo.tpot_s, 100 * r.slo_attainment, r.rate_qps, r.ttft.p99, r.tpot.p99);
    return 1;
  }
  return 0;
}

}  // namespace seedchip::cli
