// The EXIF Orientation reader: both byte orders, the JPEG "Exif\0\0" prefix, and malformed input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "image/exif.h"
#include "test_util.h"

namespace lfm {
namespace {

// A TIFF with one IFD0 holding `tags` (tag, type, value) entries.
std::string Tiff(bool big_endian, const std::vector<std::array<uint32_t, 3>>& tags) {
  std::string s;
  auto u16 = [&](uint32_t v) {
    if (big_endian) { s += char(v >> 8); s += char(v); } else { s += char(v); s += char(v >> 8); }
  };
  auto u32 = [&](uint32_t v) {
    if (big_endian) { u16(v >> 16); u16(v & 0xFFFF); } else { u16(v & 0xFFFF); u16(v >> 16); }
  };
  s += big_endian ? "MM" : "II";
  u16(42);
  u32(8);
  u16(static_cast<uint32_t>(tags.size()));
  for (const auto& [tag, type, value] : tags) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == 3) { u16(value); u16(0); } else { u32(value); }
  }
  u32(0);
  return s;
}

Result<int> Parse(const std::string& s) {
  return ParseExifOrientation(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(ExifTest, ReadsOrientationInBothByteOrders) {
  for (bool be : {false, true}) {
    for (uint32_t o = 1; o <= 8; ++o) {
      auto r = Parse(Tiff(be, {{0x010F, 2, 0}, {0x0112, 3, o}, {0x0132, 2, 0}}));
      ASSERT_OK(r);
      EXPECT_EQ(*r, static_cast<int>(o));
    }
    auto with_prefix = Parse(std::string("Exif\0\0", 6) + Tiff(be, {{0x0112, 3, 6}}));
    ASSERT_OK(with_prefix);
    EXPECT_EQ(*with_prefix, 6);
    auto as_long = Parse(Tiff(be, {{0x0112, 4, 8}}));
    ASSERT_OK(as_long);
    EXPECT_EQ(*as_long, 8);
    auto absent = Parse(Tiff(be, {{0x010F, 2, 0}}));
    ASSERT_OK(absent);
    EXPECT_EQ(*absent, 1);
  }
}

TEST(ExifTest, MalformedDataIsAnErrorNotACrash) {
  EXPECT_FALSE(Parse("").ok());
  EXPECT_FALSE(Parse("XX*\0\x08\0\0\0").ok());
  EXPECT_FALSE(Parse(Tiff(false, {{0x0112, 3, 0}})).ok());   // out of 1..8
  EXPECT_FALSE(Parse(Tiff(true, {{0x0112, 3, 9}})).ok());
  EXPECT_FALSE(Parse(Tiff(false, {{0x0112, 2, 6}})).ok());   // wrong type
  std::string far = Tiff(false, {{0x0112, 3, 6}});
  far[4] = '\xF0';  // IFD0 offset past the end
  auto r = Parse(far);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("past the end"), std::string::npos) << r.status().ToString();
  std::string many = Tiff(true, {{0x010F, 2, 0}});
  many[8] = '\x7F';  // entry count far beyond the data
  many[9] = '\xFF';
  EXPECT_FALSE(Parse(many).ok());
  // Every truncation fails cleanly or finds the tag.
  const std::string full = Tiff(false, {{0x010F, 2, 0}, {0x0112, 3, 3}});
  for (size_t n = 0; n < full.size(); ++n) {
    auto t = Parse(full.substr(0, n));
    if (t.ok()) {
      EXPECT_EQ(*t, 3);
    }
  }
}

TEST(ExifTest, OrientationTransformsMatchPil) {
  // 3x2 image with distinct pixels; expected layouts follow PIL's exif_transpose.
  RgbImage img;
  img.width = 3;
  img.height = 2;
  for (int i = 0; i < 6; ++i) img.rgb.insert(img.rgb.end(), {uint8_t(i), uint8_t(i), uint8_t(i)});
  auto layout = [](const RgbImage& im) {
    std::string s = std::to_string(im.width) + "x" + std::to_string(im.height) + ":";
    for (size_t i = 0; i < im.rgb.size(); i += 3) s += char('0' + im.rgb[i]);
    return s;
  };
  // Source rows: 012 / 345.
  EXPECT_EQ(layout(ApplyExifOrientation(img, 1)), "3x2:012345");
  EXPECT_EQ(layout(ApplyExifOrientation(img, 2)), "3x2:210543");  // FLIP_LEFT_RIGHT
  EXPECT_EQ(layout(ApplyExifOrientation(img, 3)), "3x2:543210");  // ROTATE_180
  EXPECT_EQ(layout(ApplyExifOrientation(img, 4)), "3x2:345012");  // FLIP_TOP_BOTTOM
  EXPECT_EQ(layout(ApplyExifOrientation(img, 5)), "2x3:031425");  // TRANSPOSE
  EXPECT_EQ(layout(ApplyExifOrientation(img, 6)), "2x3:304152");  // ROTATE_270 (clockwise)
  EXPECT_EQ(layout(ApplyExifOrientation(img, 7)), "2x3:524130");  // TRANSVERSE
  EXPECT_EQ(layout(ApplyExifOrientation(img, 8)), "2x3:251403");  // ROTATE_90 (counter-clockwise)
}

}  // namespace
}  // namespace lfm
