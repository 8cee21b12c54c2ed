// LFM2-VL's vision tower + projector from a llama.cpp mmproj GGUF (model/lfm2_vl_mmproj.h) against
// the same weights from the HF directory: the tiny random model's mmproj-f32.gguf was made by
// llama.cpp's own converter from that directory (shared testdata lfm2-vl-synthetic, PROVENANCE §2).
// Config, every tensor and the image features must be identical (engine side:
// tests/engine/mmproj_engine_test.cpp).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/lfm2_config.h"
#include "model/lfm2_vl_mmproj.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"
#include "weights/weight_store.h"

namespace lfm {
namespace {

const char* kDir = "lfm2-vl-synthetic/tiny-lfm2-vl";
const char* kMmproj = "lfm2-vl-synthetic/tiny-lfm2-vl/mmproj-f32.gguf";
const char* kTextGguf = "lfm2-synthetic/tiny-lfm2/model-f32.gguf";

Lfm2VlVisionConfig DirConfig() {
  const std::string dir = testing::TestData(kDir);
  auto text = LoadLfm2Config(dir + "/config.json");
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto cfg = ParseLfm2VlVisionConfig(text->vl_config_json, dir + "/config.json");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  return *cfg;
}

TEST(VisionMmprojTest, ConfigEqualsTheDirectorysConfig) {
  auto mm = OpenLfm2VlMmproj(testing::TestData(kMmproj));
  ASSERT_OK(mm);
  const Lfm2VlVisionConfig want = DirConfig();
  const Lfm2VlVisionConfig& got = mm->config;
  EXPECT_EQ(got.vision.hidden_size, want.vision.hidden_size);
  EXPECT_EQ(got.vision.intermediate_size, want.vision.intermediate_size);
  EXPECT_EQ(got.vision.num_hidden_layers, want.vision.num_hidden_layers);
  EXPECT_EQ(got.vision.num_attention_heads, want.vision.num_attention_heads);
  EXPECT_EQ(got.vision.head_dim, want.vision.head_dim);
  EXPECT_EQ(got.vision.layer_norm_eps, want.vision.layer_norm_eps);
  EXPECT_EQ(got.vision.patch_size, want.vision.patch_size);
  EXPECT_EQ(got.vision.num_channels, want.vision.num_channels);
  EXPECT_EQ(got.vision.num_patches, want.vision.num_patches);
  EXPECT_EQ(got.vision.hidden_act, want.vision.hidden_act);
  EXPECT_EQ(got.downsample_factor, want.downsample_factor);
  EXPECT_EQ(got.projector_hidden_act, want.projector_hidden_act);
  EXPECT_EQ(got.projector_bias, want.projector_bias);
  EXPECT_EQ(got.projector_hidden_size, 128);
  EXPECT_EQ(got.text_hidden_size, 64);
  EXPECT_EQ(mm->image_mean, (std::array<double, 3>{0.5, 0.5, 0.5}));
  EXPECT_EQ(mm->image_std, (std::array<double, 3>{0.5, 0.5, 0.5}));
}

// Every mmproj tensor lands on an HF tensor of the same shape and bytes (the patch embedding after
// undoing the converter's conv permutation), and the vision weights of the directory are all there.
TEST(VisionMmprojTest, TensorsEqualTheDirectorysTensors) {
  auto mm = OpenLfm2VlMmproj(testing::TestData(kMmproj));
  ASSERT_OK(mm);
  auto dir = WeightStore::OpenDirectory(testing::TestData(kDir));
  ASSERT_OK(dir);
  int vision_in_dir = 0;
  for (const std::string& name : (*dir)->Names())
    if (name.rfind("model.vision_tower.", 0) == 0 || name.rfind("model.multi_modal_projector.", 0) == 0) {
      ++vision_in_dir;
      EXPECT_TRUE(mm->weights->Has(name)) << name;
    }
  EXPECT_EQ(static_cast<int>(mm->weights->size()), vision_in_dir);
  for (const std::string& name : mm->weights->Names()) {
    auto a = mm->weights->Get(name);
    auto b = (*dir)->Get(name);
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_EQ(a->shape, b->shape) << name;
    ASSERT_EQ(a->dtype, b->dtype) << name;
    EXPECT_EQ(std::memcmp(a->data, b->data, static_cast<size_t>(a->nbytes())), 0) << name;
  }
}

TEST(VisionMmprojTest, NameMapping) {
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("v.blk.11.attn_out.bias"),
            "model.vision_tower.vision_model.encoder.layers.11.self_attn.out_proj.bias");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("v.blk.0.ffn_up.weight"),
            "model.vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("mm.2.weight"), "model.multi_modal_projector.linear_2.weight");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("mm.input_norm.bias"), "model.multi_modal_projector.layer_norm.bias");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("v.blk.x.ln1.weight"), "");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("v.blk.0.ln3.weight"), "");
  EXPECT_EQ(Lfm2VlHfNameFromMmproj("mm.0.weight"), "");
}

// The features of random crops (tiled and odd grids, one crop and a batch) are bit-identical.
TEST(VisionMmprojTest, FeaturesEqualTheDirectorysFeatures) {
  auto mm = OpenLfm2VlMmproj(testing::TestData(kMmproj));
  ASSERT_OK(mm);
  auto from_gguf = Lfm2VlVision::FromWeights(mm->config, mm->weights);
  ASSERT_OK(from_gguf);
  auto from_dir = Lfm2VlVision::Load(testing::TestData(kDir));
  ASSERT_OK(from_dir);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<std::vector<float>> pixels;
  std::vector<Siglip2VisionTower::Crop> crops;
  for (auto [h, w] : {std::pair{32, 32}, std::pair{18, 28}, std::pair{2, 46}}) {
    pixels.emplace_back(static_cast<size_t>(h) * w * 768);
    for (float& x : pixels.back()) x = u(rng);
    std::vector<float> a, b;
    ASSERT_TRUE((*from_gguf)->EncodeCrop(pixels.back().data(), h, w, &a).ok());
    ASSERT_TRUE((*from_dir)->EncodeCrop(pixels.back().data(), h, w, &b).ok());
    ASSERT_EQ(a.size(), static_cast<size_t>(h / 2) * (w / 2) * 64);
    EXPECT_EQ(a, b) << h << "x" << w;
  }
  for (size_t i = 0; i < pixels.size(); ++i) {
    Siglip2VisionTower::Crop c;
    c.pixel_values = pixels[i].data();
    c.patches_h = i == 0 ? 32 : i == 1 ? 18 : 2;
    c.patches_w = i == 0 ? 32 : i == 1 ? 28 : 46;
    crops.push_back(c);
  }
  std::vector<float> a, b;
  ASSERT_TRUE((*from_gguf)->EncodeCrops(crops, &a).ok());
  ASSERT_TRUE((*from_dir)->EncodeCrops(crops, &b).ok());
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace lfm
