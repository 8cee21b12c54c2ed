// LFM2-VL preprocessing against the HF-parity goldens in lfm2-vl-synthetic/preprocess
// (a transcription of HF's fast processor with torch's uint8 antialiased resize; see its PROVENANCE).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "sha256.h"
#include "test_util.h"

namespace lfm {
namespace {

using Json = nlohmann::json;
using ::lfm::testing::Sha256Hex;
using ::lfm::testing::TestData;

const char* kPreprocess = "lfm2-vl-synthetic/preprocess/";

Json LoadJson(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? Json::parse(*text) : Json();
}

template <typename T>
std::vector<T> LoadRaw(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  std::vector<T> v(text.ok() ? text->size() / sizeof(T) : 0);
  if (!v.empty()) std::memcpy(v.data(), text->data(), v.size() * sizeof(T));
  return v;
}

// Golden "image" fields are relative to shared/testdata/images.
std::string ImagePath(const std::string& name) { return TestData("images/" + name); }

Lfm2VlProcessorConfig ConfigFor(const std::string& config_name) {
  Json configs = LoadJson(TestData(std::string(kPreprocess) + "configs.json"));
  Lfm2VlProcessorConfig c;
  Status s = c.MergeJson(configs["configs"][config_name].dump(), "configs.json " + config_name);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return c;
}

// The rendered (unexpanded) prompt the goldens were made from.
std::string RenderedPrompt() {
  Json renders = LoadJson(TestData("lfm2-synthetic/chat_template_renders/LFM2-VL-450M.rendered.json"));
  for (const auto& r : renders) {
    if (r["name"] == "vl-image-then-text") return r["rendered"].get<std::string>();
  }
  ADD_FAILURE() << "render vl-image-then-text not found";
  return "";
}

struct Case {
  std::string config, stem, image;
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.config << "/" << c.stem; }

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const char* config : {"lfm2-vl-450m", "lfm2-vl-450m-thumbnail", "small-64tok-tile256"}) {
    for (const char* stem : {"branches", "camera", "chelsea", "orientation_6", "retina", "rocket"}) {
      if (std::string(config) == "lfm2-vl-450m-thumbnail" && std::string(stem) != "retina") continue;
      std::string s = stem;
      std::string image = s == "orientation_6" ? "exif_orientation/orientation_6.jpg"
                                               : s + (s == "camera" || s == "chelsea" ? ".png" : ".jpg");
      cases.push_back({config, stem, image});
    }
  }
  return cases;
}

class Lfm2VlGoldenTest : public ::testing::TestWithParam<Case> {};

