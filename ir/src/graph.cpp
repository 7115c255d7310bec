// seedchip — graph IR: values, nodes, host tensors, text form.
#include "seedchip/ir/graph.h"

#include "seedchip/numerics/input.h"
#include "seedchip/ir/raw.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <set>

#include <fmt/format.h>
#include <sys/mman.h>

#include "seedchip/numerics/convert.h"

namespace seedchip::ir {

namespace {

struct ElemInfo {
  ElemType t;
  std::string_view name;
  int size;
  bool is_float;
};

constexpr ElemInfo kElems[] = {
    {ElemType::f32, "f32", 4, true},     {ElemType::f64, "f64", 8, true},
    {ElemType::f16, "f16", 2, true},     {ElemType::bf16, "bf16", 2, true},
    {ElemType::f8e4m3, "f8e4m3", 1, true}, {ElemType::f8e5m2, "f8e5m2", 1, true},
    {ElemType::i8, "i8", 1, false},      {ElemType::u8, "u8", 1, false},
    {ElemType::i16, "i16", 2, false},    {ElemType::u16, "u16", 2, false},
    {ElemType::i32, "i32", 4, false},    {ElemType::u32, "u32", 4, false},
    {ElemType::i64, "i64", 8, false},    {ElemType::u64, "u64", 8, false},
    {ElemType::boolean, "bool", 1, false},
};

const ElemInfo& info(ElemType t) { return kElems[static_cast<int>(t)]; }

using raw::rd;
using raw::wr;

bool simple_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' || c == '/' || c == '-';
  });
}

std::string quote(std::string_view s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') r += '\\';
    if (c == '\n') {
      r += "\\n";
      continue;
    }
    r += c;
  }
  return r + "\"";
}

std::string vname(std::string_view s) { return "%" + (simple_name(s) ? std::string(s) : quote(s)); }

std::string fmt_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string fmt_shape(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}

std::string fmt_elems(const HostTensor& t, bool full) {
  const int64_t n = t.elements();
  if (!full && n > 16) {
    // digest: deterministic summary for dumps of large constants
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += t.get(i);
    uint64_t h = 1469598103934665603ull;
    for (uint8_t b : t.data) h = (h ^ b) * 1099511628211ull;
    return fmt::format("<{} elements, sum {}, fnv {:016x}>", n, fmt_double(sum), h);
  }
  std::string r = "[";
  for (int64_t i = 0; i < n; ++i) {
    if (i) r += ",";
    r += elem_is_float(t.type) ? fmt_double(t.get(i)) : fmt::format("{}", t.get_int(i));
  }
  return r + "]";
}

std::string fmt_attr(const Attr& a, bool full) {
  struct V {
    bool full;
    std::string operator()(int64_t v) const { return fmt::format("{}", v); }
    std::string operator()(double v) const { return fmt_double(v); }
    std::string operator()(const std::string& v) const { return quote(v); }
    std::string operator()(const std::vector<int64_t>& v) const {
      std::string r = "ints[";
      for (size_t i = 0; i < v.size(); ++i) r += fmt::format("{}{}", i ? "," : "", v[i]);
      return r + "]";
    }
    std::string operator()(const std::vector<double>& v) const {
      std::string r = "floats[";
      for (size_t i = 0; i < v.size(); ++i) r += (i ? "," : "") + fmt_double(v[i]);
      return r + "]";
    }
    std::string operator()(const std::vector<std::string>& v) const {
      std::string r = "strings[";
      for (size_t i = 0; i < v.size(); ++i) r += (i ? "," : "") + quote(v[i]);
      return r + "]";
    }
    std::string operator()(const HostTensor& t) const {
      return fmt::format("tensor<{}{}>{}", elem_name(t.type), fmt_shape(t.shape), fmt_elems(t, full));
    }
  };
  return std::visit(V{full}, a);
}

}  // namespace

std::string_view elem_name(ElemType t) { return info(t).name; }
int elem_size(ElemType t) { return info(t).size; }
bool elem_is_float(ElemType t) { return info(t).is_float; }
std::optional<ElemType> parse_elem(std::string_view s) {
  for (const auto& e : kElems)
    if (e.name == s) return e.t;
  return std::nullopt;
}

namespace {
constexpr size_t kMapAtLeast = size_t{1} << 20;
}  // namespace

