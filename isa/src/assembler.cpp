// seedchip — text assembler and disassembler.
#include "seedchip/isa/assembler.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"

namespace seedchip::isa {

namespace {

// ---------------------------------------------------------------- printing

std::string fmt_f32(float v) {
  if (std::isnan(v)) {
    uint32_t bits = std::bit_cast<uint32_t>(v);
    return fmt::format("0x{:08x}", bits);  // raw bits keep the NaN payload
  }
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);  // shortest form that round-trips
}

std::string fmt_operand(const Operand& o) {
  if (o.space == Space::imm) {
    if (o.dtype == DType::fp32) return fmt::format("imm:fp32:{}", fmt_f32(o.imm_f32()));
    return fmt::format("imm:{}:{}", dtype_name(o.dtype), o.imm_i32());
  }
  std::string s(space_name(o.space));
  if (o.core != kLocalCore) s += fmt::format("@{}", o.core);
  s += fmt::format(":0x{:x}:{}[", o.addr, dtype_name(o.dtype));
  for (int d = 0; d < o.rank; ++d) s += fmt::format("{}{}", d ? "," : "", o.stride[d]);
  return s + "]";
}

// ---------------------------------------------------------------- parsing

struct LineError {
  std::string msg;
};

[[noreturn]] void bad(const std::string& m) { throw LineError{m}; }

template <typename T>
T parse_int(std::string_view s, std::string_view what) {
  bool neg = false;
  std::string_view t = s;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    neg = t[0] == '-';
    t.remove_prefix(1);
  }
  int base = 10;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    base = 16;
    t.remove_prefix(2);
  }
  uint64_t u = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), u, base);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size())
    bad(fmt::format("{}: '{}' is not an integer", what, s));
  if constexpr (std::is_signed_v<T>) {
    if (neg) {
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()) + 1)
        bad(fmt::format("{}: {} is out of range", what, s));
      return static_cast<T>(0 - u);
    }
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      bad(fmt::format("{}: {} is out of range", what, s));
    return static_cast<T>(u);
  } else {
    if (neg && u != 0) bad(fmt::format("{}: {} must not be negative", what, s));
    if (u > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      bad(fmt::format("{}: {} is out of range", what, s));
    return static_cast<T>(u);
  }
}

float parse_f32(std::string_view s, std::string_view what) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
    return std::bit_cast<float>(parse_int<uint32_t>(s, what));
  std::string_view t = s;
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  if (t == "inf") return INFINITY;
  if (t == "-inf") return -INFINITY;
  if (t == "nan") return NAN;
  float v = 0;  // from_chars rounds the decimal once, to nearest even
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || (ec != std::errc() && ec != std::errc::result_out_of_range) || p != t.data() + t.size())
    bad(fmt::format("{}: '{}' is not a number", what, s));
  if (ec == std::errc::result_out_of_range) {
    // Beyond fp32's range: overflow rounds to infinity, underflow to zero.
    const double d = std::strtod(std::string(t).c_str(), nullptr);
    const bool huge = std::fabs(d) > 1.0;
    return std::copysign(huge ? INFINITY : 0.0f, static_cast<float>(t[0] == '-' ? -1 : 1));
  }
  return v;
}

// "[1, 2, 3]" -> {"1","2","3"}
std::vector<std::string> parse_list(std::string_view s, std::string_view what) {
  if (s.size() < 2 || s.front() != '[' || s.back() != ']')
    bad(fmt::format("{}: expected a list like [64,128], got '{}'", what, s));
  std::vector<std::string> items;
  std::string cur;
  for (char c : s.substr(1, s.size() - 2)) {
    if (c == ',') {
      items.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t') {
      cur += c;
    }
  }
  if (!cur.empty()) items.push_back(cur);
  else if (!items.empty()) bad(fmt::format("{}: empty list element in '{}'", what, s));
  return items;
}

DType parse_dt(std::string_view s, std::string_view what) {
  auto d = parse_dtype(s);
  if (!d) bad(fmt::format("{}: unknown dtype '{}'", what, s));
  return *d;
}

