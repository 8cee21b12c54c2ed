// The tiled causal attention (prefill chunks of >= 32 queries on ISAs that have it) against the
// reference twin, called directly with small key chunks so that a query block's online-softmax state
// is carried across several chunks, with chunk edges inside and on the 64-key blocks, and over an f32
// and a bf16 KV cache. AttentionCausal itself takes this kernel from 32 queries on (ops_test.cpp,
// real_size_test.cpp cover that path at the usual sizes).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/attention_test_util.h"
#include "kernels/ops.h"
#include "kernels/ops_impl.h"

namespace lfm {
namespace {

using testing::Rand;
using testing::ToBf16;

struct Case {
  int heads, kv_heads, d;
  int64_t p0, n, key_chunk;
};

TEST(AttentionTiled, MatchesReferenceAcrossKeyChunks) {
  const OpsKernels& k = ActiveOpsKernels();
  if (!k.attention_causal_tiled) GTEST_SKIP() << "no tiled causal attention kernel on " << IsaName(OpsIsa());
  const Case cases[] = {
      {16, 8, 64, 0, 100, 2048},  // one chunk, a partial last query block
      {16, 8, 64, 0, 100, 64},    // a chunk per key block
      {16, 8, 64, 37, 70, 50},    // chunk edges inside key blocks and query blocks
      {4, 4, 24, 5, 33, 16},      // head_dim off the 16-lane vectors, MHA
      {10, 2, 128, 130, 64, 96},  // group of 5, wide heads, prefill continuing after a long prefix
      {3, 1, 16, 0, 32, 1},       // one key per chunk
  };
  for (const Case& c : cases) {
    const AttentionShape s{c.heads, c.kv_heads, c.d, 1.0f / std::sqrt(static_cast<float>(c.d))};
    const int64_t qd = int64_t{c.heads} * c.d, kvd = int64_t{c.kv_heads} * c.d, len = c.p0 + c.n;
    const auto q = Rand(c.n * qd, 1), kf = Rand(len * kvd, 2), vf = Rand(len * kvd, 3);
    SCOPED_TRACE(::testing::Message() << c.heads << "/" << c.kv_heads << " heads, d " << c.d << ", p0 " << c.p0 << ", n "
                                    << c.n << ", key chunk " << c.key_chunk);
    std::vector<float> got(c.n * qd, NAN), ref(c.n * qd);
    k.attention_causal_tiled(q.data(), c.n, c.p0, kf.data(), vf.data(), s, got.data(), c.key_chunk);
    AttentionCausalRef(q.data(), c.n, c.p0, kf.data(), vf.data(), s, ref.data());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], ref[i], 1e-5 * (1 + std::fabs(ref[i]))) << "at " << i;

    const auto kb = ToBf16(kf), vb = ToBf16(vf);
    std::vector<float> got_b(c.n * qd, NAN), ref_b(c.n * qd);
    k.attention_causal_tiled_bf16(q.data(), c.n, c.p0, kb.data(), vb.data(), s, got_b.data(), c.key_chunk);
    AttentionCausalBf16Ref(q.data(), c.n, c.p0, kb.data(), vb.data(), s, ref_b.data());
    for (size_t i = 0; i < got_b.size(); ++i) {
      ASSERT_NEAR(got_b[i], ref_b[i], 1e-5 * (1 + std::fabs(ref_b[i]))) << "bf16 at " << i;
    }
  }
}

// A query sees no later position: changing keys and values after it leaves its output unchanged
// bit for bit (the mask inside the diagonal key blocks, not only the block bounds).
TEST(AttentionTiled, IgnoresLaterPositions) {
  const OpsKernels& k = ActiveOpsKernels();
  if (!k.attention_causal_tiled) GTEST_SKIP() << "no tiled causal attention kernel on " << IsaName(OpsIsa());
  const AttentionShape s{4, 2, 64, 0.125f};
  const int64_t n = 80, p0 = 10, qd = 4 * 64, kvd = 2 * 64, len = p0 + n;
  const auto q = Rand(n * qd, 4);
  auto kf = Rand(len * kvd, 5), vf = Rand(len * kvd, 6);
  std::vector<float> a(n * qd), b(n * qd);
  k.attention_causal_tiled(q.data(), n, p0, kf.data(), vf.data(), s, a.data(), 2048);
  const int64_t cut = p0 + 41;  // positions after query 41 change
  for (int64_t i = (cut + 1) * kvd; i < len * kvd; ++i) kf[i] = 50.0f, vf[i] = -1e6f;
  k.attention_causal_tiled(q.data(), n, p0, kf.data(), vf.data(), s, b.data(), 2048);
  for (int64_t i = 0; i < 42 * qd; ++i) ASSERT_EQ(a[i], b[i]) << "query " << i / qd;
  EXPECT_NE(a[42 * qd], b[42 * qd]);
}

// A token's output has the same bits however the tokens are split into calls (a whole prefill, a
// prefix-cache hit continued by a short call, decode one token at a time): the engine's prefix cache
// and micro-batching rely on it. Splits cross the few-query / packed-prefill boundary (32 queries)
// and the 64-key blocks; GQA groups 1, 2 and 5; f32 and bf16 caches.
TEST(AttentionTiled, SameBitsHoweverTheTokensAreSplit) {
  for (const auto& [heads, kv_heads, d] : {std::tuple{16, 8, 64}, std::tuple{4, 4, 24}, std::tuple{10, 2, 32}}) {
    const AttentionShape s{heads, kv_heads, d, 1.0f / std::sqrt(static_cast<float>(d))};
    const int64_t n = 150, qd = int64_t{heads} * d, kvd = int64_t{kv_heads} * d;
    const auto q = Rand(n * qd, 7), kf = Rand(n * kvd, 8), vf = Rand(n * kvd, 9);
    const auto kb = ToBf16(kf), vb = ToBf16(vf);
    std::vector<float> whole(n * qd), whole_b(n * qd);
    AttentionCausal(q.data(), n, 0, kf.data(), vf.data(), s, whole.data());
    AttentionCausalBf16(q.data(), n, 0, kb.data(), vb.data(), s, whole_b.data());
    for (const std::vector<int64_t>& cuts : {std::vector<int64_t>{1, 31, 32, 86}, std::vector<int64_t>{63, 1, 1, 85},
                                             std::vector<int64_t>{100, 50}}) {
      std::vector<float> split(n * qd), split_b(n * qd);
      int64_t p0 = 0;
      for (int64_t len : cuts) {
        AttentionCausal(q.data() + p0 * qd, len, p0, kf.data(), vf.data(), s, split.data() + p0 * qd);
        AttentionCausalBf16(q.data() + p0 * qd, len, p0, kb.data(), vb.data(), s, split_b.data() + p0 * qd);
        p0 += len;
      }
      ASSERT_EQ(p0, n);
      for (int64_t i = 0; i < n * qd; ++i) {
        ASSERT_EQ(split[i], whole[i]) << heads << "/" << kv_heads << " d " << d << ": query " << i / qd << " on "
                                      << IsaName(OpsIsa());
        ASSERT_EQ(split_b[i], whole_b[i]) << "bf16 " << heads << "/" << kv_heads << " d " << d << ": query " << i / qd;
      }
    }
  }
}

}  // namespace
}  // namespace lfm
