// seedchip — `seedchip explore` (docs/explore.md).
#include "explore_cmd.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "progress.h"
#include "seedchip/explore/report.h"
#include "seedchip/explore/run.h"
#include "seedchip/explore/sweep.h"

namespace seedchip::cli {

namespace {

double fig(const explore::Row& r, const char* k) {
  auto it = r.figures.find(k);
  return it == r.figures.end() ? 0 : it->second;
}

void print_summary(const explore::Sweep& s, const explore::SweepOutcome& o, int top) {
  fmt::print("sweep {} ({}): {} design points and {} baselines; {} evaluated now, {} from the database; {} invalid designs{}\n",
             s.name, s.source, o.points, s.baselines.size(), o.evaluated, o.resumed, o.invalid,
             o.complete ? "" : " (incomplete: run again to resume)");
  for (const auto& w : s.workloads) {
    std::vector<const explore::Row*> ok, base;
    for (const auto& r : o.rows) {
      if (r.workload != w.name) continue;
      if (r.point < 0) base.push_back(&r);
      else if (r.status == "ok") ok.push_back(&r);
    }
    std::stable_sort(ok.begin(), ok.end(), [](auto* a, auto* b) {
      return fig(*a, "usd_per_million_tokens") < fig(*b, "usd_per_million_tokens");
    });
    std::vector<int64_t> front;
    for (const auto& [name, f] : o.pareto)
      if (name == w.name) front = f;
    fmt::print("\n{} ({} {} on {} chips): {} designs meet the SLOs, {} on the Pareto front\n", w.name, w.model, w.scenario,
               w.chips, ok.size(), front.size());
    fmt::print("  {:<22} {:>10} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7}  {}\n", "design", "tok/s/chip", "$/Mtok", "tok/J",
               "tok/s/k$", "mm2", "W", "$k", "pareto");
    auto line = [&](const explore::Row& r) {
      const bool on = std::find(front.begin(), front.end(), r.point) != front.end();
      fmt::print("  {:<22} {:>10.1f} {:>9.4f} {:>9.3f} {:>9.2f} {:>8.0f} {:>8.0f} {:>7.1f}  {}\n", r.name,
                 fig(r, "served_tokens_per_s_per_chip"), fig(r, "usd_per_million_tokens"), fig(r, "tokens_per_joule"),
                 1000 * fig(r, "tokens_per_s_per_usd"), fig(r, "die_area_mm2"), fig(r, "tdp_w"), fig(r, "price_usd") / 1000,
                 on ? "*" : r.status == "ok" ? "" : r.status);
    };
    for (size_t i = 0; i < ok.size() && i < static_cast<size_t>(top); ++i) line(*ok[i]);
    for (const auto* b : base) line(*b);
  }
}

}  // namespace

int cmd_explore(const ExploreArgs& a) {
  const explore::Sweep s = explore::load_sweep(a.sweep);
  explore::RunOptions o;
  o.jobs = a.jobs;
  if (o.jobs < 1) throw std::runtime_error(fmt::format("--jobs {}: must be at least 1", a.jobs));
  if (!a.db.empty()) o.db = a.db;
  o.mpi = a.mpi;
  o.max_points = a.max_points;
  ProgressBar bar("explore");
  auto cb = bar.callback();
  if (cb) o.progress = [cb](size_t done, size_t total) { cb(static_cast<double>(done) / static_cast<double>(std::max<size_t>(total, 1))); };
  explore::SweepOutcome out;
  try {
    out = explore::run_sweep(s, o);
  } catch (...) {
    explore::mpi_finalize();
    throw;
  }
  explore::mpi_finalize();
  if (!out.is_root) return 0;  // MPI ranks other than 0 print nothing
  std::string report_path;
  if (!a.report.empty()) {
    report::svg::Page page(fmt::format("seedchip explore: {}", s.name));
    explore::add_sweep_sections(page, s, out);
    report_path = page.write(a.report);
  }
  if (a.json) {
    nlohmann::json j;
    j["sweep"] = s.name;
    j["source"] = s.source;
    j["fingerprint"] = s.fingerprint;
    j["points"] = out.points;
    j["evaluated"] = out.evaluated;
    j["resumed"] = out.resumed;
    j["invalid"] = out.invalid;
    j["complete"] = out.complete;
    j["rows"] = out.rows_json;
    for (const auto& [w, f] : out.pareto) j["pareto"][w] = f;
    j["best"] = out.best;
    j["best_name"] = out.best_name;
    j["best_score"] = out.best_score;
    if (!report_path.empty()) j["report"] = report_path;
    fmt::print("{}\n", j.dump(2));
  } else {
    print_summary(s, out, a.top);
    if (out.best >= 0)
      fmt::print("\nbest over all workloads: {} (its $/Mtok is {:.3f}x the cheapest design's, geometric mean over the workloads)\n",
                 out.best_name, out.best_score);
    else
      fmt::print("\nno design met the SLOs on every workload\n");
    if (!report_path.empty()) fmt::print("report: {}\n", report_path);
  }
  return 0;
}

}  // namespace seedchip::cli
