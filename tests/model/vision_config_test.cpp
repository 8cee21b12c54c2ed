// Vision config parsing and load-time failures: unknown activations, impossible shapes, missing
// or misnamed tensors are errors that name the file / field / tensor; the known name variants of the
// tower (with and without the inner "vision_model." level) load the same weights.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "model/lfm2_vl_config.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"

namespace lfm {
namespace {

const char* kModel = "lfm2-vl-synthetic/tiny-lfm2-vl";

std::string TinyConfigText() {
  auto s = ReadFileToString(testing::TestData(std::string(kModel) + "/config.json"));
  EXPECT_TRUE(s.ok());
  return s.ok() ? *s : "";
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.rfind(from);  // the last one: vision_config follows text_config
  EXPECT_NE(pos, std::string::npos) << from;
  if (pos != std::string::npos) s.replace(pos, from.size(), to);
  return s;
}

TEST(VisionConfigTest, ParsesTinyConfig) {
  auto c = ParseLfm2VlVisionConfig(TinyConfigText(), "config.json");
  ASSERT_OK(c);
  EXPECT_EQ(c->vision.hidden_size, 64);
  EXPECT_EQ(c->vision.intermediate_size, 128);
  EXPECT_EQ(c->vision.num_hidden_layers, 3);
  EXPECT_EQ(c->vision.num_attention_heads, 4);
  EXPECT_EQ(c->vision.head_dim, 16);
  EXPECT_FLOAT_EQ(c->vision.layer_norm_eps, 1e-6f);
  EXPECT_EQ(c->vision.patch_dim(), 768);
  EXPECT_EQ(c->vision.num_patches, 256);
  EXPECT_EQ(c->vision.hidden_act, VisionActivation::kGeluTanh);
  EXPECT_EQ(c->downsample_factor, 2);
  EXPECT_EQ(c->projector_hidden_act, VisionActivation::kGeluErf);
  EXPECT_TRUE(c->projector_bias);
  EXPECT_EQ(c->projector_hidden_size, 128);
  EXPECT_EQ(c->text_hidden_size, 64);
}

TEST(VisionConfigTest, RejectsUnknownActivations) {
  const std::string text = TinyConfigText();
  auto a = ParseLfm2VlVisionConfig(Replace(text, "\"gelu_pytorch_tanh\"", "\"quick_gelu\""), "cfg.json");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("cfg.json: vision_config.hidden_act"), std::string::npos)
      << a.status().ToString();
  auto b = ParseLfm2VlVisionConfig(Replace(text, "\"projector_hidden_act\": \"gelu\"", "\"projector_hidden_act\": \"relu\""),
                                   "cfg.json");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("projector_hidden_act"), std::string::npos) << b.status().ToString();
}

TEST(VisionConfigTest, RejectsBadShapes) {
  const std::string text = TinyConfigText();
  const std::pair<std::string, std::string> cases[] = {
      {"\"num_attention_heads\": 4", "\"num_attention_heads\": 5"},   // 64 % 5 != 0
      {"\"num_patches\": 256", "\"num_patches\": 200"},               // not a square grid
      {"\"patch_size\": 16", "\"patch_size\": -16"},
      {"\"hidden_size\": 64,\n    \"intermediate_size\": 128,\n    \"layer_norm_eps\"",
       "\"hidden_size\": \"64\",\n    \"intermediate_size\": 128,\n    \"layer_norm_eps\""},
      {"\"downsample_factor\": 2", "\"downsample_factor\": 0"},
      {"\"projector_bias\": true", "\"projector_bias\": 1"},
  };
  for (const auto& [from, to] : cases) {
    auto c = ParseLfm2VlVisionConfig(Replace(text, from, to), "cfg.json");
    EXPECT_FALSE(c.ok()) << to;
    if (!c.ok()) EXPECT_NE(c.status().message().find("cfg.json"), std::string::npos) << c.status().ToString();
  }
  EXPECT_FALSE(ParseLfm2VlVisionConfig("{\"model_type\": \"lfm2\"}", "cfg.json").ok());  // no vision_config
  EXPECT_FALSE(ParseLfm2VlVisionConfig("{not json", "cfg.json").ok());
}

// A store holding the tiny model's tensors, renamed / filtered by `edit` (empty result = dropped).
std::shared_ptr<const WeightStore> EditedStore(const WeightStore& base,
                                               const std::function<std::string(const std::string&)>& edit) {
  auto store = std::make_shared<WeightStore>();
  for (const std::string& name : base.Names()) {
    const std::string renamed = edit(name);
    if (renamed.empty()) continue;
    auto v = base.Get(name);
    EXPECT_TRUE(v.ok());
    TensorView view = *v;
    view.name = renamed;
    EXPECT_TRUE(store->Add(view, base.SourceFile(name)).ok());
  }
  return store;
}

class VisionLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = WeightStore::OpenDirectory(testing::TestData(kModel));
    ASSERT_OK(s);
    base_ = std::move(*s);
    auto c = ParseLfm2VlVisionConfig(TinyConfigText(), "config.json");
    ASSERT_OK(c);
    config_ = *c;
  }
  std::shared_ptr<const WeightStore> base_;
  Lfm2VlVisionConfig config_;
};

TEST_F(VisionLoadTest, AcceptsTowerWithoutInnerVisionModelLevel) {
  auto store = EditedStore(*base_, [](const std::string& n) {
    const std::string from = "model.vision_tower.vision_model.";
    return n.rfind(from, 0) == 0 ? "model.vision_tower." + n.substr(from.size()) : n;
  });
  auto flat = Lfm2VlVision::FromWeights(config_, store);
  ASSERT_OK(flat);
  EXPECT_EQ((*flat)->tower().weight_prefix(), "model.vision_tower.");
  auto nested = Lfm2VlVision::FromWeights(config_, base_);
  ASSERT_OK(nested);
  // Same weights, same numbers.
  std::vector<float> pixels(4 * 768);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>(i % 97) / 97.0f - 0.5f;
  std::vector<float> a, b;
  ASSERT_TRUE((*flat)->EncodeCrop(pixels.data(), 2, 2, &a).ok());
  ASSERT_TRUE((*nested)->EncodeCrop(pixels.data(), 2, 2, &b).ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.size(), 64u);
}

TEST_F(VisionLoadTest, MissingTensorsAreNamed) {
  for (const std::string missing :
       {"model.vision_tower.vision_model.encoder.layers.2.mlp.fc2.bias",
        "model.vision_tower.vision_model.post_layernorm.weight", "model.multi_modal_projector.linear_2.weight",
        "model.multi_modal_projector.linear_1.bias", "model.multi_modal_projector.layer_norm.bias"}) {
    auto store = EditedStore(*base_, [&](const std::string& n) { return n == missing ? std::string() : n; });
    auto v = Lfm2VlVision::FromWeights(config_, store);
    ASSERT_FALSE(v.ok()) << missing;
    EXPECT_NE(v.status().message().find(missing), std::string::npos) << v.status().ToString();
  }
  auto no_tower = EditedStore(*base_, [](const std::string& n) {
    return n.find("vision_tower") != std::string::npos ? std::string() : n;
  });
  auto v = Lfm2VlVision::FromWeights(config_, no_tower);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("patch_embedding"), std::string::npos) << v.status().ToString();
}

TEST_F(VisionLoadTest, ProjectorLayerNormFollowsTheWeights) {
  auto store = EditedStore(*base_, [](const std::string& n) {
    return n.find("multi_modal_projector.layer_norm") != std::string::npos ? std::string() : n;
  });
  auto v = Lfm2VlVision::FromWeights(config_, store);
  ASSERT_OK(v);
  EXPECT_FALSE((*v)->projector().has_layer_norm());
}

TEST_F(VisionLoadTest, ConfigShapeMismatchIsAnError) {
  Lfm2VlVisionConfig c = config_;
  c.vision.intermediate_size = 96;
  auto v = Lfm2VlVision::FromWeights(c, base_);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("mlp.fc1.weight"), std::string::npos) << v.status().ToString();
  c = config_;
  c.projector_hidden_size = 256;
  EXPECT_FALSE(Lfm2VlVision::FromWeights(c, base_).ok());
}

TEST_F(VisionLoadTest, ConvertedWeightDtypesStayClose) {
  auto f32 = Lfm2VlVision::FromWeights(config_, base_);
  ASSERT_OK(f32);
  std::vector<float> pixels(16 * 768);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 7919) % 255) / 127.5f - 1.0f;
  std::vector<float> ref;
  ASSERT_TRUE((*f32)->EncodeCrop(pixels.data(), 4, 4, &ref).ok());
  for (DType dt : {DType::kBF16, DType::kF16, DType::kQ8_0}) {
    VisionLoadOptions o;
    o.weight_dtype = dt;
    auto v = Lfm2VlVision::FromWeights(config_, base_, o);
    ASSERT_OK(v);
    std::vector<float> out;
    ASSERT_TRUE((*v)->EncodeCrop(pixels.data(), 4, 4, &out).ok());
    ASSERT_EQ(out.size(), ref.size());
    double max_diff = 0, max_ref = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(out[i]) - ref[i]));
      max_ref = std::max(max_ref, std::fabs(static_cast<double>(ref[i])));
    }
    EXPECT_GT(max_diff, 0.0) << DTypeName(dt);            // the conversion really happened
    EXPECT_LT(max_diff, 0.05 * max_ref) << DTypeName(dt);  // and only rounds the weights
  }
}

}  // namespace
}  // namespace lfm
