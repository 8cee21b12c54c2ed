// The engine's shared caches (lfm/engine.h CacheOptions): prefix reuse restores a decoder snapshot
// and prefills only the new tokens, with exactly the outputs of a full prefill (compared with an
// engine whose caches are off); an image sent twice goes through the vision tower once; both stay
// within their byte budgets.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "lfm/chat.h"
#include "engine/engine_test_util.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::Greedy;
using testing::Ids;

std::unique_ptr<Engine> Load(const std::string& rel, int ubatch = 512, bool caches = false) {
  LoadOptions lo;
  lo.threads = 2;
  lo.max_context = 2048;
  lo.ubatch = ubatch;
  auto e = Engine::Load(testing::TestData(rel), lo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (!e.ok()) return nullptr;
  if (caches) (*e)->SetCacheOptions(CacheOptions{64u << 20, 64u << 20});
  return std::move(e).value();
}

// A cached run must be indistinguishable from the cache-off engine's: the same prompt logits (bit
// for bit) and the same reply.
void ExpectSameAsCacheOff(const Generation& got, const Generation& want) {
  EXPECT_EQ(got.prompt_logits, want.prompt_logits);
  EXPECT_EQ(got.ids, want.ids);
}

// Turn 2 of a token-level conversation (turn 1's prompt + reply + new tokens) restores the snapshot
// taken at the end of turn 1's reply and prefills only the new tokens; its prompt logits and reply
// are bit-identical to a full prefill. Small ubatch, so the cached and the full path chunk differently.
TEST(PrefixCache, SecondTurnPrefillsOnlyNewTokensBitExact) {
  for (int ubatch : {512, 5}) {
    SCOPED_TRACE("ubatch " + std::to_string(ubatch));
    auto cached = Load("lfm2-synthetic/tiny-lfm2", ubatch, true);
    auto plain = Load("lfm2-synthetic/tiny-lfm2", ubatch, false);
    ASSERT_TRUE(cached && plain);
    const int vocab = cached->info().vocab_size;
    std::vector<int32_t> turn1 = Ids(37, vocab, 7);
    auto g1 = cached->GenerateFromIds(turn1, Greedy(9));
    ASSERT_OK(g1);
    EXPECT_EQ(g1->timings.cached_prompt_tokens, 0);
    std::vector<int32_t> turn2 = turn1;
    turn2.insert(turn2.end(), g1->ids.begin(), g1->ids.end());
    const size_t reused = turn2.size() - 1;  // the reply's last token was sampled, never run
    const std::vector<int32_t> fresh = Ids(23, vocab, 99);
    turn2.insert(turn2.end(), fresh.begin(), fresh.end());

    auto want = plain->GenerateFromIds(turn2, Greedy(12));
    auto got = cached->GenerateFromIds(turn2, Greedy(12));
    ASSERT_OK(want);
    ASSERT_OK(got);
    EXPECT_EQ(got->timings.prompt_tokens, static_cast<int>(turn2.size()));
    EXPECT_EQ(got->timings.cached_prompt_tokens, static_cast<int>(reused));
    EXPECT_EQ(want->timings.cached_prompt_tokens, 0);
    ExpectSameAsCacheOff(*got, *want);
    const CacheStats st = cached->cache_stats();
    EXPECT_EQ(st.prefix_hits, 1u);
    EXPECT_EQ(st.prefix_tokens_reused, reused);
    EXPECT_GT(st.prefix_bytes, 0u);
    EXPECT_LE(st.prefix_bytes, st.prefix_max_bytes);
    EXPECT_EQ(plain->cache_stats().prefix_entries, 0u);
  }
}

// A request that shares only the system prompt starts from the snapshot taken where the last message
// began; outputs are those of the cache-off engine.
TEST(PrefixCache, SameSystemPromptReusesTheSystemPart) {
  auto cached = Load("lfm2-synthetic/tiny-lfm2", 512, true);
  auto plain = Load("lfm2-synthetic/tiny-lfm2", 512, false);
  ASSERT_TRUE(cached && plain);
  const std::string sys = R"({"role": "system", "content": "You are a terse assistant who answers in French, always."})";
  ChatOptions co;
  co.generate = Greedy(6);
  auto a = cached->Chat(R"({"messages": [)" + sys + R"(, {"role": "user", "content": "What is a cat?"}]})", co);
  ASSERT_OK(a);
  const std::string second = R"({"messages": [)" + sys + R"(, {"role": "user", "content": "Name three rivers."}]})";
  auto got = cached->Chat(second, co);
  auto want = plain->Chat(second, co);
  ASSERT_OK(got);
  ASSERT_OK(want);
  // The system turn's tokens: everything before the user turn's <|im_start|>.
  auto sys_only = cached->RenderChat(R"({"messages": [)" + sys + R"(], "add_generation_prompt": false})");
  ASSERT_OK(sys_only);
  auto sys_ids = cached->Tokenize(*sys_only, false);
  ASSERT_OK(sys_ids);
  EXPECT_EQ(got->generation.timings.cached_prompt_tokens, static_cast<int>(sys_ids->size()));
  ExpectSameAsCacheOff(got->generation, want->generation);
}

// Text plus an image: turn 2 repeats the image in its history. The image is encoded once (the second
// time its rows come from the image cache), the prefix through the image is restored, and the reply
// equals the cache-off engine's. The same text with another image does not reuse past the image.
TEST(PrefixCache, ImageSentTwiceIsEncodedOnceAndPrefixSpansIt) {
  auto cached = Load("lfm2-vl-synthetic/tiny-lfm2-vl", 512, true);
  auto plain = Load("lfm2-vl-synthetic/tiny-lfm2-vl", 512, false);
  ASSERT_TRUE(cached && plain);
  const std::string img = testing::TestData("images/camera.png");
  const std::string user1 = R"({"role": "user", "content": [{"type": "image_url", "image_url": {"url": ")" + img +
                            R"("}}, {"type": "text", "text": "Describe it."}]})";
  ChatOptions co;
  co.generate = Greedy(5);
  auto t1 = cached->Chat(R"({"messages": [)" + user1 + "]}", co);
  ASSERT_OK(t1);
  EXPECT_EQ(cached->cache_stats().image_misses, 1u);
  EXPECT_EQ(cached->cache_stats().image_hits, 0u);
  const std::string t2 = R"({"messages": [)" + user1 + R"(, {"role": "assistant", "content": "A camera man."},
      {"role": "user", "content": "What else?"}]})";
  auto got = cached->Chat(t2, co);
  auto want = plain->Chat(t2, co);
  ASSERT_OK(got);
  ASSERT_OK(want);
  const CacheStats st = cached->cache_stats();
  EXPECT_EQ(st.image_misses, 1u) << "the image was encoded again";
  EXPECT_EQ(st.image_hits, 1u);
  EXPECT_GT(st.image_bytes, 0u);
  // Turn 1's whole prompt (image included) is a prefix of turn 2's.
  EXPECT_EQ(got->generation.timings.cached_prompt_tokens, static_cast<int>(t1->generation.prompt_ids.size()));
  ExpectSameAsCacheOff(got->generation, want->generation);
  EXPECT_EQ(plain->cache_stats().image_misses, 0u);  // off: not counted

  // Same text, another picture: the key differs at the first image token.
  const std::string other = testing::TestData("images/chelsea.png");
  std::string t2b = t2;
  t2b.replace(t2b.find(img), img.size(), other);
  auto got_b = cached->Chat(t2b, co);
  auto want_b = plain->Chat(t2b, co);
  ASSERT_OK(got_b);
  ASSERT_OK(want_b);
  const auto& ids = got_b->generation.prompt_ids;
  const auto first_image = std::find(ids.begin(), ids.end(), *cached->Tokenize("<image>", false).value().begin());
  EXPECT_LE(got_b->generation.timings.cached_prompt_tokens, first_image - ids.begin());
  ExpectSameAsCacheOff(got_b->generation, want_b->generation);
}

