// seedchip — the HTML report's sections (report.h).
#include "seedchip/explore/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/explore/plan.h"

namespace seedchip::explore {

namespace svg = report::svg;

namespace {

double fig(const Row& r, const char* k) {
  auto it = r.figures.find(k);
  return it == r.figures.end() ? 0 : it->second;
}

double peak_ops(const arch::Chip& c) {
  double p = 0;
  for (const auto& [dt, rate] : c.core.matrix.rate) p = std::max(p, c.peak_ops_per_s(dt));
  return p;
}

std::vector<double> cdf_y(size_t n) {
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = static_cast<double>(i + 1) / static_cast<double>(n);
  return y;
}

}  // namespace

void add_cost_sections(svg::Page& page, const std::vector<std::pair<std::string, econ::Cost>>& costs, const std::vector<double>& prices) {
  if (costs.empty()) return;
  svg::Bars area;
  area.id = "area-breakdown";
  area.title = "Die area by block";
  area.unit = "mm2";
  std::set<std::string> parts;
  for (const auto& [n, c] : costs) {
    area.categories.push_back(n);
    for (const auto& [k, v] : c.area.breakdown) parts.insert(k);
  }
  for (const auto& p : parts) {
    std::vector<double> v;
    for (const auto& [n, c] : costs) {
      auto it = c.area.breakdown.find(p);
      v.push_back(it == c.area.breakdown.end() ? 0 : it->second);
    }
    area.parts.emplace_back(p, v);
  }
  page.figure(svg::bars_svg(area), "Die area from the area model (seedchip chip cost NAME): the calibrated model of docs/cost.md.");
  svg::Bars cost;
  cost.id = "cost-breakdown";
  cost.title = "Unit cost and price";
  cost.unit = "USD per unit";
  for (const auto& [n, c] : costs) cost.categories.push_back(n);
  auto part = [&](const char* name, auto get) {
    std::vector<double> v;
    for (const auto& [n, c] : costs) v.push_back(get(c));
    cost.parts.emplace_back(name, v);
  };
  part("good die", [](const econ::Cost& c) { return c.good_die_cost_usd; });
  part("HBM", [](const econ::Cost& c) { return c.hbm_cost_usd; });
  part("package", [](const econ::Cost& c) { return c.package_cost_usd; });
  part("test", [](const econ::Cost& c) { return c.test_cost_usd; });
  part("NRE per unit", [](const econ::Cost& c) { return c.nre_per_unit_usd; });
  std::vector<double> margin;
  for (size_t i = 0; i < costs.size(); ++i) {
    const auto& c = costs[i].second;
    const double parts_sum = c.good_die_cost_usd + c.hbm_cost_usd + c.package_cost_usd + c.test_cost_usd + c.nre_per_unit_usd;
    margin.push_back(i < prices.size() ? std::max(0.0, prices[i] - std::max(parts_sum, c.unit_cost_usd)) : 0);
  }
  cost.parts.emplace_back("price above cost", margin);
  page.figure(svg::bars_svg(cost),
              "Unit cost by part (yielded die, HBM, package, test, NRE spread over the units) and, for a bought part, what its "
              "market price adds.");
}

void add_sweep_sections(svg::Page& page, const Sweep& s, const SweepOutcome& o) {
  page.heading(fmt::format("Sweep {}: {} designs", s.name, o.points));
  page.paragraph(fmt::format("{} ({}), base {}, {} parameters, {} invalid designs; best over all workloads: {}.", s.source, s.method,
                             s.base_source, s.parameters.size(), o.invalid, o.best >= 0 ? o.best_name : std::string("none")));
  for (const auto& w : s.workloads) {
    std::vector<int64_t> front;
    for (const auto& [n, f] : o.pareto)
      if (n == w.name) front = f;
    svg::Series all{"designs meeting the SLOs", {}, {}, {}, svg::Series::Style::points, false};
    svg::Series fr{"Pareto front", {}, {}, {}, svg::Series::Style::points, true};
    svg::Series base{"baselines", {}, {}, {}, svg::Series::Style::points, true};
    svg::Series e_all = all, e_fr = fr, e_base = base;
    for (const auto& r : o.rows) {
      if (r.workload != w.name || r.status != "ok") continue;
      const bool on = std::find(front.begin(), front.end(), r.point) != front.end();
      auto& a = r.point < 0 ? base : (on ? fr : all);
      auto& e = r.point < 0 ? e_base : (on ? e_fr : e_all);
      a.x.push_back(fig(r, "served_tokens_per_s_per_chip"));
      a.y.push_back(fig(r, "usd_per_million_tokens"));
      a.labels.push_back(fmt::format("{}: {:.0f} tok/s/chip, ${:.4f}/Mtok", r.name, a.x.back(), a.y.back()));
      e.x.push_back(fig(r, "tokens_per_s_per_usd") * 1000);
      e.y.push_back(fig(r, "tokens_per_joule"));
      e.labels.push_back(fmt::format("{}: {:.2f} tok/s per k$, {:.2f} tok/J", r.name, e.x.back(), e.y.back()));
    }
    page.heading(fmt::format("{}: {} {} on {} chips", w.name, w.model, w.scenario, w.chips));
    page.figure(svg::chart_svg({"pareto-" + w.name, "Served tokens/s per chip vs TCO per million tokens",
                                "", {"output tokens/s per chip at the SLOs"}, {"USD per million tokens", true}, {all, fr, base}, {}}),
                "Every design meeting the SLOs; the front over tokens/s per price, per watt, per mm2 and $/Mtok in bold.");
    page.figure(svg::chart_svg({"pareto-energy-" + w.name, "Tokens per joule vs tokens/s per thousand dollars of price",
                                "", {"tokens/s per k$ of chip price"}, {"tokens per joule"}, {e_all, e_fr, e_base}, {}}),
                "Energy and capital efficiency of the same designs.");
    std::vector<std::vector<std::string>> rows;
    std::vector<const Row*> best;
    for (const auto& r : o.rows)
      if (r.workload == w.name && r.status == "ok" && r.point >= 0) best.push_back(&r);
    std::stable_sort(best.begin(), best.end(), [](auto* a, auto* b) { return fig(*a, "usd_per_million_tokens") < fig(*b, "usd_per_million_tokens"); });
    if (best.size() > 8) best.resize(8);
    for (const auto& r : o.rows)
      if (r.workload == w.name && r.point < 0) best.push_back(&r);
    for (size_t i = 0; i < best.size(); ++i) {
      const auto& r = *best[i];
      rows.push_back({r.point < 0 ? r.name + " (baseline)" : r.name, fmt::format("{:.1f}", fig(r, "served_tokens_per_s_per_chip")), fmt::format("{:.4f}", fig(r, "usd_per_million_tokens")),
                      fmt::format("{:.2f}", fig(r, "tokens_per_joule")), fmt::format("{:.0f}", fig(r, "die_area_mm2")),
                      fmt::format("{:.0f}", fig(r, "tdp_w")), fmt::format("{:.0f}", fig(r, "price_usd"))});
    }
    page.raw(svg::table_html({"design", "tok/s/chip", "$/Mtok", "tok/J", "mm2", "TDP W", "price $"}, rows,
                             "The cheapest designs per million tokens, with the baselines"));
  }
  // roofline of the designs: each design's knee (ridge point, peak) and the best design's and baselines' roofs
  std::vector<DesignPoint> pts = design_points(s);
  svg::Chart roof{"roofline", "Roofline: each valid design's knee (ridge point, peak)", "", {"operational intensity, FLOP/byte", true},
                  {"attainable TFLOP/s", true}, {}, {}};
  svg::Series knees{"designs", {}, {}, {}, svg::Series::Style::points, false};
  std::set<int64_t> valid;
  for (const auto& r : o.rows)
    if (r.point >= 0 && r.status != "invalid") valid.insert(r.point);
  std::vector<std::pair<std::string, econ::Cost>> costs;
  std::vector<double> prices;
  auto add_roof = [&](const std::string& name, const arch::Chip& c) {
    const double peak = peak_ops(c) / 1e12, bw = c.memory.bandwidth_bytes_per_s / 1e12;
    roof.roofs.push_back({name, bw, peak});
    const auto as = econ::assumptions(c.process.node, name);
    const auto cost = econ::chip_cost(c, as, s.units);
    costs.emplace_back(name, cost);
    prices.push_back(econ::owner_price(c, cost, as));
  };
  for (const auto& p : pts) {
    if (!valid.count(p.index)) continue;
    try {
      const auto c = arch::load_chip_yaml(point_yaml(s, p), p.name);
      const double peak = peak_ops(c) / 1e12, bw = c.memory.bandwidth_bytes_per_s / 1e12;
      knees.x.push_back(peak / bw);
      knees.y.push_back(peak);
      knees.labels.push_back(fmt::format("{}: {:.0f} TFLOP/s, {:.2f} TB/s", p.name, peak, bw));
      if (p.index == o.best) add_roof(p.name + " (best)", c);
    } catch (const std::exception&) {
      // a point whose file does not load is invalid and has no knee
    }
  }
  for (const auto& b : s.baselines) add_roof(b, arch::find_chip(b));
  roof.series.push_back(knees);
  roof.x.min = 1;
  roof.x.max = 1e4;
  roof.y.min = 1;
  page.heading("Roofline and cost");
  page.figure(svg::chart_svg(roof), "Peak matrix throughput (fastest type) against HBM bandwidth: a design's knee sits at its ridge point; "
                                    "dashed, the roofs of the best design and the baselines.");
  add_cost_sections(page, costs, prices);
}

void add_comparison_sections(svg::Page& page, const std::vector<ChipResult>& chips, const Workload& w, size_t baseline) {
  const auto head = headline_json(chips, w, baseline);
  page.heading(fmt::format("{} at {} limits on {} chips", w.model, w.scenario, w.chips));
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : head["chips"])
    rows.push_back({c["chip"].get<std::string>(), fmt::format("{}", c["tp"].get<int64_t>()),
                    fmt::format("{:.1f}", c["served_tokens_per_s_per_chip"].get<double>()),
                    fmt::format("{:.3f}", c["ttft_p99_s"].get<double>()), fmt::format("{:.1f}", 1e3 * c["tpot_p99_s"].get<double>()),
                    fmt::format("{:.2f}", c["tokens_per_joule"].get<double>()), fmt::format("{:.0f}", c["price_usd"].get<double>()),
                    fmt::format("{:.4f}", c["usd_per_million_tokens"].get<double>()),
                    fmt::format("{:.2f}x / {:.2f}x / {:.2f}x", c["vs_baseline"]["tokens_per_s_per_chip"].get<double>(),
                                c["vs_baseline"]["tokens_per_joule"].get<double>(), c["vs_baseline"]["tokens_per_tco_usd"].get<double>())});
  page.raw(svg::table_html({"chip", "tp", "tok/s/chip", "p99 TTFT s", "p99 TPOT ms", "tok/J", "price $", "$/Mtok",
                            "vs " + head["baseline"].get<std::string>() + ": tok/s, tok/J, tok per TCO $"},
                           rows, "The headline: served output tokens/s per chip at the largest rate meeting the p99 limits"));
  svg::Chart ttft{"cdf-ttft", "Time to first token (CDF)", "", {"TTFT, s", true}, {"share of requests"}, {}, {}};
  svg::Chart tpot{"cdf-tpot", "Time per output token (CDF)", "", {"TPOT, ms"}, {"share of requests"}, {}, {}};
  svg::Chart rate{"throughput-rate", "Throughput vs offered rate", "", {"offered requests/s"}, {"output tokens/s per chip"}, {}, {}};
  svg::Chart p99{"latency-rate", "p99 TTFT vs offered rate", "", {"offered requests/s"}, {"p99 TTFT, s", true}, {}, {}};
  svg::Chart roof{"roofline-chips", "Rooflines", "", {"operational intensity, FLOP/byte", true}, {"attainable TFLOP/s", true}, {}, {}};
  std::vector<std::pair<std::string, econ::Cost>> costs;
  std::vector<double> prices;
  for (const auto& c : chips) {
    std::vector<double> t, p;
    for (const auto& r : c.run.result.requests) {
      if (r.first_token_s >= 0) t.push_back(r.ttft());
      if (r.output > 1 && r.finish_s >= 0) p.push_back(1e3 * r.tpot());
    }
    std::sort(t.begin(), t.end());
    std::sort(p.begin(), p.end());
    ttft.series.push_back({c.chip.name, t, cdf_y(t.size()), {}, svg::Series::Style::step, false});
    tpot.series.push_back({c.chip.name, p, cdf_y(p.size()), {}, svg::Series::Style::step, false});
    svg::Series thr{c.chip.name, {}, {}, {}, svg::Series::Style::line, false}, lat = thr;
    for (const auto& q : c.curve) {
      thr.x.push_back(q.rate_qps);
      thr.y.push_back(q.tokens_per_s_per_chip);
      lat.x.push_back(q.rate_qps);
      lat.y.push_back(q.ttft_p99_s);
    }
    rate.series.push_back(thr);
    p99.series.push_back(lat);
    const double peak = peak_ops(c.chip) / 1e12, bw = c.chip.memory.bandwidth_bytes_per_s / 1e12;
    roof.roofs.push_back({c.chip.name, bw, peak});
    svg::Series at{c.chip.name + " knee", {peak / bw}, {peak}, {fmt::format("{}: ridge {:.0f} FLOP/B", c.chip.name, peak / bw)},
                   svg::Series::Style::points, true};
    roof.series.push_back(at);
    costs.emplace_back(c.chip.name, c.cost);
    prices.push_back(c.price_usd);
  }
  if (!chips.empty() && chips[baseline].run.slo.tpot_s > 0) {
    const double limit = chips[baseline].run.slo.ttft_s;
    p99.series.push_back({"p99 TTFT limit", {rate.series[0].x.empty() ? 0 : rate.series[0].x.front(), rate.series[0].x.empty() ? 1 : rate.series[0].x.back()},
                          {limit, limit}, {}, svg::Series::Style::line, false});
  }
  page.figure(svg::chart_svg(ttft), "Per-request time to first token at each chip's passing rate.");
  page.figure(svg::chart_svg(tpot), "Per-request mean time between output tokens at the same runs.");
  page.figure(svg::chart_svg(rate), "Output tokens/s per chip over the run (including its drain) at fixed Poisson rates around the passing one.");
  page.figure(svg::chart_svg(p99), "Tail latency against the offered rate: the search keeps the largest rate under the limit.");
  roof.x.min = 1;
  roof.x.max = 1e4;
  roof.y.min = 1;
  page.figure(svg::chart_svg(roof), "Peak (fastest type) and HBM bandwidth of each chip: memory-bound below the ridge point (the knee), "
                                    "compute-bound above. Decode at batch B has about 2B FLOP per weight byte at fp8.");
  add_cost_sections(page, costs, prices);
  for (const auto& c : chips) {
    if (c.sensitivity.empty()) continue;
    std::vector<std::vector<std::string>> srows;
    for (size_t i = 0; i < c.sensitivity.size() && i < 12; ++i) {
      const auto& sw = c.sensitivity[i];
      srows.push_back({sw.key, fmt::format("{:.4g} .. {:.4g}", sw.low, sw.high), fmt::format("{:.4f}", sw.at_low), fmt::format("{:.4f}", sw.at_high),
                       fmt::format("{:.4f}", sw.swing())});
    }
    page.raw(svg::table_html({"parameter", "range", "$/Mtok at low", "$/Mtok at high", "swing"}, srows,
                             fmt::format("{}: sensitivity of TCO per million tokens (each uncertain parameter over its range, others at their values)",
                                         c.chip.name)));
  }
}

}  // namespace seedchip::explore

