// Fuzz target: safetensors files (header and data ranges). Every tensor of an
// accepted file must read back as fp32 where its dtype converts.
#include "fuzz_util.h"
#include "seedchip/llm/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string path = fuzz::scratch_file("fuzz.safetensors", data, size);
  try {
    llm::SafeTensorsFile f(path);
    for (const auto& [name, info] : f.tensors()) {
      fuzz::require(info.elements() >= 0, "negative element count");
      auto bytes = f.read_bytes(name);
      fuzz::require(bytes.size() == info.end - info.begin, "read size differs from the header's range");
      if (info.dtype == "F32" || info.dtype == "BF16" || info.dtype == "F16" || info.dtype == "I8") {
        auto v = f.read_f32(name);
        fuzz::require(static_cast<int64_t>(v.size()) == info.elements(), "read element count differs from the shape");
      }
    }
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, path);
  }
  return 0;
}
