// LFM2-VL layout rules, config merging and the prompt expansion, without pixels.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "image/lfm2vl_processor.h"
#include "test_util.h"

namespace lfm {
namespace {

using ::lfm::testing::ScratchDir;
using ::lfm::testing::SourceDir;
using ::lfm::testing::TestData;

// CPython's set order, as recorded by tools/refs/image_refs.py for every (min, max) it covers.
TEST(Lfm2VlLayoutTest, TargetRatiosFollowCPythonSetOrder) {
  auto text = ReadFileToString(SourceDir() + "/tests/image/data/target_ratios.json");
  ASSERT_OK(text);
  auto refs = nlohmann::json::parse(*text);
  int compared = 0;
  for (auto& [key, order] : refs["orders"].items()) {
    const int lo = std::stoi(key.substr(0, key.find(','))), hi = std::stoi(key.substr(key.find(',') + 1));
    std::vector<std::pair<int, int>> want;
    for (auto& p : order) want.emplace_back(p[0].get<int>(), p[1].get<int>());
    EXPECT_EQ(TargetRatios(lo, hi), want) << "min_tiles " << lo << ", max_tiles " << hi;
    ++compared;
  }
  EXPECT_GE(compared, 100);
  // The (2, 10) list quoted in lfm2-facts.md §4.4.
  const std::vector<std::pair<int, int>> facts = {
      {1, 2}, {2, 1}, {3, 1}, {1, 3}, {2, 2}, {4, 1}, {1, 4}, {5, 1}, {1, 5}, {1, 6}, {6, 1}, {3, 2}, {2, 3},
      {7, 1}, {1, 7}, {4, 2}, {2, 4}, {1, 8}, {8, 1}, {1, 9}, {3, 3}, {9, 1}, {2, 5}, {5, 2}, {10, 1}, {1, 10}};
  EXPECT_EQ(TargetRatios(2, 10), facts);
}

TEST(Lfm2VlLayoutTest, PythonRoundingIsHalfToEven) {
  EXPECT_EQ(RoundByFactor(400, 32), 384);  // 12.5 -> 12
  EXPECT_EQ(RoundByFactor(272, 32), 256);  // 8.5 -> 8
  EXPECT_EQ(RoundByFactor(336, 32), 320);  // 10.5 -> 10
  EXPECT_EQ(RoundByFactor(368, 32), 384);  // 11.5 -> 12
}

// Worked layouts of lfm2-facts.md §4.7 (LFM2.5-VL-450M: thumbnail on, 64..256 tokens, 2..10 tiles).
TEST(Lfm2VlLayoutTest, WorkedLayoutsFromTheFactSheet) {
  Lfm2VlProcessorConfig c;  // class defaults == the LFM2.5-VL-450M values
  struct Row {
    int w, h;
    bool tiled;
    int gw, gh, crop_h, crop_w, tokens;
  };
  const Row rows[] = {
      {256, 256, false, 1, 1, 256, 256, 64},    {100, 100, false, 1, 1, 256, 256, 64},
      {512, 512, false, 1, 1, 512, 512, 256},   {384, 256, false, 1, 1, 256, 384, 96},
      {400, 600, false, 1, 1, 608, 384, 228},   {500, 650, false, 1, 1, 576, 448, 252},
      {640, 480, false, 1, 1, 416, 576, 234},   {800, 600, false, 1, 1, 416, 576, 234},
      {64, 640, false, 1, 1, 832, 96, 78},      {1024, 544, true, 2, 1, 352, 672, 743},
      {1280, 720, true, 2, 1, 384, 672, 764},   {1024, 768, true, 3, 2, 416, 576, 1770},
      {1024, 1024, true, 2, 2, 512, 512, 1280}, {1920, 1080, true, 4, 2, 384, 672, 2300},
      {1080, 1920, true, 2, 4, 672, 384, 2300}, {720, 1600, true, 2, 4, 736, 320, 2278},
      {3000, 1000, true, 3, 1, 288, 864, 1011}, {2550, 3300, true, 2, 3, 576, 448, 1788},
  };
  for (const Row& r : rows) {
    auto layout = ComputeLfm2VlLayout(r.h, r.w, c);
    ASSERT_OK(layout);
    SCOPED_TRACE(std::to_string(r.w) + "x" + std::to_string(r.h));
    EXPECT_EQ(layout->tiled, r.tiled);
    EXPECT_EQ(layout->grid_cols, r.gw);
    EXPECT_EQ(layout->grid_rows, r.gh);
    EXPECT_EQ(layout->crop_sizes.back(), std::make_pair(r.crop_h, r.crop_w));
    EXPECT_EQ(layout->thumbnail, r.tiled);
    EXPECT_EQ(layout->image_tokens, r.tokens);
  }
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + what.size())) ++n;
  return n;
}

