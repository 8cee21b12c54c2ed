// LoadOptions::kv_type through the engine: unknown values refused, the bf16 cache reported in
// ModelInfo, and the prefix cache (decoder snapshots) working on bf16 caches with exactly the outputs
// of a full prefill on a bf16 cache.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/engine_test_util.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::Greedy;
using testing::Ids;

Result<std::unique_ptr<Engine>> Load(const std::string& kv_type, bool caches = false) {
  LoadOptions lo;
  lo.threads = 2;
  lo.max_context = 2048;
  lo.kv_type = kv_type;
  auto e = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"), lo);
  if (e.ok() && caches) (*e)->SetCacheOptions(CacheOptions{64u << 20, 64u << 20});
  return e;
}

TEST(KvType, UnknownValueRefused) {
  for (const char* bad : {"f16", "BF16", "", "q8_0"}) {
    auto e = Load(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(e.status().message().find("kv_type must be f32 or bf16"), std::string::npos) << e.status().message();
  }
}

TEST(KvType, InfoReportsTypeAndBytesPerPosition) {
  auto f = Load("f32"), b = Load("bf16");
  ASSERT_OK(f);
  ASSERT_OK(b);
  EXPECT_EQ((*f)->info().kv_type, "f32");
  EXPECT_EQ((*b)->info().kv_type, "bf16");
  // Tiny model: 2 attention layers x (K + V) x 2 kv heads x head_dim 16 = 128 values per position.
  EXPECT_EQ((*f)->info().kv_bytes_per_position, 128 * 4);
  EXPECT_EQ((*b)->info().kv_bytes_per_position, 128 * 2);
}

// As PrefixCache.SecondTurnPrefillsOnlyNewTokensBitExact, on bf16 caches: the snapshot restored
// for turn 2 holds bf16 keys/values and the outputs equal a full prefill's.
TEST(KvType, PrefixCacheOnBf16CacheIsBitExact) {
  auto cached = Load("bf16", true), plain = Load("bf16");
  ASSERT_OK(cached);
  ASSERT_OK(plain);
  const int vocab = (*cached)->info().vocab_size;
  std::vector<int32_t> turn1 = Ids(37, vocab, 7);
  auto g1 = (*cached)->GenerateFromIds(turn1, Greedy(9));
  ASSERT_OK(g1);
  std::vector<int32_t> turn2 = turn1;
  turn2.insert(turn2.end(), g1->ids.begin(), g1->ids.end());
  const std::vector<int32_t> fresh = Ids(23, vocab, 99);
  turn2.insert(turn2.end(), fresh.begin(), fresh.end());
  auto want = (*plain)->GenerateFromIds(turn2, Greedy(12));
  auto got = (*cached)->GenerateFromIds(turn2, Greedy(12));
  ASSERT_OK(want);
  ASSERT_OK(got);
  EXPECT_EQ(got->timings.cached_prompt_tokens, static_cast<int>(turn2.size() - 1 - fresh.size()));
  EXPECT_EQ(want->timings.cached_prompt_tokens, 0);
  EXPECT_EQ(got->prompt_logits, want->prompt_logits);
  EXPECT_EQ(got->ids, want->ids);
}

}  // namespace
}  // namespace lfm
