// seedchip — text assembly: the human-readable form of a Program.
#pragma once

#include <string>

#include "seedchip/numerics/input.h"
#include "seedchip/isa/program.h"

namespace seedchip::isa {

/// Raised for assembly errors; the message starts with "FILE:LINE: ".
class AsmError : public InputError {
 public:
  using InputError::InputError;
};

/// Assembles text into a program. The `.chip NAME` directive is resolved with
/// arch::find_chip to fill Program::target and Program::fingerprint.
Program assemble(const std::string& text, const std::string& source);

/// Prints a program as assembly that assembles back to identical bytes.
std::string disassemble(const Program& p);

/// Prints one instruction in assembly syntax (no sync fields omitted).
std::string format_instr(const Instr& in);

}  // namespace seedchip::isa
