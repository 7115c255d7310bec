// seedchip — the precision policies (docs/llm.md "Precisions").
#include "seedchip/llm/precision.h"

#include <stdexcept>

#include <fmt/format.h>

namespace seedchip::llm {

using ir::ElemType;

const std::vector<std::string>& precision_names() {
  static const std::vector<std::string> n = {"fp32", "bf16", "fp8", "int8", "w8a16", "w4a16"};
  return n;
}

PrecisionPolicy precision_policy(std::string_view name) {
  PrecisionPolicy p;
  p.name = std::string(name);
  if (name == "fp32") {
    p.weights = p.activations = p.gemm_inputs = p.lm_head = ElemType::f32;
    p.kv_cache = ElemType::bf16;  // the timing graphs keep the cache in bf16
    p.weight_bytes = 4;
    p.peak = DType::fp32;
    p.generation_weights = ElemType::f32;
    p.can_generate = true;
  } else if (name == "bf16") {
    p.generation_weights = ElemType::bf16;
    p.can_generate = true;
  } else if (name == "fp8") {
    // fp8 weights, GEMM inputs cast in the previous op's epilogue, fp8 KV cache
    p.weights = p.gemm_inputs = p.kv_cache = p.lm_head = ElemType::f8e4m3;
    p.weight_bytes = 1;
    p.compile = compiler::Precision::fp8;
    p.peak = DType::fp8e4m3;
    p.can_generate = true;  // from f32 weights the compiler quantises
  } else if (name == "int8") {
    p.weights = p.gemm_inputs = p.lm_head = ElemType::i8;
    p.weight_bytes = 1;
    p.compile = compiler::Precision::int8;
    p.peak = DType::int8;
    p.can_generate = true;
  } else if (name == "w8a16") {
    p.weights = p.lm_head = ElemType::f8e4m3;  // widened to bf16 on the vector engine
    p.weight_bytes = 1;
  } else if (name == "w4a16") {
    p.weights = ElemType::u8;  // two int4 per byte
    p.weight_bytes = 0.5;
    p.int4_weights = true;
  } else {
    throw std::runtime_error(
        fmt::format("--precision '{}': expected {}", name, fmt::join(precision_names(), ", ")));
  }
  return p;
}

void check_precision_supported(const PrecisionPolicy& p, const arch::Chip& chip) {
  if (!p.quantized_activations()) return;
  const DType t = p.compile == compiler::Precision::fp8 ? DType::fp8e4m3 : DType::int8;
  if (!chip.matrix_supports(t))
    throw std::runtime_error(fmt::format(
        "--precision {}: chip '{}' has no {} matrix support (its matrix dtypes: see `seedchip chip show {}`)", p.name,
        chip.name, p.name, chip.name));
}

}  // namespace seedchip::llm
