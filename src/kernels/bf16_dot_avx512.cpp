// AVX512_BF16 conversion of f32 activation rows to bf16 (bf16_dot.h), shared by the decoder matmul
// and the vision GEMM.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <chrono>
#include <cstdint>

#include "kernels/bf16_dot.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512bf16_begin.h"  // last include: AVX-512 + BF16 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

inline __m256i Cvt16(__m512 v) { return (__m256i)_mm512_cvtneps_pbh(v); }

void RowsToBf16Impl(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd) {
  for (int64_t t = 0; t < n; ++t) {
    const float* xr = x + t * ldx;
    uint16_t* d = dst + t * ldd;
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + k), Cvt16(_mm512_loadu_ps(xr + k)));
    if (k < K) {
      // The masked-off lanes load 0.0f, which converts to a zero bf16: that writes the pad of an odd K.
      const int64_t left = K - k;
      const __mmask16 m = static_cast<__mmask16>((1u << left) - 1u);
      const __mmask16 store = static_cast<__mmask16>((1u << (left + (left & 1))) - 1u);
      _mm256_mask_storeu_epi16(d + k, store, Cvt16(_mm512_maskz_loadu_ps(m, xr + k)));
    }
  }
}

// Throughput timers for Bf16DotProbe(): 16 independent accumulator chains (more than latency x issue
// rate on any core seen), operands in registers (no barrier inside the loop: one forces the chains
// through memory). The result feeds an opaque sink, so the loop cannot be dropped.
template <bool kDot>
__attribute__((noinline)) double TimeChains(int64_t iters) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i) * 1e-3f);
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-6f);
  const __m512bh ah = (__m512bh)_mm512_set1_epi16(0x3f7f), bh = (__m512bh)_mm512_set1_epi16(0x3580);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if constexpr (kDot) {
        acc[i] = _mm512_dpbf16_ps(acc[i], ah, bh);
      } else {
        acc[i] = _mm512_fmadd_ps(acc[i], a, b);
      }
    }
  }
  const auto t1 = std::chrono::steady_clock::now();
  __m512 s = acc[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, acc[i]);
  volatile float sink = _mm512_reduce_add_ps(s);
  (void)sink;
  return std::chrono::duration<double>(t1 - t0).count();
}

double TimeDotChains(int64_t iters) { return TimeChains<true>(iters); }
double TimeFmaChains(int64_t iters) { return TimeChains<false>(iters); }

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

RowsToBf16Fn RowsToBf16Kernel() {
#if defined(__x86_64__)
  return RowsToBf16Impl;
#else
  return nullptr;
#endif
}

ChainTimerFn Bf16DotChainTimer() {
#if defined(__x86_64__)
  return TimeDotChains;
#else
  return nullptr;
#endif
}

ChainTimerFn FmaChainTimer() {
#if defined(__x86_64__)
  return TimeFmaChains;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
