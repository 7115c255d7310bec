// seedchip — safetensors reader and writer.
#include "seedchip/llm/safetensors.h"

#include "seedchip/numerics/input.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <limits>
#include <optional>
#include <nlohmann/json.hpp>

#include "seedchip/numerics/convert.h"

namespace seedchip::llm {
namespace {

// The specification caps the header at 100 MB (a guard against hostile files).
constexpr uint64_t kMaxHeader = 100'000'000;

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

uint64_t get_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// The safetensors dtypes that read_f32 converts, as seedchip dtypes.
std::optional<DType> numeric_dtype(const std::string& d) {
  static const std::pair<const char*, DType> kMap[] = {
      {"F32", DType::fp32},        {"BF16", DType::bf16},       {"F16", DType::fp16},
      {"F8_E4M3", DType::fp8e4m3}, {"F8_E5M2", DType::fp8e5m2}, {"I8", DType::int8},
      {"U8", DType::uint8},        {"I32", DType::int32}};
  for (const auto& [name, t] : kMap)
    if (d == name) return t;
  return std::nullopt;
}

}  // namespace

int64_t SafeTensorInfo::elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int safetensors_dtype_bytes(const std::string& d) {
  if (d == "F64" || d == "I64" || d == "U64") return 8;
  if (d == "F32" || d == "I32" || d == "U32") return 4;
  if (d == "F16" || d == "BF16" || d == "I16" || d == "U16") return 2;
  if (d == "F8_E4M3" || d == "F8_E5M2" || d == "I8" || d == "U8" || d == "BOOL") return 1;
  return 0;
}

SafeTensorsFile::SafeTensorsFile(const std::string& path) : path_(path) {
  in_.open(path, std::ios::binary);
  if (!in_) throw SafetensorsError(fmt::format("{}: cannot be opened", path));
  std::error_code ec;
  const uint64_t size = std::filesystem::file_size(path, ec);
  if (ec) throw SafetensorsError(fmt::format("{}: cannot read its size: {}", path, ec.message()));
  if (size < 8) throw SafetensorsError(fmt::format("{}: {} bytes: too short for the 8-byte header length", path, size));
  uint8_t len_bytes[8];
  in_.read(reinterpret_cast<char*>(len_bytes), 8);
  const uint64_t n = get_le64(len_bytes);
  if (n > kMaxHeader) throw SafetensorsError(fmt::format("{}: header length {} exceeds the format's 100 MB limit", path, n));
  if (n > size - 8)
    throw SafetensorsError(fmt::format("{}: truncated: header length {} but only {} bytes follow", path, n, size - 8));
  std::string text(n, '\0');
  in_.read(text.data(), static_cast<std::streamsize>(n));
  if (!in_) throw SafetensorsError(fmt::format("{}: header could not be read", path));
  nlohmann::json h;
  try {
    h = parse_json(text, path + ": header");  // a tensor named twice is an error, not "the last one wins"
  } catch (const InputError& e) {
    throw SafetensorsError(e.what());
  }
  if (!h.is_object()) throw SafetensorsError(fmt::format("{}: header is not a JSON object", path));

  const uint64_t data_start = 8 + n, data_size = size - data_start;
  std::vector<std::pair<uint64_t, std::string>> ranges;  // (begin, name), to find holes and overlaps
  for (auto& [name, v] : h.items()) {
    if (name == "__metadata__") {
      if (!v.is_object()) throw SafetensorsError(fmt::format("{}: __metadata__ is not an object", path));
      for (auto& [k, s] : v.items()) {
        if (!s.is_string()) throw SafetensorsError(fmt::format("{}: __metadata__.{} is not a string", path, k));
        metadata_[k] = s.get<std::string>();
      }
      continue;
    }
    auto where = [&, name = name](const std::string& field) { return fmt::format("{}: tensor '{}': {}", path, name, field); };
    if (!v.is_object()) throw SafetensorsError(where("entry is not an object"));
    for (const char* f : {"dtype", "shape", "data_offsets"})
      if (!v.contains(f)) throw SafetensorsError(where(fmt::format("missing field '{}'", f)));
    SafeTensorInfo t;
    if (!v["dtype"].is_string()) throw SafetensorsError(where("dtype is not a string"));
    t.dtype = v["dtype"].get<std::string>();
    const int eb = safetensors_dtype_bytes(t.dtype);
    if (eb == 0) throw SafetensorsError(where(fmt::format("unknown dtype '{}'", t.dtype)));
    if (!v["shape"].is_array()) throw SafetensorsError(where("shape is not an array"));
    uint64_t elems = 1;
    for (auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        throw SafetensorsError(where(fmt::format("shape has a bad dimension {}", one_line(d.dump(), 80))));
      const auto dim = static_cast<uint64_t>(d.get<int64_t>());
      if (dim != 0 && elems > std::numeric_limits<uint64_t>::max() / 16 / dim)
        throw SafetensorsError(where("shape is too large"));
      elems *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      throw SafetensorsError(where("data_offsets must be [begin, end] of non-negative integers"));
    const uint64_t b = off[0].get<uint64_t>(), e = off[1].get<uint64_t>();
    if (b > e) throw SafetensorsError(where(fmt::format("data_offsets [{}, {}]: begin after end", b, e)));
    if (e - b != elems * static_cast<uint64_t>(eb))
      throw SafetensorsError(where(fmt::format("data_offsets [{}, {}] hold {} bytes but {} {} needs {}", b, e, e - b,
                                               t.dtype, shape_str(t.shape), elems * static_cast<uint64_t>(eb))));
    if (e > data_size)
      throw SafetensorsError(where(fmt::format("truncated: data ends at byte {} of the data section but the file has {}",
                                               e, data_size)));
    t.begin = data_start + b;
    t.end = data_start + e;
    ranges.emplace_back(b, name);
    tensors_.emplace(name, std::move(t));
  }
  // Every byte of the data section belongs to exactly one tensor.
  std::sort(ranges.begin(), ranges.end());
  uint64_t at = 0;
  for (auto& [b, name] : ranges) {
    const SafeTensorInfo& t = tensors_.at(name);
    if (t.end == t.begin) continue;  // empty tensors own no bytes
    if (b < at) throw SafetensorsError(fmt::format("{}: tensor '{}' overlaps the tensor before it", path, name));
    if (b > at)
      throw SafetensorsError(fmt::format("{}: bytes {}..{} of the data section belong to no tensor", path, at, b));
    at = std::max(at, t.end - data_start);
  }
  if (at != data_size)
    throw SafetensorsError(fmt::format("{}: {} trailing bytes after the last tensor", path, data_size - at));
}

const SafeTensorInfo& SafeTensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw SafetensorsError(fmt::format("{}: no tensor named '{}'", path_, name));
  return it->second;
}

std::vector<uint8_t> SafeTensorsFile::read_bytes(const std::string& name) const {
  const SafeTensorInfo& t = info(name);
  std::vector<uint8_t> out(t.end - t.begin);
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(t.begin));
  in_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (!in_) throw SafetensorsError(fmt::format("{}: tensor '{}': read failed", path_, name));
  return out;
}

