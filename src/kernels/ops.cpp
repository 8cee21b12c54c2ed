// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul_impl.h"

#if LFM_HAVE_AVX512
#include <immintrin.h>
#endif

namespace lfm {

float Dot(const float* a, const float* b, int64_t n) {
#if LFM_HAVE_AVX512
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = n - i >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc0);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
#else
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
#endif
}

void Axpy(float a, const float* x, int64_t n, float* y) {
#if LFM_HAVE_AVX512
  const __m512 av = _mm512_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(y + i, _mm512_fmadd_ps(av, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  if (i < n) {
    const __mmask16 m = static_cast<__mmask16>((1u << (n - i)) - 1);
    _mm512_mask_storeu_ps(y + i, m,
                          _mm512_fmadd_ps(av, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
#else
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
#endif
}

void Mul(const float* a, const float* b, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i];
}

void AddInPlace(const float* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void RmsNorm(const float* x, const float* w, int64_t n, float eps, float* y) {
  const float ss = Dot(x, x, n);
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

void Silu(const float* x, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] / (1.0f + std::exp(-x[i]));
}

void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void Softmax(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (x[i] = std::exp(x[i] - mx));
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void RopeCosSin(int64_t pos, const float* inv_freq, int half, float* cos_out, float* sin_out) {
  for (int i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv_freq[i];
    cos_out[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    sin_out[i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
}

void RopeNeox(float* x, int n_heads, int half, const float* cos, const float* sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * 2 * half;
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

void CausalDepthwiseConv(const float* v, int64_t n, int64_t D, int L, const float* w, float* state,
                         float* out) {
  const int64_t P = L - 1;
  // Row r of concat(state, v): state rows first, then the new inputs.
  auto row = [&](int64_t r) { return r < P ? state + r * D : v + (r - P) * D; };
  for (int64_t t = 0; t < n; ++t) {
    float* o = out + t * D;
    const float* src = row(t);
    for (int64_t c = 0; c < D; ++c) o[c] = w[c] * src[c];
    for (int j = 1; j < L; ++j) {
      const float* s = row(t + j);
      const float* wj = w + j * D;
      for (int64_t c = 0; c < D; ++c) o[c] += wj[c] * s[c];
    }
  }
  // New state = last P rows of concat(state, v); copy forward so we never read overwritten rows.
  for (int64_t r = 0; r < P; ++r) {
    const int64_t src_r = n + r;
    if (src_r < P) {
      std::copy(state + src_r * D, state + src_r * D + D, state + r * D);
    } else {
      std::copy(v + (src_r - P) * D, v + (src_r - P) * D + D, state + r * D);
    }
  }
}

void AttentionCausal(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                     const AttentionShape& s, float* out) {
  const int d = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t qs = static_cast<int64_t>(s.n_heads) * d, kvs = static_cast<int64_t>(s.n_kv_heads) * d;
  const size_t jobs = static_cast<size_t>(n) * s.n_heads;
  DefaultThreadPool().ParallelFor(jobs, [&](size_t b, size_t e, int) {
    thread_local std::vector<float> sc;
    for (size_t job = b; job < e; ++job) {
      const int64_t t = static_cast<int64_t>(job / s.n_heads);
      const int h = static_cast<int>(job % s.n_heads);
      const int kh = h / group;
      const int64_t len = p0 + t + 1;
      const float* qv = q + t * qs + h * d;
      sc.resize(len);
      float mx = -INFINITY;
      for (int64_t j = 0; j < len; ++j) {
        sc[j] = Dot(qv, k + j * kvs + kh * d, d) * s.scale;
        mx = std::max(mx, sc[j]);
      }
      float sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
      float* o = out + t * qs + h * d;
      std::fill(o, o + d, 0.0f);
      for (int64_t j = 0; j < len; ++j) Axpy(sc[j], v + j * kvs + kh * d, d, o);
      const float inv = 1.0f / sum;
      for (int i = 0; i < d; ++i) o[i] *= inv;
    }
  });
}

}  // namespace lfm
