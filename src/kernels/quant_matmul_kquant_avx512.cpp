// AVX-512 VNNI int8 matmul over K-quant panels (layout and arithmetic: kernels/quant_matmul_kquant.h),
// and the per-256 activation quantizer it reads. As the q8_0 / q4_0 kernel: a register tile of P panels
// (16 rows each) x T tokens, one vpdpbusd per (panel, token, 4 k) with the 16 rows' weights in one zmm
// and a broadcast 4-byte activation group, no horizontal sums. Per 32-k block the unsigned values are
// rebuilt from the nibble plane (+ q5_K's 1-bit / q6_K's 2-bit plane: a shift and a mask put the high
// bits at bit 4) and dotted in short chains (16 k, or 8 for q5_K / q6_K) that fit int16, each folded
// into the super-block's int32 sum A by one vpdpwssd with the 16 rows' sub-block scales. The float
// work -- converting A and the mins sum M, two FMAs -- happens once per 256 k, not per block.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_impl.h"
#include "kernels/quant_matmul_kquant.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512vnni_begin.h"  // last include: AVX-512 + VNNI code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

#include "kernels/quant_matmul_avx512-inl.h"  // Broadcast4, StoreTile, SweepPanels

// Shifts each 16-bit lane left by S (right by -S); S is a compile-time constant.
template <int S>
inline __m512i Shift(__m512i v) {
  if constexpr (S > 0) return _mm512_slli_epi16(v, S);
  else if constexpr (S < 0) return _mm512_srli_epi16(v, -S);
  else return v;
}

// a | (b & c), one vpternlogd.
inline __m512i OrAnd(__m512i a, __m512i b, __m512i c) { return _mm512_ternarylogic_epi32(a, b, c, 0xF8); }

inline __m512i Load(const uint8_t* p) { return _mm512_load_si512(p); }

// P panels starting at panel p x T tokens starting at token t; y is the output of token t, row 0.
template <DType kT, int P, int T>
inline void Tile(const QuantPackedMatrix& w, int64_t p, const QuantizedActs& a, int64_t t, float* y, int64_t ldy) {
  constexpr bool kQ4 = kT == DType::kQ4_K, kQ6 = kT == DType::kQ6_K;
  constexpr int64_t kBB = KQuantBlockBytes(kT);
  const int64_t nsb = w.superblocks(), nb = a.blocks, n8 = a.cols / 8;
  const int64_t ps = w.kpanel_bytes(), sbb = w.superblock_bytes(), ldq = a.cols;
  const uint8_t* pan = w.kpanel(p);
  const int8_t* xq = a.kq.data() + t * ldq;
  const float* xd = a.kd.data() + t * nsb;
  const int16_t* xs = a.ksum32.data() + t * nb;
  const int32_t* x6 = a.kq6_start.data() + t * n8;
  const __m512i nib = _mm512_set1_epi8(0x0f);
  const __m512i hmask = _mm512_set1_epi8(kQ6 ? 0x30 : 0x10);
  __m512 acc[P][T];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* base = pan + sb * sbb;
    __m512i A[P][T];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i)
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) A[i][j] = _mm512_setzero_si512();
    for (int b = 0; b < 8; ++b) {
      const int64_t gb = sb * 8 + b;
      const int8_t* xb = xq + gb * kQuantBlock;
      const uint8_t* wb = base + kKQuantMetaBytes + b * kBB;
      // The rows' scales as (scale, 0) int16 pairs: q6_K's first (s0) and second (s1) half.
      __m512i s0[P], s1[P];
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        if constexpr (kQ6) {
          const __m512i pair =
              _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(base + i * ps + 64 + b * 32)));
          s0[i] = _mm512_and_si512(pair, _mm512_set1_epi32(0xffff));
          s1[i] = _mm512_srli_epi32(pair, 16);
        } else {
          s0[i] = _mm512_cvtepu8_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(base + i * ps + 64 + b * 16)));
          s1[i] = s0[i];
        }
      }
      // One chain: k = 16H + 4G .. +3 for the groups G in [G0, G1) (2 or 4; H = 0: low nibbles, 1: high), then
      // A += chain * scale. q6_K chains start at -32 * sum(q) (Q: the chain's 8-k index in the block).
      auto chain = [&]<int H, int G0, int G1, int Q>() {
        __m512i c[P][T];
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          const __m512i start = kQ6 ? _mm512_set1_epi32(x6[j * n8 + gb * 4 + Q]) : _mm512_setzero_si512();
#pragma GCC unroll 8
          for (int i = 0; i < P; ++i) c[i][j] = start;
        }
        auto step = [&]<int G>() {
#pragma GCC unroll 8
          for (int i = 0; i < P; ++i) {
            const __m512i v = Load(wb + i * ps + G * 64);
            // q4_K's high nibbles stay in place (16 u, one vpandn): the chain is 16 x the dot, shifted
            // back below. q5_K / q6_K need them at bits 0..3 to put the high bits above.
            __m512i u = !H ? _mm512_and_si512(v, nib)
                        : kQ4 ? _mm512_andnot_si512(nib, v)
                              : _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);
            if constexpr (kT == DType::kQ5_K) {
              const __m512i h = Load(wb + i * ps + 256);
              u = OrAnd(u, H ? Shift<-G>(h) : Shift<4 - G>(h), hmask);
            } else if constexpr (kQ6) {
              u = OrAnd(u, Shift<4 - 2 * G>(Load(wb + i * ps + 256 + H * 64)), hmask);
            }
#pragma GCC unroll 8
            for (int j = 0; j < T; ++j) c[i][j] = _mm512_dpbusd_epi32(c[i][j], u, Broadcast4(xb + j * ldq + 16 * H + 4 * G));
          }
        };
        step.template operator()<G0>();
        step.template operator()<G0 + 1>();
        if constexpr (G1 - G0 == 4) {
          step.template operator()<G0 + 2>();
          step.template operator()<G0 + 3>();
        }
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            // Exact: 16 x the dot is a multiple of 16 (|16 x 30480| fits int32).
            if constexpr (kQ4 && H) c[i][j] = _mm512_srai_epi32(c[i][j], 4);
            A[i][j] = _mm512_dpwssd_epi32(A[i][j], c[i][j], H ? s1[i] : s0[i]);
          }
        }
      };
      if constexpr (kQ4) {
        chain.template operator()<0, 0, 4, 0>();
        chain.template operator()<1, 0, 4, 0>();
      } else {
        chain.template operator()<0, 0, 2, 0>();
        chain.template operator()<0, 2, 4, 1>();
        chain.template operator()<1, 0, 2, 2>();
        chain.template operator()<1, 2, 4, 3>();
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      const uint8_t* meta = base + i * ps;
      const __m512 dv = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(meta)));
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
        const __m512 xdv = _mm512_set1_ps(xd[j * nsb + sb]);
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(A[i][j]), _mm512_mul_ps(dv, xdv), acc[i][j]);
      }
      if constexpr (!kQ6) {
        // M = sum_b m_b * sum_b(q): the mins and the activation sums as int16 pairs of blocks.
        __m512i M[T];
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) M[j] = _mm512_setzero_si512();
#pragma GCC unroll 4
        for (int jp = 0; jp < 4; ++jp) {
          const __m512i mw =
              _mm512_cvtepu8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i*>(meta + 192 + 32 * jp)));
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            int32_t pair;
            std::memcpy(&pair, xs + j * nb + sb * 8 + 2 * jp, 4);
            M[j] = _mm512_dpwssd_epi32(M[j], mw, _mm512_set1_epi32(pair));
          }
        }
        const __m512 dminv = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(meta + 32)));
