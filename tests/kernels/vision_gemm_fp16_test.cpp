// PackedMath::kFp16 (vision_gemm.h): the AVX512_FP16 kernel against its step-by-step twin, the packing
// and the per-row scaling at their edges, and the accuracy against f64 at the vision tower's sizes,
// next to the accuracy of rounding the activations to bf16 (kBf16Dot, which llama.cpp and Zen 4 use).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_gemm.h"
#include "kernels/vision_gemm_impl.h"
#include "tensor/convert.h"

namespace lfm {
namespace {

struct Weights {
  std::vector<uint16_t> bits;
  TensorView view;
};

// rows x cols of dtype t (bf16 or f16) from normal(0, sd).
Weights MakeWeights(DType t, int64_t rows, int64_t cols, float sd, uint32_t seed) {
  Weights w;
  w.bits.resize(static_cast<size_t>(rows * cols));
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, sd);
  for (auto& b : w.bits) b = t == DType::kBF16 ? F32ToBF16(nd(rng)) : F32ToF16(nd(rng));
  w.view = TensorView{t, {rows, cols}, w.bits.data(), "w"};
  return w;
}

float WeightAt(const Weights& w, int64_t r, int64_t k) {
  const uint16_t b = w.bits[static_cast<size_t>(r * w.view.cols() + k)];
  return w.view.dtype == DType::kBF16 ? BF16ToF32(b) : F16ToF32(b);
}

std::vector<float> Activations(int64_t n, int64_t ld, float sd, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, sd);
  std::vector<float> x(static_cast<size_t>(n * ld));
  for (auto& v : x) v = nd(rng);
  return x;
}

bool Fp16KernelRuns() { return ActiveAvx512Fp16() && avx512::GemmPanelKernelFp16() != nullptr; }

TEST(VisionGemmFp16, ActivationExponentBoundsTheScaledRow) {
  for (float most : {1.0f, 0.75f, 3.0e-7f, 123456.0f, 255.9f, 256.0f}) {
    const int e = Fp16ActivationExponent(most);
    const float scaled = std::ldexp(most, e);
    EXPECT_LT(scaled, std::ldexp(1.0f, kFp16ActivationLog2Max)) << most;
    EXPECT_GE(scaled, std::ldexp(1.0f, kFp16ActivationLog2Max - 1)) << most;  // as large as allowed
  }
  EXPECT_EQ(Fp16ActivationExponent(0.0f), 0);
  EXPECT_EQ(Fp16ActivationExponent(std::numeric_limits<float>::infinity()), 0);
  EXPECT_EQ(Fp16ActivationExponent(std::numeric_limits<float>::quiet_NaN()), 0);
  EXPECT_EQ(Fp16ActivationExponent(1e-38f), 100);  // clamped: the unscale stays a normal f32
}

TEST(VisionGemmFp16, ScaledConversionKernelMatchesRef) {
  if (!ActiveAvx512Fp16()) GTEST_SKIP() << "no AVX512_FP16 here (or LFM_ISA keeps it off): only the portable conversion runs";
  const RowsToFp16ScaledFn kernel = avx512::RowsToFp16ScaledKernel();
  ASSERT_NE(kernel, nullptr);
  for (int64_t K : {1, 15, 16, 17, 768, 771}) {
    const int64_t n = 5, ldx = K + 3, ldd = (K + 1) / 2 * 2 + 4;
    std::vector<float> x = Activations(n, ldx, 1.0f, 11);
    x[0] = 1e-9f;                    // row 0: an fp16 subnormal after scaling
    x[ldx] *= 1e6f;                  // row 1: far beyond fp16's range before scaling
    for (int64_t k = 0; k < K; ++k) x[2 * ldx + k] *= 1e-7f;  // row 2: all tiny
    std::vector<uint16_t> a(n * ldd, 0xffff), b(n * ldd, 0xffff);
    std::vector<int> ea(n), eb(n);
    kernel(x.data(), n, ldx, K, a.data(), ldd, ea.data());
    RowsToFp16ScaledRef(x.data(), n, ldx, K, b.data(), ldd, eb.data());
    EXPECT_EQ(ea, eb) << "K=" << K;
    for (int64_t t = 0; t < n; ++t)
      for (int64_t k = 0; k < (K + 1) / 2 * 2; ++k)
        ASSERT_EQ(a[t * ldd + k], b[t * ldd + k]) << "K=" << K << " t=" << t << " k=" << k;
  }
}

