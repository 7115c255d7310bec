// seedchip — serving rows of the validation set (MLPerf offline and server)
// predicted with the serving simulator.
#pragma once

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

}  // namespace seedchip::serve
