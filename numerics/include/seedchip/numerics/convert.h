// seedchip — element conversions between fp32 and the chip's storage types.
//
// Every conversion here is a pure function of its input bits: no dependence on
// the host's floating-point environment (rounding mode, FTZ/DAZ) except the
// int32/int64 -> fp32 casts, which use the default round-to-nearest-even mode.
// Type punning goes through std::bit_cast / std::memcpy only (UBSan-clean).
//
// Rounding, overflow and NaN rules (IEEE 754-2019 §4.3.1, §5.4.2, §6.2;
// OCP 8-bit Floating Point Specification (OFP8) rev 1.0, §3 and §5):
//
//  * fp32 -> bf16 / fp16: round to nearest, ties to even (roundTiesToEven).
//    Results whose rounded magnitude exceeds the max finite value become ±Inf
//    (fp16: 65504 is max; 65520, the midpoint to the next power of two, rounds
//    to even, i.e. up, and so overflows; anything below 65520 gives 65504).
//    ±Inf stays ±Inf. Any NaN becomes the canonical quiet NaN with the input's
//    sign: bf16 0x7FC0|s, fp16 0x7E00|s (payloads are not preserved).
//    fp32 subnormal inputs are handled exactly (no flush to zero).
//  * fp32 -> fp8 (E4M3 "fn": bias 7, max 448, min subnormal 2^-9, no Inf,
//    S.1111.111 is the only NaN; E5M2: bias 15, max 57344, min subnormal
//    2^-16, IEEE-like Inf/NaN): round to nearest, ties to even, on the
//    unbounded-exponent value first; the result "overflows" only if that
//    rounded value exceeds max finite. So for E4M3, 464 (midpoint between 448
//    = 1.110b·2^8 and the non-existent 480 = 1.111b·2^8) ties to the even
//    mantissa 448 and is NOT overflow; anything above 464 overflows. For E5M2,
//    61440 (midpoint between 57344 = 1.11b·2^15 and 65536 = 1.00b·2^16) ties
//    to the even mantissa 2^16, so 61440 and above overflow; below gives 57344.
//      saturate=true  (OFP8 "saturation mode", ONNX QuantizeLinear/Cast
//                      saturate=1): overflow and ±Inf input -> ±max finite.
//      saturate=false (OFP8 non-saturating mode): overflow -> E4M3 NaN (0x7F|s,
//                      there is no Inf), E5M2 ±Inf (0x7C|s); ±Inf input ->
//                      E4M3 NaN 0x7F|s, E5M2 ±Inf.
//    NaN input -> NaN in both modes, sign preserved: E4M3 0x7F|s (its only NaN),
//    E5M2 canonical quiet NaN 0x7E|s (mantissa MSB set, like IEEE).
//  * Decoding (bf16/fp16/fp8 -> fp32) is exact for every finite value,
//    including subnormals and -0. NaNs decode to a quiet fp32 NaN with the
//    same sign and the payload bits shifted to the top of the fp32 mantissa
//    (the quiet bit is forced on, so bf16 signalling NaNs come out quiet).
//  * fp32 -> integer: round to nearest, ties to even (2.5 -> 2, -2.5 -> -2),
//    then saturate to the type's range (127.5 -> 127, 300 -> 127,
//    ±Inf -> max/min); NaN -> 0 (what ONNX runtimes do in practice).
//  * Memory layout used by load_*/store_*: elements are little-endian; int4
//    element i is nibble i: byte i/2, low nibble for even i, high for odd i.
#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "seedchip/numerics/dtype.h"

