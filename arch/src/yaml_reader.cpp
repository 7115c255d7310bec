// seedchip — strict typed reader over yaml-cpp nodes (see yaml_reader.h).
#include "yaml_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

#include "seedchip/arch/chip.h"

namespace seedchip::arch::detail {

thread_local SchemaLog* schema_log = nullptr;

namespace {

// yaml-cpp gives plain (unquoted) scalars the non-specific tag "?" and quoted
// ones "!": a quoted "256" is a string, never a number. Explicitly tagged
// scalars (!!str 5) are not plain either.
bool is_quoted(const YAML::Node& n) { return n.Tag() == "!"; }
bool is_plain(const YAML::Node& n) { return n.Tag() == "?"; }

// Keeps error messages on one line and of bounded length.
std::string printable(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::string out;
  for (char c : s.substr(0, kMax)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      out += '?';
    } else {
      out += c;
    }
  }
  if (s.size() > kMax) out += "...";
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Decimal integer without sign or leading zeros (YAML 1.1 reads 010 as octal).
bool is_uint_literal(std::string_view s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), is_digit)) return false;
  return s.size() == 1 || s[0] != '0';
}

// [+-]? (D+ (. D*)? | . D+) ([eE] [+-]? D+)? — YAML's decimal int/float forms,
// excluding .inf/.nan, hex and octal.
bool is_number_literal(std::string_view s) {
  std::size_t i = 0;
  auto digits = [&] {
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t mantissa = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Integral bounds print in full ("16777216", not "1.67772e+07").
std::string fmt_bound(double v) {
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{}", v);
}

std::string describe_uint(uint64_t min) {
  if (min == 0) return "a non-negative integer";
  if (min == 1) return "a positive integer";
  return fmt::format("an integer >= {}", min);
}

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

}  // namespace

void throw_error(const std::string& source, const YAML::Mark& mark, const std::string& path,
                 const std::string& reason) {
  std::string msg = source;
  if (!mark.is_null()) msg += fmt::format(":{}:{}", mark.line + 1, mark.column + 1);  // 1-based
  msg += ": ";
  if (!path.empty()) msg += path + ": ";
  msg += reason;
  throw ChipError(msg);
}

std::string NumberRange::describe() const {
  return fmt::format("{}{}, {}{}", lo_open ? '(' : '[', fmt_bound(lo), fmt_bound(hi),
                     hi_open ? ')' : ']');
}

Field::Field(const std::string* source, std::string path, YAML::Node node, YAML::Mark mark)
    : source_(source), path_(std::move(path)), node_(std::move(node)), mark_(mark) {}

void Field::fail(const std::string& reason) const { throw_error(*source_, mark_, path_, reason); }

std::string Field::got() const {
  if (!node_.IsDefined() || node_.IsNull()) return "got nothing";
  if (node_.IsSequence()) return "got a list";
  if (node_.IsMap()) return "got a map";
  if (is_quoted(node_)) return fmt::format("got the quoted string '{}'", printable(node_.Scalar()));
  if (!is_plain(node_)) {
    return fmt::format("got '{}' tagged {}", printable(node_.Scalar()), printable(node_.Tag()));
  }
  return fmt::format("got '{}'", printable(node_.Scalar()));
}

uint64_t Field::as_uint(uint64_t min, uint64_t max) const {
  const std::string what = describe_uint(min);
  if (!node_.IsScalar() || !is_plain(node_) || !is_uint_literal(node_.Scalar())) {
    fail(fmt::format("must be {}, {}", what, got()));
  }
  const std::string& s = node_.Scalar();
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range || v > max) {
    fail(fmt::format("must be at most {}, {}", max, got()));
  }
  if (ec != std::errc() || ptr != s.data() + s.size())
    fail(fmt::format("must be {}, {}", what, got()));
  if (v < min) fail(fmt::format("must be {}, {}", what, got()));
  return v;
}

double Field::as_number(const NumberRange& range) const {
  const std::string what = fmt::format("must be a number in {}", range.describe());
  if (!node_.IsScalar() || !is_plain(node_) || !is_number_literal(node_.Scalar())) {
    fail(fmt::format("{}, {}", what, got()));
  }
  std::string_view s = node_.Scalar();
  if (s.front() == '+') s.remove_prefix(1);  // from_chars takes no '+'
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    fail(fmt::format("{}, {}", what, got()));
  }
  const bool lo_ok = range.lo_open ? v > range.lo : v >= range.lo;
  const bool hi_ok = range.hi_open ? v < range.hi : v <= range.hi;
  if (!lo_ok || !hi_ok) fail(fmt::format("{}, {}", what, got()));
  return v;
}

std::string Field::as_string() const {
  if (!node_.IsScalar()) fail(fmt::format("must be a string, {}", got()));
  return node_.Scalar();
}

MapReader Field::as_map(std::vector<std::string_view> allowed) const {
  return MapReader(*this, std::move(allowed), /*open=*/false);
}

MapReader Field::as_open_map() const { return MapReader(*this, {}, /*open=*/true); }

MapReader::MapReader(const Field& field, std::vector<std::string_view> allowed, bool open)
    : self_(field), allowed_(std::move(allowed)) {
  if (schema_log) {
    auto& keys = (*schema_log)[field.path()];
    if (open) keys = {"*"};
    else keys.assign(allowed_.begin(), allowed_.end());
  }
  const YAML::Node& node = field.node();
  if (!node.IsMap()) field.fail(fmt::format("must be a map, {}", field.got()));
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies, not references: yaml-cpp's iterator hands out a temporary pair.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      throw_error(self_.source(), key.Mark(), self_.path(), "keys must be plain strings");
    }
    const std::string& name = key.Scalar();
    const std::string path = join_path(self_.path(), name);
    auto dup = std::find(keys_.begin(), keys_.end(), name);
    if (dup != keys_.end()) {
      const YAML::Mark first = entries_[static_cast<std::size_t>(dup - keys_.begin())].mark();
      throw_error(self_.source(), key.Mark(), path,
                  fmt::format("duplicate key (first defined at line {})", first.line + 1));
    }
    if (!open && std::find(allowed_.begin(), allowed_.end(), name) == allowed_.end()) {
      throw_error(self_.source(), key.Mark(), path,
                  fmt::format("unknown key (expected one of: {})", fmt::join(allowed_, ", ")));
    }
    keys_.push_back(name);
    entries_.emplace_back(&self_.source(), path, value, key.Mark());
  }
}

const Field* MapReader::find(std::string_view key) const {
  // Asking for a key not declared allowed is a bug in the caller, not in the file.
  if (!allowed_.empty() && std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
    throw std::logic_error(
        fmt::format("MapReader: key '{}' not declared for '{}'", key, self_.path()));
  }
  auto it = std::find(keys_.begin(), keys_.end(), key);
  return it == keys_.end() ? nullptr : &entries_[static_cast<std::size_t>(it - keys_.begin())];
}

Field MapReader::required(std::string_view key) const {
  if (const Field* f = find(key)) return *f;
  throw_error(self_.source(), self_.mark(), join_path(self_.path(), key),
              "required key is missing");
}

std::optional<Field> MapReader::optional(std::string_view key) const {
  if (const Field* f = find(key)) return *f;
  return std::nullopt;
}

}  // namespace seedchip::arch::detail
