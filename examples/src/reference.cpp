// seedchip — plain C++ references for the example programs. Written
// independently of the simulator: simple loops over the mathematical
// definition, no shared code beyond the standard library.
#include <cmath>
#include <random>
#include <stdexcept>

#include "seedchip/examples/examples.h"

namespace seedchip::examples {

std::vector<int8_t> random_int8(size_t n, uint32_t seed, int lo, int hi) {
  std::mt19937 g(seed);
  std::vector<int8_t> v(n);
  const uint32_t span = static_cast<uint32_t>(hi - lo + 1);
  for (auto& x : v) x = static_cast<int8_t>(lo + static_cast<int>(g() % span));
  return v;
}

std::vector<int32_t> random_int32(size_t n, uint32_t seed, int32_t lo, int32_t hi) {
  std::mt19937 g(seed);
  std::vector<int32_t> v(n);
  const uint64_t span = static_cast<uint64_t>(static_cast<int64_t>(hi) - lo + 1);
  for (auto& x : v) x = static_cast<int32_t>(lo + static_cast<int64_t>(g() % span));
  return v;
}

std::vector<float> random_f32(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 g(seed);
  std::vector<float> v(n);
  // 24 random bits -> [0, 1) exactly representable; independent of libstdc++'s distributions.
  for (auto& x : v) x = lo + (hi - lo) * static_cast<float>(g() >> 8) * (1.0f / 16777216.0f);
  return v;
}

std::vector<int8_t> gemm_bias_relu_ref(const std::vector<int8_t>& a, const std::vector<int8_t>& b,
                                       const std::vector<int32_t>& bias, int m, int k, int n, float scale) {
  std::vector<int8_t> c(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      int64_t s = bias[j];
      for (int kk = 0; kk < k; ++kk) s += static_cast<int64_t>(a[i * k + kk]) * b[kk * n + j];
      if (s < 0) s = 0;
      double q = std::nearbyint(static_cast<double>(s) / scale);  // ties to even
      c[i * n + j] = static_cast<int8_t>(q > 127 ? 127 : q < -128 ? -128 : q);
    }
  return c;
}

std::vector<float> softmax_isa_ref(const std::vector<float>& x, int rows, int cols) {
  std::vector<float> y(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* xr = &x[static_cast<size_t>(r) * cols];
    float mx = xr[0];
    for (int c = 1; c < cols; ++c) mx = xr[c] > mx ? xr[c] : mx;
    float sum = 0.0f;
    for (int c = 0; c < cols; ++c) {
      float e = static_cast<float>(std::exp(static_cast<double>(xr[c] - mx)));
      y[static_cast<size_t>(r) * cols + c] = e;
      sum += e;
    }
    float inv = 1.0f / sum;
    for (int c = 0; c < cols; ++c) y[static_cast<size_t>(r) * cols + c] *= inv;
  }
  return y;
}

std::vector<double> softmax_exact(const std::vector<float>& x, int rows, int cols) {
  std::vector<double> y(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* xr = &x[static_cast<size_t>(r) * cols];
    double mx = xr[0];
    for (int c = 1; c < cols; ++c) mx = std::max<double>(mx, xr[c]);
    double sum = 0;
    for (int c = 0; c < cols; ++c) sum += std::exp(xr[c] - mx);
    for (int c = 0; c < cols; ++c) y[static_cast<size_t>(r) * cols + c] = std::exp(xr[c] - mx) / sum;
  }
  return y;
}

std::vector<int32_t> matmul_relu_ref(const std::vector<int8_t>& x, const std::vector<int8_t>& w, int m, int k,
                                     int n) {
  std::vector<int32_t> y(static_cast<size_t>(m) * n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      int64_t s = 0;
      for (int kk = 0; kk < k; ++kk) s += static_cast<int64_t>(x[i * k + kk]) * w[kk * n + j];
      y[i * n + j] = static_cast<int32_t>(s > 0 ? s : 0);
    }
  return y;
}

const Example& get(std::string_view name) {
  for (const auto& e : all())
    if (e.name == name) return e;
  throw std::out_of_range("no example named " + std::string(name));
}

}  // namespace seedchip::examples
