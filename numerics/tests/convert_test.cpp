// Tests for seedchip/numerics: dtype names and the element conversions.
#include "seedchip/numerics/convert.h"

#include <gtest/gtest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace seedchip::num {
namespace {

uint32_t B(float x) { return std::bit_cast<uint32_t>(x); }
float F(uint32_t b) { return std::bit_cast<float>(b); }
constexpr float kInf = std::numeric_limits<float>::infinity();
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// ------------------------------------------------------------ dtype names

TEST(DType, NamesRoundTrip) {
  const std::array<std::string_view, kNumDTypes> names = {"fp32", "bf16", "fp16", "fp8e4m3", "fp8e5m2",
                                                          "int8", "uint8", "int32", "int4"};
  for (int v = 0; v < kNumDTypes; ++v) {
    const auto t = static_cast<DType>(v);
    EXPECT_EQ(dtype_name(t), names[v]);
    ASSERT_TRUE(parse_dtype(names[v]).has_value());
    EXPECT_EQ(*parse_dtype(names[v]), t);
  }
  EXPECT_EQ(parse_dtype("fp8"), DType::fp8e4m3);
  EXPECT_FALSE(parse_dtype("").has_value());
  EXPECT_FALSE(parse_dtype("FP32").has_value());
  EXPECT_FALSE(parse_dtype("int16").has_value());
  EXPECT_FALSE(parse_dtype("fp32 ").has_value());
}

// ------------------------------------------------------------ format table

/// One narrow float format under test, described independently of the code.
struct Fmt {
  std::string name;
  int bits;                                  // 8 or 16
  uint32_t max_enc;                          // largest finite positive encoding
  std::function<float(uint32_t)> decode;     // encoding -> fp32
  std::function<uint32_t(float, bool)> encode;  // fp32 -> encoding (saturate flag)
  bool overflow_is_nan;                      // non-saturating overflow gives NaN (e4m3) not Inf
  bool has_sat_mode;                         // fp8 only
  uint32_t sign_bit() const { return 1u << (bits - 1); }
  uint32_t inf_enc() const { return max_enc + 1; }  // for formats with Inf
};

std::vector<Fmt> formats() {
  return {
      {"bf16", 16, 0x7F7F, [](uint32_t e) { return bf16_to_fp32(static_cast<uint16_t>(e)); },
       [](float x, bool) -> uint32_t { return fp32_to_bf16(x); }, false, false},
      {"fp16", 16, 0x7BFF, [](uint32_t e) { return fp16_to_fp32(static_cast<uint16_t>(e)); },
       [](float x, bool) -> uint32_t { return fp32_to_fp16(x); }, false, false},
      {"e4m3", 8, 0x7E, [](uint32_t e) { return e4m3_to_fp32(static_cast<uint8_t>(e)); },
       [](float x, bool s) -> uint32_t { return fp32_to_e4m3(x, s); }, true, true},
      {"e5m2", 8, 0x7B, [](uint32_t e) { return e5m2_to_fp32(static_cast<uint8_t>(e)); },
       [](float x, bool s) -> uint32_t { return fp32_to_e5m2(x, s); }, false, true},
  };
}

/// Encoding `enc` of format `f` with the sign bit flipped on when `neg`.
uint32_t with_sign(const Fmt& f, uint32_t enc, bool neg) { return neg ? (enc | f.sign_bit()) : enc; }

/// Expected non-finite result of an overflowing magnitude with sign `neg`.
uint32_t overflow_result(const Fmt& f, bool neg, bool saturate) {
  if (f.has_sat_mode && saturate) return with_sign(f, f.max_enc, neg);
  return with_sign(f, f.overflow_is_nan ? 0x7Fu : f.inf_enc(), neg);
}

// ------------------------------------------------------------ round trips

TEST(Convert, EveryEncodingRoundTrips) {
  for (const Fmt& f : formats()) {
    SCOPED_TRACE(f.name);
    const uint32_t n = 1u << f.bits;
    for (uint32_t e = 0; e < n; ++e) {
      const float x = f.decode(e);
      const bool neg = (e & f.sign_bit()) != 0;
      EXPECT_EQ(std::signbit(x), neg) << std::hex << e;
      for (bool sat : {true, false}) {
        const uint32_t back = f.encode(x, sat);
        if (std::isnan(x)) {
          EXPECT_TRUE(std::isnan(f.decode(back))) << std::hex << e;
          EXPECT_EQ(back & f.sign_bit(), e & f.sign_bit()) << "NaN sign " << std::hex << e;
        } else if (std::isinf(x)) {
          EXPECT_EQ(back, f.has_sat_mode && sat ? with_sign(f, f.max_enc, neg) : e) << std::hex << e;
        } else {
          EXPECT_EQ(back, e) << std::hex << e << " value " << x;
        }
      }
    }
  }
}

TEST(Convert, NaNEncodingsAndDecoding) {
  const float qnan = kNaN, nqnan = -kNaN;
  const float snan = F(0x7F800001u), nsnan = F(0xFF800001u);
  for (float n : {qnan, snan, F(0x7FFFFFFFu)}) {
    EXPECT_EQ(fp32_to_bf16(n), 0x7FC0);
    EXPECT_EQ(fp32_to_fp16(n), 0x7E00);
    EXPECT_EQ(fp32_to_e4m3(n, true), 0x7F);
    EXPECT_EQ(fp32_to_e4m3(n, false), 0x7F);
    EXPECT_EQ(fp32_to_e5m2(n, true), 0x7E);
    EXPECT_EQ(fp32_to_e5m2(n, false), 0x7E);
  }
  for (float n : {nqnan, nsnan}) {
    EXPECT_EQ(fp32_to_bf16(n), 0xFFC0);
    EXPECT_EQ(fp32_to_fp16(n), 0xFE00);
    EXPECT_EQ(fp32_to_e4m3(n), 0xFF);
    EXPECT_EQ(fp32_to_e5m2(n), 0xFE);
  }
  // Decoded NaNs are quiet and keep their sign.
  EXPECT_EQ(B(bf16_to_fp32(0x7F81)), 0x7FC10000u);  // signalling bf16 NaN comes out quiet
  EXPECT_EQ(B(bf16_to_fp32(0xFFC0)), 0xFFC00000u);
  EXPECT_EQ(B(fp16_to_fp32(0x7C01)), 0x7FC02000u);
  EXPECT_EQ(B(fp16_to_fp32(0xFE00)), 0xFFC00000u);
  EXPECT_EQ(B(e4m3_to_fp32(0x7F)), 0x7FC00000u);
  EXPECT_EQ(B(e4m3_to_fp32(0xFF)), 0xFFC00000u);
  EXPECT_EQ(B(e5m2_to_fp32(0x7D)), 0x7FA00000u | 0x00400000u);
  EXPECT_EQ(B(e5m2_to_fp32(0xFE)), 0xFFC00000u);
  EXPECT_EQ(B(e5m2_to_fp32(0x7F)), 0x7FE00000u);
}

// ------------------------------------------------------------ known values

TEST(Convert, KnownFp8Values) {
  EXPECT_EQ(e4m3_to_fp32(0x7E), 448.0f);
  EXPECT_EQ(e4m3_to_fp32(0xFE), -448.0f);
  EXPECT_EQ(e4m3_to_fp32(0x01), std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3_to_fp32(0x07), 7 * std::ldexp(1.0f, -9));
  EXPECT_EQ(e4m3_to_fp32(0x08), std::ldexp(1.0f, -6));  // min normal
  EXPECT_EQ(e4m3_to_fp32(0x38), 1.0f);
  EXPECT_EQ(e4m3_to_fp32(0x78), 256.0f);  // S.1111.000 is a normal number in the fn variant
  EXPECT_EQ(B(e4m3_to_fp32(0x80)), 0x80000000u);  // -0
  EXPECT_EQ(e5m2_to_fp32(0x7B), 57344.0f);
  EXPECT_EQ(e5m2_to_fp32(0x01), std::ldexp(1.0f, -16));
  EXPECT_EQ(e5m2_to_fp32(0x04), std::ldexp(1.0f, -14));
  EXPECT_EQ(e5m2_to_fp32(0x3C), 1.0f);
  EXPECT_EQ(e5m2_to_fp32(0x7C), kInf);
  EXPECT_EQ(e5m2_to_fp32(0xFC), -kInf);

  EXPECT_EQ(fp32_to_e4m3(448.0f), 0x7E);
  EXPECT_EQ(fp32_to_e4m3(1.0f), 0x38);
  EXPECT_EQ(fp32_to_e4m3(-0.0f), 0x80);
  EXPECT_EQ(fp32_to_e4m3(0.0f), 0x00);
  // 464 is the tie between 448 (mantissa 110) and 480 (111, would-be NaN): even wins.
  EXPECT_EQ(fp32_to_e4m3(464.0f, false), 0x7E);
  EXPECT_EQ(fp32_to_e4m3(464.0f, true), 0x7E);
  EXPECT_EQ(fp32_to_e4m3(std::nextafter(464.0f, kInf), false), 0x7F);
  EXPECT_EQ(fp32_to_e4m3(std::nextafter(464.0f, kInf), true), 0x7E);
  EXPECT_EQ(fp32_to_e4m3(-500.0f, false), 0xFF);
  EXPECT_EQ(fp32_to_e4m3(-500.0f, true), 0xFE);
  EXPECT_EQ(fp32_to_e4m3(kInf, true), 0x7E);
  EXPECT_EQ(fp32_to_e4m3(-kInf, true), 0xFE);
  EXPECT_EQ(fp32_to_e4m3(kInf, false), 0x7F);
  EXPECT_EQ(fp32_to_e4m3(-kInf, false), 0xFF);
  EXPECT_EQ(fp32_to_e4m3(std::numeric_limits<float>::max(), false), 0x7F);
  // Subnormal / zero boundary: 2^-10 ties to 0, just above goes to 2^-9.
  EXPECT_EQ(fp32_to_e4m3(std::ldexp(1.0f, -10)), 0x00);
  EXPECT_EQ(fp32_to_e4m3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)), 0x01);
  EXPECT_EQ(fp32_to_e4m3(-std::ldexp(1.0f, -10)), 0x80);
  EXPECT_EQ(fp32_to_e4m3(3 * std::ldexp(1.0f, -10)), 0x02);  // 1.5 * 2^-9 ties to 2 * 2^-9
  EXPECT_EQ(fp32_to_e4m3(F(0x00000001u)), 0x00);              // fp32 subnormal input
  EXPECT_EQ(fp32_to_e4m3(F(0x80000001u)), 0x80);

  EXPECT_EQ(fp32_to_e5m2(57344.0f), 0x7B);
  // 61440 ties between 57344 (mantissa 11) and 65536 (next exponent, mantissa 00): overflows.
  EXPECT_EQ(fp32_to_e5m2(61440.0f, false), 0x7C);
  EXPECT_EQ(fp32_to_e5m2(61440.0f, true), 0x7B);
  EXPECT_EQ(fp32_to_e5m2(std::nextafter(61440.0f, 0.0f), false), 0x7B);
  EXPECT_EQ(fp32_to_e5m2(59392.0f, false), 0x7B);  // below the tie: rounds down to max
  EXPECT_EQ(fp32_to_e5m2(-61440.0f, false), 0xFC);
  EXPECT_EQ(fp32_to_e5m2(kInf, false), 0x7C);
  EXPECT_EQ(fp32_to_e5m2(-kInf, false), 0xFC);
  EXPECT_EQ(fp32_to_e5m2(kInf, true), 0x7B);
  EXPECT_EQ(fp32_to_e5m2(-kInf, true), 0xFB);
  EXPECT_EQ(fp32_to_e5m2(std::ldexp(1.0f, -17)), 0x00);
  EXPECT_EQ(fp32_to_e5m2(std::ldexp(1.5f, -17)), 0x01);
  EXPECT_EQ(fp32_to_e5m2(1.0f), 0x3C);
  EXPECT_EQ(fp32_to_e5m2(1.125f), 0x3C);  // tie between 1.0 and 1.25: even (1.0)
  EXPECT_EQ(fp32_to_e5m2(1.375f), 0x3E);  // tie between 1.25 and 1.5: even (1.5)
}

