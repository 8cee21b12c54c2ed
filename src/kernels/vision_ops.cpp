// Fast versions of vision_ops.h: the AVX-512 set (vision_ops_avx512.cpp) when ActiveIsa() is avx512;
// on avx2, the AVX2 attention (vision_attention_avx2.cpp) with the portable loops below for the rest;
// the portable loops alone otherwise. Row-wise work
// is split over DefaultThreadPool() when it is large enough to pay for the hand-off.
#include "kernels/vision_ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_ops_impl.h"

namespace lfm {

namespace scalar {
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

void LayerNormRows(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps, float* y) {
  ForRows(rows, d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      float mean = 0;
      for (int64_t i = 0; i < d; ++i) mean += xr[i];
      mean /= static_cast<float>(d);
      float var = 0;
      for (int64_t i = 0; i < d; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      const float inv = 1.0f / std::sqrt(var / static_cast<float>(d) + eps);
      for (int64_t i = 0; i < d; ++i) yr[i] = (xr[i] - mean) * inv * w[i] + b[i];
    }
  });
}

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  const int d = s.head_dim;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n_q) * s.n_heads, [&](size_t b, size_t e, int) {
    std::vector<float> p(n_k);
    for (size_t job = b; job < e; ++job) {
      const int64_t t = static_cast<int64_t>(job / s.n_heads);
      const int h = static_cast<int>(job % s.n_heads);
      const float* qv = q + t * ld_in + h * d;
      float mx = -INFINITY;
      for (int64_t j = 0; j < n_k; ++j) {
        float acc = 0;
        for (int i = 0; i < d; ++i) acc += qv[i] * k[j * ld_in + h * d + i];
        p[j] = acc * s.scale;
        mx = std::max(mx, p[j]);
      }
      float sum = 0;
      for (int64_t j = 0; j < n_k; ++j) sum += (p[j] = std::exp(p[j] - mx));
      float* o = out + t * ld_out + h * d;
      for (int i = 0; i < d; ++i) o[i] = 0;
      for (int64_t j = 0; j < n_k; ++j) {
        for (int i = 0; i < d; ++i) o[i] += p[j] * v[j * ld_in + h * d + i];
      }
      for (int i = 0; i < d; ++i) o[i] /= sum;
    }
  });
}

}  // namespace
}  // namespace scalar

namespace {

// The kernel set of the active ISA, chosen once (thread-safe static init).
const VisionKernels& Kernels() {
  static const VisionKernels k = [] {
    if (ActiveIsa() >= Isa::kAvx512 && avx512::VisionKernelSet()) return *avx512::VisionKernelSet();
#if defined(__x86_64__)
    if (ActiveIsa() >= Isa::kAvx2 && avx2::VisionAttentionCompiled()) {
      return VisionKernels{scalar::LayerNormRows, BiasGeluTanhRowsRef, BiasGeluErfRowsRef,
                           avx2::AttentionBidirectional};
    }
#endif
    return VisionKernels{scalar::LayerNormRows, BiasGeluTanhRowsRef, BiasGeluErfRowsRef,
                         scalar::AttentionBidirectional};
  }();
  return k;
}

}  // namespace

bool VisionAttentionUsesBf16() { return VisionOpsIsa() == Isa::kAvx512 && UseBf16Dot(); }

Isa VisionOpsIsa() {
  if (ActiveIsa() >= Isa::kAvx512 && avx512::VisionKernelSet()) return Isa::kAvx512;
  if (ActiveIsa() >= Isa::kAvx2 && avx2::VisionAttentionCompiled()) return Isa::kAvx2;
  return Isa::kScalar;
}

void LayerNormRows(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps, float* y) {
  Kernels().layer_norm_rows(x, rows, d, w, b, eps, y);
}

void AddBiasRows(float* x, int64_t rows, int64_t d, const float* bias) {
  scalar::ForRows(rows, d, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float* xr = x + r * d;
      for (int64_t i = 0; i < d; ++i) xr[i] += bias[i];
    }
  });
}

void BiasGeluTanhRows(float* x, int64_t rows, int64_t d, const float* bias) {
  Kernels().bias_gelu_tanh_rows(x, rows, d, bias);
}

void BiasGeluErfRows(float* x, int64_t rows, int64_t d, const float* bias) {
  Kernels().bias_gelu_erf_rows(x, rows, d, bias);
}

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  Kernels().attention_bidirectional(q, k, v, ld_in, n_q, n_k, s, out, ld_out);
}

}  // namespace lfm
