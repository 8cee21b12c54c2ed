// How generation ends, as the user sees it: a failure mid-generation keeps the partial output
// (finish_reason "error" plus the cause), NaN logits are named as such, and text mode says why it
// stopped when the model did not end the reply itself.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "test_util.h"
#include "weights/safetensors.h"
#include "weights/safetensors_writer.h"

namespace lfm {
namespace {

#define CHECK_OK(expr)                                        \
  do {                                                        \
    const Status st_ = (expr);                                \
    EXPECT_TRUE(st_.ok()) << #expr << ": " << st_.ToString(); \
  } while (0)

std::string Model() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

// A copy of the tiny model whose output head is a separate copy of the embeddings (so the logits
// are unchanged) and whose *input* embedding row of `nan_token` is NaN: the run is normal until
// that token is generated and fed back, then every logit is NaN.
std::string MakeNanOnInputModel(const std::string& name, int nan_token) {
  std::string dir = testing::ScratchDir(name);
  for (const auto& entry : std::filesystem::directory_iterator(Model())) {
    const std::string file = entry.path().filename();
    if (file == "config.json" || file == "model.safetensors" || file.ends_with(".gguf")) continue;
    std::filesystem::copy_file(entry.path(), dir + "/" + file);
  }
  auto config = nlohmann::ordered_json::parse(*ReadFileToString(Model() + "/config.json"));
  config["tie_word_embeddings"] = false;
  std::ofstream(dir + "/config.json") << config.dump(2);

  auto src = SafetensorsFile::Open(Model() + "/model.safetensors");
  EXPECT_TRUE(src.ok()) << src.status().ToString();
  auto bytes = ReadFileToString(Model() + "/model.safetensors");
  EXPECT_TRUE(bytes.ok());
  const std::string& raw = *bytes;
  const uint64_t data0 = (*src)->header().data_offset;
  SafetensorsWriter w;
  for (const auto& t : (*src)->header().tensors) {
    EXPECT_EQ(t.dtype, DType::kF32) << t.name;
    const char* data = raw.data() + data0 + t.begin;
    const size_t n = t.end - t.begin;
    const bool embed = t.name == "model.embed_tokens.weight";
    const int64_t hidden = t.shape.back();
    CHECK_OK(w.Add(t.name, "F32", t.shape, [=](uint8_t* dst, size_t bytes_out) {
      std::memcpy(dst, data, bytes_out);
      if (embed) {
        float* row = reinterpret_cast<float*>(dst) + static_cast<size_t>(nan_token) * hidden;
        for (int64_t i = 0; i < hidden; ++i) row[i] = std::numeric_limits<float>::quiet_NaN();
      }
    }));
    EXPECT_EQ(n, static_cast<size_t>(t.shape[0] * (t.shape.size() > 1 ? t.shape[1] : 1) *
                                     (t.shape.size() > 2 ? t.shape[2] : 1) * 4));
    if (embed) {
      // The untied output head: the original embeddings, so the logits do not change.
      CHECK_OK(w.Add("lm_head.weight", "F32", t.shape,
                      [=](uint8_t* dst, size_t bytes_out) { std::memcpy(dst, data, bytes_out); }));
    }
  }
  CHECK_OK(w.Write(dir + "/model.safetensors", {{"format", "pt"}}));
  return dir;
}

struct GreedyRun {
  std::vector<int> prompt_ids, ids;
};

// `cmd` is "generate" (raw completion) or "run" (through the chat template).
std::string Args(const std::string& cmd, const std::string& model, int n) {
  return cmd + " -m " + testing::Quote(model) + " -p 'Hello there' -n " + std::to_string(n) +
         " --temp 0 --ignore-eos";
}

GreedyRun Greedy(const std::string& cmd) {
  auto r = testing::RunLfm(Args(cmd, Model(), 8) + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  return {j["prompt_ids"].get<std::vector<int>>(), j["ids"].get<std::vector<int>>()};
}

// The first generated position k >= 1 whose token appears neither in the prompt nor earlier.
size_t FirstFreshToken(const GreedyRun& g) {
  for (size_t k = 1; k < g.ids.size(); ++k) {
    auto seen = [&](int id) {
      return std::find(g.prompt_ids.begin(), g.prompt_ids.end(), id) != g.prompt_ids.end() ||
             std::find(g.ids.begin(), g.ids.begin() + static_cast<std::ptrdiff_t>(k), id) != g.ids.begin() + k;
    };
    if (!seen(g.ids[k])) return k;
  }
  return 0;
}

// Used to be: exit 1, "sampler found no candidate token", and everything generated was lost.
void ExpectPartialOutputOnNan(const std::string& cmd) {
  SCOPED_TRACE(cmd);
  const GreedyRun ref = Greedy(cmd);
  ASSERT_EQ(ref.ids.size(), 8u);
  const size_t k = FirstFreshToken(ref);
  ASSERT_GE(k, 1u) << "no fresh token in the greedy run";
  const std::string nan_model = MakeNanOnInputModel("nan_model_" + cmd, ref.ids[k]);

  auto j_run = testing::RunLfm(Args(cmd, nan_model, 8) + " --json");
  EXPECT_EQ(j_run.exit_code, 1) << j_run.err;
  auto j = nlohmann::json::parse(j_run.out);
  EXPECT_EQ(j["finish_reason"], "error");
  // Tokens 0..k were generated normally; feeding token k back made the logits of token k+1 NaN.
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), std::vector<int>(ref.ids.begin(), ref.ids.begin() + k + 1));
  EXPECT_EQ(j["error"].get<std::string>(),
            "logits at generated token " + std::to_string(k + 1) + " are not finite (NaN at id 0)");

