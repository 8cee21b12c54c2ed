// AVX2 + FMA micro-kernels of GemmPacked (vision_gemm.h): the AVX-512 scheme (vision_gemm_avx512.cpp)
// on 8-lane vectors. A 48-row panel is 6 vectors; 2 tokens per micro-tile keep 12 accumulators, 2
// broadcasts and 1 weight vector in the 16 ymm registers. vision_gemm.cpp picks them when ActiveIsa()
// is avx2 and runs them over DefaultThreadPool().
#include <algorithm>
#include <cstdint>

#include "kernels/vision_gemm_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

constexpr int kVecs = PackedGemmMatrix::kPanel / 8;  // 6 vectors per panel row
constexpr int kMR = 2;                                // tokens per micro-tile
constexpr int64_t kMC = 128;                          // tokens per L2 block

struct PanelF32 {
  using T = float;
  static __m256 Load(const T* p) { return _mm256_loadu_ps(p); }
  static constexpr int64_t kKC = 128;  // 128 x 48 x 4 B = 24 KiB of panel in L1
};
struct PanelBF16 {
  using T = uint16_t;
  static __m256 Load(const T* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static constexpr int64_t kKC = 256;  // 256 x 48 x 2 B = 24 KiB
};

// y[MR][48] (+)= x[MR][kc] * panel[kc][48]. `first`: start from the bias (or 0) instead of y.
// mask[c]: lanes of vector c that are real output rows (the last panel may be partial).
template <class L, int MR>
inline void MicroKernel(const float* x, int64_t ldx, const typename L::T* w, int64_t kc, float* y, int64_t ldy,
                        bool first, const float* bias, const __m256i (&mask)[kVecs]) {
  constexpr int P = PackedGemmMatrix::kPanel;
  __m256 acc[MR][kVecs];
  for (int c = 0; c < kVecs; ++c) {
    const __m256 init = bias ? _mm256_maskload_ps(bias + 8 * c, mask[c]) : _mm256_setzero_ps();
    for (int m = 0; m < MR; ++m) acc[m][c] = first ? init : _mm256_maskload_ps(y + m * ldy + 8 * c, mask[c]);
  }
  for (int64_t k = 0; k < kc; ++k) {
    __m256 xb[MR];
    for (int m = 0; m < MR; ++m) xb[m] = _mm256_broadcast_ss(x + m * ldx + k);
    for (int c = 0; c < kVecs; ++c) {
      const __m256 wv = L::Load(w + k * P + 8 * c);
      for (int m = 0; m < MR; ++m) acc[m][c] = _mm256_fmadd_ps(xb[m], wv, acc[m][c]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int c = 0; c < kVecs; ++c) _mm256_maskstore_ps(y + m * ldy + 8 * c, mask[c], acc[m][c]);
}

template <class L>
void GemmPanels(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy, int64_t p0, int64_t p1) {
  using T = typename L::T;
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t K = w.cols();
  for (int64_t t0 = 0; t0 < n; t0 += kMC) {
    const int64_t t1 = std::min(n, t0 + kMC);
    for (int64_t k0 = 0; k0 < K; k0 += L::kKC) {
      const int64_t kc = std::min(L::kKC, K - k0);
      const bool first = k0 == 0;
      for (int64_t p = p0; p < p1; ++p) {
        const T* wp = reinterpret_cast<const T*>(w.panel(p)) + k0 * P;
        const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
        __m256i mask[kVecs];
        for (int c = 0; c < kVecs; ++c) {
          const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
          mask[c] = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(valid - 8 * c)), lane);
        }
        const float* bp = bias && first ? bias + p * P : nullptr;
        float* yp = y + p * P;
        int64_t t = t0;
        for (; t + kMR <= t1; t += kMR) {
          MicroKernel<L, kMR>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask);
        }
        if (t < t1) MicroKernel<L, 1>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask);
      }
    }
  }
}

// Panels [p0, p1) of y for all n tokens, on the calling thread.
void GemmPanelRange(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                    int64_t ldy, int64_t p0, int64_t p1) {
  if (w.dtype() == DType::kBF16) {
    GemmPanels<PanelBF16>(w, x, n, ldx, bias, y, ldy, p0, p1);
  } else {
    GemmPanels<PanelF32>(w, x, n, ldx, bias, y, ldy, p0, p1);
  }
}

}  // namespace
}  // namespace lfm::avx2

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx2 {

GemmPanelRangeFn GemmPanelKernel() {
#if defined(__x86_64__)
  return GemmPanelRange;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx2
