// The non-matmul costs of one decode step, each measured on its own:
//  * AttentionDecode: one query position against a KV cache of `depth` positions at LFM2-350M's shape
//    (16 heads, 8 kv heads, head_dim 64); GB/s counts the K/V bytes of the cache (read once per GQA
//    group = the bytes decode attention must read).
//  * SwiGlu: the FFN activation over the FFN width (4608 per token; serial, once per layer).
//    LFM_ISA=scalar gives the portable loop (libm expf) for comparison.
//  * ParallelForOverhead: a parallel region whose chunks do nothing, i.e. the fork/join cost that each
//    of the ~70 regions of a decode step pays on top of its work.
// Run: ./build/decode_ops_bench   (LFM_THREADS=N sets the pool size; the machine's load skews both)
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <random>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/ops.h"

namespace lfm {
namespace {

void SetThreadsFromEnv() {
  if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
}

void BM_AttentionDecode(benchmark::State& state) {
  SetThreadsFromEnv();
  const int64_t depth = state.range(0);
  const AttentionShape s{16, 8, 64, 0.125f};
  const int64_t qd = 16 * 64, kvd = 8 * 64;
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> q(qd), k((depth + 1) * kvd), v((depth + 1) * kvd), out(qd);
  for (auto* vec : {&q, &k, &v})
    for (auto& x : *vec) x = nd(rng);
  for (auto _ : state) {
    AttentionCausal(q.data(), 1, depth, k.data(), v.data(), s, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double kv_bytes = 2.0 * static_cast<double>((depth + 1) * kvd) * sizeof(float);
  state.counters["GB/s"] =
      benchmark::Counter(kv_bytes * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_AttentionDecode)->Arg(128)->Arg(1024)->Arg(4096)->ArgName("depth")->UseRealTime()->Unit(
    benchmark::kMicrosecond);

void BM_SwiGlu(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0, 2);
  std::vector<float> g(n), u(n), out(n);
  for (auto* vec : {&g, &u})
    for (auto& x : *vec) x = nd(rng);
  for (auto _ : state) {
    SwiGlu(g.data(), u.data(), n, out.data());
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_SwiGlu)->Arg(4608)->Arg(512 * 4608)->ArgName("n")->Unit(benchmark::kMicrosecond);

void BM_ParallelForOverhead(benchmark::State& state) {
  SetThreadsFromEnv();
  const size_t n = static_cast<size_t>(state.range(0));
  std::vector<int> touched(n);
  for (auto _ : state) {
    DefaultThreadPool().ParallelFor(n, [&](size_t b, size_t e, int) {
      for (size_t i = b; i < e; ++i) touched[i] += 1;
    });
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = DefaultThreadPool().num_threads();
}
BENCHMARK(BM_ParallelForOverhead)->Arg(2)->Arg(64)->ArgName("chunks")->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
