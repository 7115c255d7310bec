// Fuzz target: the IR text form, parsed, compiled for seedchip-v1 with and
// without constant values (the timing-only compile must emit the same
// program) and, when small, run on the functional simulator: the outputs
// must have the shapes the graph declares, and every value the host
// reference evaluator computes the shape the graph declares for it.
#include "fuzz_util.h"
#include "seedchip/arch/chip.h"
#include "seedchip/hostops/hostops.h"
#include "seedchip/ir/graph.h"
#include "seedchip/runtime/load.h"
#include "seedchip/runtime/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  static const arch::Chip chip = arch::find_chip("seedchip-v1");
  const std::string source = "fuzz.ir";
  try {
    ir::Graph g = runtime::parse_ir(std::string(reinterpret_cast<const char*>(data), size), source);
    int64_t total = 0;
    for (const auto& v : g.values) total += v.elements();
    runtime::LoadOptions o;
    compiler::CompiledModel m = runtime::compile_graph(g, source, chip, o);
    o.timing_only = true;
    const compiler::CompiledModel lean = runtime::compile_graph(g, source, chip, o);
    fuzz::require(lean.program.cores == m.program.cores && lean.program.symbols == m.program.symbols,
                  "the timing-only compile emitted another program");
    fuzz::require(lean.constant_bytes == m.constant_bytes, "the timing-only compile placed other constants");
    if (total > (1 << 16)) return 0;  // keep executions fast
    std::vector<ir::HostTensor> in;
    for (size_t i = 0; i < m.inputs.size(); ++i) in.push_back(runtime::random_input(m.inputs[i], static_cast<uint32_t>(i)));
    auto out = runtime::run_model(m, chip, in);
    fuzz::require(out.size() == g.outputs.size(), "output count differs from the graph's");
    for (size_t i = 0; i < out.size(); ++i)
      fuzz::require(out[i].shape == g.values[g.outputs[i]].shape, "an output's shape differs from its declaration");
    std::vector<std::shared_ptr<const ir::HostTensor>> ref;
    try {
      ref = hostops::eval_graph(g, in);
    } catch (const std::exception&) {
      return 0;  // ops the reference does not evaluate
    }
    for (size_t v = 0; v < ref.size() && v < g.values.size(); ++v)
      if (ref[v]) fuzz::require(ref[v]->shape == g.values[v].shape, "a value's declared shape differs from the reference evaluator's");
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
