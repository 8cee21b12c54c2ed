// AVX-512 versions of the vision kernels (vision_ops.h); vision_ops.cpp picks them when ActiveIsa()
// is avx512. Row-wise work is split over DefaultThreadPool() when it is large enough to pay for the
// hand-off.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/workspace.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_ops_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512_begin.h"  // last include: AVX-512 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

// Below this many elements a row-wise op runs on the calling thread.
constexpr int64_t kParallelElems = 1 << 15;

template <class Fn>
void ForRows(int64_t rows, int64_t d, Fn&& fn) {
  if (rows * d < kParallelElems) {
    fn(int64_t{0}, rows);
    return;
  }
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(rows),
      [&](size_t b, size_t e, int) { fn(static_cast<int64_t>(b), static_cast<int64_t>(e)); }, 4);
}

inline __mmask16 TailMask(int64_t left) {
  return left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
}

#include "kernels/exp_avx512-inl.h"  // Exp512

// gelu_tanh(z) = 0.5 z (1 + tanh(u)) = z * sigmoid(2u) = z / (1 + exp(-2u)), u = sqrt(2/pi)(z + 0.044715 z^3).
// The sigmoid form has no cancellation near 0 and saturates cleanly for large |z|.
inline __m512 GeluTanh512(__m512 z) {
  const __m512 z2 = _mm512_mul_ps(z, z);
  const __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(z2, _mm512_set1_ps(0.044715f)), z, z);
  const __m512 e = Exp512(_mm512_mul_ps(inner, _mm512_set1_ps(-2.0f * 0.7978845608028654f)));
  return _mm512_div_ps(z, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, below f32 resolution of 1 + erf).
inline __m512 Erf512(__m512 x) {
  const __m512 ax = _mm512_abs_ps(x);
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(ax, _mm512_set1_ps(0.3275911f),
                                                                       _mm512_set1_ps(1.0f)));
  __m512 p = _mm512_set1_ps(1.061405429f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
  p = _mm512_mul_ps(p, t);
  const __m512 e = Exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), ax), ax));
  const __m512 y = _mm512_fnmadd_ps(p, e, _mm512_set1_ps(1.0f));
  // Copy the sign of x onto y.
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(int(0x80000000u)));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

inline __m512 GeluErf512(__m512 z) {
  const __m512 e = Erf512(_mm512_mul_ps(z, _mm512_set1_ps(0.70710678118654752f)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), z), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

template <__m512 (*F)(__m512)>
void BiasActRows(float* x, int64_t rows, int64_t d, const float* bias) {
  ForRows(rows, d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* xr = x + r * d;
      for (int64_t i = 0; i < d; i += 16) {
        const __mmask16 m = TailMask(d - i);
        __m512 z = _mm512_maskz_loadu_ps(m, xr + i);
        if (bias) z = _mm512_add_ps(z, _mm512_maskz_loadu_ps(m, bias + i));
        _mm512_mask_storeu_ps(xr + i, m, F(z));
      }
    }
  });
}

void LayerNormRows(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps, float* y) {
  ForRows(rows, d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      __m512 s = _mm512_setzero_ps();
      for (int64_t i = 0; i < d; i += 16) s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(TailMask(d - i), xr + i));
      const float mean = _mm512_reduce_add_ps(s) / static_cast<float>(d);
      const __m512 mv = _mm512_set1_ps(mean);
      __m512 v = _mm512_setzero_ps();
      for (int64_t i = 0; i < d; i += 16) {
        const __mmask16 m = TailMask(d - i);
        const __m512 c = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + i), mv);
        v = _mm512_fmadd_ps(c, c, v);
      }
      const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(v) / static_cast<float>(d) + eps);
      const __m512 iv = _mm512_set1_ps(inv);
      for (int64_t i = 0; i < d; i += 16) {
        const __mmask16 m = TailMask(d - i);
        const __m512 c = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), mv), iv);
        _mm512_mask_storeu_ps(yr + i, m,
                              _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(m, w + i), _mm512_maskz_loadu_ps(m, b + i)));
      }
    }
  });
}

void BiasGeluTanhRows(float* x, int64_t rows, int64_t d, const float* bias) {
  BiasActRows<GeluTanh512>(x, rows, d, bias);
}

void BiasGeluErfRows(float* x, int64_t rows, int64_t d, const float* bias) {
  BiasActRows<GeluErf512>(x, rows, d, bias);
}