TEST_P(Lfm2VlGoldenTest, MatchesHfGolden) {
  const Case& tc = GetParam();
  const std::string base = TestData(std::string(kPreprocess) + tc.config) + "/" + tc.stem;
  Json g = LoadJson(base + ".json");
  ASSERT_TRUE(g.is_object());
  ASSERT_EQ(g["image"], tc.image);

  auto image = DecodeImageFile(ImagePath(tc.image));
  ASSERT_OK(image);
  ASSERT_EQ(image->width, g["source_decoded"]["width"].get<int>());
  ASSERT_EQ(image->height, g["source_decoded"]["height"].get<int>());
  // Our libjpeg-turbo/libpng decode equals PIL's byte for byte.
  EXPECT_EQ(Sha256Hex(image->rgb.data(), image->rgb.size()), g["source_decoded"]["sha256_rgb_u8"]);

  Lfm2VlProcessorConfig config = ConfigFor(tc.config);
  auto pre = PreprocessLfm2Vl(*image, config);
  ASSERT_OK(pre);
  const PreprocessedImage& p = *pre;

  // Layout and counts: exact.
  ASSERT_EQ(static_cast<int>(p.crops.size()), g["num_tiles"].get<int>());
  EXPECT_EQ(p.rows, g["image_rows"].get<int>());
  EXPECT_EQ(p.cols, g["image_cols"].get<int>());
  EXPECT_EQ(p.thumbnail, g["thumbnail_used"].get<bool>());
  EXPECT_EQ(p.resized_height, g["image_sizes_hw"][0].get<int>());
  EXPECT_EQ(p.resized_width, g["image_sizes_hw"][1].get<int>());
  EXPECT_EQ(p.max_num_patches, g["max_num_patches"].get<int>());
  EXPECT_EQ(p.patch_dim, g["pixel_values_shape"][2].get<int>());
  EXPECT_EQ(p.image_tokens, g["n_image_tokens_total"].get<int>());
  for (size_t i = 0; i < p.crops.size(); ++i) {
    EXPECT_EQ(p.crops[i].tokens, g["image_tokens_per_tile_in_order"][i].get<int>()) << "crop " << i;
  }

  // Masks and spatial shapes: exact.
  auto mask = LoadRaw<int32_t>(base + ".pixel_attention_mask.i32");
  auto shapes = LoadRaw<int64_t>(base + ".spatial_shapes.i64");
  ASSERT_EQ(mask.size(), p.crops.size() * p.max_num_patches);
  ASSERT_EQ(shapes.size(), p.crops.size() * 2);
  for (size_t i = 0; i < p.crops.size(); ++i) {
    const ImageCrop& crop = p.crops[i];
    EXPECT_EQ(crop.patches_h, shapes[2 * i]) << "crop " << i;
    EXPECT_EQ(crop.patches_w, shapes[2 * i + 1]) << "crop " << i;
    EXPECT_TRUE(std::equal(crop.attention_mask.begin(), crop.attention_mask.end(),
                           mask.begin() + i * p.max_num_patches)) << "crop " << i;
  }

  // Per tile: role, size, resized uint8 pixels and normalised floats (sha256 + statistics).
  auto crops_u8 = Lfm2VlCropImages(*image, config);
  ASSERT_OK(crops_u8);
  int exact_tiles = 0;
  for (size_t i = 0; i < p.crops.size(); ++i) {
    const Json& t = g["tiles"][i];
    const ImageCrop& crop = p.crops[i];
    const std::string role = t["role"];
    EXPECT_EQ(crop.marker, role == "single" ? "" : role) << "crop " << i;
    EXPECT_EQ(crop.height, t["height_px"].get<int>());
    EXPECT_EQ(crop.width, t["width_px"].get<int>());
    const RgbImage& u8 = (*crops_u8)[i];
    EXPECT_EQ(Sha256Hex(u8.rgb.data(), u8.rgb.size()), t["sha256_tile_rgb_u8"]) << "crop " << i;
    const int valid = t["n_valid_patches"];
    ASSERT_EQ(valid, crop.patches_h * crop.patches_w);
    const size_t n = static_cast<size_t>(valid) * p.patch_dim;
    std::string sha = Sha256Hex(crop.pixel_values.data(), n * sizeof(float));
    exact_tiles += sha == t["sha256_valid_f32"];
    EXPECT_EQ(sha, t["sha256_valid_f32"]) << "crop " << i;
    double sum = 0, sum2 = 0, lo = 1e9, hi = -1e9;
    for (size_t k = 0; k < n; ++k) {
      const double v = crop.pixel_values[k];
      sum += v;
      sum2 += v * v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double mean = sum / n, stdv = std::sqrt(std::max(0.0, sum2 / n - mean * mean));
    EXPECT_NEAR(mean, t["mean"].get<double>(), 1e-4) << "crop " << i;
    EXPECT_NEAR(stdv, t["std"].get<double>(), 1e-4) << "crop " << i;
    EXPECT_NEAR(lo, t["min"].get<double>(), 0.00785) << "crop " << i;
    EXPECT_NEAR(hi, t["max"].get<double>(), 0.00785) << "crop " << i;
    // Padding rows are zero.
    for (size_t k = n; k < crop.pixel_values.size(); k += 97) ASSERT_EQ(crop.pixel_values[k], 0.0f);
  }
  std::cout << "[ info ] " << tc.config << "/" << tc.stem << ": " << exact_tiles << "/" << p.crops.size()
            << " crops bit-exact\n";

  // Stored float32 values: within one uint8 level everywhere, mean |diff| <= 0.0015.
  const Json& files = g["files"]["pixel_values"];
  if (files.is_object()) {
    auto stored = LoadRaw<float>(base + ".pixel_values.f32");
    size_t offset = 0;
    double max_diff = 0, sum_diff = 0;
    size_t count = 0;
    for (const auto& idx : files["tiles_included"]) {
      const ImageCrop& crop = p.crops[idx.get<int>()];
      const size_t n = static_cast<size_t>(crop.patches_h) * crop.patches_w * p.patch_dim;
      ASSERT_LE(offset + n, stored.size());
      for (size_t k = 0; k < n; ++k) {
        const double d = std::fabs(static_cast<double>(crop.pixel_values[k]) - stored[offset + k]);
        max_diff = std::max(max_diff, d);
        sum_diff += d;
      }
      offset += n;
      count += n;
    }
    EXPECT_EQ(offset, stored.size());
    EXPECT_LE(max_diff, 0.00785);
    EXPECT_LE(sum_diff / std::max<size_t>(count, 1), 0.0015);
  }

  // Expanded prompt: exact.
  auto expanded = ExpandPromptImages(RenderedPrompt(), {p}, config);
  ASSERT_OK(expanded);
  auto golden_prompt = ReadFileToString(base + ".prompt.txt");
  ASSERT_OK(golden_prompt);
  EXPECT_EQ(*expanded, *golden_prompt);
  EXPECT_EQ(static_cast<int>(expanded->size()), g["expanded_prompt_chars"].get<int>());
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.config + "_" + info.param.stem;
  for (char& ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(Goldens, Lfm2VlGoldenTest, ::testing::ValuesIn(AllCases()), CaseName);

// The special tokens in the golden input_ids (ids from the tokenizer's added tokens) appear in the
// same order as the special-token strings in our expanded prompt. Plain-text ids are synthetic and
// are left to the tokenizer's own tests.
TEST(Lfm2VlGoldenTest, SpecialTokenIdsMatchTokenizerConfig) {
  Json tc = LoadJson(TestData("lfm2-vl-synthetic/tiny-lfm2-vl/tokenizer_config.json"));
  std::map<int, std::string> added;
  for (auto& [id, tok] : tc["added_tokens_decoder"].items()) added[std::stoi(id)] = tok["content"];
  EXPECT_EQ(added[396], "<image>");
  for (const char* config : {"lfm2-vl-450m", "small-64tok-tile256"}) {
    for (const char* stem : {"branches", "retina", "orientation_6"}) {
      const std::string base = TestData(std::string(kPreprocess) + config) + "/" + stem;
      auto ids_text = ReadFileToString(base + ".input_ids.synthetic-tokenizer.txt");
      ASSERT_OK(ids_text);
      std::vector<std::string> from_ids;
      std::istringstream in(*ids_text);
      for (int id; in >> id;) {
        if (added.count(id)) from_ids.push_back(added[id]);
      }
      Lfm2VlProcessorConfig c = ConfigFor(config);
      auto image = DecodeImageFile(
          ImagePath(std::string(stem) == "orientation_6" ? "exif_orientation/orientation_6.jpg" : std::string(stem) + ".jpg"));
      ASSERT_OK(image);
      PreprocessOptions no_pixels;
      no_pixels.include_pixels = false;
      auto pre = PreprocessLfm2Vl(*image, c, no_pixels);
      ASSERT_OK(pre);
      auto prompt = ExpandPromptImages(RenderedPrompt(), {*pre}, c);
      ASSERT_OK(prompt);
      std::vector<std::string> from_prompt;
      for (size_t i = 0; i < prompt->size();) {
        size_t best = 0;
        for (const auto& [id, s] : added) {
          if (s.size() > best && prompt->compare(i, s.size(), s) == 0) best = s.size();
        }
        if (best) {
          from_prompt.push_back(prompt->substr(i, best));
          i += best;
        } else {
          ++i;
        }
      }
      EXPECT_EQ(from_ids, from_prompt) << config << "/" << stem;
      EXPECT_GT(from_ids.size(), 20u);
    }
  }
}

}  // namespace
}  // namespace lfm