TEST(Convert, KnownBf16Fp16Values) {
  EXPECT_EQ(fp32_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);   // tie -> even (1.0)
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);  // tie -> even (up)
  EXPECT_EQ(fp32_to_bf16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), 0x3F81);
  EXPECT_EQ(fp32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(fp32_to_bf16(kInf), 0x7F80);
  EXPECT_EQ(fp32_to_bf16(-kInf), 0xFF80);
  EXPECT_EQ(fp32_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to Inf
  EXPECT_EQ(fp32_to_bf16(F(0x7F7F7FFFu)), 0x7F7F);
  EXPECT_EQ(fp32_to_bf16(F(0x7F7F8000u)), 0x7F80);  // tie at max, odd mantissa -> Inf
  EXPECT_EQ(fp32_to_bf16(F(0x00008000u)), 0x0000);  // fp32 subnormal ties
  EXPECT_EQ(fp32_to_bf16(F(0x00018000u)), 0x0002);
  EXPECT_EQ(fp32_to_bf16(F(0x00008001u)), 0x0001);
  EXPECT_EQ(fp32_to_bf16(F(0x807FFFFFu)), 0x8080);  // largest subnormal rounds to -min normal
  EXPECT_EQ(bf16_to_fp32(0x3F80), 1.0f);
  EXPECT_EQ(bf16_to_fp32(0x0001), F(0x00010000u));

  EXPECT_EQ(fp32_to_fp16(1.0f), 0x3C00);
  EXPECT_EQ(fp32_to_fp16(65504.0f), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(std::nextafter(65520.0f, 0.0f)), 0x7BFF);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);  // tie at max rounds to even = overflow
  EXPECT_EQ(fp32_to_fp16(-65520.0f), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(kInf), 0x7C00);
  EXPECT_EQ(fp32_to_fp16(-kInf), 0xFC00);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -24)), 0x0001);  // min subnormal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);  // tie with 0 -> 0
  EXPECT_EQ(fp32_to_fp16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
  EXPECT_EQ(fp32_to_fp16(-std::ldexp(1.0f, -25)), 0x8000);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);  // min normal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);  // max subnormal + half ulp -> min normal
  EXPECT_EQ(fp32_to_fp16(F(0x00000001u)), 0x0000);
  EXPECT_EQ(fp32_to_fp16(F(0x80000001u)), 0x8000);
  EXPECT_EQ(fp32_to_fp16(0.1f), 0x2E66);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(fp16_to_fp32(0x7BFF), 65504.0f);
  EXPECT_EQ(fp16_to_fp32(0xC000), -2.0f);
  EXPECT_EQ(B(fp16_to_fp32(0x8000)), 0x80000000u);
}

