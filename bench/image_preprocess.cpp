// Image decode and LFM2-VL preprocessing speed on the shared test photos.
//   ./image_preprocess --benchmark_filter=Retina
#include <benchmark/benchmark.h>

#include <string>

#include "base/mapped_file.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"

namespace {

std::string Image(const char* name) { return std::string(LFM_TESTDATA_DIR) + "/images/" + name; }

void BM_DecodeJpeg(benchmark::State& state, const char* name) {
  auto bytes = lfm::ReadFileToString(Image(name));
  if (!bytes.ok()) {
    state.SkipWithError(bytes.status().ToString().c_str());
    return;
  }
  for (auto _ : state) {
    auto img = lfm::DecodeImage(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size());
    benchmark::DoNotOptimize(img);
  }
}

void BM_Preprocess(benchmark::State& state, const char* name) {
  auto img = lfm::DecodeImageFile(Image(name));
  if (!img.ok()) {
    state.SkipWithError(img.status().ToString().c_str());
    return;
  }
  lfm::Lfm2VlProcessorConfig config;  // LFM2.5-VL-450M values: 512 tiles + thumbnail
  for (auto _ : state) {
    auto pre = lfm::PreprocessLfm2Vl(*img, config);
    benchmark::DoNotOptimize(pre);
  }
}

BENCHMARK_CAPTURE(BM_DecodeJpeg, Retina1411, "retina.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeJpeg, Rocket640, "rocket.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Preprocess, Retina3x3Thumb, "retina.jpg")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Preprocess, RocketSingle, "rocket.jpg")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
