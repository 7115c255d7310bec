// seedchip — the serving simulator (docs/serving.md): a discrete-event loop
// over request arrivals, engine steps and KV transfers; each engine schedules
// its steps by vLLM V1's rules and prices them with the step-cost oracle.
#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/llm/llm.h"
#include "seedchip/serve/serve.h"

namespace seedchip::serve {

namespace {

double link_seconds(const arch::Chip& chip, double bytes) {
  const auto& ic = chip.interconnect;
  if (ic.topology.empty() || ic.link_bytes_per_s <= 0) return 0;
  return bytes / (ic.link_bytes_per_s * ic.efficiency) + ic.latency_ns * 1e-9;
}

}  // namespace

int64_t chips_needed(const ServeOptions& o) {
  const int64_t engines = o.prefill_replicas > 0 ? o.prefill_replicas + o.decode_replicas : o.replicas;
  return o.tp * o.pp * engines;
}

Slo mlperf_slo(const std::string& model) {
  // MLPerf Inference server limits (mlcommons inference_policies inference_rules.adoc)
  if (model == "llama-2-70b") return {2.0, 0.2};
  if (model == "mixtral-8x7b") return {2.0, 0.2};
  if (model == "llama-3.1-405b") return {6.0, 0.175};
  return {};
}

nlohmann::json Summary::json() const { return {{"mean", mean}, {"p50", p50}, {"p90", p90}, {"p99", p99}, {"max", max}}; }

Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  auto rank = [&](double q) {  // nearest rank
    const auto k = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<size_t>(k, 1, v.size()) - 1];
  };
  s.p50 = rank(0.5);
  s.p90 = rank(0.9);
  s.p99 = rank(0.99);
  s.max = v.back();
  return s;
}

nlohmann::json ServeResult::json() const {
  int64_t out = 0, in = 0;
  for (const auto& r : requests) out += r.output, in += r.prompt;
  return {{"requests", requests.size()},
          {"input_tokens", in},
          {"output_tokens", out},
          {"output_tokens_per_s", output_tokens_per_s},
          {"output_tokens_per_s_per_chip", chips > 0 ? output_tokens_per_s / static_cast<double>(chips) : 0},
          {"requests_per_s", requests_per_s},
          {"rate_qps", rate_qps},
          {"ttft_s", ttft.json()},
          {"tpot_s", tpot.json()},
          {"e2e_s", e2e.json()},
          {"queue_s", queue.json()},
          {"slo", {{"ttft_s", slo.ttft_s}, {"tpot_s", slo.tpot_s}}},
          {"slo_attainment", slo_attainment},
          {"preemptions", preemptions},
          {"kv_blocks_total", kv_blocks_total},
          {"kv_peak_utilization", kv_peak_utilization},
          {"steps", steps.size()},
          {"simulated_s", simulated_s},
          {"chips", chips},
          {"engines", engines},
          {"max_num_seqs", max_num_seqs},
          {"max_num_batched_tokens", max_batched_tokens},
          {"energy_j", energy_j},
          {"expert_imbalance_s", expert_imbalance_s},
          {"energy_per_output_token_j", out > 0 ? energy_j / static_cast<double>(out) : 0},
          {"oracle_programs", oracle_programs}};  // (its wall time is not an output: outputs are deterministic)
}

