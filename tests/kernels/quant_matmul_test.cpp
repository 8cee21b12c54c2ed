// The int8 (VNNI) matmul for q8_0 / q4_0 weights against its plain twin QuantMatMulRef, on whatever
// path this process runs (ctest runs this binary once per LFM_ISA: avx512 = the VNNI kernel when the
// CPU has it, avx2 = vpmaddubsw/vpmaddwd, scalar = the portable loops over the packed layout).
//
// Kernel vs reference: both do the same integer block dots and the same f32 operations in the same
// order (fma(float(dot), w_scale * x_scale, acc) over blocks), so they must agree EXACTLY.
// Against f32 math on the dequantized weights the only difference is the activation rounding: each
// x_k is replaced by q_k * d_b with |x_k - q_k d_b| <= d_b / 2 (d_b = amax_b / 127), so
//   |y_int8 - y_f32| <= sum_b (d_b / 2) sum_{k in b} |w_k|  (+ f32 summation error, allowed as
//   4 * sqrt(K) * u * sum_k |w_k x_k| as in real_size_test.cpp)
// -- a hard bound, checked per element; the typical error is far below it (random signs).
#include "kernels/quant_matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/matmul.h"
#include "kernels/quant_matmul_test_util.h"
#include "tensor/convert.h"

namespace lfm {
namespace {

constexpr double kU = 1.0 / (1 << 24);

using Mat = testing::QuantMat;

Mat MakeMat(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, 0.05f);
  Mat m;
  const size_t rb = DTypeBytes(t, cols);
  m.bytes.resize(rb * rows);
  m.dequant.resize(rows * cols);
  std::vector<float> f(cols);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& v : f) v = nd(rng);
    QuantizeRow(t, f.data(), m.bytes.data() + r * rb, cols);
    DequantizeRow(t, m.bytes.data() + r * rb, m.dequant.data() + r * cols, cols);
  }
  m.view = TensorView{t, {rows, cols}, m.bytes.data(), "w"};
  return m;
}

void CheckShape(DType t, int64_t rows, int64_t cols, int64_t n, bool vs_f32) {
  SCOPED_TRACE(std::string(DTypeName(t)) + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
               " n=" + std::to_string(n));
  if (!testing::CheckedAtThisSize(rows, cols, n)) return;
  const Mat m = MakeMat(t, rows, cols, static_cast<uint32_t>(rows * 7 + cols + n));
  auto packed = QuantPackedMatrix::Pack(m.view);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  // Whole groups of 4 panels, each block holding 4 x (32 scale bytes + the weights).
  EXPECT_EQ(packed->nbytes(), (rows + 63) / 64 * (cols / 32) * 4 * (32 + packed->block_weight_bytes()));
  // Strides wider than the data catch stride mistakes; the sentinel catches writes past rows.
  const int64_t ldx = cols + 32, ldy = rows + 5;
  const auto x = testing::QuantTestActs(n, ldx, static_cast<uint32_t>(n + 3));
  std::vector<float> ref;
  testing::ExpectKernelMatchesRefExactly(*packed, m.view, x.data(), n, ldx, ldy, &ref);
  if (::testing::Test::HasFatalFailure()) return;
  if (!vs_f32) return;
  QuantizedActs a;
  QuantizeActsRef(x.data(), n, cols, ldx, &a);
  std::vector<float> f32(n * ldy);
  MatMulRef(m.view, x.data(), n, ldx, f32.data(), ldy);
  double worst = 0;  // largest error / bound
  for (int64_t tk = 0; tk < n; ++tk) {
    for (int64_t r = 0; r < rows; ++r) {
      double bound = 0, mag = 0;
      for (int64_t b = 0; b < cols / 32; ++b) {
        double wsum = 0;
        for (int k = 0; k < 32; ++k) {
          const double wk = m.dequant[r * cols + b * 32 + k];
          wsum += std::fabs(wk);
          mag += std::fabs(wk * x[tk * ldx + b * 32 + k]);
        }
        bound += a.d[tk * a.blocks + b] / 2 * wsum;
      }
      bound += 4 * std::sqrt(static_cast<double>(cols)) * kU * mag;
      const double err = std::fabs(static_cast<double>(ref[tk * ldy + r]) - f32[tk * ldy + r]);
      ASSERT_LE(err, bound) << "t=" << tk << " r=" << r;
      worst = std::max(worst, err / bound);
    }
  }
  ::testing::Test::RecordProperty("worst_error_over_bound_" + std::string(DTypeName(t)), std::to_string(worst));
}

TEST(QuantMatMul, RunsTheBestPathTheCpuHas) {
  const Isa want = ActiveIsa() == Isa::kAvx512 && CpuHasAvx512Vnni() ? Isa::kAvx512
                   : ActiveIsa() >= Isa::kAvx2                         ? Isa::kAvx2
                                                                       : Isa::kScalar;
  EXPECT_EQ(QuantMatMulIsa(), want);
}

TEST(QuantMatMul, QuantizedActivationsMatchTheReferenceBitForBit) {
  for (int64_t cols : {32, 1024, 4608}) {
    for (int64_t n : {1, 5, 64}) {
      const int64_t ldx = cols + 7;
      auto x = testing::QuantTestActs(n, ldx, static_cast<uint32_t>(cols + n));
      // A zero block and an exact .5 tie: the scale-0 path and round-half-to-even.
      for (int k = 0; k < 32; ++k) x[k] = 0;
      if (cols > 32) {
        for (int k = 32; k < 64; ++k) x[k] = 0;
        x[32] = 127;  // d = 1
        x[33] = 2.5f;  // -> 2 (nearest even), not 3
        x[34] = -3.5f;  // -> -4
      }
      QuantizedActs got, ref;
      QuantizeActs(x.data(), n, cols, ldx, &got);
      QuantizeActsRef(x.data(), n, cols, ldx, &ref);
      ASSERT_EQ(got.q, ref.q) << "cols=" << cols << " n=" << n;
      ASSERT_EQ(got.d, ref.d);
      ASSERT_EQ(got.sum, ref.sum);
      if (cols > 32) {
        EXPECT_EQ(ref.q[33], 2);
        EXPECT_EQ(ref.q[34], -4);
        EXPECT_EQ(ref.d[0], 0.0f);
      }
    }
  }
}

