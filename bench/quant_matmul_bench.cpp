// q8_0 / q4_0 matmul at the real LFM2-350M shapes, the f32-widening MatMul ("widen") against the int8
// VNNI QuantMatMul ("int8") in the same run: GEMV (decode, n = 1; batched decode, n = 2 / 4 / 8) and GEMM
// (prefill, n = 64 / 512). The GGUF K-quants (q4_K / q5_K / q6_K: Q4_K_M / Q5_K_M / Q6_K files) on the
// int8 path at the same shapes.
// GB/s counts the weight bytes read once per call (DRAM roofline ~30 GB/s on the 2-core dev machine).
// Run: ./build/quant_matmul_bench [--benchmark_filter=Gemv]   (LFM_THREADS=1: one core)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <tuple>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {
namespace {

struct Weights {
  std::vector<uint8_t> bytes;
  TensorView view;
  std::unique_ptr<QuantPackedMatrix> packed;
};

const Weights& Get(DType t, int64_t rows, int64_t cols) {
  static std::map<std::tuple<int, int64_t, int64_t>, Weights> cache;  // built once per shape
  const auto key = std::make_tuple(static_cast<int>(t), rows, cols);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  Weights& w = cache[key];
  w.bytes.resize(DTypeBytes(t, cols) * rows);
  std::mt19937 rng(1);
  if (t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K) {
    // No K-quant quantizer here: random blocks (every byte pattern is valid) with small f16 factors.
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : w.bytes) b = static_cast<uint8_t>(byte(rng));
    const size_t bs = t == DType::kQ4_K ? sizeof(BlockQ4_K) : t == DType::kQ5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ6_K);
    const uint16_t d = F32ToF16(1e-3f);
    for (size_t off = 0; off < w.bytes.size(); off += bs) {
      std::memcpy(&w.bytes[off + (t == DType::kQ6_K ? 208 : 0)], &d, 2);
      if (t != DType::kQ6_K) std::memcpy(&w.bytes[off + 2], &d, 2);
    }
  } else {
    std::normal_distribution<float> nd(0, 0.05f);
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& v : row) v = nd(rng);
      QuantizeRow(t, row.data(), w.bytes.data() + r * DTypeBytes(t, cols), cols);
    }
  }
  w.view = TensorView{t, {rows, cols}, w.bytes.data(), "w"};
  w.packed = std::make_unique<QuantPackedMatrix>(QuantPackedMatrix::Pack(w.view).value());
  return w;
}

void BM_Quant(benchmark::State& state, DType t, bool int8) {
  const int64_t rows = state.range(0), cols = state.range(1), n = state.range(2);
  const Weights& w = Get(t, rows, cols);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(n * cols), y(n * rows);
  for (auto& v : x) v = nd(rng);
  if (const char* th = std::getenv("LFM_THREADS")) SetDefaultThreads(std::atoi(th));
  for (auto _ : state) {
    if (int8) {
      QuantMatMul(*w.packed, x.data(), n, cols, y.data(), rows);
    } else {
      MatMul(w.view, x.data(), n, y.data());
    }
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
      for (int64_t n : {64, 512}) {
        if (rows == 65536) continue;  // the lm_head runs on the last position only
        b->Args({rows, 1024, n});
      }
    } else {
      // n = 1: decode; 2 / 4 / 8: batched decode of that many streams (weights still read once).
      for (int64_t n : {1, 2, 4, 8}) b->Args({rows, 1024, n});
    }
  }
  b->Args({1024, 4608, gemm ? 512 : 1});  // ffn down projection
  b->ArgNames({"rows", "cols", "n"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// widen / int8 registered next to each other so each pair is measured under the same load.
BENCHMARK_CAPTURE(BM_Quant, Gemv_q8_0_widen, DType::kQ8_0, false)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q8_0_int8, DType::kQ8_0, true)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q4_0_widen, DType::kQ4_0, false)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q4_0_int8, DType::kQ4_0, true)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q8_0_widen, DType::kQ8_0, false)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q8_0_int8, DType::kQ8_0, true)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q4_0_widen, DType::kQ4_0, false)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q4_0_int8, DType::kQ4_0, true)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q4_K_int8, DType::kQ4_K, true)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q5_K_int8, DType::kQ5_K, true)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemv_q6_K_int8, DType::kQ6_K, true)->Apply([](auto* b) { Shapes(b, false); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q4_K_int8, DType::kQ4_K, true)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q5_K_int8, DType::kQ5_K, true)->Apply([](auto* b) { Shapes(b, true); });
BENCHMARK_CAPTURE(BM_Quant, Gemm_q6_K_int8, DType::kQ6_K, true)->Apply([](auto* b) { Shapes(b, true); });

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
