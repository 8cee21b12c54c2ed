// The expanded input_ids of an image prompt against transformers' Lfm2VlProcessor (real LFM2.5-VL
// tokenizer and published processor configs; tests/image/data/transformers_lfm2vl.json from
// tools/refs/make_lfm2vl_processor_refs.py). Same path as the engine's PreparePrompt: decode ->
// PreprocessLfm2Vl -> ExpandPromptImages -> Encode(add_special_tokens=false; the template wrote BOS).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "test_util.h"
#include "text/tokenizer.h"

namespace lfm {
namespace {

TEST(Lfm2VlTransformersIds, ExpandedIdsEqualTransformersOnEverySharedImage) {
  auto text = ReadFileToString(testing::SourceDir() + "/tests/image/data/transformers_lfm2vl.json");
  ASSERT_OK(text);
  const auto golden = nlohmann::json::parse(*text);
  auto tok = Tokenizer::FromFile(testing::SourceDir() + "/tests/text/data/lfm2.5-vl-450m/tokenizer.json");
  ASSERT_OK(tok);
  auto config = Lfm2VlProcessorConfig::FromModelDir(testing::TestData("lfm2/LFM2.5-VL-450M"));
  ASSERT_OK(config);
  ASSERT_EQ(golden["images"].size(), 5u);
  for (const auto& [name, g] : golden["images"].items()) {
    auto image = DecodeImageFile(testing::TestData("images/" + name));
    ASSERT_OK(image);
    PreprocessOptions po;
    po.include_pixels = false;
    auto pre = PreprocessLfm2Vl(*image, *config, po);
    ASSERT_OK(pre);
    auto expanded = ExpandPromptImages(golden["prompt"].get<std::string>(), {*pre}, *config);
    ASSERT_OK(expanded);
    auto ids = tok->Encode(*expanded, /*add_special_tokens=*/false);
    ASSERT_OK(ids);
    EXPECT_EQ(*ids, g["input_ids"].get<std::vector<int32_t>>()) << name;
  }
}

}  // namespace
}  // namespace lfm