// ------------------------------------------------------------ midpoints

/// For each adjacent pair of finite representable values of each format
/// (both signs), the exact midpoint ties to the even encoding and its fp32
/// neighbours go to the near side. Also checks the overflow boundary.
TEST(Convert, AdjacentPairMidpoints) {
  for (const Fmt& f : formats()) {
    SCOPED_TRACE(f.name);
    for (bool neg : {false, true}) {
      for (bool sat : {true, false}) {
        // Positive encodings 0..max_enc are ordered by value.
        for (uint32_t lo = 0; lo < f.max_enc; ++lo) {
          const uint32_t hi = lo + 1;
          const double a = f.decode(lo), b = f.decode(hi);
          ASSERT_LT(a, b);
          const auto mid = static_cast<float>((a + b) / 2);
          ASSERT_EQ(static_cast<double>(mid), (a + b) / 2) << "midpoint not exact";
          const float s = neg ? -1.0f : 1.0f;
          const uint32_t even = (lo & 1) ? hi : lo;
          EXPECT_EQ(f.encode(s * mid, sat), with_sign(f, even, neg)) << std::hex << lo;
          EXPECT_EQ(f.encode(s * std::nextafter(mid, kInf), sat), with_sign(f, hi, neg)) << std::hex << lo;
          EXPECT_EQ(f.encode(s * std::nextafter(mid, 0.0f), sat), with_sign(f, lo, neg)) << std::hex << lo;
          // The endpoints themselves, and their fp32 neighbours towards the midpoint.
          EXPECT_EQ(f.encode(s * static_cast<float>(b), sat), with_sign(f, hi, neg));
          EXPECT_EQ(f.encode(s * std::nextafter(static_cast<float>(b), 0.0f), sat), with_sign(f, hi, neg));
          if (lo != 0) {
            EXPECT_EQ(f.encode(s * std::nextafter(static_cast<float>(a), kInf), sat), with_sign(f, lo, neg));
          }
        }
        // Overflow boundary: the would-be next value above max is max + ulp,
        // ulp being the spacing just below max; it would have encoding max+1.
        const double mx = f.decode(f.max_enc);
        const double ulp = mx - f.decode(f.max_enc - 1);
        const auto mid = static_cast<float>(mx + ulp / 2);
        ASSERT_EQ(static_cast<double>(mid), mx + ulp / 2);
        const float s = neg ? -1.0f : 1.0f;
        const bool tie_up = ((f.max_enc + 1) & 1) == 0;  // even side of the tie
        const uint32_t max_s = with_sign(f, f.max_enc, neg);
        const uint32_t ovf = overflow_result(f, neg, sat);
        EXPECT_EQ(f.encode(s * mid, sat), tie_up ? ovf : max_s);
        EXPECT_EQ(f.encode(s * std::nextafter(mid, 0.0f), sat), max_s);
        EXPECT_EQ(f.encode(s * std::nextafter(mid, kInf), sat), ovf);
        if (mx + ulp <= std::numeric_limits<float>::max()) {  // not for bf16, whose next value is 2^128
          EXPECT_EQ(f.encode(s * static_cast<float>(mx + ulp), sat), ovf);
        }
        EXPECT_EQ(f.encode(s * std::numeric_limits<float>::max(), sat), ovf);
        EXPECT_EQ(f.encode(s * kInf, sat), f.has_sat_mode && sat ? max_s : overflow_result(f, neg, false));
        // Zero boundary: the smallest fp32 values go to (signed) zero.
        EXPECT_EQ(f.encode(s * std::numeric_limits<float>::denorm_min(), sat), with_sign(f, 0, neg));
        EXPECT_EQ(f.encode(s * 0.0f, sat), with_sign(f, 0, neg));
      }
    }
  }
}

