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

// Builds IR text for one decoder layer.
class LayerText {
 public:
  LayerText(const ModelConfig& c, const LayerSpec& spec, const PrecisionPolicy& p)
      : c_(c), B(spec.batch), T(spec.tokens), C(spec.context), page_(spec.kv_page),
        wt_(p.int4_weights ? std::string("w4") : std::string(ir::elem_name(p.weights))),
        at_(ir::elem_name(p.activations)), kvt_(ir::elem_name(p.kv_cache)), qt_(ir::elem_name(p.gemm_inputs)),
        qact_(p.quantized_activations()), flash_(spec.flash_attention), part_(spec.part) {}

  std::string build() {
    const int64_t H = c_.hidden, hd = c_.head_dim, nh = c_.heads, kv = c_.kv_heads, g = nh / kv;
    const int64_t I = c_.intermediate * std::max<int64_t>(1, c_.experts_per_token);  // MoE: the routed experts
    const int64_t BT = B * T;
    const bool attn = part_ != LayerPart::dense, dense = part_ != LayerPart::attention;
    std::string s = "graph \"layer\" {\n";
    if (dense) {
      input("x", at_, {BT, H});
      input("ln1", at_, {H});
      input("ln2", at_, {H});
      weight("wqkv", H, (nh + 2 * kv) * hd);
      weight("wo", nh * hd, H);
      if (c_.gated_mlp) weight("wgu", H, 2 * I);
      else weight("wup", H, I);
      weight("wdown", I, H);
      input("rope", at_, {T, hd});
    } else {
      input("q3", at_, {B * kv, g * T, hd});
    }
    // decode steps read the page pool; a prefill chunk attends over its
    // sequence's keys staged contiguously (as inference stacks' context phase
    // reads the fresh K and V), so pages narrower than the array cost it nothing
    paged_ = flash_ && page_ > 0 && T == 1;
    const int64_t pages = paged_ ? (C + page_ - 1) / page_ : 0;
    if (attn) {
      // KV cache laid out per (sequence, kv head): K transposed [hd, C], V [C, hd]
      if (paged_) {
        // KV cache as a pool of fixed-size pages (one per sequence, KV head and
        // page of keys) and a page table per sequence and KV head
        input("kcache", kvt_, {B * kv * pages, hd, page_});
        input("vcache", kvt_, {B * kv * pages, page_, hd});
        input("pages", "i32", {B * kv, pages});
      } else {
        input("kcache", kvt_, {B * kv, hd, C});
        input("vcache", kvt_, {B * kv, C, hd});
      }
    }
    s += decls_;
    if (dense) {
      s += fmt::format("  const %shape_q : i64[3] = [{},{},{}]\n  const %shape_o : i64[2] = [{},{}]\n", B * kv, g * T, hd,
                       BT, nh * hd);
      s += norm("x", "ln1", "a", {BT, H});
      s += qa("a", {BT, H});
      s += wmm(qn("a"), "wqkv", "qkv", {BT, (nh + 2 * kv) * hd});
      s += fmt::format("  %q : {3}[{0},{1}], %k : {3}[{0},{2}], %v : {3}[{0},{2}] = Split(%qkv) "
                       "{{axis=1, split=ints[{1},{2},{2}]}} name=\"split\" opset=11\n",
                       BT, nh * hd, kv * hd, at_);
      // positions: q and k rotated (two multiplies and an add each, as RoPE does)
      s += rope("q", {BT, nh * hd}, nh);
      s += rope("k", {BT, kv * hd}, kv);
      s += fmt::format("  %q3 : {4}[{1},{2},{3}] = Reshape(%qr, %shape_q) name=\"q3\" opset=14\n", 0, B * kv, g * T, hd, at_);
    }
    // attention: [B*kv, g*T, hd] x [B*kv, hd, C] -> softmax -> x [B*kv, C, hd]
    if (!attn) {
      s += fmt::format("  %ctx : {3}[{0},{1},{2}] = Identity(%q3) name=\"no_attention\" opset=14\n", B * kv, g * T, hd, at_);
    } else if (flash_) {
      // fused, SRAM-tiled attention; causal within the chunk: query token t sees keys up to (C - T) + t
      s += fmt::format("  %ctx : {7}[{0},{1},{2}] = FlashAttention(%q3, %kcache, %vcache{5}) {{causal_offset={3}, "
                       "rows_per_group={4}, context={6}}} name=\"attention\" domain=\"seedchip\" opset=1\n",
                       B * kv, g * T, hd, C - T, T, paged_ ? ", %pages" : "", C, at_);
    } else {
      s += node("MatMul", {"q3", "kcache"}, "scores", {B * kv, g * T, C});
      s += fmt::format("  %p : {3}[{0},{1},{2}] = Softmax(%scores) {{axis=-1}} name=\"softmax\" opset=13\n", B * kv,
                       g * T, C, at_);
      s += node("MatMul", {"p", "vcache"}, "ctx", {B * kv, g * T, hd});
    }
    if (!dense) {
      s += "  output %ctx\n}\n";
      return s;
    }
    s += fmt::format("  %ctx2 : {2}[{0},{1}] = Reshape(%ctx, %shape_o) name=\"ctx2\" opset=14\n", BT, nh * hd, at_);
    s += qa("ctx2", {BT, nh * hd});
    s += wmm(qn("ctx2"), "wo", "o", {BT, H});
    s += node("Add", {"x", "o"}, "r1", {BT, H});
    s += norm("r1", "ln2", "b", {BT, H});
    if (c_.gated_mlp) {
      s += qa("b", {BT, H});
      s += wmm(qn("b"), "wgu", "gu", {BT, 2 * I});
      // SiLU(gate) * up in one pass over the GEMM output (seedchip's fused SwiGLU)
      s += fmt::format("  %h : {2}[{0},{1}] = SwiGLU(%gu) name=\"swiglu\" domain=\"seedchip\" opset=1\n", BT, I, at_);
    } else {
      s += qa("b", {BT, H});
      s += wmm(qn("b"), "wup", "u", {BT, I});
      s += fmt::format("  %h : {2}[{0},{1}] = Gelu(%u) name=\"gelu\" domain=\"seedchip\" opset=1\n", BT, I, at_);
    }
    s += qa("h", {BT, I});
    s += wmm(qn("h"), "wdown", "m", {BT, H});
    s += node("Add", {"r1", "m"}, "y", {BT, H});
    s += "  output %y\n}\n";
    return s;
  }