TEST(VisionGemmFp16, PacksBf16AndF16ScaledAndFallsBackOtherwise) {
  for (DType t : {DType::kBF16, DType::kF16}) {
    const Weights w = MakeWeights(t, 50, 37, 0.02f, 3);
    auto p = PackedGemmMatrix::PackStacked({w.view}, PackedMath::kFp16);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_TRUE(p->fp16_pairs());
    EXPECT_EQ(p->dtype(), DType::kF16);
    EXPECT_EQ(p->padded_cols(), 38);
    // The largest weight scaled into [1, 2).
    float most = 0;
    for (int64_t r = 0; r < 50; ++r)
      for (int64_t k = 0; k < 37; ++k) most = std::max(most, std::fabs(WeightAt(w, r, k)));
    const float scaled = std::ldexp(most, p->fp16_exp());
    EXPECT_GE(scaled, 1.0f);
    EXPECT_LT(scaled, 2.0f);
    // Scaling by a power of two loses nothing: every row reads back as the source.
    std::vector<float> row(37);
    for (int64_t r = 0; r < 50; ++r) {
      p->DequantizeRow(r, row.data());
      for (int64_t k = 0; k < 37; ++k) ASSERT_EQ(row[k], WeightAt(w, r, k)) << r << "," << k;
    }
  }
  // f32 weights keep f32 math; so do non-finite weights and a range fp16 cannot scale into.
  std::vector<float> f(48 * 16, 0.5f);
  const TensorView fv{DType::kF32, {48, 16}, f.data(), "f"};
  EXPECT_EQ(PackedGemmMatrix::PackStacked({fv}, PackedMath::kFp16)->math(), PackedMath::kF32);
  Weights bad = MakeWeights(DType::kBF16, 48, 16, 0.02f, 4);
  bad.bits[7] = F32ToBF16(std::numeric_limits<float>::infinity());
  EXPECT_EQ(PackedGemmMatrix::PackStacked({bad.view}, PackedMath::kFp16)->math(), PackedMath::kF32);
  bad.bits[7] = F32ToBF16(1e30f);
  EXPECT_EQ(PackedGemmMatrix::PackStacked({bad.view}, PackedMath::kFp16)->math(), PackedMath::kF32);
}

// GemmPacked (the kernel where it runs, else the step-by-step fallback) against GemmPackedRef on
// shapes with every tail: rows past a 48-row panel, tokens past the 8-token tile and 256-token block,
// K past a 64-pair run and a 128-pair K block, odd K; and decode (n = 1).
TEST(VisionGemmFp16, KernelMatchesStepByStepTwin) {
  if (!Fp16KernelRuns()) std::cout << "[ note ] no AVX512_FP16 kernel here: the portable fallback is checked\n";
  const std::tuple<int64_t, int64_t, int64_t> shapes[] = {{48, 16, 8},  {50, 37, 13},  {100, 300, 1},
                                                          {7, 64, 200}, {200, 301, 270}, {96, 768, 33}};
  for (auto [rows, cols, n] : shapes) {
    const Weights w = MakeWeights(DType::kBF16, rows, cols, 0.05f, 7);
    auto p = PackedGemmMatrix::PackStacked({w.view}, PackedMath::kFp16);
    ASSERT_TRUE(p.ok() && p->fp16_pairs());
    const int64_t ldx = cols + 3, ldy = rows + 5;
    const std::vector<float> x = Activations(n, ldx, 1.0f, 9), bias = Activations(1, rows, 1.0f, 10);
    std::vector<float> y(n * ldy, -9.0f), yr(n * ldy, -9.0f);
    GemmPacked(*p, x.data(), n, ldx, bias.data(), y.data(), ldy);
    GemmPackedRef(*p, x.data(), n, ldx, bias.data(), yr.data(), ldy);
    int64_t differ = 0;
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t r = 0; r < ldy; ++r) {
        const float a = y[t * ldy + r], b = yr[t * ldy + r];
        if (r >= rows) {
          ASSERT_EQ(a, -9.0f) << "wrote past the rows";
          continue;
        }
        // The twin rounds each fp16 step through a double: a tie can round differently once in a while.
        if (a != b) ++differ;
        ASSERT_NEAR(a, b, 1e-3f * (1.0f + std::fabs(b))) << rows << "x" << cols << " n=" << n << " t=" << t << " r=" << r;
      }
    }
    EXPECT_LE(differ, n * rows / 1000) << rows << "x" << cols << " n=" << n;
  }
}