TEST(QuantMatMul, MatchesReferenceAtRealSizes) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    CheckShape(t, 1024, 1024, 1, true);
    CheckShape(t, 1024, 1024, 5, true);
    CheckShape(t, 1024, 1024, 512, false);
    CheckShape(t, 4608, 1024, 1, false);
    CheckShape(t, 4608, 1024, 64, true);
    CheckShape(t, 1024, 4608, 1, true);
    CheckShape(t, 1024, 4608, 64, false);
    CheckShape(t, 3072, 1024, 7, false);  // conv in_proj
  }
}

TEST(QuantMatMul, LmHeadShapeDecode) {
  // A 16384-row slice of the 65536 x 1024 lm_head, decode (1024 panels; the full height only repeats them).
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) CheckShape(t, 16384, 1024, 1, false);
}

TEST(QuantMatMul, OddRowCountsAndTokenTails) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    for (int64_t rows : {1, 15, 17, 33, 100}) {
      for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 13}) CheckShape(t, rows, 64, n, true);
    }
    CheckShape(t, 1000, 96, 11, true);
    CheckShape(t, 37, 32, 1, true);
  }
}

TEST(QuantMatMul, ManyMatchesSeparateCalls) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    const Mat a = MakeMat(t, 1024, 1024, 1), b = MakeMat(t, 512, 1024, 2), c = MakeMat(t, 40, 1024, 3);
    auto pa = QuantPackedMatrix::Pack(a.view), pb = QuantPackedMatrix::Pack(b.view), pc = QuantPackedMatrix::Pack(c.view);
    ASSERT_TRUE(pa.ok() && pb.ok() && pc.ok());
    for (int64_t n : {1, 9}) {
      const auto x = testing::QuantTestActs(n, 1024, 5);
      std::vector<float> ya(n * 1024), yb(n * 512), yc(n * 40), ra(n * 1024), rb(n * 512), rc(n * 40);
      const QuantMatMulJob jobs[3] = {{&*pa, ya.data(), 1024}, {&*pb, yb.data(), 512}, {&*pc, yc.data(), 40}};
      QuantMatMulMany(jobs, 3, x.data(), n, 1024);
      QuantMatMul(*pa, x.data(), n, 1024, ra.data(), 1024);
      QuantMatMul(*pb, x.data(), n, 1024, rb.data(), 512);
      QuantMatMul(*pc, x.data(), n, 1024, rc.data(), 40);
      EXPECT_EQ(ya, ra);
      EXPECT_EQ(yb, rb);
      EXPECT_EQ(yc, rc);
      // c first (3 panels): the other jobs' thread ranges then start inside a group of 4 panels, so
      // the kernels' register tiles straddle the groups' boundaries.
      const QuantMatMulJob shifted[3] = {{&*pc, yc.data(), 40}, {&*pa, ya.data(), 1024}, {&*pb, yb.data(), 512}};
      std::fill(ya.begin(), ya.end(), 0.0f);
      std::fill(yb.begin(), yb.end(), 0.0f);
      QuantMatMulMany(shifted, 3, x.data(), n, 1024);
      EXPECT_EQ(ya, ra);
      EXPECT_EQ(yb, rb);
      // And a range starting at each offset inside a group, on the calling thread.
      QuantizedActs qa;
      QuantizeActs(x.data(), n, 1024, 1024, &qa);
      for (int64_t p0 : {1, 2, 3, 5}) {
        std::fill(ya.begin(), ya.end(), 0.0f);
        QuantMatMulPanels(*pa, qa, ya.data(), 1024, p0, pa->panels());
        for (int64_t t = 0; t < n; ++t)
          for (int64_t r = p0 * kQuantPanelRows; r < 1024; ++r) ASSERT_EQ(ya[t * 1024 + r], ra[t * 1024 + r]) << p0;
      }
    }
  }
}

TEST(QuantMatMul, PackRejectsWhatItCannotHold) {
  std::vector<float> f(64 * 2, 0.5f);
  TensorView fv{DType::kF32, {2, 64}, f.data(), "f32"};
  auto r = QuantPackedMatrix::Pack(fv);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not q8_0"), std::string::npos);
  std::vector<uint8_t> q(34 * 4);
  TensorView v3{DType::kQ8_0, {2, 2, 32}, q.data(), "rank3"};
  EXPECT_FALSE(QuantPackedMatrix::Pack(v3).ok());
}

TEST(QuantMatMul, PackedRowsDequantizeExactlyLikeTheSource) {
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    testing::ExpectPackedRowsDequantizeLikeSource(MakeMat(t, 37, 96, 11));
    if (HasFatalFailure()) return;
  }
}

TEST(QuantMatMul, PackedBytesPerWeightEqualGguf) {
  // Decode reads the packed panels: they must not be bigger than the GGUF blocks (scale padding aside).
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    const Mat m = MakeMat(t, 1024, 1024, 9);
    auto p = QuantPackedMatrix::Pack(m.view);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->nbytes(), m.view.nbytes()) << DTypeName(t);
  }
}

}  // namespace
}  // namespace lfm
