// seedchip — LLM layer programs and serving figures (docs/llm.md).
#include "seedchip/llm/llm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"
#include "seedchip/sim/timing.h"
#include "layers.h"
#include "seedchip/isa/program.h"

namespace seedchip::llm {

namespace {
Timed time_program(const isa::Program& prog, const arch::Chip& chip);
}

Timed time_graph(const ir::Graph& g, const arch::Chip& chip, compiler::Precision p) {
  compiler::CompileOptions o;
  o.uncalibrated_ok = true;
  o.precision = p;
  return time_program(compiler::compile(g, chip, o).program, chip);
}

std::optional<Timed> try_time_graph(const ir::Graph& g, const arch::Chip& chip, compiler::Precision p) {
  compiler::CompileOptions o;
  o.uncalibrated_ok = true;
  o.precision = p;
  const auto m = compiler::compile(g, chip, o);
  std::vector<uint8_t> bytes;
  for (const auto& cc : m.program.cores) {
    bytes.clear();
    for (const auto& in : cc.code) isa::encode_instr(in, bytes);
    if (bytes.size() > chip.core.instruction_memory_bytes) return std::nullopt;
  }
  return time_program(m.program, chip);
}

namespace {
Timed time_program(const isa::Program& prog, const arch::Chip& chip) {
  auto r = sim::run_timing(chip, prog);
  Timed t;
  t.seconds = r.seconds;
  t.energy = r.energy_j;
  t.ops = 2.0 * static_cast<double>(r.macs);
  t.hbm_bytes = static_cast<double>(r.hbm_read_bytes + r.hbm_write_bytes);
  for (const auto& c : r.engines)
    for (const auto& e : c) t.instructions += e.instructions;
  return t;
}
}  // namespace

ir::Graph head_graph(const ModelConfig& sc, int64_t tokens, const PrecisionPolicy& p) {
  DecoderSpec s;
  s.batch = tokens;
  s.layers = 0;
  s.head = true;
  return decoder_graph(sc, s, p);
}

int64_t program_tokens(const arch::Chip& chip) {
  return 1024 * std::max<int64_t>(1, static_cast<int64_t>(chip.core.instruction_memory_bytes >> 22));
}

bool flash_fits(const ModelConfig& c, const arch::Chip& chip, const PrecisionPolicy& p, int64_t context) {
  return compiler::flash_attention_fits(chip, c.head_dim, context, compiler::chip_dtype(p.kv_cache),
                                        compiler::chip_dtype(p.activations), p.compile);
}

double tp_allreduce_s(const arch::Chip& chip, int64_t chips, double bytes) {
  if (chips <= 1) return 0.0;
  return arch::allreduce_seconds(chip.interconnect, static_cast<uint32_t>(chips), bytes) + chip.timing.kernel_launch_ns * 1e-9;
}

void check_layout(const arch::Chip& chip, int64_t chips, const std::string& what) {
  const std::string w = what.empty() ? fmt::format("--chips {}", chips) : what;
  if (chips < 1) throw std::runtime_error(w + ": must be positive");
  if (chips > 1 && chip.interconnect.topology.empty())
    throw std::runtime_error(
        fmt::format("{}: chip '{}' describes no chip-to-chip links (an 'interconnect' section in its YAML)", w, chip.name));
  if (chips > 1 && static_cast<uint64_t>(chips) > chip.interconnect.max_chips)
    throw std::runtime_error(fmt::format("{}: {} chips, but the {} interconnect of '{}' connects at most {} chips", w, chips,
                                         chip.interconnect.topology, chip.name, chip.interconnect.max_chips));
}

nlohmann::json LlmResult::json() const {
  return {{"ttft_s", ttft_s},
          {"tpot_s", tpot_s},
          {"output_tokens_per_s", output_tokens_per_s},
          {"hbm_bw_utilization", hbm_bw_utilization},
          {"mfu", mfu},
          {"energy_per_token_j", energy_per_token_j},
          {"weight_bytes", weight_bytes},
          {"kv_cache_bytes", kv_cache_bytes},
          {"max_batch", max_batch},
          {"prefill_layer_s", prefill_layer_s},
          {"decode_layer_s", decode_layer_s},
          {"instructions", instructions},
          {"chips", chips}};
}

ModelConfig shard_config(const ModelConfig& c, int64_t n) {
  if (n < 1) throw std::runtime_error("--chips must be positive");
  if (c.heads % n != 0)
    throw std::runtime_error(fmt::format("{} tensor-parallel chips (--chips/--tp): tensor parallelism splits attention "
                                         "heads, and {} has {} heads",
                                         n, c.name, c.heads));
  if (c.kv_heads % n != 0 && n % c.kv_heads != 0)
    throw std::runtime_error(fmt::format("{} tensor-parallel chips (--chips/--tp): {} KV heads can be neither split nor "
                                         "replicated evenly",
                                         n, c.kv_heads));
  ModelConfig s = c;
  s.heads = c.heads / n;
  s.kv_heads = c.kv_heads % n == 0 ? c.kv_heads / n : 1;  // fewer KV heads than chips: each chip keeps a copy of one
  s.intermediate = (c.intermediate + n - 1) / n;
  s.vocab = (c.vocab + n - 1) / n;
  return s;
}

// Prompt tokens per sequence in one prefill chunk: about 1024 tokens per batch
// for each 4 MiB of instruction memory a core has (a layer program for a
// longer chunk outgrows it; GPUs, whose programs live in HBM, take whole
// prompts up to 16k tokens at once, as their inference stacks do).
int64_t prefill_chunk(const arch::Chip& chip, const LlmOptions& o) {
  const int64_t budget = program_tokens(chip);
  const int64_t per_seq_cap = budget <= 1024 ? 512 : budget;
  return std::clamp<int64_t>(budget / o.batch, 1, std::min<int64_t>(per_seq_cap, o.prompt));
}

namespace {

// One chip's layer (shard `sc` of `c`) for `tokens` new tokens after `context` positions.
ir::Graph shard_layer(const ModelConfig& c, const ModelConfig& sc, const arch::Chip& chip, const LlmOptions& o,
                      const PrecisionPolicy& p, int64_t tokens, int64_t context) {
  DecoderSpec spec;
  spec.batch = o.batch;
  spec.tokens = tokens;
  spec.context = context;
  spec.flash_attention = flash_fits(c, chip, p, context);
  spec.kv_page = o.kv_page;
  return decoder_graph(sc, spec, p);
}

}  // namespace

ir::Graph timed_layer(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o, bool prefill) {
  const auto p = precision_policy(o.precision);
  const int64_t chunk = prefill_chunk(chip, o);
  return prefill ? shard_layer(c, shard_config(c, o.chips), chip, o, p, chunk, chunk)
                 : shard_layer(c, shard_config(c, o.chips), chip, o, p, 1, o.prompt + o.generate / 2);
}

LlmResult run_llm(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o) {
  if (o.batch < 1 || o.prompt < 1 || o.generate < 1)
    throw std::runtime_error("--batch, --prompt-len and --gen-len must be positive");
  if (o.batch > (int64_t{1} << 20)) throw std::runtime_error(fmt::format("--batch {}: at most 1048576 sequences", o.batch));
  if (o.prompt > c.max_positions - o.generate)  // (no sum that could overflow)
    throw std::runtime_error(fmt::format("--prompt-len {} + --gen-len {} exceeds {}'s context of {} tokens (max_position_embeddings)",
                                         o.prompt, o.generate, c.name, c.max_positions));
  if (o.kv_page < 0 || o.kv_page > static_cast<int64_t>(chip.core.matrix.cols))
    throw std::runtime_error(fmt::format("--kv-page {}: a KV page holds 1 to {} tokens (the array width of '{}'), or 0 "
                                         "for contiguous caches",
                                         o.kv_page, chip.core.matrix.cols, chip.name));
  const int64_t N = o.chips;
  check_layout(chip, N);
  const ModelConfig sc = shard_config(c, N);
  const PrecisionPolicy pp = precision_policy(o.precision);
  const double wbytes = pp.weight_bytes;
  const compiler::Precision prec = pp.compile;
  check_precision_supported(pp, chip);
  LlmResult r;
  r.weight_bytes = static_cast<int64_t>(static_cast<double>(c.parameters()) * wbytes);
  const int64_t ctx = o.prompt + o.generate;
  // the KV cache is allocated in whole pages of kv_page tokens per sequence
  const int64_t ctx_alloc = o.kv_page > 0 ? (ctx + o.kv_page - 1) / o.kv_page * o.kv_page : ctx;
  const int64_t kv_per_seq_chip = sc.kv_bytes_per_token(pp.kv_bytes()) * ctx_alloc;
  r.kv_cache_bytes = kv_per_seq_chip * N * o.batch;
  const int64_t hbm_chip = static_cast<int64_t>(chip.memory.capacity_bytes);
  const int64_t w_chip = (r.weight_bytes + N - 1) / N;
  r.max_batch = std::max<int64_t>(0, (hbm_chip - w_chip) / std::max<int64_t>(kv_per_seq_chip, 1));
  if (w_chip + kv_per_seq_chip * o.batch > hbm_chip)
    throw std::runtime_error(fmt::format(
        "{} at batch {} needs {:.1f} GB ({:.1f} GB weights + {:.1f} GB KV cache) but {} chip(s) of {} have {:.1f} GB "
        "(largest batch that fits: {})",
        c.name, o.batch, (r.weight_bytes + r.kv_cache_bytes) / 1e9, r.weight_bytes / 1e9, r.kv_cache_bytes / 1e9, N,
        chip.name, static_cast<double>(hbm_chip) * static_cast<double>(N) / 1e9, r.max_batch));
  // One layer each for prefill and for a decode step at the average context;
  // all layers are alike. The LM head is a [tokens, H] x [H, V] GEMM. With
  // N chips every chip runs the same shard (heads, KV heads, MLP columns and
  // vocabulary divided by N) and the layer's two partial sums are
  // all-reduced over the interconnect (attention output and MLP output).
  // Prefill runs in chunks of about 1024 tokens per batch (chunked prefill),
  // each attending to everything before it: a layer program for a long
  // prompt would otherwise outgrow the instruction memory. Chunks differ only
  // in their context, which attention cost grows with linearly, so the first
  // and last chunks are timed and the rest interpolated.
  const int64_t chunk = prefill_chunk(chip, o);
  const int64_t nchunks = (o.prompt + chunk - 1) / chunk;
  auto allreduce = [&](int64_t tokens) {
    return tp_allreduce_s(chip, N, static_cast<double>(tokens * c.hidden) * static_cast<double>(ir::elem_size(pp.activations)));
  };
  Timed pre;
  {
    const Timed first = time_graph(shard_layer(c, sc, chip, o, pp, chunk, chunk), chip, prec);
    const int64_t last_n = o.prompt - (nchunks - 1) * chunk;
    const Timed last = nchunks == 1 ? first : time_graph(shard_layer(c, sc, chip, o, pp, last_n, o.prompt), chip, prec);
    const double n = static_cast<double>(nchunks);
    auto mix = [&](double a, double b) { return nchunks == 1 ? a : n * (a + b) / 2; };
    pre.seconds = mix(first.seconds, last.seconds) + 2 * (static_cast<double>(nchunks - 1) * allreduce(o.batch * chunk) +
                                                          allreduce(o.batch * last_n));
    pre.energy = mix(first.energy, last.energy);
    pre.ops = mix(first.ops, last.ops);
    pre.hbm_bytes = mix(first.hbm_bytes, last.hbm_bytes);
    pre.instructions = first.instructions + (nchunks > 1 ? last.instructions : 0);
  }
  Timed dec = time_graph(shard_layer(c, sc, chip, o, pp, 1, o.prompt + o.generate / 2), chip, prec);
  dec.seconds += 2 * allreduce(o.batch);
  auto head = [&](int64_t tokens) {
    Timed t = time_graph(head_graph(sc, tokens, pp), chip, prec);
    t.seconds += allreduce(tokens * sc.vocab / c.hidden) / 2;  // all-gather of the logits: half an all-reduce
    return t;
  };
  const Timed head_pre = head(o.batch), head_dec = head_pre;
  const double L = static_cast<double>(c.layers);
  r.prefill_layer_s = pre.seconds;
  r.decode_layer_s = dec.seconds;
  r.ttft_s = L * pre.seconds + head_pre.seconds;
  r.tpot_s = L * dec.seconds + head_dec.seconds;
  r.output_tokens_per_s = static_cast<double>(o.batch) / r.tpot_s;
  const double dec_bytes = L * dec.hbm_bytes + head_dec.hbm_bytes;
  r.hbm_bw_utilization = dec_bytes / r.tpot_s / chip.memory.bandwidth_bytes_per_s;
  const double peak = chip.peak_ops_per_s(pp.peak) * static_cast<double>(N);
  const double total_s = r.ttft_s + static_cast<double>(o.generate) * r.tpot_s;
  const double total_ops = static_cast<double>(N) * (L * (pre.ops + static_cast<double>(o.generate) * dec.ops) +
                                                     head_pre.ops + static_cast<double>(o.generate) * head_dec.ops);
  r.mfu = peak > 0 ? total_ops / total_s / peak : 0;
  const double energy = static_cast<double>(N) * (L * (pre.energy + static_cast<double>(o.generate) * dec.energy) +
                                                  head_pre.energy + static_cast<double>(o.generate) * head_dec.energy);
  r.energy_per_token_j = energy / static_cast<double>(o.batch * o.generate);
  r.instructions = pre.instructions + dec.instructions;
  r.chips = N;
  return r;
}

}  // namespace seedchip::llm