namespace seedchip::explore {

void add_plan_sections(svg::Page& page, const Plan& p, const Fleet& f, const std::string& title) {
  page.heading(title.empty() ? fmt::format("Fleet plan: {} ({})", f.name, p.status) : title);
  page.paragraph(fmt::format("{}: {} over {} quarters; total cash cost ${:.3g}B (capex ${:.3g}B, opex ${:.3g}B), ${:.4f} per million "
                             "tokens amortised, {:.1f}% of the demand served.",
                             f.source, p.objective, f.quarters.size(), p.total_cost_usd / 1e9, p.capex_total_usd / 1e9,
                             p.opex_total_usd / 1e9, p.usd_per_mtoken, 100 * p.served_share));
  svg::Bars units{"plan-units", "Units installed per quarter", "", "units", f.quarters, {}};
  for (size_t h = 0; h < f.hardware.size() && h < p.installed.size(); ++h) {
    std::vector<double> v(p.installed[h].begin(), p.installed[h].end());
    units.parts.emplace_back(f.hardware[h].name, v);
  }
  page.figure(svg::bars_svg(units), "Installed units of each hardware at the end of each quarter (bought so far plus installed at the start).");
  svg::Bars cash{"plan-cash", "Spending per quarter", "", "USD", f.quarters, {}};
  cash.parts.emplace_back("capex", p.capex_usd);
  cash.parts.emplace_back("facility", p.facility_usd);
  cash.parts.emplace_back("energy", p.energy_usd);
  page.figure(svg::bars_svg(cash), "Capex (chips and their server share) and opex (facility and energy) per quarter.");
  std::vector<double> q(f.quarters.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<double>(i + 1);
  svg::Chart lim{"plan-limits", "Facility power and HBM against their limits", "", {"quarter (1 = " + (f.quarters.empty() ? std::string() : f.quarters[0]) + ")"},
                 {"share of the limit"}, {}, {}};
  auto share = [&](const std::vector<double>& used, const std::vector<double>& limit, const std::string& name) {
    if (limit.empty()) return;
    svg::Series s{name, {}, {}, {}, svg::Series::Style::line, false};
    for (size_t i = 0; i < q.size() && i < used.size() && i < limit.size(); ++i)
      if (limit[i] > 0) {
        s.x.push_back(q[i]);
        s.y.push_back(used[i] / limit[i]);
        s.labels.push_back(fmt::format("{}: {:.3g} of {:.3g}", f.quarters[i], used[i], limit[i]));
      }
    lim.series.push_back(s);
  };
  share(p.mw, f.power_mw, "facility MW");
  share(p.hbm_stacks, f.hbm_stacks, "HBM stacks");
  share(p.hbm_gb, f.hbm_gb, "HBM GB");
  if (!lim.series.empty()) {
    lim.y.min = 0;
    lim.series.push_back({"limit", {q.front(), q.back()}, {1, 1}, {}, svg::Series::Style::line, false});
    page.figure(svg::chart_svg(lim), "Used over available per quarter: 1 is the limit (a binding constraint).");
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : p.constraints)
    if (c.binding)
      rows.push_back({c.name, fmt::format("{:.4g}", c.lhs), fmt::format("{}", c.sense == 'L' ? "<=" : ">="), fmt::format("{:.4g}", c.rhs),
                      c.unit, std::isnan(c.shadow_price) ? "" : fmt::format("{:.4g}", c.shadow_price)});
  page.raw(svg::table_html({"binding constraint", "used", "", "limit", "unit", "shadow price"}, rows,
                           "Constraints with no room left (the LP relaxation's shadow price: objective change per unit more)"));
}

}  // namespace seedchip::explore