 private:
  static std::string dims(const std::vector<int64_t>& d) {
    std::string r;
    for (size_t i = 0; i < d.size(); ++i) r += fmt::format("{}{}", i ? "," : "", d[i]);
    return r;
  }
  void input(const std::string& n, const std::string& t, const std::vector<int64_t>& d) {
    decls_ += fmt::format("  input %{} : {}[{}]\n", n, t, dims(d));
  }
  std::string node(const std::string& op, const std::vector<std::string>& in, const std::string& out,
                   const std::vector<int64_t>& d) {
    std::string args;
    for (size_t i = 0; i < in.size(); ++i) args += fmt::format("{}%{}", i ? ", " : "", in[i]);
    return fmt::format("  %{} : {}[{}] = {}({}) name=\"{}\" opset=14\n", out, at_, dims(d), op, args, out);
  }
  // RMSNorm: x / sqrt(mean(x^2) + eps) * w as one row kernel (LayerNorm for GPT-2)
  std::string norm(const std::string& x, const std::string& w, const std::string& out, const std::vector<int64_t>& d) {
    if (!c_.rms_norm)
      return fmt::format("  %{0} : {4}[{1}] = LayerNormalization(%{2}, %{3}, %{3}) {{axis=-1}} name=\"{0}\" opset=17\n",
                         out, dims(d), x, w, at_);
    return fmt::format("  %{0} : {5}[{1}] = RMSNormalization(%{2}, %{3}) {{axis=-1, epsilon={4}}} name=\"{0}\" opset=23\n",
                       out, dims(d), x, w, c_.norm_eps, at_);
  }
  std::string rope(const std::string& x, const std::vector<int64_t>& d, int64_t heads) {
    // x viewed [B, T, heads, hd] times the [T, hd] table (broadcast), twice, plus an add
    const std::string v = x + "4";
    std::string s = fmt::format("  const %{0}_shape : i64[4] = [{1},{2},{3},{4}]\n", x, B, T, heads, c_.head_dim);
    s += fmt::format("  %{0} : {6}[{1},{2},{3},{4}] = Reshape(%{5}, %{5}_shape) name=\"{0}\" opset=14\n", v, B, T, heads,
                     c_.head_dim, x, at_);
    s += fmt::format("  %rope_{0} : {3}[{1},1,{2}] = Unsqueeze(%rope, %rope_axes_{0}) name=\"rope_{0}\" opset=13\n", x, T,
                     c_.head_dim, at_);
    s += fmt::format("  const %rope_axes_{} : i64[1] = [1]\n", x);
    const std::vector<int64_t> d4 = {B, T, heads, c_.head_dim};
    s += node("Mul", {v, "rope_" + x}, x + "_c", d4);
    s += node("Mul", {v, "rope_" + x}, x + "_s", d4);
    s += node("Add", {x + "_c", x + "_s"}, x + "_r4", d4);
    s += fmt::format("  %{0}r : {2}[{1}] = Reshape(%{0}_r4, %{0}_flat) name=\"{0}r\" opset=14\n", x, dims(d), at_);
    s += fmt::format("  const %{}_flat : i64[2] = [{}]\n", x, dims(d));
    return s;
  }

