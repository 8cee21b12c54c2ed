// transformers' image features goldens (features.json, from tools/refs/make_lfm2vl_feature_refs.py and
// make_fullsize_refs.py) and the comparison of our preprocessing + tower + projector against them; shared by
// tests/vision/vision_transformers_test.cpp and tests/e2e/fullsize_transformers_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"

namespace lfm::testing {

// Encodes testdata image `name` with the checkpoint in `dir` and compares each crop's features with `g`
// (one entry of the golden's "images"; `stride`: its row_stride), relative to the features' RMS.
inline void CompareImageFeatures(const std::string& dir, const std::string& name, const nlohmann::json& g,
                                 int stride, DType weight_dtype, double kRelTol) {
  SCOPED_TRACE(name + (weight_dtype == DType::kF32 ? " (f32 weights)" : " (weights as stored)"));
  VisionLoadOptions options;
  options.weight_dtype = weight_dtype;
  auto vision = Lfm2VlVision::Load(dir, options);
  ASSERT_TRUE(vision.ok()) << vision.status().ToString();
  auto config = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  auto image = DecodeImageFile(TestData("images/" + name));
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  auto pre = PreprocessLfm2Vl(*image, *config);
  ASSERT_TRUE(pre.ok()) << pre.status().ToString();

  const nlohmann::json& crops = g["crops"];
  ASSERT_EQ(pre->crops.size(), crops.size());
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

}  // namespace lfm::testing
