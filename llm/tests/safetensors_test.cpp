// Tests for the safetensors reader and writer.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "seedchip/llm/safetensors.h"

using namespace seedchip::llm;

namespace {

std::string tmp(const std::string& name) { return ::testing::TempDir() + "seedchip_st_" + name; }

// A file built byte by byte as the specification describes it.
void write_raw(const std::string& path, const std::string& header, const std::vector<uint8_t>& data) {
  std::ofstream o(path, std::ios::binary);
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) o.put(static_cast<char>((n >> (8 * i)) & 0xFF));
  o << header;
  o.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::string open_error(const std::string& path) {
  try {
    SafeTensorsFile f(path);
  } catch (const SafetensorsError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

}  // namespace

TEST(Safetensors, ReadsAHandBuiltFile) {
  // 1.0f = 00 00 80 3F; bf16 -2.0 = 0xC000; fp8 e4m3 0x38 = 1.0, 0xC0 = -2.0; int8 0xFF = -1.
  const std::string p = tmp("hand.safetensors");
  write_raw(p,
            R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
            R"("b":{"dtype":"BF16","shape":[1],"data_offsets":[8,10]},)"
            R"("q":{"dtype":"F8_E4M3","shape":[1,2],"data_offsets":[10,12]},"i":{"dtype":"I8","shape":[],"data_offsets":[12,13]}})",
            {0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0x00, 0xC0, 0x38, 0xC0, 0xFF});
  SafeTensorsFile f(p);
  EXPECT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.read_f32("w"), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(f.read_f32("b"), (std::vector<float>{-2.0f}));
  EXPECT_EQ(f.read_f32("q", {1, 2}), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_EQ(f.read_f32("i"), (std::vector<float>{-1.0f}));
  EXPECT_EQ(f.info("q").shape, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(f.info("b").begin - f.info("w").begin, 8u);  // offsets are relative to the data section
}

TEST(Safetensors, WriteReadRoundTripAndPaddedHeader) {
  const std::string p = tmp("rt.safetensors");
  std::vector<float> a{0.5f, -1.25f, 3.0f, 1e-3f, 7.0f, -0.0f};
  write_safetensors(p, {{"layer.0.w", "F32", {2, 3}, f32_bytes(a)}, {"e", "F16", {0}, {}},
                        {"n", "U8", {3}, {1, 2, 250}}},
                    {{"source", "test"}});
  std::ifstream in(p, std::ios::binary);
  uint8_t len[8];
  in.read(reinterpret_cast<char*>(len), 8);
  EXPECT_EQ(len[0] % 8, 0) << "header padded to 8 bytes";
  SafeTensorsFile f(p);
  EXPECT_EQ(f.read_f32("layer.0.w", {2, 3}), a);
  EXPECT_EQ(f.read_f32("n"), (std::vector<float>{1, 2, 250}));
  EXPECT_EQ(f.info("e").elements(), 0);
  EXPECT_EQ(f.metadata().at("source"), "test");
}

TEST(Safetensors, BadFilesNameTheFileAndTensor) {
  const std::string p = tmp("bad.safetensors");
  const std::vector<uint8_t> eight(8, 0);
  auto err = [&](const std::string& header, const std::vector<uint8_t>& data) {
    write_raw(p, header, data);
    return open_error(p);
  };
  // Truncated: the tensor needs 8 bytes, 4 are there.
  std::string e = err(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", {1, 2, 3, 4});
  EXPECT_NE(e.find("bad.safetensors"), std::string::npos) << e;
  EXPECT_NE(e.find("'w'"), std::string::npos) << e;
  EXPECT_NE(e.find("truncated"), std::string::npos) << e;
  // Shape does not match the byte range.
  e = err(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", eight);
  EXPECT_NE(e.find("needs 12"), std::string::npos) << e;
  EXPECT_NE(err(R"({"w":{"shape":[2],"data_offsets":[0,8]}})", eight).find("missing field 'dtype'"), std::string::npos);
  EXPECT_NE(err(R"({"w":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}})", eight).find("unknown dtype 'F31'"),
            std::string::npos);
  EXPECT_NE(err(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", eight).find("bad dimension"),
            std::string::npos);
  EXPECT_NE(err(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", eight).find("not valid JSON"),
            std::string::npos);
  EXPECT_NE(err(R"([1,2])", eight).find("not a JSON object"), std::string::npos);
  // a tensor named twice: readers disagree on which copy wins, so it is refused
  EXPECT_NE(err(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight)
                .find("JSON key 'w' given twice"),
            std::string::npos);
  // Overlap, hole, trailing bytes.
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
                eight)
                .find("overlaps"),
            std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", eight).find("belong to no tensor"),
            std::string::npos);
  EXPECT_NE(err(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", eight).find("4 trailing bytes"),
            std::string::npos);
  // Header length beyond the file, and a file too short to hold it.
  {
    std::ofstream o(p, std::ios::binary);
    const uint8_t len[8] = {0xFF, 0, 0, 0, 0, 0, 0, 0};
    o.write(reinterpret_cast<const char*>(len), 8);
    o << "{}";
  }
  EXPECT_NE(open_error(p).find("truncated: header length 255"), std::string::npos) << open_error(p);
  {
    std::ofstream o(p, std::ios::binary);
    o << "abc";
  }
  EXPECT_NE(open_error(p).find("too short"), std::string::npos);
  EXPECT_NE(open_error(tmp("missing.safetensors")).find("cannot be opened"), std::string::npos);
}

TEST(Safetensors, ReadErrorsNameTheTensor) {
  const std::string p = tmp("ok.safetensors");
  write_safetensors(p, {{"w", "F32", {2, 2}, f32_bytes({1, 2, 3, 4})}, {"x", "I64", {1}, std::vector<uint8_t>(8, 0)}});
  SafeTensorsFile f(p);
  auto err = [&](auto fn) {
    try {
      fn();
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(err([&] { f.read_f32("w", {4}); }).find("tensor 'w' has shape [2, 2], the config needs [4]"), std::string::npos);
  EXPECT_NE(err([&] { f.read_f32("nope"); }).find("no tensor named 'nope'"), std::string::npos);
  EXPECT_NE(err([&] { f.read_f32("x"); }).find("cannot be read as numbers"), std::string::npos);
  EXPECT_NE(err([&] { write_safetensors(p, {{"w", "F32", {3}, {1, 2}}}); }).find("2 bytes given for F32 [3]"),
            std::string::npos);
}

namespace {
// Writes zero weights for every tensor `c` needs, under HF names.
void write_model(const std::string& path, const ModelConfig& c, const std::string& gpt2_prefix = "") {
  std::vector<SafeTensorData> ts;
  for (const WeightSpec& w : expected_weights(c, gpt2_prefix)) {
    int64_t n = 1;
    for (int64_t d : w.shape) n *= d;
    ts.push_back({w.name, "BF16", w.shape, std::vector<uint8_t>(static_cast<size_t>(n) * 2, 0)});
  }
  write_safetensors(path, ts);
}
}  // namespace

TEST(Safetensors, CheckWeightsAgainstTheConfig) {
  const auto tiny = parse_config(R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,
      "num_key_value_heads":1,"intermediate_size":16,"vocab_size":10})", "tiny.json");
  const std::string p = tmp("tiny.safetensors");
  write_model(p, tiny);
  // Every parameter the config counts is in the file, and no more.
  EXPECT_EQ(check_weights(tiny, Checkpoint(p)), tiny.parameters());
  const auto moe = parse_config(R"({"model_type":"mixtral","hidden_size":8,"num_hidden_layers":1,"num_attention_heads":2,
      "num_key_value_heads":2,"intermediate_size":4,"vocab_size":10,"num_local_experts":3,"num_experts_per_tok":2})", "m.json");
  write_model(p, moe);
  EXPECT_EQ(check_weights(moe, Checkpoint(p)), moe.parameters());
  const auto gpt = parse_config(R"({"model_type":"gpt2","n_embd":8,"n_layer":1,"n_head":2,"vocab_size":10,"n_positions":6})", "g.json");
  write_model(p, gpt, "transformer.");
  EXPECT_GT(check_weights(gpt, Checkpoint(p)), 0);

  // A file for another shape of model names the tensor and both shapes.
  const auto wider = parse_config(R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,
      "num_key_value_heads":2,"intermediate_size":16,"vocab_size":10})", "wider.json");
  write_model(p, tiny);
  std::string e;
  try {
    check_weights(wider, Checkpoint(p));
  } catch (const SafetensorsError& x) {
    e = x.what();
  }
  EXPECT_NE(e.find("tensor 'model.layers.0.self_attn.k_proj.weight' has shape [4, 8], the config (wider.json) needs [8, 8]"),
            std::string::npos)
      << e;
  // A model with more layers than the file.
  const auto deeper = parse_config(R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":3,"num_attention_heads":2,
      "num_key_value_heads":1,"intermediate_size":16,"vocab_size":10})", "deeper.json");
  e.clear();
  try {
    check_weights(deeper, Checkpoint(p));
  } catch (const SafetensorsError& x) {
    e = x.what();
  }
  EXPECT_NE(e.find("no tensor named 'model.layers.2.input_layernorm.weight'"), std::string::npos) << e;
}

TEST(Safetensors, ShardedCheckpointsWithAnIndex) {
  namespace fs = std::filesystem;
  const auto tiny = parse_config(R"({"model_type":"llama","hidden_size":8,"num_hidden_layers":2,"num_attention_heads":2,
      "num_key_value_heads":1,"intermediate_size":16,"vocab_size":10})", "tiny.json");
  const fs::path dir = fs::path(::testing::TempDir()) / "seedchip_st_sharded";
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Split the weights over two shards, as HF does for large models.
  std::vector<SafeTensorData> a, b;
  std::string map;
  const auto specs = expected_weights(tiny);
  for (size_t i = 0; i < specs.size(); ++i) {
    int64_t n = 1;
    for (int64_t d : specs[i].shape) n *= d;
    auto& to = i % 2 ? b : a;
    to.push_back({specs[i].name, "F32", specs[i].shape, std::vector<uint8_t>(static_cast<size_t>(n) * 4, 0)});
    map += (map.empty() ? "" : ",") + ("\"" + specs[i].name + "\":\"model-0000" + (i % 2 ? "2" : "1") + "-of-00002.safetensors\"");
  }
  write_safetensors((dir / "model-00001-of-00002.safetensors").string(), a);
  write_safetensors((dir / "model-00002-of-00002.safetensors").string(), b);
  const fs::path index = dir / "model.safetensors.index.json";
  std::ofstream(index) << R"({"metadata":{},"weight_map":{)" << map << "}}";
  Checkpoint by_dir(dir.string());
  EXPECT_EQ(by_dir.shard_count(), 2u);
  EXPECT_EQ(check_weights(tiny, by_dir), tiny.parameters());
  EXPECT_EQ(check_weights(tiny, Checkpoint(index.string())), tiny.parameters());

  auto err = [&](const std::string& p) {
    try {
      Checkpoint c(p);
    } catch (const SafetensorsError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  // An index that puts a tensor in the wrong shard (embed_tokens is in shard 1), and a tensor in two shards.
  std::ofstream(index) << R"({"weight_map":{"model.norm.weight":"model-00001-of-00002.safetensors",)"
                       << R"("model.embed_tokens.weight":"model-00002-of-00002.safetensors"}})";
  EXPECT_NE(err(index.string()).find("does not hold it"), std::string::npos) << err(index.string());
  b.push_back(a.front());
  write_safetensors((dir / "model-00002-of-00002.safetensors").string(), b);
  std::ofstream(index) << R"({"weight_map":{"model.embed_tokens.weight":"model-00001-of-00002.safetensors",)"
                       << R"("model.norm.weight":"model-00002-of-00002.safetensors"}})";
  EXPECT_NE(err(index.string()).find("is in both"), std::string::npos) << err(index.string());
  std::ofstream(index) << R"({"weights":{}})";
  EXPECT_NE(err(dir.string()).find("'weight_map' is missing"), std::string::npos);
  fs::remove(index);
  EXPECT_NE(err(dir.string()).find("neither model.safetensors"), std::string::npos);
}
