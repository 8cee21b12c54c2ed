// Kernels at the sizes where their code changes path, against the plain reference twins, on whatever
// ISA path this process runs (ctest runs this binary once per path: LFM_ISA=avx512 / avx2 / scalar).
//
// Tolerances are stated per element, from the standard probabilistic bound for a float sum of K terms
// (Higham & Mary): |got - exact| <= c * sqrt(K) * u * sum_k |a_k b_k|, u = 2^-24. The references
// accumulate in double over the same (dequantized) weights, so they are the exact side; c is the constant
// named at each check. Largest ratios seen (AVX-512 / AVX2 / scalar on Zen 4): MatMul 0.02 / 0.03 / 0.15,
// GemmPacked 0.16; so c = 1 (the bound itself) leaves a 6x margin. Attention outputs are convex
// combinations of value rows: the error is stated relative to max |v| (seen <= 2.1e-7 = 3.5 u on every
// path; the check allows 2e-6).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/bf16_dot.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "kernels/vision_gemm.h"
#include "kernels/vision_ops.h"
#include "tensor/convert.h"

namespace lfm {
namespace {

constexpr double kU = 1.0 / (1 << 24);  // f32 unit roundoff

std::vector<float> Normal(size_t n, float sd, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

// x with every value rounded to bf16 as the AVX512_BF16 kernels do.
std::vector<float> RoundedToBf16(const std::vector<float>& x) {
  std::vector<float> r(x.size());
  for (size_t i = 0; i < x.size(); ++i) r[i] = RoundToBf16ForDot(x[i]);
  return r;
}

struct Matrix {
  std::vector<uint8_t> bytes;
  std::vector<float> dequant;  // the weights as the kernels see them
  TensorView view;
};

Matrix MakeMatrix(DType t, int64_t rows, int64_t cols, float sd, uint32_t seed) {
  Matrix m;
  const size_t rb = DTypeBytes(t, cols);
  m.bytes.resize(rb * rows);
  m.dequant.resize(rows * cols);
  auto f = Normal(rows * cols, sd, seed);
  for (int64_t r = 0; r < rows; ++r) {
    QuantizeRow(t, f.data() + r * cols, m.bytes.data() + r * rb, cols);
    DequantizeRow(t, m.bytes.data() + r * rb, m.dequant.data() + r * cols, cols);
  }
  m.view = TensorView{t, {rows, cols}, m.bytes.data(), "w"};
  return m;
}

// Largest |got - ref| / (sqrt(K) u sum_k |w_k x_k|) over all outputs of y = x W^T (+ bias).
double MaxGemmErrorRatio(const Matrix& w, const float* x, int64_t n, int64_t ldx, const float* got, const float* ref,
                         int64_t ldy) {
  const int64_t rows = w.view.rows(), K = w.view.cols();
  double worst = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0;
      for (int64_t k = 0; k < K; ++k) s += std::fabs(static_cast<double>(w.dequant[r * K + k]) * x[t * ldx + k]);
      const double err = std::fabs(static_cast<double>(got[t * ldy + r]) - ref[t * ldy + r]);
      worst = std::max(worst, err / (std::sqrt(static_cast<double>(K)) * kU * s + 1e-30));
    }
  }
  return worst;
}

// MatMul prefill (n > 1) at K >= 1024 with several token blocks: the kernels sweep ~512 KB of
// activations per block (126 tokens at K = 1024, 60 at K = 2048 on the AVX-512 path), widen 16-bit and
// block weights into panels, and run the register tiles plus their token and row remainders.
TEST(RealSize, MatMulGemmSeveralTokenBlocksEveryDtype) {
  struct Shape {
    int64_t rows, cols, n;
  };
  const Shape shapes[] = {{70, 1024, 300}, {37, 2048, 131}, {9, 1536, 257}};
  for (DType t : {DType::kF32, DType::kBF16, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    for (const Shape& s : shapes) {
      const Matrix w = MakeMatrix(t, s.rows, s.cols, 0.5f, static_cast<uint32_t>(s.cols + s.n));
      const int64_t ldx = s.cols + 3, ldy = s.rows + 5;
      const auto x = Normal(s.n * ldx, 1.0f, 7);
      std::vector<float> got(s.n * ldy, -7.0f), ref(s.n * ldy, -7.0f);
      MatMul(w.view, x.data(), s.n, ldx, got.data(), ldy);
      // bf16 weights with AVX512_BF16: the kernel rounds the activations to bf16 first, and so does
      // its twin; the bound below is then stated for those rounded activations (xr).
      const bool rounds = MatMulRoundsActivationsToBf16(t);
      const auto xr = rounds ? RoundedToBf16(x) : x;
      if (rounds) {
        MatMulRefBf16Activations(w.view, x.data(), s.n, ldx, ref.data(), ldy);
      } else {
        MatMulRef(w.view, x.data(), s.n, ldx, ref.data(), ldy);
      }
      for (int64_t i = 0; i < s.n; ++i)
        for (int64_t r = s.rows; r < ldy; ++r) ASSERT_EQ(got[i * ldy + r], -7.0f) << "wrote past the outputs";
      const double ratio = MaxGemmErrorRatio(w, xr.data(), s.n, ldx, got.data(), ref.data(), ldy);
      EXPECT_LT(ratio, 1.0) << DTypeName(t) << " " << s.rows << "x" << s.cols << " n=" << s.n << " on "
                              << IsaName(MatMulIsa(t)) << ": error / bound = " << ratio;
    }
  }
}

// The packed vision GEMM at the SigLIP2 width (K = 1152, several 128-token blocks, K blocks of
// 128 / 256, a partial last panel).
TEST(RealSize, GemmPackedSeveralTokenBlocks) {
  for (DType t : {DType::kF32, DType::kBF16}) {
    const Matrix w = MakeMatrix(t, 100, 1152, 0.5f, 11);
    auto packed = PackedGemmMatrix::Pack(w.view);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    const int64_t n = 300, ldx = 1152 + 3, ldy = 100 + 5;
    const auto x = Normal(n * ldx, 1.0f, 12);
    std::vector<float> got(n * ldy, -9.0f), ref(n * ldy, -9.0f);
    GemmPacked(*packed, x.data(), n, ldx, nullptr, got.data(), ldy);
    GemmPackedRef(*packed, x.data(), n, ldx, nullptr, ref.data(), ldy);
    // A bf16_pairs() matrix (AVX512_BF16) rounds the activations to bf16, and so does the twin.
    const auto xr = packed->bf16_pairs() ? RoundedToBf16(x) : x;
    const double ratio = MaxGemmErrorRatio(w, xr.data(), n, ldx, got.data(), ref.data(), ldy);
    EXPECT_LT(ratio, 1.0) << DTypeName(t) << " on " << IsaName(GemmPackedIsa());
  }
}

// Largest |got - ref| relative to the largest |v| the outputs are convex combinations of.
double MaxRelToV(const std::vector<float>& got, const std::vector<float>& ref, const std::vector<float>& v) {
  double vmax = 0, worst = 0;
  for (float e : v) vmax = std::max(vmax, static_cast<double>(std::fabs(e)));
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - ref[i]));
  return worst / vmax;
}

