// Decoders against PIL (tests/image/data/decode_refs.json, written by tools/refs/image_refs.py),
// EXIF orientation, limits, and malformed input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "image/image.h"
#include "sha256.h"
#include "test_util.h"

namespace lfm {
namespace {

using Json = nlohmann::json;
using ::lfm::testing::ScratchDir;
using ::lfm::testing::Sha256Hex;
using ::lfm::testing::SourceDir;
using ::lfm::testing::TestData;

std::string Bytes(const std::string& path) {
  auto s = ReadFileToString(path);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : std::string();
}

Result<RgbImage> DecodeBytes(const std::string& bytes, const DecodeOptions& options = {}) {
  return DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), options);
}

TEST(DecodeTest, MatchesPilOnEveryReferenceImage) {
  auto text = ReadFileToString(SourceDir() + "/tests/image/data/decode_refs.json");
  ASSERT_OK(text);
  Json refs = Json::parse(*text);
  int checked = 0;
  for (auto& [name, ref] : refs["images"].items()) {
    std::string path = name.rfind("shared:", 0) == 0 ? TestData("images/" + name.substr(7))
                                                      : SourceDir() + "/tests/image/data/" + name;
    auto image = DecodeImageFile(path);
    ASSERT_TRUE(image.ok()) << name << ": " << image.status().ToString();
    EXPECT_EQ(image->width, ref["width"].get<int>()) << name;
    EXPECT_EQ(image->height, ref["height"].get<int>()) << name;
    EXPECT_EQ(Sha256Hex(image->rgb.data(), image->rgb.size()), ref["sha256_rgb_u8"]) << name;
    for (int c = 0; c < 3; ++c) {
      double sum = 0;
      for (size_t i = c; i < image->rgb.size(); i += 3) sum += image->rgb[i];
      EXPECT_NEAR(sum / (image->rgb.size() / 3), ref["mean_rgb"][c].get<double>(), 1e-6) << name << " channel " << c;
    }
    ++checked;
  }
  EXPECT_GE(checked, 30);
}

