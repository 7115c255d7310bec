// seedchip — the serving simulator: requests served on simulated chips with
// vLLM V1's continuous-batching rules, paged KV blocks, tensor and pipeline
// parallelism, data-parallel replicas behind a router, disaggregated prefill
// and decode pools, and MLPerf's offline and server scenarios
// (docs/serving.md).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "seedchip/arch/chip.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/step_cost.h"
#include "seedchip/serve/requests.h"

namespace seedchip::serve {

/// A serving configuration (the flags of `seedchip serve`).
struct ServeOptions {
  std::string precision = "bf16";
  int64_t tp = 1, pp = 1, replicas = 1;
  int64_t prefill_replicas = 0, decode_replicas = 0;  ///< --disaggregate P:D (0: not disaggregated)
  std::string router = "round-robin";                 ///< round-robin | least-outstanding
  int64_t max_num_seqs = 0;          ///< 0: vLLM's default for the chip's memory
  int64_t max_batched_tokens = 0;    ///< 0: vLLM's default for the chip's memory
  int64_t block_size = 16;           ///< KV-cache block (tokens)
  double memory_utilization = 0.9;   ///< share of HBM the engine may use (vLLM gpu_memory_utilization)
  /// Mixture of experts: experts/tp whole experts per chip of a replica
  /// (expert parallelism) instead of a slice of each (--expert-parallel).
  bool expert_parallel = false;
  uint64_t routing_seed = 0;         ///< seeds each step's expert routing (--seed)
};

/// Chips a configuration needs: (tp x pp) per replica.
int64_t chips_needed(const ServeOptions& o);

/// Latency limits (seconds); 0 = none.
struct Slo {
  double ttft_s = 0, tpot_s = 0;
};

/// MLPerf's server limits for a built-in model name (p99 TTFT, p99 TPOT), or {0, 0}.
Slo mlperf_slo(const std::string& model);

/// One request's life.
struct RequestRecord {
  int64_t id = 0, prompt = 0, output = 0, preemptions = 0, replica = -1;
  double arrival_s = 0, scheduled_s = -1, first_token_s = -1, finish_s = -1;
  double ttft() const { return first_token_s - arrival_s; }
  /// Mean time between output tokens after the first (0 for one token).
  double tpot() const { return output > 1 ? (finish_s - first_token_s) / static_cast<double>(output - 1) : 0; }
};

/// One engine step, for the trace.
struct StepRecord {
  int64_t engine = 0, decode_seqs = 0, prefill_seqs = 0, prefill_tokens = 0;
  double start_s = 0, seconds = 0;
};

/// A distribution summary.
struct Summary {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  nlohmann::json json() const;
};
/// Summary of `v` (percentiles by the nearest-rank rule).
Summary summarize(std::vector<double> v);

/// The outcome of one serving run.
struct ServeResult {
  std::vector<RequestRecord> requests;
  std::vector<StepRecord> steps;
  int64_t chips = 0, engines = 0;
  int64_t kv_blocks_total = 0;    ///< per engine
  int64_t kv_blocks_per_chip = 0; ///< blocks one engine's memory holds
  double kv_peak_utilization = 0; ///< largest share of an engine's blocks in use
  int64_t preemptions = 0;
  double simulated_s = 0;         ///< time of the last completion
  double output_tokens_per_s = 0; ///< all output tokens over simulated_s (MLPerf offline's figure)
  double requests_per_s = 0;
  double rate_qps = 0;            ///< offered rate (server), 0 offline
  Summary ttft, tpot, e2e, queue;
  double slo_attainment = 0;      ///< share of requests meeting both limits
  Slo slo;
  double energy_j = 0;
  /// Mixture of experts: time engines spent waiting for the most loaded
  /// chip's experts (routing imbalance), summed over steps.
  double expert_imbalance_s = 0;
  int64_t max_num_seqs = 0, max_batched_tokens = 0;
  double oracle_build_s = 0;
  int64_t oracle_programs = 0;
  nlohmann::json json() const;
};

/// A configured deployment: the model, chip and layout with its step-cost
/// oracles, ready to serve request streams (the oracles persist between runs).
class Deployment {
 public:
  /// Checks the layout (chips the interconnect connects, heads that split,
  /// weights and at least one full-length request fitting the memory) and
  /// builds the oracles. Throws std::runtime_error naming the flag.
  Deployment(llm::ModelConfig model, arch::Chip chip, ServeOptions o);

  /// Serves `reqs` (arrival-ordered). `progress` (0..1) is called now and then.
  /// Throws RequestError for a request longer than the model's context or
  /// than the KV cache can ever hold.
  ServeResult serve(const std::vector<Request>& reqs, const Slo& slo,
                    const std::function<void(double)>& progress = {}) const;

  const ServeOptions& options() const { return opt_; }
  const llm::ModelConfig& model() const { return model_; }
  const arch::Chip& chip() const { return chip_; }
  int64_t kv_blocks() const { return blocks_; }

 private:
  llm::ModelConfig model_;
  arch::Chip chip_;
  ServeOptions opt_;
  std::shared_ptr<llm::StepCostOracle> oracle_;
  int64_t blocks_ = 0;        ///< KV blocks per engine
  int64_t kv_bytes_token_ = 0;///< KV bytes per token, whole model
};

/// Result of the server scenario's search for the largest rate meeting the SLOs.
struct RateSearch {
  ServeResult best;        ///< the run at the largest passing rate (or the best attainment found)
  bool met = false;        ///< false: no rate tried met both p99 limits
  std::vector<std::pair<double, bool>> tried;  ///< rates tried and whether they passed
};

/// Searches the largest Poisson rate whose p99 TTFT and p99 TPOT meet `slo`
/// (bisection between 0 and the offline throughput in requests/s).
RateSearch search_rate(const Deployment& d, const std::vector<Request>& reqs, const Slo& slo, const Arrivals& a,
                       uint64_t seed, const std::function<void(double)>& progress = {});

/// Writes one CSV row per request.
void write_requests_csv(const ServeResult& r, const std::string& path);
/// Writes a Chrome/Perfetto trace: a track per engine with each step, and each request's life as a span.
void write_trace(const ServeResult& r, const std::string& path);

}  // namespace seedchip::serve