#include "kernels/load16_avx512-inl.h"            // MaskLoad16 (TransposeKeys)
#include "kernels/flash_attention_avx512-inl.h"  // FlashRows, FlashStart/FlashSweep/FlashFinish
#include "kernels/attention_bidirectional_tiled-inl.h"  // AttentionBidirectionalTiled

// ---- The bf16 variant (CPUs with AVX512_BF16): q, k, v and the softmax weights p rounded to bf16,
// products accumulated in f32 by vdpbf16ps, which does two multiply-adds per f32 lane (32 per
// instruction, twice the f32 FMA's). Same tiling and online softmax as above; the layouts pair up
// the two operands each lane sums over:
//   keys  [d/2][nkp] u32: lane j holds (k[j][2i], k[j][2i+1])    (pairs over the head dimension)
//   values [nkp/2][d] u32: lane c holds (v[2j][c], v[2j+1][c])   (pairs over keys)
// The extra target only applies to these functions; they are only called when the CPU has the
// instructions (VisionAttentionBf16()).
#define LFM_BF16_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")))

// 16 floats -> 16 bf16 (round to nearest even) in the low halves of 16 u32 lanes.
LFM_BF16_TARGET inline __m512i Bf16Lanes(__m512 x) {
  return _mm512_cvtepu16_epi32(_mm256_castps_si256(_mm256_castsi256_ps((__m256i)_mm512_cvtneps_pbh(x))));
}

// One head's keys into the pair layout above, zero padded to nkp keys (nkp a multiple of kKBlock).
LFM_BF16_TARGET void PackKeysBf16(const float* k, int64_t ld_in, int64_t n_k, int d, int64_t nkp, uint32_t* kp) {
  const int dp = d / 2;
  std::fill(kp, kp + static_cast<int64_t>(dp) * nkp, 0u);
  alignas(64) uint16_t row[512];  // d <= 512 (checked by the caller)
  for (int64_t j = 0; j < n_k; ++j) {
    const float* kr = k + j * ld_in;
    for (int i = 0; i < d; i += 16) {
      const __mmask16 m = TailMask(d - i);
      _mm256_mask_storeu_epi16(row + i, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, kr + i)));
    }
    const uint32_t* pairs = reinterpret_cast<const uint32_t*>(row);
    for (int ip = 0; ip < dp; ++ip) kp[ip * nkp + j] = pairs[ip];
  }
}

// One head's values into the pair layout above, zero padded to nkp keys.
LFM_BF16_TARGET void PackValuesBf16(const float* v, int64_t ld_in, int64_t n_k, int d, int64_t nkp, uint32_t* vp) {
  for (int64_t jp = 0; jp < nkp / 2; ++jp) {
    const int64_t j = 2 * jp;
    const float* v0 = j < n_k ? v + j * ld_in : nullptr;
    const float* v1 = j + 1 < n_k ? v + (j + 1) * ld_in : nullptr;
    for (int c = 0; c < d; c += 16) {
      const __mmask16 m = TailMask(d - c);
      const __m512i lo = v0 ? Bf16Lanes(_mm512_maskz_loadu_ps(m, v0 + c)) : _mm512_setzero_si512();
      const __m512i hi = v1 ? Bf16Lanes(_mm512_maskz_loadu_ps(m, v1 + c)) : _mm512_setzero_si512();
      _mm512_mask_storeu_epi32(vp + jp * d + c, m, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
    }
  }
}

LFM_BF16_TARGET inline __m512bh AsBh(__m512i x) { return (__m512bh)x; }

// Scores of kRows query rows (bf16 pairs qp[r], d/2 of them) against kKBlock keys.
LFM_BF16_TARGET inline void ScoreTileBf16(const uint32_t* const qp[kRows], const uint32_t* kp, int64_t nkp, int dp,
                                          __m512 acc[kRows][4]) {
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int ip = 0; ip < dp; ++ip) {
    const uint32_t* kr = kp + static_cast<int64_t>(ip) * nkp;
    const __m512bh k0 = AsBh(_mm512_loadu_si512(kr)), k1 = AsBh(_mm512_loadu_si512(kr + 16)),
                   k2 = AsBh(_mm512_loadu_si512(kr + 32)), k3 = AsBh(_mm512_loadu_si512(kr + 48));
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const __m512bh qb = AsBh(_mm512_set1_epi32(static_cast<int>(qp[r][ip])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], qb, k0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], qb, k1);
      acc[r][2] = _mm512_dpbf16_ps(acc[r][2], qb, k2);
      acc[r][3] = _mm512_dpbf16_ps(acc[r][3], qb, k3);
    }
  }
}

