// seedchip — NumPy .npy files: the host-side format of program inputs and outputs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "seedchip/numerics/input.h"

namespace seedchip::runtime {

/// An array as stored in a .npy file (C order, little-endian data).
struct NpyArray {
  std::string descr;             ///< NumPy dtype string, e.g. "<f4", "|i1", "<u2"
  std::vector<uint64_t> shape;   ///< outermost first; empty = scalar
  std::vector<uint8_t> data;     ///< raw little-endian element bytes

  /// Number of elements.
  uint64_t elements() const;
  /// Bytes per element for `descr`.
  int item_size() const;
};

/// Raised for unreadable or malformed .npy files; the message names the file.
class NpyError : public InputError {
 public:
  using InputError::InputError;
};

/// Parses .npy bytes (format 1.0-3.0; C order; bool, int8/16/32/64, uint8/16/32/64,
/// float16/32/64). `source` names the file in errors.
NpyArray parse_npy(const std::vector<uint8_t>& bytes, const std::string& source);
/// Reads a .npy file.
NpyArray read_npy(const std::string& path);
/// Serialises an array as .npy format 1.0 bytes.
std::vector<uint8_t> serialize_npy(const NpyArray& a);
/// Writes a .npy file; throws NpyError when it cannot.
void write_npy(const std::string& path, const NpyArray& a);

}  // namespace seedchip::runtime
