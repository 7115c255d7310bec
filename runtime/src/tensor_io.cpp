// seedchip — tensor packing between .npy and the chip's dtypes.
#include "seedchip/runtime/tensor_io.h"

#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "seedchip/numerics/convert.h"

namespace seedchip::runtime {

namespace {

std::string shape_str(const std::vector<uint64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += fmt::format("{}{}", i ? "," : "", s[i]);
  return r + "]";
}

}  // namespace

std::string npy_descr_for(DType t) {
  switch (t) {
    case DType::fp32: case DType::bf16: case DType::fp8e4m3: case DType::fp8e5m2: return "<f4";
    case DType::fp16: return "<f2";
    case DType::int8: case DType::int4: return "|i1";
    case DType::uint8: return "|u1";
    case DType::int32: return "<i4";
  }
  return "?";
}

std::vector<uint8_t> pack_symbol(const isa::Symbol& s, const NpyArray& a, const std::string& source) {
  if (a.shape != s.dims)
    throw NpyError(fmt::format("{}: shape {} does not match tensor '{}' of shape {}", source, shape_str(a.shape),
                               s.name, shape_str(s.dims)));
  const std::string want = npy_descr_for(s.dtype);
  const uint64_t n = s.elements();
  std::vector<uint8_t> out(s.bytes(), 0);
  const bool raw16 = s.dtype == DType::bf16 && a.descr == "<u2";
  const bool raw8 = (s.dtype == DType::fp8e4m3 || s.dtype == DType::fp8e5m2) && a.descr == "|u1";
  if (raw16 || raw8 || (a.descr == want && s.dtype != DType::bf16 && s.dtype != DType::fp8e4m3 &&
                        s.dtype != DType::fp8e5m2 && s.dtype != DType::int4)) {
    out = a.data;  // same layout
    return out;
  }
  if (a.descr != want) {
    std::string also = s.dtype == DType::bf16 ? " or <u2 raw bits"
                       : (s.dtype == DType::fp8e4m3 || s.dtype == DType::fp8e5m2) ? " or |u1 raw bits"
                                                                                 : "";
    throw NpyError(fmt::format("{}: npy dtype '{}' does not match tensor '{}' of dtype {} (expects '{}'{})", source,
                               a.descr, s.name, dtype_name(s.dtype), want, also));
  }
  if (s.dtype == DType::int4) {
    for (uint64_t i = 0; i < n; ++i) {
      int8_t v = static_cast<int8_t>(a.data[i]);
      if (v < -8 || v > 7)
        throw NpyError(fmt::format("{}: element {} = {} is outside int4's range [-8, 7] (tensor '{}')", source, i, v,
                                   s.name));
      num::int4_set(out.data(), static_cast<int64_t>(i), v);
    }
    return out;
  }
  for (uint64_t i = 0; i < n; ++i)  // bf16 / fp8 from float32
    num::store_f32(s.dtype, out.data(), static_cast<int64_t>(i),
                   num::load_f32(DType::fp32, a.data.data(), static_cast<int64_t>(i)), true);
  return out;
}

NpyArray unpack_symbol(const isa::Symbol& s, const std::vector<uint8_t>& bytes) {
  NpyArray a;
  a.descr = npy_descr_for(s.dtype);
  a.shape = s.dims;
  const uint64_t n = s.elements();
  switch (s.dtype) {
    case DType::bf16: case DType::fp8e4m3: case DType::fp8e5m2:
      a.data.resize(n * 4);
      for (uint64_t i = 0; i < n; ++i)
        num::store_f32(DType::fp32, a.data.data(), static_cast<int64_t>(i),
                       num::load_f32(s.dtype, bytes.data(), static_cast<int64_t>(i)));
      break;
    case DType::int4:
      a.data.resize(n);
      for (uint64_t i = 0; i < n; ++i) a.data[i] = static_cast<uint8_t>(num::int4_get(bytes.data(), static_cast<int64_t>(i)));
      break;
    default:
      a.data = bytes;
  }
  return a;
}

void bind_inputs(sim::FunctionalSim& sim, const isa::Program& p, const std::map<std::string, std::string>& inputs) {
  for (const auto& [name, path] : inputs) {
    const isa::Symbol* s = p.find_symbol(name);
    if (!s) {
      std::string names;
      for (const auto& sym : p.symbols)
        if (sym.kind == isa::SymbolKind::input) names += (names.empty() ? "" : ", ") + sym.name;
      throw NpyError(fmt::format("--input {}: the program has no tensor '{}' (inputs: {})", name, name,
                                 names.empty() ? "none" : names));
    }
    if (s->kind != isa::SymbolKind::input && s->kind != isa::SymbolKind::constant)
      throw NpyError(fmt::format("--input {}: tensor '{}' is an {} tensor, not an input", name, name,
                                 isa::symbol_kind_name(s->kind)));
    NpyArray a = read_npy(path);
    sim.write_hbm(s->addr, pack_symbol(*s, a, path));
  }
  for (const auto& s : p.symbols)
    if (s.kind == isa::SymbolKind::input && !inputs.count(s.name))
      throw NpyError(fmt::format("input '{}' ({} {}) was not given: pass --input {}=FILE.npy", s.name,
                                 dtype_name(s.dtype), shape_str(s.dims), s.name));
}

std::vector<std::string> write_outputs(const sim::FunctionalSim& sim, const isa::Program& p, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw NpyError(fmt::format("{}: cannot create output directory: {}", dir, ec.message()));
  std::vector<std::string> paths;
  for (const auto& s : p.symbols) {
    if (s.kind != isa::SymbolKind::output) continue;
    std::vector<uint8_t> bytes(s.bytes());
    sim.read_hbm(s.addr, bytes);
    std::string path = (std::filesystem::path(dir) / (s.name + ".npy")).string();
    write_npy(path, unpack_symbol(s, bytes));
    paths.push_back(path);
  }
  return paths;
}

namespace {
struct DescrMap {
  const char* descr;
  ir::ElemType type;
};
constexpr DescrMap kDescr[] = {
    {"<f4", ir::ElemType::f32}, {"<f8", ir::ElemType::f64}, {"<f2", ir::ElemType::f16}, {"|i1", ir::ElemType::i8},
    {"|u1", ir::ElemType::u8},  {"<i2", ir::ElemType::i16}, {"<u2", ir::ElemType::u16}, {"<i4", ir::ElemType::i32},
    {"<u4", ir::ElemType::u32}, {"<i8", ir::ElemType::i64}, {"<u8", ir::ElemType::u64}, {"|b1", ir::ElemType::boolean},
};
}  // namespace

ir::HostTensor host_from_npy(const NpyArray& a, const std::string& source) {
  for (const auto& d : kDescr)
    if (a.descr == d.descr) {
      ir::HostTensor t;
      t.type = d.type;
      for (auto x : a.shape) t.shape.push_back(static_cast<int64_t>(x));
      t.data.assign(a.data.begin(), a.data.end());
      return t;
    }
  throw NpyError(fmt::format("{}: npy dtype '{}' is not supported", source, a.descr));
}

NpyArray npy_from_host(const ir::HostTensor& t) {
  NpyArray a;
  for (auto x : t.shape) a.shape.push_back(static_cast<uint64_t>(x));
  for (const auto& d : kDescr)
    if (d.type == t.type) {
      a.descr = d.descr;
      a.data.assign(t.data.begin(), t.data.end());
      return a;
    }
  // bf16 / fp8: widen exactly to float32
  a.descr = "<f4";
  a.data.resize(static_cast<size_t>(t.elements()) * 4);
  for (int64_t i = 0; i < t.elements(); ++i) {
    const float f = static_cast<float>(t.get(i));
    std::memcpy(a.data.data() + 4 * i, &f, 4);
  }
  return a;
}

}  // namespace seedchip::runtime