struct Ctx {
  const std::map<std::string, uint64_t, std::less<>>* symbols;
};

// SPACE[@CORE]:ADDR:DTYPE[STRIDES]  or  imm:DTYPE:VALUE
Operand parse_operand(std::string_view s, std::string_view what, const Ctx& ctx) {
  Operand o;
  auto c1 = s.find(':');
  if (c1 == std::string_view::npos)
    bad(fmt::format("{}: expected SPACE:ADDR:DTYPE[strides] or imm:DTYPE:VALUE, got '{}'", what, s));
  std::string_view sp = s.substr(0, c1);
  std::string_view rest = s.substr(c1 + 1);
  if (sp == "imm") {
    auto c2 = rest.find(':');
    if (c2 == std::string_view::npos) bad(fmt::format("{}: expected imm:DTYPE:VALUE, got '{}'", what, s));
    o.space = Space::imm;
    o.dtype = parse_dt(rest.substr(0, c2), what);
    std::string_view v = rest.substr(c2 + 1);
    if (o.dtype == DType::fp32) o.addr = std::bit_cast<uint32_t>(parse_f32(v, what));
    else if (o.dtype == DType::int32) o.addr = static_cast<uint32_t>(parse_int<int32_t>(v, what));
    else bad(fmt::format("{}: immediates are fp32 or int32", what));
    return o;
  }
  auto at = sp.find('@');
  std::string_view spname = sp.substr(0, at);
  if (spname == "hbm") o.space = Space::hbm;
  else if (spname == "sram") o.space = Space::sram;
  else if (spname == "acc") o.space = Space::acc;
  else bad(fmt::format("{}: unknown memory space '{}' (hbm, sram, acc, imm)", what, spname));
  if (at != std::string_view::npos) {
    o.core = parse_int<uint8_t>(sp.substr(at + 1), what);
    if (o.core == kLocalCore) bad(fmt::format("{}: core {} out of range", what, o.core));
  }
  auto c2 = rest.find(':');
  auto lb = rest.find('[');
  if (c2 == std::string_view::npos || lb == std::string_view::npos || lb < c2)
    bad(fmt::format("{}: expected SPACE:ADDR:DTYPE[strides], got '{}'", what, s));
  std::string_view addr = rest.substr(0, c2);
  // ADDR is a number, or SYMBOL[+OFFSET] naming a .tensor
  if (!addr.empty() && (std::isdigit(static_cast<unsigned char>(addr[0])))) {
    o.addr = parse_int<uint64_t>(addr, what);
  } else {
    auto plus = addr.find('+');
    std::string_view name = addr.substr(0, plus);
    auto it = ctx.symbols->find(name);
    if (it == ctx.symbols->end()) bad(fmt::format("{}: unknown symbol '{}'", what, name));
    o.addr = it->second;
    if (plus != std::string_view::npos) o.addr += parse_int<uint64_t>(addr.substr(plus + 1), what);
  }
  o.dtype = parse_dt(rest.substr(c2 + 1, lb - c2 - 1), what);
  auto strides = parse_list(rest.substr(lb), what);
  if (strides.size() > kMaxRank) bad(fmt::format("{}: more than {} strides", what, kMaxRank));
  o.rank = static_cast<uint8_t>(strides.size());
  for (size_t d = 0; d < strides.size(); ++d) o.stride[d] = parse_int<int64_t>(strides[d], what);
  return o;
}

// Splits a line into whitespace-separated tokens; brackets keep their spaces.
std::vector<std::string> tokenize(std::string_view line) {
  std::vector<std::string> toks;
  std::string cur;
  int depth = 0;
  for (char c : line) {
    if (depth == 0 && (c == ';' || c == '#')) break;
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if ((c == ' ' || c == '\t' || c == '\r') && depth == 0) {
      if (!cur.empty()) toks.push_back(std::move(cur)), cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) toks.push_back(std::move(cur));
  return toks;
}

std::vector<uint8_t> parse_hex(std::string_view s) {
  if (s.size() % 2) bad("hex data needs an even number of digits");
  std::vector<uint8_t> out;
  out.reserve(s.size() / 2);
  for (size_t i = 0; i < s.size(); i += 2) {
    uint8_t v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2) bad(fmt::format("bad hex byte '{}'", s.substr(i, 2)));
    out.push_back(v);
  }
  return out;
}

}  // namespace