// lfm2-facts.md §5.3: a 1024x544 image is a 2-wide, 1-high grid; transformers >= 5.0 labels the tiles
// row_1_col_1, row_1_col_2; transformers <= 4.57 labels them row_1_col_1, row_2_col_1.
TEST(Lfm2VlLayoutTest, RowColLabelsInBothConventions) {
  Lfm2VlProcessorConfig c;
  auto layout = ComputeLfm2VlLayout(544, 1024, c);
  ASSERT_OK(layout);
  std::string tile = "";
  for (int i = 0; i < 256; ++i) tile += "<image>";
  std::string thumb = "";
  for (int i = 0; i < 231; ++i) thumb += "<image>";
  EXPECT_EQ(ExpandImageTokens(*layout, c), "<|image_start|><|img_row_1_col_1|>" + tile + "<|img_row_1_col_2|>" + tile +
                                               "<|img_thumbnail|>" + thumb + "<|image_end|>");
  c.legacy_transposed_row_col = true;
  EXPECT_EQ(ExpandImageTokens(*layout, c), "<|image_start|><|img_row_1_col_1|>" + tile + "<|img_row_2_col_1|>" + tile +
                                               "<|img_thumbnail|>" + thumb + "<|image_end|>");
  // 3 wide x 2 high (1024x768): geometric labels r1c1 r1c2 r1c3 r2c1 r2c2 r2c3; legacy runs over a
  // 3 x 2 label grid: r1c1 r1c2 r2c1 r2c2 r3c1 r3c2.
  auto wide = ComputeLfm2VlLayout(768, 1024, c);
  ASSERT_OK(wide);
  ASSERT_EQ(wide->grid_cols, 3);
  ASSERT_EQ(wide->grid_rows, 2);
  std::vector<std::string> geometric, legacy;
  for (int k = 0; k < 6; ++k) {
    geometric.push_back(TileMarker(k, 2, 3, false));
    legacy.push_back(TileMarker(k, 2, 3, true));
  }
  EXPECT_EQ(geometric, (std::vector<std::string>{"<|img_row_1_col_1|>", "<|img_row_1_col_2|>", "<|img_row_1_col_3|>",
                                                 "<|img_row_2_col_1|>", "<|img_row_2_col_2|>", "<|img_row_2_col_3|>"}));
  EXPECT_EQ(legacy, (std::vector<std::string>{"<|img_row_1_col_1|>", "<|img_row_1_col_2|>", "<|img_row_2_col_1|>",
                                              "<|img_row_2_col_2|>", "<|img_row_3_col_1|>", "<|img_row_3_col_2|>"}));
  // Without special tokens only the <image> runs remain.
  c.use_image_special_tokens = false;
  const std::string bare = ExpandImageTokens(*layout, c);
  EXPECT_EQ(bare.find("<|"), std::string::npos);
  EXPECT_EQ(Count(bare, "<image>"), 743u);
}

