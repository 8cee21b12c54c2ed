// AVX-512 micro-kernels of GemmPacked (vision_gemm.h); vision_gemm.cpp picks them when ActiveIsa() is
// avx512 and runs them over DefaultThreadPool().
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kernels/vision_gemm_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512_begin.h"  // last include: AVX-512 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

constexpr int kMR = 8;      // tokens per micro-tile (8 x 3 accumulators + 3 weights + 1 broadcast)
constexpr int64_t kMC = 128;  // tokens per L2 block

struct PanelF32 {
  using T = float;
  static __m512 Load(const T* p) { return _mm512_loadu_ps(p); }
  static constexpr int64_t kKC = 128;  // 128 x 48 x 4 B = 24 KiB of panel in L1
};
struct PanelBF16 {
  using T = uint16_t;
  static __m512 Load(const T* p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
};

// y[MR][48] (+)= x[MR][kc] * panel[kc][48]. `first`: start from the bias (or 0) instead of y.
template <class L, int MR>
inline void MicroKernel(const float* x, int64_t ldx, const typename L::T* w, int64_t kc, float* y, int64_t ldy,
                        bool first, const float* bias, const __mmask16 (&mask)[3]) {
  constexpr int P = PackedGemmMatrix::kPanel;
  __m512 acc[MR][3];
#pragma GCC unroll 8
  for (int c = 0; c < 3; ++c) {
    const __m512 init = bias ? _mm512_maskz_loadu_ps(mask[c], bias + 16 * c) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) acc[m][c] = first ? init : _mm512_maskz_loadu_ps(mask[c], y + m * ldy + 16 * c);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w0 = L::Load(w + k * P), w1 = L::Load(w + k * P + 16), w2 = L::Load(w + k * P + 32);
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512 xb = _mm512_set1_ps(x[m * ldx + k]);
      acc[m][0] = _mm512_fmadd_ps(xb, w0, acc[m][0]);
      acc[m][1] = _mm512_fmadd_ps(xb, w1, acc[m][1]);
      acc[m][2] = _mm512_fmadd_ps(xb, w2, acc[m][2]);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 8
    for (int c = 0; c < 3; ++c) _mm512_mask_storeu_ps(y + m * ldy + 16 * c, mask[c], acc[m][c]);
}

// Decode (one token) over G whole panels at once: G x 3 accumulator chains and G read streams in flight,
// where one panel alone leaves the core waiting on memory (a single stream and 3 FMA chains: ~10 GB/s a
// core here, against ~16 for the multi-row kernels). Per output the same FMAs in the same order as
// MicroKernel with kc = K, so decode and prefill agree bit for bit.
template <class L, int G>
inline void GemvGroup(const PackedGemmMatrix& w, int64_t p, const float* x, const float* bias, float* y) {
  using T = typename L::T;
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t K = w.cols();
  const T* wp[G];
  __m512 acc[G][3];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    wp[g] = reinterpret_cast<const T*>(w.panel(p + g));
#pragma GCC unroll 3
    for (int c = 0; c < 3; ++c) acc[g][c] = bias ? _mm512_loadu_ps(bias + (p + g) * P + 16 * c) : _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < K; ++k) {
    const __m512 xb = _mm512_set1_ps(x[k]);
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const char* ahead = reinterpret_cast<const char*>(wp[g] + k * P) + 1536;
      _mm_prefetch(ahead, _MM_HINT_T0);
      _mm_prefetch(ahead + 64, _MM_HINT_T0);
#pragma GCC unroll 3
      for (int c = 0; c < 3; ++c) acc[g][c] = _mm512_fmadd_ps(xb, L::Load(wp[g] + k * P + 16 * c), acc[g][c]);
    }
  }
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g)
#pragma GCC unroll 3
    for (int c = 0; c < 3; ++c) _mm512_storeu_ps(y + (p + g) * P + 16 * c, acc[g][c]);
}

// Token tiles [t0, t1) of one panel's K block (kc values of k from k0; wp: the block's weights).
template <class L>
inline void TokenTiles(const float* x, int64_t ldx, const typename L::T* wp, int64_t kc, float* yp, int64_t ldy,
                       bool first, const float* bp, const __mmask16 (&mask)[3], int64_t t0, int64_t t1) {
  int64_t t = t0;
  for (; t + kMR <= t1; t += kMR) MicroKernel<L, kMR>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask);
  switch (t1 - t) {
    case 7: MicroKernel<L, 7>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 6: MicroKernel<L, 6>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 5: MicroKernel<L, 5>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 4: MicroKernel<L, 4>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 3: MicroKernel<L, 3>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 2: MicroKernel<L, 2>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    case 1: MicroKernel<L, 1>(x + t * ldx, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
    default: break;
  }
}

template <class L>
void GemmPanels(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy, int64_t p0, int64_t p1) {
  using T = typename L::T;
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t K = w.cols();
  // Prefill on bf16 panels: each K block of a panel is widened to f32 once, into a per-thread buffer,
  // and every token tile then runs the f32 micro-kernel on it. Widening inside the tile costs 2 ops
  // per 16 weights on the FMA ports for every 8-token tile (~20% of the issue slots); once per block
  // it is shared by up to kMC tokens. Same values, same FMAs in the same order: the same bits.
  const bool widen_once = std::is_same_v<L, PanelBF16> && n > kMR;
  // K blocks keep a panel slice in L1 while every token tile reuses it. With one tile of tokens or
  // fewer (decode, the serving batch) nothing reuses it: each panel then streams whole, start to end,
  // one sequential read the prefetchers follow (blocked, decode jumped between panels every 24 KiB
  // and ran ~15% slower).
  const int64_t kKC = n <= kMR ? K : PanelF32::kKC;  // bf16 prefill widens, so f32 blocks either way
  alignas(64) static thread_local float widened[PanelF32::kKC * P];
  if (n == 1) {
    const int64_t whole = std::min(p1, w.rows() / P);  // panels with all P rows real
    for (; p0 + 4 <= whole; p0 += 4) GemvGroup<L, 4>(w, p0, x, bias, y);
  }
  for (int64_t t0 = 0; t0 < n; t0 += kMC) {
    const int64_t t1 = std::min(n, t0 + kMC);
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const int64_t kc = std::min(kKC, K - k0);
      const bool first = k0 == 0;
      for (int64_t p = p0; p < p1; ++p) {
        const T* wp = reinterpret_cast<const T*>(w.panel(p)) + k0 * P;
        const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
        __mmask16 mask[3];
        for (int c = 0; c < 3; ++c) {
          const int64_t left = std::clamp<int64_t>(valid - 16 * c, 0, 16);
          mask[c] = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
        }
        const float* bp = bias && first ? bias + p * P : nullptr;
        if (widen_once) {
          for (int64_t i = 0; i < kc * P; i += 16) _mm512_store_ps(widened + i, L::Load(wp + i));
          TokenTiles<PanelF32>(x + k0, ldx, widened, kc, y + p * P, ldy, first, bp, mask, t0, t1);
        } else {
          TokenTiles<L>(x + k0, ldx, wp, kc, y + p * P, ldy, first, bp, mask, t0, t1);
        }
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
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

GemmPanelRangeFn GemmPanelKernel() {
#if defined(__x86_64__)
  return GemmPanelRange;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
