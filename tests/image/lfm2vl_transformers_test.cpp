// LFM2-VL preprocessing against transformers' own processor (Lfm2VlProcessor with the image processor
// the published LFM2.5-VL-450M processor_config.json names) on the shared test images:
// tests/image/data/transformers_lfm2vl.json, made by tools/refs/make_lfm2vl_processor_refs.py
// (LFM_REFS_TORCH=1 scripts/refs.sh). Shapes, spatial shapes, masks, token counts and the expanded prompt exactly;
// pixel values bit-identical (sha256 of the whole f32 tensor), and, to say how far off a failure is,
// within 1/255 of the normalised range (sampled every 2003rd value, per-crop means). The expanded ids are checked in tests/e2e (needs the tokenizer).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "sha256.h"
#include "test_util.h"

namespace lfm {
namespace {

using Json = nlohmann::json;

Json Golden() {
  auto text = ReadFileToString(testing::SourceDir() + "/tests/image/data/transformers_lfm2vl.json");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? Json::parse(*text) : Json();
}

class Lfm2VlTransformersTest : public ::testing::TestWithParam<std::string> {};

TEST_P(Lfm2VlTransformersTest, MatchesTransformersProcessor) {
  const Json all = Golden();
  ASSERT_TRUE(all.contains("images"));
  const Json& g = all["images"][GetParam()];
  ASSERT_TRUE(g.is_object());
  auto image = DecodeImageFile(testing::TestData("images/" + GetParam()));
  ASSERT_OK(image);
  EXPECT_EQ(image->height, g["size"][0].get<int>());
  EXPECT_EQ(image->width, g["size"][1].get<int>());
  auto config = Lfm2VlProcessorConfig::FromModelDir(testing::TestData("lfm2/LFM2.5-VL-450M"));
  ASSERT_OK(config);
  auto pre = PreprocessLfm2Vl(*image, *config);
  ASSERT_OK(pre);
  const PreprocessedImage& p = *pre;

  // Exact: shapes, spatial shapes, masks, the expanded prompt.
  const int crops = g["pixel_values_shape"][0], n_max = g["pixel_values_shape"][1], dim = g["pixel_values_shape"][2];
  ASSERT_EQ(static_cast<int>(p.crops.size()), crops);
  ASSERT_EQ(p.max_num_patches, n_max);
  ASSERT_EQ(p.patch_dim, dim);
  for (int c = 0; c < crops; ++c) {
    const ImageCrop& crop = p.crops[c];
    EXPECT_EQ(crop.patches_h, g["spatial_shapes"][c][0].get<int>()) << "crop " << c;
    EXPECT_EQ(crop.patches_w, g["spatial_shapes"][c][1].get<int>()) << "crop " << c;
    const int valid = g["mask_sums"][c];
    ASSERT_EQ(static_cast<int>(crop.attention_mask.size()), n_max);
    for (int i = 0; i < n_max; ++i) ASSERT_EQ(crop.attention_mask[i], i < valid ? 1 : 0) << "crop " << c << " patch " << i;
  }
  auto expanded = ExpandPromptImages(all["prompt"].get<std::string>(), {p}, *config);
  ASSERT_OK(expanded);
  EXPECT_EQ(*expanded, g["expanded_text"].get<std::string>());
  int image_token_ids = 0;
  for (const Json& id : g["input_ids"]) image_token_ids += id.get<int>() == 396;
  EXPECT_EQ(p.image_tokens, image_token_ids);

  // Pixels: every sampled value within 1/255 of the normalised range [-1, 1] (2/255), per-crop sums
  // within the same per value; the sha256 says whether the whole tensor is bit-identical.
  std::vector<float> flat;
  flat.reserve(static_cast<size_t>(crops) * n_max * dim);
  for (const ImageCrop& crop : p.crops) flat.insert(flat.end(), crop.pixel_values.begin(), crop.pixel_values.end());
  ASSERT_EQ(flat.size(), static_cast<size_t>(crops) * n_max * dim);
  const double tol = 2.0 / 255.0;
  const int stride = all["sample_stride"];
  double worst = 0;
  size_t k = 0;
  for (const Json& v : g["samples"]) {
    worst = std::max(worst, std::fabs(flat[k * stride] - v.get<double>()));
    ++k;
  }
  EXPECT_EQ(k, (flat.size() + stride - 1) / stride);
  EXPECT_LE(worst, tol);
  double worst_mean = 0;
  for (int c = 0; c < crops; ++c) {
    double sum = 0;
    for (float v : p.crops[c].pixel_values) sum += v;
    const double valid_values = static_cast<double>(g["mask_sums"][c].get<int>()) * dim;
    worst_mean = std::max(worst_mean, std::fabs(sum - g["crop_sums"][c].get<double>()) / valid_values);
  }
  EXPECT_LE(worst_mean, tol);
  const bool exact = testing::Sha256Hex(flat.data(), flat.size() * sizeof(float)) == g["sha256"];
  // Achieved, so required: our uint8 antialiased resize and normalisation equal torchvision's bit for bit.
  EXPECT_TRUE(exact) << "pixel_values differ from transformers' somewhere (not in the samples or sums)";
  std::printf("[ transformers ] %s: %d crops, max sampled |ours - transformers| = %.3g, max per-crop mean diff = %.3g, %s\n",
              GetParam().c_str(), crops, worst, worst_mean, exact ? "bit-identical" : "not bit-identical");
}

INSTANTIATE_TEST_SUITE_P(SharedImages, Lfm2VlTransformersTest,
                         ::testing::Values("branches.jpg", "camera.png", "chelsea.png", "retina.jpg", "rocket.jpg"),
                         [](const auto& info) {
                           std::string s = info.param;
                           return s.substr(0, s.find('.'));
                         });

}  // namespace
}  // namespace lfm
