// Tests for the ISA: encoding, container, assembler and disassembler.
#include <gtest/gtest.h>

#include <bit>
#include <random>
#include <set>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/isa/program.h"

using namespace seedchip;
using namespace seedchip::isa;

namespace {

// A valid instruction of every opcode, built from the op's format.
Instr sample_instr(const OpInfo& o, uint32_t seed) {
  Instr in;
  in.op = o.op;
  in.wait = static_cast<uint8_t>(seed % 3 == 0 ? kNoSem : seed % 32);
  in.signal = static_cast<uint8_t>(seed % 5 == 0 ? kNoSem : (seed * 7) % 32);
  auto mem = [&](Space s, DType t, int rank, uint64_t addr) {
    Operand x;
    x.space = s;
    x.dtype = t;
    x.rank = static_cast<uint8_t>(rank);
    x.addr = addr;
    for (int d = 0; d < rank; ++d) x.stride[d] = d == rank - 1 ? 1 : static_cast<int64_t>(64 << d) - (d == 1 ? 200 : 0);
    return x;
  };
  for (int i = 0; i < 3; ++i) in.param[i] = o.param_default[i];
  switch (o.format) {
    case Format::none:
      in.param[0] = o.op == Op::nop ? static_cast<int64_t>(seed % kNumEngines) : 7;
      break;
    case Format::dma:
      in.rank = 3;
      in.shape = {2, 3, 64, 0};
      in.dst = mem(Space::sram, DType::bf16, 3, 0x100 + seed);
      in.a = mem(Space::hbm, DType::bf16, 3, 0x123456789ull);
      if (o.op == Op::store) std::swap(in.dst, in.a);
      break;
    case Format::gather:
      in.rank = 2;
      in.shape = {8, 128, 0, 0};
      in.dst = mem(Space::sram, DType::fp16, 2, 0x4000);
      in.a = mem(Space::hbm, DType::fp16, 2, 0x10000);
      in.b = mem(Space::sram, DType::int32, 1, 0x20);
      if (o.op == Op::store_scatter) std::swap(in.dst, in.a);
      break;
    case Format::ldw:
      in.rank = 2;
      in.shape = {256, 128, 0, 0};
      in.a = mem(Space::sram, DType::int4, 2, 0x800);
      break;
    case Format::mmrun:
      in.rank = 3;
      in.shape = {77, 256, 128, 0};
      in.dst = mem(Space::acc, DType::int32, 2, 0x0);
      in.a = mem(Space::sram, DType::uint8, 2, 0x8000);
      in.param[0] = 1;
      break;
    default:
      in.rank = 2;
      in.shape = {4, 1000, 0, 0};
      in.dst = mem(Space::sram, DType::fp8e5m2, 2, 0x9000);
      in.a = mem(Space::acc, DType::fp32, 2, 0x40);
      in.b = seed % 2 ? Operand::imm_float(-0.3f) : mem(Space::sram, DType::bf16, 2, 0x1000);
      if (o.format == Format::unary || o.format == Format::reduce) in.b = Operand{};
      if (o.op == Op::v_argmax || o.op == Op::v_argmin) in.dst.dtype = DType::int32;
      if (o.format == Format::quant) in.param[0] = -3;
      in.param[o.format == Format::quant ? 1 : 0] = seed % 2;
      break;
  }
  return in;
}

Program sample_program() {
  Program p;
  auto chip = arch::find_chip("seedchip-v1");
  p.target = chip.name;
  p.fingerprint = chip.isa_fingerprint();
  p.symbols.push_back({"x", SymbolKind::input, DType::bf16, {4, 1000}, 0x0});
  p.symbols.push_back({"y", SymbolKind::output, DType::fp8e4m3, {3}, 0x10000});
  p.data.push_back({0x20000, {1, 2, 3, 250, 0, 7}});
  p.metadata = "{\"model\": \"a \\\"quoted\\\" name\",\n \"x\": [1, 2]}";
  CoreCode c0{0, {}}, c3{3, {}};
  uint32_t seed = 1;
  for (const auto& o : all_ops()) {
    c0.code.push_back(sample_instr(o, seed++));
    c3.code.push_back(sample_instr(o, seed++));
  }
  p.cores = {c0, c3};
  return p;
}

std::string asm_error(const std::string& text) {
  try {
    assemble(text, "t.s");
  } catch (const AsmError& e) {
    return e.what();
  }
  return "no error";
}

std::string load_error(const std::vector<uint8_t>& bytes) {
  try {
    deserialize(bytes, "p.bin");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

// Recomputes the trailing CRC so that structural checks are reached.
void fix_crc(std::vector<uint8_t>& b);

}  // namespace

TEST(Isa, EveryOpcodeHasAUniqueMnemonicAndValidSample) {
  std::set<std::string_view> seen;
  for (const auto& o : all_ops()) {
    EXPECT_TRUE(seen.insert(o.mnemonic).second) << o.mnemonic;
    EXPECT_EQ(op_by_mnemonic(o.mnemonic), &o);
    EXPECT_EQ(op_info(o.op), &o);
    EXPECT_EQ(check_instr(sample_instr(o, 3)), "") << o.mnemonic;
  }
  EXPECT_GT(seen.size(), 50u);
  EXPECT_EQ(op_info(static_cast<Op>(0xEE)), nullptr);
}

TEST(Isa, ContainerRoundTrip) {
  Program p = sample_program();
  auto bytes = serialize(p);
  Program q = deserialize(bytes, "mem");
  EXPECT_EQ(p, q);
  EXPECT_EQ(serialize(q), bytes);
}

TEST(Isa, AsmDisasmAsmGivesIdenticalBytesForEveryOpcode) {
  Program p = sample_program();
  auto bytes = serialize(p);
  std::string text = disassemble(p);
  Program q = assemble(text, "disasm.s");
  EXPECT_EQ(serialize(q), bytes);
  EXPECT_EQ(disassemble(q), text);
  // every opcode appears in the text
  for (const auto& o : all_ops()) EXPECT_NE(text.find(std::string(o.mnemonic) + " "), std::string::npos) << o.mnemonic;
}

TEST(Isa, ImmediatesRoundTripExactly) {
  for (float v : {0.1f, -0.0f, 1e-45f, 3.4028235e38f, INFINITY, -INFINITY, NAN, 1024.0f}) {
    Instr in = sample_instr(*op_by_mnemonic("v.add"), 1);
    in.b = Operand::imm_float(v);
    std::string line = format_instr(in);
    Program p = assemble(".chip seedchip-v1\n.core 0\n" + line + "\n", "imm.s");
    EXPECT_EQ(p.cores[0].code[0].b.addr, in.b.addr) << line;
  }
  // decimal literals round once to fp32; beyond its range: inf or zero
  for (auto [lit, want] : {std::pair{"+1.5", 1.5f}, {"3.4e39", INFINITY}, {"-1e400", -INFINITY}, {"1e-50", 0.0f},
                           {"0.1", 0.1f}, {"-1e-46", -0.0f}}) {
    Program q = assemble(std::string(".chip seedchip-v1\n.core 0\nv.add dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] b=imm:fp32:") +
                             lit + " shape=[1]\n", "lit.s");
    EXPECT_EQ(std::bit_cast<uint32_t>(q.cores[0].code[0].b.imm_f32()), std::bit_cast<uint32_t>(want)) << lit;
  }
  Instr in = sample_instr(*op_by_mnemonic("v.add"), 1);
  in.b = Operand::imm_int(-2147483647 - 1);
  Program p = assemble(".chip seedchip-v1\n.core 0\n" + format_instr(in) + "\n", "imm.s");
  EXPECT_EQ(p.cores[0].code[0].b.imm_i32(), -2147483647 - 1);
}

TEST(Isa, AssemblerResolvesSymbolsAndDefaults) {
  Program p = assemble(R"(.chip seedchip-v1
.tensor A input int8 [4, 8] @0x100   ; comment
.core 2
  load dst=sram:0x0:int8[8, 1] a=hbm:A+8:int8[8,1] shape=[3, 8] signal=4
  v.relu dst=sram:0x0:int8[8,1] a=sram:0x0:int8[8,1] shape=[3,8]
  nop engine=matrix wait=4
)",
                       "s.s");
  ASSERT_EQ(p.cores.size(), 1u);
  EXPECT_EQ(p.cores[0].core, 2u);
  const auto& c = p.cores[0].code;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].a.addr, 0x108u);
  EXPECT_EQ(c[0].signal, 4);
  EXPECT_EQ(c[0].wait, kNoSem);
  EXPECT_EQ(c[1].param[0], 1);  // sat defaults to 1
  EXPECT_EQ(c[2].engine(), Engine::matrix);
  EXPECT_EQ(p.find_symbol("A")->bytes(), 32u);
  EXPECT_EQ(p.fingerprint, arch::find_chip("seedchip-v1").isa_fingerprint());
}

