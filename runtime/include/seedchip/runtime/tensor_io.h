// seedchip — moving program tensors between .npy arrays and HBM bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "seedchip/ir/graph.h"
#include "seedchip/isa/program.h"
#include "seedchip/runtime/npy.h"
#include "seedchip/sim/functional.h"

namespace seedchip::runtime {

/// The .npy dtype a symbol of dtype `t` is written as: fp32 <f4, fp16 <f2,
/// int8 |i1, uint8 |u1, int32 <i4; bf16 and fp8 widen exactly to <f4; int4
/// unpacks to |i1 (one element per byte).
std::string npy_descr_for(DType t);

/// Packs array `a` into the bytes of symbol `s`, checking shape and dtype.
/// Accepted: the descr npy_descr_for gives; for bf16 also <u2 raw bits, for
/// fp8 also |u1 raw bits (<f4 is converted with round-to-nearest-even,
/// saturating). Throws NpyError naming `source` and the symbol.
std::vector<uint8_t> pack_symbol(const isa::Symbol& s, const NpyArray& a, const std::string& source);

/// Unpacks the bytes of symbol `s` into an array (see npy_descr_for).
NpyArray unpack_symbol(const isa::Symbol& s, const std::vector<uint8_t>& bytes);

/// Writes `inputs` (symbol name -> .npy path) into the simulator's HBM.
/// Every input symbol must be given; names must be input or const symbols.
void bind_inputs(sim::FunctionalSim& sim, const isa::Program& p, const std::map<std::string, std::string>& inputs);

/// Reads every output symbol from HBM and writes DIR/<name>.npy; returns the paths.
std::vector<std::string> write_outputs(const sim::FunctionalSim& sim, const isa::Program& p, const std::string& dir);

/// A host tensor from a .npy array (any supported numeric descr; bool as |b1).
ir::HostTensor host_from_npy(const NpyArray& a, const std::string& source);
/// A .npy array holding host tensor `t` (bf16 and fp8 widen to <f4).
NpyArray npy_from_host(const ir::HostTensor& t);

}  // namespace seedchip::runtime
