// The LFM2 decoder against Hugging Face transformers (Lfm2ForCausalLM, f32 forward) on random
// checkpoints that transformers itself wrote (save_pretrained): tensor names, dtypes (bf16) and file
// layout are transformers', and the directory is loaded unchanged. Goldens and checkpoints come from
// tools/refs/make_lfm2_transformers_refs.py (scripts/refs.sh); golden.txt documents its format.
//
// Tolerance: every checked logit within 1e-4 of its row's max |logit| (top-8 ids and every 1024th
// id), our argmax equal to transformers' on every checked row, greedy ids exact.
//
// The full-size LFM2-350M-shape checkpoint (710 MB) is not committed; to compare it:
//   LFM_REFS_TORCH=1 bash scripts/refs.sh
//   build/test_model --gtest_also_run_disabled_tests --gtest_filter='Lfm2Transformers.DISABLED_*'
// (LFM_REFS_DIR overrides the build-refs/ directory it reads).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/matmul.h"
#include "lfm2_test_util.h"
#include "transformers_golden.h"
#include "model/lfm2_model.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::CompareWithTransformers;
using testing::ReadGolden;


TEST(Lfm2Transformers, TinyCheckpointWrittenByTransformersMatchesItsLogits) {
  const std::string dir = testing::SourceDir() + "/tests/model/data/lfm2-tiny-hf";
  double worst = 0;
  // With AVX512_BF16 the bf16 matrices round their activations to bf16 (<= 2^-9 per value,
  // kernels/bf16_dot.h); through this random model that moves logits by up to 2.2e-2 of the row max
  // (measured, chat prompt), so the bound is 4e-2. The f32-activation match (1e-4) is still checked: below, with
  // the weights widened to f32, and on CPUs without the feature (ctest's LFM_ISA runs).
  const bool bf16_act = MatMulRoundsActivationsToBf16(DType::kBF16);
  const double tol = bf16_act ? 4e-2 : 1e-4;
  CompareWithTransformers(dir, 3, &worst, DType::kAuto, tol, bf16_act);
  EXPECT_LE(worst, tol);
}

// The same with the bf16 weights widened to f32 at load (the GEMV paths differ; the numbers must not).
TEST(Lfm2Transformers, TinyCheckpointWidenedToF32MatchesItsLogits) {
  const std::string dir = testing::SourceDir() + "/tests/model/data/lfm2-tiny-hf";
  double worst = 0;
  CompareWithTransformers(dir, 3, &worst, DType::kF32);
  EXPECT_LE(worst, 1e-4);
}

TEST(Lfm2Transformers, TinyGoldenCoversShortLongAndChatPrompts) {
  const auto golden = ReadGolden(testing::SourceDir() + "/tests/model/data/lfm2-tiny-hf/golden.txt");
  ASSERT_EQ(golden.size(), 3u);
  EXPECT_EQ(golden[0].name, "short");
  EXPECT_GE(golden[1].ids.size(), 600u);
  EXPECT_EQ(golden[2].name, "chat");
  EXPECT_EQ(golden[2].ids.front(), 1);  // BOS from the chat template
}

// Needs build-refs/lfm2-350m-hf from `LFM_REFS_TORCH=1 bash scripts/refs.sh` (710 MB; never in CI).
TEST(Lfm2Transformers, DISABLED_FullSize350mCheckpointMatchesItsLogits) {
  const char* env = std::getenv("LFM_REFS_DIR");
  const std::string root = env && *env ? env : testing::SourceDir() + "/build-refs";
  double worst = 0;
  CompareWithTransformers(root + "/lfm2-350m-hf", 3, &worst);
  EXPECT_LE(worst, 1e-4);
}

}  // namespace
}  // namespace lfm
