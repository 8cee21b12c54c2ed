// AVX512_FP16 micro-kernel of GemmPacked (vision_gemm.h) for fp16_pairs() matrices (PackedMath::kFp16):
// the panel holds [K/2][48 rows][2 k] fp16, so one 64-byte load is 16 output rows x one pair of k; the
// activations (already scaled and rounded to fp16) are broadcast one pair (32 bits: a plain load, where
// a 16-bit broadcast costs a shuffle on the FMA port) and vfmadd231ph accumulates 32 fp16 lanes: even
// lanes the even k, odd lanes the odd k of 16 rows. Every kFp16RunPairs pairs the run is flushed: both
// halves widened to f32, each row's two lanes added, and the sum times the row's scale added to y,
// which holds the f32 result between runs (in L1: 8 rows x 48 floats).
// On a Sapphire Rapids-class Xeon this is ~1.9x the f32 FMA kernel on the vision tower's shapes.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "kernels/vision_gemm_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512fp16_begin.h"  // last include: AVX-512 + FP16 code from here to isa_end.h
#if LFM_ISA_COMPILED
#include "kernels/vision_gemm_pairs-inl.h"

namespace lfm::avx512 {
namespace {

constexpr int kMR = 8;  // tokens per micro-tile: 8 x 3 accumulators + 3 weights + 1 broadcast
// Cache blocking as the bf16 pair kernel: a K block of one panel, kKP pairs x 48 rows x 4 B = 24 KiB,
// stays in L1 while a token block streams past it.
constexpr int64_t kKP = 128;  // k pairs per K block (a multiple of kFp16RunPairs: runs start at 0 mod 64)
constexpr int64_t kMC = 256;  // tokens per token block
static_assert(kKP % kFp16RunPairs == 0, "a K block must hold whole runs");

// y[MR][48] (+)= run-by-run sums of x[MR][2 kpc] * panel[kpc][48][2] times inv[m]. x: fp16 pairs as
// uint32, row stride ldx pairs. `first`: start from the bias (or 0) instead of y.
template <int MR>
inline void MicroKernel(const uint32_t* x, int64_t ldx, const uint16_t* w, int64_t kpc, float* y, int64_t ldy,
                        bool first, const float* bias, const float* inv, const __mmask16 (&mask)[3]) {
  constexpr int P = PackedGemmMatrix::kPanel;
  // After widening, the low half of a 32-lane accumulator is rows 0..7 as (even k, odd k) pairs and the
  // high half rows 8..15: these gather each row's even and odd lane, in row order.
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1);
  for (int64_t r0 = 0; r0 < kpc; r0 += kFp16RunPairs) {
    const int64_t r1 = std::min(kpc, r0 + kFp16RunPairs);
    __m512h acc[MR][3];
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m)
#pragma GCC unroll 3
      for (int c = 0; c < 3; ++c) acc[m][c] = _mm512_setzero_ph();
    for (int64_t kp = r0; kp < r1; ++kp) {
      const uint16_t* wk = w + kp * 2 * P;
      const __m512h w0 = _mm512_castsi512_ph(_mm512_loadu_si512(wk));
      const __m512h w1 = _mm512_castsi512_ph(_mm512_loadu_si512(wk + 32));
      const __m512h w2 = _mm512_castsi512_ph(_mm512_loadu_si512(wk + 64));
#pragma GCC unroll 8
      for (int m = 0; m < MR; ++m) {
        const __m512h xb = _mm512_castsi512_ph(_mm512_set1_epi32(static_cast<int>(x[m * ldx + kp])));
        acc[m][0] = _mm512_fmadd_ph(xb, w0, acc[m][0]);
        acc[m][1] = _mm512_fmadd_ph(xb, w1, acc[m][1]);
        acc[m][2] = _mm512_fmadd_ph(xb, w2, acc[m][2]);
      }
    }
    const bool from_bias = first && r0 == 0;
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512 scale = _mm512_set1_ps(inv[m]);
#pragma GCC unroll 3
      for (int c = 0; c < 3; ++c) {
        const __m512i a = _mm512_castph_si512(acc[m][c]);
        const __m512 lo = _mm512_cvtph_ps(_mm512_castsi512_si256(a));
        const __m512 hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64(a, 1));
        const __m512 run = _mm512_add_ps(_mm512_permutex2var_ps(lo, even, hi), _mm512_permutex2var_ps(lo, odd, hi));
        float* yp = y + m * ldy + 16 * c;
        const __m512 before = from_bias ? (bias ? _mm512_maskz_loadu_ps(mask[c], bias + 16 * c) : _mm512_setzero_ps())
                                        : _mm512_maskz_loadu_ps(mask[c], yp);
        _mm512_mask_storeu_ps(yp, mask[c], _mm512_fmadd_ps(run, scale, before));
      }
    }
  }
}

void GemmPanelRangeFp16(const PackedGemmMatrix& w, const uint16_t* xh, int64_t n, int64_t ldxh, const float* inv,
                        const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t ldx = ldxh / 2;
  const uint32_t* x = reinterpret_cast<const uint32_t*>(xh);  // pairs of fp16 as one 32-bit word
  // K blocks start at multiples of kKP (of kFp16RunPairs), and a whole panel (decode) at 0: the runs
  // start at multiples of kFp16RunPairs either way, so the sums are the same bits.
  ForPairPanelTiles<kMR>(w, n, p0, p1, kKP, kMC, [&](auto mr, int64_t t, const PairBlock& b) {
    MicroKernel<decltype(mr)::value>(x + b.k0 + t * ldx, ldx, b.wp, b.kpc, y + t * ldy + b.p * P, ldy, b.first,
                                     bias && b.first ? bias + b.p * P : nullptr, inv + t, b.mask);
  });
}

// RowsToFp16ScaledRef's twin: the largest magnitude with a vector max, the scale a power of two
// (exact), the rounding vcvtps2ph's nearest-even (as F32ToF16).
void RowsToFp16Scaled(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd, int* exps) {
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t t = 0; t < n; ++t) {
    const float* xr = x + t * ldx;
    uint16_t* dr = dst + t * ldd;
    __m512 mx = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) mx = _mm512_max_ps(mx, _mm512_and_ps(_mm512_loadu_ps(xr + k), abs_mask));
    const __mmask16 tail = static_cast<__mmask16>((1u << (K - k)) - 1u);
    mx = _mm512_max_ps(mx, _mm512_and_ps(_mm512_maskz_loadu_ps(tail, xr + k), abs_mask));
    const int e = Fp16ActivationExponent(_mm512_reduce_max_ps(mx));
    exps[t] = e;
    const __m512 scale = _mm512_set1_ps(std::ldexp(1.0f, e));
    for (k = 0; k + 16 <= K; k += 16) {
      const __m256i h = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_loadu_ps(xr + k), scale), _MM_FROUND_TO_NEAREST_INT);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dr + k), h);
    }
    const __m256i h = _mm512_cvtps_ph(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, xr + k), scale), _MM_FROUND_TO_NEAREST_INT);
    _mm256_mask_storeu_epi16(dr + k, tail, h);
    if (K % 2 != 0) dr[K] = 0;
  }
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

GemmPanelRangeFp16Fn GemmPanelKernelFp16() {
#if defined(__x86_64__)
  return GemmPanelRangeFp16;
#else
  return nullptr;
#endif
}

RowsToFp16ScaledFn RowsToFp16ScaledKernel() {
#if defined(__x86_64__)
  return RowsToFp16Scaled;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
