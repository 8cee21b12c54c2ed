// AVX-512 versions of the SIMD kernels of ops.h (see ops_impl.h).
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"

#include "kernels/ops_impl.h"
#include "tensor/convert.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512_begin.h"  // last include: AVX-512 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

#include "kernels/load16_avx512-inl.h"  // Load16, MaskLoad16 (f32 or widened bf16)

// Dot and Axpy over f32 rows, or over bf16 rows (the bf16 KV cache's generic-head-dim path) with
// widening loads: one body, the row type picks Load16 / MaskLoad16.
template <class T>
float Dot(const float* a, const T* b, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), Load16(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), Load16(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), MaskLoad16(m, b + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

template <class T>
void Axpy(float a, const T* x, int64_t n, float* y) {
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, Load16(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(av, MaskLoad16(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

#include "kernels/exp_avx512-inl.h"  // Exp512

inline __mmask16 TailMask(int64_t n) { return n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1u); }

// Lane i = the horizontal sum of a[i], for 16 vectors at once (a transpose-and-add tree: 15 adds and
// 30 shuffles for 16 sums, instead of a full reduction per sum).
inline __m512 Reduce16(const __m512 a[16]) {
  __m512 x[8], y[4];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i)  // per 128-bit chunk: [a0+a2, b0+b2, a1+a3, b1+b3] of a = a[2i], b = a[2i+1]
    x[i] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {  // per chunk: partial sums of a[4i], a[4i+1], a[4i+2], a[4i+3]
    const __m512d u = _mm512_castps_pd(x[2 * i]), v = _mm512_castps_pd(x[2 * i + 1]);
    y[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(u, v)), _mm512_castpd_ps(_mm512_unpackhi_pd(u, v)));
  }
  // The 4 chunks of y[i] summed into chunk i of the result.
  const __m512 z0 = _mm512_add_ps(_mm512_shuffle_f32x4(y[0], y[1], 0x88), _mm512_shuffle_f32x4(y[0], y[1], 0xdd));
  const __m512 z1 = _mm512_add_ps(_mm512_shuffle_f32x4(y[2], y[3], 0x88), _mm512_shuffle_f32x4(y[2], y[3], 0xdd));
  return _mm512_add_ps(_mm512_shuffle_f32x4(z0, z1, 0x88), _mm512_shuffle_f32x4(z0, z1, 0xdd));
}

// AttentionCausal's jobs for head_dim = 16 * kV: the query and the output row live in registers;
// scores come 16 keys at a time (16 dot products reduced together by Reduce16), the softmax is
// vectorised (Exp512), and each value row is one FMA per vector into the register output. Same
// math as the generic jobs (attention_causal-inl.h), different summation order. T: float (f32 KV
// cache) or uint16_t (bf16 bits, widened by Load16).
template <int kV, typename T>
void AttentionCausalJobsD(const float* q, int64_t p0, const T* k, const T* v, const AttentionShape& s, float* out,
                          size_t job_begin, size_t job_end) {
  constexpr int d = 16 * kV;
  const int group = s.n_heads / s.n_kv_heads;
  const int64_t qs = static_cast<int64_t>(s.n_heads) * d, kvs = static_cast<int64_t>(s.n_kv_heads) * d;
  thread_local std::vector<float> sc;
  for (size_t job = job_begin; job < job_end; ++job) {
    const int64_t t = static_cast<int64_t>(job / s.n_heads);
    const int h = static_cast<int>(job % s.n_heads);
    const int64_t len = p0 + t + 1;
    const T* kh = k + static_cast<int64_t>(h / group) * d;
    const T* vh = v + static_cast<int64_t>(h / group) * d;
    __m512 qv[kV];
#pragma GCC unroll 8
    for (int c = 0; c < kV; ++c) qv[c] = _mm512_loadu_ps(q + t * qs + static_cast<int64_t>(h) * d + 16 * c);
    if (sc.size() < static_cast<size_t>(len + 16)) sc.resize(static_cast<size_t>(len + 16));
    const __m512 scale = _mm512_set1_ps(s.scale);
    __m512 mxv = _mm512_set1_ps(-INFINITY);
    for (int64_t j0 = 0; j0 < len; j0 += 16) {
      const int nk = static_cast<int>(std::min<int64_t>(16, len - j0));
      __m512 acc[16];
#pragma GCC unroll 16
      for (int kk = 0; kk < 16; ++kk) {
        acc[kk] = _mm512_setzero_ps();
        if (kk < nk) {
          const T* kr = kh + (j0 + kk) * kvs;
#pragma GCC unroll 8
          for (int c = 0; c < kV; ++c) acc[kk] = _mm512_fmadd_ps(qv[c], Load16(kr + 16 * c), acc[kk]);
        }
      }
      const __mmask16 m = TailMask(nk);
      const __m512 x = _mm512_mul_ps(Reduce16(acc), scale);
      _mm512_mask_storeu_ps(sc.data() + j0, m, x);
      mxv = _mm512_mask_max_ps(mxv, m, mxv, x);
    }
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(mxv));
    __m512 sumv = _mm512_setzero_ps();
    for (int64_t j0 = 0; j0 < len; j0 += 16) {
      const __mmask16 m = TailMask(static_cast<int>(std::min<int64_t>(16, len - j0)));
      const __m512 e = _mm512_maskz_mov_ps(m, Exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, sc.data() + j0), mx)));
      _mm512_mask_storeu_ps(sc.data() + j0, m, e);
      sumv = _mm512_add_ps(sumv, e);
    }
    __m512 o[kV];
