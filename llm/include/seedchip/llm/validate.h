// seedchip — validation against published measurements: each row of a
// calibration CSV (id,hardware,software,workload,metric,value,unit,source;
// reference/calibration.csv is built in) is read as a job
// seedchip can express (chip and count, model, precision, batch, prompt and
// output lengths, metric), predicted with run_llm, and compared.
#pragma once

#include <string>
#include <vector>

#include "seedchip/llm/llm.h"

namespace seedchip::llm {

/// One measured result and, when expressible, seedchip's prediction of it.
struct ValidationRow {
  std::string id, hardware, software, workload, metric, unit, source;
  double measured = 0;
  bool expressible = false;
  std::string why_not;  ///< when not expressible: what seedchip cannot model yet
  // the job
  /// serving: an MLPerf offline or server row, predicted by the serving
  /// simulator (serve::predict_serving_row), not by predict().
  enum class Kind { ttft, tpot, tokens_per_s, tokens_per_s_per_chip, gemm_flops, serving } kind = Kind::ttft;
  std::string scenario;             ///< serving: offline or server
  double ttft_slo_s = 0, tpot_slo_s = 0;  ///< serving server: the row's latency limits
  bool per_chip = false;            ///< serving: the figure is per GPU
  std::string chip, model;
  LlmOptions options;
  int64_t gemm_size = 0;
  // the answer
  double predicted = 0;  ///< in the row's unit
  double error = 0;      ///< (predicted - measured) / measured
  std::string command;   ///< the seedchip command that computes the prediction
  /// Leave-one-out: the prediction with every calibrated parameter refitted
  /// without this row (the in-sample one for rows nothing is fitted on).
  double loo_predicted = 0, loo_error = 0;
  bool fitted_on = false;  ///< a calibrated parameter is fitted on this row
  /// > = 0: predict with this timing.kernel_launch_ns instead of the chip file's (refits).
  double kernel_launch_ns = -1;
};

/// A calibrated parameter: chosen from `candidates` by the lowest mean
/// absolute error over the rows it is fitted on.
struct CalibratedParameter {
  std::string name;                  ///< "timing.kernel_launch_ns"
  std::string applies_to;            ///< which chips carry it
  std::vector<double> candidates;
  double chosen = 0;                 ///< the fit over all its rows
  double chip_files = 0;             ///< the value the chip files carry (should equal `chosen`)
  std::vector<std::string> fitted_on;  ///< row ids
};

/// Whether a row takes part in fitting timing.kernel_launch_ns: the
/// fixed-batch LLM rows on the GPU descriptions (TTFT, TPOT, throughput).
bool fits_kernel_launch(const ValidationRow& r);

/// Predicts the rows nothing is fitted on as they are; refits
/// timing.kernel_launch_ns over the fitting rows (in sample), and for each of
/// them again without it (leave one out). Sets predicted/error (in sample)
/// and loo_predicted/loo_error on every expressible non-serving row. Serving
/// rows are left to the caller (nothing is fitted on them: their
/// leave-one-out prediction is the in-sample one).
CalibratedParameter predict_with_leave_one_out(std::vector<ValidationRow>& rows);

/// Parses calibration CSV text (header line first); errors name `source`,
/// the line and the field.
std::vector<ValidationRow> parse_calibration(const std::string& csv_text, const std::string& source);

/// The calibration CSV built into the binary (a copy of
/// reference/calibration.csv, reference/calibration.csv).
const char* builtin_calibration_csv();

/// Reads each row's hardware, software, workload, metric and unit into a job,
/// or says why it cannot be expressed (serving scenarios, datasets with
/// varying lengths, unsupported model families or chips).
void interpret(ValidationRow& row);

/// Predicts an expressible row (sets predicted and error).
void predict(ValidationRow& row);

}  // namespace seedchip::llm
