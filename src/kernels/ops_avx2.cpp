// AVX2 + FMA versions of the SIMD kernels of ops.h (see ops_impl.h).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/workspace.h"

#include "kernels/ops_impl.h"
#include "tensor/convert.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

inline float Widen(float v) { return v; }
inline float Widen(uint16_t v) { return BF16ToF32(v); }  // bf16 KV cache rows (TransposeKeys, PackValues)

float Dot(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  const __m256 acc = _mm256_add_ps(acc0, acc1);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  float sum = _mm_cvtss_f32(s);
  for (; i < n; ++i) sum = std::fma(a[i], b[i], sum);
  return sum;
}

void Axpy(float a, const float* x, int64_t n, float* y) {
  const __m256 av = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] = std::fma(a, x[i], y[i]);
}

#include "kernels/exp_avx2-inl.h"  // Exp256

// g / (1 + exp(-g)) * u, 8 at a time; the tail with libm as the portable loop.
void SwiGlu(const float* gate, const float* up, int64_t n, float* out) {
  const __m256 one = _mm256_set1_ps(1.0f);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = Exp256(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

#include "kernels/hreduce_avx2-inl.h"          // HMax, HSum
#include "kernels/flash_attention_avx2-inl.h"    // FlashRows, FlashStart/FlashSweep/FlashFinish, TransposeKeys
#include "kernels/attention_causal_tiled-inl.h"  // AttentionCausalTiled, AttentionCausalTiledBf16

}  // namespace
}  // namespace lfm::avx2

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx2 {

const OpsKernels* OpsKernelSet() {
#if defined(__x86_64__)
  static const OpsKernels k{Dot, Axpy, SwiGlu, nullptr, nullptr, AttentionCausalTiled, AttentionCausalTiledBf16};
  return &k;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx2
