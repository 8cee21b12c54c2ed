// Engine::Load of an LFM2-VL split as llama.cpp publishes it: a text .gguf plus LoadOptions::mmproj
// (`lfm run -m text.gguf --mmproj mmproj.gguf`). The tiny random model's files (shared testdata,
// lfm2-vl-synthetic PROVENANCE §2); the features themselves are compared in
// tests/model/vision_mmproj_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

const char* kDir = "lfm2-vl-synthetic/tiny-lfm2-vl";
const char* kMmproj = "lfm2-vl-synthetic/tiny-lfm2-vl/mmproj-f32.gguf";
const char* kTextGguf = "lfm2-synthetic/tiny-lfm2/model-f32.gguf";

TEST(MmprojEngineTest, EngineLoadsTextGgufWithMmproj) {
  LoadOptions lo;
  lo.threads = 1;
  lo.mmproj = testing::TestData(kMmproj);
  auto e = Engine::Load(testing::TestData(kTextGguf), lo);
  ASSERT_OK(e);
  EXPECT_TRUE((*e)->info().has_vision);
  EXPECT_EQ((*e)->info().model_type, "lfm2_vl");
  // Without --mmproj the same file is a text model.
  lo.mmproj.clear();
  auto t = Engine::Load(testing::TestData(kTextGguf), lo);
  ASSERT_OK(t);
  EXPECT_FALSE((*t)->info().has_vision);
  EXPECT_EQ((*t)->info().model_type, "lfm2");
}

TEST(MmprojEngineTest, EngineRefusesMisplacedFiles) {
  LoadOptions lo;
  lo.threads = 1;
  // A model directory has its own vision tower.
  lo.mmproj = testing::TestData(kMmproj);
  auto dir = Engine::Load(testing::TestData(kDir), lo);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("not a .gguf file"), std::string::npos) << dir.status().ToString();
  // The text model given as the mmproj.
  lo.mmproj = testing::TestData(kTextGguf);
  auto swapped = Engine::Load(testing::TestData(kTextGguf), lo);
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.status().message().find("expected 'clip'"), std::string::npos) << swapped.status().ToString();
  // A missing file.
  lo.mmproj = testing::TestData(kDir) + "/no-such-mmproj.gguf";
  auto missing = Engine::Load(testing::TestData(kTextGguf), lo);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no-such-mmproj.gguf"), std::string::npos) << missing.status().ToString();
}

}  // namespace
}  // namespace lfm
