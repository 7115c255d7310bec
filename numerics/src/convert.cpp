// seedchip — out-of-line parts of the element conversions (cold paths).
#include "seedchip/numerics/convert.h"

#include <bit>
#include <cmath>

namespace seedchip::num::detail {

namespace {

/// int64 -> fp32 rounded to 24 significant bits with round-to-odd (truncate,
/// then set the lowest kept bit if anything was dropped). A later
/// round-to-nearest-even to <= 22 bits (bf16, fp16, fp8) then gives the
/// correctly rounded result of the exact integer: no double-rounding error.
float int64_to_fp32_round_odd(int64_t v) {
  const uint64_t a = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  float f;
  if (a < (uint64_t{1} << 24)) {
    f = static_cast<float>(a);  // exact
  } else {
    const int s = std::bit_width(a) - 24;
    uint64_t m = a >> s;
    if (a & ((uint64_t{1} << s) - 1)) m |= 1;
    f = std::ldexp(static_cast<float>(m), s);  // m < 2^24 and s <= 40: exact
  }
  return v < 0 ? -f : f;
}

}  // namespace

void store_i64_float(DType t, uint8_t* base, int64_t i, int64_t v) {
  if (t == DType::fp32) {
    // A single cast: round to nearest even in the default FP environment.
    store_f32(t, base, i, static_cast<float>(v));
    return;
  }
  store_f32(t, base, i, int64_to_fp32_round_odd(v), /*saturate=*/true);
}

}  // namespace seedchip::num::detail
