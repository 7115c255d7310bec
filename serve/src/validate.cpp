// seedchip — serving rows of the validation set (docs/serving.md "Validation").
#include "seedchip/serve/validate.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "seedchip/llm/config.h"

namespace seedchip::serve {

namespace {
std::string dataset_of(const std::string& model) {
  if (model == "llama-3.1-405b") return "mlperf-llama3.1-405b";
  if (model == "mixtral-8x7b") return "mlperf-mixtral-8x7b";
  return "mlperf-llama2-70b";
}
}  // namespace

ServeOptions validation_layout(const llm::ValidationRow& r) {
  const auto chip = arch::find_chip(r.chip);
  const auto model = llm::find_model(r.model);
  ServeOptions o;
  o.precision = r.options.precision;
  o.block_size = r.options.kv_page > 0 ? r.options.kv_page : 16;
  const double weights = static_cast<double>(model.parameters()) * llm::precision_policy(o.precision).weight_bytes;
  int64_t tp = 1;
  while (tp < r.options.chips && (r.options.chips % (tp * 2) == 0) &&
         weights / static_cast<double>(tp) > 0.5 * static_cast<double>(chip.memory.capacity_bytes))
    tp *= 2;
  o.tp = tp;
  o.replicas = r.options.chips / tp;
  return o;
}

void predict_serving_row(llm::ValidationRow& r) {
  if (r.kind != llm::ValidationRow::Kind::serving) throw std::logic_error("predict_serving_row: not a serving row");
  const ServeOptions o = validation_layout(r);
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<Deployment>> cache;
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}", r.model, r.chip, o.precision, o.tp, o.replicas, o.block_size);
  std::shared_ptr<Deployment> d;
  {
    std::lock_guard<std::mutex> l(mu);
    auto& slot = cache[key];
    if (!slot) slot = std::make_shared<Deployment>(llm::find_model(r.model), arch::find_chip(r.chip), o);
    d = slot;
  }
  const std::string ds = dataset_of(r.model);
  const auto reqs = dataset_requests(ds, 0, 1);
  Slo slo = mlperf_slo(r.model);
  if (r.ttft_slo_s > 0) slo.ttft_s = r.ttft_slo_s;
  if (r.tpot_slo_s > 0) slo.tpot_s = r.tpot_slo_s;
  double tokens = 0;
  if (r.scenario == "server") {
    const auto s = search_rate(*d, reqs, slo, Arrivals{}, 1);
    tokens = s.best.output_tokens_per_s;
  } else {
    tokens = d->serve(reqs, slo).output_tokens_per_s;
  }
  r.predicted = r.per_chip ? tokens / static_cast<double>(r.options.chips) : tokens;
  r.error = (r.predicted - r.measured) / r.measured;
  r.command = fmt::format("seedchip serve --model {} --chip {} --chips {} --tp {} --precision {} --block-size {} --scenario {} --json",
                          r.model, r.chip, r.options.chips, o.tp, o.precision, o.block_size, r.scenario);
}

Validation validate(const std::string& text, const std::string& source) {
  Validation v;
  v.rows = llm::parse_calibration(text, source);
  for (auto& r : v.rows) llm::interpret(r);
  v.calibrated = llm::predict_with_leave_one_out(v.rows);
  double sum = 0, loo_sum = 0;
  for (auto& r : v.rows) {
    if (!r.expressible) continue;
    if (r.kind == llm::ValidationRow::Kind::serving) {
      predict_serving_row(r);  // nothing is fitted on serving rows
      r.loo_predicted = r.predicted, r.loo_error = r.error;
    }
    sum += std::abs(r.error);
    v.worst = std::max(v.worst, std::abs(r.error));
    loo_sum += std::abs(r.loo_error);
    v.loo_worst = std::max(v.loo_worst, std::abs(r.loo_error));
    ++v.predicted;
  }
  v.mae = v.predicted ? sum / v.predicted : 0;
  v.loo_mae = v.predicted ? loo_sum / v.predicted : 0;
  return v;
}

nlohmann::json Validation::json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"id", r.id}, {"hardware", r.hardware}, {"workload", r.workload}, {"metric", r.metric},
                        {"unit", r.unit}, {"measured", r.measured}, {"expressible", r.expressible}};
    if (r.expressible) {
      j["predicted"] = r.predicted;
      j["error"] = r.error;
      j["loo_predicted"] = r.loo_predicted;
      j["loo_error"] = r.loo_error;
      j["fitted_on"] = r.fitted_on;
      j["command"] = r.command;
    } else {
      j["why_not"] = r.why_not;
    }
    out.push_back(j);
  }
  const auto& cal = calibrated;
  return {{"rows", out},
          {"predicted_rows", predicted},
          {"mean_abs_error", mae},
          {"max_abs_error", worst},
          {"loo_mean_abs_error", loo_mae},
          {"loo_max_abs_error", loo_worst},
          {"calibrated_parameters", nlohmann::json::array({{{"name", cal.name},
                                                             {"applies_to", cal.applies_to},
                                                             {"candidates", cal.candidates},
                                                             {"chosen", cal.chosen},
                                                             {"chip_files", cal.chip_files},
                                                             {"fitted_on", cal.fitted_on}}})}};
}

}  // namespace seedchip::serve
