// Every SIMD matmul path against the plain double-accumulating reference.
#include "kernels/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/convert.h"

namespace lfm {
namespace {

struct Case {
  int64_t rows, cols, n;
};

std::vector<uint8_t> RandomWeights(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::normal_distribution<float> nd(0, 0.5f);
  std::vector<float> f(cols);
  std::vector<uint8_t> w(DTypeBytes(t, cols) * rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : f) v = nd(rng);
    QuantizeRow(t, f.data(), w.data() + r * DTypeBytes(t, cols), cols);
  }
  return w;
}

void Check(DType t, const Case& c, bool threaded) {
  if (!DTypeRowOk(t, c.cols)) return;  // quantized rows are whole blocks; checked at load
  std::mt19937 rng(static_cast<uint32_t>(c.rows * 131 + c.cols * 7 + c.n));
  auto wbytes = RandomWeights(t, c.rows, c.cols, rng);
  TensorView w{t, {c.rows, c.cols}, wbytes.data(), "w"};
  std::normal_distribution<float> nd(0, 1);
  // ldx/ldy wider than the data to catch stride mistakes.
  const int64_t ldx = c.cols + 3, ldy = c.rows + 5;
  std::vector<float> x(c.n * ldx);
  for (auto& v : x) v = nd(rng);
  std::vector<float> ref(c.n * ldy, -7.0f), got(c.n * ldy, -7.0f);
  // With AVX512_BF16, bf16 weights meet activations rounded to bf16; the twin rounds them the same way.
  if (MatMulRoundsActivationsToBf16(t)) {
    MatMulRefBf16Activations(w, x.data(), c.n, ldx, ref.data(), ldy);
  } else {
    MatMulRef(w, x.data(), c.n, ldx, ref.data(), ldy);
  }
  if (threaded) {
    MatMul(w, x.data(), c.n, ldx, got.data(), ldy);
  } else {
    MatMulRows(w, x.data(), c.n, ldx, got.data(), ldy, 0, c.rows);
  }
  for (int64_t t2 = 0; t2 < c.n; ++t2) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float a = got[t2 * ldy + r], b = ref[t2 * ldy + r];
      if (r >= c.rows) {
        ASSERT_EQ(a, -7.0f) << "wrote past the output row";
        continue;
      }
      // f32 accumulation over `cols` products of magnitude ~0.5: error ~ sqrt(cols) * 2^-24 * scale.
      ASSERT_NEAR(a, b, 1e-5 * std::sqrt(static_cast<double>(c.cols)) * 4 + 1e-5)
          << DTypeName(t) << " rows=" << c.rows << " cols=" << c.cols << " n=" << c.n << " at t=" << t2
          << " r=" << r;
    }
  }
}

TEST(MatMul, MatchesReferenceForAllWeightTypesAndShapes) {
  const Case cases[] = {{1, 16, 1},   {7, 16, 1},   {8, 64, 1},    {37, 96, 1},  {64, 1024, 1},
                        {13, 64, 3},  {16, 160, 4}, {33, 128, 9},  {64, 64, 70}, {5, 32, 130},
                        {130, 256, 17}};
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    for (const auto& c : cases) {
      Check(t, c, false);
      Check(t, c, true);
    }
  }
}

TEST(MatMul, OddColumnCountsUseTheMaskedTail) {
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16}) {
    for (int64_t cols : {1, 5, 15, 17, 33, 100}) {
      Check(t, {9, cols, 1}, false);
      Check(t, {9, cols, 6}, true);
    }
  }
}

TEST(MatMul, GemvAndGemmAgreeBitForBit) {
  // Decode (n = 1) and prefill (n > 1) must give identical rows so that cached decoding equals
  // a single prefill exactly.
  std::mt19937 rng(3);
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    auto wb = RandomWeights(t, 50, 224, rng);
    TensorView w{t, {50, 224}, wb.data(), "w"};
    std::vector<float> x(11 * 224);
    std::normal_distribution<float> nd(0, 1);
    for (auto& v : x) v = nd(rng);
    std::vector<float> all(11 * 50), one(50);
    MatMul(w, x.data(), 11, all.data());
    for (int t2 = 0; t2 < 11; ++t2) {
      MatMul(w, x.data() + t2 * 224, 1, one.data());
      for (int r = 0; r < 50; ++r) ASSERT_EQ(one[r], all[t2 * 50 + r]) << DTypeName(t);
    }
  }
}

TEST(MatMul, ReportsSupport) {
  EXPECT_TRUE(MatMulSupports(DType::kBF16));
  EXPECT_FALSE(MatMulSupports(DType::kAuto));
}

}  // namespace
}  // namespace lfm

namespace lfm {
namespace {

TEST(MatMul, ManyEqualsSeparateCalls) {
  std::mt19937 rng(5);
  std::normal_distribution<float> nd(0, 1);
  for (int64_t n : {1, 7, 13}) {
    std::vector<std::vector<float>> ws = {std::vector<float>(37 * 48), std::vector<float>(16 * 48),
                                          std::vector<float>(5 * 48)};
    std::vector<TensorView> views;
    for (auto& w : ws) {
      for (auto& v : w) v = nd(rng);
      views.push_back(TensorView{DType::kF32, {static_cast<int64_t>(w.size() / 48), 48}, w.data(), "w"});
    }
    std::vector<float> x(n * 48);
    for (auto& v : x) v = nd(rng);
    std::vector<std::vector<float>> sep(3), many(3);
    std::vector<MatMulJob> jobs;
    for (int j = 0; j < 3; ++j) {
      sep[j].resize(n * views[j].rows());
      many[j].resize(n * views[j].rows());
      MatMul(views[j], x.data(), n, sep[j].data());
      jobs.push_back({&views[j], many[j].data(), views[j].rows()});
    }
    MatMulMany(jobs.data(), 3, x.data(), n, 48);
    for (int j = 0; j < 3; ++j) EXPECT_EQ(sep[j], many[j]) << j;
  }
}

}  // namespace
}  // namespace lfm
