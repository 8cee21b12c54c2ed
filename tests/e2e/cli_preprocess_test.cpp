// `lfm preprocess --json` against the HF-parity preprocessing goldens (real LFM2-VL-450M processor
// configs; no weights needed), and multi-image prompts through the engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

TEST(CliPreprocess, JsonMatchesGoldens) {
  const std::string model = testing::TestData("lfm2/LFM2-VL-450M");
  const std::string gold = testing::TestData("lfm2-vl-synthetic/preprocess/lfm2-vl-450m");
  for (const std::string stem : {"chelsea", "retina", "branches"}) {
    const std::string image = testing::TestData("images/" + stem + (stem == "chelsea" ? ".png" : ".jpg"));
    auto r = testing::RunLfm("preprocess -m " + testing::Quote(model) + " --image " + testing::Quote(image) + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto got = nlohmann::json::parse(r.out)["images"][0];
    auto want = nlohmann::json::parse(*ReadFileToString(gold + "/" + stem + ".json"));
    EXPECT_EQ(got["rows"], want["image_rows"]) << stem;
    EXPECT_EQ(got["cols"], want["image_cols"]) << stem;
    EXPECT_EQ(got["thumbnail"], want["thumbnail_used"]) << stem;
    EXPECT_EQ(got["image_tokens"], want["n_image_tokens_total"]) << stem;
    EXPECT_EQ(got["resized"], want["image_sizes_hw"]) << stem;
    // The golden prompt is the chat template's render with the image expansion in place.
    auto prompt = ReadFileToString(gold + "/" + stem + ".prompt.txt");
    ASSERT_OK(prompt);
    const std::string expanded = got["expanded"];
    EXPECT_NE(prompt->find(expanded), std::string::npos) << stem;
    EXPECT_EQ(prompt->size(), expanded.size() + std::string("<|startoftext|><|im_start|>user\nDescribe this image."
                                                            "<|im_end|>\n<|im_start|>assistant\n").size())
        << stem;
  }
  auto bad = testing::RunLfm("preprocess -m " + testing::Quote(model) + " --image " +
                             testing::Quote(model + "/config.json"));
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("config.json"), std::string::npos) << bad.err;
}

TEST(MultiImage, TwoImagesExpandInOrderAndRun) {
  auto engine = Engine::Load(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto request = [](const std::vector<std::string>& images) {
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& im : images) parts.push_back({{"type", "image"}, {"image", im}});
    parts.push_back({{"type", "text"}, {"text", "Compare."}});
    return nlohmann::json{{"messages", {{{"role", "user"}, {"content", parts}}}}}.dump();
  };
  const std::string a = testing::TestData("images/chelsea.png"), b = testing::TestData("images/camera.png");
  ChatOptions co;
  co.generate.max_tokens = 2;
  co.generate.sampling = SamplingParams{.temperature = 0};
  auto count_images = [&](const Generation& g) { return std::count(g.prompt_ids.begin(), g.prompt_ids.end(), 396); };
  auto ra = (*engine)->Chat(request({a}), co);
  auto rb = (*engine)->Chat(request({b}), co);
  auto rab = (*engine)->Chat(request({a, b}), co);
  ASSERT_TRUE(ra.ok() && rb.ok()) << ra.status().ToString() << rb.status().ToString();
  ASSERT_TRUE(rab.ok()) << rab.status().ToString();
  EXPECT_EQ(count_images(rab->generation), count_images(ra->generation) + count_images(rb->generation));
  // Image a's expansion comes before image b's.
  auto ea = (*engine)->RenderChat(request({a}), true), eb = (*engine)->RenderChat(request({b}), true);
  ASSERT_TRUE(ea.ok() && eb.ok());
  auto body = [](const std::string& p) {
    size_t s = p.find("<|image_start|>"), e = p.rfind("<|image_end|>");
    return p.substr(s, e + std::string("<|image_end|>").size() - s);
  };
  EXPECT_NE(rab->prompt.find(body(*ea) + body(*eb)), std::string::npos);
}

}  // namespace
}  // namespace lfm