// SoftmaxStep with p rounded to bf16 and written as kKBlock/2 key pairs; the running sum adds the
// rounded values, so the weights the output is divided by are exactly the ones it summed.
LFM_BF16_TARGET inline float SoftmaxStepBf16(__m512 s[4], const __mmask16 kmask[4], float scale, float* m, float* l,
                                             uint32_t* pp) {
  const __m512 sc = _mm512_set1_ps(scale), ninf = _mm512_set1_ps(-INFINITY);
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) s[c] = _mm512_mask_mul_ps(ninf, kmask[c], s[c], sc);
  const float bm = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(s[0], s[1]), _mm512_max_ps(s[2], s[3])));
  float corr = 1.0f;
  if (bm > *m) {
    corr = std::exp(*m - bm);
    *m = bm;
  }
  const __m512 mv = _mm512_set1_ps(*m);
  __m512 e[4];
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) e[c] = _mm512_maskz_mov_ps(kmask[c], Exp512(_mm512_sub_ps(s[c], mv)));
  __m512 sum = _mm512_setzero_ps();
#pragma GCC unroll 16
  for (int c = 0; c < 4; c += 2) {
    // 32 keys -> 16 pairs (low half of the result = the second argument = the earlier keys).
    const __m512i pb = (__m512i)_mm512_cvtne2ps_pbh(e[c + 1], e[c]);
    _mm512_storeu_si512(pp + 8 * c, pb);
    sum = _mm512_add_ps(sum, _mm512_castsi512_ps(_mm512_slli_epi32(pb, 16)));
    sum = _mm512_add_ps(sum, _mm512_castsi512_ps(_mm512_and_si512(pb, _mm512_set1_epi32(int(0xffff0000u)))));
  }
  *l = *l * corr + _mm512_reduce_add_ps(sum);
  return corr;
}

// o[r][c0 ..] = corr[r] * o[r][..] + sum over the block's key pairs of p . v, kRows rows.
template <int NV>
LFM_BF16_TARGET void PvChunkBf16(const uint32_t* pp, int np, const uint32_t* vp, int d, int c0, __mmask16 last,
                                 const float* corr, float* o) {
  __m512 acc[kRows][NV];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const __m512 cr = _mm512_set1_ps(corr[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? last : __mmask16(0xffff);
      acc[r][c] = _mm512_mul_ps(cr, _mm512_maskz_loadu_ps(m, o + r * d + c0 + 16 * c));
    }
  }
  for (int jp = 0; jp < np; ++jp) {
    const uint32_t* vr = vp + static_cast<int64_t>(jp) * d + c0;
    __m512bh vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      vv[c] = AsBh(c == NV - 1 ? _mm512_maskz_loadu_epi32(last, vr + 16 * c) : _mm512_loadu_si512(vr + 16 * c));
    }
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const __m512bh pb = AsBh(_mm512_set1_epi32(static_cast<int>(pp[r * (kKBlock / 2) + jp])));
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], pb, vv[c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? last : __mmask16(0xffff);
      _mm512_mask_storeu_ps(o + r * d + c0 + 16 * c, m, acc[r][c]);
    }
  }
}

LFM_BF16_TARGET void PvTileBf16(const uint32_t* pp, int np, const uint32_t* vp, int d, const float* corr, float* o) {
  for (int c0 = 0; c0 < d; c0 += 64) {
    const int left = std::min(64, d - c0);
    const int nv = (left + 15) / 16;
    const __mmask16 last = TailMask(left - 16 * (nv - 1));
    switch (nv) {
      case 1: PvChunkBf16<1>(pp, np, vp, d, c0, last, corr, o); break;
      case 2: PvChunkBf16<2>(pp, np, vp, d, c0, last, corr, o); break;
      case 3: PvChunkBf16<3>(pp, np, vp, d, c0, last, corr, o); break;
      default: PvChunkBf16<4>(pp, np, vp, d, c0, last, corr, o); break;
    }
  }
}