Deployment::Deployment(llm::ModelConfig model, arch::Chip chip, ServeOptions o)
    : model_(std::move(model)), chip_(std::move(chip)), opt_(std::move(o)) {
  auto& op = opt_;
  if (op.tp < 1) throw std::runtime_error(fmt::format("--tp {}: must be at least 1", op.tp));
  if (op.pp < 1) throw std::runtime_error(fmt::format("--pp {}: must be at least 1", op.pp));
  if (op.pp > model_.layers)
    throw std::runtime_error(fmt::format("--pp {}: {} has only {} layers to split into stages", op.pp, model_.name, model_.layers));
  if (op.replicas < 1) throw std::runtime_error(fmt::format("--replicas {}: must be at least 1", op.replicas));
  if ((op.prefill_replicas > 0) != (op.decode_replicas > 0) || op.prefill_replicas < 0 || op.decode_replicas < 0)
    throw std::runtime_error("--disaggregate P:D needs at least one prefill and one decode replica");
  if (op.block_size < 1 || op.block_size > 1024)
    throw std::runtime_error(fmt::format("--block-size {}: must be 1 to 1024 tokens", op.block_size));
  if (!(op.memory_utilization > 0 && op.memory_utilization <= 1))
    throw std::runtime_error(fmt::format("memory utilization {}: must be in (0, 1]", op.memory_utilization));
  if (op.router != "round-robin" && op.router != "least-outstanding")
    throw std::runtime_error(fmt::format("--router '{}': expected round-robin or least-outstanding", op.router));
  const int64_t group = op.tp * op.pp;
  llm::check_layout(chip_, group, fmt::format("--tp {} --pp {} (one replica)", op.tp, op.pp));
  if (op.prefill_replicas > 0 && chip_.interconnect.topology.empty())
    throw std::runtime_error(fmt::format("--disaggregate: chip '{}' has no links to move KV caches over", chip_.name));
  // vLLM V1's defaults (vllm/engine/arg_utils.py): 8192 tokens / 1024
  // sequences on GPUs of >= 70 GiB other than the A100, else 2048 / 256
  const bool big = chip_.memory.capacity_bytes >= (70ull << 30) && chip_.name.find("a100") == std::string::npos;
  if (op.max_batched_tokens == 0) op.max_batched_tokens = big ? 8192 : 2048;
  if (op.max_num_seqs == 0) op.max_num_seqs = big ? 1024 : 256;
  if (op.max_batched_tokens < 1) throw std::runtime_error("--max-batched-tokens must be at least 1");
  if (op.max_num_seqs < 1) throw std::runtime_error("--max-num-seqs must be at least 1");
  const auto pol = llm::precision_policy(op.precision);
  const llm::ModelConfig sc = llm::shard_config(model_, op.tp);
  const double stage_layers = std::ceil(static_cast<double>(model_.layers) / static_cast<double>(op.pp));
  const double stage = stage_layers / static_cast<double>(model_.layers);
  // memory of one chip: its share of the weights, an activation reserve for
  // the largest step (the step's hidden states, QKV, MLP and logits buffers,
  // as vLLM's profiling run measures), the rest KV blocks
  const double act_b = static_cast<double>(ir::elem_size(pol.activations));
  const double weights = static_cast<double>(model_.parameters()) * pol.weight_bytes / static_cast<double>(op.tp * op.pp);
  const double act = static_cast<double>(op.max_batched_tokens) *
                         static_cast<double>(3 * model_.hidden + (sc.heads + 2 * sc.kv_heads) * sc.head_dim + 2 * sc.intermediate *
                                                 std::max<int64_t>(1, model_.experts_per_token)) *
                         act_b +
                     static_cast<double>(op.max_num_seqs) * static_cast<double>(sc.vocab) * 4;
  const double usable = static_cast<double>(chip_.memory.capacity_bytes) * op.memory_utilization;
  const double kv_tok_chip = static_cast<double>(sc.kv_bytes_per_token(pol.kv_bytes())) * stage;
  const double free_b = usable - weights - act;
  kv_bytes_token_ = model_.kv_bytes_per_token(pol.kv_bytes());
  const int64_t per_chip = free_b > 0 ? static_cast<int64_t>(free_b / (kv_tok_chip * static_cast<double>(op.block_size))) : 0;
  blocks_ = per_chip / op.pp;  // pipeline stages run pp batches in flight, each with its share
  if (blocks_ < 1)
    throw std::runtime_error(fmt::format(
        "{} on {} x '{}' (--tp {} --pp {}, {}): each chip holds {:.1f} GB of weights and {:.1f} GB of activations in "
        "{:.1f} GB usable ({:.0f}% of {:.1f} GB), leaving no room for a KV block; use more chips per replica",
        model_.name, group, chip_.name, op.tp, op.pp, op.precision, weights / 1e9, act / 1e9, usable / 1e9,
        100 * op.memory_utilization, static_cast<double>(chip_.memory.capacity_bytes) / 1e9));
  llm::StepOracleOptions so;
  so.precision = op.precision;
  so.tp = op.tp;
  so.kv_page = std::min<int64_t>(op.block_size, chip_.core.matrix.cols);
  so.max_tokens = op.max_batched_tokens;
  so.max_seqs = op.max_num_seqs;
  so.max_context = std::max<int64_t>(model_.max_positions, 2);
  so.expert_parallel = op.expert_parallel;
  oracle_ = std::make_shared<llm::StepCostOracle>(model_, chip_, so);
}

