// Vision encoder speed: ms per 512x512 tile (32x32 patches -> 256 image tokens) for the LFM2.5-VL-450M
// tower (768 hidden, 12 layers, bf16 as published) + projector, on a random model with the real
// shapes written by the project's generator to /tmp/lfm-bench-lfm2.5-vl-450m (once; reused after).
// Also the tower alone, and a smaller crop.
// "Time" is wall time; "CPU" is the CPU time of all threads, the steadier figure on a shared machine
// (wall time on an idle machine ~ CPU / threads).
// Run: ./build/vision_bench [--benchmark_filter=450M]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "engine/random_model.h"
#include "kernels/matmul.h"
#include "base/cpu_features.h"
#include "kernels/vision_gemm.h"
#include "kernels/vision_ops.h"
#include "tensor/convert.h"
#include "model/lfm2_vl_vision.h"

namespace lfm {
namespace {

Lfm2VlVision* GetModel(const std::string& shape_name, benchmark::State& state) {
  static std::map<std::string, std::unique_ptr<Lfm2VlVision>> cache;
  if (cache.count(shape_name)) return cache[shape_name].get();
  const std::string dir = "/tmp/lfm-bench-" + shape_name;
  if (!FileExists(dir + "/config.json")) {
    auto shape = RandomModelShapeByName(shape_name);
    if (!shape.ok()) {
      state.SkipWithError(shape.status().ToString().c_str());
      return nullptr;
    }
    std::fprintf(stderr, "writing random %s to %s ...\n", shape_name.c_str(), dir.c_str());
    const Status st = WriteRandomModel(*shape, dir, {});
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return nullptr;
    }
  }
  auto v = Lfm2VlVision::Load(dir);
  if (!v.ok()) {
    state.SkipWithError(v.status().ToString().c_str());
    return nullptr;
  }
  cache[shape_name] = std::move(*v);
  return cache[shape_name].get();
}

std::vector<float> RandomPixels(int n, int dim) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> p(static_cast<size_t>(n) * dim);
  for (auto& x : p) x = u(rng);
  return p;
}

// One crop of h x w patches through the tower + projector (or the tower alone).
void BM_Crop(benchmark::State& state, const std::string& shape_name, bool tower_only) {
  const int h = static_cast<int>(state.range(0)), w = static_cast<int>(state.range(1));
  Lfm2VlVision* v = GetModel(shape_name, state);
  if (v == nullptr) return;
  DefaultThreadPool();
  const std::vector<float> pixels = RandomPixels(h * w, v->patch_dim());
  std::vector<float> out;
  for (auto _ : state) {
    const Status st = tower_only ? v->tower().Forward(pixels.data(), h, w, &out)
                                 : v->EncodeCrop(pixels.data(), h, w, &out);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  const auto& c = v->tower().config();
  const double n = static_cast<double>(h) * w, D = c.hidden_size, F = c.intermediate_size;
  // Multiply-adds: patch embedding, per layer q/k/v/out + fc1/fc2 + attention (QK^T and PV), projector.
  double macs = n * c.patch_dim() * D + c.num_hidden_layers * (n * (4 * D * D + 2 * D * F) + 2 * n * n * D);
  if (!tower_only) {
    macs += n / 4 * (v->projector().in_features() + v->projector().out_features()) * v->projector().hidden_size();
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(2 * macs * static_cast<double>(state.iterations()) * 1e-9, benchmark::Counter::kIsRate);
  state.counters["threads"] = DefaultThreadPool().num_threads();
}

// The encoder's biggest product (fc1 of the 450M tower, [3072, 768] bf16, 1024 patches) on one
// thread: the packed vision GEMM against the general MatMul. CPU time is the figure to compare on a
// shared machine.
// layout: 0 = Pack() as the decoder does, 1 = bf16 pair layout (AVX512_BF16 dot, activations rounded
// to bf16), 2 = k-major bf16 (f32 math on widened weights): 1 vs 2 is the bf16-dot speed-up in one run;
// 3 = fp16 pairs (PackedMath::kFp16, AVX512_FP16): 3 vs 2 is the vision tower's fp16 speed-up.
void BM_Fc1(benchmark::State& state, bool packed, DType dt, int layout = 0) {
  const int64_t rows = 3072, cols = 768, n = 1024;
  std::vector<uint8_t> w(DTypeBytes(dt, rows * cols));
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 0.05f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = nd(rng);
    QuantizeRow(dt, row.data(), w.data() + r * DTypeBytes(dt, cols), cols);
  }
  const TensorView view{dt, {rows, cols}, w.data(), "fc1"};
  const PackedMath math = layout == 1 ? PackedMath::kBf16Dot : layout == 3 ? PackedMath::kFp16 : PackedMath::kF32;
  auto pw = layout == 0 ? PackedGemmMatrix::Pack(view) : PackedGemmMatrix::PackStacked({view}, math);
  if (layout == 1 && !ActiveAvx512Bf16()) {  // the pair kernel runs wherever the feature is on, probe or not
    state.SkipWithError("no AVX512_BF16 here (or LFM_ISA lowers it): the pair layout would run portable loops");
    return;
  }
  if (layout == 3 && !ActiveAvx512Fp16()) {
    state.SkipWithError("no AVX512_FP16 here (or LFM_ISA lowers it): fp16 panels would run portable loops");
    return;
  }
  const std::vector<float> x = RandomPixels(n, cols);
  std::vector<float> y(n * rows);
  SetDefaultThreads(1);
  for (auto _ : state) {
    if (packed) {
      GemmPacked(*pw, x.data(), n, cols, nullptr, y.data(), rows);
    } else {
      MatMul(view, x.data(), n, y.data());
    }
    benchmark::DoNotOptimize(y.data());
  }
  SetDefaultThreads(HardwareThreads());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * rows * cols * n * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK_CAPTURE(BM_Fc1, packed_bf16_1thread, true, DType::kBF16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, packed_bf16dot_1thread, true, DType::kBF16, 1)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, packed_bf16widen_1thread, true, DType::kBF16, 2)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, packed_fp16_1thread, true, DType::kBF16, 3)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, matmul_bf16_1thread, false, DType::kBF16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, packed_f32_1thread, true, DType::kF32)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Fc1, matmul_f32_1thread, false, DType::kF32)->Unit(benchmark::kMillisecond);

