// Fuzz target: the binary program container (.scp): an accepted program
// disassembles, and every instruction passes the encoder's checks.
#include "fuzz_util.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/isa/program.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace seedchip;
  const std::string source = "fuzz.scp";
  try {
    isa::Program p = isa::deserialize(std::span<const uint8_t>(data, size), source);
    for (const auto& c : p.cores)
      for (const auto& in : c.code) fuzz::require(isa::check_instr(in).empty(), "an accepted instruction fails check_instr");
    (void)isa::disassemble(p);
    auto again = isa::serialize(p);
    isa::Program q = isa::deserialize(again, source);
    fuzz::require(isa::serialize(q) == again, "serialize(deserialize(x)) is not a fixed point");
  } catch (const std::exception& e) {
    fuzz::check_rejection(e, source);
  }
  return 0;
}