void* zeroed_alloc(size_t bytes) {
  if (bytes < kMapAtLeast) {
    void* p = std::calloc(bytes ? bytes : 1, 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // Large tensors are written whole when they are written at all: 2 MiB
  // pages fault 512x less often (only advice; a no-op without THP).
  madvise(p, bytes, MADV_HUGEPAGE);
  return p;
}

void zeroed_free(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes < kMapAtLeast) std::free(p);
  else munmap(p, bytes);
}

std::vector<uint8_t> zeroed_bytes(size_t n, size_t capacity) {
  std::vector<uint8_t> v;
  const size_t cap = std::max(n, capacity);
  v.reserve(cap);
  if (cap >= kMapAtLeast) {
    // the 2 MiB-aligned pages inside the buffer (THP needs aligned ones)
    const auto p = reinterpret_cast<uintptr_t>(v.data()), huge = uintptr_t{2} << 20;
    const uintptr_t b = (p + huge - 1) & ~(huge - 1), e = (p + cap) & ~(huge - 1);
    if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);
  }
  v.resize(n);
  return v;
}

HostTensor::HostTensor(ElemType t, std::vector<int64_t> s) : type(t), shape(std::move(s)) {
  data = Bytes(static_cast<size_t>(elements()) * elem_size(t));  // zero-filled, untouched
}

int64_t HostTensor::elements() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

double HostTensor::get(int64_t i) const {
  const uint8_t* p = data.data() + i * elem_size(type);
  switch (type) {
    case ElemType::f32: return rd<float>(p);
    case ElemType::f64: return rd<double>(p);
    case ElemType::f16: return num::fp16_to_fp32(rd<uint16_t>(p));
    case ElemType::bf16: return num::bf16_to_fp32(rd<uint16_t>(p));
    case ElemType::f8e4m3: return num::e4m3_to_fp32(*p);
    case ElemType::f8e5m2: return num::e5m2_to_fp32(*p);
    case ElemType::i8: return rd<int8_t>(p);
    case ElemType::u8: return rd<uint8_t>(p);
    case ElemType::i16: return rd<int16_t>(p);
    case ElemType::u16: return rd<uint16_t>(p);
    case ElemType::i32: return rd<int32_t>(p);
    case ElemType::u32: return rd<uint32_t>(p);
    case ElemType::i64: return static_cast<double>(rd<int64_t>(p));
    case ElemType::u64: return static_cast<double>(rd<uint64_t>(p));
    case ElemType::boolean: return *p ? 1 : 0;
  }
  return 0;
}

int64_t HostTensor::get_int(int64_t i) const {
  const uint8_t* p = data.data() + i * elem_size(type);
  switch (type) {
    case ElemType::i64: return rd<int64_t>(p);
    case ElemType::u64: return static_cast<int64_t>(rd<uint64_t>(p));
    default: {
      double v = get(i);
      if (std::isnan(v)) return 0;
      if (v >= 9.2e18) return INT64_MAX;
      if (v <= -9.2e18) return INT64_MIN;
      return static_cast<int64_t>(v);
    }
  }
}

void HostTensor::set(int64_t i, double v) {
  uint8_t* p = data.data() + i * elem_size(type);
  auto ival = [&]() -> int64_t {
    if (std::isnan(v)) return 0;
    if (v >= 9.2e18) return INT64_MAX;
    if (v <= -9.2e18) return INT64_MIN;
    return static_cast<int64_t>(v);
  };
  switch (type) {
    case ElemType::f32: wr<float>(p, static_cast<float>(v)); return;
    case ElemType::f64: wr<double>(p, v); return;
    case ElemType::f16: wr<uint16_t>(p, num::fp32_to_fp16(static_cast<float>(v))); return;
    case ElemType::bf16: wr<uint16_t>(p, num::fp32_to_bf16(static_cast<float>(v))); return;
    case ElemType::f8e4m3: *p = num::fp32_to_e4m3(static_cast<float>(v)); return;
    case ElemType::f8e5m2: *p = num::fp32_to_e5m2(static_cast<float>(v)); return;
    case ElemType::i8: wr<int8_t>(p, static_cast<int8_t>(ival())); return;
    case ElemType::u8: wr<uint8_t>(p, static_cast<uint8_t>(ival())); return;
    case ElemType::i16: wr<int16_t>(p, static_cast<int16_t>(ival())); return;
    case ElemType::u16: wr<uint16_t>(p, static_cast<uint16_t>(ival())); return;
    case ElemType::i32: wr<int32_t>(p, static_cast<int32_t>(ival())); return;
    case ElemType::u32: wr<uint32_t>(p, static_cast<uint32_t>(ival())); return;
    case ElemType::i64: wr<int64_t>(p, ival()); return;
    case ElemType::u64: wr<uint64_t>(p, static_cast<uint64_t>(ival())); return;
    case ElemType::boolean: *p = v != 0; return;
  }
}