// Errors against f64 (exact f32 activations, the same weights), relative to the outputs' rms, at the
// tower's shapes: fp16 math next to activations rounded to bf16 with exact sums (kBf16Dot's error).
// Activations like a LayerNorm's output with a few outlier channels, as SigLIP's have; scaled by 1e3
// and 1e-3 to show the per-row scaling makes the error independent of magnitude.
TEST(VisionGemmFp16, AccuracyAgainstF64IsLikeBf16Activations) {
  for (int64_t K : {768, 3072}) {
    const int64_t rows = 96, n = 64;
    const Weights w = MakeWeights(DType::kBF16, rows, K, 0.02f, 21);
    auto p = PackedGemmMatrix::PackStacked({w.view}, PackedMath::kFp16);
    ASSERT_TRUE(p.ok() && p->fp16_pairs());
    for (float magnitude : {1.0f, 1e3f, 1e-3f}) {
      std::vector<float> x = Activations(n, K, magnitude, 22);
      for (int64_t t = 0; t < n; ++t)
        for (int64_t k = 0; k < K; k += 97) x[t * K + k] *= 30.0f;  // outlier channels
      std::vector<float> y(n * rows);
      GemmPacked(*p, x.data(), n, K, nullptr, y.data(), rows);
      double se_fp16 = 0, se_bf16 = 0, ss = 0, worst_fp16 = 0;
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          double exact = 0, bf16 = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double wv = WeightAt(w, r, k);
            exact += wv * x[t * K + k];
            bf16 += wv * RoundToBf16ForDot(x[t * K + k]);
          }
          const double e = y[t * rows + r] - exact;
          se_fp16 += e * e;
          se_bf16 += (bf16 - exact) * (bf16 - exact);
          ss += exact * exact;
          worst_fp16 = std::max(worst_fp16, std::fabs(e));
        }
      }
      const double rms = std::sqrt(ss / (n * rows));
      const double rel_fp16 = std::sqrt(se_fp16 / (n * rows)) / rms, rel_bf16 = std::sqrt(se_bf16 / (n * rows)) / rms;
      std::cout << "[ K=" << K << " |x|~" << magnitude << " ] rms error / rms output: fp16 math " << rel_fp16
                << ", bf16 activations " << rel_bf16 << "; worst fp16 error " << worst_fp16 / rms << " rms\n";
      // Measured here: fp16 ~1.5e-3, bf16 activations ~1.3e-3 (both K). The bound leaves 2x headroom.
      EXPECT_LT(rel_fp16, 2.0 * rel_bf16 + 1e-4) << "K=" << K << " magnitude " << magnitude;
      EXPECT_LT(worst_fp16 / rms, 0.02) << "K=" << K << " magnitude " << magnitude;
    }
  }
}

// Several jobs with different weight scales in one call equal one call each.
TEST(VisionGemmFp16, ManyJobsEqualSingleCalls) {
  const Weights a = MakeWeights(DType::kBF16, 96, 64, 0.02f, 31), b = MakeWeights(DType::kF16, 50, 64, 3.0f, 32);
  auto pa = PackedGemmMatrix::PackStacked({a.view}, PackedMath::kFp16);
  auto pb = PackedGemmMatrix::PackStacked({b.view}, PackedMath::kFp16);
  ASSERT_TRUE(pa.ok() && pb.ok());
  ASSERT_NE(pa->fp16_exp(), pb->fp16_exp());
  const int64_t n = 20;
  const std::vector<float> x = Activations(n, 64, 1.0f, 33);
  std::vector<float> ya(n * 96), yb(n * 50), ya1(n * 96), yb1(n * 50);
  const GemmPackedJob jobs[] = {{&*pa, nullptr, ya.data(), 96}, {&*pb, nullptr, yb.data(), 50}};
  GemmPackedMany(jobs, 2, x.data(), n, 64);
  GemmPacked(*pa, x.data(), n, 64, nullptr, ya1.data(), 96);
  GemmPacked(*pb, x.data(), n, 64, nullptr, yb1.data(), 50);
  EXPECT_EQ(ya, ya1);
  EXPECT_EQ(yb, yb1);
}

}  // namespace
}  // namespace lfm
