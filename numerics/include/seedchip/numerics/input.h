// seedchip — what every parser of user files shares: error messages kept to
// one printable line, checked arithmetic for sizes built from user numbers,
// and strict JSON (bounded nesting, no duplicate keys).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace seedchip {

/// `s` as one printable line: control characters become \n, \t, \r or \xNN
/// (so quoted user text cannot break the one-line error form), and text past
/// `max` bytes is cut with "...".
std::string one_line(std::string_view s, size_t max = 2000);

/// True when `s` is well-formed UTF-8 (no overlong forms or surrogates).
bool valid_utf8(std::string_view s);

/// An error in a user's input. Its message is kept to one printable line
/// (one_line) whatever text it quotes; every parser's error class derives from it.
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& what) : std::runtime_error(one_line(what)) {}
};

/// a * b, or nothing when the product leaves int64 (or either is negative).
std::optional<int64_t> mul_checked(int64_t a, int64_t b);
/// a + b, or nothing when the sum leaves int64 (or either is negative).
std::optional<int64_t> add_checked(int64_t a, int64_t b);
/// The product of non-negative `factors` (a shape's element count, a size in
/// bytes), at most `limit`; throws InputError "`what`: ... exceeds ..." otherwise.
int64_t checked_product(std::span<const int64_t> factors, std::string_view what, int64_t limit = INT64_MAX);
int64_t checked_product(std::initializer_list<int64_t> factors, std::string_view what, int64_t limit = INT64_MAX);

/// The most nesting levels parse_json accepts (real configs use under 10).
inline constexpr int kMaxJsonDepth = 64;
/// Parses JSON `text` strictly: nesting deeper than kMaxJsonDepth and a key
/// given twice in one object are errors (numpy and Hugging Face readers would
/// otherwise disagree on which copy wins). Throws InputError "SOURCE: ...".
nlohmann::json parse_json(std::string_view text, std::string_view source);

}  // namespace seedchip
