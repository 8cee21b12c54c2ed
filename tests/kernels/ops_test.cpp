// Fast kernels against their *Ref twins, plus a few hand-computed values.
#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

namespace lfm {
namespace {

std::vector<float> Rand(size_t n, uint32_t seed, float sd = 1) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

void ExpectNear(const std::vector<float>& a, const std::vector<float>& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << "at " << i;
}

TEST(Ops, RmsNorm) {
  for (int n : {1, 16, 64, 100, 1024}) {
    auto x = Rand(n, n), w = Rand(n, n + 1);
    std::vector<float> a(n), b(n);
    RmsNorm(x.data(), w.data(), n, 1e-5f, a.data());
    RmsNormRef(x.data(), w.data(), n, 1e-5f, b.data());
    ExpectNear(a, b, 1e-5);
  }
  float x[2] = {3, 4}, w[2] = {1, 2}, y[2];
  RmsNormRef(x, w, 2, 0, y);  // rms = sqrt(12.5)
  EXPECT_NEAR(y[0], 3 / std::sqrt(12.5f), 1e-6);
  EXPECT_NEAR(y[1], 8 / std::sqrt(12.5f), 1e-6);
}

TEST(Ops, SwiGluAndSilu) {
  // The FFN width (4608), SIMD tails (1, 7, 15, 17, 300), a prefill-sized call split over the pool
  // (70001), and gates far into both saturated ends.
  for (int n : {1, 7, 15, 17, 300, 4608, 70001}) {
    auto g = Rand(n, 1, 3), u = Rand(n, 2);
    if (n >= 7) {
      g[0] = -120, g[1] = 120, g[2] = -88.5f, g[3] = 90, g[4] = 0, g[5] = -30, g[6] = 30;
    }
    std::vector<float> a(n), b(n);
    SwiGlu(g.data(), u.data(), n, a.data());
    SwiGluRef(g.data(), u.data(), n, b.data());
    SCOPED_TRACE(n);
    ExpectNear(a, b, 1e-6);
  }
  float z = 1, s;
  Silu(&z, 1, &s);
  EXPECT_NEAR(s, 1 / (1 + std::exp(-1.0)), 1e-7);
}

TEST(Ops, Softmax) {
  auto x = Rand(77, 5, 10);
  auto y = x;
  Softmax(x.data(), 77);
  SoftmaxRef(y.data(), 77);
  ExpectNear(x, y, 1e-5);
  double sum = 0;
  for (float v : x) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST(Ops, RopeNeoxRotatesHalves) {
  const int d = 8, half = 4, heads = 3;
  std::vector<float> inv(half);
  for (int i = 0; i < half; ++i) inv[i] = static_cast<float>(std::pow(1e6, -2.0 * i / d));
  std::vector<float> cs(d);
  RopeCosSin(5, inv.data(), half, cs.data(), cs.data() + half);
  EXPECT_NEAR(cs[0], std::cos(5.0), 1e-6);
  EXPECT_NEAR(cs[half], std::sin(5.0), 1e-6);
  auto x = Rand(heads * d, 9), y = x;
  RopeNeox(x.data(), heads, half, cs.data(), cs.data() + half);
  RopeNeoxRef(y.data(), heads, half, cs.data(), cs.data() + half);
  ExpectNear(x, y, 1e-6);
  // Position 0 is the identity; pairs are (i, i + d/2), not adjacent elements.
  std::vector<float> v = {1, 2, 3, 4, 5, 6, 7, 8}, c0(d);
  RopeCosSin(0, inv.data(), half, c0.data(), c0.data() + half);
  auto v0 = v;
  RopeNeox(v.data(), 1, half, c0.data(), c0.data() + half);
  EXPECT_EQ(v, v0);
  float c[4] = {0, 1, 1, 1}, s[4] = {1, 0, 0, 0};  // rotate pair (0, 4) by 90 degrees
  RopeNeoxRef(v.data(), 1, half, c, s);
  EXPECT_EQ(v[0], -5);
  EXPECT_EQ(v[4], 1);
}

TEST(Ops, CausalDepthwiseConvMatchesReferenceAcrossSplits) {
  const int64_t D = 20;
  const int L = 3;
  auto w = Rand(L * D, 11), v = Rand(9 * D, 12);
  // One call over 9 tokens == calls of 1, 2, 1 and 5 tokens carrying the state.
  std::vector<float> st_ref((L - 1) * D, 0), out_ref(9 * D);
  CausalDepthwiseConvRef(v.data(), 9, D, L, w.data(), st_ref.data(), out_ref.data());
  std::vector<float> st((L - 1) * D, 0), out(9 * D);
  int64_t t = 0;
  for (int64_t n : {1, 2, 1, 5}) {
    CausalDepthwiseConv(v.data() + t * D, n, D, L, w.data(), st.data(), out.data() + t * D);
    t += n;
  }
  ExpectNear(out, out_ref, 1e-5);
  ExpectNear(st, st_ref, 0);
  // Hand check channel 0 at t = 0 and t = 2: newest sample pairs with tap L-1.
  EXPECT_NEAR(out_ref[0], w[2 * D] * v[0], 1e-6);
  EXPECT_NEAR(out_ref[2 * D], w[0] * v[0] + w[D] * v[D] + w[2 * D] * v[2 * D], 1e-5);
}

TEST(Ops, AttentionMatchesReference) {
  AttentionShape s{4, 2, 16, 0.25f};
  for (int64_t p0 : {0, 3}) {
    for (int64_t n : {1, 5}) {
      auto q = Rand(n * 64, 20 + n), k = Rand((p0 + n) * 32, 21), v = Rand((p0 + n) * 32, 22);
      std::vector<float> a(n * 64), b(n * 64);
      AttentionCausal(q.data(), n, p0, k.data(), v.data(), s, a.data());
      AttentionCausalRef(q.data(), n, p0, k.data(), v.data(), s, b.data());
      ExpectNear(a, b, 1e-5);
    }
  }
  // The first position attends only to itself: output = its value vector.
  auto q = Rand(64, 1), k = Rand(32, 2), v = Rand(32, 3);
  std::vector<float> o(64);
  AttentionCausal(q.data(), 1, 0, k.data(), v.data(), s, o.data());
  for (int h = 0; h < 4; ++h)
    for (int i = 0; i < 16; ++i) EXPECT_NEAR(o[h * 16 + i], v[(h / 2) * 16 + i], 1e-6);
}

// GQA group sizes 1 (MHA), 2 (LFM2), 5 and 20, at decode (n = 1, short and longer caches, key counts
// on and off the tiled kernels' key blocks of 16 / 64) and prefill (33 queries: the packed path); head
// dims on (16, 32, 64, 128) and off (24) whole vectors.
TEST(Ops, AttentionPerGroupMatchesReference) {
  const std::vector<std::pair<int, int>> head_counts{{3, 3}, {16, 8}, {10, 2}, {40, 2}};
  const std::vector<std::pair<int64_t, int64_t>> spans{{0, 1}, {15, 1}, {31, 1}, {37, 1}, {5, 7}, {0, 33}};
  for (const auto& [heads, kv_heads] : head_counts) {
    for (int d : {16, 24, 32, 64, 128}) {
      for (const auto& [p0, n] : spans) {
        const AttentionShape s{heads, kv_heads, d, 1.0f / std::sqrt(static_cast<float>(d))};
        const int64_t qd = int64_t{heads} * d, kvd = int64_t{kv_heads} * d;
        auto q = Rand(n * qd, 30 + heads), k = Rand((p0 + n) * kvd, 31), v = Rand((p0 + n) * kvd, 32);
        std::vector<float> a(n * qd), b(n * qd);
        AttentionCausal(q.data(), n, p0, k.data(), v.data(), s, a.data());
        AttentionCausalRef(q.data(), n, p0, k.data(), v.data(), s, b.data());
        SCOPED_TRACE(testing::Message() << heads << "/" << kv_heads << " heads, d " << d << ", p0 " << p0 << ", n " << n);
        ExpectNear(a, b, 1e-5);
      }
    }
  }
}

TEST(Ops, DotAndAxpy) {
  for (int n : {1, 15, 16, 33, 64, 100}) {
    auto a = Rand(n, n), b = Rand(n, n + 50);
    double ref = 0;
    for (int i = 0; i < n; ++i) ref += static_cast<double>(a[i]) * b[i];
    EXPECT_NEAR(Dot(a.data(), b.data(), n), ref, 1e-4);
    auto y = b;
    Axpy(0.5f, a.data(), n, y.data());
    for (int i = 0; i < n; ++i) EXPECT_NEAR(y[i], b[i] + 0.5f * a[i], 1e-6);
  }
}

}  // namespace
}  // namespace lfm
