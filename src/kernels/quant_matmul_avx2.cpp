// AVX2 int8 matmul over QuantPackedMatrix panels, for CPUs without AVX-512 VNNI (layout and math:
// kernels/quant_matmul.h). A 256-bit register holds half a panel's group (8 rows x 4 k), so each panel
// is two halves. No vpdpbusd here: vpmaddubsw (u8 x s8 -> s16 pairs) + vpmaddwd with ones (-> s32).
// - q4_0: the nibbles (0..15) are the unsigned side; a pair sums to at most 2 * 15 * 127, so the 8
//   groups of a block add up in int16 without overflow (<= 30480) and one vpmaddwd per block widens
//   them. The offset is removed as on AVX-512: the int32 sum starts at -8 * q_sum.
// - q8_0: (w + 128) * q pairs would overflow int16, so the stored byte is turned back into the signed
//   weight w (xor 0x80) and the product is |w| * (q * sign(w)) (<= 128 * 127 per product, a pair fits
//   int16); no offset to remove. q is never -128 (|x| / d <= 127), so negating it cannot overflow.
// Per block the int32 dot is scaled and accumulated exactly as the reference does, so results match it.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

inline __m256i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Panels [p, p + P) x tokens [t, t + T); y is the output of token t, row 0.
template <bool kQ4, int P, int T>
inline void Tile(const QuantPackedMatrix& w, int64_t p, const QuantizedActs& a, int64_t t, float* y, int64_t ldy) {
  constexpr int kH = 2 * P;  // half panels of 8 rows
  const int64_t nb = w.blocks(), bs = w.block_stride(), ldq = a.cols;
  // Per-panel block-0 pointers: panels p.. may straddle a group boundary (a thread's range start).
  const uint8_t* sc[P];
  const uint8_t* wt[P];
  for (int i = 0; i < P; ++i) sc[i] = w.scales(p + i), wt[i] = w.weights(p + i);
  const int8_t* xq = a.q.data() + t * ldq;
  const float* xd = a.d.data() + t * nb;
  const int32_t* xs = a.sum.data() + t * nb;
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[kH][T];
  for (int h = 0; h < kH; ++h)
    for (int j = 0; j < T; ++j) acc[h][j] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* xb = xq + b * kQuantBlock;
    __m256i dot[kH][T];
    if constexpr (kQ4) {
      const __m256i nib = _mm256_set1_epi8(0x0f);
      __m256i s16[kH][T];
      for (int h = 0; h < kH; ++h)
        for (int j = 0; j < T; ++j) s16[h][j] = _mm256_setzero_si256();
      for (int g = 0; g < 4; ++g) {
        for (int h = 0; h < kH; ++h) {
          const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(wt[h / 2] + b * bs + g * QuantPackedMatrix::kVectorStride + (h % 2) * 32));
          const __m256i lo = _mm256_and_si256(v, nib);
          const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), nib);
          for (int j = 0; j < T; ++j) {
            s16[h][j] = _mm256_add_epi16(s16[h][j], _mm256_maddubs_epi16(lo, Broadcast4(xb + j * ldq + 4 * g)));
            s16[h][j] = _mm256_add_epi16(s16[h][j], _mm256_maddubs_epi16(hi, Broadcast4(xb + j * ldq + 16 + 4 * g)));
          }
        }
      }
      for (int j = 0; j < T; ++j) {
        const __m256i c = _mm256_set1_epi32(-8 * xs[j * nb + b]);
        for (int h = 0; h < kH; ++h) dot[h][j] = _mm256_add_epi32(c, _mm256_madd_epi16(s16[h][j], ones));
      }
    } else {
      const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
      for (int h = 0; h < kH; ++h)
        for (int j = 0; j < T; ++j) dot[h][j] = _mm256_setzero_si256();
      for (int g = 0; g < 8; ++g) {
        for (int h = 0; h < kH; ++h) {
          const __m256i ws = _mm256_xor_si256(
              _mm256_load_si256(reinterpret_cast<const __m256i*>(wt[h / 2] + b * bs + g * QuantPackedMatrix::kVectorStride + (h % 2) * 32)), flip);
          const __m256i wabs = _mm256_abs_epi8(ws);
          for (int j = 0; j < T; ++j) {
            const __m256i xs8 = _mm256_sign_epi8(Broadcast4(xb + j * ldq + 4 * g), ws);
            dot[h][j] = _mm256_add_epi32(dot[h][j], _mm256_madd_epi16(_mm256_maddubs_epi16(wabs, xs8), ones));
          }
        }
      }
    }
    for (int h = 0; h < kH; ++h) {
      const __m256 wsc = _mm256_cvtph_ps(
          _mm_load_si128(reinterpret_cast<const __m128i*>(sc[h / 2] + b * bs + (h % 2) * 16)));
      for (int j = 0; j < T; ++j) {
        const __m256 scale = _mm256_mul_ps(wsc, _mm256_set1_ps(xd[j * nb + b]));
        acc[h][j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[h][j]), scale, acc[h][j]);
      }
    }
  }
  for (int h = 0; h < kH; ++h) {
    const int64_t row0 = p * kQuantPanelRows + h * 8;
    const int64_t valid = std::min<int64_t>(8, w.rows() - row0);
    if (valid <= 0) continue;
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(valid)),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int j = 0; j < T; ++j) {
      if (valid == 8) {
        _mm256_storeu_ps(y + j * ldy + row0, acc[h][j]);
      } else {
        _mm256_maskstore_ps(y + j * ldy + row0, mask, acc[h][j]);
      }
    }
  }
}

