// Tests for reading calibration rows as jobs (seedchip validate).
#include <gtest/gtest.h>

#include "seedchip/llm/validate.h"

using namespace seedchip;

namespace {
const char* kHeader = "id,hardware,software,workload,metric,value,unit,source\n";

llm::ValidationRow row(const std::string& line) {
  auto rows = llm::parse_calibration(std::string(kHeader) + line + "\n", "t.csv");
  EXPECT_EQ(rows.size(), 1u);
  llm::interpret(rows.at(0));
  return rows.at(0);
}
}  // namespace

TEST(Validate, RowsBecomeJobs) {
  auto r = row("X1,4x H100 SXM,TensorRT-LLM fp8,Llama-70B TP4 batch 2 prompt 512,first-token latency,30,ms,src");
  ASSERT_TRUE(r.expressible) << r.why_not;
  EXPECT_EQ(r.chip, "nvidia-h100-sxm");
  EXPECT_EQ(r.model, "llama-2-70b");
  EXPECT_EQ(r.options.chips, 4);
  EXPECT_EQ(r.options.batch, 2);
  EXPECT_EQ(r.options.prompt, 512);
  EXPECT_EQ(r.options.precision, "fp8");
  EXPECT_EQ(r.kind, llm::ValidationRow::Kind::ttft);
  r = row("X2,1x A100 SXM,vLLM fp16,Llama-3-8B batch 8 in 256 out 512,throughput,900,output tok/s/GPU,src");
  ASSERT_TRUE(r.expressible) << r.why_not;
  EXPECT_EQ(r.model, "llama-3-8b");
  EXPECT_EQ(r.options.precision, "bf16");
  EXPECT_EQ(r.options.generate, 512);
  EXPECT_EQ(r.kind, llm::ValidationRow::Kind::tokens_per_s_per_chip);
  llm::predict(r);
  EXPECT_GT(r.predicted, 0);
  EXPECT_NEAR(r.error, (r.predicted - 900) / 900, 1e-12);
}

TEST(Validate, ServingRowsAreReadAsServingJobs) {
  auto r = row("X,8x H200 SXM,TensorRT-LLM (MLPerf v4.0),Llama-2-70B server (TTFT<=2 s; TPOT<=150 ms),throughput per GPU,3000,"
               "output tok/s,s");
  ASSERT_TRUE(r.expressible) << r.why_not;
  EXPECT_EQ(r.kind, llm::ValidationRow::Kind::serving);
  EXPECT_EQ(r.scenario, "server");
  EXPECT_DOUBLE_EQ(r.ttft_slo_s, 2.0);
  EXPECT_DOUBLE_EQ(r.tpot_slo_s, 0.15);
  EXPECT_EQ(r.options.precision, "fp8");  // MLPerf on Hopper
  EXPECT_EQ(r.options.kv_page, 64);       // TensorRT-LLM's blocks
  EXPECT_TRUE(r.per_chip);
  EXPECT_THROW(llm::predict(r), std::logic_error);  // the serving library predicts it
  r = row("X,8x A100 SXM,TensorRT-LLM (MLPerf v4.0),Llama-2-70B offline,throughput,3000,output tok/s,s");
  ASSERT_TRUE(r.expressible) << r.why_not;
  EXPECT_EQ(r.scenario, "offline");
  EXPECT_EQ(r.options.precision, "bf16");  // no fp8 on the A100
  EXPECT_NE(row("X,8x H200 SXM,TRT,Mistral-7B offline,throughput,3000,output tok/s,s").why_not.find("no built-in MLPerf dataset"),
            std::string::npos);
}

TEST(Validate, WhatCannotBeExpressedSaysWhy) {
  EXPECT_NE(row("X,8x H200 SXM,TRT,GPT-J 6B offline,samples/s,241,samples/s,s").why_not.find("GPT-J"), std::string::npos);
  EXPECT_NE(row("X,8x H200 SXM,TRT,GPT-J 6B batch 1 prompt 128,first-token latency,5,ms,s").why_not.find("GPT-J"),
            std::string::npos);
  EXPECT_NE(row("X,1x MI300X,ROCm,Llama-7B batch 1 prompt 128,first-token latency,5,ms,s").why_not.find("no chip"),
            std::string::npos);
  EXPECT_NE(row("X,4x H100 SXM,TRT,Llama-70B TP2 batch 1 prompt 128,first-token latency,5,ms,s").why_not.find("TP2"),
            std::string::npos);
}

TEST(Validate, BadFilesNameTheLineAndField) {
  try {
    llm::parse_calibration(std::string(kHeader) + "X,1x H100,a,b,c,fast,ms,s\n", "t.csv");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("t.csv:2: field 'value' is 'fast'"), std::string::npos) << e.what();
  }
  EXPECT_THROW(llm::parse_calibration("a,b\n1,2\n", "t.csv"), std::runtime_error);
  // the built-in copy parses and has the shared file's rows
  EXPECT_GE(llm::parse_calibration(llm::builtin_calibration_csv(), "builtin").size(), 14u);
}
