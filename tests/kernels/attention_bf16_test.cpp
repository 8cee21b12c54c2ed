// AttentionCausalBf16 (attention over a bf16 KV cache) against its reference twin, against the f32
// kernel on the same (widened) values, and the cache's f32 -> bf16 rounding on hand-made values.
// Runs once per ISA path (the isa_* reruns of test_kernels).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

#include "kernels/attention_test_util.h"
#include "kernels/ops.h"

namespace lfm {
namespace {

using testing::Rand;
using testing::ToBf16;
using testing::Widen;

uint16_t Bits(float f) {
  uint16_t b;
  F32ToBf16Rows(&f, 1, &b);
  return b;
}

TEST(AttentionBf16, RoundsToNearestEven) {
  EXPECT_EQ(Bits(1.0f), 0x3f80);
  EXPECT_EQ(Bits(-2.0f), 0xc000);
  // 1 + 2^-8 lies halfway between 1 (0x3f80, even) and 1 + 2^-7 (0x3f81): ties go to even.
  EXPECT_EQ(Bits(1.0f + 0x1p-8f), 0x3f80);
  // 1 + 3 * 2^-8 lies halfway between 0x3f81 and 0x3f82 (even): up.
  EXPECT_EQ(Bits(1.0f + 3 * 0x1p-8f), 0x3f82);
  // Just above the halfway point rounds up.
  EXPECT_EQ(Bits(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  EXPECT_EQ(Bits(INFINITY), 0x7f80);
  EXPECT_TRUE(std::isnan(Widen({Bits(NAN)})[0]));
}

// GQA group sizes 1, 2 (LFM2), 5 and 20; decode (n = 1: short and longer caches, key counts on and
// off the tiled kernels' key blocks of 16 / 64) and prefill spans; head dims on (16, 32, 64, 128) and
// off (24, 40: masked vector tails) whole vectors.
TEST(AttentionBf16, MatchesReference) {
  const std::vector<std::pair<int, int>> head_counts{{3, 3}, {16, 8}, {10, 2}, {40, 2}};
  const std::vector<std::pair<int64_t, int64_t>> spans{{0, 1}, {15, 1}, {31, 1}, {37, 1}, {5, 7}, {0, 33}};
  for (const auto& [heads, kv_heads] : head_counts) {
    for (int d : {16, 24, 32, 40, 64, 128}) {
      for (const auto& [p0, n] : spans) {
        const AttentionShape s{heads, kv_heads, d, 1.0f / std::sqrt(static_cast<float>(d))};
        const int64_t qd = int64_t{heads} * d, kvd = int64_t{kv_heads} * d;
        auto q = Rand(n * qd, 40 + heads);
        auto k = ToBf16(Rand((p0 + n) * kvd, 41)), v = ToBf16(Rand((p0 + n) * kvd, 42));
        std::vector<float> a(n * qd), b(n * qd);
        AttentionCausalBf16(q.data(), n, p0, k.data(), v.data(), s, a.data());
        AttentionCausalBf16Ref(q.data(), n, p0, k.data(), v.data(), s, b.data());
        SCOPED_TRACE(::testing::Message() << heads << "/" << kv_heads << " heads, d " << d << ", p0 " << p0 << ", n " << n);
        for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5 * (1 + std::fabs(b[i]))) << "at " << i;
      }
    }
  }
}

// Widening bf16 is exact and each ISA's bf16 kernel runs the same operations in the same order as its
// f32 kernel, so on the widened values the two agree bit for bit: the bf16 cache changes the stored
// values, nothing else.
TEST(AttentionBf16, EqualsF32KernelOnWidenedValues) {
  for (int d : {24, 64}) {
    const AttentionShape s{16, 8, d, 1.0f / std::sqrt(static_cast<float>(d))};
    const int64_t p0 = 20, n = 3, qd = int64_t{16} * d, kvd = int64_t{8} * d;
    auto q = Rand(n * qd, 7);
    auto kb = ToBf16(Rand((p0 + n) * kvd, 8)), vb = ToBf16(Rand((p0 + n) * kvd, 9));
    auto kf = Widen(kb), vf = Widen(vb);
    std::vector<float> a(n * qd), b(n * qd);
    AttentionCausalBf16(q.data(), n, p0, kb.data(), vb.data(), s, a.data());
    AttentionCausal(q.data(), n, p0, kf.data(), vf.data(), s, b.data());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(a[i], b[i]) << "d " << d << " at " << i;
  }
}

// The first position attends only to itself: the output is its (bf16) value vector, exactly.
TEST(AttentionBf16, FirstPositionReturnsItsValue) {
  const AttentionShape s{4, 2, 16, 0.25f};
  auto q = Rand(64, 1);
  auto k = ToBf16(Rand(32, 2)), v = ToBf16(Rand(32, 3));
  const auto vf = Widen(v);
  std::vector<float> o(64);
  AttentionCausalBf16(q.data(), 1, 0, k.data(), v.data(), s, o.data());
  for (int h = 0; h < 4; ++h)
    for (int i = 0; i < 16; ++i) EXPECT_NEAR(o[h * 16 + i], vf[(h / 2) * 16 + i], 1e-6);
}

}  // namespace
}  // namespace lfm
