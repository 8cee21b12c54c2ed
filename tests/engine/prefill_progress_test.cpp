// Prefill progress and cancellation (GenerateOptions::on_progress, LoadOptions::ubatch): reports
// between chunks, a stop that leaves the session usable, and image encoding stopped between crops.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

std::unique_ptr<Engine> LoadTiny(int ubatch) {
  LoadOptions lo;
  lo.ubatch = ubatch;
  auto e = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"), lo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  return e.ok() ? std::move(e).value() : nullptr;
}

std::vector<int32_t> PromptIds(int n) {
  std::vector<int32_t> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = 100 + (i * 37) % 5000;
  return ids;
}

GenerateOptions Greedy(int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.ignore_eos = true;
  o.sampling = SamplingParams{.temperature = 0};
  return o;
}

struct Report {
  std::string stage;
  int64_t done, total;
};

TEST(PrefillProgress, ReportsBetweenChunks) {
  auto engine = LoadTiny(8);
  ASSERT_NE(engine, nullptr);
  std::vector<Report> reports;
  GenerateOptions o = Greedy(2);
  o.on_progress = [&](const Progress& p) {
    reports.push_back({std::string(p.stage), p.done, p.total});
    return true;
  };
  auto g = engine->GenerateFromIds(PromptIds(30), o);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->finish_reason, "length");
  // 30 tokens in chunks of 8: at the start, then after 8, 16, 24 and 30.
  std::vector<int64_t> done;
  for (const auto& r : reports) {
    EXPECT_EQ(r.stage, "prefill");
    EXPECT_EQ(r.total, 30);
    done.push_back(r.done);
  }
  EXPECT_EQ(done, (std::vector<int64_t>{0, 8, 16, 24, 30}));
}

TEST(PrefillProgress, StoppedPrefillEndsWithCallbackAndResumes) {
  auto engine = LoadTiny(8);
  ASSERT_NE(engine, nullptr);
  const auto prompt = PromptIds(30);
  auto reference = engine->GenerateFromIds(prompt, Greedy(6));
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();

  auto session = engine->NewSession();
  ASSERT_TRUE(session->Append(prompt).ok());
  GenerateOptions o = Greedy(6);
  bool tokens_seen = false;
  o.on_progress = [](const Progress& p) { return p.done < 16; };  // stop after two chunks
  auto stopped = session->Generate(o, [&](int32_t, std::string_view) { return tokens_seen = true; });
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(stopped->finish_reason, "callback");
  EXPECT_TRUE(stopped->ids.empty());
  EXPECT_FALSE(tokens_seen);
  EXPECT_EQ(session->prefilled_tokens(), 16);
  // The rest stays queued: the next Generate() resumes and gives the uninterrupted run's ids.
  auto resumed = session->Generate(Greedy(6));
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ(session->prefilled_tokens(), 30);
  EXPECT_EQ(resumed->ids, reference->ids);
  // Or Reset() drops everything.
  session->Reset();
  ASSERT_TRUE(session->Append(prompt).ok());
  auto again = session->Generate(Greedy(6));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ids, reference->ids);
}

TEST(PrefillProgress, StopBeforeTheFirstChunkRunsNothing) {
  auto engine = LoadTiny(512);
  ASSERT_NE(engine, nullptr);
  auto session = engine->NewSession();
  ASSERT_TRUE(session->Append(PromptIds(5)).ok());
  GenerateOptions o = Greedy(3);
  o.on_progress = [](const Progress&) { return false; };
  auto g = session->Generate(o);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->finish_reason, "callback");
  EXPECT_EQ(session->prefilled_tokens(), 0);
}