template <bool kQ4>
void Panels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t n = a.n;
  if (n == 1) {
    int64_t p = p0;
    for (; p + 2 <= p1; p += 2) Tile<kQ4, 2, 1>(w, p, a, 0, y, ldy);
    for (; p < p1; ++p) Tile<kQ4, 1, 1>(w, p, a, 0, y, ldy);
    return;
  }
  // Prefill: a block of tokens' int8 activations (~256 KB, L2) is swept panel by panel.
  int64_t tb = (256 * 1024) / a.cols;
  tb = std::max<int64_t>(2, tb / 2 * 2);
  for (int64_t t0 = 0; t0 < n; t0 += tb) {
    const int64_t t1 = std::min(n, t0 + tb);
    for (int64_t p = p0; p < p1; ++p) {
      int64_t t = t0;
      for (; t + 2 <= t1; t += 2) Tile<kQ4, 1, 2>(w, p, a, t, y + t * ldy, ldy);
      if (t < t1) Tile<kQ4, 1, 1>(w, p, a, t, y + t * ldy, ldy);
    }
  }
}

void PanelsQ8(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<false>(w, a, y, ldy, p0, p1);
}
void PanelsQ4(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<true>(w, a, y, ldy, p0, p1);
}

#include "kernels/hreduce_avx2-inl.h"  // HMax, HSum

// Bit-identical to QuantizeActsPortable (same amax, d, 1/d; vcvtps2dq rounds to nearest even).
void QuantizeRows(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a) {
  const int64_t nb = a->blocks;
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* xb = x + t * ldx + b * kQuantBlock;
      __m256 v[4];
      for (int i = 0; i < 4; ++i) v[i] = _mm256_loadu_ps(xb + 8 * i);
      const __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                     _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
      const float amax = HMax(m);
      const float d = amax / 127.0f;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      const __m256 vid = _mm256_set1_ps(id);
      __m256i q[4];
      for (int i = 0; i < 4; ++i) q[i] = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], vid));
      // Saturating packs interleave 128-bit lanes; the permute restores element order.
      const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(a->q.data() + t * a->cols + b * kQuantBlock),
                          _mm256_permutevar8x32_epi32(p, order));
      a->d[t * nb + b] = d;
      a->sum[t * nb + b] = HSum(_mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3])));
    }
  }
}

}  // namespace
}  // namespace lfm::avx2

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx2 {

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

}  // namespace lfm::avx2