  // A weight matrix [k, n]: int4 (w4a16) is packed two per byte with a
  // per-column fp32 scale; other types are stored as they are.
  void weight(const std::string& name, int64_t k, int64_t n) {
    if (wt_ != "w4") return input(name, wt_, {k, n});
    input(name, "u8", {k, n / 2});
    input(name + "_s", "f32", {n});
  }
  std::string wmm(const std::string& x, const std::string& w, const std::string& out, const std::vector<int64_t>& d) {
    if (wt_ != "w4") return node("MatMul", {x, w}, out, d);
    return fmt::format("  %{0} : {4}[{1}] = MatMulInt4(%{2}, %{3}, %{3}_s) name=\"{0}\" domain=\"seedchip\" opset=1\n", out,
                       dims(d), x, w, at_);
  }
  // A weight GEMM's activation input: cast to the weights' type when the
  // activations are quantised too (fp8/int8: the producer's epilogue does it).
  std::string qa(const std::string& x, const std::vector<int64_t>& d) {
    if (!qact_) return "";
    return fmt::format("  %{0}_q : {1}[{2}] = Cast(%{0}) {{to={3}}} name=\"{0}_q\" opset=13\n", x, qt_, dims(d),
                       qt_ == "i8" ? 3 : 17);
  }
  std::string qn(const std::string& x) const { return qact_ ? x + "_q" : x; }

  const ModelConfig& c_;
  int64_t B, T, C, page_ = 0;
  std::string wt_, at_, kvt_, qt_;  // weights ("w4": packed int4), activations, KV cache, GEMM inputs
  bool qact_ = false, flash_ = false, paged_ = false;
  LayerPart part_ = LayerPart::whole;
  std::string decls_;
};

// IR text needs each value defined before use; constants declared after use
// in the builder are moved to the top.
std::string hoist_consts(const std::string& s) {
  std::string consts, rest;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t e = s.find('\n', pos);
    if (e == std::string::npos) e = s.size();
    const std::string line = s.substr(pos, e - pos + 1);
    if (line.rfind("  const ", 0) == 0) consts += line;
    else rest += line;
    pos = e + 1;
  }
  const size_t brace = rest.find('\n') + 1;
  return rest.substr(0, brace) + consts + rest.substr(brace);
}

}  // namespace

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

ir::Graph layer_graph(const ModelConfig& c, const LayerSpec& spec, const PrecisionPolicy& p) {
  if (spec.batch < 1 || spec.tokens < 1 || spec.context < spec.tokens)
    throw std::runtime_error(fmt::format("{}: a layer needs batch >= 1 and 1 <= tokens <= context (got {}, {}, {})", c.name,
                                         spec.batch, spec.tokens, spec.context));
  LayerText lt(c, spec, p);
  return ir::parse(hoist_consts(lt.build()), c.name + " layer");
}

ir::Graph head_graph(const ModelConfig& sc, int64_t tokens, const PrecisionPolicy& p) {
  return ir::parse(fmt::format(R"(graph "head" {{
  input %x : {4}[{0},{1}]
  input %w : {3}[{1},{2}]
  %y : {5}[{0},{2}] = MatMul(%x, %w) name="lm_head" opset=13
  output %y
}})",
                               tokens, sc.hidden, sc.vocab, ir::elem_name(p.lm_head), ir::elem_name(p.gemm_inputs),
                               ir::elem_name(p.activations)),
                   "head");
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

void check_layout(const arch::Chip& chip, int64_t chips) {
  if (chips < 1) throw std::runtime_error("--chips must be positive");
  if (chips > 1 && chip.interconnect.topology.empty())
    throw std::runtime_error(fmt::format(
        "--chips {}: chip '{}' describes no chip-to-chip links (an 'interconnect' section in its YAML)", chips, chip.name));
  if (chips > 1 && static_cast<uint64_t>(chips) > chip.interconnect.max_chips)
    throw std::runtime_error(fmt::format("--chips {}: the {} interconnect of '{}' connects at most {} chips", chips,
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
  LayerSpec spec;
  spec.batch = o.batch;
  spec.tokens = tokens;
  spec.context = context;
  spec.flash_attention = flash_fits(c, chip, p, context);
  spec.kv_page = o.kv_page;
  return layer_graph(sc, spec, p);
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
