// Plain reference twins of vision_ops.h: double accumulation, libm functions, one thread.
#include <cmath>
#include <vector>

#include "kernels/vision_ops.h"

namespace lfm {

void LayerNormRowsRef(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps,
                      float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    double mean = 0;
    for (int64_t i = 0; i < d; ++i) mean += xr[i];
    mean /= static_cast<double>(d);
    double var = 0;
    for (int64_t i = 0; i < d; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<double>(d);
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < d; ++i) yr[i] = static_cast<float>((xr[i] - mean) * inv * w[i] + b[i]);
  }
}

void BiasGeluTanhRowsRef(float* x, int64_t rows, int64_t d, const float* bias) {
  const double k = std::sqrt(2.0 / M_PI);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < d; ++i) {
      const double z = static_cast<double>(x[r * d + i]) + (bias ? bias[i] : 0.0f);
      x[r * d + i] = static_cast<float>(0.5 * z * (1.0 + std::tanh(k * (z + 0.044715 * z * z * z))));
    }
  }
}

void BiasGeluErfRowsRef(float* x, int64_t rows, int64_t d, const float* bias) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < d; ++i) {
      const double z = static_cast<double>(x[r * d + i]) + (bias ? bias[i] : 0.0f);
      x[r * d + i] = static_cast<float>(0.5 * z * (1.0 + std::erf(z / std::sqrt(2.0))));
    }
  }
}

void AttentionBidirectionalRef(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                               int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  const int d = s.head_dim;
  std::vector<double> p(n_k);
  for (int h = 0; h < s.n_heads; ++h) {
    for (int64_t t = 0; t < n_q; ++t) {
      const float* qv = q + t * ld_in + h * d;
      double mx = -INFINITY;
      for (int64_t j = 0; j < n_k; ++j) {
        const float* kv = k + j * ld_in + h * d;
        double acc = 0;
        for (int i = 0; i < d; ++i) acc += static_cast<double>(qv[i]) * kv[i];
        p[j] = acc * s.scale;
        mx = std::max(mx, p[j]);
      }
      double sum = 0;
      for (int64_t j = 0; j < n_k; ++j) sum += (p[j] = std::exp(p[j] - mx));
      float* o = out + t * ld_out + h * d;
      for (int i = 0; i < d; ++i) {
        double acc = 0;
        for (int64_t j = 0; j < n_k; ++j) acc += p[j] * v[j * ld_in + h * d + i];
        o[i] = static_cast<float>(acc / sum);
      }
    }
  }
}

}  // namespace lfm