void HostTensor::set_int(int64_t i, int64_t v) {
  uint8_t* p = data.data() + i * elem_size(type);
  switch (type) {
    case ElemType::i64: wr<int64_t>(p, v); return;
    case ElemType::u64: wr<uint64_t>(p, static_cast<uint64_t>(v)); return;
    case ElemType::i32: wr<int32_t>(p, static_cast<int32_t>(v)); return;
    case ElemType::u32: wr<uint32_t>(p, static_cast<uint32_t>(v)); return;
    default: set(i, static_cast<double>(v));
  }
}

int64_t Value::elements() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int64_t Node::attr_int(const std::string& k, int64_t def) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return def;
  if (auto* v = std::get_if<int64_t>(&it->second)) return *v;
  if (auto* d = std::get_if<double>(&it->second)) return static_cast<int64_t>(*d);
  throw IrError(fmt::format("node '{}' ({}): attribute '{}' is not an integer", name, op, k));
}

double Node::attr_float(const std::string& k, double def) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return def;
  if (auto* v = std::get_if<double>(&it->second)) return *v;
  if (auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  throw IrError(fmt::format("node '{}' ({}): attribute '{}' is not a float", name, op, k));
}

std::string Node::attr_str(const std::string& k, const std::string& def) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return def;
  if (auto* v = std::get_if<std::string>(&it->second)) return *v;
  throw IrError(fmt::format("node '{}' ({}): attribute '{}' is not a string", name, op, k));
}

std::vector<int64_t> Node::attr_ints(const std::string& k, const std::vector<int64_t>& def) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return def;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto* i = std::get_if<int64_t>(&it->second)) return {*i};
  throw IrError(fmt::format("node '{}' ({}): attribute '{}' is not an integer list", name, op, k));
}

std::vector<double> Node::attr_floats(const std::string& k, const std::vector<double>& def) const {
  auto it = attrs.find(k);
  if (it == attrs.end()) return def;
  if (auto* v = std::get_if<std::vector<double>>(&it->second)) return *v;
  if (auto* v = std::get_if<std::vector<int64_t>>(&it->second)) return {v->begin(), v->end()};
  if (auto* d = std::get_if<double>(&it->second)) return {*d};
  throw IrError(fmt::format("node '{}' ({}): attribute '{}' is not a float list", name, op, k));
}

int Graph::add_value(Value v) {
  values.push_back(std::move(v));
  return static_cast<int>(values.size() - 1);
}

int Graph::find_value(std::string_view n) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == n) return static_cast<int>(i);
  return -1;
}

void Graph::compact() {
  std::vector<char> used(values.size(), 0);
  for (int i : inputs) used[i] = 1;
  for (int o : outputs) used[o] = 1;
  for (const auto& n : nodes) {
    for (int i : n.inputs)
      if (i >= 0) used[i] = 1;
    for (int o : n.outputs)
      if (o >= 0) used[o] = 1;
  }
  std::vector<int> remap(values.size(), -1);
  std::vector<Value> kept;
  for (size_t i = 0; i < values.size(); ++i)
    if (used[i]) {
      remap[i] = static_cast<int>(kept.size());
      kept.push_back(std::move(values[i]));
    }
  values = std::move(kept);
  auto fix = [&](std::vector<int>& v) {
    for (int& i : v)
      if (i >= 0) i = remap[i];
  };
  fix(inputs);
  fix(outputs);
  for (auto& n : nodes) {
    fix(n.inputs);
    fix(n.outputs);
  }
}

