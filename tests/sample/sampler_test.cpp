#include "sample/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

namespace lfm {
namespace {

std::vector<float> Logits() { return {1.0f, 3.0f, -2.0f, 2.5f, 0.0f, 2.9f}; }

TEST(Sampler, GreedyIsArgmaxAndFirstMaxWins) {
  Sampler s(SamplingParams{.temperature = 0});
  auto l = Logits();
  EXPECT_EQ(s.Sample(l.data(), 6, {}), 1);
  std::vector<float> tie = {0, 5, 5, 1};
  EXPECT_EQ(s.Sample(tie.data(), 4, {}), 1);
}

TEST(Sampler, RepetitionPenaltyFollowsHfSemantics) {
  auto l = Logits();
  // Positive logits are divided, negative multiplied; repeated ids penalised once.
  ApplyRepetitionPenalty(l.data(), 6, {1, 2, 1, 1}, 2.0f, -1);
  EXPECT_FLOAT_EQ(l[1], 1.5f);
  EXPECT_FLOAT_EQ(l[2], -4.0f);
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  // With last_n = 1 only the last id counts.
  auto m = Logits();
  ApplyRepetitionPenalty(m.data(), 6, {3, 5}, 2.0f, 1);
  EXPECT_FLOAT_EQ(m[3], 2.5f);
  EXPECT_FLOAT_EQ(m[5], 1.45f);
  // Greedy with the penalty moves the choice off the repeated token.
  Sampler s(SamplingParams{.temperature = 0, .repetition_penalty = 2.0f});
  auto g = Logits();
  EXPECT_EQ(s.Sample(g.data(), 6, {1}), 5);
}

TEST(Sampler, MaskRemovesTokensAndEmptyMaskGivesMinusOne) {
  Sampler s(SamplingParams{.temperature = 0});
  uint32_t mask = (1u << 0) | (1u << 4);
  auto l = Logits();
  EXPECT_EQ(s.Sample(l.data(), 6, {}, &mask), 0);
  uint32_t none = 0;
  auto l2 = Logits();
  Sampler t(SamplingParams{.temperature = 1.0f, .seed = 3});
  EXPECT_EQ(t.Sample(l2.data(), 6, {}, &none), -1);
}

TEST(Sampler, SameSeedSameSequence) {
  SamplingParams p{.temperature = 1.0f, .seed = 42};
  Sampler a(p), b(p), c(SamplingParams{.temperature = 1.0f, .seed = 43});
  std::vector<int32_t> sa, sb, sc;
  for (int i = 0; i < 200; ++i) {
    auto l1 = Logits(), l2 = Logits(), l3 = Logits();
    sa.push_back(a.Sample(l1.data(), 6, {}));
    sb.push_back(b.Sample(l2.data(), 6, {}));
    sc.push_back(c.Sample(l3.data(), 6, {}));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Sampler, FrequenciesFollowSoftmaxAtTemperatureOne) {
  Sampler s(SamplingParams{.temperature = 1.0f, .seed = 7});
  const int kDraws = 40000;
  std::map<int, int> counts;
  for (int i = 0; i < kDraws; ++i) {
    auto l = Logits();
    counts[s.Sample(l.data(), 6, {})]++;
  }
  auto l = Logits();
  double z = 0;
  for (float v : l) z += std::exp(v);
  for (int i = 0; i < 6; ++i) {
    double p = std::exp(l[i]) / z;
    double sd = std::sqrt(p * (1 - p) / kDraws);
    EXPECT_NEAR(counts[i] / double(kDraws), p, 5 * sd + 1e-4) << "token " << i;
  }
}

TEST(Sampler, TopKTopPMinPRestrictTheSupport) {
  auto support = [](SamplingParams p) {
    Sampler s(p);
    std::set<int> seen;
    for (int i = 0; i < 3000; ++i) {
      auto l = Logits();
      seen.insert(s.Sample(l.data(), 6, {}));
    }
    return seen;
  };
  EXPECT_EQ(support({.temperature = 1.0f, .top_k = 2, .seed = 1}), (std::set<int>{1, 5}));
  EXPECT_EQ(support({.temperature = 1.0f, .top_k = 1, .seed = 1}), (std::set<int>{1}));
  // probs (T=1): 3.0 -> .366, 2.9 -> .331, 2.5 -> .222, 1.0 -> .050 ... ; top_p 0.6 keeps {1, 5}.
  EXPECT_EQ(support({.temperature = 1.0f, .top_p = 0.6f, .seed = 1}), (std::set<int>{1, 5}));
  // min_p 0.5: keep p >= 0.5 * p_max -> exp(l - 3) >= 0.5 -> l >= 3 - ln 2 = 2.307 -> {1, 5, 3}.
  EXPECT_EQ(support({.temperature = 1.0f, .min_p = 0.5f, .seed = 1}), (std::set<int>{1, 5, 3}));
  // Low temperature sharpens: at T = 0.1, min_p 0.15 keeps 2.9 (exp(-1) = .37) but not 2.5 (exp(-5)).
  EXPECT_EQ(support({.temperature = 0.1f, .min_p = 0.15f, .seed = 1}), (std::set<int>{1, 5}));
}

TEST(Sampler, ValidateNamesTheField) {
  EXPECT_TRUE(SamplingParams{}.Validate().ok());
  auto st = SamplingParams{.top_p = 1.5f}.Validate();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("top_p"), std::string::npos);
  EXPECT_FALSE(SamplingParams{.top_k = -1}.Validate().ok());
  EXPECT_FALSE(SamplingParams{.repetition_penalty = 0}.Validate().ok());
}

}  // namespace
}  // namespace lfm
