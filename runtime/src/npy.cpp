// seedchip — .npy reader and writer (NumPy format spec, NEP 1).
#include "seedchip/runtime/npy.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

namespace seedchip::runtime {

namespace {

// Extracts the value of 'key' from the header dict as raw text.
std::string dict_value(const std::string& h, const std::string& key, const std::string& src) {
  auto k = h.find("'" + key + "'");
  if (k == std::string::npos) throw NpyError(fmt::format("{}: npy header has no '{}'", src, key));
  auto colon = h.find(':', k);
  if (colon == std::string::npos) throw NpyError(fmt::format("{}: malformed npy header", src));
  size_t i = colon + 1;
  while (i < h.size() && h[i] == ' ') ++i;
  size_t j = i;
  if (i < h.size() && h[i] == '(') {
    j = h.find(')', i);
    if (j == std::string::npos) throw NpyError(fmt::format("{}: malformed shape in npy header", src));
    return h.substr(i, j - i + 1);
  }
  if (i < h.size() && h[i] == '\'') {
    j = h.find('\'', i + 1);
    if (j == std::string::npos) throw NpyError(fmt::format("{}: malformed npy header", src));
    return h.substr(i + 1, j - i - 1);
  }
  while (j < h.size() && h[j] != ',' && h[j] != '}') ++j;
  return h.substr(i, j - i);
}

// numpy's rules for the header: one dict literal holding exactly the keys
// descr, fortran_order and shape, each once (numpy itself would read the last
// of a repeated key; refusing is safer than guessing).
void check_header_keys(const std::string& h, const std::string& src) {
  const size_t open = h.find_first_not_of(" "), close = h.find_last_not_of(" \n");
  if (open == std::string::npos || h[open] != '{' || h[close] != '}')
    throw NpyError(fmt::format("{}: npy header is not a dict literal", src));
  std::vector<std::string> keys;
  for (size_t i = open + 1; i < close; ++i) {
    if (h[i] != '\'' && h[i] != '"') continue;
    const size_t j = h.find(h[i], i + 1);
    if (j == std::string::npos || j > close) throw NpyError(fmt::format("{}: npy header has an unterminated string", src));
    size_t k = j + 1;
    while (k < close && h[k] == ' ') ++k;
    if (k < close && h[k] == ':') keys.push_back(h.substr(i + 1, j - i - 1));
    i = j;
  }
  for (size_t x = 0; x < keys.size(); ++x) {
    if (keys[x] != "descr" && keys[x] != "fortran_order" && keys[x] != "shape")
      throw NpyError(fmt::format("{}: npy header has key '{}' (numpy expects only descr, fortran_order and shape)", src, one_line(keys[x], 40)));
    for (size_t y = 0; y < x; ++y)
      if (keys[y] == keys[x]) throw NpyError(fmt::format("{}: npy header gives '{}' twice", src, keys[x]));
  }
}

int descr_size(const std::string& d) {
  if (d.size() != 3 || (d[0] != '<' && d[0] != '|' && d[0] != '=')) return 0;
  const char k = d[1];
  const int n = d[2] - '0';
  if (k == 'b' && n == 1) return 1;
  if ((k == 'i' || k == 'u') && (n == 1 || n == 2 || n == 4 || n == 8)) return n;
  if (k == 'f' && (n == 2 || n == 4 || n == 8)) return n;
  return 0;
}

}  // namespace

uint64_t NpyArray::elements() const {
  uint64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int NpyArray::item_size() const { return descr_size(descr); }

NpyArray parse_npy(const std::vector<uint8_t>& b, const std::string& src) {
  if (b.size() < 10 || std::memcmp(b.data(), "\x93NUMPY", 6) != 0)
    throw NpyError(fmt::format("{}: not a .npy file (bad magic)", src));
  const int major = b[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (b.size() < 12) throw NpyError(fmt::format("{}: truncated .npy header", src));
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8) | (static_cast<size_t>(b[10]) << 16) |
           (static_cast<size_t>(b[11]) << 24);
    hstart = 12;
  } else {
    throw NpyError(fmt::format("{}: unsupported .npy version {}", src, major));
  }
  if (hlen > b.size() - hstart) throw NpyError(fmt::format("{}: truncated .npy header", src));
  std::string h(reinterpret_cast<const char*>(b.data() + hstart), hlen);
  check_header_keys(h, src);
  NpyArray a;
  a.descr = dict_value(h, "descr", src);
  if (descr_size(a.descr) == 0)
    throw NpyError(fmt::format("{}: unsupported npy dtype '{}' (need little-endian bool/int/uint/float)", src,
                               a.descr));
  if (a.descr[0] == '=') a.descr[0] = descr_size(a.descr) == 1 ? '|' : '<';
  if (a.descr[2] == '1') a.descr[0] = '|';
  std::string fo = dict_value(h, "fortran_order", src);
  if (fo.find("False") == std::string::npos)
    throw NpyError(fmt::format("{}: Fortran-order arrays are not supported", src));
  std::string shape = dict_value(h, "shape", src);
  uint64_t elems = 1;
  for (size_t i = 1; i + 1 < shape.size();) {
    while (i + 1 < shape.size() && (shape[i] == ' ' || shape[i] == ',')) ++i;
    if (i + 1 >= shape.size()) break;
    size_t j = i;
    uint64_t v = 0;
    while (j + 1 < shape.size() && shape[j] >= '0' && shape[j] <= '9') {
      if (v > (1ull << 48)) throw NpyError(fmt::format("{}: shape too large", src));
      v = v * 10 + static_cast<uint64_t>(shape[j] - '0');
      ++j;
    }
    if (j == i) throw NpyError(fmt::format("{}: malformed shape '{}'", src, shape));
    a.shape.push_back(v);
    elems *= v;
    if (elems > (1ull << 40)) throw NpyError(fmt::format("{}: shape too large", src));
    i = j;
  }
  const uint64_t need = elems * static_cast<uint64_t>(descr_size(a.descr));
  const size_t data_at = hstart + hlen;
  if (b.size() - data_at != need)
    throw NpyError(fmt::format("{}: data is {} bytes, shape {} of '{}' needs {}", src, b.size() - data_at, shape,
                               a.descr, need));
  a.data.assign(b.begin() + static_cast<std::ptrdiff_t>(data_at), b.end());
  return a;
}

NpyArray read_npy(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw NpyError(fmt::format("{}: no such file", path));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw NpyError(fmt::format("{}: cannot open", path));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return parse_npy(bytes, path);
}

std::vector<uint8_t> serialize_npy(const NpyArray& a) {
  std::string shape = "(";
  for (size_t i = 0; i < a.shape.size(); ++i) shape += fmt::format("{}{}", a.shape[i], i + 1 < a.shape.size() || a.shape.size() == 1 ? "," : "");
  shape += ")";
  std::string h = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}", a.descr, shape);
  // Pad so that the data starts at a multiple of 64 bytes, header ends in '\n'.
  size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::vector<uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  out.push_back(static_cast<uint8_t>(h.size() & 0xFF));
  out.push_back(static_cast<uint8_t>(h.size() >> 8));
  out.insert(out.end(), h.begin(), h.end());
  out.insert(out.end(), a.data.begin(), a.data.end());
  return out;
}

void write_npy(const std::string& path, const NpyArray& a) {
  auto bytes = serialize_npy(a);
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw NpyError(fmt::format("{}: cannot write", path));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw NpyError(fmt::format("{}: write failed", path));
}

}  // namespace seedchip::runtime