TEST(Lfm2VlLayoutTest, ConfigFromRealModelDirectories) {
  // LFM2-VL-450M: processor_config.json (tiling) + a Siglip2-style preprocessor_config.json with
  // unknown keys ("input_data_format": "channels_last", "auto_map", ...).
  auto c = Lfm2VlProcessorConfig::FromModelDir(TestData("lfm2/LFM2-VL-450M"));
  ASSERT_OK(c);
  EXPECT_FALSE(c->use_thumbnail);
  EXPECT_EQ(c->min_tiles, 2);
  EXPECT_EQ(c->max_tiles, 10);
  EXPECT_EQ(c->tile_size, 512);
  EXPECT_EQ(c->min_image_tokens, 64);
  EXPECT_EQ(c->max_image_tokens, 256);
  EXPECT_EQ(c->resample, 2);
  EXPECT_EQ(c->MaxNumPatches(), 1024);
  EXPECT_EQ(c->image_token, "<image>");
  EXPECT_EQ(c->image_thumbnail_token, "<|img_thumbnail|>");
  auto tiny = Lfm2VlProcessorConfig::FromModelDir(TestData("lfm2-vl-synthetic/tiny-lfm2-vl"));
  ASSERT_OK(tiny);
  EXPECT_TRUE(tiny->use_thumbnail);
}

TEST(Lfm2VlLayoutTest, ConfigMergingDefaultsAndErrors) {
  const std::string dir = ScratchDir("Lfm2VlLayoutTest.Config");
  EXPECT_EQ(Lfm2VlProcessorConfig::FromModelDir(dir).status().code(), StatusCode::kNotFound);
  // processor_config.json's nested image_processor and top-level keys override preprocessor_config.json;
  // token strings come from tokenizer_config.json.
  ASSERT_TRUE(WriteStringToFile(dir + "/preprocessor_config.json",
                                R"({"max_image_tokens": 128, "tile_size": 256, "something_new": [1,2]})").ok());
  ASSERT_TRUE(WriteStringToFile(dir + "/processor_config.json",
                                R"({"image_processor": {"min_tiles": 1, "resample": 3}, "max_tiles": 4})").ok());
  ASSERT_TRUE(WriteStringToFile(dir + "/tokenizer_config.json", R"({"image_token": "<img>"})").ok());
  auto c = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_OK(c);
  EXPECT_EQ(c->max_image_tokens, 128);
  EXPECT_EQ(c->tile_size, 256);
  EXPECT_EQ(c->min_tiles, 1);
  EXPECT_EQ(c->max_tiles, 4);
  EXPECT_EQ(c->resample, 3);
  EXPECT_EQ(c->min_image_tokens, 64);  // class default
  EXPECT_EQ(c->image_token, "<img>");
  EXPECT_EQ(c->MaxNumPatches(), 512);
  // A known key with the wrong type names the file and the key.
  ASSERT_TRUE(WriteStringToFile(dir + "/processor_config.json", R"({"max_tiles": "ten"})").ok());
  auto bad = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("processor_config.json"), std::string::npos) << bad.status().ToString();
  EXPECT_NE(bad.status().message().find("max_tiles"), std::string::npos) << bad.status().ToString();
  // Unsupported resample filters are refused by name.
  ASSERT_TRUE(WriteStringToFile(dir + "/processor_config.json", R"({"resample": 1})").ok());
  auto lanczos = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_FALSE(lanczos.ok());
  EXPECT_NE(lanczos.status().message().find("LANCZOS"), std::string::npos) << lanczos.status().ToString();
  ASSERT_TRUE(WriteStringToFile(dir + "/processor_config.json", "{not json").ok());
  EXPECT_FALSE(Lfm2VlProcessorConfig::FromModelDir(dir).ok());
}

