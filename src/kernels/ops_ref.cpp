#include <cmath>
#include <vector>

#include "kernels/ops.h"
#include "tensor/convert.h"

namespace lfm {

void RmsNormRef(const float* x, const float* w, int64_t n, float eps, float* y) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(x[i]) * x[i];
  const float inv = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

void SwiGluRef(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = gate[i];
    out[i] = static_cast<float>(g / (1.0 + std::exp(-g)) * up[i]);
  }
}

void SoftmaxRef(float* x, int64_t n) {
  double mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max<double>(mx, x[i]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i] - mx);
  for (int64_t i = 0; i < n; ++i) x[i] = static_cast<float>(std::exp(x[i] - mx) / sum);
}

void RopeNeoxRef(float* x, int n_heads, int half, const float* cos, const float* sin) {
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + static_cast<int64_t>(h) * 2 * half;
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * cos[i] - b * sin[i];
      v[i + half] = b * cos[i] + a * sin[i];
    }
  }
}

void CausalDepthwiseConvRef(const float* v, int64_t n, int64_t D, int L, const float* w, float* state,
                            float* out) {
  // Materialise concat(state, v) and run a valid convolution over it.
  const int64_t P = L - 1;
  std::vector<float> seq((P + n) * D);
  for (int64_t i = 0; i < P * D; ++i) seq[i] = state[i];
  for (int64_t i = 0; i < n * D; ++i) seq[P * D + i] = v[i];
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t c = 0; c < D; ++c) {
      double acc = 0;
      for (int j = 0; j < L; ++j) acc += static_cast<double>(w[j * D + c]) * seq[(t + j) * D + c];
      out[t * D + c] = static_cast<float>(acc);
    }
  }
  for (int64_t i = 0; i < P * D; ++i) state[i] = seq[n * D + i];
}

void AttentionCausalRef(const float* q, int64_t n, int64_t p0, const float* k, const float* v,
                        const AttentionShape& s, float* out) {
  const int d = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t qs = static_cast<int64_t>(s.n_heads) * d, kvs = static_cast<int64_t>(s.n_kv_heads) * d;
  std::vector<double> sc;
  for (int64_t t = 0; t < n; ++t) {
    const int64_t len = p0 + t + 1;
    for (int h = 0; h < s.n_heads; ++h) {
      const int kh = h / group;
      const float* qv = q + t * qs + h * d;
      sc.assign(len, 0);
      double mx = -INFINITY;
      for (int64_t j = 0; j < len; ++j) {
        double dot = 0;
        for (int i = 0; i < d; ++i) dot += static_cast<double>(qv[i]) * k[j * kvs + kh * d + i];
        sc[j] = dot * s.scale;
        mx = std::max(mx, sc[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < len; ++j) sum += (sc[j] = std::exp(sc[j] - mx));
      for (int i = 0; i < d; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < len; ++j) acc += sc[j] * v[j * kvs + kh * d + i];
        out[t * qs + h * d + i] = static_cast<float>(acc / sum);
      }
    }
  }
}

void AttentionCausalBf16Ref(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                            const AttentionShape& s, float* out) {
  const size_t len = static_cast<size_t>(p0 + n) * s.n_kv_heads * s.head_dim;
  std::vector<float> kf(len), vf(len);
  for (size_t i = 0; i < len; ++i) {
    kf[i] = BF16ToF32(k[i]);
    vf[i] = BF16ToF32(v[i]);
  }
  AttentionCausalRef(q, n, p0, kf.data(), vf.data(), s, out);
}

}  // namespace lfm