TEST(Isa, AssemblerErrorsNameFileLineAndReason) {
  const std::string h = ".chip seedchip-v1\n.core 0\n";
  EXPECT_EQ(asm_error(h + "mm.foo a=1\n"), "t.s:3: unknown instruction 'mm.foo'");
  EXPECT_EQ(asm_error(h + "v.relu dst=sram:0x0:fp32[1] shape=[4]\n"), "t.s:3: v.relu: missing field 'a'");
  EXPECT_EQ(asm_error(h + "v.relu dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[4] bogus=1\n"),
            "t.s:3: v.relu: unknown field 'bogus' (fields: dst, a, shape, sat, wait, signal)");
  EXPECT_EQ(asm_error(h + "v.relu dst=sram:0x0:fp33[1] a=sram:0x0:fp32[1] shape=[4]\n"),
            "t.s:3: v.relu dst: unknown dtype 'fp33'");
  EXPECT_EQ(asm_error(h + "v.relu dst=dram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[4]\n"),
            "t.s:3: v.relu dst: unknown memory space 'dram' (hbm, sram, acc, imm)");
  EXPECT_EQ(asm_error(h + "v.relu dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[4] wait=40\n"),
            "t.s:3: v.relu: wait=40: chip seedchip-v1 has semaphores 0..31");
  EXPECT_EQ(asm_error(h + "v.relu dst=sram:0x0:fp32[1,1] a=sram:0x0:fp32[1] shape=[4]\n"),
            "t.s:3: v.relu: operand dst has 2 strides, expected 1");
  EXPECT_EQ(asm_error(h + "load dst=hbm:0x0:fp32[1] a=sram:0x0:fp32[1] shape=[4]\n"),
            "t.s:3: load: dst must be this core's sram or acc");
  EXPECT_EQ(asm_error(h + "load dst=sram:0x0:fp32[1] a=hbm:Q:fp32[1] shape=[4]\n"),
            "t.s:3: load a: unknown symbol 'Q'");
  EXPECT_EQ(asm_error(h + "v.add dst=sram:0x0:fp32[1] a=sram:0x0:fp32[1] b=imm:fp32:abc shape=[4]\n"),
            "t.s:3: v.add b: 'abc' is not a number");
  EXPECT_EQ(asm_error(h + "mm.run dst=acc:0x0:int32[1,1] a=sram:0x0:int8[1,1] shape=[4,4,0]\n"),
            "t.s:3: mm.run: shape dimension 2 is zero");
  EXPECT_EQ(asm_error(".chip seedchip-v1\n.core 8\n"), "t.s:2: .core 8: chip seedchip-v1 has 8 cores");
  EXPECT_EQ(asm_error(".core 0\n"), "t.s:1: .chip must come before .core");
  EXPECT_EQ(asm_error("; nothing\n"), "t.s: no .chip directive");
  EXPECT_EQ(asm_error(".chip seedchip-v1\nnop engine=matrix\n"), "t.s:2: instruction before any .core directive");
  EXPECT_EQ(asm_error(".chip seedchip-v1\n.bogus\n"), "t.s:2: unknown directive '.bogus'");
  EXPECT_NE(asm_error(".chip no-such-chip\n").find("t.s:1: .chip: "), std::string::npos);
}

