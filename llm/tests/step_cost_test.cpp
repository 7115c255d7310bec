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
                                 int64_t tp, double bound, bool expert_parallel = false) {
  llm::StepOracleOptions o;
  o.precision = precision;
  o.tp = tp;
  o.expert_parallel = expert_parallel;
  o.max_tokens = 2048;
  o.max_seqs = 256;
  o.max_context = 4096;
  llm::StepCostOracle oracle(llm::find_model(model), arch::find_chip(chip), o);
  std::mt19937_64 rng(7);
  double worst = 0;
  for (int i = 0; i < 12; ++i) {
    auto b = random_batch(rng, o.max_seqs, o.max_context / 2, o.max_tokens);
    b.routing_seed = static_cast<uint64_t>(i);
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
  expect_interpolation_within("mixtral-8x7b", "nvidia-h100-sxm", "fp8", 2, 0.03, true);
}

// A small Mixtral-shaped model (8 experts, top 2), quick to compile.
llm::ModelConfig tiny_moe() {
  return llm::parse_config(R"({"model_type": "mixtral", "hidden_size": 512, "num_hidden_layers": 4,
    "num_attention_heads": 8, "num_key_value_heads": 8, "intermediate_size": 1024, "vocab_size": 1000,
    "max_position_embeddings": 2048, "num_local_experts": 8, "num_experts_per_tok": 2})",
                           "tiny-moe");
}

TEST(StepCost, ExpertRoutingIsSeededAndImbalanceCostsTime) {
  llm::StepOracleOptions o;
  o.tp = 4;
  o.max_tokens = 512;
  o.max_seqs = 256;
  o.max_context = 2048;
  o.expert_parallel = true;
  const auto chip = arch::find_chip("seedchip-v1");
  llm::StepCostOracle ep(tiny_moe(), chip, o);
  llm::StepBatch b;
  b.decode_seqs = 200;
  b.decode_context_sum = 200 * 300;
  b.routing_seed = 1;
  const auto c1 = ep.cost(b);
  EXPECT_EQ(c1.seconds, ep.cost(b).seconds);  // the same seed routes the same way
  EXPECT_GT(c1.imbalance_s, 0);               // 400 picks over 8 experts on 4 chips are never even
  double lo = c1.seconds, hi = c1.seconds;
  for (uint64_t s = 2; s < 10; ++s) {
    b.routing_seed = s;
    const double t = ep.cost(b).seconds;
    lo = std::min(lo, t), hi = std::max(hi, t);
  }
  EXPECT_GT(hi, lo);  // other routings, other costs
  // a slice of every expert on every chip waits for no chip
  o.expert_parallel = false;
  llm::StepCostOracle sliced(tiny_moe(), chip, o);
  EXPECT_EQ(sliced.cost(b).imbalance_s, 0);
  // one decode token reads its two experts' weights; a wide step reads all eight
  llm::StepBatch one;
  one.decode_seqs = 1;
  one.decode_context_sum = 300;
  llm::StepOracleOptions d = o;
  d.tp = 1;
  llm::StepCostOracle whole(tiny_moe(), chip, d);
  const double expert_bytes = 3.0 * 512 * 1024 * 2;  // gate, up, down in bf16
  const double wide = whole.cost(b).hbm_bytes, narrow = whole.cost(one).hbm_bytes;
  EXPECT_GT(wide - narrow, 4 * 6 * expert_bytes * 0.9);  // 4 layers x at least 6 more experts
}

TEST(StepCost, ExpertParallelismNeedsExpertsThatSplit) {
  llm::StepOracleOptions o;
  o.expert_parallel = true;
  const auto chip = arch::find_chip("seedchip-v1");
  EXPECT_THROW(llm::StepCostOracle(llm::find_model("llama-2-7b"), chip, o), std::runtime_error);  // no experts
  o.tp = 8;
  auto m = tiny_moe();
  m.experts = 6;  // 6 experts over 8 chips
  m.experts_per_token = 2;
  try {
    llm::StepCostOracle bad(m, chip, o);
    ADD_FAILURE() << "6 experts over 8 chips accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("do not split evenly over 8 chips"), std::string::npos) << e.what();
  }
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