std::string format_instr(const Instr& in) {
  const OpInfo* info = op_info(in.op);
  std::string s(info->mnemonic);
  const FormatFields ff = format_fields(info->format);
  if (ff.dst) s += " dst=" + fmt_operand(in.dst);
  if (ff.a) s += " a=" + fmt_operand(in.a);
  if (ff.b) s += " b=" + fmt_operand(in.b);
  if (ff.shape) {
    s += " shape=[";
    for (int d = 0; d < in.rank; ++d) s += fmt::format("{}{}", d ? "," : "", in.shape[d]);
    s += "]";
  }
  for (int i = 0; i < 3; ++i) {
    if (info->params[i].empty()) continue;
    if (in.op == Op::nop)
      s += fmt::format(" engine={}", engine_name(static_cast<Engine>(in.param[0])));
    else
      s += fmt::format(" {}={}", info->params[i], in.param[i]);
  }
  if (in.wait != kNoSem) s += fmt::format(" wait={}", in.wait);
  if (in.signal != kNoSem) s += fmt::format(" signal={}", in.signal);
  return s;
}

std::string disassemble(const Program& p) {
  std::string out = fmt::format("; seedchip program (format version {})\n", kFormatVersion);
  out += fmt::format(".chip {} fingerprint=0x{:016x}\n", p.target, p.fingerprint);
  for (const auto& s : p.symbols) {
    out += fmt::format(".tensor {} {} {} [", s.name, symbol_kind_name(s.kind), dtype_name(s.dtype));
    for (size_t d = 0; d < s.dims.size(); ++d) out += fmt::format("{}{}", d ? "," : "", s.dims[d]);
    out += fmt::format("] @0x{:x}\n", s.addr);
  }
  for (const auto& d : p.data) {
    out += fmt::format(".data 0x{:x}\n", d.addr);
    for (size_t i = 0; i < d.bytes.size(); i += 32) {
      out += ".bytes ";
      for (size_t j = i; j < std::min(d.bytes.size(), i + 32); ++j) out += fmt::format("{:02x}", d.bytes[j]);
      out += "\n";
    }
  }
  if (!p.metadata.empty()) {
    std::string q = "\"";
    for (char ch : p.metadata) {
      if (ch == '"' || ch == '\\') q += '\\';
      if (ch == '\n') {
        q += "\\n";
        continue;
      }
      q += ch;
    }
    out += ".metadata " + q + "\"\n";
  }
  for (const auto& c : p.cores) {
    out += fmt::format(".core {}\n", c.core);
    for (size_t i = 0; i < c.code.size(); ++i) out += "  " + format_instr(c.code[i]) + "\n";
  }
  return out;
}