namespace {
void fix_crc(std::vector<uint8_t>& b) {
  // Rebuild the checksum by reserialising the header+body bytes as-is.
  const size_t n = b.size() - 4;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= b[i];
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xFFFFFFFFu;
  for (int i = 0; i < 4; ++i) b[n + i] = static_cast<uint8_t>(crc >> (8 * i));
}
}  // namespace

TEST(Isa, ContainerErrors) {
  auto good = serialize(sample_program());
  EXPECT_EQ(load_error({1, 2, 3}), "p.bin: not a seedchip program: 3 bytes is shorter than the header");
  auto bad = good;
  bad[0] = 'X';
  EXPECT_EQ(load_error(bad), "p.bin: not a seedchip program: bad magic (expected \"SEEDCHIP\")");
  bad = good;
  bad[8] = 9;
  EXPECT_EQ(load_error(bad), "p.bin: format version 9 is not supported (this build reads 1)");
  bad = good;
  bad[40] ^= 0x10;
  EXPECT_NE(load_error(bad).find("p.bin: checksum mismatch"), std::string::npos);
  bad.assign(good.begin(), good.end() - 100);
  EXPECT_NE(load_error(bad).find("checksum mismatch"), std::string::npos);
  // With a valid checksum, structural checks still catch an unknown opcode.
  Program p;
  p.target = "seedchip-v1";
  p.cores.push_back({0, {sample_instr(*op_by_mnemonic("barrier"), 3)}});
  bad = serialize(p);
  // find the barrier opcode byte (1) inside the code section: header 16, target section
  const size_t code_at = 16 + 12 + 2 + p.target.size() + 8 + 12 + 8;
  ASSERT_EQ(bad[code_at], static_cast<uint8_t>(Op::barrier));
  bad[code_at] = 0xEE;
  fix_crc(bad);
  EXPECT_EQ(load_error(bad), fmt::format("p.bin: offset 0x{:x}: unknown opcode 0xee (core 0 instruction #0)", code_at));
}

TEST(Isa, CorruptedContainersAlwaysFailCleanly) {
  const auto good = serialize(sample_program());
  std::mt19937 g(42);
  int errors = 0;
  for (int trial = 0; trial < 600; ++trial) {
    auto b = good;
    switch (trial % 4) {
      case 0: b[g() % b.size()] ^= static_cast<uint8_t>(1u << (g() % 8)); break;
      case 1: b.resize(g() % b.size()); break;
      case 2: for (int k = 0; k < 8; ++k) b[16 + g() % (b.size() - 20)] = static_cast<uint8_t>(g()); break;
      case 3: b.assign(g() % 2000, 0); for (auto& x : b) x = static_cast<uint8_t>(g()); break;
    }
    if (trial % 8 == 2) fix_crc(b);  // reach the structural checks too
    try {
      Program q = deserialize(b, "fuzz");
      // A corruption that still decodes must be a valid program that re-encodes.
      EXPECT_EQ(deserialize(serialize(q), "again"), q);
    } catch (const FormatError& e) {
      ++errors;
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      EXPECT_EQ(std::string(e.what()).rfind("fuzz: ", 0), 0u) << e.what();
    }
  }
  EXPECT_GT(errors, 500);
}
