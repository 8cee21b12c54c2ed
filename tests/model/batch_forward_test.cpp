// Batched decode (Lfm2Model::ForwardBatch): one token for each of several sequences, each at its own
// position in its own cache, must give exactly the logits and cache state of one single-token
// Forward per sequence, for every weight dtype the decoder runs (the matrix kernels reduce each
// output the same way whatever the number of rows).
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "model/lfm2_model.h"
#include "test_util.h"

namespace lfm {
namespace {

class BatchForward : public ::testing::TestWithParam<DType> {};

TEST_P(BatchForward, EqualsOneForwardPerSequence) {
  ModelLoadOptions o;
  o.weight_dtype = GetParam();
  auto loaded = Lfm2Model::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"), o);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Lfm2Model& m = **loaded;
  const int V = m.config().vocab_size;
  // 7 sequences (more than one 6-token GEMM tile, plus a tail) with prompts of different lengths,
  // so every sequence sits at its own position and attends over its own history.
  constexpr int kSeqs = 7, kSteps = 5;
  std::vector<std::unique_ptr<HybridCache>> batched, single;
  std::vector<int32_t> next(kSeqs);
  for (int b = 0; b < kSeqs; ++b) {
    auto prompt = testing::PseudoRandomIds(3 + 5 * b, V, 77u + b);
    batched.push_back(m.NewCache());
    std::vector<float> logits;
    ASSERT_TRUE(m.Forward(prompt.data(), static_cast<int>(prompt.size()), *batched.back(), &logits).ok());
    single.push_back(batched.back()->Clone());
    next[b] = static_cast<int32_t>((b * 131 + 7) % V);
  }
  BatchScratch scratch;
  for (int step = 0; step < kSteps; ++step) {
    // Vary the batch: all sequences, then fewer (a sequence that left), in a shuffled cache order.
    const int count = step == 2 ? 3 : kSeqs;
    std::vector<HybridCache*> caches;
    std::vector<int32_t> ids;
    for (int i = 0; i < count; ++i) {
      const int b = (i * 3 + step) % kSeqs;
      caches.push_back(batched[b].get());
      ids.push_back(next[b]);
    }
    std::vector<float> got(static_cast<size_t>(count) * V);
    ASSERT_TRUE(m.ForwardBatch(ids.data(), caches.data(), count, scratch, got.data()).ok());
    for (int i = 0; i < count; ++i) {
      const int b = (i * 3 + step) % kSeqs;
      std::vector<float> want;
      ASSERT_TRUE(m.Forward(&next[b], 1, *single[b], &want).ok());
      ASSERT_EQ(std::vector<float>(got.begin() + static_cast<ptrdiff_t>(i) * V,
                                   got.begin() + static_cast<ptrdiff_t>(i + 1) * V),
                want)
          << "sequence " << b << " step " << step;
      EXPECT_EQ(batched[b]->n_past(), single[b]->n_past());
      next[b] = static_cast<int32_t>((next[b] * 31 + step + 1) % V);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, BatchForward,
                         ::testing::Values(DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

TEST(BatchForwardErrors, RefusesBadIdsSharedCachesAndFullContexts) {
  ModelLoadOptions o;
  o.max_context = 4;
  auto loaded = Lfm2Model::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"), o);
  ASSERT_TRUE(loaded.ok());
  Lfm2Model& m = **loaded;
  auto a = m.NewCache(), b = m.NewCache();
  BatchScratch scratch;
  std::vector<float> logits(2 * static_cast<size_t>(m.config().vocab_size));
  int32_t ids[2] = {1, m.config().vocab_size};
  HybridCache* two[2] = {a.get(), b.get()};
  EXPECT_EQ(m.ForwardBatch(ids, two, 2, scratch, logits.data()).code(), StatusCode::kInvalidArgument);
  ids[1] = 2;
  HybridCache* same[2] = {a.get(), a.get()};
  EXPECT_EQ(m.ForwardBatch(ids, same, 2, scratch, logits.data()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(a->n_past(), 0);  // nothing ran
  int32_t prompt[4] = {1, 2, 3, 4};
  ASSERT_TRUE(m.Forward(prompt, 4, *b, nullptr).ok());
  EXPECT_EQ(m.ForwardBatch(ids, two, 2, scratch, logits.data()).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(a->n_past(), 0);
}

}  // namespace
}  // namespace lfm
