// seedchip — shared input checks (see input.h).
#include "seedchip/numerics/input.h"

#include <set>
#include <vector>

#include <nlohmann/json.hpp>

namespace seedchip {

std::string one_line(std::string_view s, size_t max) {
  std::string out;
  out.reserve(std::min(s.size(), max) + 8);
  static const char* hex = "0123456789abcdef";
  for (size_t i = 0; i < s.size(); ++i) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    else out += static_cast<char>(c);
  }
  // a trailing newline is not part of the message
  while (out.size() >= 2 && out.ends_with("\\n")) out.resize(out.size() - 2);
  return out;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    int n = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (n < 0 || i + n >= s.size() + (n == 0)) return false;
    uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}

std::optional<int64_t> mul_checked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<int64_t> add_checked(int64_t a, int64_t b) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

int64_t checked_product(std::span<const int64_t> factors, std::string_view what, int64_t limit) {
  int64_t p = 1;
  for (int64_t f : factors) {
    if (f < 0) throw InputError(std::string(what) + ": a negative dimension (" + std::to_string(f) + ")");
    auto r = mul_checked(p, f);
    if (!r || *r > limit) {
      if (p != 0) throw InputError(std::string(what) + ": size exceeds the limit of " + std::to_string(limit));
      r = 0;
    }
    p = *r;
  }
  return p;
}

int64_t checked_product(std::initializer_list<int64_t> factors, std::string_view what, int64_t limit) {
  return checked_product(std::span<const int64_t>(factors.begin(), factors.size()), what, limit);
}

nlohmann::json parse_json(std::string_view text, std::string_view source) {
  using nlohmann::json;
  // keys seen per open object, innermost last
  std::vector<std::set<std::string>> keys;
  auto cb = [&](int depth, json::parse_event_t ev, json& parsed) {
    if (depth > kMaxJsonDepth)
      throw InputError(std::string(source) + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    if (ev == json::parse_event_t::object_start) keys.emplace_back();
    else if (ev == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (ev == json::parse_event_t::key && !keys.empty() && !keys.back().insert(parsed.get<std::string>()).second)
      throw InputError(std::string(source) + ": JSON key '" + parsed.get<std::string>() + "' given twice in one object");
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), cb);
  } catch (const json::exception& e) {
    throw InputError(std::string(source) + ": not valid JSON: " + e.what());
  }
}

}  // namespace seedchip
