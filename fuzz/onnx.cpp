// Fuzz target: ONNX models (protobuf), imported through the parser alone,
// with weights' bytes read directly (the same values) and without weight
// values (the timing-only import must accept and reject the same models and
// give the same graph), then compiled for seedchip-v1 (timing-only compile).
#include "fuzz_util.h"
#include "seedchip/arch/chip.h"
#include "seedchip/frontends/onnx.h"
#include "seedchip/runtime/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  static const arch::Chip chip = arch::find_chip("seedchip-v1");
  const std::string source = "fuzz.onnx";
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  frontends::ImportOptions lean_opt;
  lean_opt.weight_values = false;
  lean_opt.skip_from = 64;  // fuzz inputs are small; float tensors that set shapes (Resize scales) are smaller
  bool lean_ok = false;
  ir::Graph lean;
  try {
    lean = frontends::import_onnx_bytes(bytes, source, lean_opt);
    lean_ok = true;
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  try {
    frontends::ImportOptions direct;  // weights' bytes read from the input, not through the parser
    direct.skip_from = lean_opt.skip_from;
    ir::Graph g = frontends::import_onnx_bytes(bytes, source, direct);
    frontends::ImportOptions parser_only;
    parser_only.skip_from = UINT64_MAX;
    const ir::Graph parsed = frontends::import_onnx_bytes(bytes, source, parser_only);
    fuzz::require(parsed.values.size() == g.values.size(), "reading weights directly gave another graph");
    for (size_t i = 0; i < g.values.size(); ++i)
      fuzz::require(parsed.values[i].is_const() == g.values[i].is_const() &&
                        (!g.values[i].is_const() || *parsed.values[i].data == *g.values[i].data),
                    "reading weights directly gave other values");
    fuzz::require(lean_ok, "the import without weight values refused a model the full import accepts");
    fuzz::require(lean.values.size() == g.values.size() && lean.nodes.size() == g.nodes.size() && lean.inputs == g.inputs &&
                      lean.outputs == g.outputs,
                  "the import without weight values gave another graph");
    for (size_t i = 0; i < g.values.size(); ++i)
      fuzz::require(lean.values[i].name == g.values[i].name && lean.values[i].type == g.values[i].type &&
                        lean.values[i].shape == g.values[i].shape && lean.values[i].is_const() == g.values[i].is_const(),
                    "the import without weight values gave another value");
    g.verify();
    runtime::LoadOptions o;
    o.timing_only = true;
    (void)runtime::compile_graph(g, source, chip, o);
  } catch (const std::exception& e) {
    fuzz::require(!lean_ok || dynamic_cast<const frontends::ImportError*>(&e) == nullptr,
                  "the import without weight values accepted a model the full import refuses");
    fuzz::check_rejection(e, source);
  }
  return 0;
}