#pragma GCC unroll 8
        for (int j = 0; j < T; ++j) {
          const __m512 xdv = _mm512_set1_ps(xd[j * nsb + sb]);
          acc[i][j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(M[j]), _mm512_mul_ps(dminv, xdv), acc[i][j]);
        }
      }
    }
  }
  StoreTile(acc, w, p, y, ldy);
}

// Register tile for prefill: 2 panels x 4 tokens (f32 accumulators, super-block sums and one chain per
// pair: 24 registers).
constexpr int kGemmPanels = 2;
constexpr int kGemmTokens = 4;

template <DType kT>
void Panels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  SweepPanels<kGemmPanels, kGemmTokens>(
      [&]<int P, int T>(int64_t p, int64_t t) { Tile<kT, P, T>(w, p, a, t, y + t * ldy, ldy); }, a.n, a.cols, p0, p1);
}

void PanelsQ4K(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<DType::kQ4_K>(w, a, y, ldy, p0, p1);
}
void PanelsQ5K(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<DType::kQ5_K>(w, a, y, ldy, p0, p1);
}
void PanelsQ6K(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  Panels<DType::kQ6_K>(w, a, y, ldy, p0, p1);
}

#include "kernels/hreduce_avx2-inl.h"  // HSum

// Per-256 quantizer, bit-identical to KQuantizeActsPortable: same amax, d and 1/d, x * (1/d) rounded to
// nearest even (vcvtps2dq under the default MXCSR rounding = nearbyint); the sums are exact integers.
void KQuantizeRows(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a) {
  const int64_t nsb = a->cols / 256, nb = a->blocks, n8 = a->cols / 8;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const float* xs = x + t * ldx + sb * 256;
      __m512 m = _mm512_abs_ps(_mm512_loadu_ps(xs));
      for (int c = 1; c < 16; ++c) m = _mm512_max_ps(m, _mm512_abs_ps(_mm512_loadu_ps(xs + 16 * c)));
      const float d = _mm512_reduce_max_ps(m) / 127.0f;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      const __m512 vid = _mm512_set1_ps(id);
      int8_t* q = a->kq.data() + t * a->cols + sb * 256;
      int32_t* start = a->kq6_start.data() + t * n8 + sb * 32;
      int16_t* sum32 = a->ksum32.data() + t * nb + sb * 8;
      for (int c = 0; c < 16; ++c) {
        const __m512i qi = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xs + 16 * c), vid));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * c), _mm512_cvtepi32_epi8(qi));
        const int32_t lo = HSum(_mm512_castsi512_si256(qi)), hi = HSum(_mm512_extracti64x4_epi64(qi, 1));
        start[2 * c] = -32 * lo;
        start[2 * c + 1] = -32 * hi;
        if (c % 2 == 0) sum32[c / 2] = 0;
        sum32[c / 2] = static_cast<int16_t>(sum32[c / 2] + lo + hi);
      }
      a->kd[t * nsb + sb] = d;
    }
  }
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

QuantPanelsFn KQuantPanelsKernel(DType t) {
#if defined(__x86_64__)
  if (t == DType::kQ4_K) return PanelsQ4K;
  if (t == DType::kQ5_K) return PanelsQ5K;
  if (t == DType::kQ6_K) return PanelsQ6K;
#endif
  (void)t;
  return nullptr;
}

QuantizeActsFn KQuantizeActsKernel() {
#if defined(__x86_64__)
  return KQuantizeRows;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