// Causal GQA attention at the LFM2 head shape (16 query heads, 8 kv heads, head_dim 64) over hundreds
// of positions: a 320-token prefill, a chunk continuing at position 300, and single-token decode at 400.
TEST(RealSize, AttentionCausalHeadDim64HundredsOfPositions) {
  const AttentionShape s{16, 8, 64, 0.125f};
  const int64_t qs = 16 * 64, kvs = 8 * 64;
  struct Step {
    int64_t p0, n;
  };
  for (const Step& st : {Step{0, 320}, Step{300, 20}, Step{400, 1}}) {
    const int64_t len = st.p0 + st.n;
    const auto q = Normal(st.n * qs, 1.0f, 31), k = Normal(len * kvs, 1.0f, 32), v = Normal(len * kvs, 1.0f, 33);
    std::vector<float> got(st.n * qs), ref(st.n * qs);
    AttentionCausal(q.data(), st.n, st.p0, k.data(), v.data(), s, got.data());
    AttentionCausalRef(q.data(), st.n, st.p0, k.data(), v.data(), s, ref.data());
    const double rel = MaxRelToV(got, ref, v);
    EXPECT_LT(rel, 2e-6) << "p0=" << st.p0 << " n=" << st.n << " on " << IsaName(OpsIsa());
  }
}

// Bidirectional attention (SigLIP2: head_dim 64) over hundreds of keys, with fused-QKV strides.
TEST(RealSize, AttentionBidirectionalHeadDim64HundredsOfKeys) {
  struct Case {
    int heads;
    int64_t n_q, n_k;
  };
  for (const Case& c : {Case{2, 333, 333}, Case{1, 40, 1024}}) {
    const int d = 64;
    const int64_t hd = c.heads * d, ld = 3 * hd + 5, rows = std::max(c.n_q, c.n_k);
    const auto qkv = Normal(rows * ld, 1.0f, 41);
    const BidirectionalAttentionShape s{c.heads, d, 0.125f};
    std::vector<float> got(c.n_q * hd), ref(c.n_q * hd);
    AttentionBidirectional(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, c.n_q, c.n_k, s, got.data(), hd);
    AttentionBidirectionalRef(qkv.data(), qkv.data() + hd, qkv.data() + 2 * hd, ld, c.n_q, c.n_k, s, ref.data(), hd);
    const double rel = MaxRelToV(got, ref, qkv);
    EXPECT_LT(rel, 2e-6) << c.n_q << "/" << c.n_k << " on " << IsaName(VisionOpsIsa());
  }
}

}  // namespace
}  // namespace lfm
