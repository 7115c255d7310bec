// seedchip — the matrix engine's floating-point inner kernel, register-blocked.
//
// Each output element is a chain of k fused multiply-adds in k order; that
// order is the ISA's and is kept. What the blocked variants change is only
// how many chains advance together: a block of rows x columns of partial
// sums stays in vector registers for the whole k loop, where the plain loop
// reloaded and stored every partial sum at every k (memory-bound).
#include "mm_kernels.h"

#include <cmath>
#include <cstddef>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#define SEEDCHIP_X86 1
#endif

namespace seedchip::sim::detail {

namespace {

void mm_generic(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo, uint32_t m, uint32_t k,
                uint32_t n, bool add) {
  std::vector<float> row(n);
  for (uint32_t i = 0; i < m; ++i) {
    float* o = out + static_cast<ptrdiff_t>(i) * ldo;
    for (uint32_t j = 0; j < n; ++j) row[j] = 0.0f;
    for (uint32_t kk = 0; kk < k; ++kk) {
      const float av = a[static_cast<ptrdiff_t>(i) * lda + kk];
      const float* wr = w + static_cast<size_t>(kk) * n;
      for (uint32_t j = 0; j < n; ++j) row[j] = std::fma(av, wr[j], row[j]);
    }
    for (uint32_t j = 0; j < n; ++j) o[j] = add ? row[j] + o[j] : row[j];
  }
}

#if SEEDCHIP_X86

// ---- AVX-512: blocks of up to 8 rows x 32 columns (16 accumulators) ----

template <int R>
[[gnu::target("avx512f")]] inline void block512(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                                uint32_t k, uint32_t n, uint32_t j0, __mmask16 m0, __mmask16 m1,
                                                bool add) {
  __m512 c0[R], c1[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm512_setzero_ps();
  const float* wr = w + j0;
  for (uint32_t kk = 0; kk < k; ++kk, wr += n) {
    const __m512 w0 = _mm512_maskz_loadu_ps(m0, wr), w1 = _mm512_maskz_loadu_ps(m1, wr + 16);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + kk]);
      c0[r] = _mm512_fmadd_ps(av, w0, c0[r]);
      c1[r] = _mm512_fmadd_ps(av, w1, c1[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* o = out + r * ldo + j0;
    if (add) {  // the finished partial sum plus what the accumulator held (psum first, as the plain loop)
      c0[r] = _mm512_add_ps(c0[r], _mm512_maskz_loadu_ps(m0, o));
      c1[r] = _mm512_add_ps(c1[r], _mm512_maskz_loadu_ps(m1, o + 16));
    }
    _mm512_mask_storeu_ps(o, m0, c0[r]);
    _mm512_mask_storeu_ps(o + 16, m1, c1[r]);
  }
}

template <int R>
[[gnu::target("avx512f")]] void rows512(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                        uint32_t k, uint32_t n, bool add) {
  for (uint32_t j0 = 0; j0 < n; j0 += 32) {
    const uint32_t rem = n - j0;
    const auto m0 = static_cast<__mmask16>(rem >= 16 ? 0xffffu : (1u << rem) - 1);
    const auto m1 = static_cast<__mmask16>(rem >= 32 ? 0xffffu : rem > 16 ? (1u << (rem - 16)) - 1 : 0u);
    block512<R>(a, lda, w, out, ldo, k, n, j0, m0, m1, add);
  }
}

[[gnu::target("avx512f")]] void mm_avx512(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                          uint32_t m, uint32_t k, uint32_t n, bool add) {
  uint32_t i = 0;
  for (; i + 8 <= m; i += 8) rows512<8>(a + i * lda, lda, w, out + i * ldo, ldo, k, n, add);
  const float* ar = a + i * lda;
  float* o = out + i * ldo;
  switch (m - i) {
    case 7: rows512<7>(ar, lda, w, o, ldo, k, n, add); break;
    case 6: rows512<6>(ar, lda, w, o, ldo, k, n, add); break;
    case 5: rows512<5>(ar, lda, w, o, ldo, k, n, add); break;
    case 4: rows512<4>(ar, lda, w, o, ldo, k, n, add); break;
    case 3: rows512<3>(ar, lda, w, o, ldo, k, n, add); break;
    case 2: rows512<2>(ar, lda, w, o, ldo, k, n, add); break;
    case 1: rows512<1>(ar, lda, w, o, ldo, k, n, add); break;
    default: break;
  }
}

// ---- AVX2 + FMA: blocks of up to 6 rows x 16 columns (12 accumulators) ----

[[gnu::target("avx2,fma")]] inline __m256i mask8(uint32_t rem) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(rem > 8 ? 8 : rem)), idx);
}