namespace seedchip::num {

namespace detail {

/// fp32 bit pattern of `x`.
inline uint32_t bits(float x) { return std::bit_cast<uint32_t>(x); }
/// fp32 value of bit pattern `b`.
inline float from_bits(uint32_t b) { return std::bit_cast<float>(b); }

/// Rounds a finite, non-negative fp32 magnitude (bit pattern `a`, sign bit
/// clear) to a binary format with `M` stored mantissa bits and exponent bias
/// `B`, ties to even, with gradual underflow but no upper exponent bound.
/// Returns the magnitude encoding (exponent field << M | mantissa); a result
/// above the format's max finite encoding means overflow. Needs B <= 127.
template <int M, int B>
constexpr uint32_t round_magnitude(uint32_t a) {
  const int e = static_cast<int>(a >> 23);
  uint32_t sig = a & 0x7FFFFFu;
  int exp = -126;  // fp32 subnormal: sig * 2^(-126-23)
  if (e != 0) {
    sig |= 0x800000u;
    exp = e - 127;
  }
  constexpr int kEmin = 1 - B;  // smallest normal exponent of the target
  const int ex = exp < kEmin ? kEmin : exp;
  // Target quantum is 2^(ex-M); sig's unit is 2^(exp-23).
  int shift = 23 - M + (ex - exp);
  if (shift > 25) shift = 25;  // sig < 2^24 <= half quantum: rounds to 0 anyway
  uint32_t q = sig >> shift;
  const uint32_t rem = sig & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rem > half || (rem == half && (q & 1u))) ++q;
  // ex+B-1 is 0 in the subnormal range, where q alone is the encoding; a
  // mantissa carry into bit M correctly bumps the exponent field.
  return (static_cast<uint32_t>(ex + B - 1) << M) + q;
}

/// Rounds finite `x` to the nearest integer, ties to even, independent of the
/// FP environment. Requires |x| < 2^63 (callers clamp first).
inline int64_t round_half_even(float x) {
  const float t = std::trunc(x);
  const float f = x - t;  // exact: the fraction of a float is a float
  auto i = static_cast<int64_t>(t);
  if (f > 0.5f || (f == 0.5f && (i & 1))) ++i;
  else if (f < -0.5f || (f == -0.5f && (i & 1))) --i;
  return i;
}

/// Rounds `x` to an integer in [lo, hi] (ties to even, saturating, NaN -> 0).
inline int64_t float_to_int_sat(float x, int64_t lo, int64_t hi) {
  if (std::isnan(x)) return 0;
  // lo/hi are integers, so clamping before rounding equals rounding then
  // saturating. The comparisons run in double where lo/hi are exact.
  if (static_cast<double>(x) <= static_cast<double>(lo)) return lo;
  if (static_cast<double>(x) >= static_cast<double>(hi)) return hi;
  return round_half_even(x);
}

/// Reads a little-endian unsigned integer of type U from `p`.
template <typename U>
inline U load_le(const uint8_t* p) {
  U v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) {
    U r = 0;
    for (unsigned k = 0; k < sizeof v; ++k) r = static_cast<U>((r << 8) | ((v >> (8 * k)) & 0xFFu));
    v = r;
  }
  return v;
}

/// Writes `v` to `p` little-endian.
template <typename U>
inline void store_le(uint8_t* p, U v) {
  if constexpr (std::endian::native == std::endian::big) {
    U r = 0;
    for (unsigned k = 0; k < sizeof v; ++k) r = static_cast<U>((r << 8) | ((v >> (8 * k)) & 0xFFu));
    v = r;
  }
  std::memcpy(p, &v, sizeof v);
}

/// store_i64 for the floating-point dtypes: converts with a single rounding.
void store_i64_float(DType t, uint8_t* base, int64_t i, int64_t v);

}  // namespace detail

// ---------------------------------------------------------------- bf16 / fp16