// ------------------------------------------------------------ brute-force fp8

/// Independent fp8 reference: nearest of all finite decoded values by
/// exhaustive search (ties to the even encoding), with a virtual value
/// max+ulp standing for "overflow" (the unbounded-exponent rounding).
uint32_t brute_force_fp8(const Fmt& f, float x, bool sat) {
  if (std::isnan(x)) return 0;  // not used for NaN
  const bool neg = std::signbit(x);
  const double ax = std::fabs(static_cast<double>(x));
  const double mx = f.decode(f.max_enc);
  const double virt = mx + (mx - f.decode(f.max_enc - 1));
  uint32_t best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (uint32_t e = 0; e <= f.max_enc + 1; ++e) {
    const double v = e == f.max_enc + 1 ? virt : static_cast<double>(f.decode(e));
    const double d = std::fabs(ax - v);
    if (d < best_d || (d == best_d && (e & 1) == 0)) {
      best_d = d;
      best = e;
    }
  }
  if (std::isinf(x) || best == f.max_enc + 1) return overflow_result(f, neg, sat);
  return with_sign(f, best, neg);
}

TEST(Convert, Fp8MatchesBruteForce) {
  std::mt19937_64 rng(20240611);
  std::uniform_int_distribution<uint32_t> mant(0, 0x7FFFFF);
  std::uniform_int_distribution<int> expo(-30, 20);  // both formats' ranges and beyond, |diff| exact in double
  std::uniform_int_distribution<int> coin(0, 7);
  const auto fs = formats();
  long checked = 0;
  for (int n = 0; n < 200000; ++n) {
    uint32_t b = (static_cast<uint32_t>(expo(rng) + 127) << 23) | mant(rng);
    const int c = coin(rng);
    if (c == 0) b &= ~0xFFFFFu;           // few mantissa bits: exact ties and representable values
    else if (c == 1) b &= ~0x1FFFFu;
    if (rng() & 1) b |= 0x80000000u;
    const float x = F(b);
    for (std::size_t k = 2; k < 4; ++k) {
      for (bool sat : {true, false}) {
        ASSERT_EQ(fs[k].encode(x, sat), brute_force_fp8(fs[k], x, sat))
            << fs[k].name << " x=" << x << " bits=" << std::hex << b << " sat=" << sat;
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 800000);
}

// ------------------------------------------------------------ integers

TEST(Convert, FloatToInt) {
  EXPECT_EQ(fp32_to_int8(2.5f), 2);
  EXPECT_EQ(fp32_to_int8(-2.5f), -2);
  EXPECT_EQ(fp32_to_int8(3.5f), 4);
  EXPECT_EQ(fp32_to_int8(-3.5f), -4);
  EXPECT_EQ(fp32_to_int8(0.5f), 0);
  EXPECT_EQ(fp32_to_int8(-0.5f), 0);
  EXPECT_EQ(fp32_to_int8(0.50000006f), 1);
  EXPECT_EQ(fp32_to_int8(1.4999999f), 1);
  EXPECT_EQ(fp32_to_int8(127.5f), 127);
  EXPECT_EQ(fp32_to_int8(126.5f), 126);
  EXPECT_EQ(fp32_to_int8(-128.5f), -128);
  EXPECT_EQ(fp32_to_int8(-129.0f), -128);
  EXPECT_EQ(fp32_to_int8(300.0f), 127);
  EXPECT_EQ(fp32_to_int8(-300.0f), -128);
  EXPECT_EQ(fp32_to_int8(kInf), 127);
  EXPECT_EQ(fp32_to_int8(-kInf), -128);
  EXPECT_EQ(fp32_to_int8(kNaN), 0);
  EXPECT_EQ(fp32_to_int8(-kNaN), 0);
  EXPECT_EQ(fp32_to_int8(std::numeric_limits<float>::denorm_min()), 0);

  EXPECT_EQ(fp32_to_uint8(-0.5f), 0);
  EXPECT_EQ(fp32_to_uint8(-1.0f), 0);
  EXPECT_EQ(fp32_to_uint8(254.5f), 254);
  EXPECT_EQ(fp32_to_uint8(255.5f), 255);
  EXPECT_EQ(fp32_to_uint8(1000.0f), 255);
  EXPECT_EQ(fp32_to_uint8(kNaN), 0);
  EXPECT_EQ(fp32_to_uint8(1.5f), 2);

  EXPECT_EQ(fp32_to_int4(7.5f), 7);
  EXPECT_EQ(fp32_to_int4(6.5f), 6);
  EXPECT_EQ(fp32_to_int4(-8.5f), -8);
  EXPECT_EQ(fp32_to_int4(-7.5f), -8);
  EXPECT_EQ(fp32_to_int4(-6.5f), -6);
  EXPECT_EQ(fp32_to_int4(100.0f), 7);
  EXPECT_EQ(fp32_to_int4(kNaN), 0);

  EXPECT_EQ(fp32_to_int32(2147483520.0f), 2147483520);  // largest float below 2^31
  EXPECT_EQ(fp32_to_int32(2147483648.0f), INT32_MAX);
  EXPECT_EQ(fp32_to_int32(-2147483648.0f), INT32_MIN);
  EXPECT_EQ(fp32_to_int32(-2147483904.0f), INT32_MIN);
  EXPECT_EQ(fp32_to_int32(1e20f), INT32_MAX);
  EXPECT_EQ(fp32_to_int32(-kInf), INT32_MIN);
  EXPECT_EQ(fp32_to_int32(kNaN), 0);
  EXPECT_EQ(fp32_to_int32(8388607.5f), 8388608);
  EXPECT_EQ(fp32_to_int32(8388606.5f), 8388606);
  EXPECT_EQ(fp32_to_int32(-8388607.5f), -8388608);
  EXPECT_EQ(fp32_to_int32(16777217.0f), 16777216);  // the float literal itself is 2^24
}

/// Compares the float -> int conversions against std::nearbyint (default
/// rounding mode is to nearest even) plus clamping, on random inputs.
TEST(Convert, FloatToIntMatchesNearbyint) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> expo(-3, 33);
  std::uniform_int_distribution<uint32_t> mant(0, 0x7FFFFF);
  auto ref = [](float x, double lo, double hi) -> int64_t {
    if (std::isnan(x)) return 0;
    const double r = std::nearbyint(static_cast<double>(x));
    return static_cast<int64_t>(r < lo ? lo : r > hi ? hi : r);
  };
  for (int n = 0; n < 100000; ++n) {
    uint32_t b = (static_cast<uint32_t>(expo(rng) + 127) << 23) | mant(rng);
    if (n % 3 == 0) b &= ~0x7FFFu;
    if (rng() & 1) b |= 0x80000000u;
    const float x = F(b);
    ASSERT_EQ(fp32_to_int8(x), ref(x, -128, 127)) << x;
    ASSERT_EQ(fp32_to_uint8(x), ref(x, 0, 255)) << x;
    ASSERT_EQ(fp32_to_int4(x), ref(x, -8, 7)) << x;
    ASSERT_EQ(fp32_to_int32(x), ref(x, INT32_MIN, INT32_MAX)) << x;
  }
}

TEST(Convert, SaturatingIntegers) {
  EXPECT_EQ(sat_int8(127), 127);
  EXPECT_EQ(sat_int8(128), 127);
  EXPECT_EQ(sat_int8(-128), -128);
  EXPECT_EQ(sat_int8(-129), -128);
  EXPECT_EQ(sat_int8(INT64_MAX), 127);
  EXPECT_EQ(sat_int8(INT64_MIN), -128);
  EXPECT_EQ(sat_uint8(-1), 0);
  EXPECT_EQ(sat_uint8(255), 255);
  EXPECT_EQ(sat_uint8(256), 255);
  EXPECT_EQ(sat_uint8(INT64_MIN), 0);
  EXPECT_EQ(sat_int32(int64_t{INT32_MAX} + 1), INT32_MAX);
  EXPECT_EQ(sat_int32(int64_t{INT32_MIN} - 1), INT32_MIN);
  EXPECT_EQ(sat_int32(-5), -5);
  EXPECT_EQ(sat_int32(INT64_MAX), INT32_MAX);
  EXPECT_EQ(sat_int4(7), 7);
  EXPECT_EQ(sat_int4(8), 7);
  EXPECT_EQ(sat_int4(-8), -8);
  EXPECT_EQ(sat_int4(-9), -8);
  EXPECT_EQ(sat_int4(0), 0);
}

TEST(Convert, Int4PackUnpack) {
  for (int lo = -8; lo <= 7; ++lo) {
    for (int hi = -8; hi <= 7; ++hi) {
      std::array<uint8_t, 3> buf = {0xA5, 0xA5, 0xA5};
      int4_set(buf.data(), 2, static_cast<int8_t>(lo));
      int4_set(buf.data(), 3, static_cast<int8_t>(hi));
      EXPECT_EQ(buf[0], 0xA5);
      EXPECT_EQ(buf[2], 0xA5);
      EXPECT_EQ(buf[1], static_cast<uint8_t>((lo & 0xF) | ((hi & 0xF) << 4)));
      EXPECT_EQ(int4_get(buf.data(), 2), lo);
      EXPECT_EQ(int4_get(buf.data(), 3), hi);
      EXPECT_EQ(int4_get(buf.data(), 0), 5);   // 0x5
      EXPECT_EQ(int4_get(buf.data(), 1), -6);  // 0xA sign-extended
    }
  }
  const std::array<uint8_t, 1> b = {0x8F};
  EXPECT_EQ(int4_get(b.data(), 0), -1);
  EXPECT_EQ(int4_get(b.data(), 1), -8);
}

// ------------------------------------------------------------ by dtype

TEST(Convert, LoadStoreF32EveryDType) {
  struct Case {
    DType t;
    float in;
    std::vector<uint8_t> bytes;  // little-endian element bytes (int4: the byte holding nibble 1)
    float back;
  };
  const std::vector<Case> cases = {
      {DType::fp32, -1.5f, {0x00, 0x00, 0xC0, 0xBF}, -1.5f},
      {DType::bf16, 1.0f + std::ldexp(1.0f, -8), {0x80, 0x3F}, 1.0f},
      {DType::fp16, -2.0f, {0x00, 0xC0}, -2.0f},
      {DType::fp16, 65520.0f, {0x00, 0x7C}, kInf},
      {DType::fp8e4m3, 448.0f, {0x7E}, 448.0f},
      {DType::fp8e4m3, 1000.0f, {0x7E}, 448.0f},
      {DType::fp8e5m2, -1.0f, {0xBC}, -1.0f},
      {DType::fp8e5m2, -kInf, {0xFB}, -57344.0f},
      {DType::int8, -2.5f, {0xFE}, -2.0f},
      {DType::int8, 300.0f, {0x7F}, 127.0f},
      {DType::uint8, 255.5f, {0xFF}, 255.0f},
      {DType::uint8, kNaN, {0x00}, 0.0f},
      {DType::int32, -3.5f, {0xFC, 0xFF, 0xFF, 0xFF}, -4.0f},
      {DType::int32, 3e9f, {0xFF, 0xFF, 0xFF, 0x7F}, 2147483648.0f},  // load rounds to nearest float
      {DType::int4, -9.0f, {0x80}, -8.0f},
      {DType::int4, 6.5f, {0x60}, 6.0f},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(dtype_name(c.t)) + " " + std::to_string(c.in));
    const std::size_t esize = c.bytes.size();
    std::vector<uint8_t> buf(3 * esize, 0x00);
    if (c.t == DType::int4) {
      buf.assign(2, 0x00);
      store_f32(c.t, buf.data(), 3, c.in);  // element 3: high nibble of byte 1
      EXPECT_EQ(buf[0], 0x00);
      EXPECT_EQ(buf[1], c.bytes[0]);
      EXPECT_EQ(load_f32(c.t, buf.data(), 3), c.back);
      EXPECT_EQ(load_f32(c.t, buf.data(), 2), 0.0f);
      continue;
    }
    store_f32(c.t, buf.data(), 1, c.in);
    for (std::size_t k = 0; k < esize; ++k) {
      EXPECT_EQ(buf[k], 0x00);  // neighbours untouched
      EXPECT_EQ(buf[esize + k], c.bytes[k]) << k;
      EXPECT_EQ(buf[2 * esize + k], 0x00);
    }
    EXPECT_EQ(load_f32(c.t, buf.data(), 1), c.back);
  }
  // fp8 store honours saturate=false.
  std::array<uint8_t, 2> b8{};
  store_f32(DType::fp8e4m3, b8.data(), 0, 1000.0f, false);
  store_f32(DType::fp8e5m2, b8.data(), 1, -1e6f, false);
  EXPECT_EQ(b8[0], 0x7F);
  EXPECT_EQ(b8[1], 0xFC);
  EXPECT_TRUE(std::isnan(load_f32(DType::fp8e4m3, b8.data(), 0)));
  EXPECT_EQ(load_f32(DType::fp8e5m2, b8.data(), 1), -kInf);
  // fp32 store keeps NaN payloads and -0 bit-exactly.
  std::array<uint8_t, 4> b32{};
  store_f32(DType::fp32, b32.data(), 0, F(0xFFA12345u));
  EXPECT_EQ(B(load_f32(DType::fp32, b32.data(), 0)), 0xFFA12345u);
}