// FlashTask on the packed bf16 head: q (f32, the head's columns) is rounded to bf16 pairs here.
LFM_BF16_TARGET void FlashTaskBf16(const float* q, int64_t ld_in, int nq, int64_t n_k, const uint32_t* kp,
                                   const uint32_t* vp, int64_t nkp, int d, float scale, FlashRows& st,
                                   uint32_t* qbuf, float* out, int64_t ld_out) {
  const int dp = d / 2;
  FlashStart(nq, d, st);
  for (int r = 0; r < nq; ++r) {
    uint16_t* row = reinterpret_cast<uint16_t*>(qbuf + static_cast<int64_t>(r) * dp);
    for (int i = 0; i < d; i += 16) {
      const __mmask16 m = TailMask(d - i);
      _mm256_mask_storeu_epi16(row + i, m, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, q + r * ld_in + i)));
    }
  }
  alignas(64) uint32_t pp[kRows * kKBlock / 2];
  for (int64_t j0 = 0; j0 < n_k; j0 += kKBlock) {
    const int nk = static_cast<int>(std::min<int64_t>(kKBlock, n_k - j0));
    __mmask16 kmask[4];
#pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) kmask[c] = TailMask(std::max(0, nk - 16 * c));
    for (int r0 = 0; r0 < nq; r0 += kRows) {
      const uint32_t* qr[kRows];
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) qr[r] = qbuf + static_cast<int64_t>(std::min(r0 + r, nq - 1)) * dp;
      __m512 s[kRows][4];
      ScoreTileBf16(qr, kp + j0, nkp, dp, s);
      float corr[kRows];
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        corr[r] = SoftmaxStepBf16(s[r], kmask, scale, &st.m[r0 + r], &st.l[r0 + r], pp + r * (kKBlock / 2));
      }
      // Key pairs of this block; an odd last key is paired with a zero-padded one (p = 0, v = 0).
      PvTileBf16(pp, (nk + 1) / 2, vp + (j0 / 2) * d, d, corr, st.o + static_cast<int64_t>(r0) * d);
    }
  }
  float* out_rows[kQBlock];
  for (int r = 0; r < nq; ++r) out_rows[r] = out + r * ld_out;
  FlashFinish(st, nq, d, out_rows);
}

LFM_BF16_TARGET void AttentionBf16(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                                   int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  const int d = s.head_dim, H = s.n_heads;
  const int64_t nkp = (n_k + kKBlock - 1) / kKBlock * kKBlock;
  const int64_t head_words = nkp * d / 2;  // u32 per head, keys and values alike
  std::vector<uint32_t> kp(static_cast<size_t>(H) * head_words), vp(static_cast<size_t>(H) * head_words);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(2 * H), [&](size_t b, size_t e, int) {
    for (size_t job = b; job < e; ++job) {
      const int h = static_cast<int>(job / 2);
      if (job % 2 == 0) {
        PackKeysBf16(k + h * d, ld_in, n_k, d, nkp, kp.data() + h * head_words);
      } else {
        PackValuesBf16(v + h * d, ld_in, n_k, d, nkp, vp.data() + h * head_words);
      }
    }
  });
  const int64_t n_blocks = (n_q + kQBlock - 1) / kQBlock;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H * n_blocks), [&](size_t b, size_t e, int) {
    std::vector<float> o(static_cast<size_t>(kQBlock) * d);
    std::vector<uint32_t> qbuf(static_cast<size_t>(kQBlock) * d / 2);
    FlashRows st;
    st.o = o.data(), st.q = nullptr;  // the bf16 tiles round q into qbuf instead
    for (size_t task = b; task < e; ++task) {
      const int h = static_cast<int>(task / n_blocks);
      const int64_t t0 = static_cast<int64_t>(task % n_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n_q - t0));
      FlashTaskBf16(q + t0 * ld_in + h * d, ld_in, nq, n_k, kp.data() + h * head_words, vp.data() + h * head_words,
                    nkp, d, s.scale, st, qbuf.data(), out + t0 * ld_out + h * d, ld_out);
    }
  });
}

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  // bf16 when asked for and possible: pairs need an even head_dim; the packer's row buffer holds 512.
  if (s.bf16 && UseBf16Dot() && s.head_dim % 2 == 0 && s.head_dim <= 512) {
    AttentionBf16(q, k, v, ld_in, n_q, n_k, s, out, ld_out);
    return;
  }
  AttentionBidirectionalTiled(q, k, v, ld_in, n_q, n_k, s.n_heads, s.head_dim, s.scale, out, ld_out);
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

const VisionKernels* VisionKernelSet() {
#if defined(__x86_64__)
  static const VisionKernels k{LayerNormRows, BiasGeluTanhRows, BiasGeluErfRows, AttentionBidirectional};
  return &k;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
