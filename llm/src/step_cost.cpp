// seedchip — the step-cost oracle (docs/serving.md "The step-cost oracle").
//
// A step's time on one engine is, per decoder layer, the dense part (norms,
// projections, RoPE, MLP, residuals: a function of the step's token count),
// the attention of the decode sequences (a function of their count and mean
// context) and of each prefill chunk (its tokens and offset), and the two
// tensor-parallel all-reduces; for a mixture of experts, each expert's MLP
// over the tokens the step's seeded routing sends it; then the LM head over
// one row per sequence. Each part is a compiled and timed program at grid points, computed on first
// use and interpolated linearly (bilinearly for the two-argument parts).
#include "seedchip/llm/step_cost.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "layers.h"
#include "seedchip/llm/llm.h"

namespace seedchip::llm {

namespace {

// 1, 2, 3, 4, 6, 8, 12, 16, ... (steps of 1.5x and 4/3x), ending at `hi`.
std::vector<int64_t> fine_grid(int64_t hi) {
  std::vector<int64_t> g;
  for (int64_t p = 1; p <= hi; p *= 2) {
    g.push_back(p);
    if (p >= 2 && p + p / 2 <= hi) g.push_back(p + p / 2);
  }
  std::sort(g.begin(), g.end());
  if (g.back() != hi) g.push_back(hi);
  return g;
}

// lo, 2 lo, 4 lo, ... ending at `hi` (with 0 first when `zero`).
std::vector<int64_t> doubling_grid(int64_t lo, int64_t hi, bool zero) {
  std::vector<int64_t> g;
  if (zero) g.push_back(0);
  for (int64_t p = lo; p < hi; p *= 2) g.push_back(p);
  g.push_back(hi);
  return g;
}

// The bracketing grid entries of x and the weight of the upper one (x past
// the last entry extrapolates from the last two).
struct Bracket {
  size_t lo = 0, hi = 0;
  double w = 0;
};
Bracket bracket(const std::vector<int64_t>& g, double x) {
  if (g.size() == 1) return {0, 0, 0};
  auto it = std::upper_bound(g.begin(), g.end(), x);
  size_t hi = static_cast<size_t>(it - g.begin());
  hi = std::clamp<size_t>(hi, 1, g.size() - 1);
  const size_t lo = hi - 1;
  const double a = static_cast<double>(g[lo]), b = static_cast<double>(g[hi]);
  return {lo, hi, std::max(0.0, (x - a) / (b - a))};
}

}  // namespace

int64_t StepBatch::tokens() const {
  int64_t n = decode_seqs;
  for (const auto& p : prefills) n += p.tokens;
  return n;
}

StepCostOracle::StepCostOracle(ModelConfig model, arch::Chip chip, StepOracleOptions o)
    : model_(std::move(model)), chip_(std::move(chip)), opt_(std::move(o)), policy_(precision_policy(opt_.precision)) {
  check_layout(chip_, opt_.tp, fmt::format("--tp {}", opt_.tp));
  check_precision_supported(policy_, chip_);
  shard_ = shard_config(model_, opt_.tp);
  expert_ = shard_;
  if (opt_.expert_parallel) {
    if (model_.experts == 0)
      throw std::runtime_error(fmt::format("--expert-parallel: {} is not a mixture of experts", model_.name));
    if (model_.experts % opt_.tp != 0)
      throw std::runtime_error(fmt::format("--expert-parallel: the {} experts of {} do not split evenly over {} chips (--tp)",
                                           model_.experts, model_.name, opt_.tp));
    expert_.intermediate = model_.intermediate;  // whole experts, experts/tp per chip
  }
  layers_ = opt_.layers > 0 ? opt_.layers : model_.layers;
  if (opt_.layers < 0 || opt_.layers > model_.layers)
    throw std::runtime_error(fmt::format("{}: a pipeline stage of {} layers, but the model has {}", model_.name, opt_.layers,
                                         model_.layers));
  if (opt_.kv_page < 0 || opt_.kv_page > static_cast<int64_t>(chip_.core.matrix.cols))
    throw std::runtime_error(fmt::format("KV block of {} tokens: the timed programs read 1 to {} tokens per page (the "
                                         "array width of '{}')",
                                         opt_.kv_page, chip_.core.matrix.cols, chip_.name));
  if (opt_.max_tokens < 1 || opt_.max_seqs < 1) throw std::runtime_error("the step-cost grid needs max_tokens and max_seqs >= 1");
  if (opt_.max_context <= 0) opt_.max_context = std::max<int64_t>(model_.max_positions, 2);
  tokens_ = fine_grid(opt_.max_tokens);
  chunk_tokens_ = tokens_;
  seqs_ = fine_grid(opt_.max_seqs);
  contexts_ = doubling_grid(1, opt_.max_context, false);
  offsets_ = doubling_grid(64, opt_.max_context, true);
}

int64_t StepCostOracle::programs_timed() const {
  std::lock_guard<std::mutex> l(mu_);
  return timed_;
}

double StepCostOracle::build_seconds() const {
  std::lock_guard<std::mutex> l(mu_);
  return build_s_;
}

namespace {
StepCostOracle::Part add(StepCostOracle::Part a, const StepCostOracle::Part& b) {
  a.seconds += b.seconds;
  a.bytes += b.bytes;
  a.energy += b.energy;
  a.flops += b.flops;
  return a;
}
}  // namespace

// Parts are keyed (kind, a, b): 0 dense over a tokens; 1 decode attention of
// a sequences at context b; 2 prefill attention of a tokens after b cached;
// 3 the LM head over a rows; 4 one expert over a tokens. A program that outgrows the instruction memory
// is split in two (sequences or query tokens halved) and the halves summed,
// as the engine would run them.
StepCostOracle::Part StepCostOracle::memo(int kind, int64_t a, int64_t b) const {
  std::unique_lock<std::mutex> l(mu_);
  const auto key = std::make_tuple(kind, a, b);
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  l.unlock();
  const auto t0 = std::chrono::steady_clock::now();
  DecoderSpec s;
  s.kv_page = opt_.kv_page;
  std::optional<Timed> t;
  std::optional<Part> split;
  switch (kind) {
    case 0:  // dense part over `a` tokens: programs of at most program_tokens each
      if (a > program_tokens(chip_)) {
        const int64_t h = (a + 1) / 2;
        split = add(memo(0, h, 0), memo(0, a - h, 0));
        break;
      }
      s.part = LayerPart::dense;
      s.tokens = s.context = a;
      t = try_time_graph(decoder_graph(shard_, s, policy_), chip_, policy_.compile);
      if (!t && a > 1) split = add(memo(0, (a + 1) / 2, 0), memo(0, a / 2, 0));
      break;
    case 1:
      s.part = LayerPart::attention;
      s.batch = a;
      s.context = b;
      s.flash_attention = flash_fits(model_, chip_, policy_, b);
      t = try_time_graph(decoder_graph(shard_, s, policy_), chip_, policy_.compile);
      if (!t && a > 1) split = add(memo(1, (a + 1) / 2, b), memo(1, a / 2, b));
      break;
    case 2:
      s.part = LayerPart::attention;
      s.tokens = a;
      s.context = a + b;
      s.flash_attention = flash_fits(model_, chip_, policy_, a + b);
      t = try_time_graph(decoder_graph(shard_, s, policy_), chip_, policy_.compile);
      if (!t && a > 1) split = add(memo(2, (a + 1) / 2, b), memo(2, a / 2, b + (a + 1) / 2));
      break;
    case 4:  // one expert's MLP over `a` tokens
      if (a > program_tokens(chip_)) {
        const int64_t h = (a + 1) / 2;
        split = add(memo(4, h, 0), memo(4, a - h, 0));
        break;
      }
      s.part = LayerPart::expert;
      s.batch = a;
      t = try_time_graph(decoder_graph(expert_, s, policy_), chip_, policy_.compile);
      if (!t && a > 1) split = add(memo(4, (a + 1) / 2, 0), memo(4, a / 2, 0));
      break;
    default:
      t = try_time_graph(head_graph(shard_, a, policy_), chip_, policy_.compile);
      if (!t && a > 1) split = add(memo(3, (a + 1) / 2, 0), memo(3, a / 2, 0));
  }
  Part p;
  if (split) {
    p = *split;
  } else if (t) {
    p = {t->seconds, t->hbm_bytes, t->energy, t->ops};
    if (kind == 3)  // the logits' all-gather: half an all-reduce
      p.seconds += tp_allreduce_s(chip_, opt_.tp,
                                  static_cast<double>(a * shard_.vocab) * static_cast<double>(ir::elem_size(policy_.activations))) /
                   2;
  } else {
    throw std::runtime_error(fmt::format("{} on '{}': a one-row program outgrows the instruction memory", model_.name, chip_.name));
  }
  l.lock();
  if (!split) ++timed_;
  build_s_ += split ? 0.0 : std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cache_.emplace(key, p);
  return p;
}

StepCostOracle::Part StepCostOracle::dense_exact(int64_t n) const { return memo(0, n, 0); }
StepCostOracle::Part StepCostOracle::decode_attn_exact(int64_t b, int64_t c) const { return memo(1, b, c); }
StepCostOracle::Part StepCostOracle::prefill_attn_exact(int64_t t, int64_t o) const { return memo(2, t, o); }
StepCostOracle::Part StepCostOracle::head_exact(int64_t s) const { return memo(3, s, 0); }

namespace {

using Part = StepCostOracle::Part;

Part lerp(const Part& a, const Part& b, double w) {
  auto f = [w](double x, double y) { return std::max(0.0, x + (y - x) * w); };
  return {f(a.seconds, b.seconds), f(a.bytes, b.bytes), f(a.energy, b.energy), f(a.flops, b.flops)};
}


}  // namespace

// Piecewise-linear interpolation over [a, b] of grid part `kind` (a one-argument
// part: dense or head), refined where it is not linear: the midpoint is timed,
// and when the chord misses it by more than 1% (a tile plan that changes
// between a and b), the half holding n is refined again, down to segments of
// 1/32 of their start (so a plan change costs at most five more programs;
// inside that band the error can reach half the jump). The path depends
// only on n and the timed values, so the answer is the same whatever was
// asked before.
StepCostOracle::Part StepCostOracle::refine(int kind, int64_t a, int64_t b, int64_t n) const {
  const Part pa = memo(kind, a, 0);
  if (n == a) return pa;
  const Part pb = memo(kind, b, 0);
  if (n == b) return pb;
  if (b - a <= std::max<int64_t>(1, a / 32)) return lerp(pa, pb, static_cast<double>(n - a) / static_cast<double>(b - a));
  const int64_t m = a + (b - a) / 2;
  const Part pm = memo(kind, m, 0);
  const double w = static_cast<double>(m - a) / static_cast<double>(b - a);
  const Part chord = lerp(pa, pb, w);
  auto off = [](double x, double y) { return std::abs(x - y) > 0.01 * std::max(std::abs(y), 1e-30); };
  if (off(chord.seconds, pm.seconds) || off(chord.bytes, pm.bytes)) return n < m ? refine(kind, a, m, n) : refine(kind, m, b, n);
  return n < m ? lerp(pa, pm, static_cast<double>(n - a) / static_cast<double>(m - a))
               : lerp(pm, pb, static_cast<double>(n - m) / static_cast<double>(b - m));
}

StepCostOracle::Part StepCostOracle::dense(int64_t n) const {
  const Bracket x = bracket(tokens_, static_cast<double>(n));
  if (n >= tokens_.back()) return x.w == 0 ? dense_exact(n) : lerp(dense_exact(tokens_[x.lo]), dense_exact(tokens_[x.hi]), x.w);
  return refine(0, tokens_[x.lo], tokens_[x.hi], n);
}

StepCostOracle::Part StepCostOracle::head(int64_t n) const {
  const Bracket x = bracket(seqs_, static_cast<double>(n));
  if (n >= seqs_.back()) return x.w == 0 ? head_exact(n) : lerp(head_exact(seqs_[x.lo]), head_exact(seqs_[x.hi]), x.w);
  return refine(3, seqs_[x.lo], seqs_[x.hi], n);
}

StepCostOracle::Part StepCostOracle::decode_attn(int64_t n, int64_t c) const {
  const Bracket x = bracket(seqs_, static_cast<double>(n)), y = bracket(contexts_, static_cast<double>(c));
  auto at = [&](size_t i) {
    const Part lo = decode_attn_exact(seqs_[i], contexts_[y.lo]);
    return y.w == 0 ? lo : lerp(lo, decode_attn_exact(seqs_[i], contexts_[y.hi]), y.w);
  };
  return x.w == 0 ? at(x.lo) : lerp(at(x.lo), at(x.hi), x.w);
}

StepCostOracle::Part StepCostOracle::prefill_attn(int64_t t, int64_t o) const {
  const Bracket x = bracket(chunk_tokens_, static_cast<double>(t)), y = bracket(offsets_, static_cast<double>(o));
  auto at = [&](size_t i) {
    const Part lo = prefill_attn_exact(chunk_tokens_[i], offsets_[y.lo]);
    return y.w == 0 ? lo : lerp(lo, prefill_attn_exact(chunk_tokens_[i], offsets_[y.hi]), y.w);
  };
  return x.w == 0 ? at(x.lo) : lerp(at(x.lo), at(x.hi), x.w);
}

StepCostOracle::Part StepCostOracle::expert(int64_t n, bool exact) const {
  if (n <= 0) return {};
  if (exact) return memo(4, n, 0);
  const Bracket x = bracket(tokens_, static_cast<double>(n));
  if (n >= tokens_.back()) return x.w == 0 ? memo(4, n, 0) : lerp(memo(4, tokens_[x.lo], 0), memo(4, tokens_[x.hi], 0), x.w);
  return refine(4, tokens_[x.lo], tokens_[x.hi], n);
}

// Each layer routes the step's n tokens to their top-k experts, drawn
// uniformly (distinct experts per token; for large steps the counts are
// drawn as a multinomial of n x k picks), so experts get uneven loads. With
// expert parallelism a chip runs its experts/tp experts one after another
// and the layer waits for the slowest chip; otherwise every chip runs its
// slice of every expert that has tokens. Only experts with tokens read their
// weights.
StepCostOracle::Experts StepCostOracle::experts(int64_t n, uint64_t seed, bool exact) const {
  Experts r;
  const int64_t E = model_.experts, k = model_.experts_per_token;
  if (E == 0 || n == 0) return r;
  const int64_t groups = opt_.expert_parallel ? opt_.tp : 1, per = E / groups;
  const double slice_chips = opt_.expert_parallel ? 1.0 : static_cast<double>(opt_.tp);
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
  std::vector<int64_t> cnt(static_cast<size_t>(E)), perm(static_cast<size_t>(E));
  std::map<int64_t, Part> seen;  // expert costs by token count, within this step
  auto cost_of = [&](int64_t t) -> const Part& {
    auto it = seen.find(t);
    if (it == seen.end()) it = seen.emplace(t, expert(t, exact)).first;
    return it->second;
  };
  for (int64_t l = 0; l < layers_; ++l) {
    std::fill(cnt.begin(), cnt.end(), 0);
    if (n * k <= 512) {
      for (int64_t t = 0; t < n; ++t) {  // k distinct experts: a partial Fisher-Yates shuffle
        for (int64_t e = 0; e < E; ++e) perm[static_cast<size_t>(e)] = e;
        for (int64_t j = 0; j < k; ++j) {
          const int64_t pick = j + static_cast<int64_t>(rng() % static_cast<uint64_t>(E - j));
          std::swap(perm[static_cast<size_t>(j)], perm[static_cast<size_t>(pick)]);
          ++cnt[static_cast<size_t>(perm[static_cast<size_t>(j)])];
        }
      }
    } else {
      int64_t left = n * k;
      for (int64_t e = 0; e < E - 1 && left > 0; ++e) {
        std::binomial_distribution<int64_t> bin(left, 1.0 / static_cast<double>(E - e));
        cnt[static_cast<size_t>(e)] = std::min(bin(rng), n);
        left -= cnt[static_cast<size_t>(e)];
      }
      cnt[static_cast<size_t>(E - 1)] = std::min(left, n);
    }
    double slowest = 0, total = 0;
    for (int64_t g = 0; g < groups; ++g) {
      double t = 0;
      for (int64_t e = g * per; e < (g + 1) * per; ++e) {
        const Part& p = cost_of(cnt[static_cast<size_t>(e)]);
        t += p.seconds;
        r.bytes += p.bytes * slice_chips;
        r.energy += p.energy * slice_chips;
        r.flops += p.flops * slice_chips;
      }
      slowest = std::max(slowest, t);
      total += t;
    }
    r.seconds += slowest;
    r.imbalance_s += slowest - total / static_cast<double>(groups);
  }
  return r;
}

StepCost StepCostOracle::combine(const StepBatch& b, const Part& dn, const Part& attn, const Part& hd, bool exact) const {
  const int64_t n = b.tokens();
  // two all-reduces per layer (attention output and MLP output) over the step's tokens
  const double ar =
      2 * tp_allreduce_s(chip_, opt_.tp, static_cast<double>(n * model_.hidden) * static_cast<double>(ir::elem_size(policy_.activations)));
  const double L = static_cast<double>(layers_), chips = static_cast<double>(opt_.tp);
  Part layer = add(dn, attn);
  StepCost c;
  c.seconds = L * (layer.seconds + ar);
  c.hbm_bytes = L * layer.bytes * chips;
  c.energy_j = L * layer.energy * chips;
  c.flops = L * layer.flops * chips;
  if (model_.experts > 0) {
    const Experts ex = experts(n, b.routing_seed, exact);
    c.seconds += ex.seconds;
    c.hbm_bytes += ex.bytes;
    c.energy_j += ex.energy;
    c.flops += ex.flops;
    c.imbalance_s = ex.imbalance_s;
  }
  if (opt_.lm_head) {
    c.seconds += hd.seconds;
    c.hbm_bytes += hd.bytes * chips;
    c.energy_j += hd.energy * chips;
    c.flops += hd.flops * chips;
  }
  return c;
}

namespace {
void check_batch(const StepBatch& b) {
  if (b.decode_seqs < 0 || b.decode_context_sum < b.decode_seqs)
    throw std::invalid_argument("step batch: decode sequences need a context of at least one position each");
  for (const auto& p : b.prefills)
    if (p.tokens < 1 || p.offset < 0) throw std::invalid_argument("step batch: a prefill chunk needs tokens >= 1, offset >= 0");
}
}  // namespace

// The step's parts, interpolated on the grid or (`exact`) timed at the batch's own shapes.
StepCost StepCostOracle::price(const StepBatch& b, bool exact) const {
  check_batch(b);
  if (b.sequences() == 0) return {};
  Part attn;
  if (b.decode_seqs > 0) {
    const int64_t ctx = std::max<int64_t>((b.decode_context_sum + b.decode_seqs / 2) / b.decode_seqs, 1);
    attn = exact ? decode_attn_exact(b.decode_seqs, ctx) : decode_attn(b.decode_seqs, ctx);
  }
  for (const auto& p : b.prefills)
    attn = add(attn, exact ? prefill_attn_exact(p.tokens, p.offset) : prefill_attn(p.tokens, p.offset));
  const Part dn = exact ? dense_exact(b.tokens()) : dense(b.tokens());
  const Part hd = !opt_.lm_head ? Part{} : exact ? head_exact(b.sequences()) : head(b.sequences());
  return combine(b, dn, attn, hd, exact);
}

StepCost StepCostOracle::cost(const StepBatch& b) const { return price(b, false); }
StepCost StepCostOracle::direct(const StepBatch& b) const { return price(b, true); }

}  // namespace seedchip::llm
