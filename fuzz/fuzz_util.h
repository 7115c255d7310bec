// seedchip — what every fuzz target shares: the contract a rejection must
// keep (one line that names the input), and a scratch file for the parsers
// that read paths.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace seedchip::fuzz {

/// Aborts (a finding) when a rejection breaks the contract: the message must
/// be one non-empty line that names the input (`source`, or its file name).
inline void check_rejection(const std::exception& e, std::string_view source) {
  const std::string_view m = e.what();
  auto fail = [&](const char* why) {
    std::fprintf(stderr, "fuzz: rejection %s: \"%.*s\"\n", why, static_cast<int>(m.size()), m.data());
    std::abort();
  };
  if (m.empty()) fail("has an empty message");
  if (m.find('\n') != std::string_view::npos) fail("is more than one line");
  std::string_view base = source.substr(source.find_last_of('/') + 1);
  if (m.find(source) == std::string_view::npos && m.find(base) == std::string_view::npos) fail("does not name the input");
}

/// Aborts (a finding) with `why` when `ok` is false: accepted input whose
/// results break an invariant.
inline void require(bool ok, const char* why) {
  if (!ok) {
    std::fprintf(stderr, "fuzz: accepted input breaks an invariant: %s\n", why);
    std::abort();
  }
}

/// A file in a per-process scratch folder holding the current input, for the
/// parsers that take a path; `name` gives its extension.
inline std::string scratch_file(const std::string& name, const uint8_t* data, size_t size) {
  static const std::string dir = [] {
    const char* t = std::getenv("TMPDIR");
    std::string d = std::string(t && *t ? t : "/tmp") + "/seedchip-fuzz-" + std::to_string(getpid());
    std::string cmd = "mkdir -p '" + d + "'";
    if (std::system(cmd.c_str()) != 0) std::abort();
    return d;
  }();
  std::string path = dir + "/" + name;
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!f) std::abort();
  return path;
}

}  // namespace seedchip::fuzz