Program assemble(const std::string& text, const std::string& source) {
  Program p;
  std::map<std::string, uint64_t, std::less<>> symaddr;
  Ctx ctx{&symaddr};
  bool have_chip = false;
  uint32_t chip_cores = 256, chip_sems = 255;
  CoreCode* cur = nullptr;
  std::istringstream is(text);
  std::string line;
  int lineno = 0;
  while (std::getline(is, line)) {
    ++lineno;
    try {
      if (auto t = line.find_first_not_of(" \t"); t != std::string::npos && line.compare(t, 10, ".metadata ") == 0) {
        // .metadata "TEXT": the rest of the line is one string literal (\" \\ \n escapes)
        if (!p.metadata.empty()) bad("second .metadata directive");
        std::string_view rest = std::string_view(line).substr(t + 10);
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        while (!rest.empty() && (rest.back() == ' ' || rest.back() == '\r')) rest.remove_suffix(1);
        if (rest.size() < 2 || rest.front() != '"' || rest.back() != '"') bad(".metadata takes one quoted string");
        for (size_t i = 1; i + 1 < rest.size(); ++i) {
          char ch = rest[i];
          if (ch == '\\' && i + 2 < rest.size()) {
            ch = rest[++i];
            if (ch == 'n') ch = '\n';
          } else if (ch == '"') {
            bad(".metadata: unescaped '\"' inside the string");
          }
          p.metadata += ch;
        }
        if (p.metadata.empty()) bad(".metadata: empty string");
        continue;
      }
      auto toks = tokenize(line);
      if (toks.empty()) continue;
      const std::string& head = toks[0];
      if (head == ".chip") {
        if (have_chip) bad("second .chip directive");
        if (toks.size() < 2 || toks.size() > 3) bad(".chip takes NAME [fingerprint=0x...]");
        p.target = toks[1];
        if (toks.size() == 3) {
          if (toks[2].rfind("fingerprint=", 0) != 0) bad(fmt::format(".chip: unexpected '{}'", toks[2]));
          p.fingerprint = parse_int<uint64_t>(std::string_view(toks[2]).substr(12), "fingerprint");
          if (auto chip = [&]() -> std::optional<arch::Chip> {
                try { return arch::find_chip(p.target); } catch (const std::exception&) { return std::nullopt; }
              }()) {
            chip_cores = chip->cores;
            chip_sems = chip->core.semaphores;
          }
        } else {
          arch::Chip chip;
          try {
            chip = arch::find_chip(p.target);
          } catch (const std::exception& e) {
            bad(fmt::format(".chip: {}", e.what()));
          }
          p.target = chip.name;
          p.fingerprint = chip.isa_fingerprint();
          chip_cores = chip.cores;
          chip_sems = chip.core.semaphores;
        }
        have_chip = true;
      } else if (head == ".tensor") {
        // .tensor NAME KIND DTYPE [dims] @ADDR
        if (toks.size() != 6 || toks[5].empty() || toks[5][0] != '@')
          bad(".tensor takes NAME KIND DTYPE [dims] @ADDR");
        Symbol s;
        s.name = toks[1];
        // Operands refer to tensors as hbm:NAME[+OFFSET], so names avoid ':' '+' '[' etc.
        auto name_ok = [](const std::string& n) {
          if (n.empty() || !(std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
          return std::all_of(n.begin(), n.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
          });
        };
        if (!name_ok(s.name))
          bad(fmt::format(".tensor: '{}' is not a valid name (letters, digits, '_' and '.'; not starting with a digit)", s.name));
        if (symaddr.count(s.name)) bad(fmt::format(".tensor: '{}' defined twice", s.name));
        if (toks[2] == "input") s.kind = SymbolKind::input;
        else if (toks[2] == "output") s.kind = SymbolKind::output;
        else if (toks[2] == "const") s.kind = SymbolKind::constant;
        else if (toks[2] == "scratch") s.kind = SymbolKind::scratch;
        else bad(fmt::format(".tensor: unknown kind '{}' (input, output, const, scratch)", toks[2]));
        s.dtype = parse_dt(toks[3], ".tensor");
        for (auto& d : parse_list(toks[4], ".tensor dims")) s.dims.push_back(parse_int<uint64_t>(d, ".tensor dims"));
        s.addr = parse_int<uint64_t>(std::string_view(toks[5]).substr(1), ".tensor address");
        symaddr[s.name] = s.addr;
        p.symbols.push_back(std::move(s));
      } else if (head == ".data") {
        if (toks.size() != 2) bad(".data takes ADDR (bytes follow on .bytes lines)");
        p.data.push_back({parse_int<uint64_t>(toks[1], ".data address"), {}});
      } else if (head == ".bytes") {
        if (p.data.empty()) bad(".bytes before any .data");
        for (size_t i = 1; i < toks.size(); ++i) {
          auto b = parse_hex(toks[i]);
          p.data.back().bytes.insert(p.data.back().bytes.end(), b.begin(), b.end());
        }
      } else if (head == ".core") {
        if (!have_chip) bad(".chip must come before .core");
        if (toks.size() != 2) bad(".core takes one core index");
        uint32_t c = parse_int<uint32_t>(toks[1], ".core");
        if (c >= chip_cores) bad(fmt::format(".core {}: chip {} has {} cores", c, p.target, chip_cores));
        for (auto& cc : p.cores)
          if (cc.core == c) bad(fmt::format(".core {} appears twice", c));
        p.cores.push_back({c, {}});
        cur = &p.cores.back();
      } else if (head[0] == '.') {
        bad(fmt::format("unknown directive '{}'", head));
      } else {
        const OpInfo* info = op_by_mnemonic(head);
        if (!info) bad(fmt::format("unknown instruction '{}'", head));
        if (!cur) bad("instruction before any .core directive");
        Instr in;
        in.op = info->op;
        const FormatFields ff = format_fields(info->format);
        std::map<std::string, std::string, std::less<>> fields;
        for (size_t i = 1; i < toks.size(); ++i) {
          auto eq = toks[i].find('=');
          if (eq == std::string::npos) bad(fmt::format("{}: expected name=value, got '{}'", head, toks[i]));
          std::string k = toks[i].substr(0, eq);
          if (!fields.emplace(k, toks[i].substr(eq + 1)).second)
            bad(fmt::format("{}: field '{}' given twice", head, k));
        }
        std::vector<std::string> allowed;
        auto take = [&](const std::string& name) -> std::optional<std::string> {
          allowed.push_back(name);
          auto it = fields.find(name);
          if (it == fields.end()) return std::nullopt;
          std::string v = it->second;
          fields.erase(it);
          return v;
        };
        auto require = [&](const std::string& name) {
          auto v = take(name);
          if (!v) bad(fmt::format("{}: missing field '{}'", head, name));
          return *v;
        };
        std::string m(info->mnemonic);
        if (ff.dst) in.dst = parse_operand(require("dst"), m + " dst", ctx);
        if (ff.a) in.a = parse_operand(require("a"), m + " a", ctx);
        if (ff.b) in.b = parse_operand(require("b"), m + " b", ctx);
        if (ff.shape) {
          auto dims = parse_list(require("shape"), m + " shape");
          if (dims.size() > kMaxRank) bad(fmt::format("{}: shape has more than {} dimensions", m, kMaxRank));
          in.rank = static_cast<uint8_t>(dims.size());
          for (size_t d = 0; d < dims.size(); ++d) in.shape[d] = parse_int<uint32_t>(dims[d], m + " shape");
        }
        for (int i = 0; i < 3; ++i) {
          if (info->params[i].empty()) continue;
          std::string pname(info->params[i]);
          auto v = (info->param_required >> i) & 1 ? std::optional(require(pname)) : take(pname);
          if (!v) {
            in.param[i] = info->param_default[i];
          } else if (in.op == Op::nop) {
            auto e = parse_engine(*v);
            if (!e) bad(fmt::format("nop: unknown engine '{}'", *v));
            in.param[i] = static_cast<int64_t>(*e);
          } else {
            in.param[i] = parse_int<int64_t>(*v, m + " " + pname);
          }
        }
        for (const char* sync : {"wait", "signal"}) {
          if (auto v = take(sync)) {
            uint8_t s = parse_int<uint8_t>(*v, m + " " + sync);
            if (s >= chip_sems)
              bad(fmt::format("{}: {}={}: chip {} has semaphores 0..{}", m, sync, s, p.target, chip_sems - 1));
            (std::string_view(sync) == "wait" ? in.wait : in.signal) = s;
          }
        }
        if (!fields.empty()) {
          std::string list;
          for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
          bad(fmt::format("{}: unknown field '{}' (fields: {})", m, fields.begin()->first, list));
        }
        std::string why = check_instr(in);
        if (!why.empty()) bad(fmt::format("{}: {}", m, why));
        cur->code.push_back(in);
      }
    } catch (const LineError& e) {
      throw AsmError(fmt::format("{}:{}: {}", source, lineno, e.msg));
    }
  }
  if (!have_chip) throw AsmError(fmt::format("{}: no .chip directive", source));
  std::sort(p.cores.begin(), p.cores.end(),
            [](const CoreCode& x, const CoreCode& y) { return x.core < y.core; });
  return p;
}

}  // namespace seedchip::isa
