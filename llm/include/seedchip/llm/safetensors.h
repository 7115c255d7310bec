// seedchip — safetensors files (Hugging Face weights), read and written from
// the format's specification: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
// then the raw little-endian tensor bytes, every byte indexed exactly once.
#pragma once

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/input.h"
#include "seedchip/llm/config.h"

namespace seedchip::llm {

/// A safetensors file is malformed or does not hold what was asked; the
/// message names the file and the tensor or header field.
class SafetensorsError : public InputError {
 public:
  using InputError::InputError;
};

/// One tensor's entry in the header. Offsets are absolute in the file.
struct SafeTensorInfo {
  std::string dtype;           ///< "F32", "BF16", "F16", "F8_E4M3", "F8_E5M2", "I8", "U8", "I32", "I64", ...
  std::vector<int64_t> shape;  ///< row-major, outermost first ([] = scalar)
  uint64_t begin = 0, end = 0; ///< byte range in the file
  int64_t elements() const;
};

/// Bytes per element of a safetensors dtype name; 0 when unknown.
int safetensors_dtype_bytes(const std::string& dtype);

/// A safetensors file opened for reading. The header is parsed and checked
/// at open (shapes against byte ranges, no overlaps or holes, the file long
/// enough); tensor data is read on demand, so multi-GB checkpoints open fast.
class SafeTensorsFile {
 public:
  /// Opens and validates `path`; throws SafetensorsError.
  explicit SafeTensorsFile(const std::string& path);

  const std::string& path() const { return path_; }
  const std::map<std::string, SafeTensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  /// The entry for `name`; throws naming the file and tensor when absent.
  const SafeTensorInfo& info(const std::string& name) const;
  /// The tensor's raw bytes.
  std::vector<uint8_t> read_bytes(const std::string& name) const;
  /// The tensor converted to fp32 (from F32, F16, BF16, F8_E4M3, F8_E5M2, I8,
  /// U8, I32); when `expect_shape` is non-empty the shapes must match.
  std::vector<float> read_f32(const std::string& name, const std::vector<int64_t>& expect_shape = {}) const;

 private:
  std::string path_;
  std::map<std::string, SafeTensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
  mutable std::ifstream in_;
};

/// A tensor to write: raw little-endian bytes of `dtype` and `shape`.
struct SafeTensorData {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

/// Writes a safetensors file (tensors in the given order, header padded with
/// spaces to a multiple of 8 bytes as the reference writer does).
void write_safetensors(const std::string& path, const std::vector<SafeTensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

/// A checkpoint: one safetensors file, or several shards listed by a Hugging
/// Face `model.safetensors.index.json` ({"weight_map": {tensor: shard}}), or a
/// directory holding either. Every tensor lives in exactly one shard.
class Checkpoint {
 public:
  /// Opens `path` (a .safetensors file, an .index.json or a directory);
  /// throws SafetensorsError naming the file.
  explicit Checkpoint(const std::string& path);
  const std::string& path() const { return path_; }
  bool contains(const std::string& name) const { return where_.count(name) != 0; }
  /// The shard holding `name`; throws naming the checkpoint and tensor.
  const SafeTensorsFile& file_of(const std::string& name) const;
  size_t tensor_count() const { return where_.size(); }
  size_t shard_count() const { return shards_.size(); }

 private:
  std::string path_;
  std::vector<std::unique_ptr<SafeTensorsFile>> shards_;
  std::map<std::string, size_t> where_;
};

/// One weight a model needs: its Hugging Face name and shape.
struct WeightSpec {
  std::string name;
  std::vector<int64_t> shape;
};

/// The weights of `c` under Hugging Face's names (LlamaForCausalLM and its
/// Mistral/Qwen2/Mixtral relatives: model.layers.N.self_attn.q_proj.weight
/// [out, in], ...; GPT2LMHeadModel: h.N.attn.c_attn.weight [in, out] as its
/// Conv1D stores them, with `gpt2_prefix` ("" or "transformer.") in front).
std::vector<WeightSpec> expected_weights(const ModelConfig& c, const std::string& gpt2_prefix = "");

/// Checks that `f` holds every weight of `c` with the right shape and a
/// numeric dtype; throws SafetensorsError naming the file, tensor and both
/// shapes. Extra tensors (rotary caches, attention-mask buffers) are allowed.
/// Returns the number of parameters checked.
int64_t check_weights(const ModelConfig& c, const Checkpoint& f);

}  // namespace seedchip::llm