void Graph::verify() const {
  const int nv = static_cast<int>(values.size());
  // names travel into JSON metadata and reports: they must be text
  for (const auto& v : values)
    if (!valid_utf8(v.name)) throw IrError(fmt::format("value '{}': name is not valid UTF-8", one_line(v.name, 80)));
  for (const auto& n : nodes)
    if (!valid_utf8(n.name)) throw IrError(fmt::format("node '{}': name is not valid UTF-8", one_line(n.name, 80)));
  // every size is computed in int64 later: a value must fit in 2^48 bytes (256 TiB)
  for (const auto& v : values) {
    std::vector<int64_t> f = v.shape;
    f.push_back(std::max(elem_size(v.type), 1));
    try {
      checked_product(f, "value '" + v.name + "'", int64_t{1} << 48);
    } catch (const InputError& e) {
      throw IrError(e.what());
    }
  }
  std::vector<char> defined(values.size(), 0);
  for (int i : inputs) {
    if (i < 0 || i >= nv) throw IrError("graph input index out of range");
    defined[i] = 1;
  }
  for (int i = 0; i < nv; ++i)
    if (values[i].is_const()) {
      if (values[i].data->elements() != values[i].elements() || values[i].data->type != values[i].type)
        throw IrError(fmt::format("constant '{}' data does not match its type/shape", values[i].name));
      defined[i] = 1;
    }
  for (const auto& n : nodes) {
    for (int i : n.inputs) {
      if (i >= nv) throw IrError(fmt::format("node '{}': input index out of range", n.name));
      if (i >= 0 && !defined[i])
        throw IrError(fmt::format("node '{}' ({}): input '{}' is used before it is defined", n.name, n.op, values[i].name));
    }
    for (int o : n.outputs) {
      if (o < 0 || o >= nv) throw IrError(fmt::format("node '{}': output index out of range", n.name));
      if (defined[o]) throw IrError(fmt::format("node '{}' ({}): value '{}' is defined twice", n.name, n.op, values[o].name));
      defined[o] = 1;
    }
  }
  for (int o : outputs) {
    if (o < 0 || o >= nv) throw IrError("graph output index out of range");
    if (!defined[o]) throw IrError(fmt::format("graph output '{}' is never defined", values[o].name));
  }
}

std::string print(const Graph& g, bool full) {
  std::string out = fmt::format("graph {} {{\n", quote(g.name));
  auto type_of = [&](int i) {
    const Value& v = g.values[i];
    return fmt::format("{}{}", elem_name(v.type), fmt_shape(v.shape));
  };
  for (int i : g.inputs) out += fmt::format("  input {} : {}\n", vname(g.values[i].name), type_of(i));
  for (size_t i = 0; i < g.values.size(); ++i)
    if (g.values[i].is_const())
      out += fmt::format("  const {} : {} = {}\n", vname(g.values[i].name), type_of(static_cast<int>(i)),
                         fmt_elems(*g.values[i].data, full));
  for (const auto& n : g.nodes) {
    out += "  ";
    for (size_t k = 0; k < n.outputs.size(); ++k)
      out += fmt::format("{}{} : {}", k ? ", " : "", vname(g.values[n.outputs[k]].name), type_of(n.outputs[k]));
    out += fmt::format(" = {}(", n.op);
    for (size_t k = 0; k < n.inputs.size(); ++k)
      out += (k ? ", " : "") + (n.inputs[k] < 0 ? std::string("_") : vname(g.values[n.inputs[k]].name));
    out += ")";
    if (!n.attrs.empty()) {
      out += " {";
      bool first = true;
      for (const auto& [k, a] : n.attrs) {
        out += fmt::format("{}{}={}", first ? "" : ", ", k, fmt_attr(a, full));
        first = false;
      }
      out += "}";
    }
    out += fmt::format(" name={}", quote(n.name));
    if (!n.domain.empty()) out += fmt::format(" domain={}", quote(n.domain));
    out += fmt::format(" opset={}\n", n.opset);
  }
  for (int o : g.outputs) out += fmt::format("  output {}\n", vname(g.values[o].name));
  return out + "}\n";
}

// ---------------------------------------------------------------- parsing

