// seedchip — the deadlock message both simulators give (one format, so a
// program that hangs reads the same in --mode functional and --mode timing).
#pragma once

#include <string>
#include <vector>

#include <fmt/format.h>

#include "seedchip/isa/isa.h"
#include "seedchip/sim/functional.h"

namespace seedchip::sim::detail {

/// "core C ENGINE #I (MNEMONIC) waits on semaphore S (count 0)".
inline std::string waits_on_semaphore(uint32_t core, isa::Engine e, uint32_t idx, const isa::Instr& in) {
  return fmt::format("core {} {} #{} ({}) waits on semaphore {} (count 0)", core, isa::engine_name(e), idx,
                     isa::op_info(in.op)->mnemonic, in.wait);
}

/// Throws SimError listing what each blocked engine waits on.
[[noreturn]] inline void throw_deadlock(const std::vector<std::string>& parts) {
  std::string msg = "deadlock: no engine can make progress: ";
  for (size_t i = 0; i < parts.size(); ++i) msg += (i ? "; " : "") + parts[i];
  throw SimError(msg);
}

}  // namespace seedchip::sim::detail
