// End-to-end LFM2 decoder speed: prefill tok/s and decode tok/s on a model directory given by the
// environment variable LFM_BENCH_MODEL (e.g. one written by `lfm make-test-model --shape lfm2-350m`).
// LFM_THREADS=1 runs on one core. Decode also reports the weight bandwidth achieved (weight bytes x tok/s).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "base/thread_pool.h"
#include "model/lfm2_model.h"

namespace lfm {
namespace {

Lfm2Model* Model(benchmark::State& state) {
  static std::unique_ptr<Lfm2Model> model;
  static bool tried = false;
  if (!tried) {
    tried = true;
    const char* dir = std::getenv("LFM_BENCH_MODEL");
    if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
    if (dir != nullptr) {
      ModelLoadOptions o;
      if (const char* dt = std::getenv("LFM_BENCH_DTYPE")) {
        if (auto t = ParseDTypeName(dt)) o.weight_dtype = *t;
      }
      auto m = Lfm2Model::Load(dir, o);
      if (m.ok()) model = std::move(m).value();
      else state.SkipWithError(m.status().ToString().c_str());
    }
  }
  if (!model) state.SkipWithError("set LFM_BENCH_MODEL to a model directory");
  return model.get();
}

void BM_Prefill(benchmark::State& state) {
  Lfm2Model* m = Model(state);
  if (!m) return;
  const int n = static_cast<int>(state.range(0));
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = 1 + (i * 7919) % 60000;
  auto cache = m->NewCache();
  std::vector<float> logits;
  for (auto _ : state) {
    cache->Clear();
    if (!m->Forward(ids.data(), n, *cache, &logits).ok()) state.SkipWithError("forward failed");
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(n) * state.iterations(), benchmark::Counter::kIsRate);
}

void BM_Decode(benchmark::State& state) {
  Lfm2Model* m = Model(state);
  if (!m) return;
  const int ctx = static_cast<int>(state.range(0));
  std::vector<int32_t> ids(ctx, 5);
  auto cache = m->NewCache();
  std::vector<float> logits;
  if (!m->Forward(ids.data(), ctx, *cache, &logits).ok()) state.SkipWithError("prefill failed");
  auto snap = cache->Clone();
  int32_t tok = 42;
  int steps = 0;
  for (auto _ : state) {
    if (++steps % 64 == 0) {
      state.PauseTiming();
      (void)cache->RestoreFrom(*snap);
      state.ResumeTiming();
    }
    if (!m->Forward(&tok, 1, *cache, &logits).ok()) state.SkipWithError("decode failed");
  }
  state.counters["tok/s"] = benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(m->weight_bytes()) * state.iterations() * 1e-9,
                                              benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Prefill)->Arg(128)->Arg(512)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode)->Arg(16)->Arg(512)->UseRealTime()->MeasureProcessCPUTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