TEST(Lfm2VlLayoutTest, TokenBudgetOverrides) {
  Lfm2VlProcessorConfig c;
  c.use_thumbnail = false;
  auto base = ComputeLfm2VlLayout(600, 800, c);
  ASSERT_OK(base);
  EXPECT_EQ(base->image_tokens, 234);
  c.max_image_tokens = 64;  // like llama.cpp's --image-max-tokens
  auto small = ComputeLfm2VlLayout(600, 800, c);
  ASSERT_OK(small);
  EXPECT_TRUE(small->tiled);  // now "too large": 3x2 tiles (aspect 1.33 is closest to 3/2) of 256 tokens
  EXPECT_EQ(small->image_tokens, 1536);
  c.do_image_splitting = false;
  auto single = ComputeLfm2VlLayout(600, 800, c);
  ASSERT_OK(single);
  EXPECT_FALSE(single->tiled);
  EXPECT_EQ(single->crop_sizes[0], std::make_pair(192, 288));  // beta = sqrt(480000 / 65536)
  EXPECT_EQ(single->image_tokens, 54);
  c.min_image_tokens = 16;
  auto tiny = ComputeLfm2VlLayout(40, 40, c);
  ASSERT_OK(tiny);
  EXPECT_EQ(tiny->image_tokens, 16);  // 40x40 -> upscaled to 128x128
  c.min_image_tokens = 100;  // min > max is refused
  EXPECT_FALSE(ComputeLfm2VlLayout(40, 40, c).ok());
}

TEST(Lfm2VlLayoutTest, PromptPlaceholderCountMustMatch) {
  Lfm2VlProcessorConfig c;
  PreprocessedImage img;
  img.expanded_prompt = "<|image_start|><image><|image_end|>";
  auto one = ExpandPromptImages("a<image>b", {img}, c);
  ASSERT_OK(one);
  EXPECT_EQ(*one, "a<|image_start|><image><|image_end|>b");
  EXPECT_FALSE(ExpandPromptImages("a<image>b<image>", {img}, c).ok());
  EXPECT_FALSE(ExpandPromptImages("no images", {img}, c).ok());
}

TEST(Lfm2VlLayoutTest, ExtremeAspectRatiosAreRefusedOrHandled) {
  Lfm2VlProcessorConfig c;
  // 64x640 -> one 832x96 crop (52x6 patches).
  auto tall = ComputeLfm2VlLayout(640, 64, c);
  ASSERT_OK(tall);
  EXPECT_EQ(tall->crop_sizes[0], std::make_pair(832, 96));
  // 1 x 100000: smart_resize clamps the short side to 32 px, giving far more than N_max patches.
  auto line = ComputeLfm2VlLayout(1, 100000, c);
  if (line.ok()) {
    for (auto [h, w] : line->crop_sizes) EXPECT_LE((h / 16) * (w / 16), c.MaxNumPatches());
  }
  EXPECT_FALSE(ComputeLfm2VlLayout(0, 10, c).ok());
}

}  // namespace
}  // namespace lfm

namespace lfm {
namespace {

// Tiny and odd-sized images go through the whole pipeline; every crop is a whole number of patches
// and the masks count exactly the real patches.
TEST(Lfm2VlLayoutTest, TinyAndOddImagesPreprocess) {
  Lfm2VlProcessorConfig c;
  c.min_image_tokens = 16;
  c.max_image_tokens = 64;
  c.tile_size = 256;
  c.max_tiles = 4;
  for (auto [w, h] : {std::pair{1, 1}, std::pair{3, 5}, std::pair{17, 1}, std::pair{700, 33}, std::pair{255, 257}}) {
    RgbImage img;
    img.width = w;
    img.height = h;
    for (int i = 0; i < w * h * 3; ++i) img.rgb.push_back(static_cast<uint8_t>(i * 31));
    auto pre = PreprocessLfm2Vl(img, c);
    ASSERT_OK(pre);
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    int tokens = 0;
    for (const ImageCrop& crop : pre->crops) {
      EXPECT_EQ(crop.height % 16, 0);
      EXPECT_EQ(crop.width % 16, 0);
      int ones = 0;
      for (int32_t m : crop.attention_mask) ones += m;
      EXPECT_EQ(ones, crop.patches_h * crop.patches_w);
      ASSERT_EQ(crop.pixel_values.size(), static_cast<size_t>(pre->max_num_patches) * 768);
      for (float v : crop.pixel_values) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
      tokens += crop.tokens;
    }
    EXPECT_EQ(tokens, pre->image_tokens);
    EXPECT_GE(pre->image_tokens, 16);
  }
}

}  // namespace
}  // namespace lfm