namespace {

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& src) : s_(text), src_(src) {}
  /// Characters not yet read.
  size_t remaining() const { return s_.size() - pos_; }

  [[noreturn]] void fail(const std::string& m) const {
    throw IrError(fmt::format("{}:{}: {}", src_, line_, m));
  }
  void skip_ws() {
    while (pos_ < s_.size()) {
      char c = s_[pos_];
      if (c == '\n') ++line_;
      if (c == ';') {  // comment to end of line
        while (pos_ < s_.size() && s_[pos_] != '\n') ++pos_;
        continue;
      }
      if (!std::isspace(static_cast<unsigned char>(c))) break;
      ++pos_;
    }
  }
  bool eof() {
    skip_ws();
    return pos_ >= s_.size();
  }
  char peek() {
    skip_ws();
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }
  bool accept(char c) {
    if (peek() == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!accept(c)) fail(fmt::format("expected '{}'", c));
  }
  bool accept_word(std::string_view w) {
    skip_ws();
    if (s_.compare(pos_, w.size(), w) == 0) {
      size_t e = pos_ + w.size();
      if (e >= s_.size() || !(std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) {
        pos_ = e;
        return true;
      }
    }
    return false;
  }
  std::string word() {
    skip_ws();
    size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '_' || s_[pos_] == '.'))
      ++pos_;
    if (b == pos_) fail("expected a word");
    return s_.substr(b, pos_ - b);
  }
  std::string string_lit() {
    skip_ws();
    if (pos_ >= s_.size() || s_[pos_] != '"') fail("expected a string");
    ++pos_;
    std::string r;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c == '\\' && pos_ < s_.size()) {
        c = s_[pos_++];
        if (c == 'n') c = '\n';
      }
      r += c;
    }
    if (pos_ >= s_.size()) fail("unterminated string");
    ++pos_;
    return r;
  }
  std::string value_name() {
    expect('%');
    if (pos_ < s_.size() && s_[pos_] == '"') return string_lit();
    size_t b = pos_;
    while (pos_ < s_.size() && simple_name(std::string_view(&s_[pos_], 1))) ++pos_;
    if (b == pos_) fail("expected a value name after '%'");
    return s_.substr(b, pos_ - b);
  }
  // number token (int or float, nan/inf)
  std::string number() {
    skip_ws();
    size_t b = pos_;
    while (pos_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '-' ||
                                s_[pos_] == '+' || s_[pos_] == '.'))
      ++pos_;
    if (b == pos_) fail("expected a number");
    return s_.substr(b, pos_ - b);
  }

 private:
  const std::string& s_;
  const std::string& src_;
  size_t pos_ = 0;
  int line_ = 1;
};

double to_double(Lexer& lx, const std::string& t) {
  if (t == "nan") return NAN;
  if (t == "inf") return INFINITY;
  if (t == "-inf") return -INFINITY;
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) lx.fail(fmt::format("'{}' is not a number", t));
  return v;
}

int64_t to_int(Lexer& lx, const std::string& t) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || p != t.data() + t.size()) lx.fail(fmt::format("'{}' is not an integer", t));
  return v;
}

std::vector<int64_t> parse_shape(Lexer& lx) {
  std::vector<int64_t> s;
  lx.expect('[');
  if (lx.accept(']')) return s;
  do s.push_back(to_int(lx, lx.number()));
  while (lx.accept(','));
  lx.expect(']');
  return s;
}

void parse_type(Lexer& lx, ElemType& t, std::vector<int64_t>& shape) {
  std::string w = lx.word();
  auto e = parse_elem(w);
  if (!e) lx.fail(fmt::format("unknown element type '{}'", w));
  t = *e;
  shape = parse_shape(lx);
}

// A constant's declared size, refused before allocating when the text left
// cannot hold that many values (each needs at least a digit and a comma).
void check_const_size(Lexer& lx, const std::vector<int64_t>& shape) {
  int64_t n = 0;
  try {
    n = checked_product(shape, "constant", int64_t{1} << 40);
  } catch (const InputError& e) {
    lx.fail(e.what());
  }
  if (static_cast<uint64_t>(n) > lx.remaining() / 2 + 1)
    lx.fail(fmt::format("constant declares {} elements but only {} characters of the file are left", n, lx.remaining()));
}

void parse_elems(Lexer& lx, HostTensor& t) {
  if (lx.peek() == '<') lx.fail("constant printed as a digest cannot be parsed (print with full=true)");
  lx.expect('[');
  int64_t i = 0;
  if (!lx.accept(']')) {
    do {
      std::string tok = lx.number();
      if (i >= t.elements()) lx.fail("too many elements for the constant's shape");
      if (elem_is_float(t.type)) t.set(i, to_double(lx, tok));
      else t.set_int(i, to_int(lx, tok));
      ++i;
    } while (lx.accept(','));
    lx.expect(']');
  }
  if (i != t.elements()) lx.fail(fmt::format("constant has {} elements, its shape needs {}", i, t.elements()));
}

