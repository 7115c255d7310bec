// seedchip — a binary program for the chip: code per core, the tensors it
// binds in HBM, initial HBM contents, and the chip it was built for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "seedchip/isa/isa.h"

namespace seedchip::isa {

/// What a program-level tensor is for.
enum class SymbolKind : uint8_t { input = 0, output = 1, constant = 2, scratch = 3 };

/// Name of a symbol kind ("input", "output", "const", "scratch").
std::string_view symbol_kind_name(SymbolKind k);

/// A named tensor placed in HBM (row-major, densely packed).
struct Symbol {
  std::string name;
  SymbolKind kind = SymbolKind::input;
  DType dtype = DType::fp32;
  std::vector<uint64_t> dims;  ///< outermost first; empty = scalar
  uint64_t addr = 0;           ///< HBM byte address

  /// Number of elements (product of dims).
  uint64_t elements() const;
  /// Packed size in bytes (int4 rounds up to whole bytes).
  uint64_t bytes() const;
  bool operator==(const Symbol&) const = default;
};

/// Bytes placed in HBM before the program starts (weights, constants).
struct DataBlock {
  uint64_t addr = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const DataBlock&) const = default;
};

/// The instruction stream of one core.
struct CoreCode {
  uint32_t core = 0;
  std::vector<Instr> code;
  bool operator==(const CoreCode&) const = default;
};

/// A whole program. Cores without a CoreCode entry stay idle.
struct Program {
  std::string target;          ///< chip name the program was built for
  uint64_t fingerprint = 0;    ///< that chip's arch::Chip::isa_fingerprint()
  std::vector<CoreCode> cores; ///< sorted by core index, each core at most once
  std::vector<Symbol> symbols;
  std::vector<DataBlock> data;
  std::string metadata;        ///< free-form text for tools (the compiler stores JSON); empty = none

  /// The symbol called `name`, or nullptr.
  const Symbol* find_symbol(std::string_view name) const;
  bool operator==(const Program&) const = default;
};

/// Magic bytes at the start of every program file.
inline constexpr char kMagic[8] = {'S', 'E', 'E', 'D', 'C', 'H', 'I', 'P'};
/// Current container format version.
inline constexpr uint16_t kFormatVersion = 1;

/// Encodes one instruction (appends to `out`).
void encode_instr(const Instr& in, std::vector<uint8_t>& out);

/// Serialises a program into the container format (docs/isa.md).
std::vector<uint8_t> serialize(const Program& p);

/// Parses and structurally checks a container; throws FormatError naming
/// `source`, the byte offset and what is wrong.
Program deserialize(std::span<const uint8_t> bytes, const std::string& source);

/// Reads a program file; throws FormatError.
Program read_program_file(const std::string& path);
/// Writes a program file; throws std::runtime_error when it cannot.
void write_program_file(const Program& p, const std::string& path);

/// Checks one instruction's static rules (spaces an op accepts, ranks, dtypes,
/// shape sizes); returns an empty string when valid, else the reason.
std::string check_instr(const Instr& in);

}  // namespace seedchip::isa
