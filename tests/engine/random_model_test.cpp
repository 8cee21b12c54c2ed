#include "engine/random_model.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "test_util.h"

namespace lfm {
namespace {

// Reads the safetensors header (independently of the loader) and returns it as JSON.
nlohmann::json SafetensorsHeader(const std::string& path) {
  auto f = MappedFile::Open(path);
  EXPECT_TRUE(f.ok());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(f->data()[i]) << (8 * i);
  return nlohmann::json::parse(std::string(reinterpret_cast<const char*>(f->data()) + 8, n));
}

TEST(RandomModel, TinyVlHasTheHfLayoutAndShapes) {
  std::string dir = testing::ScratchDir("random_tiny_vl");
  auto shape = RandomModelShapeByName("tiny-vl");
  ASSERT_OK(shape);
  ASSERT_TRUE(WriteRandomModel(*shape, dir, {}).ok());
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json", "chat_template.jinja", "preprocessor_config.json",
                        "processor_config.json"})
    EXPECT_TRUE(FileExists(dir + "/" + f)) << f;
  auto h = SafetensorsHeader(dir + "/model.safetensors");
  EXPECT_EQ(h["model.language_model.embed_tokens.weight"]["shape"], nlohmann::json({65536, 64}));
  EXPECT_EQ(h["model.language_model.layers.2.self_attn.q_layernorm.weight"]["shape"], nlohmann::json({16}));
  EXPECT_EQ(h["model.language_model.layers.0.conv.conv.weight"]["shape"], nlohmann::json({64, 1, 3}));
  EXPECT_EQ(h["model.multi_modal_projector.linear_1.weight"]["shape"], nlohmann::json({64, 128}));
  EXPECT_EQ(h["model.language_model.layers.0.conv.in_proj.weight"]["dtype"], "F32");
  auto tok = nlohmann::json::parse(*ReadFileToString(dir + "/tokenizer.json"));
  EXPECT_EQ(tok["model"]["vocab"].size(), 65536u);  // special tokens are in the vocab too, as in HF files
  EXPECT_EQ(tok["added_tokens"][396]["content"], "<image>");
  EXPECT_EQ(tok["added_tokens"][7]["content"], "<|im_end|>");
}

TEST(RandomModel, FullSizeShapesMatchPublishedCheckpoints) {
  // Tensor counts from the facts sheet: 148 text tensors; VL 450M = 349, VL 1.6B = 589.
  auto vl450 = RandomModelShapeByName("lfm2.5-vl-450m");
  ASSERT_OK(vl450);
  EXPECT_EQ(vl450->hidden, 1024);
  int text = 2 + 16 * 5 + 10 * 3 + 6 * 6;
  EXPECT_EQ(text, 148);
  EXPECT_EQ(text + 3 + 16 * vl450->vision_layers + 2 + 4, 349);
  auto vl16 = RandomModelShapeByName("lfm2.5-vl-1.6b");
  ASSERT_OK(vl16);
  EXPECT_EQ(text + 3 + 16 * vl16->vision_layers + 2 + 4, 589);
  EXPECT_FALSE(RandomModelShapeByName("gpt-5").ok());
}

}  // namespace
}  // namespace lfm
