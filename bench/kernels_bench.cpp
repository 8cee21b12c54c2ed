// Matmul kernels at the real LFM2-350M shapes: GEMV (decode, n = 1) and GEMM (prefill, n = 64 / 256),
// f32 / bf16 / f16 weights. Reports GFLOP/s and weight GB/s (DRAM roofline ~30 GB/s on the 2-core
// dev machine). Run: ./build/kernels_bench [--benchmark_filter=Gemv]
// Bf16Path/*: the two AVX-512 bf16 kernels side by side in one run (dot = AVX512_BF16 vdpbf16ps with
// the activations rounded to bf16, widen = bf16 widened to f32 + f32 FMA), whatever MatMul picks.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/matmul_impl.h"
#include "kernels/vision_gemm.h"
#include "tensor/convert.h"

namespace lfm {
namespace {

struct Weights {
  std::vector<uint8_t> bytes;
  TensorView view;
};

Weights MakeWeights(DType t, int64_t rows, int64_t cols) {
  Weights w;
  w.bytes.resize(DTypeBytes(t, cols) * rows);
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 0.05f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = nd(rng);
    QuantizeRow(t, row.data(), w.bytes.data() + r * DTypeBytes(t, cols), cols);
  }
  w.view = TensorView{t, {rows, cols}, w.bytes.data(), "w"};
  return w;
}

void BM_MatMul(benchmark::State& state, DType t) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  static std::map<std::tuple<int, int64_t, int64_t>, Weights> cache;  // weights built once per shape
  auto key = std::make_tuple(static_cast<int>(t), rows, cols);
  if (!cache.count(key)) cache[key] = MakeWeights(t, rows, cols);
  const Weights& w = cache[key];
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  // LFM_THREADS=1 measures one core (less noise on a shared machine).
  if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
  for (auto _ : state) {
    MatMul(w.view, x.data(), n, y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * cols * n * iters * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(w.view.nbytes()) * iters * 1e-9, benchmark::Counter::kIsRate);
}

void Shapes(benchmark::internal::Benchmark* b, bool gemm) {
  for (int64_t rows : {1024, 4608, 65536}) {
    if (gemm) {
      for (int64_t n : {64, 256}) {
        if (rows == 65536 && n == 256) continue;
        b->Args({rows, 1024, n});
      }
    } else {
      b->Args({rows, 1024, 1});
    }
  }
  b->Args({1024, 4608, gemm ? 64 : 1});  // ffn down projection
  b->ArgNames({"rows", "cols", "n"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// One bf16 kernel called directly (threaded like MatMul), so both run in the same process.
void BM_Bf16Path(benchmark::State& state, bool dot) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  const MatMulRowsFn fn = dot ? (ActiveAvx512Bf16() ? avx512::MatMulRowsKernelBf16Dot() : nullptr)
                              : (ActiveIsa() >= Isa::kAvx512 ? avx512::MatMulRowsKernel(DType::kBF16) : nullptr);
  if (fn == nullptr) {
    state.SkipWithError("this CPU (or LFM_ISA) does not run this kernel");
    return;
  }
  static std::map<std::tuple<int64_t, int64_t>, Weights> cache;
  auto key = std::make_tuple(rows, cols);
  if (!cache.count(key)) cache[key] = MakeWeights(DType::kBF16, rows, cols);
  const Weights& w = cache[key];
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
  for (auto _ : state) {
    DefaultThreadPool().ParallelFor(
        static_cast<size_t>(rows),
        [&](size_t b, size_t e, int) {
          fn(w.view, x.data(), n, cols, y.data(), rows, static_cast<int64_t>(b), static_cast<int64_t>(e));
        },
        16);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * cols * n * iters * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(w.view.nbytes()) * iters * 1e-9, benchmark::Counter::kIsRate);
}

void Bf16Shapes(benchmark::internal::Benchmark* b) {
  for (int64_t n : {1, 4, 8, 64, 256}) {  // 4, 8: the serving batch's streams (batched decode)
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{1024, 1024}, {4608, 1024}, {1024, 4608}, {65536, 1024}}) {
      if (rows == 65536 && n > 1) continue;
      b->Args({rows, cols, n});
    }
  }
  b->ArgNames({"rows", "cols", "n"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// The same shapes through the packed bf16 GEMM (vision_gemm.h: pair-interleaved panels, vdpbf16ps).
void BM_Bf16Packed(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  if (!GemmPackedUsesBf16Dot()) {
    state.SkipWithError("this CPU (or LFM_ISA) does not run the bf16 packed kernel");
    return;
  }
  static std::map<std::tuple<int64_t, int64_t>, PackedGemmMatrix> cache;
  auto key = std::make_tuple(rows, cols);
  if (!cache.count(key)) cache[key] = *PackedGemmMatrix::Pack(MakeWeights(DType::kBF16, rows, cols).view);
  const PackedGemmMatrix& w = cache[key];
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
  for (auto _ : state) {
    GemmPacked(w, x.data(), n, cols, nullptr, y.data(), rows);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  const double iters = static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * cols * n * iters * 1e-9, benchmark::Counter::kIsRate);
  state.counters["GB/s"] =
      benchmark::Counter(static_cast<double>(w.nbytes()) * iters * 1e-9, benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Bf16Packed)->Apply(Bf16Shapes);
BENCHMARK_CAPTURE(BM_Bf16Path, Bf16Path_widen, false)->Apply(Bf16Shapes);
BENCHMARK_CAPTURE(BM_Bf16Path, Bf16Path_dot, true)->Apply(Bf16Shapes);

BENCHMARK_CAPTURE(BM_MatMul, Gemv_f32, DType::kF32)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_MatMul, Gemv_bf16, DType::kBF16)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_MatMul, Gemv_f16, DType::kF16)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_MatMul, Gemm_f32, DType::kF32)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_MatMul, Gemm_bf16, DType::kBF16)->Apply([](auto* b) { Shapes(b, true); });

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
