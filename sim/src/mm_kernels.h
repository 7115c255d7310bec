// seedchip — the matrix engine's floating-point inner kernel on the host.
// Internal to the simulator (and its tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace seedchip::sim::detail {

/// Host instruction-set variants of the kernel.
enum class MmIsa { generic, avx2, avx512 };

/// The variants this host can run (generic always), the best last.
std::vector<MmIsa> available_mm_isas();

/// out[i*n + j] = the fp32 partial sum of a[i*k + kk] * w[kk*n + j] over
/// kk = 0..k-1 in order, one fused multiply-add per step starting from +0
/// (docs/isa.md, "accumulation order"), for i < m, j < n. Every variant
/// gives the same bits: they differ only in how many partial sums they keep
/// in registers at once (the k order of each is unchanged).
void mm_f32(MmIsa isa, const float* a, const float* w, float* out, uint32_t m, uint32_t k, uint32_t n);

/// mm_f32 with the best variant of this host.
void mm_f32(const float* a, const float* w, float* out, uint32_t m, uint32_t k, uint32_t n);

/// The same partial sums with rows `lda` floats apart in `a` and `ldo` apart
/// in `out` (either may be negative); `add`: out = partial sum + out (the
/// accumulator's old value added once the k chain is done), else out = sum.
void mm_f32(MmIsa isa, const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo, uint32_t m, uint32_t k,
            uint32_t n, bool add);
void mm_f32(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo, uint32_t m, uint32_t k, uint32_t n,
            bool add);

/// Copies a 16 x 16 block of 4-byte elements transposed: dst[i][j] =
/// src[j][i], rows of 16 contiguous elements `src_row` / `dst_row` bytes
/// apart (the bits move unchanged). False when this host has no AVX-512: the
/// caller then copies element by element.
bool transpose16x16_b32(uint8_t* dst, ptrdiff_t dst_row, const uint8_t* src, ptrdiff_t src_row);

}  // namespace seedchip::sim::detail