// The same prompt again restores everything, logits included: no prefill, the same reply.
TEST(PrefixCache, IdenticalPromptRunsNoPrefill) {
  auto cached = Load("lfm2-synthetic/tiny-lfm2", 512, true);
  auto plain = Load("lfm2-synthetic/tiny-lfm2", 512, false);
  ASSERT_TRUE(cached && plain);
  const std::vector<int32_t> p = Ids(50, cached->info().vocab_size, 5);
  ASSERT_OK(cached->GenerateFromIds(p, Greedy(3)));
  auto got = cached->GenerateFromIds(p, Greedy(10));
  auto want = plain->GenerateFromIds(p, Greedy(10));
  ASSERT_OK(got);
  ASSERT_OK(want);
  EXPECT_EQ(got->timings.cached_prompt_tokens, 50);
  ExpectSameAsCacheOff(*got, *want);
}

// Threads sharing one cached engine (a common system prefix, then each its own turns) get exactly
// the cache-off outputs; labelled "engine", so CI runs it under ThreadSanitizer too.
TEST(PrefixCache, ConcurrentRequestsShareTheCacheExactly) {
  auto cached = Load("lfm2-synthetic/tiny-lfm2", 8, true);
  auto plain = Load("lfm2-synthetic/tiny-lfm2", 8, false);
  ASSERT_TRUE(cached && plain);
  const int vocab = cached->info().vocab_size;
  const std::vector<int32_t> shared = Ids(30, vocab, 3);
  ASSERT_OK(cached->GenerateFromIds(shared, Greedy(2)));
  constexpr int kThreads = 4;
  std::vector<std::vector<int32_t>> prompts(kThreads), got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    prompts[t] = shared;
    const auto own = Ids(5 + 3 * t, vocab, 50 + t);
    prompts[t].insert(prompts[t].end(), own.begin(), own.end());
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      for (int turn = 0; turn < 2; ++turn) {
        auto g = cached->GenerateFromIds(prompts[t], Greedy(4));
        if (!g.ok()) return;
        got[t].insert(got[t].end(), g->ids.begin(), g->ids.end());
      }
    });
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    auto want = plain->GenerateFromIds(prompts[t], Greedy(4));
    ASSERT_OK(want);
    std::vector<int32_t> twice = want->ids;
    twice.insert(twice.end(), want->ids.begin(), want->ids.end());
    EXPECT_EQ(got[t], twice) << "thread " << t;
  }
  EXPECT_GE(cached->cache_stats().prefix_hits, static_cast<uint64_t>(2 * kThreads));
}