template <int R>
[[gnu::target("avx2,fma")]] inline void block256(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                                 uint32_t k, uint32_t n, uint32_t j0, __m256i m0, __m256i m1,
                                                 bool add) {
  __m256 c0[R], c1[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) c0[r] = c1[r] = _mm256_setzero_ps();
  const float* wr = w + j0;
  for (uint32_t kk = 0; kk < k; ++kk, wr += n) {
    const __m256 w0 = _mm256_maskload_ps(wr, m0), w1 = _mm256_maskload_ps(wr + 8, m1);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * lda + kk);
      c0[r] = _mm256_fmadd_ps(av, w0, c0[r]);
      c1[r] = _mm256_fmadd_ps(av, w1, c1[r]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    float* o = out + r * ldo + j0;
    if (add) {
      c0[r] = _mm256_add_ps(c0[r], _mm256_maskload_ps(o, m0));
      c1[r] = _mm256_add_ps(c1[r], _mm256_maskload_ps(o + 8, m1));
    }
    _mm256_maskstore_ps(o, m0, c0[r]);
    _mm256_maskstore_ps(o + 8, m1, c1[r]);
  }
}

template <int R>
[[gnu::target("avx2,fma")]] void rows256(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                         uint32_t k, uint32_t n, bool add) {
  for (uint32_t j0 = 0; j0 < n; j0 += 16) {
    const uint32_t rem = n - j0;
    block256<R>(a, lda, w, out, ldo, k, n, j0, mask8(rem), mask8(rem > 8 ? rem - 8 : 0), add);
  }
}

[[gnu::target("avx2,fma")]] void mm_avx2(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo,
                                         uint32_t m, uint32_t k, uint32_t n, bool add) {
  uint32_t i = 0;
  for (; i + 6 <= m; i += 6) rows256<6>(a + i * lda, lda, w, out + i * ldo, ldo, k, n, add);
  const float* ar = a + i * lda;
  float* o = out + i * ldo;
  switch (m - i) {
    case 5: rows256<5>(ar, lda, w, o, ldo, k, n, add); break;
    case 4: rows256<4>(ar, lda, w, o, ldo, k, n, add); break;
    case 3: rows256<3>(ar, lda, w, o, ldo, k, n, add); break;
    case 2: rows256<2>(ar, lda, w, o, ldo, k, n, add); break;
    case 1: rows256<1>(ar, lda, w, o, ldo, k, n, add); break;
    default: break;
  }
}

// 16 x 16 transpose in registers: pairs, then quads within 128-bit lanes,
// then lanes (the usual unpack / shuffle / shuffle_f32x4 sequence). GCC 12
// warns inside its own header that _mm512_unpacklo_ps's unused merge operand
// (_mm512_undefined_ps) is uninitialised; it is by design.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
[[gnu::target("avx512f")]] void transpose512(uint8_t* dst, ptrdiff_t dst_row, const uint8_t* src, ptrdiff_t src_row) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_ps(src + i * src_row);
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int h = 0; h < 16; h += 8)
    for (int i = 0; i < 4; ++i) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xdd);
    }
  for (int i = 0; i < 8; ++i) {
    _mm512_storeu_ps(dst + i * dst_row, _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88));
    _mm512_storeu_ps(dst + (i + 8) * dst_row, _mm512_shuffle_f32x4(t[i], t[i + 8], 0xdd));
  }
}
#pragma GCC diagnostic pop

#endif  // SEEDCHIP_X86

MmIsa best_isa() {
  const auto all = available_mm_isas();
  return all.back();
}

}  // namespace

std::vector<MmIsa> available_mm_isas() {
  std::vector<MmIsa> v{MmIsa::generic};
#if SEEDCHIP_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) v.push_back(MmIsa::avx2);
  if (__builtin_cpu_supports("avx512f")) v.push_back(MmIsa::avx512);
#endif
  return v;
}

void mm_f32(MmIsa isa, const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo, uint32_t m, uint32_t k,
            uint32_t n, bool add) {
  if (m == 0 || n == 0) return;
  switch (isa) {
#if SEEDCHIP_X86
    case MmIsa::avx512: return mm_avx512(a, lda, w, out, ldo, m, k, n, add);
    case MmIsa::avx2: return mm_avx2(a, lda, w, out, ldo, m, k, n, add);
#endif
    default: return mm_generic(a, lda, w, out, ldo, m, k, n, add);
  }
}

void mm_f32(const float* a, ptrdiff_t lda, const float* w, float* out, ptrdiff_t ldo, uint32_t m, uint32_t k, uint32_t n,
            bool add) {
  static const MmIsa isa = best_isa();
  mm_f32(isa, a, lda, w, out, ldo, m, k, n, add);
}

void mm_f32(MmIsa isa, const float* a, const float* w, float* out, uint32_t m, uint32_t k, uint32_t n) {
  mm_f32(isa, a, k, w, out, n, m, k, n, false);
}

bool transpose16x16_b32(uint8_t* dst, ptrdiff_t dst_row, const uint8_t* src, ptrdiff_t src_row) {
#if SEEDCHIP_X86
  static const bool ok = best_isa() == MmIsa::avx512;
  if (ok) transpose512(dst, dst_row, src, src_row);
  return ok;
#else
  (void)dst, (void)dst_row, (void)src, (void)src_row;
  return false;
#endif
}

void mm_f32(const float* a, const float* w, float* out, uint32_t m, uint32_t k, uint32_t n) {
  mm_f32(a, k, w, out, n, m, k, n, false);
}

}  // namespace seedchip::sim::detail