  // Text mode: the partial text on stdout, then the error on stderr, exit 1.
  auto text = testing::RunLfm(Args(cmd, nan_model, 8));
  EXPECT_EQ(text.exit_code, 1) << text.err;
  auto partial = testing::RunLfm(Args(cmd, Model(), static_cast<int>(k + 1)) + " --json");
  ASSERT_EQ(partial.exit_code, 0);
  EXPECT_EQ(text.out, nlohmann::json::parse(partial.out)["text"].get<std::string>() + "\n");
  EXPECT_NE(text.err.find("stopped after " + std::to_string(k + 1) +
                          " tokens: error: logits at generated token " + std::to_string(k + 1)),
            std::string::npos)
      << text.err;
}

TEST(CliGenerationReport, NanLogitsKeepThePartialOutputAndNameTheCause) { ExpectPartialOutputOnNan("generate"); }
TEST(CliGenerationReport, NanLogitsInChatKeepThePartialReply) { ExpectPartialOutputOnNan("run"); }

TEST(CliGenerationReport, TextModeSaysWhyItStopped) {
  auto n = testing::RunLfm("generate -m " + testing::Quote(Model()) + " -p 'Hello there' -n 3 --temp 0 --ignore-eos");
  ASSERT_EQ(n.exit_code, 0) << n.err;
  EXPECT_NE(n.err.find("stopped: max tokens (3) reached \u2014 raise -n"), std::string::npos) << n.err;

  // A stop string taken from the greedy text itself.
  auto j = testing::RunLfm("generate -m " + testing::Quote(Model()) + " -p 'Hello there' -n 8 --temp 0 --ignore-eos --json");
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const std::string full = nlohmann::json::parse(j.out)["text"];
  ASSERT_GE(full.size(), 6u);
  const std::string stop = full.substr(3, 3);
  auto s = testing::RunLfm("generate -m " + testing::Quote(Model()) + " -p 'Hello there' -n 8 --temp 0 --ignore-eos --stop " +
                           testing::Quote(stop));
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.err.find("stopped: stop string \"" + stop + "\""), std::string::npos) << s.err;

  auto c = testing::RunLfm("generate -m " + testing::Quote(Model()) + " -p 'Hello there' -c 6 -n 50 --temp 0 --ignore-eos");
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.err.find("stopped: context full (6 tokens) \u2014 raise -c"), std::string::npos) << c.err;

  // Stderr of a scripted (non-terminal) run stays free of progress notes; -v asks for them.
  EXPECT_EQ(n.err.find("loaded"), std::string::npos) << n.err;
  auto v = testing::RunLfm("generate -m " + testing::Quote(Model()) + " -p hi -n 1 -v");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.err.find("lfm: loaded " + Model() + " in "), std::string::npos) << v.err;
}

TEST(CliGenerationReport, VisionEncodeTimePerImageWithVerbose) {
  const std::string vl = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl");
  const std::string img = testing::TestData("images/rocket.jpg");
  auto r = testing::RunLfm("run -m " + testing::Quote(vl) + " --image " + testing::Quote(img) + " --image " +
                           testing::Quote(img) + " -p 'Describe.' -n 1 -v");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("image 0: encoded in "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("image 1: encoded in "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lfm
