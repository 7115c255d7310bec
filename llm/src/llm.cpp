// seedchip — LLM layer programs and serving figures (docs/llm.md).
#include "seedchip/llm/llm.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "seedchip/compiler/compiler.h"
#include "seedchip/sim/timing.h"

namespace seedchip::llm {

namespace {

// Builds IR text for one decoder layer.
class LayerText {
 public:
  LayerText(const ModelConfig& c, int64_t b, int64_t t, int64_t ctx, std::string wt, bool qact, bool flash, int64_t page)
      : c_(c), B(b), T(t), C(ctx), page_(page), wt_(std::move(wt)), qact_(qact), flash_(flash) {}

  std::string build() {
    const int64_t H = c_.hidden, hd = c_.head_dim, nh = c_.heads, kv = c_.kv_heads, g = nh / kv;
    const int64_t I = c_.intermediate * std::max<int64_t>(1, c_.experts_per_token);  // MoE: the routed experts
    const int64_t BT = B * T;
    std::string s = "graph \"layer\" {\n";
    input("x", "bf16", {BT, H});
    input("ln1", "bf16", {H});
    input("ln2", "bf16", {H});
    weight("wqkv", H, (nh + 2 * kv) * hd);
    weight("wo", nh * hd, H);
    if (c_.gated_mlp) weight("wgu", H, 2 * I);
    else weight("wup", H, I);
    weight("wdown", I, H);
    input("rope", "bf16", {T, hd});
    // KV cache laid out per (sequence, kv head): K transposed [hd, C], V [C, hd]
    const std::string kvt = qact_ && wt_ == "f8e4m3" ? "f8e4m3" : "bf16";  // fp8: the KV cache is fp8 too
    // decode steps read the page pool; a prefill chunk attends over its
    // sequence's keys staged contiguously (as inference stacks' context phase
    // reads the fresh K and V), so pages narrower than the array cost it nothing
    paged_ = flash_ && page_ > 0 && T == 1;
    const int64_t pages = paged_ ? (C + page_ - 1) / page_ : 0;
    if (paged_) {
      // KV cache as a pool of fixed-size pages (one per sequence, KV head and
      // page of keys) and a page table per sequence and KV head
      input("kcache", kvt, {B * kv * pages, hd, page_});
      input("vcache", kvt, {B * kv * pages, page_, hd});
      input("pages", "i32", {B * kv, pages});
    } else {
      input("kcache", kvt, {B * kv, hd, C});
      input("vcache", kvt, {B * kv, C, hd});
    }
    s += decls_;
    s += fmt::format("  const %shape_q : i64[3] = [{},{},{}]\n  const %shape_o : i64[2] = [{},{}]\n", B * kv, g * T, hd,
                     BT, nh * hd);
    s += norm("x", "ln1", "a", {BT, H});
    s += qa("a", {BT, H});
    s += wmm(qn("a"), "wqkv", "qkv", {BT, (nh + 2 * kv) * hd});
    s += fmt::format("  %q : bf16[{0},{1}], %k : bf16[{0},{2}], %v : bf16[{0},{2}] = Split(%qkv) "
                     "{{axis=1, split=ints[{1},{2},{2}]}} name=\"split\" opset=11\n",
                     BT, nh * hd, kv * hd);
    // positions: q and k rotated (two multiplies and an add each, as RoPE does)
    s += rope("q", {BT, nh * hd}, nh);
    s += rope("k", {BT, kv * hd}, kv);
    // attention: [B*kv, g*T, hd] x [B*kv, hd, C] -> softmax -> x [B*kv, C, hd]
    s += fmt::format("  %q3 : bf16[{},{},{}] = Reshape(%qr, %shape_q) name=\"q3\" opset=14\n", B * kv, g * T, hd);
    if (flash_) {
      // fused, SRAM-tiled attention; causal within the chunk: query token t sees keys up to (C - T) + t
      s += fmt::format("  %ctx : bf16[{0},{1},{2}] = FlashAttention(%q3, %kcache, %vcache{5}) {{causal_offset={3}, "
                       "rows_per_group={4}, context={6}}} name=\"attention\" domain=\"seedchip\" opset=1\n",
                       B * kv, g * T, hd, C - T, T, paged_ ? ", %pages" : "", C);
    } else {
      s += node("MatMul", {"q3", "kcache"}, "scores", {B * kv, g * T, C});
      s += fmt::format("  %p : bf16[{0},{1},{2}] = Softmax(%scores) {{axis=-1}} name=\"softmax\" opset=13\n", B * kv, g * T, C);
      s += node("MatMul", {"p", "vcache"}, "ctx", {B * kv, g * T, hd});
    }
    s += fmt::format("  %ctx2 : bf16[{},{}] = Reshape(%ctx, %shape_o) name=\"ctx2\" opset=14\n", BT, nh * hd);
    s += qa("ctx2", {BT, nh * hd});
    s += wmm(qn("ctx2"), "wo", "o", {BT, H});
    s += node("Add", {"x", "o"}, "r1", {BT, H});
    s += norm("r1", "ln2", "b", {BT, H});
    if (c_.gated_mlp) {
      s += qa("b", {BT, H});
      s += wmm(qn("b"), "wgu", "gu", {BT, 2 * I});
      // SiLU(gate) * up in one pass over the GEMM output (seedchip's fused SwiGLU)
      s += fmt::format("  %h : bf16[{},{}] = SwiGLU(%gu) name=\"swiglu\" domain=\"seedchip\" opset=1\n", BT, I);
    } else {
      s += qa("b", {BT, H});
      s += wmm(qn("b"), "wup", "u", {BT, I});
      s += fmt::format("  %h : bf16[{},{}] = Gelu(%u) name=\"gelu\" domain=\"seedchip\" opset=1\n", BT, I);
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
    return fmt::format("  %{} : bf16[{}] = {}({}) name=\"{}\" opset=14\n", out, dims(d), op, args, out);
  }
  // RMSNorm: x / sqrt(mean(x^2) + eps) * w as one row kernel (LayerNorm for GPT-2)
  std::string norm(const std::string& x, const std::string& w, const std::string& out, const std::vector<int64_t>& d) {
    if (!c_.rms_norm)
      return fmt::format("  %{0} : bf16[{1}] = LayerNormalization(%{2}, %{3}, %{3}) {{axis=-1}} name=\"{0}\" opset=17\n",
                         out, dims(d), x, w);
    return fmt::format("  %{0} : bf16[{1}] = RMSNormalization(%{2}, %{3}) {{axis=-1, epsilon={4}}} name=\"{0}\" opset=23\n",
                       out, dims(d), x, w, c_.norm_eps);
  }
  std::string rope(const std::string& x, const std::vector<int64_t>& d, int64_t heads) {
    // x viewed [B, T, heads, hd] times the [T, hd] table (broadcast), twice, plus an add
    const std::string v = x + "4";
    std::string s = fmt::format("  const %{0}_shape : i64[4] = [{1},{2},{3},{4}]\n", x, B, T, heads, c_.head_dim);
    s += fmt::format("  %{0} : bf16[{1},{2},{3},{4}] = Reshape(%{5}, %{5}_shape) name=\"{0}\" opset=14\n", v, B, T, heads,
                     c_.head_dim, x);
    s += fmt::format("  %rope_{0} : bf16[{1},1,{2}] = Unsqueeze(%rope, %rope_axes_{0}) name=\"rope_{0}\" opset=13\n", x, T,
                     c_.head_dim);
    s += fmt::format("  const %rope_axes_{} : i64[1] = [1]\n", x);
    const std::vector<int64_t> d4 = {B, T, heads, c_.head_dim};
    s += node("Mul", {v, "rope_" + x}, x + "_c", d4);
    s += node("Mul", {v, "rope_" + x}, x + "_s", d4);
    s += node("Add", {x + "_c", x + "_s"}, x + "_r4", d4);
    s += fmt::format("  %{0}r : bf16[{1}] = Reshape(%{0}_r4, %{0}_flat) name=\"{0}r\" opset=14\n", x, dims(d));
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
    return fmt::format("  %{0} : bf16[{1}] = MatMulInt4(%{2}, %{3}, %{3}_s) name=\"{0}\" domain=\"seedchip\" opset=1\n", out,
                       dims(d), x, w);
  }
  // A weight GEMM's activation input: cast to the weights' type when the
  // activations are quantised too (fp8/int8: the producer's epilogue does it).
  std::string qa(const std::string& x, const std::vector<int64_t>& d) {
    if (!qact_) return "";
    return fmt::format("  %{0}_q : {1}[{2}] = Cast(%{0}) {{to={3}}} name=\"{0}_q\" opset=13\n", x, wt_, dims(d),
                       wt_ == "i8" ? 3 : 17);
  }
  std::string qn(const std::string& x) const { return qact_ ? x + "_q" : x; }

  const ModelConfig& c_;
  int64_t B, T, C, page_ = 0;
  std::string wt_;
  bool qact_ = false, flash_ = false, paged_ = false;
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

struct Timed {
  double seconds = 0, energy = 0, ops = 0, hbm_bytes = 0;
  uint64_t instructions = 0;
};

Timed time_graph(const ir::Graph& g, const arch::Chip& chip, compiler::Precision p) {
  compiler::CompileOptions o;
  o.uncalibrated_ok = true;
  o.precision = p;
  auto m = compiler::compile(g, chip, o);
  auto r = sim::run_timing(chip, m.program);
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

ir::ElemType weight_type(const std::string& precision) {
  if (precision == "fp32") return ir::ElemType::f32;
  if (precision == "bf16") return ir::ElemType::bf16;
  if (precision == "fp8" || precision == "w8a16") return ir::ElemType::f8e4m3;
  if (precision == "int8") return ir::ElemType::i8;
  if (precision == "w4a16") return ir::ElemType::u8;  // int4 packed two per byte
  throw std::runtime_error(fmt::format("--precision '{}': expected fp32, bf16, fp8, int8, w8a16 or w4a16", precision));
}

ir::Graph layer_graph(const ModelConfig& c, int64_t batch, int64_t tokens, int64_t context, ir::ElemType wt,
                      bool quantized_activations, bool flash_attention, int64_t kv_page) {
  // w4a16 weights are passed as u8 (packed int4)
  LayerText lt(c, batch, tokens, context, wt == ir::ElemType::u8 ? std::string("w4") : std::string(ir::elem_name(wt)),
               quantized_activations, flash_attention, kv_page);
  return ir::parse(hoist_consts(lt.build()), c.name + " layer");
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
    throw std::runtime_error(fmt::format("--chips {}: tensor parallelism splits attention heads, and {} has {} heads", n,
                                         c.name, c.heads));
  if (c.kv_heads % n != 0 && n % c.kv_heads != 0)
    throw std::runtime_error(fmt::format("--chips {}: {} KV heads can be neither split nor replicated evenly", n, c.kv_heads));
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
  const int64_t budget = 1024 * std::max<int64_t>(1, static_cast<int64_t>(chip.core.instruction_memory_bytes >> 22));
  const int64_t per_seq_cap = budget <= 1024 ? 512 : budget;
  return std::clamp<int64_t>(budget / o.batch, 1, std::min<int64_t>(per_seq_cap, o.prompt));
}

// Bytes per KV-cache element: fp8 keeps its cache in fp8, the rest in bf16.
int64_t kv_elem_bytes(const LlmOptions& o) { return o.precision == "fp8" ? 1 : 2; }

// The compiler precision of the timing graphs: fp8 and int8 quantise the GEMM
// inputs; the others run their graphs' types as written.
compiler::Precision compile_precision(const LlmOptions& o) {
  if (o.precision == "fp8") return compiler::Precision::fp8;
  if (o.precision == "int8") return compiler::Precision::int8;
  return compiler::Precision::fp32;
}

// FlashAttention keeps a sequence's K and V panels for one KV head in an SRAM
// slot (half a core's SRAM); longer contexts use the unfused kernels.
bool flash_fits(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o, int64_t context) {
  return 2 * c.head_dim * context * kv_elem_bytes(o) <= static_cast<int64_t>(chip.core.sram_bytes) / 4;
}

// One chip's layer (shard `sc` of `c`) for `tokens` new tokens after `context` positions.
ir::Graph shard_layer(const ModelConfig& c, const ModelConfig& sc, const arch::Chip& chip, const LlmOptions& o,
                      int64_t tokens, int64_t context) {
  return layer_graph(sc, o.batch, tokens, context, weight_type(o.precision),
                     compile_precision(o) != compiler::Precision::fp32, flash_fits(c, chip, o, context), o.kv_page);
}

ir::Graph timed_layer(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o, bool prefill) {
  const int64_t chunk = prefill_chunk(chip, o);
  return prefill ? shard_layer(c, shard_config(c, o.chips), chip, o, chunk, chunk)
                 : shard_layer(c, shard_config(c, o.chips), chip, o, 1, o.prompt + o.generate / 2);
}

LlmResult run_llm(const ModelConfig& c, const arch::Chip& chip, const LlmOptions& o) {
  if (o.batch < 1 || o.prompt < 1 || o.generate < 1)
    throw std::runtime_error("--batch, --prompt-len and --gen-len must be positive");
  if (o.kv_page < 0 || o.kv_page > static_cast<int64_t>(chip.core.matrix.cols))
    throw std::runtime_error(fmt::format("--kv-page {}: a KV page holds 1 to {} tokens (the array width of '{}'), or 0 "
                                         "for contiguous caches",
                                         o.kv_page, chip.core.matrix.cols, chip.name));
  const int64_t N = o.chips;
  if (N > 1 && chip.interconnect.topology.empty())
    throw std::runtime_error(fmt::format(
        "--chips {}: chip '{}' describes no chip-to-chip links (an 'interconnect' section in its YAML)", N, chip.name));
  if (N > 1 && static_cast<uint64_t>(N) > chip.interconnect.max_chips)
    throw std::runtime_error(fmt::format("--chips {}: the {} interconnect of '{}' connects at most {} chips", N,
                                         chip.interconnect.topology, chip.name, chip.interconnect.max_chips));
  const ModelConfig sc = shard_config(c, N);
  const ir::ElemType wt = weight_type(o.precision);
  const double wbytes = wt == ir::ElemType::u8 ? 0.5 : ir::elem_size(wt);
  const compiler::Precision prec = compile_precision(o);
  const bool qact = prec != compiler::Precision::fp32;
  if (qact && !chip.matrix_supports(prec == compiler::Precision::fp8 ? DType::fp8e4m3 : DType::int8))
    throw std::runtime_error(fmt::format("--precision {}: chip '{}' has no {} matrix support (its matrix dtypes: see "
                                         "`seedchip chip show {}`)",
                                         o.precision, chip.name, o.precision, chip.name));
  LlmResult r;
  r.weight_bytes = static_cast<int64_t>(static_cast<double>(c.parameters()) * wbytes);
  const int64_t ctx = o.prompt + o.generate;
  // the KV cache is allocated in whole pages of kv_page tokens per sequence
  const int64_t ctx_alloc = o.kv_page > 0 ? (ctx + o.kv_page - 1) / o.kv_page * o.kv_page : ctx;
  const int64_t kv_per_seq_chip = sc.kv_bytes_per_token(kv_elem_bytes(o)) * ctx_alloc;
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
  const auto& ic = chip.interconnect;
  const double launch_s = chip.timing.kernel_launch_ns * 1e-9;
  auto allreduce = [&](int64_t tokens) {
    return N > 1 ? arch::allreduce_seconds(ic, static_cast<uint32_t>(N), static_cast<double>(tokens * c.hidden * 2)) +
                       launch_s
                 : 0.0;
  };
  Timed pre;
  {
    const Timed first = time_graph(shard_layer(c, sc, chip, o, chunk, chunk), chip, prec);
    const int64_t last_n = o.prompt - (nchunks - 1) * chunk;
    const Timed last = nchunks == 1 ? first : time_graph(shard_layer(c, sc, chip, o, last_n, o.prompt), chip, prec);
    const double n = static_cast<double>(nchunks);
    auto mix = [&](double a, double b) { return nchunks == 1 ? a : n * (a + b) / 2; };
    pre.seconds = mix(first.seconds, last.seconds) + 2 * (static_cast<double>(nchunks - 1) * allreduce(o.batch * chunk) +
                                                          allreduce(o.batch * last_n));
    pre.energy = mix(first.energy, last.energy);
    pre.ops = mix(first.ops, last.ops);
    pre.hbm_bytes = mix(first.hbm_bytes, last.hbm_bytes);
    pre.instructions = first.instructions + (nchunks > 1 ? last.instructions : 0);
  }
  Timed dec = time_graph(shard_layer(c, sc, chip, o, 1, o.prompt + o.generate / 2), chip, prec);
  dec.seconds += 2 * allreduce(o.batch);
  auto head = [&](int64_t tokens) {
    Timed t = time_graph(ir::parse(fmt::format(R"(graph "head" {{
  input %x : {4}[{0},{1}]
  input %w : {3}[{1},{2}]
  %y : bf16[{0},{2}] = MatMul(%x, %w) name="lm_head" opset=13
  output %y
}})",
                                               tokens, c.hidden, sc.vocab,
                                               wt == ir::ElemType::u8 ? "bf16" : ir::elem_name(wt),  // w4a16: LM head in bf16
                                               qact ? ir::elem_name(wt) : "bf16"),
                                   "head"),
                         chip, prec);
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
  const DType peak_t = wt == ir::ElemType::f32 ? DType::fp32
                       : prec == compiler::Precision::fp8 ? DType::fp8e4m3
                       : prec == compiler::Precision::int8 ? DType::int8
                                                           : DType::bf16;
  const double peak = chip.peak_ops_per_s(peak_t) * static_cast<double>(N);
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
