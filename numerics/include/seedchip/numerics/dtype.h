// seedchip — element data types of the chip.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace seedchip {

/// An element type the chip stores or computes with. The numeric values are
/// part of the binary program format: never renumber, only append.
enum class DType : uint8_t {
  fp32 = 0,     ///< IEEE 754 binary32
  bf16 = 1,     ///< bfloat16: fp32 with the low 16 mantissa bits dropped
  fp16 = 2,     ///< IEEE 754 binary16
  fp8e4m3 = 3,  ///< OCP 8-bit float E4M3 ("fn": no infinities, one NaN pattern per sign)
  fp8e5m2 = 4,  ///< OCP 8-bit float E5M2 (IEEE-like: infinities and NaNs)
  int8 = 5,     ///< two's complement 8-bit integer
  uint8 = 6,    ///< unsigned 8-bit integer (ONNX QLinear activations)
  int32 = 7,    ///< two's complement 32-bit integer
  int4 = 8,     ///< signed 4-bit integer, two per byte, element 2i in the low nibble
};

inline constexpr int kNumDTypes = 9;

/// Storage size of one element in bits (4 for int4).
constexpr int dtype_bits(DType t) {
  switch (t) {
    case DType::fp32: case DType::int32: return 32;
    case DType::bf16: case DType::fp16: return 16;
    case DType::fp8e4m3: case DType::fp8e5m2: case DType::int8: case DType::uint8: return 8;
    case DType::int4: return 4;
  }
  return 0;
}

/// True for the floating-point types.
constexpr bool dtype_is_float(DType t) {
  return t == DType::fp32 || t == DType::bf16 || t == DType::fp16 || t == DType::fp8e4m3 ||
         t == DType::fp8e5m2;
}

/// True for the integer types.
constexpr bool dtype_is_int(DType t) { return !dtype_is_float(t); }

/// True when `v` is the value of a defined DType (for decoding untrusted bytes).
constexpr bool dtype_valid(unsigned v) { return v < static_cast<unsigned>(kNumDTypes); }

/// Canonical lower-case name: fp32 bf16 fp16 fp8e4m3 fp8e5m2 int8 uint8 int32 int4.
std::string_view dtype_name(DType t);

/// Parses a canonical name (also accepts "fp8" for fp8e4m3); nullopt if unknown.
std::optional<DType> parse_dtype(std::string_view name);

}  // namespace seedchip
