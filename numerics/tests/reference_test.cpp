// Compares the conversions bit for bit with references written by
// gen_reference.py (torch and numpy). The reference directory comes from the
// environment variable SEEDCHIP_NUMERICS_REF_DIR (set by ctest's fixture).
#include "seedchip/numerics/convert.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <type_traits>
#include <vector>

namespace seedchip::num {
namespace {

/// Reads `name` from the reference directory as little-endian elements of T.
template <typename T>
std::vector<T> read_ref(const std::string& name) {
  const char* dir = std::getenv("SEEDCHIP_NUMERICS_REF_DIR");
  if (dir == nullptr) return {};
  std::ifstream in(std::string(dir) + "/" + name, std::ios::binary);
  if (!in) return {};
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<T> out(bytes.size() / sizeof(T));
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data()) + i * sizeof(T);
    using U = std::make_unsigned_t<T>;
    U v = 0;
    for (std::size_t k = 0; k < sizeof(T); ++k) v = static_cast<U>(v | (static_cast<U>(p[k]) << (8 * k)));
    out[i] = static_cast<T>(v);
  }
  return out;
}

class Reference : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { inputs_ = read_ref<uint32_t>("input.u32"); }
  void SetUp() override {
    if (std::getenv("SEEDCHIP_NUMERICS_REF_DIR") == nullptr) {
      GTEST_SKIP() << "SEEDCHIP_NUMERICS_REF_DIR not set (run through ctest)";
    }
    ASSERT_GT(inputs_.size(), 1000000u) << "missing or short input.u32";
  }
  /// Loads a reference file and checks it has one entry per input.
  template <typename T>
  std::vector<T> ref(const std::string& name) {
    std::vector<T> r = read_ref<T>(name);
    EXPECT_EQ(r.size(), inputs_.size()) << name;
    return r;
  }
  static float input(std::size_t i) { return std::bit_cast<float>(inputs_[i]); }
  static inline std::vector<uint32_t> inputs_;
};

/// Compares a 16-bit float conversion with a reference; NaN payloads and
/// signs may differ (torch's bf16 NaN is 0x7FC0 or 0xFFFF whatever the
/// input's sign), everything else must match bit for bit.
void compare16(const std::vector<uint32_t>& in, const std::vector<uint16_t>& want, uint16_t (*conv)(float),
               float (*decode)(uint16_t), const char* what) {
  std::size_t bad = 0, nans = 0;
  for (std::size_t i = 0; i < in.size() && i < want.size(); ++i) {
    const float x = std::bit_cast<float>(in[i]);
    const uint16_t got = conv(x);
    if (std::isnan(x)) {
      ++nans;
      if (!std::isnan(decode(got)) || !std::isnan(decode(want[i]))) {
        if (++bad <= 10) ADD_FAILURE() << what << ": NaN input " << std::hex << in[i] << " got " << got << " ref " << want[i];
      }
      continue;
    }
    if (got != want[i] && ++bad <= 10) {
      ADD_FAILURE() << what << ": input " << std::hex << in[i] << " (" << std::dec << x << ") got 0x" << std::hex << got
                    << " ref 0x" << want[i];
    }
  }
  EXPECT_EQ(bad, 0u) << what;
  EXPECT_GT(nans, 0u) << what << ": the sample should contain NaNs";
  std::printf("%s: %zu values compared (%zu NaN), %zu mismatches\n", what, in.size(), nans, bad);
}

TEST_F(Reference, Bf16MatchesTorch) {
  compare16(inputs_, ref<uint16_t>("torch_bf16.u16"), fp32_to_bf16, bf16_to_fp32, "bf16 vs torch");
}

TEST_F(Reference, Fp16MatchesTorch) {
  compare16(inputs_, ref<uint16_t>("torch_fp16.u16"), fp32_to_fp16, fp16_to_fp32, "fp16 vs torch");
}

TEST_F(Reference, Fp16MatchesNumpy) {
  compare16(inputs_, ref<uint16_t>("numpy_fp16.u16"), fp32_to_fp16, fp16_to_fp32, "fp16 vs numpy");
}

TEST_F(Reference, IntegersMatchNumpyRint) {
  const auto i8 = ref<int8_t>("numpy_int8.i8");
  const auto u8 = ref<uint8_t>("numpy_uint8.u8");
  const auto i32 = ref<int32_t>("numpy_int32.i32");
  const auto i4 = ref<int8_t>("numpy_int4.i8");
  ASSERT_FALSE(HasFailure());
  std::size_t bad = 0;
  for (std::size_t i = 0; i < inputs_.size(); ++i) {
    const float x = input(i);
    const bool ok = fp32_to_int8(x) == i8[i] && fp32_to_uint8(x) == u8[i] && fp32_to_int32(x) == i32[i] &&
                    fp32_to_int4(x) == i4[i];
    if (!ok && ++bad <= 10) {
      ADD_FAILURE() << "input " << std::hex << inputs_[i] << std::dec << " (" << x << "): got " << int{fp32_to_int8(x)}
                    << "/" << int{fp32_to_uint8(x)} << "/" << fp32_to_int32(x) << "/" << int{fp32_to_int4(x)} << " ref "
                    << int{i8[i]} << "/" << int{u8[i]} << "/" << i32[i] << "/" << int{i4[i]};
    }
  }
  EXPECT_EQ(bad, 0u);
}

}  // namespace
}  // namespace seedchip::num