// Budgets hold: a small prefix budget evicts (least recently used first) and never holds more than
// it allows; a budget of 0 empties the cache and turns it off.
TEST(PrefixCache, BoundedWithLruEviction) {
  auto e = Load("lfm2-synthetic/tiny-lfm2", 512, false);
  ASSERT_TRUE(e);
  const int vocab = e->info().vocab_size;
  // Measure one request's snapshots, then allow room for about three requests' worth.
  e->SetCacheOptions(CacheOptions{64u << 20, 0});
  ASSERT_OK(e->GenerateFromIds(Ids(40, vocab, 1), Greedy(2)));
  const size_t per_request = e->cache_stats().prefix_bytes;
  ASSERT_EQ(e->cache_stats().prefix_entries, 2u);  // end of prompt (with logits), end of reply
  const size_t budget = 3 * per_request + per_request / 2;
  e->SetCacheOptions(CacheOptions{budget, 0});
  for (uint32_t i = 0; i < 30; ++i) ASSERT_OK(e->GenerateFromIds(Ids(40, vocab, 100 + i), Greedy(2)));
  CacheStats st = e->cache_stats();
  EXPECT_GT(st.prefix_evictions, 0u);
  EXPECT_LE(st.prefix_bytes, budget);
  EXPECT_GE(st.prefix_entries, 6u);
  EXPECT_LE(st.prefix_entries, 7u);
  // The first prompt is gone (least recently used), the most recent one is still there.
  auto first = e->GenerateFromIds(Ids(40, vocab, 100), Greedy(1));
  ASSERT_OK(first);
  EXPECT_EQ(first->timings.cached_prompt_tokens, 0);
  auto last = e->GenerateFromIds(Ids(40, vocab, 129), Greedy(1));
  ASSERT_OK(last);
  EXPECT_EQ(last->timings.cached_prompt_tokens, 40);  // the whole prompt, with its logits
  e->SetCacheOptions(CacheOptions{0, 0});
  st = e->cache_stats();
  EXPECT_EQ(st.prefix_entries, 0u);
  EXPECT_EQ(st.prefix_bytes, 0u);
  auto off = e->GenerateFromIds(Ids(40, vocab, 129), Greedy(1));
  ASSERT_OK(off);
  EXPECT_EQ(off->timings.cached_prompt_tokens, 0);
}

}  // namespace
}  // namespace lfm
