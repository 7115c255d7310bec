// Tests for LLM configs and timing.
#include <gtest/gtest.h>

#include "seedchip/arch/chip.h"
#include "seedchip/llm/decoder.h"
#include "seedchip/llm/llm.h"

using namespace seedchip;

namespace {
std::string config_error(const std::string& text) {
  try {
    llm::parse_config(text, "c.json");
  } catch (const llm::ConfigError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(Config, BuiltinsLoadWithPublishedSizes) {
  EXPECT_EQ(llm::builtin_models().size(), 11u);
  auto l7 = llm::find_model("llama-2-7b");
  EXPECT_NEAR(static_cast<double>(l7.parameters()) / 1e9, 6.74, 0.05);
  auto l70 = llm::find_model("llama-2-70b");
  EXPECT_NEAR(static_cast<double>(l70.parameters()) / 1e9, 68.98, 0.3);
  EXPECT_EQ(l70.kv_heads, 8);
  auto g2 = llm::find_model("gpt2");
  EXPECT_NEAR(static_cast<double>(g2.parameters()) / 1e6, 124.4, 1.0);
  EXPECT_FALSE(g2.rms_norm);
  auto mx = llm::find_model("mixtral-8x7b");
  EXPECT_NEAR(static_cast<double>(mx.parameters()) / 1e9, 46.7, 0.3);
  auto gj = llm::find_model("gpt-j-6b");  // EleutherAI/gpt-j-6b: 6.05B parameters, 64 of 256 head dims rotated
  EXPECT_NEAR(static_cast<double>(gj.parameters()) / 1e9, 6.05, 0.05);
  EXPECT_TRUE(gj.parallel_residual);
  EXPECT_EQ(gj.rotary_dim, 64);
  EXPECT_TRUE(gj.mlp_bias);
  EXPECT_FALSE(gj.qkv_bias);
}

TEST(Config, BadConfigsNameTheFieldAndReason) {
  EXPECT_NE(config_error("{").find("c.json: not valid JSON"), std::string::npos);
  EXPECT_EQ(config_error(R"({"model_type": "bert"})"),
            "c.json: field 'model_type' is 'bert'; supported: llama, mistral, qwen2, mixtral, gpt2, gptj");
  EXPECT_EQ(config_error(R"({"model_type": "llama", "hidden_size": 100, "num_hidden_layers": 2, "num_attention_heads": 3, "vocab_size": 10, "intermediate_size": 8})"),
            "c.json: field 'num_attention_heads' (3) does not divide hidden_size (100)");
  EXPECT_EQ(config_error(R"({"model_type": "llama", "num_hidden_layers": 2})"), "c.json: missing field 'hidden_size'");
  EXPECT_EQ(config_error(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3, "vocab_size": 10, "intermediate_size": 8})"),
            "c.json: field 'num_key_value_heads' (3) does not divide num_attention_heads (4)");
  EXPECT_EQ(config_error(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10, "intermediate_size": 8, "hidden_act": "relu6"})"),
            "c.json: field 'hidden_act' is 'relu6'; supported: silu, gelu, gelu_new");
  EXPECT_EQ(config_error(R"({"model_type": "llama", "hidden_size": -4, "num_hidden_layers": 2})"),
            "c.json: field 'hidden_size' must be a positive integer up to 2147483648, got -4");
  // a field of the wrong type is named (not the JSON library's bare text)
  EXPECT_EQ(config_error(R"({"model_type": ["llama"]})"), "c.json: field 'model_type' must be a string, got [\"llama\"]");
  const std::string base = R"({"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "vocab_size": 10, "intermediate_size": 8, )";
  EXPECT_EQ(config_error(base + R"("num_hidden_layers": 2, "rms_norm_eps": "small"})"),
            "c.json: field 'rms_norm_eps' must be a number in [0, 1], got \"small\"");
  EXPECT_EQ(config_error(base + R"("num_hidden_layers": 2, "tie_word_embeddings": 1})"),
            "c.json: field 'tie_word_embeddings' must be true or false, got 1");
  // sizes whose products overflow are refused, not reported as negative byte counts
  EXPECT_NE(config_error(base + R"("num_hidden_layers": 1000000000000})").find("'num_hidden_layers' must be a positive integer up to"),
            std::string::npos);
  EXPECT_EQ(config_error(R"({"model_type": "llama", "hidden_size": 2147483648, "num_attention_heads": 1, "vocab_size": 2147483648, "intermediate_size": 2147483648, "num_hidden_layers": 2147483648})"),
            "c.json: the model's size: size exceeds the limit of 1125899906842624");
  // nesting deep enough to overflow a recursive reader's stack
  EXPECT_NE(config_error(std::string(200000, '[')).find("c.json: JSON nested deeper than 64 levels"), std::string::npos);
}

