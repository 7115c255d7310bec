// Tests of the step-cost oracle: interpolation against direct timing off the
// grid, additivity of its parts, and bad settings.
#include <chrono>
#include <cmath>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/step_cost.h"

namespace {

using namespace seedchip;

// Random steps off the grid: some decode sequences at assorted contexts and
// up to two prefill chunks, within the oracle's extents.
llm::StepBatch random_batch(std::mt19937_64& rng, int64_t max_seqs, int64_t max_ctx, int64_t max_tokens) {
  llm::StepBatch b;
  std::uniform_int_distribution<int64_t> seqs(0, max_seqs), ctx(16, max_ctx), chunks(0, 2), chunk(1, max_tokens / 4);
  b.decode_seqs = seqs(rng);
  for (int64_t i = 0; i < b.decode_seqs; ++i) b.decode_context_sum += ctx(rng);
  const int64_t k = chunks(rng);
  for (int64_t i = 0; i < k; ++i) b.prefills.push_back({chunk(rng), ctx(rng) / 2});
  if (b.sequences() == 0) b.decode_seqs = 1, b.decode_context_sum = 100;
  return b;
}

void expect_interpolation_within(const std::string& model, const std::string& chip, const std::string& precision,
                                 int64_t tp, double bound) {
  llm::StepOracleOptions o;
  o.precision = precision;
  o.tp = tp;
  o.max_tokens = 2048;
  o.max_seqs = 256;
  o.max_context = 4096;
  llm::StepCostOracle oracle(llm::find_model(model), arch::find_chip(chip), o);
  std::mt19937_64 rng(7);
  double worst = 0;
  for (int i = 0; i < 12; ++i) {
    const auto b = random_batch(rng, o.max_seqs, o.max_context / 2, o.max_tokens);
    const auto a = oracle.cost(b), d = oracle.direct(b);
    ASSERT_GT(d.seconds, 0);
    const double err = std::abs(a.seconds - d.seconds) / d.seconds;
    worst = std::max(worst, err);
    EXPECT_LE(err, bound) << model << " on " << chip << ": " << b.decode_seqs << " decodes (context sum "
                          << b.decode_context_sum << "), " << b.prefills.size() << " chunks: oracle " << a.seconds
                          << " s, direct " << d.seconds << " s";
    EXPECT_NEAR(a.hbm_bytes, d.hbm_bytes, 0.05 * d.hbm_bytes);
  }
  fmt::print("{} on {} {} tp{}: worst interpolation error {:.2f}% over 12 random steps ({} programs timed)\n", model,
             chip, precision, tp, 100 * worst, oracle.programs_timed());
}

TEST(StepCost, InterpolationWithinThreePercentOfDirectTiming) {
  expect_interpolation_within("llama-2-7b", "seedchip-v1", "bf16", 1, 0.03);
  expect_interpolation_within("llama-2-70b", "nvidia-h100-sxm", "fp8", 4, 0.03);
}

TEST(StepCost, GridPointsAreExact) {
  llm::StepOracleOptions o;
  o.max_tokens = 512;
  o.max_seqs = 64;
  o.max_context = 2048;
  llm::StepCostOracle oracle(llm::find_model("llama-2-7b"), arch::find_chip("seedchip-v1"), o);
  llm::StepBatch b;
  b.decode_seqs = 32;
  b.decode_context_sum = 32 * 1024;
  const auto a = oracle.cost(b), d = oracle.direct(b);
  EXPECT_DOUBLE_EQ(a.seconds, d.seconds);
  EXPECT_DOUBLE_EQ(a.energy_j, d.energy_j);
}

TEST(StepCost, MoreWorkCostsMoreAndEmptyCostsNothing) {
  llm::StepOracleOptions o;
  o.max_tokens = 1024;
  o.max_seqs = 128;
  o.max_context = 4096;
  llm::StepCostOracle oracle(llm::find_model("llama-2-7b"), arch::find_chip("seedchip-v1"), o);
  EXPECT_EQ(oracle.cost({}).seconds, 0);
  llm::StepBatch small, longer, wider, with_prefill;
  small.decode_seqs = 8, small.decode_context_sum = 8 * 512;
  longer = small, longer.decode_context_sum = 8 * 3000;
  wider.decode_seqs = 100, wider.decode_context_sum = 100 * 512;
  with_prefill = small, with_prefill.prefills.push_back({512, 0});
  const double t = oracle.cost(small).seconds;
  EXPECT_GT(oracle.cost(longer).seconds, t);
  EXPECT_GT(oracle.cost(wider).seconds, t);
  EXPECT_GT(oracle.cost(with_prefill).seconds, t);
  // the same batch twice gives the same cost (memoised, deterministic)
  EXPECT_EQ(oracle.cost(wider).seconds, oracle.cost(wider).seconds);
  // the whole model's layers: a stage of half the layers costs about half
  llm::StepOracleOptions h = o;
  h.layers = 16;
  h.lm_head = false;
  llm::StepCostOracle half(llm::find_model("llama-2-7b"), arch::find_chip("seedchip-v1"), h);
  EXPECT_LT(half.cost(wider).seconds, 0.55 * oracle.cost(wider).seconds);
  EXPECT_GT(half.cost(wider).seconds, 0.45 * oracle.cost(wider).seconds);
}

TEST(StepCost, BadSettingsAreRefused) {
  const auto m = llm::find_model("llama-2-7b");
  llm::StepOracleOptions o;
  o.precision = "fp8";
  EXPECT_THROW(llm::StepCostOracle(m, arch::find_chip("nvidia-a100-sxm"), o), std::runtime_error);  // no fp8
  o.precision = "bf16";
  o.tp = 3;
  EXPECT_THROW(llm::StepCostOracle(m, arch::find_chip("seedchip-v1"), o), std::runtime_error);  // 32 heads over 3
  o.tp = 1;
  o.layers = 33;
  EXPECT_THROW(llm::StepCostOracle(m, arch::find_chip("seedchip-v1"), o), std::runtime_error);
  o.layers = 0;
  o.precision = "fp4";
  EXPECT_THROW(llm::StepCostOracle(m, arch::find_chip("seedchip-v1"), o), std::runtime_error);
}

}  // namespace