TEST(DecodeTest, SniffsFormatFromMagicBytes) {
  auto sniff = [](const std::string& s) {
    return SniffImageFormat(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  const std::string dir = SourceDir() + "/tests/image/data/formats/";
  EXPECT_EQ(sniff(Bytes(dir + "rgb8.png")), ImageFormat::kPng);
  EXPECT_EQ(sniff(Bytes(dir + "grey.jpg")), ImageFormat::kJpeg);
  EXPECT_EQ(sniff(Bytes(dir + "lossy.webp")), ImageFormat::kWebp);
  EXPECT_EQ(sniff(Bytes(dir + "palette.gif")), ImageFormat::kGif);
  EXPECT_EQ(sniff(Bytes(dir + "rgb24.bmp")), ImageFormat::kBmp);
  EXPECT_EQ(sniff(std::string("II*\0\x08\0\0\0", 8)), ImageFormat::kTiff);
  EXPECT_EQ(sniff("hello"), ImageFormat::kUnknown);
  // A PNG named .jpg is still a PNG.
  const std::string scratch = ScratchDir("DecodeTest.Sniff");
  ASSERT_TRUE(WriteStringToFile(scratch + "/really_a_png.jpg", Bytes(dir + "rgb8.png")).ok());
  auto image = DecodeImageFile(scratch + "/really_a_png.jpg");
  ASSERT_OK(image);
  EXPECT_EQ(image->width, 37);
}

// All nine files show the same upright 50x70 "F" once the EXIF orientation is applied.
TEST(DecodeTest, ExifOrientationGivesTheSameUprightImage) {
  auto reference = DecodeImageFile(TestData("images/exif_orientation/orientation_1.jpg"));
  ASSERT_OK(reference);
  ASSERT_EQ(reference->width, 50);
  ASSERT_EQ(reference->height, 70);
  for (int n = 0; n <= 8; ++n) {
    const std::string path = TestData("images/exif_orientation/orientation_" + std::to_string(n) + ".jpg");
    auto image = DecodeImageFile(path);
    ASSERT_OK(image);
    ASSERT_EQ(image->width, 50) << n;
    ASSERT_EQ(image->height, 70) << n;
    int max_diff = 0;
    double sum = 0;
    for (size_t i = 0; i < image->rgb.size(); ++i) {
      const int d = std::abs(int(image->rgb[i]) - int(reference->rgb[i]));
      max_diff = std::max(max_diff, d);
      sum += d;
    }
    // Same glyph; each file is its own JPEG encoding, so allow compression noise.
    EXPECT_LE(sum / image->rgb.size(), 2.0) << n;
    EXPECT_LE(max_diff, 64) << n;
    if (n >= 2 && n <= 4) {
      // The stored raster (mirrored/rotated) is far from upright: the tolerance above can fail.
      DecodeOptions raw;
      raw.apply_exif = false;
      auto stored = DecodeImageFile(path, raw);
      ASSERT_OK(stored);
      double raw_sum = 0;
      for (size_t i = 0; i < stored->rgb.size(); ++i) raw_sum += std::abs(int(stored->rgb[i]) - int(reference->rgb[i]));
      EXPECT_GT(raw_sum / stored->rgb.size(), 10.0) << n;
      std::cout << "[ info ] orientation " << n << ": mean |diff| upright " << sum / image->rgb.size()
                << ", unrotated " << raw_sum / stored->rgb.size() << "\n";
    }
    if (n >= 5) {
      // Without EXIF handling the stored (landscape) raster comes back.
      DecodeOptions raw;
      raw.apply_exif = false;
      auto stored = DecodeImageFile(path, raw);
      ASSERT_OK(stored);
      EXPECT_EQ(stored->width, 70) << n;
      EXPECT_EQ(stored->height, 50) << n;
    }
  }
}

TEST(DecodeTest, PngExifChunkIsApplied) {
  const std::string dir = SourceDir() + "/tests/image/data/formats/";
  auto rotated = DecodeImageFile(dir + "exif6.png");
  ASSERT_OK(rotated);
  EXPECT_EQ(rotated->width, 23);
  EXPECT_EQ(rotated->height, 37);
  DecodeOptions raw;
  raw.apply_exif = false;
  auto stored = DecodeImageFile(dir + "exif6.png", raw);
  ASSERT_OK(stored);
  EXPECT_EQ(stored->width, 37);
  // Orientation 6 = rotate 90 clockwise: output (x, y) = stored (y, H - 1 - x).
  EXPECT_EQ(0, std::memcmp(rotated->Pixel(0, 0), stored->Pixel(0, stored->height - 1), 3));
  EXPECT_EQ(0, std::memcmp(rotated->Pixel(5, 9), stored->Pixel(9, stored->height - 1 - 5), 3));
}

void ExpectError(const Result<RgbImage>& r, StatusCode code, std::initializer_list<const char*> words) {
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  for (const char* w : words) {
    EXPECT_NE(r.status().message().find(w), std::string::npos) << r.status().ToString() << " lacks " << w;
  }
}

TEST(DecodeTest, TruncatedJpegIsAnError) {
  const std::string jpg = Bytes(TestData("images/rocket.jpg"));
  ExpectError(DecodeBytes(jpg.substr(0, jpg.size() / 2)), StatusCode::kInvalidArgument, {"JPEG", "truncated"});
  ExpectError(DecodeBytes(jpg.substr(0, 300)), StatusCode::kInvalidArgument, {"JPEG"});
  ExpectError(DecodeBytes(jpg.substr(0, 3)), StatusCode::kInvalidArgument, {"JPEG"});
}

TEST(DecodeTest, PngWithBadCrcIsAnError) {
  std::string png = Bytes(TestData("images/chelsea.png"));
  // The IHDR CRC sits at bytes 29..32.
  std::string bad = png;
  bad[29] ^= 0x55;
  ExpectError(DecodeBytes(bad), StatusCode::kInvalidArgument, {"PNG", "CRC"});
  // Flip a byte inside the first IDAT's payload (its CRC no longer matches).
  bad = png;
  size_t idat = bad.find("IDAT");
  ASSERT_NE(idat, std::string::npos);
  bad[idat + 40] ^= 0x01;
  ExpectError(DecodeBytes(bad), StatusCode::kInvalidArgument, {"PNG"});
  ExpectError(DecodeBytes(png.substr(0, png.size() / 3)), StatusCode::kInvalidArgument, {"PNG", "truncated"});
}

// Rewrites the IHDR size of a PNG and fixes its CRC, so that only the size is wrong.
std::string PngWithSize(std::string png, uint32_t w, uint32_t h) {
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<char>(w >> (24 - 8 * i));
    png[20 + i] = static_cast<char>(h >> (24 - 8 * i));
  }
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 12; i < 29; ++i) {
    crc ^= static_cast<uint8_t>(png[i]);
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  crc ^= 0xFFFFFFFFu;
  for (int i = 0; i < 4; ++i) png[29 + i] = static_cast<char>(crc >> (24 - 8 * i));
  return png;
}

TEST(DecodeTest, ZeroSizedAndHugeHeadersAreRefusedUpFront) {
  const std::string png = Bytes(TestData("images/camera.png"));
  ExpectError(DecodeBytes(PngWithSize(png, 0, 0)), StatusCode::kInvalidArgument, {"PNG"});
  // 100000 x 100000 = 10^10 pixels: refused from the header, before any allocation.
  ExpectError(DecodeBytes(PngWithSize(png, 100000, 100000)), StatusCode::kResourceExhausted,
              {"PNG", "100000x100000", "max_pixels"});
  // The same for JPEG: patch the SOF0 height/width.
  std::string jpg = Bytes(TestData("images/rocket.jpg"));
  size_t sof = jpg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpg[sof + 5] = jpg[sof + 7] = static_cast<char>(0x9C);  // 40000 x 40000
  jpg[sof + 6] = jpg[sof + 8] = static_cast<char>(0x40);
  ExpectError(DecodeBytes(jpg), StatusCode::kResourceExhausted, {"JPEG", "40000x40000"});
  jpg[sof + 5] = jpg[sof + 6] = 0;
  ExpectError(DecodeBytes(jpg), StatusCode::kInvalidArgument, {"JPEG"});
  // Configurable limits.
  DecodeOptions small;
  small.max_pixels = 1000;
  ExpectError(DecodeBytes(png, small), StatusCode::kResourceExhausted, {"PNG", "512x512"});
  small = DecodeOptions();
  small.max_bytes = 1000;
  ExpectError(DecodeBytes(png, small), StatusCode::kResourceExhausted, {"bytes", "max_bytes"});
}

TEST(DecodeTest, RandomBytesAndUnsupportedFormatsAreNamed) {
  std::string noise(4096, '\0');
  uint32_t x = 12345;
  for (char& c : noise) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  ExpectError(DecodeBytes(noise), StatusCode::kInvalidArgument, {"unrecognised format"});
  ExpectError(DecodeBytes(""), StatusCode::kInvalidArgument, {"empty"});
  ExpectError(DecodeBytes(std::string("II*\0\x08\0\0\0", 8) + noise), StatusCode::kUnsupported, {"TIFF"});
  ExpectError(DecodeBytes(std::string("\0\0\0\x1c" "ftypheic", 12) + noise), StatusCode::kUnsupported, {"HEIF"});
  // Right magic, garbage after it.
  ExpectError(DecodeBytes("\xFF\xD8\xFF" + noise), StatusCode::kInvalidArgument, {"JPEG"});
  ExpectError(DecodeBytes("\x89PNG\r\n\x1A\n" + noise), StatusCode::kInvalidArgument, {"PNG"});
  ExpectError(DecodeBytes("RIFF\x10\0\0\0WEBP" + noise), StatusCode::kInvalidArgument, {"WebP"});
  auto gif_noise = DecodeBytes("GIF89a" + noise);  // random screen size: refused as too big or as corrupt
  ASSERT_FALSE(gif_noise.ok());
  EXPECT_EQ(gif_noise.status().message().rfind("GIF: ", 0), 0u) << gif_noise.status().ToString();
  const std::string gif = Bytes(SourceDir() + "/tests/image/data/formats/palette.gif");
  ExpectError(DecodeBytes(gif.substr(0, gif.size() - 200)), StatusCode::kInvalidArgument, {"GIF"});
  const std::string webp = Bytes(SourceDir() + "/tests/image/data/formats/lossless.webp");
  ExpectError(DecodeBytes(webp.substr(0, webp.size() / 2)), StatusCode::kInvalidArgument, {"WebP"});
  const std::string bmp = Bytes(SourceDir() + "/tests/image/data/formats/rgb24.bmp");
  ExpectError(DecodeBytes(bmp.substr(0, bmp.size() / 2)), StatusCode::kInvalidArgument, {"BMP", "truncated"});
  // Every truncation of a small JPEG and PNG either decodes or fails cleanly (never crashes).
  const std::string small_jpg = Bytes(TestData("images/exif_orientation/orientation_6.jpg"));
  for (size_t n = 0; n < small_jpg.size(); n += 7) (void)DecodeBytes(small_jpg.substr(0, n));
  const std::string small_png = Bytes(SourceDir() + "/tests/image/data/formats/palette8.png");
  for (size_t n = 0; n < small_png.size(); n += 5) (void)DecodeBytes(small_png.substr(0, n));
}

TEST(DecodeTest, MissingFileNamesThePath) {
  auto r = DecodeImageFile("/nonexistent/picture.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/picture.jpg"), std::string::npos) << r.status().ToString();
}

}  // namespace
}  // namespace lfm
