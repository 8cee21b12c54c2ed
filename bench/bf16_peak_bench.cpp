// The ceiling of the bf16 matmuls on this CPU: the sustained vdpbf16ps rate per core, with nothing but
// independent accumulator chains in registers (no loads), for zmm and ymm operands and 1 or 2 threads.
// Zen 4 runs 512-bit ops as two 256-bit halves, so zmm and ymm give the same FLOP/s there; a CPU with
// full-width units shows zmm at twice ymm. One vdpbf16ps zmm = 16 lanes x 2 products = 64 FLOP.
// Also BM_Bf16PeakTile: the GEMM micro-kernel's own instruction mix (8 tokens x 3 vectors of outputs,
// 3 weight loads + 8 broadcasts per 24 vdpbf16ps, all from L1) -- the best a packed kernel can hope for.
// Use with the FLOPs of a model's matmuls per token to get the prefill roofline. LFM2-350M: per token
// 16 FFNs (3 x 4608 x 1024), 10 conv in/out projections (3072 + 1024 rows x 1024), 6 attention q/k/v/o
// (1024 + 512 + 512 + 1024 rows x 1024) = 287.3 M MACs = 574.6 MFLOP, + ~6 MFLOP causal attention at
// pp512 = ~581 MFLOP/token. Measured here (Zen 4, 2026-12): ~229 GFLOP/s per core (1 zmm vdpbf16ps per
// cycle at ~3.6 GHz; zmm = ymm, and the 8x3 micro-kernel mix also reaches it), so 2 cores ~458 GFLOP/s
// = ~790 tok/s if nothing but matmuls ran at 100% of peak. llama.cpp's bf16 pp512 (452 tok/s) is 57% of
// that; 1.5x llama.cpp (679 tok/s = 394 GFLOP/s) would need 86% of peak end to end, norms, conv,
// attention and activations included.
// Run: ./build/bf16_peak_bench   (needs AVX512_BF16; otherwise each benchmark reports an error)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "base/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512bf16_begin.h"  // last include: AVX-512 + BF16 code from here to isa_end.h
#if LFM_ISA_COMPILED
namespace lfm::avx512 {

// `iters` rounds of A independent vdpbf16ps chains; returns a value so nothing is optimized away.
template <int A>
float PeakZmm(int64_t iters) {
  __m512 acc[A];
  for (int a = 0; a < A; ++a) acc[a] = _mm512_set1_ps(static_cast<float>(a));
  const __m512bh x = (__m512bh)_mm512_set1_epi16(0x3f80), w = (__m512bh)_mm512_set1_epi16(0x3c00);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 32
    for (int a = 0; a < A; ++a) acc[a] = _mm512_dpbf16_ps(acc[a], x, w);
  }
  __m512 s = acc[0];
  for (int a = 1; a < A; ++a) s = _mm512_add_ps(s, acc[a]);
  return _mm512_reduce_add_ps(s);
}

template <int A>
float PeakYmm(int64_t iters) {
  __m256 acc[A];
  for (int a = 0; a < A; ++a) acc[a] = _mm256_set1_ps(static_cast<float>(a));
  const __m256bh x = (__m256bh)_mm256_set1_epi16(0x3f80), w = (__m256bh)_mm256_set1_epi16(0x3c00);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 32
    for (int a = 0; a < A; ++a) acc[a] = _mm256_dpbf16_ps(acc[a], x, w);
  }
  __m256 s = acc[0];
  for (int a = 1; a < A; ++a) s = _mm256_add_ps(s, acc[a]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0] + out[7];
}

// The packed GEMM micro-kernel's mix over a 32 KiB L1-resident panel slice: per pair of k, 3 weight
// vectors loaded, 8 activation pairs broadcast, 24 vdpbf16ps.
float PeakTile(const uint16_t* w, const uint32_t* x, int64_t kp_count, int64_t iters) {
  __m512 acc[8][3];
  for (auto& r : acc)
    for (auto& a : r) a = _mm512_setzero_ps();
  for (int64_t i = 0; i < iters; ++i) {
    for (int64_t kp = 0; kp < kp_count; ++kp) {
      const uint16_t* wk = w + kp * 96;
      const __m512bh w0 = (__m512bh)_mm512_loadu_si512(wk), w1 = (__m512bh)_mm512_loadu_si512(wk + 32),
                     w2 = (__m512bh)_mm512_loadu_si512(wk + 64);
#pragma GCC unroll 8
      for (int m = 0; m < 8; ++m) {
        const __m512bh xb = (__m512bh)_mm512_set1_epi32(static_cast<int>(x[m * kp_count + kp]));
        acc[m][0] = _mm512_dpbf16_ps(acc[m][0], xb, w0);
        acc[m][1] = _mm512_dpbf16_ps(acc[m][1], xb, w1);
        acc[m][2] = _mm512_dpbf16_ps(acc[m][2], xb, w2);
      }
    }
  }
  __m512 s = _mm512_setzero_ps();
  for (auto& r : acc)
    for (auto& a : r) s = _mm512_add_ps(s, a);
  return _mm512_reduce_add_ps(s);
}

}  // namespace lfm::avx512
#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm {
namespace {

constexpr int64_t kIters = 1 << 20;

// Runs fn on `threads` threads at once (each its own chains) and reports the summed FLOP rate.
template <typename Fn>
void RunThreads(benchmark::State& state, int threads, double flop_per_thread, Fn fn) {
  if (!ActiveAvx512Bf16()) {
    state.SkipWithError("this CPU (or LFM_ISA) has no AVX512_BF16");
    return;
  }
  std::vector<float> sink(threads);
  for (auto _ : state) {
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back([&, t] { sink[t] = fn(); });
    sink[0] = fn();
    for (auto& th : pool) th.join();
    benchmark::DoNotOptimize(sink.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flop_per_thread * threads * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}

#if defined(__x86_64__)
template <int A>
void BM_Bf16PeakZmm(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  RunThreads(state, threads, 64.0 * A * kIters, [] { return avx512::PeakZmm<A>(kIters); });
}
template <int A>
void BM_Bf16PeakYmm(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  RunThreads(state, threads, 32.0 * A * kIters, [] { return avx512::PeakYmm<A>(kIters); });
}
void BM_Bf16PeakTile(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  constexpr int64_t kKp = 128;  // 128 pairs x 48 rows x 4 B = 24 KiB of weights, in L1
  std::vector<uint16_t> w(kKp * 96, 0x3c00);
  std::vector<uint32_t> x(8 * kKp, 0x3f803f80u);
  const int64_t iters = kIters / kKp;
  RunThreads(state, threads, 64.0 * 24 * kKp * iters,
             [&] { return avx512::PeakTile(w.data(), x.data(), kKp, iters); });
}

BENCHMARK_TEMPLATE(BM_Bf16PeakZmm, 6)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Bf16PeakZmm, 12)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Bf16PeakZmm, 24)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Bf16PeakYmm, 12)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Bf16PeakYmm, 24)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Bf16PeakTile)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
