// seedchip — unaligned reads and writes of HostTensor bytes (host order,
// which HostTensor's little-endian layout assumes); shared by the IR and the
// host evaluator.
#pragma once

#include <cstdint>
#include <cstring>

namespace seedchip::ir::raw {

/// Reads a T from unaligned bytes.
template <typename T>
T rd(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
/// Writes a T to unaligned bytes.
template <typename T>
void wr(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace seedchip::ir::raw
