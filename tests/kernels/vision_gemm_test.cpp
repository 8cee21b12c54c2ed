// The packed vision GEMM against its plain twin (same packed layout) and against MatMulRef on the
// original, unpacked weight (which checks the packing itself). Shapes hit every tail: outputs not a
// multiple of the 48-row panel, tokens not a multiple of the 8-token micro-tile or the 128-token
// block, K not a multiple of the K block.
#include "kernels/vision_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "kernels/matmul.h"
#include "tensor/convert.h"

namespace lfm {
namespace {

struct OwnedMatrix {
  std::vector<uint8_t> bytes;
  TensorView view;
};

OwnedMatrix MakeMatrix(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  OwnedMatrix m;
  m.bytes.resize(DTypeBytes(t, cols) * rows);
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, 0.1f);
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : row) v = nd(rng);
    QuantizeRow(t, row.data(), m.bytes.data() + r * DTypeBytes(t, cols), cols);
  }
  m.view = TensorView{t, {rows, cols}, m.bytes.data(), "w"};
  return m;
}

TEST(VisionGemmTest, MatchesRefAndUnpackedMatMul) {
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {
      {48, 16, 8}, {50, 37, 13}, {100, 300, 1}, {7, 64, 200}, {200, 300, 136}, {130, 600, 9},
      {437, 300, 1}};  // 9 whole panels + 5 rows: decode's groups of 4 panels and the rest
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0}) {
    for (auto [rows, cols, n] : shapes) {
      if (!DTypeRowOk(t, cols)) continue;
      const OwnedMatrix w = MakeMatrix(t, rows, cols, 3);
      auto packed = PackedGemmMatrix::Pack(w.view);
      ASSERT_TRUE(packed.ok()) << packed.status().ToString();
      EXPECT_EQ(packed->dtype(), t == DType::kBF16 ? DType::kBF16 : DType::kF32);
      EXPECT_EQ(packed->bf16_pairs(), t == DType::kBF16 && GemmPackedUsesBf16Dot());
      std::mt19937 rng(5);
      std::normal_distribution<float> nd(0, 1.0f);
      const int64_t ldx = cols + 3, ldy = rows + 5;
      std::vector<float> x(n * ldx), bias(rows);
      for (auto& v : x) v = nd(rng);
      for (auto& v : bias) v = nd(rng);
      std::vector<float> y(n * ldy, -9.0f), yr(n * ldy, -9.0f), ym(n * ldy, -9.0f);
      GemmPacked(*packed, x.data(), n, ldx, bias.data(), y.data(), ldy);
      GemmPackedRef(*packed, x.data(), n, ldx, bias.data(), yr.data(), ldy);
      // With AVX512_BF16 bf16 weights meet activations rounded to bf16: the unpacked twin does the same.
      if (packed->bf16_pairs()) {
        MatMulRefBf16Activations(w.view, x.data(), n, ldx, ym.data(), ldy);
      } else {
        MatMulRef(w.view, x.data(), n, ldx, ym.data(), ldy);
      }
      double d_ref = 0, d_mm = 0;
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t r = 0; r < rows; ++r) {
          d_ref = std::max(d_ref, std::fabs(double(y[i * ldy + r]) - yr[i * ldy + r]));
          d_mm = std::max(d_mm, std::fabs(double(y[i * ldy + r]) - (ym[i * ldy + r] + bias[r])));
        }
        for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(y[i * ldy + r], -9.0f) << "wrote past the outputs";
      }
      const double tol = 1e-5 * std::sqrt(static_cast<double>(cols)) + 1e-6;
      EXPECT_LT(d_ref, tol) << DTypeName(t) << " " << rows << "x" << cols << " n=" << n;
      EXPECT_LT(d_mm, tol) << DTypeName(t) << " " << rows << "x" << cols << " n=" << n;
    }
  }
}

// Decode (one token) reads whole panels in groups (kernels/vision_gemm_avx512.cpp GemvGroup), prefill
// in K blocks with register tiles of tokens: every token's outputs must still be the same bits, for
// both bf16 layouts and f32 panels, with and without a bias (a prompt re-read token by token must
// give the logits of the batched prefill).
TEST(VisionGemmTest, DecodeEqualsTheGemmRowBitForBit) {
  const int64_t rows = 48 * 9 + 5, cols = 1001, n = 13;
  for (DType t : {DType::kF32, DType::kBF16}) {
    for (bool pairs : {false, true}) {
      if (pairs && t != DType::kBF16) continue;
      const OwnedMatrix w = MakeMatrix(t, rows, cols, 21);
      auto packed = PackedGemmMatrix::PackStacked({w.view}, pairs);
      ASSERT_TRUE(packed.ok()) << packed.status().ToString();
      std::mt19937 rng(22);
      std::normal_distribution<float> nd(0, 1.0f);
      std::vector<float> x(n * cols), bias(rows);
      for (auto& v : x) v = nd(rng);
      for (auto& v : bias) v = nd(rng);
      for (const float* b : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
        std::vector<float> all(n * rows), one(rows);
        GemmPacked(*packed, x.data(), n, cols, b, all.data(), rows);
        for (int64_t tk = 0; tk < n; ++tk) {
          GemmPacked(*packed, x.data() + tk * cols, 1, cols, b, one.data(), rows);
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(one[r], all[tk * rows + r])
                << DTypeName(t) << (pairs ? " pairs" : " k-major") << (b ? " bias" : "") << " t=" << tk << " r=" << r;
          }
        }
      }
    }
  }
}

TEST(VisionGemmTest, NullBiasAndZeroTokens) {
  const OwnedMatrix w = MakeMatrix(DType::kF32, 60, 40, 4);
  auto packed = PackedGemmMatrix::Pack(w.view);
  ASSERT_TRUE(packed.ok());
  std::vector<float> x(3 * 40, 0.5f), y(3 * 60), yr(3 * 60);
  GemmPacked(*packed, x.data(), 3, 40, nullptr, y.data(), 60);
  GemmPackedRef(*packed, x.data(), 3, 40, nullptr, yr.data(), 60);
  for (size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], yr[i], 1e-5);
  GemmPacked(*packed, x.data(), 0, 40, nullptr, nullptr, 60);  // no work, no access
}

TEST(VisionGemmTest, StackedEqualsSeparate) {
  // q, k, v stacked into one packed matrix give the three products side by side.
  const OwnedMatrix a = MakeMatrix(DType::kBF16, 40, 64, 6), b = MakeMatrix(DType::kBF16, 40, 64, 7);
  auto stacked = PackedGemmMatrix::PackStacked({a.view, b.view});
  ASSERT_TRUE(stacked.ok()) << stacked.status().ToString();
  EXPECT_EQ(stacked->rows(), 80);
  auto pa = PackedGemmMatrix::Pack(a.view), pb = PackedGemmMatrix::Pack(b.view);
  ASSERT_TRUE(pa.ok() && pb.ok());
  std::vector<float> x(11 * 64);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  std::vector<float> ys(11 * 80), y2(11 * 80);
  GemmPacked(*stacked, x.data(), 11, 64, nullptr, ys.data(), 80);
  GemmPacked(*pa, x.data(), 11, 64, nullptr, y2.data(), 80);
  GemmPacked(*pb, x.data(), 11, 64, nullptr, y2.data() + 40, 80);
  EXPECT_EQ(ys, y2);
  const OwnedMatrix c = MakeMatrix(DType::kF32, 40, 32, 8);
  EXPECT_FALSE(PackedGemmMatrix::PackStacked({a.view, c.view}).ok());  // column counts differ
}

}  // namespace
}  // namespace lfm
