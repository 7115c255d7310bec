// Tests of the serving simulator: request sources, vLLM V1's scheduling
// rules, KV blocks and preemption, replicas, disaggregation, the rate search
// and bad input.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "seedchip/serve/requests.h"
#include "seedchip/serve/serve.h"
#include "seedchip/serve/validate.h"

namespace {

using namespace seedchip;

std::string write_file(const std::string& name, const std::string& text) {
  const auto p = std::filesystem::temp_directory_path() / ("seedchip_serve_test_" + name);
  std::ofstream(p) << text;
  return p.string();
}

// gpt2 (124M) on seedchip-v1 with a small step budget: cheap programs.
serve::ServeOptions small_opts() {
  serve::ServeOptions o;
  o.max_batched_tokens = 256;
  o.max_num_seqs = 16;
  return o;
}
const serve::Deployment& gpt2() {
  static const serve::Deployment d(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), small_opts());
  return d;
}

TEST(Requests, DatasetMatchesPublishedStatistics) {
  const auto r = serve::dataset_requests("mlperf-llama2-70b", 0, 1);
  ASSERT_EQ(r.size(), 24576u);
  std::vector<double> in, out;
  for (const auto& q : r) in.push_back(static_cast<double>(q.prompt)), out.push_back(static_cast<double>(q.output));
  const auto si = serve::summarize(in), so = serve::summarize(out);
  EXPECT_NEAR(si.mean, 222.3, 0.01 * 222.3);
  EXPECT_NEAR(si.p50, 152, 1);
  EXPECT_NEAR(si.p99, 791, 0.02 * 791);
  EXPECT_LE(si.max, 1021);
  EXPECT_GE(si.max, 0.95 * 1021);
  EXPECT_NEAR(so.mean, 294.45, 0.01 * 294.45);
  EXPECT_LE(so.max, 1024);
  EXPECT_GE(*std::min_element(out.begin(), out.end()), 3);
  // seeded: the same seed gives the same sample, another seed another order of the same lengths
  const auto again = serve::dataset_requests("mlperf-llama2-70b", 0, 1), other = serve::dataset_requests("mlperf-llama2-70b", 0, 2);
  EXPECT_TRUE(std::equal(r.begin(), r.end(), again.begin(), [](auto& a, auto& b) { return a.prompt == b.prompt && a.output == b.output; }));
  EXPECT_FALSE(std::equal(r.begin(), r.end(), other.begin(), [](auto& a, auto& b) { return a.prompt == b.prompt; }));
  // the mixtral set keeps input + output within 2048
  for (const auto& q : serve::dataset_requests("mlperf-mixtral-8x7b", 2000, 3)) EXPECT_LE(q.prompt + q.output, 2048);
  const auto f = serve::dataset_requests("fixed:100:20", 5, 1);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[3].prompt, 100);
  EXPECT_EQ(f[3].output, 20);
  EXPECT_THROW(serve::dataset_requests("fixed:0:20", 5, 1), serve::RequestError);
  EXPECT_THROW(serve::dataset_requests("no-such-set", 5, 1), serve::RequestError);
}