// A conversation whose turn was stopped in prefill forgets that turn; the next one works.
TEST(PrefillProgress, ConversationStaysUsableAfterAStoppedTurn) {
  auto engine = LoadTiny(4);
  ASSERT_NE(engine, nullptr);
  ChatOptions co;
  co.generate = Greedy(4);
  auto fresh = engine->NewConversation();
  auto want = fresh->Send("hello there", co);
  ASSERT_TRUE(want.ok()) << want.status().ToString();

  auto conv = engine->NewConversation();
  ChatOptions stop = co;
  stop.generate.on_progress = [](const Progress& p) { return p.done == 0; };
  auto r = conv->Send("hello there", stop);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->generation.finish_reason, "callback");
  EXPECT_EQ(conv->turns(), 0);
  auto next = conv->Send("hello there", co);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->generation.ids, want->generation.ids);
  EXPECT_EQ(conv->turns(), 1);
}

std::string ImageRequest(const std::string& image) {
  nlohmann::json image_part = {{"type", "image"}, {"image", image}};
  nlohmann::json text_part = {{"type", "text"}, {"text", "Describe this image."}};
  nlohmann::json user = {{"role", "user"}, {"content", nlohmann::json::array({image_part, text_part})}};
  return nlohmann::json{{"messages", nlohmann::json::array({user})}}.dump();
}

// Vision encoding reports per crop and stops between crops; prefill in chunks of 16 across the
// image rows gives the one-pass greedy ids.
TEST(PrefillProgress, VisionStopsBetweenCropsAndChunkedImagePrefillMatches) {
  LoadOptions lo;
  lo.ubatch = 16;
  auto chunked = Engine::Load(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"), lo);
  ASSERT_TRUE(chunked.ok()) << chunked.status().ToString();
  auto one_pass = Engine::Load(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"));
  ASSERT_TRUE(one_pass.ok()) << one_pass.status().ToString();
  const std::string request = ImageRequest(testing::TestData("images/retina.jpg"));  // tiled: several crops
  ChatOptions co;
  co.generate = Greedy(6);
  co.generate.return_prompt_logits = true;
  auto want = (*one_pass)->Chat(request, co);
  ASSERT_TRUE(want.ok()) << want.status().ToString();

  std::vector<Report> reports;
  ChatOptions watched = co;
  watched.generate.on_progress = [&](const Progress& p) {
    reports.push_back({std::string(p.stage), p.done, p.total});
    return true;
  };
  auto got = (*chunked)->Chat(request, watched);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->generation.ids, want->generation.ids);
  ASSERT_EQ(got->generation.prompt_logits.size(), want->generation.prompt_logits.size());
  float max_diff = 0;
  for (size_t i = 0; i < want->generation.prompt_logits.size(); ++i)
    max_diff = std::max(max_diff, std::fabs(got->generation.prompt_logits[i] - want->generation.prompt_logits[i]));
  EXPECT_LT(max_diff, 1e-4f);
  ASSERT_FALSE(reports.empty());
  int64_t crops = 0, prefill_reports = 0;
  for (const auto& r : reports) {
    if (r.stage == "vision") crops = r.total;
    if (r.stage == "prefill") ++prefill_reports;
  }
  EXPECT_GT(crops, 1);
  EXPECT_EQ(reports.front().stage, "vision");
  EXPECT_GT(prefill_reports, 2);

  // Stop after the first crop: no prefill, no tokens, and the engine serves the next request.
  int vision_calls = 0;
  ChatOptions stop = co;
  stop.generate.on_progress = [&](const Progress& p) {
    EXPECT_EQ(p.stage, "vision");
    return ++vision_calls < 2;
  };
  auto stopped = (*chunked)->Chat(request, stop);
  ASSERT_TRUE(stopped.ok()) << stopped.status().ToString();
  EXPECT_EQ(stopped->generation.finish_reason, "callback");
  EXPECT_TRUE(stopped->generation.ids.empty());
  EXPECT_EQ(vision_calls, 2);
  auto after = (*chunked)->Chat(request, co);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->generation.ids, want->generation.ids);
}

}  // namespace
}  // namespace lfm
