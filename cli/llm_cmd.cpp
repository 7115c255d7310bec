// seedchip — `seedchip llm` (docs/llm.md).
#include "llm_cmd.h"

#include "seedchip/serve/validate.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/generate.h"
#include "seedchip/llm/safetensors.h"
#include "seedchip/llm/validate.h"

namespace seedchip::cli {

namespace {

std::vector<int64_t> parse_ids(const std::vector<std::string>& args) {
  std::vector<int64_t> ids;
  std::string tok, s;
  for (const auto& a : args) s += a + " ";
  std::stringstream ss(s);
  while (ss >> tok) {
    std::stringstream parts(tok);
    std::string p;
    while (std::getline(parts, p, ',')) {
      if (p.empty()) continue;
      size_t used = 0;
      int64_t v = -1;
      try {
        v = std::stoll(p, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != p.size() || v < 0)
        throw std::runtime_error(fmt::format("--prompt-ids: '{}' is not a non-negative integer token id", p));
      ids.push_back(v);
    }
  }
  if (ids.empty()) throw std::runtime_error("--prompt-ids: no token ids given");
  return ids;
}

}  // namespace

int cmd_llm(LlmArgs a) {
  if (a.mode != "timing" && a.mode != "functional" && a.mode != "both")
    throw std::runtime_error(fmt::format("--mode '{}': expected timing, functional or both", a.mode));
  const auto cfg = llm::find_model(a.model);
  const auto chip = arch::find_chip(a.chip);
  std::optional<llm::Checkpoint> ckpt;
  if (!a.weights.empty()) {
    ckpt.emplace(a.weights);
    const int64_t n = llm::check_weights(cfg, *ckpt);
    fmt::print(stderr, "{}: {} tensors in {} file(s), {} parameters match {}\n", a.weights, ckpt->tensor_count(),
               ckpt->shard_count(), n, cfg.name);
  }
  nlohmann::json out = nlohmann::json::object();
  const bool functional = a.mode != "timing";
  if (functional) {
    if (!ckpt) throw std::runtime_error("--mode " + a.mode + " needs --weights (the checkpoint to generate with)");
    if (a.prompt_ids.empty()) throw std::runtime_error("--mode " + a.mode + " needs --prompt-ids");
    llm::GenerateOptions g;
    g.prompt = parse_ids(a.prompt_ids);
    g.generate = a.generate;
    g.precision = a.opt.precision;
    // one read of the checkpoint serves the run and, for fp8/int8, the fp32 reference (both take f32 weights)
    const auto weights = llm::load_weights(cfg, *ckpt, llm::generation_weight_type(g.precision));
    const auto r = llm::generate(cfg, weights, chip, g);
    out["generated_ids"] = r.ids;
    out["prompt_ids"] = g.prompt;
    out["functional_steps"] = r.steps;
    out["functional_instructions"] = r.instructions;
    out["tied_steps"] = r.tied_steps;
    if (llm::precision_policy(g.precision).quantized_activations()) {
      // top-1 agreement: the quantised model's prediction at each position of the fp32 run's sequence
      llm::GenerateOptions f = g;
      f.precision = "fp32";
      const auto ref = llm::generate(cfg, weights, chip, f);
      std::vector<int64_t> seq = g.prompt;
      seq.insert(seq.end(), ref.ids.begin(), ref.ids.end());
      const auto top = llm::teacher_forced_top1(cfg, weights, chip, g.precision, seq, g.generate);
      int64_t agree = 0;
      for (size_t i = 0; i < top.size(); ++i) agree += top[i] == ref.ids[i];
      out["fp32_generated_ids"] = ref.ids;
      out["top1_agreement"] = static_cast<double>(agree) / static_cast<double>(top.size());
    }
    // the timing run below describes the same job
    a.opt.prompt = static_cast<int64_t>(g.prompt.size());
    a.opt.generate = g.generate;
  }
  for (const auto& [path, prefill] : {std::pair{a.dump_layer, false}, std::pair{a.dump_prefill, true}}) {
    if (path.empty()) continue;
    std::ofstream f(path);
    f << ir::print(llm::timed_layer(cfg, chip, a.opt, prefill), true);
    if (!f) throw std::runtime_error(fmt::format("{}: cannot write", path));
  }
  if (a.mode != "functional") {
    const auto r = llm::run_llm(cfg, chip, a.opt);
    out.update(r.json());
    if (!a.json) {
      fmt::print("{} on {}{} ({}, batch {}, prompt {}, generate {}):\n", cfg.name, a.opt.chips > 1 ? fmt::format("{} x ", a.opt.chips) : "",
                 chip.name, a.opt.precision, a.opt.batch, a.opt.prompt, a.opt.generate);
      fmt::print("  time to first token   {:.3f} ms\n  time per output token {:.3f} ms\n", r.ttft_s * 1e3, r.tpot_s * 1e3);
      fmt::print("  output tokens/s       {:.1f}\n  HBM bandwidth use     {:.1f}%\n  model FLOP use        {:.1f}%\n",
                 r.output_tokens_per_s, 100 * r.hbm_bw_utilization, 100 * r.mfu);
      fmt::print("  energy per token      {:.3f} J\n  weights {:.1f} GB, KV cache {:.2f} GB, largest batch {}\n",
                 r.energy_per_token_j, r.weight_bytes / 1e9, r.kv_cache_bytes / 1e9, r.max_batch);
    }
  }
  if (a.json) {
    fmt::print("{}\n", out.dump(2));
  } else if (functional) {
    fmt::print("generated ids ({}, {} steps on the functional simulator): {}\n", a.opt.precision,
               out["functional_steps"].get<int64_t>(), fmt::join(out["generated_ids"].get<std::vector<int64_t>>(), " "));
    if (!out["tied_steps"].empty())
      fmt::print("steps where the two largest logits tied (lower id taken): {}\n",
                 fmt::join(out["tied_steps"].get<std::vector<int64_t>>(), " "));
    if (out.contains("top1_agreement"))
      fmt::print("top-1 agreement with the fp32 run: {:.1f}%\n", 100 * out["top1_agreement"].get<double>());
  }
  return 0;
}


int cmd_validate(const std::string& csv, bool check, double max_mae, double max_error, bool json) {
  std::string text, source = "builtin:calibration.csv";
  if (!csv.empty()) {
    std::ifstream f(csv);
    if (!f) throw std::runtime_error(fmt::format("{}: cannot open", csv));
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
    source = csv;
  } else {
    text = llm::builtin_calibration_csv();
  }
  auto rows = llm::parse_calibration(text, source);
  for (auto& r : rows) llm::interpret(r);
  // fixed-batch rows: in sample and leave-one-out (the calibrated parameter refitted without the row)
  const llm::CalibratedParameter cal = llm::predict_with_leave_one_out(rows);
  for (auto& r : rows)
    if (r.expressible && r.kind == llm::ValidationRow::Kind::serving) {
      serve::predict_serving_row(r);  // nothing is fitted on serving rows
      r.loo_predicted = r.predicted, r.loo_error = r.error;
    }
  double sum = 0, worst = 0, loo_sum = 0, loo_worst = 0;
  int n = 0;
  nlohmann::json out = nlohmann::json::array();
  if (!json)
    fmt::print("{:<5} {:<22} {:<44} {:>11} {:>11} {:>9} {:>9}  unit\n", "id", "hardware", "workload", "predicted", "measured",
               "in-sample", "leave-out");
  for (auto& r : rows) {
    nlohmann::json j = {{"id", r.id}, {"hardware", r.hardware}, {"workload", r.workload}, {"metric", r.metric},
                        {"unit", r.unit}, {"measured", r.measured}, {"expressible", r.expressible}};
    if (r.expressible) {
      sum += std::abs(r.error);
      worst = std::max(worst, std::abs(r.error));
      loo_sum += std::abs(r.loo_error);
      loo_worst = std::max(loo_worst, std::abs(r.loo_error));
      ++n;
      j["predicted"] = r.predicted;
      j["error"] = r.error;
      j["loo_predicted"] = r.loo_predicted;
      j["loo_error"] = r.loo_error;
      j["fitted_on"] = r.fitted_on;
      j["command"] = r.command;
      if (!json)
        fmt::print("{:<5} {:<22} {:<44} {:>11.4g} {:>11.4g} {:>+8.1f}% {:>+8.1f}%  {}{}\n", r.id, r.hardware.substr(0, 22),
                   r.workload.substr(0, 44), r.predicted, r.measured, 100 * r.error, 100 * r.loo_error, r.unit,
                   r.fitted_on ? " (fit)" : "");
    } else {
      j["why_not"] = r.why_not;
    }
    out.push_back(j);
  }
  if (!json) {
    for (const auto& r : rows)
      if (!r.expressible) fmt::print("{:<5} not expressible yet: {}\n", r.id, r.why_not);
  }
  const double mae = n ? sum / n : 0, loo_mae = n ? loo_sum / n : 0;
  std::string fitted;
  for (const auto& id : cal.fitted_on) fitted += (fitted.empty() ? "" : ", ") + id;
  if (json) {
    fmt::print("{}\n", nlohmann::json{{"rows", out},
                                      {"predicted_rows", n},
                                      {"mean_abs_error", mae},
                                      {"max_abs_error", worst},
                                      {"loo_mean_abs_error", loo_mae},
                                      {"loo_max_abs_error", loo_worst},
                                      {"calibrated_parameters",
                                       nlohmann::json::array({{{"name", cal.name},
                                                               {"applies_to", cal.applies_to},
                                                               {"candidates", cal.candidates},
                                                               {"chosen", cal.chosen},
                                                               {"chip_files", cal.chip_files},
                                                               {"fitted_on", cal.fitted_on}}})}}
                             .dump(2));
  } else {
    fmt::print("calibrated: {} = {:.0f} (of {}) on {} for {}; the chip files carry {:.0f}{}\n", cal.name, cal.chosen,
               fmt::join(cal.candidates, ", "), fitted.empty() ? "no rows" : fitted, cal.applies_to, cal.chip_files,
               cal.chosen == cal.chip_files ? "" : " (differs: refit the chip files)");
    fmt::print("mean absolute error {:.1f}% in sample, {:.1f}% leave-one-out, over {} rows (worst {:.1f}% / {:.1f}%); {} rows "
               "not expressible\n",
               100 * mae, 100 * loo_mae, n, 100 * worst, 100 * loo_worst, rows.size() - static_cast<size_t>(n));
  }
  if (check && (n == 0 || loo_mae > max_mae || loo_worst > max_error)) {
    fmt::print(stderr,
               "seedchip validate: leave-one-out mean absolute error {:.1f}% (limit {:.0f}%), worst row {:.1f}% (limit {:.0f}%)\n",
               100 * loo_mae, 100 * max_mae, 100 * loo_worst, 100 * max_error);
    return 1;
  }
  return 0;
}

}  // namespace seedchip::cli