// One layer's attention of a 512x512 tile of the 450M tower (12 heads x 64, 1024 patches) on all
// threads, from a fused [n, 3D] QKV buffer as the tower calls it.
void BM_Attention(benchmark::State& state) {
  const int H = 12, d = 64;
  const int64_t n = state.range(0), D = H * d;
  const std::vector<float> qkv = RandomPixels(static_cast<int>(n), static_cast<int>(3 * D));
  std::vector<float> out(n * D);
  const BidirectionalAttentionShape s{H, d, 0.125f};
  DefaultThreadPool();
  for (auto _ : state) {
    AttentionBidirectional(qkv.data(), qkv.data() + D, qkv.data() + 2 * D, 3 * D, n, n, s, out.data(), D);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(4.0 * n * n * D * static_cast<double>(state.iterations()) * 1e-9,
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Attention)->Arg(1024)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime()->UseRealTime();

// A whole 1024x768 photo (the processor's tiles + thumbnail) through tower + projector: all crops as
// one batch (Lfm2VlVision::EncodeCrops, what the engine does) against one crop at a time. Uses
// $LFM_BENCH_PHOTO (default /work/models/bench-photo-1024x768.jpg, else a synthetic 1024x768 image).
void BM_Photo(benchmark::State& state, bool batched) {
  Lfm2VlVision* v = GetModel("lfm2.5-vl-450m", state);
  if (v == nullptr) return;
  static const Result<PreprocessedImage> img = [] {
    const char* env = std::getenv("LFM_BENCH_PHOTO");
    const std::string path = env ? env : "/work/models/bench-photo-1024x768.jpg";
    RgbImage rgb;
    if (FileExists(path)) {
      auto d = DecodeImageFile(path);
      if (!d.ok()) return Result<PreprocessedImage>(d.status());
      rgb = std::move(*d);
    } else {
      rgb.width = 1024, rgb.height = 768;
      rgb.rgb.resize(static_cast<size_t>(3) * 1024 * 768);
      for (size_t i = 0; i < rgb.rgb.size(); ++i) rgb.rgb[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
    }
    auto cfg = Lfm2VlProcessorConfig::FromModelDir("/tmp/lfm-bench-lfm2.5-vl-450m");
    if (!cfg.ok()) return Result<PreprocessedImage>(cfg.status());
    return PreprocessLfm2Vl(rgb, *cfg);
  }();
  if (!img.ok()) {
    state.SkipWithError(img.status().ToString().c_str());
    return;
  }
  std::vector<Siglip2VisionTower::Crop> crops;
  for (const auto& c : img->crops) crops.push_back({c.pixel_values.data(), c.patches_h, c.patches_w});
  std::vector<float> out, one;
  for (auto _ : state) {
    Status st;
    if (batched) {
      st = v->EncodeCrops(crops, &out);
    } else {
      out.clear();
      for (const auto& c : crops) {
        st = v->EncodeCrop(c.pixel_values, c.patches_h, c.patches_w, &one);
        if (!st.ok()) break;
        out.insert(out.end(), one.begin(), one.end());
      }
    }
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["crops"] = static_cast<double>(crops.size());
  int64_t patches = 0;
  for (const auto& c : crops) patches += static_cast<int64_t>(c.patches_h) * c.patches_w;
  state.counters["patches"] = static_cast<double>(patches);
}
BENCHMARK_CAPTURE(BM_Photo, 450M_1024x768_batched, true)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Photo, 450M_1024x768_crop_by_crop, false)
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

BENCHMARK_CAPTURE(BM_Crop, 450M_tile, std::string("lfm2.5-vl-450m"), false)
    ->Args({32, 32})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(5.0)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Crop, 450M_tower_only, std::string("lfm2.5-vl-450m"), true)
    ->Args({32, 32})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->MeasureProcessCPUTime()
    ->UseRealTime();
// A small thumbnail-sized crop (288x448 px) for the fixed per-crop overheads.
BENCHMARK_CAPTURE(BM_Crop, 450M_crop_18x28, std::string("lfm2.5-vl-450m"), false)
    ->Args({18, 28})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(3.0)
    ->MeasureProcessCPUTime()
    ->UseRealTime();

}  // namespace
}  // namespace lfm

BENCHMARK_MAIN();
