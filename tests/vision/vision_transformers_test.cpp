// The LFM2-VL image side (our preprocessing, SigLIP2 tower and projector) against Hugging Face transformers'
// Lfm2VlForConditionalGeneration.get_image_features on the tiny random checkpoint transformers wrote
// (tests/model/data/lfm2-vl-tiny-hf; features.json from tools/refs/make_lfm2vl_feature_refs.py).
// The preprocessing is shown bit-identical to Lfm2VlProcessor elsewhere, so the crops we encode here are the
// ones transformers encoded; what differs is only the arithmetic of the tower and the projector.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string CheckpointDir() { return testing::SourceDir() + "/tests/model/data/lfm2-vl-tiny-hf"; }

nlohmann::json ReadGolden() {
  auto s = ReadFileToString(CheckpointDir() + "/features.json");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? nlohmann::json::parse(*s) : nlohmann::json();
}

// Tolerances, relative to the features' RMS. transformers runs the tower in f32 on the (exactly widened) bf16
// weights. With the weights widened to f32 at load our arithmetic is f32 too: only summation order differs
// (measured 4.7e-6). As stored (bf16), our kernels may round activations to bf16 on CPUs with AVX512_BF16 (as
// llama.cpp does), which moves values by up to ~1e-2 after 2 layers + projector. A wrong layout or a wrong op
// moves them by O(1).
constexpr double kRelTolF32 = 1e-4;
constexpr double kRelTolAsStored = 3e-2;

void CompareImage(const std::string& name, const nlohmann::json& g, DType weight_dtype, double kRelTol) {
  SCOPED_TRACE(name + (weight_dtype == DType::kF32 ? " (f32 weights)" : " (weights as stored)"));
  VisionLoadOptions options;
  options.weight_dtype = weight_dtype;
  auto vision = Lfm2VlVision::Load(CheckpointDir(), options);
  ASSERT_TRUE(vision.ok()) << vision.status().ToString();
  auto config = Lfm2VlProcessorConfig::FromModelDir(CheckpointDir());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto image = DecodeImageFile(testing::TestData("images/" + name));
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  auto pre = PreprocessLfm2Vl(*image, *config);
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();

  const nlohmann::json& crops = g["crops"];
  ASSERT_EQ(pre->crops.size(), crops.size());
  const int stride = ReadGolden()["row_stride"].get<int>();
  for (size_t c = 0; c < crops.size(); ++c) {
    SCOPED_TRACE("crop " + std::to_string(c));
    const ImageCrop& crop = pre->crops[c];
    EXPECT_EQ(crop.patches_h, g["spatial_shapes"][c][0].get<int>());
    EXPECT_EQ(crop.patches_w, g["spatial_shapes"][c][1].get<int>());
    std::vector<float> rows;
    ASSERT_TRUE((*vision)->EncodeCrop(crop.pixel_values.data(), crop.patches_h, crop.patches_w, &rows).ok());
    const int n = crops[c]["rows"].get<int>(), d = crops[c]["cols"].get<int>();
    ASSERT_EQ(static_cast<int64_t>(rows.size()), static_cast<int64_t>(n) * d);

    double sum = 0, sumsq = 0;
    for (float v : rows) {
      sum += v;
      sumsq += static_cast<double>(v) * v;
    }
    const double ref_sumsq = crops[c]["sumsq"].get<double>();
    const double rms = std::sqrt(ref_sumsq / (static_cast<double>(n) * d));
    EXPECT_NEAR(sumsq, ref_sumsq, kRelTol * ref_sumsq);
    EXPECT_NEAR(sum, crops[c]["sum"].get<double>(), kRelTol * rms * n * d / 10);

    // Every sampled row, element by element, relative to the features' RMS.
    double worst = 0;
    const nlohmann::json& sampled = crops[c]["sampled_rows"];
    for (size_t i = 0; i < sampled.size(); ++i) {
      const size_t r = i * stride;
      for (int k = 0; k < d; ++k) {
        worst = std::max(worst, std::fabs(rows[r * d + k] - sampled[i][k].get<double>()) / rms);
      }
    }
    EXPECT_LT(worst, kRelTol) << "max |ours - transformers| / rms over sampled rows";
  }
}

TEST(VisionTransformersTest, SingleCropMatchesGetImageFeatures) {
  const nlohmann::json g = ReadGolden();
  CompareImage("rocket.jpg", g["images"]["rocket.jpg"], DType::kF32, kRelTolF32);
  CompareImage("rocket.jpg", g["images"]["rocket.jpg"], DType::kAuto, kRelTolAsStored);
}

TEST(VisionTransformersTest, TiledImageMatchesGetImageFeatures) {
  const nlohmann::json g = ReadGolden();
  CompareImage("retina.jpg", g["images"]["retina.jpg"], DType::kF32, kRelTolF32);
  CompareImage("retina.jpg", g["images"]["retina.jpg"], DType::kAuto, kRelTolAsStored);
}

}  // namespace
}  // namespace lfm
