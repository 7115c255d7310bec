// seedchip — binary encoding of instructions and the program container.
#include "seedchip/isa/program.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iterator>
#include <set>

#include <fmt/format.h>


namespace seedchip::isa {

namespace {

enum SectionType : uint32_t { kTarget = 1, kCode = 2, kSymbols = 3, kData = 4, kMetadata = 5 };

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void uvar(uint64_t v) {
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      out_.push_back(b | (v ? 0x80 : 0));
    } while (v);
  }
  void svar(int64_t v) { uvar((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void str(const std::string& s) {
    if (s.size() > 0xFFFF) throw FormatError(fmt::format("name of {} bytes exceeds the 65535-byte limit", s.size()));
    u16(static_cast<uint16_t>(s.size()));
    out_.insert(out_.end(), s.begin(), s.end());
  }
  void bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t>& out_;
};

// Bounds-checked little-endian reader; every failure names what was being read.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, size_t base, const std::string& src)
      : b_(b), base_(base), src_(src) {}
  size_t pos() const { return pos_; }
  size_t offset() const { return base_ + pos_; }
  bool done() const { return pos_ == b_.size(); }
  size_t left() const { return b_.size() - pos_; }
  [[noreturn]] void fail(const std::string& what) const { fail_at(offset(), what); }
  [[noreturn]] void fail_at(size_t at, const std::string& what) const {
    throw FormatError(fmt::format("{}: offset 0x{:x}: {}", src_, at, what));
  }
  void need(size_t n, std::string_view what) const {
    if (left() < n) fail(fmt::format("truncated while reading {}", what));
  }
  uint8_t u8(std::string_view what) {
    need(1, what);
    return b_[pos_++];
  }
  uint64_t le(int n, std::string_view what) {
    need(n, what);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  uint16_t u16(std::string_view what) { return static_cast<uint16_t>(le(2, what)); }
  uint32_t u32(std::string_view what) { return static_cast<uint32_t>(le(4, what)); }
  uint64_t u64(std::string_view what) { return le(8, what); }
  uint64_t uvar(std::string_view what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t byte = u8(what);
      if (shift == 63 && (byte & 0x7E)) fail(fmt::format("varint overflow in {}", what));
      v |= static_cast<uint64_t>(byte & 0x7F) << shift;
      if (!(byte & 0x80)) return v;
    }
    fail(fmt::format("varint too long in {}", what));
  }
  int64_t svar(std::string_view what) {
    uint64_t u = uvar(what);
    return static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  std::string str(std::string_view what) {
    size_t n = u16(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::span<const uint8_t> take(size_t n, std::string_view what) {
    need(n, what);
    auto s = b_.subspan(pos_, n);
    pos_ += n;
    return s;
  }

 private:
  std::span<const uint8_t> b_;
  size_t base_;
  const std::string& src_;
  size_t pos_ = 0;
};

void write_operand(Writer& w, const Operand& o) {
  w.u8(static_cast<uint8_t>(o.space));
  w.u8(o.core);
  w.u8(static_cast<uint8_t>(o.dtype));
  w.uvar(o.addr);
  w.u8(o.rank);
  for (int d = 0; d < o.rank; ++d) w.svar(o.stride[d]);
}

Operand read_operand(Reader& r, std::string_view name) {
  Operand o;
  uint8_t space = r.u8(name);
  if (space >= kNumSpaces) r.fail(fmt::format("operand {}: undefined memory space {}", name, space));
  o.space = static_cast<Space>(space);
  o.core = r.u8(name);
  uint8_t dt = r.u8(name);
  if (!dtype_valid(dt)) r.fail(fmt::format("operand {}: undefined dtype {}", name, dt));
  o.dtype = static_cast<DType>(dt);
  o.addr = r.uvar(name);
  o.rank = r.u8(name);
  if (o.rank > kMaxRank) r.fail(fmt::format("operand {}: rank {} exceeds {}", name, o.rank, kMaxRank));
  for (int d = 0; d < o.rank; ++d) o.stride[d] = r.svar(name);
  return o;
}

Instr read_instr(Reader& r) {
  Instr in;
  const size_t at = r.offset();
  uint8_t code = r.u8("opcode");
  const OpInfo* info = op_info(static_cast<Op>(code));
  if (!info) r.fail_at(at, fmt::format("unknown opcode 0x{:02x}", code));
  in.op = info->op;
  in.wait = r.u8("wait semaphore");
  in.signal = r.u8("signal semaphore");
  const FormatFields ff = format_fields(info->format);
  if (ff.shape) {
    in.rank = r.u8("shape rank");
    if (in.rank > kMaxRank) r.fail(fmt::format("shape rank {} exceeds {}", in.rank, kMaxRank));
    for (int d = 0; d < in.rank; ++d) {
      uint64_t v = r.uvar("shape");
      if (v > 0xFFFFFFFFull) r.fail("shape dimension exceeds 32 bits");
      in.shape[d] = static_cast<uint32_t>(v);
    }
  }
  if (ff.dst) in.dst = read_operand(r, "dst");
  if (ff.a) in.a = read_operand(r, "a");
  if (ff.b) in.b = read_operand(r, "b");
  for (int i = 0; i < 3; ++i)
    if (!info->params[i].empty()) in.param[i] = r.svar(info->params[i]);
  return in;
}

}  // namespace

FormatFields format_fields(Format f) {
  switch (f) {
    case Format::none: return {false, false, false, false};
    case Format::dma: return {true, true, true, false};
    case Format::gather: return {true, true, true, true};
    case Format::ldw: return {true, false, true, false};
    case Format::mmrun: return {true, true, true, false};
    case Format::unary: return {true, true, true, false};
    case Format::binary: return {true, true, true, true};
    case Format::quant: return {true, true, true, true};
    case Format::reduce: return {true, true, true, false};
  }
  return {};
}

void encode_instr(const Instr& in, std::vector<uint8_t>& out) {
  Writer w(out);
  const OpInfo* info = op_info(in.op);
  w.u8(static_cast<uint8_t>(in.op));
  w.u8(in.wait);
  w.u8(in.signal);
  const FormatFields ff = format_fields(info->format);
  if (ff.shape) {
    w.u8(in.rank);
    for (int d = 0; d < in.rank; ++d) w.uvar(in.shape[d]);
  }
  if (ff.dst) write_operand(w, in.dst);
  if (ff.a) write_operand(w, in.a);
  if (ff.b) write_operand(w, in.b);
  for (int i = 0; i < 3; ++i)
    if (!info->params[i].empty()) w.svar(in.param[i]);
}

namespace {

// Emits the container in order as chunks (small sections built in a buffer,
// data blocks passed through as they are), followed by the CRC of it all:
// a file is then written without first copying every constant into one
// buffer.
void serialize_to(const Program& p, const std::function<void(std::span<const uint8_t>)>& emit) {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<uint8_t> buf;
  Writer w(buf);
  auto flush = [&] {
    crc = crc32_z(crc, buf.data(), buf.size());
    emit(buf);
    buf.clear();
  };
  buf.assign(kMagic, kMagic + 8);
  w.u16(kFormatVersion);
  w.u16(0);
  w.u32(static_cast<uint32_t>(1 + p.cores.size() + 1 + p.data.size() + (p.metadata.empty() ? 0 : 1)));
  auto section = [&](uint32_t type, const std::vector<uint8_t>& payload) {
    w.u32(type);
    w.u64(payload.size());
    w.bytes(payload);
  };
  {
    std::vector<uint8_t> s;
    Writer sw(s);
    sw.str(p.target);
    sw.u64(p.fingerprint);
    section(kTarget, s);
  }
  for (const auto& c : p.cores) {
    std::vector<uint8_t> s;
    Writer sw(s);
    sw.u32(c.core);
    sw.u32(static_cast<uint32_t>(c.code.size()));
    for (const auto& in : c.code) encode_instr(in, s);
    section(kCode, s);
  }
  {
    std::vector<uint8_t> s;
    Writer sw(s);
    sw.u32(static_cast<uint32_t>(p.symbols.size()));
    for (const auto& sym : p.symbols) {
      sw.str(sym.name);
      sw.u8(static_cast<uint8_t>(sym.kind));
      sw.u8(static_cast<uint8_t>(sym.dtype));
      sw.u8(static_cast<uint8_t>(sym.dims.size()));
      for (auto d : sym.dims) sw.u64(d);
      sw.u64(sym.addr);
    }
    section(kSymbols, s);
  }
  for (const auto& d : p.data) {  // [type][size][addr], then the bytes as they are
    w.u32(kData);
    w.u64(8 + d.bytes.size());
    w.u64(d.addr);
    flush();
    crc = crc32_z(crc, d.bytes.data(), d.bytes.size());
    emit(d.bytes);
  }
  if (!p.metadata.empty()) section(kMetadata, std::vector<uint8_t>(p.metadata.begin(), p.metadata.end()));
  flush();
  w.u32(static_cast<uint32_t>(crc));
  emit(buf);
}

}  // namespace

std::vector<uint8_t> serialize(const Program& p) {
  size_t total = 0;
  serialize_to(p, [&](std::span<const uint8_t> b) { total += b.size(); });  // cheap: no data is copied
  std::vector<uint8_t> out;
  out.reserve(total);
  serialize_to(p, [&](std::span<const uint8_t> b) { out.insert(out.end(), b.begin(), b.end()); });
  return out;
}

Program deserialize(std::span<const uint8_t> bytes, const std::string& source) {
  constexpr size_t kHeader = 8 + 2 + 2 + 4;
  if (bytes.size() < kHeader + 4)
    throw FormatError(fmt::format("{}: not a seedchip program: {} bytes is shorter than the header",
                                  source, bytes.size()));
  if (std::memcmp(bytes.data(), kMagic, 8) != 0)
    throw FormatError(fmt::format("{}: not a seedchip program: bad magic (expected \"SEEDCHIP\")",
                                  source));
  Reader hdr(bytes.subspan(8, 8), 8, source);
  uint16_t version = hdr.u16("version");
  if (version != kFormatVersion)
    throw FormatError(fmt::format("{}: format version {} is not supported (this build reads {})",
                                  source, version, kFormatVersion));
  uint16_t flags = hdr.u16("flags");
  if (flags != 0) throw FormatError(fmt::format("{}: unknown header flags 0x{:x}", source, flags));
  uint32_t nsections = hdr.u32("section count");

  const size_t body_end = bytes.size() - 4;
  uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) stored |= static_cast<uint32_t>(bytes[body_end + i]) << (8 * i);
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32_z(crc, bytes.data(), body_end);
  if (static_cast<uint32_t>(crc) != stored)
    throw FormatError(fmt::format(
        "{}: checksum mismatch (stored 0x{:08x}, computed 0x{:08x}): file is corrupt or truncated",
        source, stored, static_cast<uint32_t>(crc)));

  Program p;
  bool have_target = false, have_symbols = false;
  std::set<uint32_t> cores_seen;
  Reader r(bytes.subspan(kHeader, body_end - kHeader), kHeader, source);
  for (uint32_t s = 0; s < nsections; ++s) {
    uint32_t type = r.u32("section type");
    uint64_t len = r.u64("section length");
    if (len > r.left()) r.fail(fmt::format("section {} length {} runs past the end", s, len));
    size_t start = r.offset();
    Reader sr(r.take(len, "section"), start, source);
    switch (type) {
      case kTarget:
        if (have_target) sr.fail("second target section");
        have_target = true;
        p.target = sr.str("target chip name");
        p.fingerprint = sr.u64("target fingerprint");
        break;
      case kCode: {
        CoreCode cc;
        cc.core = sr.u32("core index");
        if (!cores_seen.insert(cc.core).second)
          sr.fail(fmt::format("second code section for core {}", cc.core));
        uint32_t n = sr.u32("instruction count");
        // Each instruction takes at least 3 bytes: refuse absurd counts before reserving.
        if (n > sr.left() / 3) sr.fail(fmt::format("instruction count {} exceeds section size", n));
        cc.code.reserve(n);
        for (uint32_t i = 0; i < n; ++i) {
          size_t at = sr.offset();
          try {
            cc.code.push_back(read_instr(sr));
          } catch (const FormatError& e) {
            throw FormatError(fmt::format("{} (core {} instruction #{})", e.what(), cc.core, i));
          }
          std::string why = check_instr(cc.code.back());
          if (!why.empty())
            throw FormatError(fmt::format("{}: offset 0x{:x}: core {} instruction #{} ({}): {}",
                                          source, at, cc.core, i,
                                          op_info(cc.code.back().op)->mnemonic, why));
        }
        if (!sr.done()) sr.fail(fmt::format("{} stray bytes after core {} code", sr.left(), cc.core));
        p.cores.push_back(std::move(cc));
        break;
      }
      case kSymbols: {
        if (have_symbols) sr.fail("second symbol section");
        have_symbols = true;
        uint32_t n = sr.u32("symbol count");
        if (n > sr.left() / 14) sr.fail(fmt::format("symbol count {} exceeds section size", n));
        std::set<std::string> names;
        for (uint32_t i = 0; i < n; ++i) {
          Symbol sym;
          sym.name = sr.str("symbol name");
          if (sym.name.empty()) sr.fail("empty symbol name");
          if (!names.insert(sym.name).second) sr.fail(fmt::format("duplicate symbol '{}'", sym.name));
          uint8_t kind = sr.u8("symbol kind");
          if (kind > 3) sr.fail(fmt::format("symbol '{}': undefined kind {}", sym.name, kind));
          sym.kind = static_cast<SymbolKind>(kind);
          uint8_t dt = sr.u8("symbol dtype");
          if (!dtype_valid(dt)) sr.fail(fmt::format("symbol '{}': undefined dtype {}", sym.name, dt));
          sym.dtype = static_cast<DType>(dt);
          uint8_t rank = sr.u8("symbol rank");
          if (rank > 8) sr.fail(fmt::format("symbol '{}': rank {} exceeds 8", sym.name, rank));
          uint64_t elems = 1;
          for (int d = 0; d < rank; ++d) {
            sym.dims.push_back(sr.u64("symbol dims"));
            // Checked by division first, so the product cannot overflow.
            const uint64_t dim = sym.dims.back();
            if (dim != 0 && elems > (1ull << 48) / dim) sr.fail(fmt::format("symbol '{}': too many elements", sym.name));
            elems *= dim;
          }
          sym.addr = sr.u64("symbol address");
          p.symbols.push_back(std::move(sym));
        }
        if (!sr.done()) sr.fail("stray bytes after symbols");
        break;
      }
      case kData: {
        DataBlock d;
        d.addr = sr.u64("data address");
        auto b = sr.take(sr.left(), "data bytes");
        d.bytes.assign(b.begin(), b.end());
        p.data.push_back(std::move(d));
        break;
      }
      case kMetadata: {
        if (!p.metadata.empty()) sr.fail("second metadata section");
        auto b = sr.take(sr.left(), "metadata");
        if (b.empty()) sr.fail("empty metadata section");
        p.metadata.assign(b.begin(), b.end());
        break;
      }
      default:
        sr.fail(fmt::format("unknown section type {}", type));
    }
  }
  if (!r.done()) r.fail(fmt::format("{} stray bytes after the last section", r.left()));
  if (!have_target) throw FormatError(fmt::format("{}: no target section", source));
  std::sort(p.cores.begin(), p.cores.end(),
            [](const CoreCode& x, const CoreCode& y) { return x.core < y.core; });
  return p;
}

Program read_program_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw FormatError(fmt::format("{}: not a readable file", path));
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FormatError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw FormatError(fmt::format("{}: read error", path));
  return deserialize(bytes, path);
}

void write_program_file(const Program& p, const std::string& path) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  if (!f) throw std::runtime_error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  serialize_to(p, [&](std::span<const uint8_t> b) {
    f.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  });
  if (!f) throw std::runtime_error(fmt::format("{}: write failed", path));
}

}  // namespace seedchip::isa