/// fp32 -> bfloat16, round to nearest even; overflow -> ±Inf; NaN -> 0x7FC0|sign.
inline uint16_t fp32_to_bf16(float x) {
  const uint32_t b = detail::bits(x);
  if ((b & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<uint16_t>(((b >> 16) & 0x8000u) | 0x7FC0u);
  // Adding 0x7FFF plus the kept LSB rounds ties to even; a carry out of the
  // mantissa bumps the exponent, and out of the max exponent gives Inf.
  return static_cast<uint16_t>((b + 0x7FFFu + ((b >> 16) & 1u)) >> 16);
}

/// bfloat16 -> fp32, exact (NaNs come out quiet, sign and payload kept).
inline float bf16_to_fp32(uint16_t b) {
  uint32_t w = static_cast<uint32_t>(b) << 16;
  if ((w & 0x7FFFFFFFu) > 0x7F800000u) w |= 0x00400000u;
  return detail::from_bits(w);
}

/// fp32 -> IEEE binary16, round to nearest even; overflow -> ±Inf;
/// NaN -> 0x7E00|sign; subnormal results exact.
inline uint16_t fp32_to_fp16(float x) {
  const uint32_t b = detail::bits(x);
  const auto sign = static_cast<uint16_t>((b >> 16) & 0x8000u);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return static_cast<uint16_t>(sign | (a == 0x7F800000u ? 0x7C00u : 0x7E00u));
  uint32_t r = detail::round_magnitude<10, 15>(a);
  if (r > 0x7BFFu) r = 0x7C00u;
  return static_cast<uint16_t>(sign | r);
}

/// IEEE binary16 -> fp32, exact (subnormals too; NaNs come out quiet).
inline float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1Fu;
  const uint32_t m = h & 0x3FFu;
  if (e == 0) {
    // m * 2^-24 is exact in fp32; 0x33800000 is 2^-24.
    const float v = static_cast<float>(m) * detail::from_bits(0x33800000u);
    return detail::from_bits(sign | detail::bits(v));
  }
  if (e == 0x1F) return detail::from_bits(sign | 0x7F800000u | (m << 13) | (m ? 0x00400000u : 0u));
  return detail::from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

// ---------------------------------------------------------------- fp8

/// Largest finite E4M3 encoding (448) and its NaN (no Inf exists).
inline constexpr uint8_t kE4M3Max = 0x7E, kE4M3NaN = 0x7F;
/// Largest finite E5M2 encoding (57344), +Inf and the canonical quiet NaN.
inline constexpr uint8_t kE5M2Max = 0x7B, kE5M2Inf = 0x7C, kE5M2NaN = 0x7E;

/// fp32 -> OCP E4M3 (fn), round to nearest even. Overflow (rounded value > 448)
/// and ±Inf: ±448 if `saturate`, else NaN 0x7F|sign. NaN -> 0x7F|sign.
inline uint8_t fp32_to_e4m3(float x, bool saturate = true) {
  const uint32_t b = detail::bits(x);
  const auto sign = static_cast<uint8_t>((b >> 24) & 0x80u);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | kE4M3NaN;
  if (a == 0x7F800000u) return sign | (saturate ? kE4M3Max : kE4M3NaN);
  const uint32_t r = detail::round_magnitude<3, 7>(a);
  if (r > kE4M3Max) return sign | (saturate ? kE4M3Max : kE4M3NaN);
  return static_cast<uint8_t>(sign | r);
}

/// OCP E4M3 (fn) -> fp32, exact; 0x7F/0xFF -> quiet NaN with that sign.
inline float e4m3_to_fp32(uint8_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x80u) << 24;
  const uint32_t e = (v >> 3) & 0xFu;
  const uint32_t m = v & 0x7u;
  if (e == 0) {
    const float s = static_cast<float>(m) * detail::from_bits(0x3B000000u);  // m * 2^-9
    return detail::from_bits(sign | detail::bits(s));
  }
  if (e == 0xF && m == 0x7) return detail::from_bits(sign | 0x7FC00000u);
  return detail::from_bits(sign | ((e + 120u) << 23) | (m << 20));
}

/// fp32 -> OCP E5M2, round to nearest even. Overflow (rounded value > 57344):
/// ±57344 if `saturate`, else ±Inf. ±Inf: ±57344 if `saturate`, else ±Inf.
/// NaN -> 0x7E|sign.
inline uint8_t fp32_to_e5m2(float x, bool saturate = true) {
  const uint32_t b = detail::bits(x);
  const auto sign = static_cast<uint8_t>((b >> 24) & 0x80u);
  const uint32_t a = b & 0x7FFFFFFFu;
  if (a > 0x7F800000u) return sign | kE5M2NaN;
  if (a == 0x7F800000u) return sign | (saturate ? kE5M2Max : kE5M2Inf);
  const uint32_t r = detail::round_magnitude<2, 15>(a);
  if (r > kE5M2Max) return sign | (saturate ? kE5M2Max : kE5M2Inf);
  return static_cast<uint8_t>(sign | r);
}

/// OCP E5M2 -> fp32, exact; Inf -> Inf, NaNs -> quiet NaN (sign, payload kept).
inline float e5m2_to_fp32(uint8_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x80u) << 24;
  const uint32_t e = (v >> 2) & 0x1Fu;
  const uint32_t m = v & 0x3u;
  if (e == 0) {
    const float s = static_cast<float>(m) * detail::from_bits(0x37800000u);  // m * 2^-16
    return detail::from_bits(sign | detail::bits(s));
  }
  if (e == 0x1F) return detail::from_bits(sign | 0x7F800000u | (m << 21) | (m ? 0x00400000u : 0u));
  return detail::from_bits(sign | ((e + 112u) << 23) | (m << 21));
}

