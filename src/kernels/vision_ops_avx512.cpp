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

// exp(x) for f32 lanes: x = n ln2 + r with |r| <= ln2/2, a degree-6 polynomial for e^r (Cephes
// expf coefficients, ~1 ulp), then scalef by 2^n (which also under/overflows cleanly to 0 / inf).
inline __m512 Exp512(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  x = _mm512_min_ps(x, _mm512_set1_ps(89.0f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 r2 = _mm512_mul_ps(r, r);
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);
}

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

// Queries per task; the task's score block [kQBlock, n_k] stays in L2.
constexpr int kQBlock = 32;

// S[t][j] = sum_i q[t][i] * kt[i][j] for 4 query rows x 64 keys per register tile. kt is the head's keys
// transposed, [d][nkp] with nkp a multiple of 16 (zero padded), so each step is 4 vector loads and 4
// broadcasts for 16 FMAs, and no horizontal sums.
void Scores(const float* q, int64_t ldq, int nq, const float* kt, int64_t nkp, int d, float* s, int64_t lds) {
  for (int t0 = 0; t0 < nq; t0 += 4) {
    const int tn = std::min(4, nq - t0);
    for (int64_t j0 = 0; j0 < nkp; j0 += 64) {
      const int nv = static_cast<int>(std::min<int64_t>(4, (nkp - j0) / 16));
      __m512 acc[4][4];
      for (int t = 0; t < 4; ++t)
        for (int c = 0; c < 4; ++c) acc[t][c] = _mm512_setzero_ps();
      for (int i = 0; i < d; ++i) {
        const float* kr = kt + static_cast<int64_t>(i) * nkp + j0;
        __m512 kv[4];
        for (int c = 0; c < 4; ++c) kv[c] = c < nv ? _mm512_loadu_ps(kr + 16 * c) : _mm512_setzero_ps();
        for (int t = 0; t < tn; ++t) {
          const __m512 qb = _mm512_set1_ps(q[(t0 + t) * ldq + i]);
          for (int c = 0; c < 4; ++c) acc[t][c] = _mm512_fmadd_ps(qb, kv[c], acc[t][c]);
        }
      }
      for (int t = 0; t < tn; ++t)
        for (int c = 0; c < nv; ++c) _mm512_storeu_ps(s + (t0 + t) * lds + j0 + 16 * c, acc[t][c]);
    }
  }
}

// o[t][c0 .. c0+16*NV) = sum_j p[t][j] * v[j][c0 ..], 4 query rows at a time; the last vector of the
// chunk is masked by `last`.
template <int NV>
void WeightedSumChunk(const float* p, int64_t ldp, int nq, int64_t nk, const float* v, int64_t ldv, int c0,
                      __mmask16 last, float* o, int64_t ldo) {
  for (int t0 = 0; t0 < nq; t0 += 4) {
    const int tn = std::min(4, nq - t0);
    __m512 acc[4][NV];
    for (int t = 0; t < 4; ++t)
      for (int c = 0; c < NV; ++c) acc[t][c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < nk; ++j) {
      const float* vr = v + j * ldv + c0;
      __m512 vv[NV];
      for (int c = 0; c < NV; ++c) {
        vv[c] = c == NV - 1 ? _mm512_maskz_loadu_ps(last, vr + 16 * c) : _mm512_loadu_ps(vr + 16 * c);
      }
      for (int t = 0; t < tn; ++t) {
        const __m512 pb = _mm512_set1_ps(p[(t0 + t) * ldp + j]);
        for (int c = 0; c < NV; ++c) acc[t][c] = _mm512_fmadd_ps(pb, vv[c], acc[t][c]);
      }
    }
    for (int t = 0; t < tn; ++t) {
      for (int c = 0; c < NV; ++c) {
        const __mmask16 m = c == NV - 1 ? last : __mmask16(0xffff);
        _mm512_mask_storeu_ps(o + (t0 + t) * ldo + c0 + 16 * c, m, acc[t][c]);
      }
    }
  }
}

void WeightedSum(const float* p, int64_t ldp, int nq, int64_t nk, const float* v, int64_t ldv, int d, float* o,
                 int64_t ldo) {
  for (int c0 = 0; c0 < d; c0 += 64) {
    const int left = std::min(64, d - c0);
    const int nv = (left + 15) / 16;
    const __mmask16 last = TailMask(left - 16 * (nv - 1));
    switch (nv) {
      case 1: WeightedSumChunk<1>(p, ldp, nq, nk, v, ldv, c0, last, o, ldo); break;
      case 2: WeightedSumChunk<2>(p, ldp, nq, nk, v, ldv, c0, last, o, ldo); break;
      case 3: WeightedSumChunk<3>(p, ldp, nq, nk, v, ldv, c0, last, o, ldo); break;
      default: WeightedSumChunk<4>(p, ldp, nq, nk, v, ldv, c0, last, o, ldo); break;
    }
  }
}

// In place: row <- exp(scale * (row - max)) over n values; returns the sum.
float ScaledExpRow(float* row, int64_t n, float scale) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < n; j += 16) {
    mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), TailMask(n - j), row + j));
  }
  const __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  const __m512 sc = _mm512_set1_ps(scale);
  __m512 sum = _mm512_setzero_ps();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 k = TailMask(n - j);
    const __m512 e = Exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, row + j), m), sc));
    _mm512_mask_storeu_ps(row + j, k, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(k, e));
  }
  return _mm512_reduce_add_ps(sum);
}

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  const int d = s.head_dim, H = s.n_heads;
  const int64_t nkp = (n_k + 15) / 16 * 16;
  // Keys transposed per head, [H][d][nkp], so score tiles read contiguous key runs.
  std::vector<float> kt(static_cast<size_t>(H) * d * nkp, 0.0f);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H), [&](size_t b, size_t e, int) {
    for (size_t h = b; h < e; ++h) {
      float* dst = kt.data() + h * d * nkp;
      for (int64_t j = 0; j < n_k; ++j) {
        const float* kr = k + j * ld_in + h * d;
        for (int i = 0; i < d; ++i) dst[i * nkp + j] = kr[i];
      }
    }
  });
  const int64_t n_blocks = (n_q + kQBlock - 1) / kQBlock;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H * n_blocks), [&](size_t b, size_t e, int) {
    thread_local std::vector<float> sc;
    sc.resize(static_cast<size_t>(kQBlock) * nkp);
    for (size_t task = b; task < e; ++task) {
      const int h = static_cast<int>(task / n_blocks);
      const int64_t t0 = static_cast<int64_t>(task % n_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n_q - t0));
      Scores(q + t0 * ld_in + h * d, ld_in, nq, kt.data() + static_cast<int64_t>(h) * d * nkp, nkp, d, sc.data(),
             nkp);
      float inv_sum[kQBlock];
      for (int t = 0; t < nq; ++t) inv_sum[t] = 1.0f / ScaledExpRow(sc.data() + t * nkp, n_k, s.scale);
      float* o = out + t0 * ld_out + h * d;
      WeightedSum(sc.data(), nkp, nq, n_k, v + h * d, ld_in, d, o, ld_out);
      for (int t = 0; t < nq; ++t) {
        for (int i = 0; i < d; ++i) o[t * ld_out + i] *= inv_sum[t];
      }
    }
  });
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
