// The whole LFM2-VL pipeline (decode -> HF-parity preprocessing -> SigLIP2 -> projector -> splice ->
// decoder) on the tiny random LFM2-VL against the references in tiny-lfm2-vl-ref: greedy ids agree
// across llama.cpp, numpy and the HF pipeline; last-prompt logits against the HF-pipeline numpy run.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "ref_files.h"
#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string RequestFor(const std::string& image) {
  nlohmann::json image_part = {{"type", "image"}, {"image", image}};
  nlohmann::json text_part = {{"type", "text"}, {"text", "Describe this image."}};
  nlohmann::json user = {{"role", "user"}, {"content", nlohmann::json::array({image_part, text_part})}};
  return nlohmann::json{{"messages", nlohmann::json::array({user})}}.dump();
}

class VisionPipeline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = Engine::Load(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Engine* engine_;
};
Engine* VisionPipeline::engine_ = nullptr;

void CheckImage(Engine& engine, const std::string& stem, const std::string& image_file, bool have_hf_logits) {
  const std::string ref = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl-ref");
  auto lines = testing::ReadIdLines(ref + "/" + stem + ".llamacpp.ids.txt");
  ASSERT_EQ(lines.size(), 2u);
  ChatOptions co;
  co.generate.max_tokens = 8;
  co.generate.ignore_eos = true;
  co.generate.sampling = SamplingParams{.temperature = 0};
  co.generate.return_prompt_logits = true;
  auto r = engine.Chat(RequestFor(testing::TestData("images/" + image_file)), co);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Prompt ids (image positions are the <image> id, as HF's processor writes them) and greedy ids.
  EXPECT_EQ(std::vector<int>(r->generation.prompt_ids.begin(), r->generation.prompt_ids.end()), lines[0]) << stem;
  EXPECT_EQ(std::vector<int>(r->generation.ids.begin(), r->generation.ids.end()), lines[1]) << stem;
  if (have_hf_logits) {
    auto hf = testing::ReadF32(ref + "/" + stem + ".hf.logits.f32");
    ASSERT_EQ(hf.size(), r->generation.prompt_logits.size());
    float max_diff = 0;
    for (size_t i = 0; i < hf.size(); ++i) max_diff = std::max(max_diff, std::fabs(hf[i] - r->generation.prompt_logits[i]));
    EXPECT_LT(max_diff, 2e-2f) << stem << ": last-prompt logits vs the HF-pipeline reference";
    std::printf("%s: max |logit diff| vs HF pipeline %.2e\n", stem.c_str(), max_diff);
  }
}

TEST_F(VisionPipeline, ChelseaMatchesReferences) { CheckImage(*engine_, "chelsea", "chelsea.png", true); }
TEST_F(VisionPipeline, CameraMatchesReferences) { CheckImage(*engine_, "camera", "camera.png", true); }
// 3x3 tiles + thumbnail, 2592 prompt tokens: tile markers and ten 256-token image runs in order.
TEST_F(VisionPipeline, RetinaTiledMatchesReferenceIds) { CheckImage(*engine_, "retina", "retina.jpg", false); }

TEST_F(VisionPipeline, CliRunReproducesIdsAndRefusesBadImages) {
  const std::string ref = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl-ref");
  auto lines = testing::ReadIdLines(ref + "/chelsea.llamacpp.ids.txt");
  auto r = testing::RunLfm("run -m " + testing::Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")) +
                           " --image " + testing::Quote(testing::TestData("images/chelsea.png")) +
                           " -p 'Describe this image.' -n 8 --temp 0 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), lines[1]);
  // A missing file, a non-image and a network URL each give a clear error.
  auto missing = testing::RunLfm("run -m " + testing::Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")) +
                                 " --image /nonexistent.png -p hi -n 1");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent.png"), std::string::npos) << missing.err;
  auto text_model = testing::RunLfm("run -m " + testing::Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")) +
                                    " --image " + testing::Quote(testing::TestData("images/chelsea.png")) + " -p hi");
  EXPECT_NE(text_model.exit_code, 0);
  EXPECT_NE(text_model.err.find("text model"), std::string::npos) << text_model.err;
  auto url = engine_->Chat(RequestFor("https://example.com/cat.png"), ChatOptions{});
  ASSERT_FALSE(url.ok());
  EXPECT_NE(url.status().message().find("network"), std::string::npos) << url.status().message();
}

TEST_F(VisionPipeline, DataUriImagesWork) {
  auto bytes = ReadFileToString(testing::TestData("images/chelsea.png"));
  ASSERT_OK(bytes);
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b64;
  size_t i = 0;
  const auto* d = reinterpret_cast<const unsigned char*>(bytes->data());
  for (; i + 2 < bytes->size(); i += 3) {
    uint32_t v = (d[i] << 16) | (d[i + 1] << 8) | d[i + 2];
    for (int k = 3; k >= 0; --k) b64 += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i < bytes->size()) {
    uint32_t v = d[i] << 16;
    if (i + 1 < bytes->size()) v |= d[i + 1] << 8;
    b64 += kAlphabet[(v >> 18) & 63];
    b64 += kAlphabet[(v >> 12) & 63];
    b64 += i + 1 < bytes->size() ? kAlphabet[(v >> 6) & 63] : '=';
    b64 += '=';
  }
  auto from_uri = engine_->RenderChat(RequestFor("data:image/png;base64," + b64), true);
  auto from_path = engine_->RenderChat(RequestFor(testing::TestData("images/chelsea.png")), true);
  ASSERT_TRUE(from_uri.ok()) << from_uri.status().ToString();
  ASSERT_TRUE(from_path.ok());
  EXPECT_EQ(*from_uri, *from_path);
}

}  // namespace
}  // namespace lfm
