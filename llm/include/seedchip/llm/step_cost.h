// seedchip — the step-cost oracle: the time, HBM bytes and energy of one
// engine iteration (a batch of decode sequences and prefill chunks) of a
// model on a chip at a precision and tensor-parallel degree, built from
// compiled and timed layer programs, memoised on a grid and interpolated
// (docs/serving.md "The step-cost oracle").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/precision.h"

namespace seedchip::llm {

/// Settings of an oracle: what one engine (a tensor-parallel group, or one
/// pipeline stage of it) runs.
struct StepOracleOptions {
  std::string precision = "bf16";
  int64_t tp = 1;            ///< tensor-parallel chips (each runs the same shard)
  int64_t layers = 0;        ///< decoder layers this engine runs (a pipeline stage); 0 = all
  bool lm_head = true;       ///< whether this engine runs the LM head (the last stage)
  int64_t kv_page = 16;      ///< tokens per KV page as the timed programs read them (at most the array width)
  int64_t max_tokens = 8192; ///< most tokens one step will hold (grid extent)
  int64_t max_seqs = 1024;   ///< most sequences one step will hold (grid extent)
  int64_t max_context = 0;   ///< longest context (0: the model's max_positions)
  /// Mixture of experts: each of the `tp` chips holds experts/tp whole
  /// experts (expert parallelism, attention still tensor parallel, as vLLM's
  /// --enable-expert-parallel) instead of a 1/tp slice of every expert.
  bool expert_parallel = false;
};

/// A prefill chunk in a step: `tokens` prompt tokens after `offset` already
/// cached ones.
struct PrefillChunk {
  int64_t tokens = 0, offset = 0;
};

/// One step's batch, summarised as the oracle needs it: decode sequences by
/// count and the sum of their contexts (attention cost is linear in the
/// context, so the mean stands for them all), and each prefill chunk.
struct StepBatch {
  int64_t decode_seqs = 0;
  int64_t decode_context_sum = 0;  ///< positions attended, summed over decode sequences (each incl. its new token)
  std::vector<PrefillChunk> prefills;
  /// Mixture of experts: seeds the step's routing (each token's top-k
  /// experts, drawn uniformly per layer), so the same step costs the same.
  uint64_t routing_seed = 0;
  int64_t tokens() const;
  int64_t sequences() const { return decode_seqs + static_cast<int64_t>(prefills.size()); }
};

/// What a step costs on one engine (per chip for bytes and energy summed over its chips).
struct StepCost {
  double seconds = 0;
  double hbm_bytes = 0;  ///< all chips of the engine
  double energy_j = 0;   ///< all chips of the engine
  double flops = 0;      ///< model operations (2 x MACs), all chips
  /// Mixture of experts: seconds the step's experts took over what the same
  /// tokens spread perfectly evenly would take (routing imbalance), summed over layers.
  double imbalance_s = 0;
};

/// The oracle. Grid points are compiled and timed on first use and kept;
/// cost() is thread-safe.
class StepCostOracle {
 public:
  /// Throws std::runtime_error for a precision the chip lacks, heads that do
  /// not split over `tp`, or more chips than the interconnect connects.
  StepCostOracle(ModelConfig model, arch::Chip chip, StepOracleOptions o);

  /// The interpolated cost of a step (zero for an empty batch).
  StepCost cost(const StepBatch& b) const;
  /// The same step timed directly at its exact token count, decode context
  /// (the mean, rounded) and chunk shapes, without the grid (for tests and
  /// for stating the interpolation error).
  StepCost direct(const StepBatch& b) const;

  const ModelConfig& model() const { return model_; }
  const ModelConfig& shard() const { return shard_; }
  const arch::Chip& chip() const { return chip_; }
  const PrecisionPolicy& policy() const { return policy_; }
  const StepOracleOptions& options() const { return opt_; }
  /// Programs compiled and timed so far.
  int64_t programs_timed() const;
  /// Wall seconds spent compiling and timing them.
  double build_seconds() const;

  /// Token-count grid of the dense part (exposed for tests: points between
  /// grid entries are interpolated).
  const std::vector<int64_t>& token_grid() const { return tokens_; }
  const std::vector<int64_t>& seq_grid() const { return seqs_; }
  const std::vector<int64_t>& context_grid() const { return contexts_; }

  /// One timed part of a step (per chip).
  struct Part {
    double seconds = 0, bytes = 0, energy = 0, flops = 0;
  };

 private:
  Part dense_exact(int64_t tokens) const;
  Part decode_attn_exact(int64_t seqs, int64_t context) const;
  Part prefill_attn_exact(int64_t tokens, int64_t offset) const;
  Part head_exact(int64_t seqs) const;
  Part dense(int64_t tokens) const;
  Part decode_attn(int64_t seqs, int64_t context) const;
  Part prefill_attn(int64_t tokens, int64_t offset) const;
  Part head(int64_t seqs) const;
  Part expert(int64_t tokens, bool exact) const;
  /// The experts' part of a step of n tokens: seconds (slowest chip per
  /// layer, summed over layers), totals over all chips, and the imbalance.
  struct Experts {
    double seconds = 0, bytes = 0, energy = 0, flops = 0, imbalance_s = 0;
  };
  Experts experts(int64_t n, uint64_t seed, bool exact) const;
  Part memo(int kind, int64_t a, int64_t b) const;
  Part refine(int kind, int64_t a, int64_t b, int64_t n) const;
  StepCost price(const StepBatch& b, bool exact) const;
  StepCost combine(const StepBatch& b, const Part& dense, const Part& attn, const Part& head, bool exact) const;

  ModelConfig model_, shard_, expert_;  // expert_: what one chip holds of one expert
  arch::Chip chip_;
  StepOracleOptions opt_;
  PrecisionPolicy policy_;
  int64_t layers_ = 0;
  std::vector<int64_t> tokens_, seqs_, contexts_, chunk_tokens_, offsets_;
  mutable std::mutex mu_;
  mutable std::map<std::tuple<int, int64_t, int64_t>, Part> cache_;
  mutable int64_t timed_ = 0;
  mutable double build_s_ = 0;
};

}  // namespace seedchip::llm