std::vector<float> SafeTensorsFile::read_f32(const std::string& name, const std::vector<int64_t>& expect) const {
  const SafeTensorInfo& t = info(name);
  if (!expect.empty() && expect != t.shape)
    throw SafetensorsError(fmt::format("{}: tensor '{}' has shape {}, the config needs {}", path_, name,
                                       shape_str(t.shape), shape_str(expect)));
  const std::optional<DType> type = numeric_dtype(t.dtype);
  if (!type)
    throw SafetensorsError(fmt::format("{}: tensor '{}': dtype {} cannot be read as numbers", path_, name, t.dtype));
  const std::vector<uint8_t> raw = read_bytes(name);
  std::vector<float> out(static_cast<size_t>(t.elements()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = num::load_f32(*type, raw.data(), static_cast<int64_t>(i));
  return out;
}

std::vector<WeightSpec> expected_weights(const ModelConfig& c, const std::string& pre) {
  std::vector<WeightSpec> w;
  const int64_t h = c.hidden, q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim, f = c.intermediate;
  if (c.family == "gpt2") {
    w.push_back({pre + "wte.weight", {c.vocab, h}});
    w.push_back({pre + "wpe.weight", {c.max_positions, h}});
    for (int64_t i = 0; i < c.layers; ++i) {
      const std::string l = fmt::format("{}h.{}.", pre, i);
      for (const char* ln : {"ln_1", "ln_2"}) {
        w.push_back({l + ln + ".weight", {h}});
        w.push_back({l + ln + ".bias", {h}});
      }
      w.push_back({l + "attn.c_attn.weight", {h, 3 * h}});
      w.push_back({l + "attn.c_attn.bias", {3 * h}});
      w.push_back({l + "attn.c_proj.weight", {h, h}});
      w.push_back({l + "attn.c_proj.bias", {h}});
      w.push_back({l + "mlp.c_fc.weight", {h, f}});
      w.push_back({l + "mlp.c_fc.bias", {f}});
      w.push_back({l + "mlp.c_proj.weight", {f, h}});
      w.push_back({l + "mlp.c_proj.bias", {h}});
    }
    w.push_back({pre + "ln_f.weight", {h}});
    w.push_back({pre + "ln_f.bias", {h}});
    return w;
  }
  if (c.family == "gptj") {  // GPTJForCausalLM: nn.Linear weights [out, in]
    w.push_back({"transformer.wte.weight", {c.vocab, h}});
    for (int64_t i = 0; i < c.layers; ++i) {
      const std::string l = fmt::format("transformer.h.{}.", i);
      w.push_back({l + "ln_1.weight", {h}});
      w.push_back({l + "ln_1.bias", {h}});
      for (const char* n : {"q_proj", "k_proj", "v_proj"}) w.push_back({l + "attn." + n + ".weight", {q, h}});
      w.push_back({l + "attn.out_proj.weight", {h, q}});
      w.push_back({l + "mlp.fc_in.weight", {f, h}});
      w.push_back({l + "mlp.fc_in.bias", {f}});
      w.push_back({l + "mlp.fc_out.weight", {h, f}});
      w.push_back({l + "mlp.fc_out.bias", {h}});
    }
    w.push_back({"transformer.ln_f.weight", {h}});
    w.push_back({"transformer.ln_f.bias", {h}});
    w.push_back({"lm_head.weight", {c.vocab, h}});
    w.push_back({"lm_head.bias", {c.vocab}});
    return w;
  }
  w.push_back({"model.embed_tokens.weight", {c.vocab, h}});
  for (int64_t i = 0; i < c.layers; ++i) {
    const std::string l = fmt::format("model.layers.{}.", i);
    w.push_back({l + "input_layernorm.weight", {h}});
    w.push_back({l + "post_attention_layernorm.weight", {h}});
    w.push_back({l + "self_attn.q_proj.weight", {q, h}});
    w.push_back({l + "self_attn.k_proj.weight", {kv, h}});
    w.push_back({l + "self_attn.v_proj.weight", {kv, h}});
    w.push_back({l + "self_attn.o_proj.weight", {h, q}});
    if (c.qkv_bias) {
      w.push_back({l + "self_attn.q_proj.bias", {q}});
      w.push_back({l + "self_attn.k_proj.bias", {kv}});
      w.push_back({l + "self_attn.v_proj.bias", {kv}});
    }
    if (c.experts > 0) {
      w.push_back({l + "block_sparse_moe.gate.weight", {c.experts, h}});
      for (int64_t e = 0; e < c.experts; ++e) {
        const std::string x = fmt::format("{}block_sparse_moe.experts.{}.", l, e);
        w.push_back({x + "w1.weight", {f, h}});
        w.push_back({x + "w2.weight", {h, f}});
        w.push_back({x + "w3.weight", {f, h}});
      }
    } else {
      w.push_back({l + "mlp.gate_proj.weight", {f, h}});
      w.push_back({l + "mlp.up_proj.weight", {f, h}});
      w.push_back({l + "mlp.down_proj.weight", {h, f}});
    }
  }
  w.push_back({"model.norm.weight", {h}});
  if (!c.tied_embeddings) w.push_back({"lm_head.weight", {c.vocab, h}});
  return w;
}

Checkpoint::Checkpoint(const std::string& path) : path_(path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path), index;
  if (fs::is_directory(p, ec)) {
    if (fs::is_regular_file(p / "model.safetensors.index.json", ec)) index = p / "model.safetensors.index.json";
    else if (fs::is_regular_file(p / "model.safetensors", ec)) p = p / "model.safetensors";
    else throw SafetensorsError(fmt::format("{}: directory has neither model.safetensors nor model.safetensors.index.json", path));
  } else if (path.size() > 11 && path.ends_with(".index.json")) {
    index = p;
  }
  std::vector<std::string> files;
  std::map<std::string, std::string> listed;  // tensor -> shard, from the index
  if (!index.empty()) {
    std::ifstream in(index);
    if (!in) throw SafetensorsError(fmt::format("{}: cannot be opened", index.string()));
    nlohmann::json j;
    try {
      j = parse_json(std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()), index.string());
    } catch (const InputError& e) {
      throw SafetensorsError(e.what());
    }
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw SafetensorsError(fmt::format("{}: field 'weight_map' is missing or not an object", index.string()));
    for (auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string())
        throw SafetensorsError(fmt::format("{}: weight_map.{} is not a file name", index.string(), name));
      const std::string f = (index.parent_path() / shard.get<std::string>()).string();
      listed[name] = f;
      if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
    }
  } else {
    files.push_back(p.string());
  }
  for (const std::string& f : files) {
    shards_.push_back(std::make_unique<SafeTensorsFile>(f));
    for (const auto& [name, info] : shards_.back()->tensors()) {
      (void)info;
      auto [it, fresh] = where_.emplace(name, shards_.size() - 1);
      if (!fresh)
        throw SafetensorsError(fmt::format("{}: tensor '{}' is in both {} and {}", path, name,
                                           shards_[it->second]->path(), f));
    }
  }
  for (const auto& [name, f] : listed) {
    auto it = where_.find(name);
    if (it == where_.end() || shards_[it->second]->path() != f)
      throw SafetensorsError(fmt::format("{}: the index puts tensor '{}' in {}, which does not hold it", index.string(),
                                         name, f));
  }
}