TEST(Timing, DecodeIsMemoryBoundPrefillComputeBound) {
  const auto chip = arch::find_chip("seedchip-v1");
  llm::LlmOptions o;
  o.batch = 1;
  o.prompt = 512;
  o.generate = 64;
  auto r = llm::run_llm(llm::find_model("llama-2-7b"), chip, o);
  // A batch-1 decode step streams every weight once: at most peak bandwidth, and it should come close.
  const double floor_s = static_cast<double>(r.weight_bytes) / chip.memory.bandwidth_bytes_per_s;
  EXPECT_GT(r.tpot_s, floor_s);
  EXPECT_LT(r.tpot_s, 3 * floor_s);
  EXPECT_GT(r.hbm_bw_utilization, 0.3);
  EXPECT_GT(r.ttft_s, r.tpot_s);
  EXPECT_GT(r.max_batch, 1);
  auto j = r.json();
  for (const char* k : {"ttft_s", "tpot_s", "output_tokens_per_s", "hbm_bw_utilization", "mfu", "energy_per_token_j",
                        "kv_cache_bytes", "max_batch"})
    EXPECT_TRUE(j.contains(k)) << k;
}

TEST(Timing, ModelsThatDoNotFitAreRefused) {
  const auto chip = arch::find_chip("seedchip-v1");
  llm::LlmOptions o;
  try {
    llm::run_llm(llm::find_model("llama-3.1-405b"), chip, o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs 8"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("have 154.6 GB"), std::string::npos) << e.what();
  }
}

TEST(TensorParallel, ShardsDivideHeadsAndReplicateScarceKvHeads) {
  const auto c = llm::find_model("llama-2-70b");  // 64 heads, 8 KV heads
  const auto s4 = llm::shard_config(c, 4);
  EXPECT_EQ(s4.heads, 16);
  EXPECT_EQ(s4.kv_heads, 2);
  EXPECT_EQ(s4.intermediate, c.intermediate / 4);
  EXPECT_EQ(s4.hidden, c.hidden);
  const auto s16 = llm::shard_config(c, 16);
  EXPECT_EQ(s16.heads, 4);
  EXPECT_EQ(s16.kv_heads, 1);  // 8 KV heads over 16 chips: each chip keeps one
  EXPECT_THROW(llm::shard_config(c, 3), std::runtime_error);  // 64 heads do not split 3 ways
}

TEST(TensorParallel, MoreChipsAreFasterAndPayForTheirLinks) {
  const auto chip = arch::find_chip("seedchip-v1");
  const auto c = llm::find_model("llama-2-70b");
  llm::LlmOptions o;
  o.precision = "fp8";
  o.batch = 8;
  o.prompt = 512;
  o.generate = 64;
  const auto r1 = llm::run_llm(c, chip, o);
  o.chips = 8;
  const auto r8 = llm::run_llm(c, chip, o);
  EXPECT_EQ(r8.chips, 8);
  EXPECT_LT(r8.tpot_s, r1.tpot_s / 2);    // a decode step streams an eighth of the weights per chip
  EXPECT_GT(r8.tpot_s, r1.tpot_s / 8);    // but not faster than perfect scaling: all-reduces cost time
  EXPECT_LT(r8.ttft_s, r1.ttft_s / 2);
  EXPECT_GT(r8.max_batch, 7 * r1.max_batch);  // 8x the HBM for the KV cache, same weights
  // Slower links make it slower
  auto slow = chip;
  slow.interconnect.link_bytes_per_s /= 100;
  slow.interconnect.latency_ns *= 10;
  EXPECT_GT(llm::run_llm(c, slow, o).tpot_s, r8.tpot_s * 1.05);
}

TEST(TensorParallel, ChipsWithoutLinksOrTooManyChipsAreRefused) {
  llm::LlmOptions o;
  o.chips = 2;
  try {
    llm::run_llm(llm::find_model("llama-2-7b"), arch::find_chip("tpu-v1"), o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("describes no chip-to-chip links"), std::string::npos) << e.what();
  }
  o.chips = 16;
  try {
    llm::run_llm(llm::find_model("llama-2-7b"), arch::find_chip("seedchip-v1"), o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("connects at most 8 chips"), std::string::npos) << e.what();
  }
}

TEST(TensorParallel, Llama405bFitsOnEightChips) {
  llm::LlmOptions o;
  o.precision = "fp8";
  o.chips = 8;
  o.batch = 16;
  o.prompt = 1024;
  o.generate = 128;
  const auto r = llm::run_llm(llm::find_model("llama-3.1-405b"), arch::find_chip("seedchip-v1"), o);
  EXPECT_GT(r.ttft_s, 0);
  EXPECT_GT(r.output_tokens_per_s, 0);
  EXPECT_GT(r.max_batch, 16);
}

TEST(Timing, WeightOnlyInt4HalvesWeightBytesAndSpeedsUpDecode) {
  const auto chip = arch::find_chip("nvidia-h100-sxm");
  const auto c = llm::find_model("llama-2-7b");
  llm::LlmOptions o;
  o.prompt = 256;
  o.generate = 64;
  o.precision = "fp8";
  const auto r8 = llm::run_llm(c, chip, o);
  o.precision = "w4a16";
  const auto r4 = llm::run_llm(c, chip, o);
  o.precision = "bf16";
  const auto r16 = llm::run_llm(c, chip, o);
  EXPECT_NEAR(static_cast<double>(r4.weight_bytes), 0.5 * static_cast<double>(r8.weight_bytes), 1e6);
  EXPECT_LT(r4.tpot_s, r16.tpot_s);  // a batch-1 decode step is bound by the weights it streams
  EXPECT_LT(r4.tpot_s, r8.tpot_s);
  o.precision = "w3a16";
  EXPECT_THROW(llm::run_llm(c, chip, o), std::runtime_error);
}

TEST(Timing, KvCacheIsAllocatedInWholePages) {
  const auto chip = arch::find_chip("seedchip-v1");
  const auto c = llm::find_model("llama-2-7b");
  llm::LlmOptions o;
  o.batch = 4;
  o.prompt = 300;
  o.generate = 10;  // 310 tokens: two pages of 256 per sequence
  const auto paged = llm::run_llm(c, chip, o);
  EXPECT_EQ(paged.kv_cache_bytes, 4 * c.kv_bytes_per_token(2) * 512);
  o.kv_page = 0;
  const auto flat = llm::run_llm(c, chip, o);
  EXPECT_EQ(flat.kv_cache_bytes, 4 * c.kv_bytes_per_token(2) * 310);
  EXPECT_GE(flat.max_batch, paged.max_batch);
  // the paged layer reads its KV through a page table
  const auto g = llm::timed_layer(c, chip, [] {
    llm::LlmOptions p;
    p.prompt = 1000;
    return p;
  }(), false);
  EXPECT_GE(g.find_value("pages"), 0);
  o.kv_page = 1000;  // more than the array width
  EXPECT_THROW(llm::run_llm(c, chip, o), std::runtime_error);
}

namespace {
// Ops of a graph, in order, and how many times `op` occurs.
int count_op(const ir::Graph& g, const std::string& op) {
  int n = 0;
  for (const auto& nd : g.nodes) n += nd.op == op;
  return n;
}
// The node producing value v, or null.
const ir::Node* producer(const ir::Graph& g, int v) {
  for (const auto& nd : g.nodes)
    for (int o : nd.outputs)
      if (o == v) return &nd;
  return nullptr;
}
}  // namespace

TEST(Decoder, OneBuilderWritesEagerAndFusedLayers) {
  const auto c = llm::find_model("llama-3-8b");
  const auto p = llm::precision_policy("bf16");
  llm::DecoderSpec s;
  s.tokens = 4;
  s.context = 10;  // 6 cached positions
  s.layers = 2;
  s.arithmetic = llm::Arithmetic::eager;
  s.embed = s.head = true;
  const auto eager = llm::decoder_graph(c, s, p);
  // the step's interface: ids, rotary tables, mask, past K/V per layer; logits and present K/V
  std::vector<std::string> in;
  for (int v : eager.inputs) in.push_back(eager.values[static_cast<size_t>(v)].name);
  for (const char* n : {"ids", "cos", "sin", "mask", "past_k.0", "past_v.1"})
    EXPECT_NE(std::find(in.begin(), in.end(), n), in.end()) << n;
  ASSERT_EQ(eager.outputs.size(), 5u);
  EXPECT_EQ(eager.values[static_cast<size_t>(eager.outputs[0])].name, "logits");
  EXPECT_EQ(eager.values[static_cast<size_t>(eager.outputs[0])].shape, (std::vector<int64_t>{1, c.vocab}));
  EXPECT_EQ(eager.values[static_cast<size_t>(eager.outputs[1])].shape, (std::vector<int64_t>{c.kv_heads, 10, c.head_dim}));
  EXPECT_EQ(count_op(eager, "RMSNormalization"), 0);  // HF's arithmetic, decomposed
  EXPECT_EQ(count_op(eager, "ReduceMean"), 5);        // two norms per layer and the final one
  // the same layer fused for timing: one row kernel per norm, fused SwiGLU and attention
  llm::DecoderSpec t;
  t.batch = 3;
  t.tokens = 1;
  t.context = 300;
  t.flash_attention = true;
  t.kv_page = 64;
  const auto fused = llm::decoder_graph(c, t, p);
  EXPECT_EQ(count_op(fused, "RMSNormalization"), 2);
  EXPECT_EQ(count_op(fused, "SwiGLU"), 1);
  EXPECT_EQ(count_op(fused, "FlashAttention"), 1);
  EXPECT_EQ(count_op(fused, "MatMul"), 4);  // QKV, output, gate/up, down: QKV and gate/up are one GEMM each
  EXPECT_GE(fused.find_value("pages"), 0);
  EXPECT_EQ(fused.values[static_cast<size_t>(fused.find_value("pages"))].shape, (std::vector<int64_t>{3 * c.kv_heads, 5}));
}

TEST(Decoder, FamiliesKeepTheirBiasesAndBlocks) {
  const auto p = llm::precision_policy("bf16");
  llm::DecoderSpec s;
  s.tokens = s.context = 16;
  // Qwen2's QKV bias is timed: the QKV GEMM feeds an Add
  const auto q = llm::decoder_graph(llm::find_model("qwen2-72b"), s, p);
  bool qkv_bias = false;
  for (const auto& nd : q.nodes)
    if (nd.op == "Add" && producer(q, nd.inputs[0]) && producer(q, nd.inputs[0])->op == "MatMul" &&
        q.values[static_cast<size_t>(nd.inputs[0])].shape.back() == (64 + 16) * 128)
      qkv_bias = true;
  EXPECT_TRUE(qkv_bias);
  // GPT-J: one LayerNorm feeds both the QKV GEMM and the MLP (parallel block); MLP biases
  const auto j = llm::decoder_graph(llm::find_model("gpt-j-6b"), s, p);
  EXPECT_EQ(count_op(j, "LayerNormalization"), 1);
  EXPECT_EQ(count_op(j, "Gelu"), 1);
  int ln_out = -1, readers = 0;
  for (const auto& nd : j.nodes)
    if (nd.op == "LayerNormalization") ln_out = nd.outputs[0];
  for (const auto& nd : j.nodes)
    for (int i : nd.inputs) readers += i == ln_out;
  EXPECT_EQ(readers, 2);
  EXPECT_EQ(count_op(j, "Add"), 2 + 2 + 2);  // two MLP biases, two residual adds, RoPE of Q and K
  // a dense Llama layer: no biases at all
  const auto l = llm::decoder_graph(llm::find_model("llama-2-7b"), s, p);
  EXPECT_EQ(count_op(l, "Add"), 2 + 2);  // two residual adds, RoPE of Q and K
}

TEST(Decoder, MixtureOfExpertsParts) {
  const auto c = llm::find_model("mixtral-8x7b");
  const auto p = llm::precision_policy("bf16");
  llm::DecoderSpec s;
  s.tokens = s.context = 32;
  s.part = llm::LayerPart::dense;
  const auto dense = llm::decoder_graph(c, s, p);
  // the router's logits [tokens, experts] leave the dense part; no expert GEMM is in it
  bool router = false;
  for (int v : dense.outputs) router = router || dense.values[static_cast<size_t>(v)].shape == std::vector<int64_t>{32, 8};
  EXPECT_TRUE(router);
  EXPECT_EQ(count_op(dense, "SwiGLU"), 0);
  s.part = llm::LayerPart::expert;
  const auto ex = llm::decoder_graph(c, s, p);
  EXPECT_EQ(count_op(ex, "SwiGLU"), 1);
  ASSERT_EQ(ex.inputs.size(), 3u);  // x, gate/up, down
  EXPECT_EQ(ex.values[static_cast<size_t>(ex.inputs[1])].shape, (std::vector<int64_t>{c.hidden, 2 * c.intermediate}));
}

TEST(Decoder, InconsistentSpecsAreRefused) {
  const auto c = llm::find_model("llama-2-7b");
  const auto p = llm::precision_policy("bf16");
  auto err = [&](llm::DecoderSpec s, const llm::ModelConfig& m) {
    try {
      llm::decoder_graph(m, s, p);
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  llm::DecoderSpec s;
  s.arithmetic = llm::Arithmetic::eager;
  s.batch = 2;
  EXPECT_NE(err(s, c).find("eager decoder graphs are batch 1"), std::string::npos);
  llm::DecoderSpec t;
  t.tokens = 5;
  t.context = 4;
  EXPECT_NE(err(t, c).find("1 <= tokens <= context"), std::string::npos);
  llm::DecoderSpec e;
  e.part = llm::LayerPart::expert;
  EXPECT_NE(err(e, c).find("an expert part of a dense model"), std::string::npos);
  llm::DecoderSpec g;
  g.arithmetic = llm::Arithmetic::eager;
  EXPECT_NE(err(g, llm::find_model("gpt-j-6b")).find("timing-only"), std::string::npos);
}
