// Fuzz target: ONNX models (protobuf), imported and compiled for seedchip-v1
// (timing-only compile: no weights are converted beyond what lowering needs).
#include "fuzz_util.h"
#include "seedchip/arch/chip.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/runtime/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  static const arch::Chip chip = arch::find_chip("seedchip-v1");
  const std::string source = "fuzz.onnx";
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    ir::Graph g = frontends::import_onnx_bytes(bytes, source, {});
    g.verify();
    runtime::LoadOptions o;
    o.timing_only = true;
    (void)runtime::compile_graph(g, source, chip, o);
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
