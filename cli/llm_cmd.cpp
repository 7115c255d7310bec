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

int cmd_llm(LlmArgs a) {
  if (a.mode != "timing" && a.mode != "functional" && a.mode != "both")
    throw std::runtime_error(fmt::format("--mode '{}': expected timing, functional or both", a.mode));
  // an option the chosen mode does not read is an error, not silently ignored
  auto refuse = [&](std::initializer_list<const char*> opts, const char* why) {
    for (const char* o : opts)
      if (a.given.count(o)) throw std::runtime_error(fmt::format("{}: not used with --mode {} ({})", o, a.mode, why));
  };
  if (a.mode == "timing") refuse({"--prompt-ids", "--generate"}, "they set the functional generation");
  if (a.mode == "functional") refuse({"--batch", "--prompt-len", "--gen-len", "--chips", "--kv-page", "--dump-layer", "--dump-prefill"}, "they set the timing run");
  if (a.mode == "both") refuse({"--prompt-len", "--gen-len"}, "the timing run takes its lengths from --prompt-ids and --generate");
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
    std::string ids;
    for (const auto& x : a.prompt_ids) ids += x + " ";
    g.prompt = llm::parse_token_ids(ids, "--prompt-ids");
    g.generate = a.generate;
    g.precision = a.opt.precision;
    out.update(llm::run_generation(cfg, *ckpt, chip, g).json());
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
  const serve::Validation v = serve::validate(text, source);
  if (json) {
    fmt::print("{}\n", v.json().dump(2));
  } else {
    fmt::print("{:<5} {:<22} {:<44} {:>11} {:>11} {:>9} {:>9}  unit\n", "id", "hardware", "workload", "predicted", "measured",
               "in-sample", "leave-out");
    for (const auto& r : v.rows)
      if (r.expressible)
        fmt::print("{:<5} {:<22} {:<44} {:>11.4g} {:>11.4g} {:>+8.1f}% {:>+8.1f}%  {}{}\n", r.id, r.hardware.substr(0, 22),
                   r.workload.substr(0, 44), r.predicted, r.measured, 100 * r.error, 100 * r.loo_error, r.unit,
                   r.fitted_on ? " (fit)" : "");
    for (const auto& r : v.rows)
      if (!r.expressible) fmt::print("{:<5} not expressible yet: {}\n", r.id, r.why_not);
    const auto& cal = v.calibrated;
    std::string fitted;
    for (const auto& id : cal.fitted_on) fitted += (fitted.empty() ? "" : ", ") + id;
    fmt::print("calibrated: {} = {:.0f} (of {}) on {} for {}; the chip files carry {:.0f}{}\n", cal.name, cal.chosen,
               fmt::join(cal.candidates, ", "), fitted.empty() ? "no rows" : fitted, cal.applies_to, cal.chip_files,
               cal.chosen == cal.chip_files ? "" : " (differs: refit the chip files)");
    fmt::print("mean absolute error {:.1f}% in sample, {:.1f}% leave-one-out, over {} rows (worst {:.1f}% / {:.1f}%); {} rows "
               "not expressible\n",
               100 * v.mae, 100 * v.loo_mae, v.predicted, 100 * v.worst, 100 * v.loo_worst,
               v.rows.size() - static_cast<size_t>(v.predicted));
  }
  if (check && !v.passes(max_mae, max_error)) {
    fmt::print(stderr,
               "seedchip validate: leave-one-out mean absolute error {:.1f}% (limit {:.0f}%), worst row {:.1f}% (limit {:.0f}%)\n",
               100 * v.loo_mae, 100 * max_mae, 100 * v.loo_worst, 100 * max_error);
    return 1;
  }
  return 0;
}

}  // namespace seedchip::cli