TEST(Requests, TracesReadAndBadLinesNamed) {
  auto ok = serve::read_trace(write_file("ok.csv", "arrived_at,num_prefill_tokens,num_decode_tokens\n0,10,5\n0.5,20,7\n"));
  ASSERT_EQ(ok.size(), 2u);
  EXPECT_EQ(ok[1].prompt, 20);
  EXPECT_DOUBLE_EQ(ok[1].arrival_s, 0.5);
  auto js = serve::read_trace(write_file("ok.jsonl", "{\"arrived_at\": 0, \"num_prefill_tokens\": 3, \"num_decode_tokens\": 4}\n\n"
                                                     "{\"arrived_at\": 1, \"num_prefill_tokens\": 5, \"num_decode_tokens\": 6}\n"));
  ASSERT_EQ(js.size(), 2u);
  EXPECT_EQ(js[1].output, 6);
  auto fails_with = [](const std::string& name, const std::string& text, const std::string& what) {
    try {
      serve::read_trace(write_file(name, text));
      ADD_FAILURE() << name << " was accepted";
    } catch (const serve::RequestError& e) {
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  const std::string h = "arrived_at,num_prefill_tokens,num_decode_tokens\n";
  fails_with("nan.csv", h + "0,abc,5\n", "nan.csv:2: num_prefill_tokens 'abc' is not a number");
  fails_with("neg.csv", h + "0,10,-5\n", ":2: num_decode_tokens -5");
  fails_with("order.csv", h + "1,10,5\n0.5,10,5\n", ":3: arrived_at 0.5 is before");
  fails_with("empty.csv", "", "empty trace");
  fails_with("header.csv", "t,in,out\n0,1,1\n", "no 'arrived_at' column");
  fails_with("short.csv", h + "0,10\n", ":2: 2 fields");
  fails_with("bad.jsonl", "{\"arrived_at\": 0, \"num_prefill_tokens\": \"x\", \"num_decode_tokens\": 4}\n", ":1: num_prefill_tokens must be a number");
  fails_with("junk.jsonl", "{not json\n", ":1: not valid JSON");
  fails_with("twice.jsonl", "{\"arrived_at\": 0, \"arrived_at\": 1, \"num_prefill_tokens\": 3, \"num_decode_tokens\": 4}\n",
             ":1: JSON key 'arrived_at' given twice");
  fails_with("missing.jsonl", "{\"arrived_at\": 0}\n", "missing field 'num_prefill_tokens'");
}

TEST(Requests, ArrivalProcesses) {
  std::vector<serve::Request> r(20000);
  serve::assign_arrivals(r, 10, serve::parse_arrivals("poisson"), 5);
  EXPECT_EQ(r[0].arrival_s, 0);
  EXPECT_NEAR(r.back().arrival_s / 19999, 0.1, 0.005);
  serve::assign_arrivals(r, 10, serve::parse_arrivals("gamma:3"), 5);
  std::vector<double> gaps;
  for (size_t i = 1; i < r.size(); ++i) gaps.push_back(r[i].arrival_s - r[i - 1].arrival_s);
  double m = 0, v = 0;
  for (double g : gaps) m += g;
  m /= static_cast<double>(gaps.size());
  for (double g : gaps) v += (g - m) * (g - m);
  EXPECT_NEAR(m, 0.1, 0.01);
  EXPECT_NEAR(std::sqrt(v / static_cast<double>(gaps.size())) / m, 3, 0.3);
  serve::assign_arrivals(r, 4, serve::parse_arrivals("fixed"), 5);
  EXPECT_DOUBLE_EQ(r[8].arrival_s, 2);
  EXPECT_THROW(serve::assign_arrivals(r, 0, serve::parse_arrivals("poisson"), 5), serve::RequestError);
  EXPECT_THROW(serve::parse_arrivals("gamma:x"), serve::RequestError);
  EXPECT_THROW(serve::parse_arrivals("uniform"), serve::RequestError);
}

TEST(Serve, OfflineRunFollowsTheSchedulerRules) {
  const auto& d = gpt2();
  auto reqs = serve::dataset_requests("fixed:100:20", 40, 1);
  reqs[7].prompt = 700;  // one long prompt: chunked over several steps
  const auto r = d.serve(reqs, {});
  ASSERT_EQ(r.requests.size(), 40u);
  for (const auto& q : r.requests) {
    EXPECT_GE(q.first_token_s, q.scheduled_s);
    EXPECT_GT(q.finish_s, q.first_token_s);
    EXPECT_GE(q.scheduled_s, q.arrival_s);
  }
  for (const auto& s : r.steps) {
    EXPECT_LE(s.decode_seqs + s.prefill_tokens, 256);  // the token budget
    EXPECT_LE(s.decode_seqs + s.prefill_seqs, 16);     // the sequence cap
    EXPECT_GT(s.seconds, 0);
  }
  // the long prompt needs at least three chunks of the 256-token budget
  EXPECT_GE(r.requests[7].first_token_s - r.requests[7].scheduled_s,
            2.5 * (r.requests[0].first_token_s - r.requests[0].scheduled_s) / 2);
  // requests are admitted first come, first served
  for (size_t i = 1; i < r.requests.size(); ++i) EXPECT_LE(r.requests[i - 1].scheduled_s, r.requests[i].scheduled_s);
  EXPECT_NEAR(r.output_tokens_per_s * r.simulated_s, 40 * 20, 1e-6);
  EXPECT_EQ(r.preemptions, 0);
  // the same run again: the same figures, bit for bit
  const auto again = d.serve(reqs, {});
  EXPECT_EQ(again.simulated_s, r.simulated_s);
  EXPECT_EQ(again.ttft.p99, r.ttft.p99);
  EXPECT_EQ(again.steps.size(), r.steps.size());
}

TEST(Serve, ScarceKvBlocksPreemptTheNewestAndRecompute) {
  auto o = small_opts();
  o.memory_utilization = 0.0019;  // ~290 MB of 155 GB: the weights and about a thousand tokens of KV
  const serve::Deployment d(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
  const int64_t cap = d.kv_blocks() * o.block_size;
  ASSERT_GE(cap, 256);
  ASSERT_LE(cap, 8192);
  const auto reqs = serve::dataset_requests(fmt::format("fixed:{}:{}", cap / 8, cap / 8), 24, 1);
  const auto r = d.serve(reqs, {});
  EXPECT_GT(r.preemptions, 0);
  EXPECT_DOUBLE_EQ(r.kv_peak_utilization, std::min(1.0, r.kv_peak_utilization));
  for (const auto& q : r.requests) EXPECT_GT(q.finish_s, 0);
  // a request that can never fit the cache is refused, naming it
  auto big = reqs;
  big[3].prompt = cap;
  EXPECT_THROW(d.serve(big, {}), serve::RequestError);
}

TEST(Serve, RequestsBeyondTheContextAreRefused) {
  auto reqs = serve::dataset_requests("fixed:1000:100", 2, 1);  // gpt2's context is 1024
  try {
    gpt2().serve(reqs, {});
    ADD_FAILURE() << "accepted";
  } catch (const serve::RequestError& e) {
    EXPECT_NE(std::string(e.what()).find("context of 1024"), std::string::npos) << e.what();
  }
}

TEST(Serve, ReplicasRoutersAndDisaggregation) {
  const auto reqs = serve::dataset_requests("fixed:128:32", 64, 1);
  const double one = gpt2().serve(reqs, {}).output_tokens_per_s;
  auto o = small_opts();
  o.replicas = 2;
  const serve::Deployment two(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
  const auto r2 = two.serve(reqs, {});
  EXPECT_EQ(r2.chips, 2);
  EXPECT_GT(r2.output_tokens_per_s, 1.8 * one);
  o.router = "least-outstanding";
  const serve::Deployment lo(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
  std::map<int64_t, int> per;
  for (const auto& q : lo.serve(reqs, {}).requests) ++per[q.replica];
  EXPECT_EQ(per.size(), 2u);
  o.replicas = 1;
  o.router = "round-robin";
  o.prefill_replicas = 1;
  o.decode_replicas = 1;
  const serve::Deployment dis(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
  const auto rd = dis.serve(reqs, {});
  EXPECT_EQ(rd.chips, 2);
  for (const auto& q : rd.requests) {
    EXPECT_GT(q.finish_s, q.first_token_s);
    EXPECT_EQ(q.replica, 0);  // the first token comes from the prefill replica
  }
  o.prefill_replicas = o.decode_replicas = 0;
  o.pp = 2;
  const serve::Deployment pp(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
  const auto rp = pp.serve(reqs, {});
  EXPECT_EQ(rp.chips, 2);
  EXPECT_EQ(rp.engines, 2);  // two batches in flight
}

TEST(Serve, RateSearchMeetsTheSloOrSaysItCannot) {
  const auto reqs = serve::dataset_requests("fixed:128:32", 200, 1);
  const serve::Slo slo{0.5, 0.05};
  const auto s = serve::search_rate(gpt2(), reqs, slo, {}, 1);
  ASSERT_TRUE(s.met);
  EXPECT_LE(s.best.ttft.p99, slo.ttft_s);
  EXPECT_LE(s.best.tpot.p99, slo.tpot_s);
  EXPECT_GT(s.best.rate_qps, 0);
  // a faster rate than the best one found fails
  bool faster_fails = true;
  for (const auto& [rate, ok] : s.tried)
    if (rate > s.best.rate_qps && ok) faster_fails = false;
  EXPECT_TRUE(faster_fails);
  const auto none = serve::search_rate(gpt2(), reqs, {1e-7, 1e-7}, {}, 1);
  EXPECT_FALSE(none.met);
  EXPECT_THROW(serve::search_rate(gpt2(), reqs, {}, {}, 1), std::runtime_error);
}

TEST(Serve, LayoutsTheChipsCannotHoldAreRefused) {
  const auto m70 = llm::find_model("llama-2-70b");
  serve::ServeOptions o;
  o.precision = "bf16";
  EXPECT_THROW(serve::Deployment(m70, arch::find_chip("nvidia-h100-sxm"), o), std::runtime_error);  // 138 GB of weights
  o.tp = 3;
  EXPECT_THROW(serve::Deployment(m70, arch::find_chip("nvidia-h100-sxm"), o), std::runtime_error);  // 64 heads over 3
  o.tp = 16;
  EXPECT_THROW(serve::Deployment(m70, arch::find_chip("nvidia-h100-sxm"), o), std::runtime_error);  // NVLink: 8 chips
  o.tp = 1;
  o.pp = 0;
  EXPECT_THROW(serve::Deployment(m70, arch::find_chip("nvidia-h100-sxm"), o), std::runtime_error);
  o.pp = 1;
  o.router = "random";
  EXPECT_THROW(serve::Deployment(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o), std::runtime_error);
}

TEST(Serve, ValidationLayoutFollowsMlperfSubmissions) {
  llm::ValidationRow r;
  r.kind = llm::ValidationRow::Kind::serving;
  r.model = "llama-2-70b";
  r.options.chips = 8;
  r.options.precision = "fp8";
  r.chip = "nvidia-h200-sxm";
  EXPECT_EQ(serve::validation_layout(r).tp, 1);
  EXPECT_EQ(serve::validation_layout(r).replicas, 8);
  r.chip = "nvidia-h100-sxm";
  EXPECT_EQ(serve::validation_layout(r).tp, 2);
  EXPECT_EQ(serve::validation_layout(r).replicas, 4);
}

}  // namespace

namespace {

// A small Mixtral-shaped model (8 experts, top 2) on four seedchip-v1 chips.
serve::ServeResult serve_moe(bool expert_parallel, uint64_t routing_seed) {
  const auto m = llm::parse_config(R"({"model_type": "mixtral", "hidden_size": 512, "num_hidden_layers": 4,
    "num_attention_heads": 8, "num_key_value_heads": 8, "intermediate_size": 1024, "vocab_size": 1000,
    "max_position_embeddings": 2048, "num_local_experts": 8, "num_experts_per_tok": 2})",
                                   "tiny-moe");
  serve::ServeOptions o = small_opts();
  o.tp = 4;
  o.expert_parallel = expert_parallel;
  o.routing_seed = routing_seed;
  const serve::Deployment d(m, arch::find_chip("seedchip-v1"), o);
  return d.serve(serve::dataset_requests("fixed:100:20", 40, 1), {});
}

}  // namespace

TEST(Serve, ExpertParallelRoutingIsSeededAndItsImbalanceCostsTime) {
  const auto a = serve_moe(true, 1), b = serve_moe(true, 1), c = serve_moe(true, 2);
  EXPECT_EQ(a.simulated_s, b.simulated_s);  // same seed, same routing, same run
  EXPECT_EQ(a.json().dump(), b.json().dump());
  EXPECT_GT(a.expert_imbalance_s, 0);
  EXPECT_NE(a.simulated_s, c.simulated_s);  // another routing
  const auto sliced = serve_moe(false, 1);
  EXPECT_EQ(sliced.expert_imbalance_s, 0);
  EXPECT_GT(sliced.simulated_s, 0);
}

TEST(Serve, ExpertParallelismOfADenseModelIsRefused) {
  serve::ServeOptions o = small_opts();
  o.expert_parallel = true;
  try {
    serve::Deployment d(llm::find_model("gpt2"), arch::find_chip("seedchip-v1"), o);
    ADD_FAILURE() << "accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("--expert-parallel: gpt2 is not a mixture of experts"), std::string::npos) << e.what();
  }
}
