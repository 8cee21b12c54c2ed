// Engine::Chat and Conversation::Send cut the reply's content at a stop string, like
// Generation::text, also when the stop string lies inside the last generated token.
#include <gtest/gtest.h>

#include "lfm/chat.h"
#include "test_util.h"

namespace lfm {
namespace {

TEST(ChatStop, ContentIsCutAtTheStopStringInsideAToken) {
  auto e = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const std::string request = R"({"messages":[{"role":"user","content":"Say something."}]})";
  ChatOptions opts;
  opts.generate.max_tokens = 30;
  SamplingParams sp;
  sp.temperature = 1.0f;
  sp.seed = 5;
  opts.generate.sampling = sp;
  auto full = (*e)->Chat(request, opts);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  ASSERT_GE(full->content.size(), 6u);
  int checked = 0;
  // Every 2-byte ASCII window of the first 12 bytes as the stop string: most lie inside a token.
  for (size_t i = 1; i + 2 <= std::min<size_t>(full->content.size(), 12); ++i) {
    const std::string stop = full->content.substr(i, 2);
    if (static_cast<unsigned char>(stop[0]) >= 0x80 || static_cast<unsigned char>(stop[1]) >= 0x80) continue;
    ChatOptions o = opts;
    o.generate.stop = {stop};
    auto cut = (*e)->Chat(request, o);
    ASSERT_TRUE(cut.ok()) << cut.status().ToString();
    const size_t first = full->content.find(stop);
    EXPECT_EQ(cut->generation.finish_reason, "stop");
    EXPECT_EQ(cut->content, full->content.substr(0, first)) << "stop " << stop;
    EXPECT_EQ(cut->content, cut->generation.text) << "stop " << stop;
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

}  // namespace
}  // namespace lfm
