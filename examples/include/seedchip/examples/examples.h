// seedchip — the hand-written example programs in examples/ and plain C++
// references that compute what each one must produce.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seedchip::examples {

/// One example program shipped in examples/ (embedded at build time).
struct Example {
  std::string_view name;  ///< file stem, e.g. "gemm_bias_relu"
  std::string_view text;  ///< the assembly source
};

/// All embedded examples, sorted by name.
const std::vector<Example>& all();
/// The example called `name`; throws std::out_of_range if none.
const Example& get(std::string_view name);

/// Deterministic int8 test data (mt19937 with `seed`, uniform over [lo, hi]).
std::vector<int8_t> random_int8(size_t n, uint32_t seed, int lo = -128, int hi = 127);
/// Deterministic int32 test data (mt19937 with `seed`, uniform over [lo, hi]).
std::vector<int32_t> random_int32(size_t n, uint32_t seed, int32_t lo, int32_t hi);
/// Deterministic fp32 test data (mt19937 with `seed`, uniform over [lo, hi)).
std::vector<float> random_f32(size_t n, uint32_t seed, float lo, float hi);

/// gemm_bias_relu: C = sat_int8(round_even(max(0, A*B + bias) / scale)), row-major,
/// A m x k, B k x n, bias n; int32 accumulation.
std::vector<int8_t> gemm_bias_relu_ref(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                       const std::vector<int32_t>& bias, int m, int k, int n, float scale);

/// softmax along rows, emulating the vector engine's documented per-op
/// rounding exactly (max, subtract, exp via double, in-order fp32 sum,
/// reciprocal, multiply): must match the chip bit for bit.
std::vector<float> softmax_isa_ref(const std::vector<float>& x, int rows, int cols);
/// softmax along rows computed in double precision (the mathematical value).
std::vector<double> softmax_exact(const std::vector<float>& x, int rows, int cols);

/// two_core_splitk: Y = max(0, X*W) with int32 accumulation, X m x k, W k x n.
std::vector<int32_t> matmul_relu_ref(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int m, int k,
                                     int n);

}  // namespace seedchip::examples
