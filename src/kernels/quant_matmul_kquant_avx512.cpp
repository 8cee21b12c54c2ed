// AVX-512 VNNI int8 matmul over K-quant panels (layout and block arithmetic:
// kernels/quant_matmul_kquant.h). As the q8_0 / q4_0 kernel: a register tile of P panels (16 rows
// each) x T tokens, one vpdpbusd per (panel, token, 4 k) with the 16 rows' weights in one zmm and a
// broadcast 4-byte activation group, no horizontal sums. Per 32-k block the unsigned values are
// rebuilt from the nibble plane (+ q5_K's 1-bit / q6_K's 2-bit plane: a shift and a mask put the high
// bits at bit 4), dotted, multiplied by the 16 rows' integer sub-block scales (vpmulld) and
// accumulated in f32 with the reference's operations in its order.
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

inline __m512i Bytes16ToI32(const uint8_t* p, bool is_signed) {
  const __m128i b = _mm_load_si128(reinterpret_cast<const __m128i*>(p));
  return is_signed ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b);
}

// P panels starting at panel p x T tokens starting at token t; y is the output of token t, row 0.
template <DType kT, int P, int T>
inline void Tile(const QuantPackedMatrix& w, int64_t p, const QuantizedActs& a, int64_t t, float* y, int64_t ldy) {
  constexpr bool kQ6 = kT == DType::kQ6_K;
  constexpr int64_t kBB = KQuantBlockBytes(kT);
  const int64_t nb = a.blocks, ps = w.kpanel_bytes(), sbb = w.superblock_bytes(), ldq = a.cols;
  const uint8_t* pan = w.kpanel(p);
  const int8_t* xq = a.q.data() + t * ldq;
  const float* xd = a.d.data() + t * nb;
  const int32_t* xs = a.sum.data() + t * nb;
  const int32_t* xl = a.sum_lo.data() + t * nb;
  const __m512i nib = _mm512_set1_epi8(0x0f);
  const __m512i hmask = _mm512_set1_epi8(kQ6 ? 0x30 : 0x10);
  __m512 acc[P][T];
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i)
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t sb = 0; sb < w.superblocks(); ++sb) {
    const uint8_t* base = pan + sb * sbb;
    __m512 dv[P], dminv[P];
#pragma GCC unroll 8
    for (int i = 0; i < P; ++i) {
      dv[i] = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(base + i * ps)));
      if constexpr (!kQ6) dminv[i] = _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(base + i * ps + 32)));
    }
    for (int b = 0; b < 8; ++b) {
      const int64_t gb = sb * 8 + b;
      const int8_t* xb = xq + gb * kQuantBlock;
      const uint8_t* wb = base + kKQuantMetaBytes + b * kBB;
      __m512i lo_acc[P][T], hi_acc[P][T];  // q6_K: the two 16-wide halves; else lo_acc holds the block
#pragma GCC unroll 8
      for (int j = 0; j < T; ++j) {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
          if constexpr (kQ6) {
            lo_acc[i][j] = _mm512_set1_epi32(-32 * xl[j * nb + gb]);
            hi_acc[i][j] = _mm512_set1_epi32(-32 * (xs[j * nb + gb] - xl[j * nb + gb]));
          } else {
            lo_acc[i][j] = _mm512_setzero_si512();
          }
        }
      }
      __m512i h0[P], h1[P];
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        if constexpr (kT != DType::kQ4_K) h0[i] = _mm512_load_si512(wb + i * ps + 256);
        if constexpr (kQ6) h1[i] = _mm512_load_si512(wb + i * ps + 320);
      }
      auto group = [&]<int G>() {
#pragma GCC unroll 8
        for (int i = 0; i < P; ++i) {
          const __m512i v = _mm512_load_si512(wb + i * ps + G * 64);
          __m512i lo = _mm512_and_si512(v, nib);                        // k = 4G .. 4G+3
          __m512i hi = _mm512_and_si512(_mm512_srli_epi16(v, 4), nib);  // k = 16+4G .. 16+4G+3
          if constexpr (kT == DType::kQ5_K) {
            lo = _mm512_or_si512(lo, _mm512_and_si512(Shift<4 - G>(h0[i]), hmask));
            hi = _mm512_or_si512(hi, _mm512_and_si512(Shift<-G>(h0[i]), hmask));
          } else if constexpr (kQ6) {
            lo = _mm512_or_si512(lo, _mm512_and_si512(Shift<4 - 2 * G>(h0[i]), hmask));
            hi = _mm512_or_si512(hi, _mm512_and_si512(Shift<4 - 2 * G>(h1[i]), hmask));
          }
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            lo_acc[i][j] = _mm512_dpbusd_epi32(lo_acc[i][j], lo, Broadcast4(xb + j * ldq + 4 * G));
            if constexpr (kQ6) {
              hi_acc[i][j] = _mm512_dpbusd_epi32(hi_acc[i][j], hi, Broadcast4(xb + j * ldq + 16 + 4 * G));
            } else {
              lo_acc[i][j] = _mm512_dpbusd_epi32(lo_acc[i][j], hi, Broadcast4(xb + j * ldq + 16 + 4 * G));
            }
          }
        }
      };
      group.template operator()<0>();
      group.template operator()<1>();
      group.template operator()<2>();
      group.template operator()<3>();
#pragma GCC unroll 8
      for (int i = 0; i < P; ++i) {
        const uint8_t* meta = base + i * ps + 64;
        if constexpr (kQ6) {
          const __m512i sl = Bytes16ToI32(meta + (2 * b) * 16, true);
          const __m512i sh = Bytes16ToI32(meta + (2 * b + 1) * 16, true);
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            const __m512i s = _mm512_add_epi32(_mm512_mullo_epi32(lo_acc[i][j], sl), _mm512_mullo_epi32(hi_acc[i][j], sh));
            const __m512 scale = _mm512_mul_ps(dv[i], _mm512_set1_ps(xd[j * nb + gb]));
            acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), scale, acc[i][j]);
          }
        } else {
          const __m512i sc = Bytes16ToI32(meta + b * 16, false);
          const __m512i mn = Bytes16ToI32(meta + 128 + b * 16, false);
#pragma GCC unroll 8
          for (int j = 0; j < T; ++j) {
            const __m512 xdv = _mm512_set1_ps(xd[j * nb + gb]);
            const __m512i s = _mm512_mullo_epi32(lo_acc[i][j], sc);
            acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_mul_ps(dv[i], xdv), acc[i][j]);
            const __m512i m = _mm512_mullo_epi32(mn, _mm512_set1_epi32(xs[j * nb + gb]));
            acc[i][j] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(m), _mm512_mul_ps(dminv[i], xdv), acc[i][j]);
          }
        }
      }
    }
  }
  StoreTile(acc, w, p, y, ldy);
}

// Register tile for prefill: 2 panels x 4 tokens (q6_K's two int32 halves per pair use 16 registers).
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

}  // namespace lfm::avx512