Attr parse_attr(Lexer& lx) {
  char c = lx.peek();
  if (c == '"') return lx.string_lit();
  if (lx.accept_word("ints")) {
    std::vector<int64_t> v;
    lx.expect('[');
    if (!lx.accept(']')) {
      do v.push_back(to_int(lx, lx.number()));
      while (lx.accept(','));
      lx.expect(']');
    }
    return v;
  }
  if (lx.accept_word("floats")) {
    std::vector<double> v;
    lx.expect('[');
    if (!lx.accept(']')) {
      do v.push_back(to_double(lx, lx.number()));
      while (lx.accept(','));
      lx.expect(']');
    }
    return v;
  }
  if (lx.accept_word("strings")) {
    std::vector<std::string> v;
    lx.expect('[');
    if (!lx.accept(']')) {
      do v.push_back(lx.string_lit());
      while (lx.accept(','));
      lx.expect(']');
    }
    return v;
  }
  if (lx.accept_word("tensor")) {
    lx.expect('<');
    HostTensor t;
    parse_type(lx, t.type, t.shape);
    lx.expect('>');
    check_const_size(lx, t.shape);
    t = HostTensor(t.type, t.shape);
    parse_elems(lx, t);
    return t;
  }
  std::string tok = lx.number();
  if (tok.find_first_of(".en") != std::string::npos || tok == "inf" || tok == "-inf") return to_double(lx, tok);
  return to_int(lx, tok);
}

}  // namespace

Graph parse(const std::string& text, const std::string& source) {
  Lexer lx(text, source);
  Graph g;
  std::map<std::string, int> ids;
  auto define = [&](const std::string& name, ElemType t, std::vector<int64_t> shape) {
    if (ids.count(name)) lx.fail(fmt::format("value '%{}' defined twice", name));
    Value v;
    v.name = name;
    v.type = t;
    v.shape = std::move(shape);
    return ids[name] = g.add_value(std::move(v));
  };
  auto use = [&](const std::string& name) {
    auto it = ids.find(name);
    if (it == ids.end()) lx.fail(fmt::format("value '%{}' is not defined", name));
    return it->second;
  };
  if (!lx.accept_word("graph")) lx.fail("expected 'graph'");
  g.name = lx.string_lit();
  lx.expect('{');
  while (!lx.accept('}')) {
    if (lx.eof()) lx.fail("unexpected end of text: missing '}'");
    if (lx.accept_word("input")) {
      std::string n = lx.value_name();
      lx.expect(':');
      ElemType t;
      std::vector<int64_t> s;
      parse_type(lx, t, s);
      g.inputs.push_back(define(n, t, s));
    } else if (lx.accept_word("const")) {
      std::string n = lx.value_name();
      lx.expect(':');
      ElemType t;
      std::vector<int64_t> s;
      parse_type(lx, t, s);
      lx.expect('=');
      check_const_size(lx, s);
      auto data = std::make_shared<HostTensor>(t, s);
      parse_elems(lx, *data);
      g.values[define(n, t, s)].data = std::move(data);
    } else if (lx.accept_word("output")) {
      g.outputs.push_back(use(lx.value_name()));
    } else if (lx.peek() == '%') {
      Node node;
      std::vector<std::tuple<std::string, ElemType, std::vector<int64_t>>> outs;
      do {
        std::string n = lx.value_name();
        lx.expect(':');
        ElemType t;
        std::vector<int64_t> s;
        parse_type(lx, t, s);
        outs.emplace_back(n, t, s);
      } while (lx.accept(','));
      lx.expect('=');
      node.op = lx.word();
      lx.expect('(');
      if (!lx.accept(')')) {
        do {
          if (lx.accept('_')) node.inputs.push_back(-1);
          else node.inputs.push_back(use(lx.value_name()));
        } while (lx.accept(','));
        lx.expect(')');
      }
      if (lx.accept('{')) {
        if (!lx.accept('}')) {
          do {
            std::string k = lx.word();
            lx.expect('=');
            node.attrs[k] = parse_attr(lx);
          } while (lx.accept(','));
          lx.expect('}');
        }
      }
      for (;;) {
        if (lx.accept_word("name")) {
          lx.expect('=');
          node.name = lx.string_lit();
        } else if (lx.accept_word("domain")) {
          lx.expect('=');
          node.domain = lx.string_lit();
        } else if (lx.accept_word("opset")) {
          lx.expect('=');
          node.opset = static_cast<int>(to_int(lx, lx.number()));
        } else {
          break;
        }
      }
      for (auto& [n, t, s] : outs) node.outputs.push_back(define(n, t, s));
      g.nodes.push_back(std::move(node));
    } else {
      lx.fail("expected input, const, output or a node");
    }
  }
  if (!lx.eof()) lx.fail("unexpected text after the graph's closing '}'");
  try {
    g.verify();
  } catch (const IrError& e) {
    throw IrError(fmt::format("{}: {}", source, e.what()));
  }
  return g;
}

}  // namespace seedchip::ir
