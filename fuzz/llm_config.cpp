// Fuzz target: Hugging Face config.json files. An accepted config must give
// positive parameter and KV-cache byte counts (no overflowed products).
#include "fuzz_util.h"
#include "seedchip/llm/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string source = "fuzz-config.json";
  try {
    llm::ModelConfig c = llm::parse_config(std::string(reinterpret_cast<const char*>(data), size), source);
    fuzz::require(c.parameters() > 0, "parameter count is not positive");
    fuzz::require(c.kv_bytes_per_token(4) > 0, "KV bytes per token is not positive");
    fuzz::require(c.layers > 0 && c.hidden > 0 && c.heads > 0 && c.kv_heads > 0 && c.vocab > 0, "a size is not positive");
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
