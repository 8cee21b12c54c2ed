#include "kernels/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/ops_impl.h"
#include "tensor/convert.h"

// The portable set: plain loops, built for the baseline.
namespace lfm::scalar {
namespace {

float Dot(const float* a, const float* b, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

void Axpy(float a, const float* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Over bf16 rows (the bf16 KV cache), widened element by element.
float Dot(const float* a, const uint16_t* b, int64_t n) {
  float acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * BF16ToF32(b[i]);
  return acc;
}

void Axpy(float a, const uint16_t* x, int64_t n, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * BF16ToF32(x[i]);
}

void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace
}  // namespace lfm::scalar

#define LFM_ISA_NS scalar
#include "kernels/attention_causal-inl.h"
#undef LFM_ISA_NS

namespace lfm {

namespace {

// The kernel set of the active ISA, chosen once (thread-safe static init).
struct ActiveOps {
  OpsKernels k;
  Isa isa;
};

const ActiveOps& Active() {
  static const ActiveOps ops = []() -> ActiveOps {
    const Isa isa = ActiveIsa();
    if (isa >= Isa::kAvx512 && avx512::OpsKernelSet()) return {*avx512::OpsKernelSet(), Isa::kAvx512};
    if (isa >= Isa::kAvx2 && avx2::OpsKernelSet()) return {*avx2::OpsKernelSet(), Isa::kAvx2};
    return {{scalar::Dot, scalar::Axpy, scalar::SwiGlu, scalar::AttentionCausalJobs, scalar::AttentionCausalBf16Jobs,
             nullptr, nullptr},
            Isa::kScalar};
  }();
  return ops;
}

}  // namespace

const OpsKernels& ActiveOpsKernels() { return Active().k; }

namespace {

const OpsKernels& Kernels() { return Active().k; }

// Keys packed at a time by the tiled kernel (2,048 keys x 8 kv heads x 64 = 4 MiB of f32). A multiple of
// every ISA's key block (64, 16): its key blocks then start at the same positions in every call, which
// the same-bits-however-split property needs.
constexpr int64_t kTiledKeyChunk = 2048;

}  // namespace

Isa OpsIsa() { return Active().isa; }

float Dot(const float* a, const float* b, int64_t n) { return Kernels().dot(a, b, n); }

void Axpy(float a, const float* x, int64_t n, float* y) { Kernels().axpy(a, x, n, y); }

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
  const auto fn = Kernels().swiglu;
  // Decode (one token, 4608 values: ~2 us) stays on the calling thread, below a region's fork/join
  // cost; prefill (512 x 4608) splits over the pool in 16-value chunks (whole SIMD vectors).
  if (n < (1 << 16)) {
    fn(gate, up, n, out);
    return;
  }
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(n),
      [&](size_t b, size_t e, int) {
        fn(gate + b, up + b, static_cast<int64_t>(e - b), out + b);
      },
      16);
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
  if (Kernels().attention_causal_tiled) {
    Kernels().attention_causal_tiled(q, n, p0, k, v, s, out, kTiledKeyChunk);
    return;
  }
  const auto jobs_fn = Kernels().attention_causal_jobs;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n) * s.n_heads,
                                  [&](size_t b, size_t e, int) { jobs_fn(q, p0, k, v, s, out, b, e); });
}

void AttentionCausalBf16(const float* q, int64_t n, int64_t p0, const uint16_t* k, const uint16_t* v,
                         const AttentionShape& s, float* out) {
  if (Kernels().attention_causal_tiled_bf16) {
    Kernels().attention_causal_tiled_bf16(q, n, p0, k, v, s, out, kTiledKeyChunk);
    return;
  }
  const auto jobs_fn = Kernels().attention_causal_bf16_jobs;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n) * s.n_heads,
                                  [&](size_t b, size_t e, int) { jobs_fn(q, p0, k, v, s, out, b, e); });
}

void F32ToBf16Rows(const float* x, int64_t n, uint16_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = F32ToBF16(x[i]);
}

}  // namespace lfm
