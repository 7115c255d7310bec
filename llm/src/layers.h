// seedchip — internal: timing one compiled graph, the LM head, program size
// limits and tensor-parallel collectives, shared by run_llm and the step-cost
// oracle.
#pragma once

#include <cstdint>
#include <optional>

#include "seedchip/arch/chip.h"
#include "seedchip/compiler/compiler.h"
#include "seedchip/ir/graph.h"
#include "seedchip/llm/config.h"
#include "seedchip/llm/precision.h"

namespace seedchip::llm {

/// Time, energy, model operations and HBM bytes of one timed program.
struct Timed {
  double seconds = 0, energy = 0, ops = 0, hbm_bytes = 0;
  uint64_t instructions = 0;
};

/// Compiles `g` for `chip` at precision `p` (timing only) and times it.
Timed time_graph(const ir::Graph& g, const arch::Chip& chip, compiler::Precision p);
/// The same, or nullopt when a core's code outgrows the instruction memory
/// (the caller splits the work into smaller programs).
std::optional<Timed> try_time_graph(const ir::Graph& g, const arch::Chip& chip, compiler::Precision p);
/// The LM head of one chip's shard `sc` over `tokens` rows.
ir::Graph head_graph(const ModelConfig& sc, int64_t tokens, const PrecisionPolicy& p);
/// Tokens one layer program can hold on `chip` (about 1024 per 4 MiB of instruction memory).
int64_t program_tokens(const arch::Chip& chip);
/// Whether the compiler's FlashAttention holds `context` keys of `c` on `chip`.
bool flash_fits(const ModelConfig& c, const arch::Chip& chip, const PrecisionPolicy& p, int64_t context);
/// One all-reduce of `bytes` over `chips` tensor-parallel chips plus its kernel launch (0 for one chip).
double tp_allreduce_s(const arch::Chip& chip, int64_t chips, double bytes);

}  // namespace seedchip::llm
