// The decoder over hundreds of positions, where the KV cache outgrows its first allocation
// (HybridCache::Reserve: 64 positions, then doubling: 128, 256, 512, 1024) and attention spans
// hundreds of keys. Three ways to get the same logits must agree: one prefill of the whole
// sequence, a short prefill followed by one-token decodes, and the plain double-precision
// reference decoder (lfm2_reference.h), itself checked against llama.cpp's logits first.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>

#include "model/lfm2_config.h"
#include "model/lfm2_reference.h"
#include "model/lfm2_test_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::RelDiff;

const char* kTiny = "lfm2-synthetic/tiny-lfm2";

double RelDiffD(const float* a, const std::vector<double>& ref) {
  double mx = 0, diff = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    mx = std::max(mx, std::fabs(ref[i]));
    diff = std::max(diff, std::fabs(a[i] - ref[i]));
  }
  return diff / mx;
}

std::vector<int32_t> SeededIds(int n, int vocab, uint64_t seed) {
  std::vector<int32_t> ids(n);
  for (auto& id : ids) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<int32_t>((seed >> 33) % static_cast<uint64_t>(vocab));
  }
  ids[0] = 1;  // <|startoftext|>, as real prompts begin
  return ids;
}

struct Tiny {
  Lfm2Config config;
  std::unique_ptr<WeightStore> store;
  std::unique_ptr<Lfm2Model> model;
};

Tiny LoadTiny() {
  Tiny t;
  const std::string dir = testing::TestData(kTiny);
  auto c = LoadLfm2Config(dir + "/config.json");
  EXPECT_TRUE(c.ok());
  t.config = *c;
  auto s = WeightStore::OpenDirectory(dir);
  EXPECT_TRUE(s.ok());
  t.store = std::move(s).value();
  auto m = Lfm2Model::Load(dir);
  EXPECT_TRUE(m.ok());
  t.model = std::move(m).value();
  return t;
}

// The reference decoder against llama.cpp's prefill logits (ref-plain rows 0..10). The numpy
// re-implementation in the testdata's PROVENANCE.md agrees with them to 2.1e-4 of the row max.
TEST(Lfm2LongContext, ReferenceDecoderMatchesLlamaCpp) {
  Tiny t = LoadTiny();
  ASSERT_NE(t.model, nullptr);
  auto prompt = testing::ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-plain.ids.txt"))[0];
  ASSERT_EQ(prompt.size(), 11u);
  auto bytes = ReadFileToString(testing::TestData(std::string(kTiny) + "/ref-plain.logits.f32"));
  ASSERT_OK(bytes);
  const int V = t.config.vocab_size;
  std::vector<float> ref(bytes->size() / 4);
  std::memcpy(ref.data(), bytes->data(), ref.size() * 4);
  std::vector<int> at;
  for (int i = 0; i < 11; ++i) at.push_back(i);
  auto logits = testing::Lfm2Reference(t.config, *t.store).Logits(prompt, at);
  double worst = 0;
  for (int i = 0; i < 11; ++i) {
    // RelDiff(ours-as-float, llama.cpp): the reference's own error is the interesting one here.
    std::vector<float> f(logits[i].begin(), logits[i].end());
    const double rel = RelDiff(f.data(), ref.data() + static_cast<size_t>(i) * V, V);
    worst = std::max(worst, rel);
    EXPECT_LT(rel, 1e-3) << "position " << i;
  }
  std::printf("reference decoder vs llama.cpp: worst row %.3g\n", worst);
}

// 600 positions on the tiny model, fed in pieces: one-token decodes across each cache growth
// (64, 128, 256, 512 positions) and multi-token chunks between them (prefill with a cache already
// holding positions). Every row must equal the one-prefill row, and both the double-precision
// reference at positions on each side of every growth. Measured: decode/chunk vs one prefill
// 0 (the kernels sum in the same order for n = 1 and n > 1), f32 vs f64 reference 8.8e-7 of the
// row max over 6 layers and 600-key softmaxes. Tolerance 1e-5 for both: a row read from a stale or
// misplaced cache block, a wrong RoPE position or a conv state lost at a growth moves logits by
// far more than that.
TEST(Lfm2LongContext, DecodePastCacheGrowthMatchesPrefillAndReference) {
  Tiny t = LoadTiny();
  ASSERT_NE(t.model, nullptr);
  const int T = 600, V = t.config.vocab_size;
  const std::vector<int32_t> ids = SeededIds(T, V, 7);

  auto full_cache = t.model->NewCache();
  std::vector<float> full;
  ASSERT_TRUE(t.model->Forward(ids.data(), T, *full_cache, &full, true).ok());
  ASSERT_EQ(full.size(), static_cast<size_t>(T) * V);

  // Forward() calls: (first position, token count). Decodes run from 5 before to 5+ after each growth.
  std::vector<std::pair<int, int>> calls = {{0, 5}};
  int pos = 5;
  for (int growth : {64, 128, 256, 512}) {
    if (growth - 5 > pos) calls.emplace_back(pos, growth - 5 - pos), pos = growth - 5;
    for (; pos < growth + 6; ++pos) calls.emplace_back(pos, 1);
  }
  calls.emplace_back(pos, T - pos);
  const std::vector<int> at = {0, 4, 5, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 599};
  std::vector<std::vector<float>> split_at(T);
  auto cache = t.model->NewCache();
  std::vector<float> logits;
  double worst_split = 0;
  int decodes = 0;
  for (auto [first, n] : calls) {
    ASSERT_EQ(cache->n_past(), first);
    ASSERT_TRUE(t.model->Forward(&ids[first], n, *cache, &logits, true).ok());
    ASSERT_EQ(logits.size(), static_cast<size_t>(n) * V);
    decodes += n == 1;
    for (int i = 0; i < n; ++i) {
      const int p = first + i;
      const double rel = RelDiff(logits.data() + static_cast<size_t>(i) * V, full.data() + static_cast<size_t>(p) * V, V);
      worst_split = std::max(worst_split, rel);
      EXPECT_LT(rel, 1e-5) << "split run vs one prefill at position " << p << " (call of " << n << " tokens)";
      if (std::find(at.begin(), at.end(), p) != at.end())
        split_at[p].assign(logits.begin() + static_cast<size_t>(i) * V, logits.begin() + static_cast<size_t>(i + 1) * V);
    }
  }
  EXPECT_EQ(cache->n_past(), T);
  EXPECT_GE(decodes, 4 * 11);

  auto ref = testing::Lfm2Reference(t.config, *t.store).Logits(ids, at);
  double worst_ref = 0;
  for (size_t i = 0; i < at.size(); ++i) {
    const double a = RelDiffD(full.data() + static_cast<size_t>(at[i]) * V, ref[i]);
    const double b = RelDiffD(split_at[at[i]].data(), ref[i]);
    worst_ref = std::max({worst_ref, a, b});
    EXPECT_LT(a, 1e-5) << "prefill vs reference at position " << at[i];
    EXPECT_LT(b, 1e-5) << "split run vs reference at position " << at[i];
    EXPECT_EQ(testing::Argmax(full.data() + static_cast<size_t>(at[i]) * V, V),
              static_cast<int>(std::max_element(ref[i].begin(), ref[i].end()) - ref[i].begin()))
        << "position " << at[i];
  }
  std::printf("%d positions, %zu calls: split vs one prefill worst %.3g, vs f64 reference worst %.3g\n", T,
              calls.size(), worst_split, worst_ref);
}

}  // namespace
}  // namespace lfm
