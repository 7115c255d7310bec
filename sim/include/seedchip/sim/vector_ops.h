// seedchip — the vector engine's element-wise, reduction and scan operations.
#pragma once

#include <cstdint>
#include <string>

#include "seedchip/isa/isa.h"

namespace seedchip::sim {

/// Resolved, bounds-checked base pointers of a vector instruction's operands
/// (nullptr for immediates and for operands the op does not use).
struct VecOperands {
  uint8_t* dst = nullptr;
  const uint8_t* a = nullptr;
  const uint8_t* b = nullptr;
};

/// Executes vector instruction `in` on resolved operands. Returns an empty
/// string on success, else why the instruction cannot run.
std::string run_vector(const isa::Instr& in, const VecOperands& ops);

/// True when `op` computes in integers when all its operands are integers.
bool vector_op_has_int_path(isa::Op op);

}  // namespace seedchip::sim
