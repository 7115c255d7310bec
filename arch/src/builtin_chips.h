// seedchip — the chip descriptions embedded at build time (internal).
// The table is generated from chips/*.yaml by arch/cmake/embed_chips.cmake.
#pragma once

#include <cstddef>

namespace seedchip::arch::detail {

/// One embedded chips/NAME.yaml.
struct EmbeddedChip {
  const char* name;           ///< file stem, e.g. "seedchip-v1"
  const unsigned char* text;  ///< the file's bytes (followed by a NUL not counted in size)
  std::size_t size;           ///< number of bytes
};

/// The embedded chips sorted by name, then one {nullptr, nullptr, 0} sentinel.
extern const EmbeddedChip kEmbeddedChips[];
/// Number of embedded chips (excluding the sentinel).
extern const std::size_t kNumEmbeddedChips;

}  // namespace seedchip::arch::detail
