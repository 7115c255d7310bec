// seedchip — serving rows of the validation set (MLPerf offline and server)
// predicted with the serving simulator.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/llm/validate.h"
#include "seedchip/serve/serve.h"

namespace seedchip::serve {

/// The layout a validation row runs: the smallest power-of-two tensor-parallel
/// degree dividing the chip count whose weights take at most half of a
/// chip's memory (what MLPerf's 8-GPU submissions do: TP1 on H200, TP2 on
/// H100 for Llama-2-70B in FP8), and data-parallel replicas for the rest.
ServeOptions validation_layout(const llm::ValidationRow& r);

/// Predicts a serving row (sets predicted, error and command): offline serves
/// the model's whole MLPerf dataset at once; server searches the largest
/// Poisson rate meeting the row's p99 limits. Deployments are kept between
/// rows, so rows on the same chips share their step-cost oracle.
void predict_serving_row(llm::ValidationRow& r);

/// A validation run: every row predicted in sample and leave-one-out (the
/// calibrated parameter refitted without each row it is fitted on; nothing
/// is fitted on serving rows), and the errors aggregated.
struct Validation {
  std::vector<llm::ValidationRow> rows;
  llm::CalibratedParameter calibrated;
  int predicted = 0;  ///< expressible rows
  double mae = 0, worst = 0, loo_mae = 0, loo_worst = 0;  ///< absolute errors (fractions)
  /// Passes when some row was predicted and the leave-one-out errors are within the limits.
  bool passes(double max_mae, double max_error) const { return predicted > 0 && loo_mae <= max_mae && loo_worst <= max_error; }
  /// The JSON of `seedchip validate --json`.
  nlohmann::json json() const;
};
/// Validates the calibration CSV `text` (`source` names it in errors).
Validation validate(const std::string& text, const std::string& source);

}  // namespace seedchip::serve
