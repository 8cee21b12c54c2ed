// AVX-512 VNNI int8 matmul over QuantPackedMatrix panels (layout and math: kernels/quant_matmul.h).
// A register tile is P panels (16 rows each) x T tokens. Per 32-k block every (panel, token) pair
// gets an int32 accumulator started at -offset * q_sum (removing the unsigned-storage offset), then 8
// vpdpbusd (one per group of 4 k: 64-byte weight load x broadcast 4 activation bytes), then one f32 FMA
// with w_scale * x_scale into the f32 accumulator -- the reference's order, so results match it.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512vnni_begin.h"  // last include: AVX-512 + VNNI code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

#include "kernels/quant_matmul_avx512-inl.h"  // Broadcast4, StoreTile, SweepPanels

// P panels starting at panel p x T tokens starting at token t; y is the output of token t, row 0.
template <bool kQ4, int P, int T>
inline void Tile(const QuantPackedMatrix& w, int64_t p, const QuantizedActs& a, int64_t t, float* y, int64_t ldy) {
  constexpr int32_t kOff = kQ4 ? 8 : 128;
  const int64_t nb = w.blocks(), bs = w.block_stride(), ldq = a.cols;
  // Per-panel block-0 pointers: panels p.. may straddle a group boundary (a thread's range start).
  const uint8_t* sc[P];
  const uint8_t* wt[P];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i) sc[i] = w.scales(p + i), wt[i] = w.weights(p + i);
  const int8_t* xq = a.q.data() + t * ldq;
  const float* xd = a.d.data() + t * nb;
  const int32_t* xs = a.sum.data() + t * nb;
  const __m512i nib = _mm512_set1_epi8(0x0f);
  __m512 acc[P][T];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m512i ai[P][T];
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) {
      const __m512i c = _mm512_set1_epi32(-kOff * xs[j * nb + b]);
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) ai[i][j] = c;
    }
    const int8_t* xb = xq + b * kQuantBlock;
    if constexpr (kQ4) {
#pragma GCC unroll 4
      for (int g = 0; g < 4; ++g) {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
          const __m512i v = _mm512_load_si512(wt[i] + b * bs + g * QuantPackedMatrix::kVectorStride);
          const __m512i lo = _mm512_and_si512(v, nib);                         // k = 4g .. 4g+3
          const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);   // k = 16+4g .. 16+4g+3
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            ai[i][j] = _mm512_dpbusd_epi32(ai[i][j], lo, Broadcast4(xb + j * ldq + 4 * g));
            ai[i][j] = _mm512_dpbusd_epi32(ai[i][j], hi, Broadcast4(xb + j * ldq + 16 + 4 * g));
          }
        }
      }
    } else {
#pragma GCC unroll 8
      for (int g = 0; g < 8; ++g) {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
          const __m512i v = _mm512_load_si512(wt[i] + b * bs + g * QuantPackedMatrix::kVectorStride);
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) ai[i][j] = _mm512_dpbusd_epi32(ai[i][j], v, Broadcast4(xb + j * ldq + 4 * g));
        }
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      const __m512 ws = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(sc[i] + b * bs)));
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
        const __m512 scale = _mm512_mul_ps(ws, _mm512_set1_ps(xd[j * nb + b]));
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ai[i][j]), scale, acc[i][j]);
      }
    }
  }
  StoreTile(acc, w, p, y, ldy);
}

constexpr int kGemmPanels = 2;  // register tile: 2 panels x 6 tokens = 12 int32 + 12 f32 accumulators
constexpr int kGemmTokens = 6;

template <bool kQ4>
void Panels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  SweepPanels<kGemmPanels, kGemmTokens>(
      [&]<int P, int T>(int64_t p, int64_t t) { Tile<kQ4, P, T>(w, p, a, t, y + t * ldy, ldy); }, a.n, a.cols, p0, p1);
}

void PanelsQ8(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<false>(w, a, y, ldy, p0, p1);
}
void PanelsQ4(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<true>(w, a, y, ldy, p0, p1);
}

// Bit-identical to QuantizeActsPortable: same amax, same d and 1/d, x * (1/d) rounded to nearest even
// (vcvtps2dq under the default MXCSR rounding = nearbyint).
void QuantizeRows(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a) {
  const int64_t nb = a->blocks;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* xb = x + t * ldx + b * kQuantBlock;
      const __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
      const float d = amax / 127.0f;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      const __m512 vid = _mm512_set1_ps(id);
      const __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(x0, vid));
      const __m512i q1 = _mm512_cvtps_epi32(_mm512_mul_ps(x1, vid));
      int8_t* q = a->q.data() + t * a->cols + b * kQuantBlock;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q), _mm512_cvtepi32_epi8(q0));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16), _mm512_cvtepi32_epi8(q1));
      a->d[t * nb + b] = d;
      a->sum[t * nb + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
  }
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

QuantPanelsFn QuantPanelsKernel(DType t) {
#if defined(__x86_64__)
  if (t == DType::kQ8_0) return PanelsQ8;
  if (t == DType::kQ4_0) return PanelsQ4;
#endif
  (void)t;
  return nullptr;
}

QuantizeActsFn QuantizeActsKernel() {
#if defined(__x86_64__)
  return QuantizeRows;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
