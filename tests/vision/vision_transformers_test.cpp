// The LFM2-VL image side (our preprocessing, SigLIP2 tower and projector) against Hugging Face transformers'
// Lfm2VlForConditionalGeneration.get_image_features on the tiny random checkpoint transformers wrote
// (tests/model/data/lfm2-vl-tiny-hf; features.json from tools/refs/make_lfm2vl_feature_refs.py).
// The preprocessing is shown bit-identical to Lfm2VlProcessor elsewhere, so the crops we encode here are the
// ones transformers encoded; what differs is only the arithmetic of the tower and the projector.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "model/lfm2_vl_vision.h"
#include "test_util.h"
#include "vision_features_golden.h"

namespace lfm {
namespace {

std::string CheckpointDir() { return testing::SourceDir() + "/tests/model/data/lfm2-vl-tiny-hf"; }

nlohmann::json ReadGolden() {
  auto s = ReadFileToString(CheckpointDir() + "/features.json");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? nlohmann::json::parse(*s) : nlohmann::json();
}

// Tolerances, relative to the features' RMS. transformers runs the tower in f32 on the (exactly widened) bf16
// weights. With the weights widened to f32 at load our arithmetic is f32 too: only summation order differs
// (measured 4.7e-6). As stored (bf16), our kernels may round activations to bf16 on CPUs with AVX512_BF16 (as
// llama.cpp does), which moves values by up to ~1e-2 after 2 layers + projector. A wrong layout or a wrong op
// moves them by O(1).
constexpr double kRelTolF32 = 1e-4;
constexpr double kRelTolAsStored = 3e-2;

void CompareFeatures(const std::string& name, const nlohmann::json& g, DType weight_dtype, double tol) {
  testing::CompareImageFeatures(CheckpointDir(), name, g, ReadGolden()["row_stride"].get<int>(), weight_dtype, tol);
}

TEST(VisionTransformersTest, SingleCropMatchesGetImageFeatures) {
  const nlohmann::json g = ReadGolden();
  CompareFeatures("rocket.jpg", g["images"]["rocket.jpg"], DType::kF32, kRelTolF32);
  CompareFeatures("rocket.jpg", g["images"]["rocket.jpg"], DType::kAuto, kRelTolAsStored);
}

TEST(VisionTransformersTest, TiledImageMatchesGetImageFeatures) {
  const nlohmann::json g = ReadGolden();
  CompareFeatures("retina.jpg", g["images"]["retina.jpg"], DType::kF32, kRelTolF32);
  CompareFeatures("retina.jpg", g["images"]["retina.jpg"], DType::kAuto, kRelTolAsStored);
}

}  // namespace
}  // namespace lfm