// ---------------------------------------------------------------- integers

/// fp32 -> int8: round to nearest even, saturate to [-128, 127], NaN -> 0.
inline int8_t fp32_to_int8(float x) { return static_cast<int8_t>(detail::float_to_int_sat(x, -128, 127)); }
/// fp32 -> uint8: round to nearest even, saturate to [0, 255], NaN -> 0.
inline uint8_t fp32_to_uint8(float x) { return static_cast<uint8_t>(detail::float_to_int_sat(x, 0, 255)); }
/// fp32 -> int32: round to nearest even, saturate to [-2^31, 2^31-1], NaN -> 0.
inline int32_t fp32_to_int32(float x) {
  return static_cast<int32_t>(detail::float_to_int_sat(x, INT32_MIN, INT32_MAX));
}
/// fp32 -> int4 value: round to nearest even, saturate to [-8, 7], NaN -> 0.
inline int8_t fp32_to_int4(float x) { return static_cast<int8_t>(detail::float_to_int_sat(x, -8, 7)); }

/// Saturates `v` to [-128, 127].
inline int8_t sat_int8(int64_t v) { return static_cast<int8_t>(v < -128 ? -128 : v > 127 ? 127 : v); }
/// Saturates `v` to [0, 255].
inline uint8_t sat_uint8(int64_t v) { return static_cast<uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v); }
/// Saturates `v` to [-2^31, 2^31-1].
inline int32_t sat_int32(int64_t v) {
  return static_cast<int32_t>(v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : v);
}
/// Saturates `v` to the int4 range [-8, 7].
inline int8_t sat_int4(int64_t v) { return static_cast<int8_t>(v < -8 ? -8 : v > 7 ? 7 : v); }

/// Reads packed int4 element `i` (byte i/2, low nibble if i even), sign-extended.
inline int8_t int4_get(const uint8_t* base, int64_t i) {
  const unsigned byte = base[i >> 1];
  const unsigned nib = (i & 1) ? (byte >> 4) : (byte & 0xFu);
  return static_cast<int8_t>(static_cast<int>(nib ^ 0x8u) - 8);  // sign-extend 4 bits
}

/// Writes packed int4 element `i`; `v` must be in [-8, 7] (only its low 4
/// bits are stored). The other nibble of the byte is left unchanged.
inline void int4_set(uint8_t* base, int64_t i, int8_t v) {
  const unsigned nib = static_cast<unsigned>(v) & 0xFu;
  uint8_t& byte = base[i >> 1];
  byte = static_cast<uint8_t>((i & 1) ? ((byte & 0x0Fu) | (nib << 4)) : ((byte & 0xF0u) | nib));
}

// ---------------------------------------------------------------- by dtype