const SafeTensorsFile& Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw SafetensorsError(fmt::format("{}: no tensor named '{}'", path_, name));
  return *shards_[it->second];
}

int64_t check_weights(const ModelConfig& c, const Checkpoint& f) {
  const std::string pre = c.family == "gpt2" && f.contains("transformer.wte.weight") ? "transformer." : "";
  int64_t params = 0;
  for (const WeightSpec& s : expected_weights(c, pre)) {
    if (!f.contains(s.name))
      throw SafetensorsError(fmt::format("{}: no tensor named '{}' ({} needs it with shape {})", f.path(), s.name,
                                         c.name, shape_str(s.shape)));
    const SafeTensorInfo& t = f.file_of(s.name).info(s.name);
    if (t.shape != s.shape)
      throw SafetensorsError(fmt::format("{}: tensor '{}' has shape {}, the config ({}) needs {}", f.file_of(s.name).path(), s.name,
                                         shape_str(t.shape), c.name, shape_str(s.shape)));
    const std::optional<DType> wt = numeric_dtype(t.dtype);
    if (!wt || *wt == DType::int32)  // int32 is readable but never a weight
      throw SafetensorsError(fmt::format("{}: tensor '{}' has dtype {}, not a weight type", f.file_of(s.name).path(), s.name, t.dtype));
    params += t.elements();
  }
  return params;
}