namespace {

// A request's progress inside an engine.
struct Live {
  int64_t computed = 0;   // tokens whose KV is cached
  int64_t generated = 0;  // output tokens produced
  int64_t blocks = 0;     // KV blocks held
};

struct Engine {
  bool prefill_only = false, decode_only = false;
  std::deque<int64_t> waiting;
  std::vector<int64_t> running;
  int64_t free_blocks = 0, total_blocks = 0;
  bool busy = false;
  double end_s = 0;
  uint64_t steps_run = 0;
  std::vector<std::pair<int64_t, int64_t>> sched;  // (request, tokens) of the step in flight
  double peak_used = 0;
  int64_t outstanding() const { return static_cast<int64_t>(waiting.size() + running.size()); }
};

}  // namespace

ServeResult Deployment::serve(const std::vector<Request>& reqs, const Slo& slo,
                              const std::function<void(double)>& progress) const {
  const auto& op = opt_;
  const bool disagg = op.prefill_replicas > 0;
  const int64_t replicas = disagg ? op.prefill_replicas + op.decode_replicas : op.replicas;
  const int64_t B = op.block_size;
  const int64_t capacity_tokens = blocks_ * B;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const auto& q = reqs[i];
    if (q.prompt < 1 || q.output < 1)
      throw RequestError(fmt::format("request {}: prompt and output must be at least one token", q.id));
    if (i > 0 && q.arrival_s < reqs[i - 1].arrival_s)
      throw RequestError(fmt::format("request {}: arrives before the request before it", q.id));
    if (q.prompt + q.output > model_.max_positions)
      throw RequestError(fmt::format("request {}: {} prompt + {} output tokens exceed {}'s context of {}", q.id, q.prompt,
                                     q.output, model_.name, model_.max_positions));
    if (q.prompt + q.output > capacity_tokens)
      throw RequestError(fmt::format("request {}: {} tokens of KV cache, but an engine holds at most {} ({} blocks of {})",
                                     q.id, q.prompt + q.output, capacity_tokens, blocks_, B));
  }
  // engines: pp virtual engines per replica (pipelined batches in flight)
  std::vector<Engine> eng(static_cast<size_t>(replicas * op.pp));
  for (size_t e = 0; e < eng.size(); ++e) {
    eng[e].free_blocks = eng[e].total_blocks = blocks_;
    const int64_t rep = static_cast<int64_t>(e) / op.pp;
    eng[e].prefill_only = disagg && rep < op.prefill_replicas;
    eng[e].decode_only = disagg && rep >= op.prefill_replicas;
  }
  ServeResult res;
  res.slo = slo;
  res.chips = chips_needed(op);
  res.engines = static_cast<int64_t>(eng.size());
  res.kv_blocks_total = blocks_;
  res.max_num_seqs = op.max_num_seqs;
  res.max_batched_tokens = op.max_batched_tokens;
  const size_t n = reqs.size();
  res.requests.resize(n);
  std::vector<Live> live(n);
  for (size_t i = 0; i < n; ++i) {
    auto& r = res.requests[i];
    r.id = reqs[i].id;
    r.prompt = reqs[i].prompt;
    r.output = reqs[i].output;
    r.arrival_s = reqs[i].arrival_s;
  }
  const double pp_xfer = static_cast<double>(op.pp - 1);
  const double act_b = static_cast<double>(ir::elem_size(oracle_->policy().activations));
  auto blocks_for = [B](int64_t tokens) { return (tokens + B - 1) / B; };
  // engines of a pool, and the router's choice among them
  int64_t rr_mixed = 0, rr_decode = 0;
  auto route = [&](bool to_decode) -> size_t {
    const int64_t lo = disagg ? (to_decode ? op.prefill_replicas : 0) * op.pp : 0;
    const int64_t hi = disagg ? (to_decode ? replicas : op.prefill_replicas) * op.pp : replicas * op.pp;
    const int64_t count = hi - lo;
    if (op.router == "round-robin") {
      int64_t& c = to_decode ? rr_decode : rr_mixed;
      return static_cast<size_t>(lo + (c++ % count));
    }
    size_t best = static_cast<size_t>(lo);
    for (int64_t e = lo; e < hi; ++e)
      if (eng[static_cast<size_t>(e)].outstanding() < eng[best].outstanding()) best = static_cast<size_t>(e);
    return best;
  };
  // vLLM V1's schedule of one step on engine e at time now; false when it has nothing to run
  auto schedule = [&](Engine& en, double now) {
    en.sched.clear();
    int64_t budget = op.max_batched_tokens;
    bool preempted = false;
    for (size_t i = 0; i < en.running.size() && budget > 0;) {
      const int64_t q = en.running[i];
      Live& L = live[static_cast<size_t>(q)];
      const auto& rec = res.requests[static_cast<size_t>(q)];
      const int64_t need = rec.prompt + L.generated - L.computed;
      const int64_t t = std::min(need, budget);
      const int64_t want = blocks_for(L.computed + t) - L.blocks;
      bool self = false;
      while (want > en.free_blocks) {  // recompute preemption of the newest running request
        const int64_t v = en.running.back();
        Live& V = live[static_cast<size_t>(v)];
        en.free_blocks += V.blocks;
        V.blocks = 0;
        V.computed = 0;
        ++res.requests[static_cast<size_t>(v)].preemptions;
        ++res.preemptions;
        en.running.pop_back();
        en.waiting.push_front(v);
        preempted = true;
        if (v == q) {
          self = true;
          break;
        }
      }
      if (self) break;
      en.free_blocks -= want;
      L.blocks += want;
      en.sched.emplace_back(q, t);
      budget -= t;
      ++i;
    }
    if (!preempted) {
      while (!en.waiting.empty() && budget > 0 && static_cast<int64_t>(en.running.size()) < op.max_num_seqs) {
        const int64_t q = en.waiting.front();
        Live& L = live[static_cast<size_t>(q)];
        const auto& rec = res.requests[static_cast<size_t>(q)];
        const int64_t t = std::min(rec.prompt + L.generated - L.computed, budget);
        const int64_t want = blocks_for(L.computed + t) - L.blocks;
        if (want > en.free_blocks) break;
        en.free_blocks -= want;
        L.blocks += want;
        en.waiting.pop_front();
        en.running.push_back(q);
        if (res.requests[static_cast<size_t>(q)].scheduled_s < 0) res.requests[static_cast<size_t>(q)].scheduled_s = now;
        en.sched.emplace_back(q, t);
        budget -= t;
      }
    }
    if (en.sched.empty()) return false;
    // price the step
    llm::StepBatch b;
    int64_t ptoks = 0;
    for (const auto& [q, t] : en.sched) {
      const Live& L = live[static_cast<size_t>(q)];
      if (t == 1 && L.computed >= res.requests[static_cast<size_t>(q)].prompt) {
        ++b.decode_seqs;
        b.decode_context_sum += L.computed + 1;
      } else {
        b.prefills.push_back({t, L.computed});
        ptoks += t;
      }
    }
    // each engine's steps route their tokens by a seed of (run seed, engine, step)
    b.routing_seed = op.routing_seed * 0x100000001b3ULL ^ (static_cast<uint64_t>(&en - eng.data()) << 40) ^ en.steps_run++;
    const auto c = oracle_->cost(b);
    res.expert_imbalance_s += c.imbalance_s;
    double secs = c.seconds;
    if (op.pp > 1)  // activations handed from stage to stage
      secs += pp_xfer * link_seconds(chip_, static_cast<double>(b.tokens() * model_.hidden) * act_b);
    res.energy_j += c.energy_j * static_cast<double>(op.pp);  // (the oracle prices all layers on one tp group)
    en.busy = true;
    en.end_s = now + secs;
    const double used = static_cast<double>(en.total_blocks - en.free_blocks) / static_cast<double>(en.total_blocks);
    res.kv_peak_utilization = std::max(res.kv_peak_utilization, used);
    StepRecord s;
    s.engine = &en - eng.data();
    s.decode_seqs = b.decode_seqs;
    s.prefill_seqs = static_cast<int64_t>(b.prefills.size());
    s.prefill_tokens = ptoks;
    s.start_s = now;
    s.seconds = secs;
    res.steps.push_back(s);
    return true;
  };
  // pending KV transfers (disaggregated): (time, request)
  std::deque<std::pair<double, int64_t>> transfers;
  size_t next = 0, done = 0;
  double now = 0, last_report = -1;
  const double inf = std::numeric_limits<double>::infinity();
  while (done < n) {
    // the next event: an arrival, a transfer landing, or a step ending (earliest engine first)
    const double t_arr = next < n ? reqs[next].arrival_s : inf;
    const double t_xfer = transfers.empty() ? inf : transfers.front().first;
    size_t e_min = 0;
    double t_end = inf;
    for (size_t e = 0; e < eng.size(); ++e)
      if (eng[e].busy && eng[e].end_s < t_end) t_end = eng[e].end_s, e_min = e;
    if (t_arr == inf && t_xfer == inf && t_end == inf)
      throw std::logic_error("serve: requests left but nothing scheduled");  // (a scheduler bug, not bad input)
    if (t_arr <= t_xfer && t_arr <= t_end) {
      now = t_arr;
      const size_t e = route(false);
      eng[e].waiting.push_back(static_cast<int64_t>(next));
      ++next;
      if (!eng[e].busy) schedule(eng[e], now);
      continue;
    }
    if (t_xfer <= t_end) {
      now = t_xfer;
      const int64_t q = transfers.front().second;
      transfers.pop_front();
      const size_t e = route(true);
      eng[e].waiting.push_back(q);
      if (!eng[e].busy) schedule(eng[e], now);
      continue;
    }
    now = t_end;
    Engine& en = eng[e_min];
    en.busy = false;
    std::vector<int64_t> finished;
    for (const auto& [q, t] : en.sched) {
      Live& L = live[static_cast<size_t>(q)];
      auto& rec = res.requests[static_cast<size_t>(q)];
      L.computed += t;
      if (L.computed < rec.prompt + L.generated) continue;  // a prefill chunk: no token yet
      ++L.generated;
      if (rec.first_token_s < 0) rec.first_token_s = now, rec.replica = (&en - eng.data()) / op.pp;
      const bool last = L.generated >= rec.output;
      if (last || (en.prefill_only && L.generated == 1)) finished.push_back(q);
      if (last) {
        rec.finish_s = now;
        ++done;
      } else if (en.prefill_only) {
        // the prompt's KV cache moves to a decode replica over the links
        const double bytes = static_cast<double>(kv_bytes_token_ * L.computed) / static_cast<double>(op.tp);
        transfers.emplace_back(now + link_seconds(chip_, bytes), q);
        std::stable_sort(transfers.begin(), transfers.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
      }
    }
    if (!finished.empty()) {
      std::sort(finished.begin(), finished.end());
      std::vector<int64_t> keep;
      keep.reserve(en.running.size());
      for (int64_t q : en.running) {
        if (std::binary_search(finished.begin(), finished.end(), q)) {
          Live& L = live[static_cast<size_t>(q)];
          en.free_blocks += L.blocks;
          L.blocks = 0;
        } else {
          keep.push_back(q);
        }
      }
      en.running.swap(keep);
    }
    schedule(en, now);
    if (progress && static_cast<double>(done) - last_report >= static_cast<double>(n) / 200) {
      last_report = static_cast<double>(done);
      progress(static_cast<double>(done) / static_cast<double>(n));
    }
  }
  // figures
  std::vector<double> ttft, tpot, e2e, queue;
  int64_t out = 0, ok = 0;
  double first_arrival = n ? reqs[0].arrival_s : 0;
  for (const auto& r : res.requests) {
    ttft.push_back(r.ttft());
    if (r.output > 1) tpot.push_back(r.tpot());
    e2e.push_back(r.finish_s - r.arrival_s);
    queue.push_back(r.scheduled_s - r.arrival_s);
    out += r.output;
    res.simulated_s = std::max(res.simulated_s, r.finish_s);
    const bool meets = (slo.ttft_s <= 0 || r.ttft() <= slo.ttft_s) && (slo.tpot_s <= 0 || r.tpot() <= slo.tpot_s);
    ok += meets;
  }
  res.ttft = summarize(ttft);
  res.tpot = summarize(tpot);
  res.e2e = summarize(e2e);
  res.queue = summarize(queue);
  const double span = res.simulated_s - first_arrival;
  res.output_tokens_per_s = span > 0 ? static_cast<double>(out) / span : 0;
  res.requests_per_s = span > 0 ? static_cast<double>(n) / span : 0;
  res.slo_attainment = n ? static_cast<double>(ok) / static_cast<double>(n) : 0;
  res.oracle_build_s = oracle_->build_seconds();
  res.oracle_programs = oracle_->programs_timed();
  if (progress) progress(1.0);
  return res;
}