TEST(Convert, LoadStoreI64EveryDType) {
  std::vector<uint8_t> buf(16, 0);
  // Integer dtypes: exact load, saturating store.
  store_i64(DType::int8, buf.data(), 1, -200);
  EXPECT_EQ(load_i64(DType::int8, buf.data(), 1), -128);
  store_i64(DType::int8, buf.data(), 1, -7);
  EXPECT_EQ(load_i64(DType::int8, buf.data(), 1), -7);
  store_i64(DType::uint8, buf.data(), 2, 256);
  EXPECT_EQ(load_i64(DType::uint8, buf.data(), 2), 255);
  store_i64(DType::uint8, buf.data(), 2, 200);
  EXPECT_EQ(load_i64(DType::uint8, buf.data(), 2), 200);
  store_i64(DType::int32, buf.data(), 1, int64_t{1} << 40);
  EXPECT_EQ(load_i64(DType::int32, buf.data(), 1), INT32_MAX);
  store_i64(DType::int32, buf.data(), 1, -123456789);
  EXPECT_EQ(load_i64(DType::int32, buf.data(), 1), -123456789);
  EXPECT_EQ(buf[4], 0xEB);  // -123456789 = 0xF8A432EB, little-endian
  EXPECT_EQ(buf[7], 0xF8);
  EXPECT_EQ(load_f32(DType::int32, buf.data(), 1), -123456792.0f);  // nearest float
  std::fill(buf.begin(), buf.end(), 0);
  for (int i = 0; i < 8; ++i) store_i64(DType::int4, buf.data(), i, i - 4 + (i == 0 ? -10 : 0) + (i == 7 ? 10 : 0));
  EXPECT_EQ(load_i64(DType::int4, buf.data(), 0), -8);
  for (int i = 1; i < 7; ++i) EXPECT_EQ(load_i64(DType::int4, buf.data(), i), i - 4);
  EXPECT_EQ(load_i64(DType::int4, buf.data(), 7), 7);

  // Float dtypes: the value rounded to nearest even, saturating, NaN -> 0.
  for (DType t : {DType::fp32, DType::bf16, DType::fp16, DType::fp8e4m3, DType::fp8e5m2}) {
    SCOPED_TRACE(std::string(dtype_name(t)));
    std::fill(buf.begin(), buf.end(), 0);
    store_f32(t, buf.data(), 0, 2.5f);
    EXPECT_EQ(load_i64(t, buf.data(), 0), 2);
    store_f32(t, buf.data(), 0, -3.5f);
    EXPECT_EQ(load_i64(t, buf.data(), 0), -4);
    store_f32(t, buf.data(), 0, kNaN);
    EXPECT_EQ(load_i64(t, buf.data(), 0), 0);
    store_i64(t, buf.data(), 0, -24);
    EXPECT_EQ(load_i64(t, buf.data(), 0), -24);
    EXPECT_EQ(load_f32(t, buf.data(), 0), -24.0f);
  }
  std::fill(buf.begin(), buf.end(), 0);
  store_f32(DType::fp32, buf.data(), 0, kInf);
  EXPECT_EQ(load_i64(DType::fp32, buf.data(), 0), INT64_MAX);
  store_f32(DType::fp32, buf.data(), 0, -1e30f);
  EXPECT_EQ(load_i64(DType::fp32, buf.data(), 0), INT64_MIN);
  store_f32(DType::fp32, buf.data(), 0, 0x1p62f);
  EXPECT_EQ(load_i64(DType::fp32, buf.data(), 0), int64_t{1} << 62);

  // store_i64 to a float dtype rounds once: 2^24 + 2^16 + 1 is above the bf16
  // midpoint 2^24 + 2^16, so it rounds up (a cast through fp32 would give 2^24).
  const int64_t v = (int64_t{1} << 24) + (int64_t{1} << 16) + 1;
  store_i64(DType::bf16, buf.data(), 0, v);
  EXPECT_EQ(load_f32(DType::bf16, buf.data(), 0), 16777216.0f + 131072.0f);
  store_i64(DType::bf16, buf.data(), 0, -v);
  EXPECT_EQ(load_f32(DType::bf16, buf.data(), 0), -(16777216.0f + 131072.0f));
  store_i64(DType::bf16, buf.data(), 0, (int64_t{1} << 24) + (int64_t{1} << 16));  // exact tie -> even
  EXPECT_EQ(load_f32(DType::bf16, buf.data(), 0), 16777216.0f);
  store_i64(DType::bf16, buf.data(), 0, INT64_MIN);
  EXPECT_EQ(load_f32(DType::bf16, buf.data(), 0), -0x1p63f);
  store_i64(DType::fp32, buf.data(), 0, (int64_t{1} << 24) + 1);  // tie -> even
  EXPECT_EQ(load_f32(DType::fp32, buf.data(), 0), 16777216.0f);
  store_i64(DType::fp32, buf.data(), 0, (int64_t{1} << 24) + 3);  // tie -> even (up)
  EXPECT_EQ(load_f32(DType::fp32, buf.data(), 0), 16777220.0f);
  store_i64(DType::fp16, buf.data(), 0, 65520);
  EXPECT_EQ(load_f32(DType::fp16, buf.data(), 0), kInf);
  store_i64(DType::fp16, buf.data(), 0, 2049);  // tie between 2048 and 2050 -> 2048
  EXPECT_EQ(load_f32(DType::fp16, buf.data(), 0), 2048.0f);
  store_i64(DType::fp8e4m3, buf.data(), 0, 1000000);  // saturates
  EXPECT_EQ(load_f32(DType::fp8e4m3, buf.data(), 0), 448.0f);
  store_i64(DType::fp8e5m2, buf.data(), 0, INT64_MAX);
  EXPECT_EQ(load_f32(DType::fp8e5m2, buf.data(), 0), 57344.0f);
  store_i64(DType::fp8e4m3, buf.data(), 0, 17);  // between 16 and 18: tie -> 16
  EXPECT_EQ(load_f32(DType::fp8e4m3, buf.data(), 0), 16.0f);
}

}  // namespace
}  // namespace seedchip::num
