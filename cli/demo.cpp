// seedchip — the built-in demo job.
#include "demo.h"

#include <chrono>
#include <cstring>
#include <regex>

#include <fmt/format.h>

#include "seedchip/arch/chip.h"
#include "seedchip/examples/examples.h"
#include "seedchip/isa/assembler.h"
#include "seedchip/sim/functional.h"

namespace seedchip::cli {

int run_demo(const std::string& chip_name) {
  const arch::Chip chip = arch::find_chip(chip_name);
  // The example is written for seedchip-v1; retarget it (the program fits any
  // chip with a 256 x 256 int8 array and 320 KiB of SRAM per core).
  std::string text(examples::get("gemm_bias_relu").text);
  text = std::regex_replace(text, std::regex(R"(\.chip\s+\S+)"), ".chip " + chip_name);
  const isa::Program prog = isa::assemble(text, "examples/gemm_bias_relu.s");

  constexpr int M = 128, K = 512, N = 512;
  auto a = examples::random_int8(M * K, 1);
  auto b = examples::random_int8(K * N, 2);
  auto bias = examples::random_int32(N, 3, -50000, 50000);
  auto want = examples::gemm_bias_relu_ref(a, b, bias, M, K, N, 1024.0f);

  const auto t0 = std::chrono::steady_clock::now();
  sim::FunctionalSim sim(chip, prog);
  auto put = [&](const char* name, const void* data, size_t bytes) {
    sim.write_hbm(prog.find_symbol(name)->addr, {static_cast<const uint8_t*>(data), bytes});
  };
  put("A", a.data(), a.size());
  put("B", b.data(), b.size());
  put("bias", bias.data(), bias.size() * 4);
  const sim::RunStats st = sim.run();
  std::vector<int8_t> got(M * N);
  sim.read_hbm(prog.find_symbol("C")->addr, {reinterpret_cast<uint8_t*>(got.data()), got.size()});
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) mismatches += got[i] != want[i];
  fmt::print("seedchip demo: int8 GEMM {}x{}x{} + bias + ReLU + requantise on chip {}\n", M, K, N, chip.name);
  fmt::print("  chip: {} cores, {}x{} array at {:.0f} MHz, int8 peak {:.2f} TOP/s\n", chip.cores,
             chip.core.matrix.rows, chip.core.matrix.cols, chip.clock_hz / 1e6, chip.peak_ops_per_s(DType::int8) / 1e12);
  fmt::print("  executed {} instructions (dma_in {}, dma_out {}, matrix {}, vector {}, control {})\n", st.total(),
             st.instructions[0], st.instructions[1], st.instructions[2], st.instructions[3], st.instructions[4]);
  fmt::print("  {} MACs, {} bytes loaded, {} bytes stored, functional simulation {:.3f} s\n", st.macs,
             st.bytes_loaded, st.bytes_stored, wall);
  fmt::print("  C[0][0..7] = [");
  for (int j = 0; j < 8; ++j) fmt::print("{}{}", j ? ", " : "", got[j]);
  fmt::print("]\n");
  if (mismatches) {
    fmt::print("  result: MISMATCH in {} of {} elements against the C++ reference\n", mismatches, got.size());
    return 1;
  }
  fmt::print("  result: matches the C++ reference bit for bit ({} elements)\n", got.size());
  return 0;
}

}  // namespace seedchip::cli
