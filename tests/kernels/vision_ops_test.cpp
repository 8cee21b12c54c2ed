// vision_ops fast paths against their plain *Ref twins, on shapes that exercise SIMD tails
// (sizes not multiples of 16), the threaded paths, and the head sizes of the real towers (64, 72).
#include "kernels/vision_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "test_util.h"

namespace lfm {
namespace {

using testing::MaxAbsDiff;  // test_util.h

std::vector<float> Random(size_t n, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

TEST(VisionOpsTest, LayerNormMatchesRef) {
  for (int64_t d : {7, 16, 64, 100, 768}) {
    for (int64_t rows : {1, 3, 200}) {
      auto x = Random(rows * d, 2.0f, 1);
      for (size_t i = 0; i < x.size(); ++i) x[i] += 3.0f;  // a non-zero mean must be removed
      auto w = Random(d, 1.0f, 2), b = Random(d, 0.5f, 3);
      std::vector<float> y(x.size()), yr(x.size());
      LayerNormRows(x.data(), rows, d, w.data(), b.data(), 1e-6f, y.data());
      LayerNormRowsRef(x.data(), rows, d, w.data(), b.data(), 1e-6f, yr.data());
      EXPECT_LT(MaxAbsDiff(y, yr), 2e-5) << "d=" << d << " rows=" << rows;
      // In place gives the same result.
      LayerNormRows(x.data(), rows, d, w.data(), b.data(), 1e-6f, x.data());
      EXPECT_EQ(MaxAbsDiff(x, y), 0.0);
    }
  }
}

TEST(VisionOpsTest, LayerNormKnownValues) {
  // x = [1, 2, 3, 4]: mean 2.5, biased var 1.25.
  const float x[4] = {1, 2, 3, 4}, w[4] = {1, 1, 2, 1}, b[4] = {0, 0, 0, 1};
  float y[4];
  LayerNormRows(x, 1, 4, w, b, 0.0f, y);
  const float s = 1.0f / std::sqrt(1.25f);
  EXPECT_NEAR(y[0], -1.5f * s, 1e-6);
  EXPECT_NEAR(y[1], -0.5f * s, 1e-6);
  EXPECT_NEAR(y[2], 2 * 0.5f * s, 1e-6);
  EXPECT_NEAR(y[3], 1.5f * s + 1, 1e-6);
}

TEST(VisionOpsTest, GeluTanhMatchesRef) {
  for (int64_t d : {5, 128, 3072}) {
    const int64_t rows = 37;
    auto x = Random(rows * d, 3.0f, 4);
    x[0] = 0.0f, x[1] = 40.0f, x[2] = -40.0f, x[3] = 1e-6f;
    auto bias = Random(d, 0.1f, 5);
    auto a = x, r = x;
    BiasGeluTanhRows(a.data(), rows, d, bias.data());
    BiasGeluTanhRowsRef(r.data(), rows, d, bias.data());
    EXPECT_LT(MaxAbsDiff(a, r), 2e-6) << d;
    a = x, r = x;
    BiasGeluTanhRows(a.data(), rows, d, nullptr);
    BiasGeluTanhRowsRef(r.data(), rows, d, nullptr);
    EXPECT_LT(MaxAbsDiff(a, r), 2e-6) << d;
    EXPECT_EQ(a[0], 0.0f);
    EXPECT_NEAR(a[1], 40.0f, 1e-5);
    EXPECT_NEAR(a[2], 0.0f, 1e-6);
  }
}

TEST(VisionOpsTest, GeluErfMatchesRef) {
  for (int64_t d : {5, 128, 2048}) {
    const int64_t rows = 41;
    auto x = Random(rows * d, 3.0f, 6);
    x[0] = 0.0f, x[1] = 30.0f, x[2] = -30.0f;
    auto bias = Random(d, 0.1f, 7);
    auto a = x, r = x;
    BiasGeluErfRows(a.data(), rows, d, bias.data());
    BiasGeluErfRowsRef(r.data(), rows, d, bias.data());
    EXPECT_LT(MaxAbsDiff(a, r), 3e-6) << d;
  }
  // The erf and tanh flavours really differ (by ~1e-4 at z = 2).
  std::vector<float> z = {2.0f}, t = {2.0f};
  BiasGeluErfRows(z.data(), 1, 1, nullptr);
  BiasGeluTanhRows(t.data(), 1, 1, nullptr);
  EXPECT_NEAR(z[0], 1.9544997f, 2e-6);  // 0.5 * 2 * (1 + erf(sqrt 2))
  EXPECT_GT(std::fabs(z[0] - t[0]), 5e-5);
}

struct AttnCase {
  int heads, head_dim;
  int64_t n_q, n_k;
};

// Max abs error of the bf16 attention (q, k, v, p rounded to bf16) against the f64 reference for the
// inputs of these tests (normal, sigma 1 to 1.5): rounding v alone costs up to 2^-9 |v| ~ 0.01, the
// rounded scores the rest. Measured: 0.034 worst (the small shapes), 0.030 at tower size with some
// 4x keys; a wrong pairing or block edge errs by O(1).
constexpr double kBf16AttentionTol = 0.05;

TEST(VisionOpsTest, AttentionMatchesRef) {
  for (const AttnCase& c : {AttnCase{4, 16, 504, 504}, AttnCase{3, 72, 45, 37}, AttnCase{2, 64, 70, 70},
                            AttnCase{1, 8, 1, 1}, AttnCase{2, 24, 33, 100}}) {
    const int64_t hd = static_cast<int64_t>(c.heads) * c.head_dim;
    const int64_t ld = 3 * hd + 5;  // fused QKV rows with an odd stride
    const int64_t rows = std::max(c.n_q, c.n_k);
    auto qkv = Random(rows * ld, 1.5f, 8);
    BidirectionalAttentionShape s{c.heads, c.head_dim, 1.0f / std::sqrt(static_cast<float>(c.head_dim))};
    const int64_t ldo = hd + 3;
    std::vector<float> o(c.n_q * ldo, -7.0f), r(c.n_q * ldo, -7.0f);
    AttentionBidirectional(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, c.n_q, c.n_k, s, o.data(), ldo);
    AttentionBidirectionalRef(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, c.n_q, c.n_k, s, r.data(),
                              ldo);
    EXPECT_LT(MaxAbsDiff(o, r), 2e-5) << c.heads << "x" << c.head_dim << " " << c.n_q << "/" << c.n_k;
    // Output columns past n_heads*head_dim are untouched.
    for (int64_t t = 0; t < c.n_q; ++t) EXPECT_EQ(o[t * ldo + hd], -7.0f);
    // The bf16 variant where the CPU has it (else the same f32 path again).
    s.bf16 = true;
    std::vector<float> b(c.n_q * ldo, -7.0f);
    AttentionBidirectional(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, c.n_q, c.n_k, s, b.data(), ldo);
    EXPECT_LT(MaxAbsDiff(b, r), VisionAttentionUsesBf16() && c.head_dim % 2 == 0 ? kBf16AttentionTol : 2e-5)
        << "bf16 " << c.heads << "x" << c.head_dim << " " << c.n_q << "/" << c.n_k;
    for (int64_t t = 0; t < c.n_q; ++t) EXPECT_EQ(b[t * ldo + hd], -7.0f);
  }
}

// The real tower's shape (12 heads x 64, 1024 patches of a 512x512 tile), with all keys valid and with
// 1, 17, 255 and 1000 valid keys of 1024 (a padded crop): key counts that end a key block anywhere.
// The f64 reference is run on a sample of query rows (first, last and a stride), each on its own.
TEST(VisionOpsTest, AttentionMatchesRefAtTowerSize) {
  const int H = 12, d = 64;
  const int64_t n = 1024, hd = H * d, ld = 3 * hd;
  auto qkv = Random(n * ld, 1.0f, 12);
  // Some large scores so that the online softmax has to rescale (the max moves between key blocks).
  for (int64_t t = 900; t < 910; ++t)
    for (int64_t i = hd; i < 2 * hd; ++i) qkv[t * ld + i] *= 4.0f;
  for (bool bf16 : {false, true}) {
  const BidirectionalAttentionShape s{H, d, 0.125f, bf16};
  const double tol = bf16 && VisionAttentionUsesBf16() ? kBf16AttentionTol : 2e-5;
  for (int64_t nk : {int64_t{1024}, int64_t{1}, int64_t{17}, int64_t{255}, int64_t{1000}}) {
    std::vector<float> o(n * hd);
    AttentionBidirectional(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, n, nk, s, o.data(), hd);
    double worst = 0;
    std::vector<float> r(hd);
    for (int64_t t = 0; t < n; t += (t < 40 || t > n - 40) ? 1 : 29) {
      const float* qt = qkv.data() + t * ld;
      AttentionBidirectionalRef(qt, qkv.data() + hd, qkv.data() + 2 * hd, ld, 1, nk, s, r.data(), hd);
      for (int64_t i = 0; i < hd; ++i) worst = std::max(worst, std::fabs(static_cast<double>(o[t * hd + i]) - r[i]));
    }
    EXPECT_LT(worst, tol) << "n_k=" << nk << " bf16=" << bf16;
    std::printf("tower-size attention n_k=%lld bf16=%d: max abs diff %.3g\n", static_cast<long long>(nk),
                bf16 && VisionAttentionUsesBf16(), worst);
    // With one key every query returns that key's value row (exactly in f32).
    if (nk == 1 && !(bf16 && VisionAttentionUsesBf16())) {
      EXPECT_EQ(o[5 * hd + 70], qkv[2 * hd + 70]);
    }
  }
  }
}

TEST(VisionOpsTest, AttentionIgnoresKeysPastNk) {
  // Changing rows at and after n_k (the padded patches) must not change anything, in f32 and bf16.
  const int H = 2, d = 16, n = 40, nk = 29;
  const int64_t ld = 3 * H * d;
  for (bool bf16 : {false, true}) {
    auto qkv = Random(n * ld, 1.0f, 9);
    BidirectionalAttentionShape s{H, d, 0.25f, bf16};
    std::vector<float> a(n * H * d), b(n * H * d);
    AttentionBidirectional(qkv.data(), qkv.data() + H * d, qkv.data() + 2 * H * d, ld, n, nk, s, a.data(), H * d);
    for (int64_t t = nk; t < n; ++t) {
      for (int64_t i = H * d; i < ld; ++i) qkv[t * ld + i] = 100.0f;
    }
    AttentionBidirectional(qkv.data(), qkv.data() + H * d, qkv.data() + 2 * H * d, ld, n, nk, s, b.data(), H * d);
    EXPECT_EQ(MaxAbsDiff(a, b), 0.0) << "bf16=" << bf16;
  }
}

}  // namespace
}  // namespace lfm
