// seedchip — `seedchip serve` (docs/serving.md).
#include "serve_cmd.h"

#include <fmt/format.h>

#include "progress.h"
#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"

namespace seedchip::cli {

namespace {

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
  ProgressBar bar("serve");
  a.progress = bar.callback();
  return serve::run_scenario(std::move(a));
}

int cmd_serve(ServeArgs a, bool json) {
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