RateSearch search_rate(const Deployment& d, const std::vector<Request>& reqs, const Slo& slo, const Arrivals& a,
                       uint64_t seed, const std::function<void(double)>& progress) {
  if (slo.ttft_s <= 0 && slo.tpot_s <= 0)
    throw std::runtime_error("the server scenario's rate search needs --ttft-slo or --tpot-slo (no MLPerf limits for this model)");
  RateSearch s;
  auto passes = [&](const ServeResult& r) {
    return (slo.ttft_s <= 0 || r.ttft.p99 <= slo.ttft_s) && (slo.tpot_s <= 0 || r.tpot.p99 <= slo.tpot_s);
  };
  // the offline throughput bounds the rate
  std::vector<Request> off = reqs;
  for (auto& r : off) r.arrival_s = 0;
  const ServeResult top = d.serve(off, slo);
  double lo = 0, hi = top.requests_per_s * 1.05;
  const int iterations = 12;
  bool any = false;
  double best_att = -1;
  for (int it = 0; it < iterations; ++it) {
    const double rate = any || it > 0 ? (lo + hi) / 2 : hi;
    std::vector<Request> q = reqs;
    assign_arrivals(q, rate, a, seed);
    ServeResult r = d.serve(q, slo);
    r.rate_qps = rate;
    const bool ok = passes(r);
    s.tried.emplace_back(rate, ok);
    if (ok) {
      lo = rate;
      s.best = std::move(r);
      s.met = any = true;
    } else {
      hi = rate;
      if (!any && r.slo_attainment > best_att) {
        best_att = r.slo_attainment;
        s.best = std::move(r);
      }
    }
    if (progress) progress(static_cast<double>(it + 1) / iterations);
    if (any && hi - lo < 0.01 * hi) break;
  }
  return s;
}

}  // namespace seedchip::serve