void write_safetensors(const std::string& path, const std::vector<SafeTensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::json h = nlohmann::json::object();
  if (!metadata.empty()) h["__metadata__"] = metadata;
  uint64_t off = 0;
  for (const auto& t : tensors) {
    const int eb = safetensors_dtype_bytes(t.dtype);
    if (eb == 0) throw SafetensorsError(fmt::format("{}: tensor '{}': unknown dtype '{}'", path, t.name, t.dtype));
    int64_t elems = 1;
    for (int64_t d : t.shape) elems *= d;
    if (static_cast<uint64_t>(elems) * static_cast<uint64_t>(eb) != t.bytes.size())
      throw SafetensorsError(fmt::format("{}: tensor '{}': {} bytes given for {} {}", path, t.name, t.bytes.size(),
                                         t.dtype, shape_str(t.shape)));
    if (h.contains(t.name)) throw SafetensorsError(fmt::format("{}: tensor '{}' written twice", path, t.name));
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {off, off + t.bytes.size()}}};
    off += t.bytes.size();
  }
  std::string text = h.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary);
  if (!out) throw SafetensorsError(fmt::format("{}: cannot be written", path));
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& t : tensors) out.write(reinterpret_cast<const char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
  if (!out) throw SafetensorsError(fmt::format("{}: write failed", path));
}

}  // namespace seedchip::llm
