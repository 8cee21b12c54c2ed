// AVX512_BF16 micro-kernel of GemmPacked (vision_gemm.h) for bf16_pairs() matrices: the panel holds
// [K/2][48 rows][2 k] bf16, so one 64-byte load is 16 output rows x one pair of k, the activations
// (already bf16) are broadcast one pair (32 bits) at a time, and vdpbf16ps adds both products of the
// pair into 16 f32 accumulators: twice the multiply rate of the widen-then-FMA kernel.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/vision_gemm_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512bf16_begin.h"  // last include: AVX-512 + BF16 code from here to isa_end.h
#if LFM_ISA_COMPILED
#include "kernels/vision_gemm_pairs-inl.h"

namespace lfm::avx512 {
namespace {

constexpr int kMR = 8;  // tokens per micro-tile: 8 x 3 accumulators + 3 weights + 1 broadcast
// Cache blocking (Zen 4: 32 KiB L1d, 1 MiB L2 per core). A K block of one panel, kKP pairs x 48 rows
// x 4 B = 24 KiB, stays in L1 while the tokens of a block stream past it; a token block of the
// activations, kMC x kKP x 4 B = 128 KiB, stays in L2 across all panels of the thread.
constexpr int64_t kKP = 128;  // k pairs per K block
constexpr int64_t kMC = 256;  // tokens per token block

inline __m512bh AsBh(__m512i v) { return (__m512bh)v; }

// y[MR][48] (+)= x[MR][2 kpc] * panel[kpc][48][2]. x: bf16 pairs as uint32, row stride ldx pairs.
// `first`: start from the bias (or 0) instead of y.
template <int MR>
inline void MicroKernel(const uint32_t* x, int64_t ldx, const uint16_t* w, int64_t kpc, float* y, int64_t ldy,
                        bool first, const float* bias, const __mmask16 (&mask)[3]) {
  constexpr int P = PackedGemmMatrix::kPanel;
  __m512 acc[MR][3];
#pragma GCC unroll 8
  for (int c = 0; c < 3; ++c) {
    const __m512 init = bias ? _mm512_maskz_loadu_ps(mask[c], bias + 16 * c) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) acc[m][c] = first ? init : _mm512_maskz_loadu_ps(mask[c], y + m * ldy + 16 * c);
  }
  for (int64_t kp = 0; kp < kpc; ++kp) {
    const uint16_t* wk = w + kp * 2 * P;
    const __m512bh w0 = AsBh(_mm512_loadu_si512(wk)), w1 = AsBh(_mm512_loadu_si512(wk + 32)),
                   w2 = AsBh(_mm512_loadu_si512(wk + 64));
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512bh xb = AsBh(_mm512_set1_epi32(static_cast<int>(x[m * ldx + kp])));
      acc[m][0] = _mm512_dpbf16_ps(acc[m][0], xb, w0);
      acc[m][1] = _mm512_dpbf16_ps(acc[m][1], xb, w1);
      acc[m][2] = _mm512_dpbf16_ps(acc[m][2], xb, w2);
    }
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m)
#pragma GCC unroll 8
    for (int c = 0; c < 3; ++c) _mm512_mask_storeu_ps(y + m * ldy + 16 * c, mask[c], acc[m][c]);
}

void GemmPanelRangeBf16(const PackedGemmMatrix& w, const uint16_t* xb, int64_t n, int64_t ldxb, const float* bias,
                        float* y, int64_t ldy, int64_t p0, int64_t p1) {
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t ldx = ldxb / 2;
  // Pairs of bf16 read as one 32-bit word (ldxb and padded_cols() are even, xb 4-byte aligned).
  const uint32_t* x = reinterpret_cast<const uint32_t*>(xb);
  ForPairPanelTiles<kMR>(w, n, p0, p1, kKP, kMC, [&](auto mr, int64_t t, const PairBlock& b) {
    MicroKernel<decltype(mr)::value>(x + b.k0 + t * ldx, ldx, b.wp, b.kpc, y + t * ldy + b.p * P, ldy, b.first,
                                     bias && b.first ? bias + b.p * P : nullptr, b.mask);
  });
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

GemmPanelRangeBf16Fn GemmPanelKernelBf16() {
#if defined(__x86_64__)
  return GemmPanelRangeBf16;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
