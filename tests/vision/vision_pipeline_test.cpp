// Image -> embeddings through the real pieces: the image module's decoder and HF-parity LFM2-VL
// preprocessing feeding the vision tower + projector of the tiny random LFM2-VL (shared testdata
// lfm2-vl-synthetic, PROVENANCE §2-§3). Lives outside tests/model because it needs lfm_image too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::ReadF32;
using testing::MaxAbsDiff;  // test_util.h

const char* kModel = "lfm2-vl-synthetic/tiny-lfm2-vl";
const char* kRef = "lfm2-vl-synthetic/tiny-lfm2-vl-ref/";

class VisionPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto v = Lfm2VlVision::Load(testing::TestData(kModel));
    ASSERT_OK(v);
    vision_ = std::move(*v);
  }
  std::unique_ptr<Lfm2VlVision> vision_;
};

// camera.png is 512x512 grey: llama.cpp's pixel tensor is exactly (x/255 - 0.5)/0.5 replicated to RGB
// (PROVENANCE §3), one 32x32-patch crop, 256 image tokens.
TEST_F(VisionPipelineTest, CameraLlamaCppPixelsMatchLlamaCppAndNumpy) {
  auto img = DecodeImageFile(testing::TestData("images/camera.png"));
  ASSERT_OK(img);
  ASSERT_EQ(img->width, 512);
  ASSERT_EQ(img->height, 512);
  const int P = 16, hp = 32, wp = 32;
  std::vector<float> pixels(static_cast<size_t>(hp) * wp * P * P * 3);
  for (int r = 0; r < hp; ++r)
    for (int c = 0; c < wp; ++c)
      for (int dy = 0; dy < P; ++dy)
        for (int dx = 0; dx < P; ++dx)
          for (int ch = 0; ch < 3; ++ch) {
            const float x = img->Pixel(c * P + dx, r * P + dy)[ch];
            pixels[((static_cast<size_t>(r) * wp + c) * P * P + dy * P + dx) * 3 + ch] = (x / 255.0f - 0.5f) / 0.5f;
          }
  std::vector<float> embd;
  const Status st = vision_->EncodeCrop(pixels.data(), hp, wp, &embd);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(embd.size(), static_cast<size_t>(256 * 64));
  const double d_llama = MaxAbsDiff(embd, ReadF32(testing::TestData(std::string(kRef) + "camera.llamacpp.embd.f32")));
  const double d_numpy = MaxAbsDiff(embd, ReadF32(testing::TestData(std::string(kRef) + "camera.numpy.embd.f32")));
  std::printf("camera: max|diff| vs llama.cpp %.3g, vs numpy f64 %.3g\n", d_llama, d_numpy);
  EXPECT_LT(d_llama, 5e-3);
  EXPECT_LT(d_numpy, 1e-4);
}

// The HF pipeline end to end: decode, Lfm2VlImageProcessorFast-parity preprocessing with the tiny
// model's own processor config, tower, projector; reference = the numpy forward on HF's pixels.
void CheckHfPipeline(const Lfm2VlVision& vision, const std::string& image, const std::string& stem) {
  auto cfg = Lfm2VlProcessorConfig::FromModelDir(testing::TestData(kModel));
  ASSERT_OK(cfg);
  auto img = DecodeImageFile(testing::TestData("images/" + image));
  ASSERT_OK(img);
  auto pre = PreprocessLfm2Vl(*img, *cfg);
  ASSERT_OK(pre);
  std::vector<float> all;
  for (const ImageCrop& crop : pre->crops) {
    std::vector<float> embd;
    const Status st = vision.EncodeCrop(crop.pixel_values.data(), crop.patches_h, crop.patches_w, &embd);
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_EQ(embd.size(), static_cast<size_t>(crop.tokens) * vision.text_hidden());
    all.insert(all.end(), embd.begin(), embd.end());
  }
  const double d = MaxAbsDiff(all, ReadF32(testing::TestData(std::string(kRef) + stem + ".hf.embd.f32")));
  std::printf("%s: HF pipeline max|diff| vs numpy f64 %.3g\n", stem.c_str(), d);
  EXPECT_LT(d, 1e-4);
}

TEST_F(VisionPipelineTest, ChelseaHfPipelineMatchesNumpy) { CheckHfPipeline(*vision_, "chelsea.png", "chelsea"); }
TEST_F(VisionPipelineTest, CameraHfPipelineMatchesNumpy) { CheckHfPipeline(*vision_, "camera.png", "camera"); }

}  // namespace
}  // namespace lfm
