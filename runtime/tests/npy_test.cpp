// Tests for .npy I/O and packing tensors into the chip's dtypes.
#include <gtest/gtest.h>

#include <cstring>

#include "seedchip/numerics/convert.h"
#include "seedchip/runtime/npy.h"
#include "seedchip/runtime/tensor_io.h"

using namespace seedchip;
using namespace seedchip::runtime;

namespace {
std::string parse_error(const std::vector<uint8_t>& b) {
  try {
    parse_npy(b, "x.npy");
  } catch (const NpyError& e) {
    return e.what();
  }
  return "no error";
}
}  // namespace

TEST(Npy, RoundTripsShapesAndDtypes) {
  for (auto shape : {std::vector<uint64_t>{}, {7}, {2, 3}, {1, 0, 4}}) {
    NpyArray a;
    a.descr = "<f4";
    a.shape = shape;
    a.data.resize(a.elements() * 4, 0x3f);
    auto bytes = serialize_npy(a);
    EXPECT_EQ((bytes.size() - a.data.size()) % 64, 0u);  // data aligned as NumPy writes it
    NpyArray b = parse_npy(bytes, "mem");
    EXPECT_EQ(b.shape, a.shape);
    EXPECT_EQ(b.descr, a.descr);
    EXPECT_EQ(b.data, a.data);
  }
}

TEST(Npy, MalformedFilesGiveClearErrors) {
  EXPECT_EQ(parse_error({1, 2, 3}), "x.npy: not a .npy file (bad magic)");
  NpyArray a;
  a.descr = "<f4";
  a.shape = {4};
  a.data.resize(16);
  auto good = serialize_npy(a);
  auto trunc = good;
  trunc.resize(trunc.size() - 3);
  EXPECT_EQ(parse_error(trunc), "x.npy: data is 13 bytes, shape (4,) of '<f4' needs 16");
  auto big = good;
  auto pos = std::string(big.begin(), big.end()).find("<f4");
  big[pos] = '>';
  EXPECT_EQ(parse_error(big), "x.npy: unsupported npy dtype '>f4' (need little-endian bool/int/uint/float)");
  auto fo = std::string(good.begin(), good.end());
  fo.replace(fo.find("False"), 5, "True ");
  EXPECT_EQ(parse_error(std::vector<uint8_t>(fo.begin(), fo.end())), "x.npy: Fortran-order arrays are not supported");
}

TEST(TensorIo, PacksAndChecksAgainstTheSymbol) {
  isa::Symbol s{"w", isa::SymbolKind::input, DType::bf16, {2, 2}, 0};
  NpyArray a;
  a.descr = "<f4";
  a.shape = {2, 2};
  std::vector<float> v = {1.0f, 1.00390625f, -3.0f, 1e30f};  // 1+2^-8 ties to even -> 1.0
  a.data.resize(16);
  std::memcpy(a.data.data(), v.data(), 16);
  auto packed = pack_symbol(s, a, "w.npy");
  ASSERT_EQ(packed.size(), 8u);
  EXPECT_EQ(num::load_f32(DType::bf16, packed.data(), 1), 1.0f);
  NpyArray back = unpack_symbol(s, packed);
  EXPECT_EQ(back.descr, "<f4");
  EXPECT_EQ(back.shape, s.dims);

  a.shape = {4};
  try {
    pack_symbol(s, a, "w.npy");
    FAIL();
  } catch (const NpyError& e) {
    EXPECT_STREQ(e.what(), "w.npy: shape [4] does not match tensor 'w' of shape [2,2]");
  }
  a.shape = {2, 2};
  a.descr = "<i4";
  try {
    pack_symbol(s, a, "w.npy");
    FAIL();
  } catch (const NpyError& e) {
    EXPECT_STREQ(e.what(), "w.npy: npy dtype '<i4' does not match tensor 'w' of dtype bf16 (expects '<f4' or <u2 raw bits)");
  }
  isa::Symbol q{"q", isa::SymbolKind::input, DType::int4, {3}, 0};
  NpyArray i4;
  i4.descr = "|i1";
  i4.shape = {3};
  i4.data = {7, static_cast<uint8_t>(-8), 3};
  auto p4 = pack_symbol(q, i4, "q.npy");
  EXPECT_EQ(p4, (std::vector<uint8_t>{0x87, 0x03}));
  EXPECT_EQ(unpack_symbol(q, p4).data, i4.data);
  i4.data[1] = 9;
  EXPECT_THROW(pack_symbol(q, i4, "q.npy"), NpyError);
}
