// The antialiased resize against Pillow (tests/image/data/resize_refs.json): with 22-bit precision our
// resampler is Pillow's ImagingResample bit for bit, for bilinear and bicubic, up and down.
// Torch precision (the HF fast processor's) is covered bit-exactly by the LFM2-VL goldens.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

#include "image/image.h"
#include "image/resize.h"
#include "sha256.h"
#include "test_util.h"

namespace lfm {
namespace {

using ::lfm::testing::Sha256Hex;
using ::lfm::testing::SourceDir;
using ::lfm::testing::TestData;

TEST(ResizeTest, PillowPrecisionMatchesPilResize) {
  auto text = ReadFileToString(SourceDir() + "/tests/image/data/resize_refs.json");
  ASSERT_OK(text);
  auto refs = nlohmann::json::parse(*text);
  int checked = 0;
  for (const auto& c : refs["cases"]) {
    const std::string name = c["image"];
    const std::string path = name.rfind("shared:", 0) == 0 ? TestData("images/" + name.substr(7))
                                                           : SourceDir() + "/tests/image/data/" + name;
    auto image = DecodeImageFile(path);
    ASSERT_OK(image);
    const ResampleFilter filter = c["filter"] == "bilinear" ? ResampleFilter::kBilinear : ResampleFilter::kBicubic;
    RgbImage out = ResizeRgb(*image, c["width"], c["height"], filter, ResamplePrecision::kPillow);
    EXPECT_EQ(Sha256Hex(out.rgb.data(), out.rgb.size()), c["sha256_rgb_u8"])
        << name << " -> " << c["width"] << "x" << c["height"] << " " << c["filter"];
    ++checked;
  }
  EXPECT_EQ(checked, 16);
}

TEST(ResizeTest, IdentityAndCrop) {
  RgbImage img;
  img.width = 4;
  img.height = 3;
  for (int i = 0; i < 36; ++i) img.rgb.push_back(static_cast<uint8_t>(i * 7));
  RgbImage same = ResizeRgb(img, 4, 3, ResampleFilter::kBilinear);
  EXPECT_EQ(same.rgb, img.rgb);
  RgbImage crop = CropRgb(img, 1, 1, 2, 2);
  ASSERT_EQ(crop.rgb.size(), 12u);
  EXPECT_EQ(crop.rgb[0], img.Pixel(1, 1)[0]);
  EXPECT_EQ(crop.rgb[9], img.Pixel(2, 2)[0]);
  // A constant image stays constant through any resize (weights are normalised).
  RgbImage flat;
  flat.width = 13;
  flat.height = 7;
  flat.rgb.assign(13 * 7 * 3, 200);
  for (auto filter : {ResampleFilter::kBilinear, ResampleFilter::kBicubic}) {
    for (auto [w, h] : {std::pair{5, 3}, std::pair{40, 21}, std::pair{1, 1}}) {
      RgbImage out = ResizeRgb(flat, w, h, filter);
      for (uint8_t v : out.rgb) ASSERT_EQ(v, 200);
    }
  }
  EXPECT_FALSE(ResampleFilterFromPil(1).ok());
  EXPECT_FALSE(ResampleFilterFromPil(0).ok());
}

}  // namespace
}  // namespace lfm
