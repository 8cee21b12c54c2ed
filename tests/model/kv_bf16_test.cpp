// The bf16 KV cache (ModelLoadOptions::kv_type = kBF16) on the tiny random model against the f32
// cache, whose logits tests/model/lfm2_model_test.cpp checks against llama.cpp's:
// - logits of a prefill and of decode steps within kBf16KvTol of the f32-cache run (relative to each
//   row's max |logit|). Why that bound: keys and values change by at most 2^-9 relative (half a bf16
//   ulp) when stored; attention outputs then move by ~2^-9 of the value scale, and the few attention
//   layers pass that through the residual stream into the logits. Measured worst on this model:
//   8.9e-4 (printed as worst_rel_diff); the bound leaves ~3x margin.
// - greedy ids over a short run identical to the f32 cache's;
// - snapshots (Clone / RestoreFrom, which the prefix cache uses) of a bf16 cache restore bit-exactly
//   and refuse a cache of the other type; the batched decode pass equals one-sequence passes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <vector>

#include "lfm2_test_util.h"
#include "model/lfm2_model.h"
#include "test_util.h"

namespace lfm {
namespace {

constexpr double kBf16KvTol = 3e-3;
const char* kTiny = "lfm2-synthetic/tiny-lfm2";

std::unique_ptr<Lfm2Model> LoadTiny(KvType kv) {
  ModelLoadOptions o;
  o.kv_type = kv;
  auto m = Lfm2Model::Load(testing::TestData(kTiny), o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

TEST(KvBf16, CacheStoresBf16AndHalvesKvBytes) {
  auto f = LoadTiny(KvType::kF32), b = LoadTiny(KvType::kBF16);
  ASSERT_TRUE(f && b);
  auto cf = f->NewCache(), cb = b->NewCache();
  EXPECT_EQ(cf->kv_type(), KvType::kF32);
  EXPECT_EQ(cb->kv_type(), KvType::kBF16);
  const auto ids = testing::PseudoRandomIds(40, f->config().vocab_size, 3);
  std::vector<float> logits;
  ASSERT_TRUE(f->Forward(ids.data(), 40, *cf, &logits).ok());
  ASSERT_TRUE(b->Forward(ids.data(), 40, *cb, &logits).ok());
  EXPECT_EQ(cf->keys_bf16(2), nullptr);
  EXPECT_EQ(cb->keys(2), nullptr);
  // Snapshots hold exactly the 40 positions: conv states (f32 either way) + keys/values.
  auto sf = cf->Clone(), sb = cb->Clone();
  const Lfm2Config& c = f->config();
  const size_t kv_elems = static_cast<size_t>(c.num_attention_layers()) * 2 * 40 * c.num_key_value_heads * c.head_dim;
  EXPECT_EQ(sf->state_bytes() - sb->state_bytes(), kv_elems * 2);
}

TEST(KvBf16, LogitsWithinToleranceOfF32Cache) {
  auto f = LoadTiny(KvType::kF32), b = LoadTiny(KvType::kBF16);
  ASSERT_TRUE(f && b);
  auto lines = testing::ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-plain.ids.txt"));
  ASSERT_EQ(lines.size(), 2u);
  // A longer prompt too: more positions for the rounding to accumulate over.
  std::vector<int32_t> longer = lines[0];
  const auto extra = testing::PseudoRandomIds(200, f->config().vocab_size, 11);
  longer.insert(longer.end(), extra.begin(), extra.end());
  const int V = f->config().vocab_size;
  double worst = 0;
  for (const auto& prompt : {lines[0], longer}) {
    const auto rf = testing::RunSequence(*f, prompt, lines[1]);
    const auto rb = testing::RunSequence(*b, prompt, lines[1]);
    ASSERT_EQ(rf.size(), rb.size());
    const size_t rows = rf.size() / V;
    for (size_t r = 0; r < rows; ++r) {
      const double rel = testing::RelDiff(rb.data() + r * V, rf.data() + r * V, V);
      worst = std::max(worst, rel);
      EXPECT_LT(rel, kBf16KvTol) << "prompt of " << prompt.size() << ", row " << r;
    }
  }
  // A bf16 cache is not an f32 cache: some logit must move (guards against the option being ignored).
  EXPECT_GT(worst, 0);
  std::printf("bf16 KV vs f32 KV, tiny model: worst row-relative logit difference %.3g\n", worst);
  RecordProperty("worst_rel_diff", std::to_string(worst));
}

TEST(KvBf16, GreedyIdsMatchF32Cache) {
  auto f = LoadTiny(KvType::kF32), b = LoadTiny(KvType::kBF16);
  ASSERT_TRUE(f && b);
  auto lines = testing::ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-plain.ids.txt"));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(testing::GreedyIds(*b, lines[0], 32), testing::GreedyIds(*f, lines[0], 32));
  const auto other = testing::PseudoRandomIds(50, f->config().vocab_size, 5);
  EXPECT_EQ(testing::GreedyIds(*b, other, 32), testing::GreedyIds(*f, other, 32));
}

TEST(KvBf16, SnapshotRestoresBitExactlyAndRefusesOtherType) {
  auto b = LoadTiny(KvType::kBF16);
  ASSERT_NE(b, nullptr);
  const int V = b->config().vocab_size;
  const auto prompt = testing::PseudoRandomIds(30, V, 7), more = testing::PseudoRandomIds(6, V, 8);
  auto cache = b->NewCache();
  std::vector<float> logits, first, second;
  ASSERT_TRUE(b->Forward(prompt.data(), 30, *cache, &logits).ok());
  auto snap = cache->Clone();
  ASSERT_TRUE(b->Forward(more.data(), 6, *cache, &first, true).ok());
  // Into the used cache and into a fresh one: both continue exactly as before.
  for (int fresh = 0; fresh < 2; ++fresh) {
    auto target = fresh ? b->NewCache() : std::move(cache);
    ASSERT_TRUE(target->RestoreFrom(*snap).ok());
    EXPECT_EQ(target->n_past(), 30);
    ASSERT_TRUE(b->Forward(more.data(), 6, *target, &second, true).ok());
    EXPECT_EQ(first, second) << (fresh ? "fresh cache" : "same cache");
    cache = std::move(target);
  }
  auto f = LoadTiny(KvType::kF32);
  ASSERT_NE(f, nullptr);
  Status st = f->NewCache()->RestoreFrom(*snap);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("bf16"), std::string::npos) << st.message();
}

TEST(KvBf16, BatchedDecodeEqualsSingleSequencePasses) {
  auto m = LoadTiny(KvType::kBF16);
  ASSERT_NE(m, nullptr);
  const int V = m->config().vocab_size;
  constexpr int kSeqs = 3;
  std::vector<std::unique_ptr<HybridCache>> batched, single;
  std::vector<int32_t> next(kSeqs);
  for (int s = 0; s < kSeqs; ++s) {
    const auto prompt = testing::PseudoRandomIds(4 + 9 * s, V, 20u + s);
    batched.push_back(m->NewCache());
    std::vector<float> logits;
    ASSERT_TRUE(m->Forward(prompt.data(), static_cast<int>(prompt.size()), *batched.back(), &logits).ok());
    single.push_back(batched.back()->Clone());
    next[s] = static_cast<int32_t>((s * 977 + 5) % V);
  }
  BatchScratch scratch;
  for (int step = 0; step < 4; ++step) {
    std::vector<HybridCache*> caches;
    for (auto& c : batched) caches.push_back(c.get());
    std::vector<float> got(static_cast<size_t>(kSeqs) * V);
    ASSERT_TRUE(m->ForwardBatch(next.data(), caches.data(), kSeqs, scratch, got.data()).ok());
    for (int s = 0; s < kSeqs; ++s) {
      std::vector<float> want;
      ASSERT_TRUE(m->Forward(&next[s], 1, *single[s], &want).ok());
      ASSERT_EQ(std::vector<float>(got.begin() + static_cast<ptrdiff_t>(s) * V,
                                   got.begin() + static_cast<ptrdiff_t>(s + 1) * V),
                want)
          << "sequence " << s << " step " << step;
      next[s] = static_cast<int32_t>((next[s] * 31 + step + 1) % V);
    }
  }
}

}  // namespace
}  // namespace lfm