/// Loads element `i` of a buffer of dtype `t` as fp32. Exact for every dtype
/// except int32, whose values beyond ±2^24 round to nearest even.
inline float load_f32(DType t, const uint8_t* base, int64_t i) {
  switch (t) {
    case DType::fp32: return detail::from_bits(detail::load_le<uint32_t>(base + 4 * i));
    case DType::bf16: return bf16_to_fp32(detail::load_le<uint16_t>(base + 2 * i));
    case DType::fp16: return fp16_to_fp32(detail::load_le<uint16_t>(base + 2 * i));
    case DType::fp8e4m3: return e4m3_to_fp32(base[i]);
    case DType::fp8e5m2: return e5m2_to_fp32(base[i]);
    case DType::int8: return static_cast<float>(static_cast<int8_t>(base[i]));
    case DType::uint8: return static_cast<float>(base[i]);
    case DType::int32: return static_cast<float>(static_cast<int32_t>(detail::load_le<uint32_t>(base + 4 * i)));
    case DType::int4: return static_cast<float>(int4_get(base, i));
  }
  return 0.0f;
}

/// Stores `v` as element `i` of a buffer of dtype `t`, with the conversion
/// rules above (fp32 stored as is; fp8 honours `saturate`; integers round to
/// nearest even and saturate, NaN -> 0).
inline void store_f32(DType t, uint8_t* base, int64_t i, float v, bool saturate = true) {
  switch (t) {
    case DType::fp32: detail::store_le<uint32_t>(base + 4 * i, detail::bits(v)); return;
    case DType::bf16: detail::store_le<uint16_t>(base + 2 * i, fp32_to_bf16(v)); return;
    case DType::fp16: detail::store_le<uint16_t>(base + 2 * i, fp32_to_fp16(v)); return;
    case DType::fp8e4m3: base[i] = fp32_to_e4m3(v, saturate); return;
    case DType::fp8e5m2: base[i] = fp32_to_e5m2(v, saturate); return;
    case DType::int8: base[i] = static_cast<uint8_t>(fp32_to_int8(v)); return;
    case DType::uint8: base[i] = fp32_to_uint8(v); return;
    case DType::int32: detail::store_le<uint32_t>(base + 4 * i, static_cast<uint32_t>(fp32_to_int32(v))); return;
    case DType::int4: int4_set(base, i, fp32_to_int4(v)); return;
  }
}

/// Loads element `i` as an integer: exact for the integer dtypes; for the
/// float dtypes the value rounded to nearest even, saturated to the int64
/// range, NaN -> 0.
inline int64_t load_i64(DType t, const uint8_t* base, int64_t i) {
  switch (t) {
    case DType::int8: return static_cast<int8_t>(base[i]);
    case DType::uint8: return base[i];
    case DType::int32: return static_cast<int32_t>(detail::load_le<uint32_t>(base + 4 * i));
    case DType::int4: return int4_get(base, i);
    default: break;
  }
  const float f = load_f32(t, base, i);
  if (std::isnan(f)) return 0;
  // 2^63 is exact in float; anything at or beyond it saturates.
  if (f >= 9223372036854775808.0f) return std::numeric_limits<int64_t>::max();
  if (f <= -9223372036854775808.0f) return std::numeric_limits<int64_t>::min();
  return detail::round_half_even(f);
}

/// Stores integer `v` as element `i`: integer dtypes saturate to their range;
/// float dtypes get v rounded once to nearest even (overflow as in store_f32
/// with saturate=true for fp8).
inline void store_i64(DType t, uint8_t* base, int64_t i, int64_t v) {
  switch (t) {
    case DType::int8: base[i] = static_cast<uint8_t>(sat_int8(v)); return;
    case DType::uint8: base[i] = sat_uint8(v); return;
    case DType::int32: detail::store_le<uint32_t>(base + 4 * i, static_cast<uint32_t>(sat_int32(v))); return;
    case DType::int4: int4_set(base, i, sat_int4(v)); return;
    default: detail::store_i64_float(t, base, i, v); return;
  }
}

}  // namespace seedchip::num
