// AVX-512 GEMV/GEMM for f32, bf16 and f16 weights. Weights are widened to f32 in registers and
// accumulated with f32 FMAs, so bf16/f16 results equal f32 math on the same (rounded) weights.
// Every output element is computed the same way (16 lane partial sums in k order, then one
// horizontal add) whatever tile it falls in, so decode (GEMV) and prefill (GEMM) agree bit for bit.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "kernels/matmul_impl.h"

#if LFM_HAVE_AVX512

namespace lfm::internal {
namespace {

struct LoadF32 {
  using T = float;
  static __m512 Load(const T* p) { return _mm512_loadu_ps(p); }
  static __m512 LoadMasked(const T* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
};

struct LoadBF16 {
  using T = uint16_t;
  static __m512 Widen(__m256i v) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
  }
  static __m512 Load(const T* p) { return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static __m512 LoadMasked(const T* p, __mmask16 m) { return Widen(_mm256_maskz_loadu_epi16(m, p)); }
};

struct LoadF16 {
  using T = uint16_t;
  static __m512 Load(const T* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static __m512 LoadMasked(const T* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
};

// R weight rows x T tokens, register-blocked; w points at the first of R rows (stride K elements).
template <class L, int R, int T>
inline void Tile(const typename L::T* w, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  __m512 acc[R][T];
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + t * ldx + k);
    for (int r = 0; r < R; ++r) {
      __m512 wv = L::Load(w + r * K + k);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (k < K) {
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1u);
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
    for (int r = 0; r < R; ++r) {
      __m512 wv = L::LoadMasked(w + r * K + k, m);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

template <class L>
void Rows(const TensorView& wt, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
          int64_t r1) {
  using T = typename L::T;
  const T* base = static_cast<const T*>(wt.data);
  const int64_t K = wt.cols();
  if (n == 1) {
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) Tile<L, 8, 1>(base + r * K, x, ldx, K, y + r, ldy);
    for (; r + 4 <= r1; r += 4) Tile<L, 4, 1>(base + r * K, x, ldx, K, y + r, ldy);
    for (; r < r1; ++r) Tile<L, 1, 1>(base + r * K, x, ldx, K, y + r, ldy);
    return;
  }
  // Prefill: a block of tokens stays in L2 while 4-row weight tiles (L1) sweep over it, so each
  // weight byte is read from memory once per token block rather than once per token.
  const int64_t tok_block = std::max<int64_t>(4, std::min<int64_t>(64, (256 * 1024) / (4 * K)) & ~int64_t{3});
  for (int64_t t0 = 0; t0 < n; t0 += tok_block) {
    const int64_t t1 = std::min(n, t0 + tok_block);
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      const T* w = base + r * K;
      int64_t t = t0;
      for (; t + 4 <= t1; t += 4) Tile<L, 4, 4>(w, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
      for (; t < t1; ++t) Tile<L, 4, 1>(w, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
    }
    for (; r < r1; ++r) {
      const T* w = base + r * K;
      int64_t t = t0;
      for (; t + 4 <= t1; t += 4) Tile<L, 1, 4>(w, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
      for (; t < t1; ++t) Tile<L, 1, 1>(w, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
    }
  }
}

}  // namespace

void MatMulRowsF32Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                         int64_t r0, int64_t r1) {
  Rows<LoadF32>(w, x, n, ldx, y, ldy, r0, r1);
}
void MatMulRowsBF16Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                          int64_t ldy, int64_t r0, int64_t r1) {
  Rows<LoadBF16>(w, x, n, ldx, y, ldy, r0, r1);
}
void MatMulRowsF16Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                         int64_t r0, int64_t r1) {
  Rows<LoadF16>(w, x, n, ldx, y, ldy, r0, r1);
}

}  // namespace lfm::internal

#endif  // LFM_HAVE_AVX512
