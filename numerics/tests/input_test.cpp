// Tests of the shared input checks: one-line messages, checked sizes, strict JSON.
#include "seedchip/numerics/input.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace seedchip {
namespace {

TEST(OneLine, EscapesControlCharactersAndCuts) {
  EXPECT_EQ(one_line("a\nb\tc\rd\x01"), "a\\nb\\tc\\rd\\x01");
  EXPECT_EQ(one_line("msg\n"), "msg");
  EXPECT_EQ(one_line("abcdef", 3), "abc...");
  EXPECT_EQ(one_line("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 text is kept
  InputError e("file.yaml: bad value 'x\ny'");
  EXPECT_STREQ(e.what(), "file.yaml: bad value 'x\\ny'");
}

TEST(CheckedArithmetic, DetectsOverflowAndLimits) {
  EXPECT_EQ(mul_checked(3, 4), 12);
  EXPECT_FALSE(mul_checked(int64_t{1} << 40, int64_t{1} << 30));
  EXPECT_FALSE(mul_checked(-1, 2));
  EXPECT_FALSE(add_checked(INT64_MAX, 1));
  EXPECT_EQ(checked_product({2, 3, 4}, "t"), 24);
  EXPECT_EQ(checked_product({0, INT64_MAX, INT64_MAX}, "t"), 0);  // an empty tensor is empty, not an overflow
  EXPECT_THROW(checked_product({int64_t{1} << 32, int64_t{1} << 32}, "t"), InputError);
  EXPECT_THROW(checked_product({10, 10}, "t", 99), InputError);
  EXPECT_THROW(checked_product({2, -1}, "t"), InputError);
  try {
    checked_product({int64_t{1} << 62, 4}, "x.npy: shape");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("x.npy: shape"), std::string::npos);
  }
}

TEST(Utf8, AcceptsTextRejectsMalformed) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  EXPECT_FALSE(valid_utf8("\x95"));          // a lone continuation byte
  EXPECT_FALSE(valid_utf8("\xc3"));          // truncated
  EXPECT_FALSE(valid_utf8("\xc0\xaf"));      // overlong '/'
  EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));  // a surrogate
}

TEST(StrictJson, RejectsDuplicateKeysAndDeepNesting) {
  EXPECT_EQ(parse_json(R"({"a": {"b": [1, 2]}, "c": 3})", "f.json")["c"], 3);
  EXPECT_EQ(parse_json(R"([{"a": 1}, {"a": 2}])", "f.json").size(), 2u);  // the same key in two objects is fine
  try {
    parse_json(R"({"a": 1, "b": {"x": 1, "x": 2}})", "f.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.json: JSON key 'x' given twice in one object");
  }
  std::string deep(100000, '[');
  try {
    parse_json(deep, "deep.json");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("deep.json: JSON nested deeper than 64"), std::string::npos);
  }
  try {
    parse_json("{\"a\": tru\ne}", "bad.json");
    FAIL();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.rfind("bad.json: not valid JSON", 0), 0u);
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
}

}  // namespace
}  // namespace seedchip
