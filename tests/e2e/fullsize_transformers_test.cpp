// The real LFM2-350M and LFM2.5-VL-450M shapes against Hugging Face transformers, in CI.
//
// A full-size checkpoint is 0.7-0.9 GB and CI has no torch, so neither the checkpoint nor transformers can
// run here. Instead `lfm make-test-model` (deterministic: fixed seed) rewrites the same random checkpoint
// that tools/refs/make_fullsize_refs.py gave to transformers, and the small goldens it wrote are compared:
//   - tests/model/data/fullsize/lfm2-350m-golden.txt: Lfm2ForCausalLM f32 logits (top 8 + every 1024th id)
//     on three prompts (short, 600+ tokens, chat-templated) and 8 greedy ids each;
//   - tests/model/data/fullsize/lfm2.5-vl-450m-features.json: get_image_features of the real
//     Lfm2VlImageProcessorFast's crops of rocket.jpg (every 32nd row, sums).
// Regenerate: LFM_REFS_TORCH=1 bash scripts/refs.sh (needs build/lfm). If these tests fail right after the
// random-model generator changed, the goldens are stale (their header holds the checkpoint's sha256).
//
// Tolerances as for the tiny checkpoints: weights widened to f32 (the reference's arithmetic): logits within
// 1e-4 of the row max and greedy ids exact; image features within 1e-4 of their RMS.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "model/transformers_golden.h"
#include "test_util.h"
#include "vision/vision_features_golden.h"

namespace lfm {
namespace {

std::string GoldenDir() { return testing::SourceDir() + "/tests/model/data/fullsize"; }

// Writes the random checkpoint of `shape` (as make_fullsize_refs.py did) into a scratch directory.
std::string WriteCheckpoint(const std::string& shape) {
  const std::string dir = testing::ScratchDir("fullsize-" + shape);
  const auto r = testing::RunLfm("make-test-model --shape " + shape + " --out " + testing::Quote(dir) + " -q");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir;
}

void RemoveDir(const std::string& dir) { EXPECT_EQ(std::system(("rm -rf " + testing::Quote(dir)).c_str()), 0); }

TEST(FullSizeTransformers, Lfm2_350mLogitsAndGreedyIdsMatch) {
  const std::string dir = WriteCheckpoint("lfm2-350m");
  double worst = 0;
  testing::CompareWithTransformers(dir, 3, &worst, DType::kF32, 1e-4, false, GoldenDir() + "/lfm2-350m-golden.txt");
  EXPECT_LE(worst, 1e-4);
  RemoveDir(dir);
}

TEST(FullSizeTransformers, Lfm25Vl450mImageFeaturesMatch) {
  const std::string dir = WriteCheckpoint("lfm2.5-vl-450m");
  auto text = ReadFileToString(GoldenDir() + "/lfm2.5-vl-450m-features.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json g = nlohmann::json::parse(*text);
  // The published config names Lfm2VlImageProcessorFast; transformers 5 made that an alias of this class.
  EXPECT_EQ(g["image_processor"], "Lfm2VlImageProcessor/TorchvisionBackend");
  testing::CompareImageFeatures(dir, "rocket.jpg", g["images"]["rocket.jpg"], g["row_stride"].get<int>(),
                                DType::kF32, 1e-4);
  RemoveDir(dir);
}

}  // namespace
}  // namespace lfm
