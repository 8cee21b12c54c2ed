// Prefill in micro-batches (ModelLoadOptions::ubatch): the same logits as one pass, greedy ids
// equal to the llama.cpp reference, and scratch memory bounded by the micro-batch, not the prompt.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include "lfm2_test_util.h"
#include "model/lfm2_model.h"
#include "test_util.h"

namespace lfm {
namespace {

const char* kTiny = "lfm2-synthetic/tiny-lfm2";

std::unique_ptr<Lfm2Model> LoadWithUbatch(int ubatch) {
  ModelLoadOptions o;
  o.ubatch = ubatch;
  auto m = Lfm2Model::Load(testing::TestData(kTiny), o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

using testing::ReadIdLines;  // lfm2_test_util.h

// max |a - b| over the rows, relative to the max |b|.
double RelDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double mx = 0, diff = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    mx = std::max(mx, std::fabs(static_cast<double>(b[i])));
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
  }
  return diff / mx;
}

int Argmax(const std::vector<float>& x) { return static_cast<int>(std::max_element(x.begin(), x.end()) - x.begin()); }

TEST(ChunkedPrefill, Ubatch7GivesTheLogitsOfOnePass) {
  auto one = LoadWithUbatch(512), chunked = LoadWithUbatch(7);
  ASSERT_NE(one, nullptr);
  ASSERT_NE(chunked, nullptr);
  EXPECT_EQ(chunked->ubatch(), 7);
  // 100 positions: 14 full chunks and a partial one, attention and conv state crossing each boundary.
  auto ids = testing::PseudoRandomIds(100, one->config().vocab_size, 12345);
  auto c1 = one->NewCache(), c2 = chunked->NewCache();
  std::vector<float> a, b;
  ASSERT_TRUE(one->Forward(ids.data(), 100, *c1, &a, /*all_rows=*/true).ok());
  ASSERT_TRUE(chunked->Forward(ids.data(), 100, *c2, &b, /*all_rows=*/true).ok());
  ASSERT_EQ(a.size(), b.size());
  EXPECT_LT(RelDiff(b, a), 1e-5);
  EXPECT_EQ(c2->n_past(), 100);
  // Last-row logits (the prefill path) and the embeddings path (VL splicing) too.
  std::vector<float> last;
  auto c3 = chunked->NewCache();
  ASSERT_TRUE(chunked->Forward(ids.data(), 100, *c3, &last).ok());
  EXPECT_EQ(last, std::vector<float>(b.end() - one->config().vocab_size, b.end()));
  std::vector<float> emb(100 * static_cast<size_t>(one->config().hidden_size));
  chunked->EmbedTokens(ids.data(), 100, emb.data());
  auto c4 = chunked->NewCache();
  std::vector<float> from_emb;
  ASSERT_TRUE(chunked->ForwardEmbeddings(emb.data(), 100, *c4, &from_emb, true).ok());
  EXPECT_EQ(from_emb, b);
}

TEST(ChunkedPrefill, Ubatch7KeepsTheReferenceGreedyIds) {
  auto m = LoadWithUbatch(7);
  ASSERT_NE(m, nullptr);
  auto plain = ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-plain.ids.txt"));
  auto chat = ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-chat.ids.txt"));
  std::vector<int32_t> all;
  for (auto& l : chat) all.insert(all.end(), l.begin(), l.end());
  ASSERT_EQ(all.size(), 22u + 16u);
  const std::vector<int32_t> chat_prompt(all.begin(), all.begin() + 22), chat_ids(all.begin() + 22, all.end());
  for (const auto& [prompt, want] : {std::pair{plain[0], plain[1]}, std::pair{chat_prompt, chat_ids}}) {
    auto cache = m->NewCache();
    std::vector<float> logits;
    std::vector<int32_t> got;
    ASSERT_TRUE(m->Forward(prompt.data(), static_cast<int>(prompt.size()), *cache, &logits).ok());
    while (got.size() < want.size()) {
      int32_t id = Argmax(logits);
      got.push_back(id);
      ASSERT_TRUE(m->Forward(&id, 1, *cache, &logits).ok());
    }
    EXPECT_EQ(got, want);
  }
}

// The old one-pass prefill sized every scratch buffer by the prompt: 8x the bytes for 8x the tokens.
TEST(ChunkedPrefill, ScratchIsBoundedByUbatchNotPromptLength) {
  auto m = LoadWithUbatch(512);
  ASSERT_NE(m, nullptr);
  auto ids = testing::PseudoRandomIds(4096, m->config().vocab_size, 12345);
  std::vector<float> logits;
  auto short_cache = m->NewCache();
  ASSERT_TRUE(m->Forward(ids.data(), 512, *short_cache, &logits).ok());
  auto long_cache = m->NewCache();
  ASSERT_TRUE(m->Forward(ids.data(), 4096, *long_cache, &logits).ok());
  const size_t short_bytes = short_cache->scratch_bytes(), long_bytes = long_cache->scratch_bytes();
  std::printf("scratch bytes: 512-token prompt %zu, 4096-token prompt %zu\n", short_bytes, long_bytes);
  EXPECT_GT(short_bytes, 0u);
  EXPECT_EQ(long_bytes, short_bytes);
  // One pass of 4096 (ubatch 4096) is what the old code always did.
  auto one_pass = LoadWithUbatch(4096);
  ASSERT_NE(one_pass, nullptr);
  auto big_cache = one_pass->NewCache();
  ASSERT_TRUE(one_pass->Forward(ids.data(), 4096, *big_cache, &logits).ok());
  EXPECT_GE(big_cache->scratch_bytes(), 7 * short_bytes);
}

TEST(ChunkedPrefill, UbatchOutOfRangeIsRefused) {
  for (int bad : {0, -1, ModelLoadOptions::kMaxUbatch + 1}) {
    ModelLoadOptions o;
    o.ubatch = bad;
    auto m = Lfm2Model::Load(testing::TestData(kTiny), o);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(m.status().message().find("ubatch " + std::to_string(bad)), std::string::npos) << m.status().ToString();
  }
}

// A too-long input is refused before any chunk runs: the cache stays as it was.
TEST(ChunkedPrefill, OverlongInputLeavesTheCacheUntouched) {
  ModelLoadOptions o;
  o.ubatch = 4;
  o.max_context = 10;
  auto m = Lfm2Model::Load(testing::TestData(kTiny), o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto ids = testing::PseudoRandomIds(11, (*m)->config().vocab_size, 12345);
  auto cache = (*m)->NewCache();
  std::vector<float> logits;
  auto st = (*m)->Forward(ids.data(), 11, *cache, &logits);
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.ToString();
  EXPECT_EQ(cache->n_past(), 0);
}

}  // namespace
}  // namespace lfm
