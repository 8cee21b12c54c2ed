// Next-token logits of the whole LFM2-VL pipeline (chat template, image preprocessing and token expansion,
// vision tower, projector, decoder) on the tiny random checkpoint transformers wrote, against
// Lfm2VlForConditionalGeneration's forward pass over the processor's output (top 8 logits in
// tests/model/data/lfm2-vl-tiny-hf/features.json, from tools/refs/make_lfm2vl_feature_refs.py).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "lfm/lfm.h"
#include "test_util.h"

namespace lfm {
namespace {

TEST(VlTransformersLogits, LastPromptPositionMatchesTransformers) {
  const std::string dir = testing::SourceDir() + "/tests/model/data/lfm2-vl-tiny-hf";
  auto golden_text = ReadFileToString(dir + "/features.json");
  ASSERT_TRUE(golden_text.ok()) << golden_text.status().ToString();
  const nlohmann::json golden = nlohmann::json::parse(*golden_text);
  auto engine = Engine::Load(dir);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  for (const std::string name : {"rocket.jpg", "retina.jpg"}) {
    SCOPED_TRACE(name);
    nlohmann::json image_part = {{"type", "image"}, {"image", testing::TestData("images/" + name)}};
    nlohmann::json text_part = {{"type", "text"}, {"text", "Describe this image."}};
    nlohmann::json user = {{"role", "user"}, {"content", nlohmann::json::array({image_part, text_part})}};
    ChatOptions co;
    co.generate.max_tokens = 1;
    co.generate.sampling = SamplingParams{.temperature = 0};
    co.generate.return_prompt_logits = true;
    auto r = (*engine)->Chat(nlohmann::json{{"messages", nlohmann::json::array({user})}}.dump(), co);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const std::vector<float>& logits = r->generation.prompt_logits;
    const nlohmann::json& g = golden["images"][name];
    const std::vector<int> top_ids = g["top_ids"].get<std::vector<int>>();
    const std::vector<double> top_logits = g["top_logits"].get<std::vector<double>>();
    ASSERT_FALSE(logits.empty());
    // The argmax is transformers' argmax, and each of transformers' top 8 has the same logit here.
    const int argmax = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    EXPECT_EQ(argmax, top_ids[0]);
    double worst = 0;
    for (size_t i = 0; i < top_ids.size(); ++i) {
      ASSERT_LT(top_ids[i], static_cast<int>(logits.size()));
      worst = std::max(worst, std::fabs(logits[top_ids[i]] - top_logits[i]));
    }
    // Same bound as the llama.cpp pipeline comparison (vision_pipeline_test.cpp): bf16 weights, activations
    // possibly rounded to bf16 in the tower's GEMMs.
    EXPECT_LT(worst, 2e-2) << "max |logit diff| over transformers' top 8";
    std::printf("%s: max |logit diff| vs transformers over its top 8: %.2e\n", name.c_str(), worst);
  }
}

}  // namespace
}  // namespace lfm
