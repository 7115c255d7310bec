// seedchip — running a compiled model on the functional simulator with host tensors.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"
#include "seedchip/sim/functional.h"
#include "seedchip/sim/timing.h"

namespace seedchip::runtime {

/// Runs `m` on `chip`: converts each input (the model's element type) into
/// the chip's dtype, simulates, and converts the outputs back. Inputs must
/// match the model's inputs in order, type and shape (else std::runtime_error
/// naming the input). `stats` receives the simulator's counts when non-null.
/// `threads`: host threads simulating cores between barriers (0: all).
std::vector<ir::HostTensor> run_model(const compiler::CompiledModel& m, const arch::Chip& chip,
                                      const std::vector<ir::HostTensor>& inputs, sim::RunStats* stats = nullptr,
                                      std::function<void(double)> progress = {}, unsigned threads = 1);

/// "" when the functional run `st` and the timing run `r` of one program
/// executed the same instruction streams on every core and engine; else
/// which core and engine differ (the `--mode both` cross-check).
std::string stream_mismatch(const sim::RunStats& st, const sim::TimingResult& r);

/// Deterministic random data for input `b` (fixed seed per input index).
ir::HostTensor random_input(const compiler::IoBinding& b, uint32_t seed);

}  // namespace seedchip::runtime
