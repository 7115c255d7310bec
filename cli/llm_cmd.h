// seedchip — `seedchip llm`: LLM timing, functional generation, validation.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "seedchip/llm/llm.h"

namespace seedchip::cli {

/// Arguments of `seedchip llm`.
struct LlmArgs {
  std::string model, chip = "seedchip-v1", weights, dump_layer, dump_prefill;
  std::string mode = "timing";  ///< timing, functional or both
  std::vector<std::string> prompt_ids;  ///< token ids: separate arguments and/or comma- or space-separated lists
  int64_t generate = 32;        ///< tokens to generate functionally
  bool json = false;
  llm::LlmOptions opt;
  std::set<std::string> given;  ///< the options given on the command line (each mode refuses the other's)
};

/// `seedchip llm`: timing and/or functional generation; prints text or one JSON object.
int cmd_llm(LlmArgs a);

/// `seedchip validate [--csv FILE] [--check] [--json]`: predicted vs measured
/// for each expressible row, then the mean absolute error. With `check`,
/// returns 1 when the MAE exceeds `max_mae` or a row exceeds `max_error`.
int cmd_validate(const std::string& csv, bool check, double max_mae, double max_error, bool json);

}  // namespace seedchip::cli