#pragma GCC unroll 8
    for (int c = 0; c < kV; ++c) o[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < len; ++j) {
      const __m512 pj = _mm512_set1_ps(sc[static_cast<size_t>(j)]);
      const T* vr = vh + j * kvs;
#pragma GCC unroll 8
      for (int c = 0; c < kV; ++c) o[c] = _mm512_fmadd_ps(pj, Load16(vr + 16 * c), o[c]);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sumv));
    float* orow = out + t * qs + static_cast<int64_t>(h) * d;
#pragma GCC unroll 8
    for (int c = 0; c < kV; ++c) _mm512_storeu_ps(orow + 16 * c, _mm512_mul_ps(o[c], inv));
  }
}

#include "kernels/flash_attention_avx512-inl.h"  // FlashRows, FlashStart/FlashSweep/FlashFinish, TransposeKeys

#include "kernels/attention_causal_tiled-inl.h"  // AttentionCausalTiled, AttentionCausalTiledBf16

// g / (1 + exp(-g)) * u; the tail under a mask (masked-off lanes are never stored).
void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = Exp512(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  }
}

}  // namespace
}  // namespace lfm::avx512

#include "kernels/attention_causal-inl.h"

namespace lfm::avx512 {
namespace {

// Head dims 16/32/64/128 (LFM2: 64) take the register kernel; others the generic jobs.
void AttentionJobs(const float* q, int64_t p0, const float* k, const float* v, const AttentionShape& s, float* out,
                   size_t job_begin, size_t job_end) {
  switch (s.head_dim) {
    case 16: return AttentionCausalJobsD<1>(q, p0, k, v, s, out, job_begin, job_end);
    case 32: return AttentionCausalJobsD<2>(q, p0, k, v, s, out, job_begin, job_end);
    case 64: return AttentionCausalJobsD<4>(q, p0, k, v, s, out, job_begin, job_end);
    case 128: return AttentionCausalJobsD<8>(q, p0, k, v, s, out, job_begin, job_end);
    default: return AttentionCausalJobs(q, p0, k, v, s, out, job_begin, job_end);
  }
}

void AttentionBf16Jobs(const float* q, int64_t p0, const uint16_t* k, const uint16_t* v, const AttentionShape& s,
                       float* out, size_t job_begin, size_t job_end) {
  switch (s.head_dim) {
    case 16: return AttentionCausalJobsD<1>(q, p0, k, v, s, out, job_begin, job_end);
    case 32: return AttentionCausalJobsD<2>(q, p0, k, v, s, out, job_begin, job_end);
    case 64: return AttentionCausalJobsD<4>(q, p0, k, v, s, out, job_begin, job_end);
    case 128: return AttentionCausalJobsD<8>(q, p0, k, v, s, out, job_begin, job_end);
    default: return AttentionCausalBf16Jobs(q, p0, k, v, s, out, job_begin, job_end);
  }
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

const OpsKernels* OpsKernelSet() {
#if defined(__x86_64__)
  static const OpsKernels k{Dot, Axpy, SwiGlu, AttentionJobs, AttentionBf16Jobs, AttentionCausalTiled,
                           AttentionCausalTiledBf16};
  return &k;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
