// The widening matmul of the GGUF-only block types (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K) against the
// plain reference (MatMulRef: DequantizeRow, itself bit-exact to gguf-py, tests/tensor), at real
// LFM2-350M sizes (K = 1024 and 4608) and small/odd row and token counts, on the ISA path this process
// runs (ctest runs this binary once per LFM_ISA). Also: a one-hot input reads single weights back,
// which must equal DequantizeRow exactly (a wrong nibble, bit or scale index shows up as a mismatch
// at that element, not as a small tolerance drift).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/matmul.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {
namespace {

const DType kTypes[] = {DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Byte offsets of a block's f16 scale fields (random bytes elsewhere are valid quants).
std::vector<int> F16Fields(DType t) {
  switch (t) {
    case DType::kQ6_K: return {208};
    case DType::kQ5_0: return {0};
    default: return {0, 2};
  }
}

std::vector<uint8_t> RandomBlocks(DType t, int64_t rows, int64_t cols, std::mt19937& rng) {
  std::vector<uint8_t> w(static_cast<size_t>(DTypeBytes(t, cols) * rows));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : w) b = static_cast<uint8_t>(byte(rng));
  std::normal_distribution<float> nd(0, 0.01f);
  const int64_t bb = DTypeBlockBytes(t);
  for (size_t at = 0; at < w.size(); at += bb) {
    for (int off : F16Fields(t)) {
      const uint16_t h = F32ToF16(nd(rng));
      std::memcpy(w.data() + at + off, &h, 2);
    }
  }
  return w;
}

void Check(DType t, int64_t rows, int64_t cols, int64_t n, bool threaded) {
  std::mt19937 rng(static_cast<uint32_t>(rows * 131 + cols * 7 + n + static_cast<int>(t)));
  auto wb = RandomBlocks(t, rows, cols, rng);
  TensorView w{t, {rows, cols}, wb.data(), "w"};
  const int64_t ldx = cols + 3, ldy = rows + 5;
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(n * ldx);
  for (auto& v : x) v = nd(rng);
  std::vector<float> ref(n * ldy, -7.0f), got(n * ldy, -7.0f);
  MatMulRef(w, x.data(), n, ldx, ref.data(), ldy);
  if (threaded) {
    MatMul(w, x.data(), n, ldx, got.data(), ldy);
  } else {
    MatMulRows(w, x.data(), n, ldx, got.data(), ldy, 0, rows);
  }
  // Scale of one product: |w| <~ 0.01 * 63 * 63 (K-quant scales) times |x| ~ 1; f32 accumulation error
  // grows like sqrt(cols) ulps of the partial sums.
  double wmax = 0;
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(t, w.row(r), row.data(), cols);
    for (float v : row) wmax = std::max(wmax, static_cast<double>(std::fabs(v)));
  }
  const double tol = wmax * 4 * std::sqrt(static_cast<double>(cols)) * 2e-6 + 1e-6;
  for (int64_t tk = 0; tk < n; ++tk) {
    for (int64_t r = 0; r < ldy; ++r) {
      const float a = got[tk * ldy + r], b = ref[tk * ldy + r];
      if (r >= rows) {
        ASSERT_EQ(a, -7.0f) << "wrote past the output row";
        continue;
      }
      ASSERT_NEAR(a, b, tol) << DTypeName(t) << " rows=" << rows << " cols=" << cols << " n=" << n << " t=" << tk
                             << " r=" << r;
    }
  }
}

TEST(MatMulGgml, MatchesReferenceAtRealAndOddSizes) {
  struct Case {
    int64_t rows, cols, n;
  } cases[] = {{1, 256, 1}, {7, 256, 1}, {37, 512, 3}, {64, 1024, 1}, {24, 4608, 1}, {13, 1024, 7}, {130, 256, 17}};
  for (DType t : kTypes) {
    for (const auto& c : cases) {
      Check(t, c.rows, c.cols, c.n, false);
      Check(t, c.rows, c.cols, c.n, true);
    }
  }
}

TEST(MatMulGgml, OneHotInputReadsBackDequantizedWeightsExactly) {
  const int64_t rows = 9, cols = 512;
  for (DType t : kTypes) {
    std::mt19937 rng(7 + static_cast<int>(t));
    auto wb = RandomBlocks(t, rows, cols, rng);
    TensorView w{t, {rows, cols}, wb.data(), "w"};
    std::vector<float> deq(rows * cols);
    for (int64_t r = 0; r < rows; ++r) DequantizeRow(t, w.row(r), deq.data() + r * cols, cols);
    std::vector<float> x(cols, 0.0f), y(rows), y2(2 * rows);
    std::vector<float> x2(2 * cols, 0.0f);
    for (int64_t k = 0; k < cols; ++k) {
      x[k] = 1.0f;
      MatMul(w, x.data(), 1, y.data());  // GEMV path
      // GEMM path (n = 2: the widened panel), second token one-hot at the same k.
      x2[k] = 1.0f;
      x2[cols + k] = 1.0f;
      MatMul(w, x2.data(), 2, y2.data());
      for (int64_t r = 0; r < rows; ++r) {
        ASSERT_EQ(y[r], deq[r * cols + k]) << DTypeName(t) << " GEMV r=" << r << " k=" << k;
        ASSERT_EQ(y2[rows + r], deq[r * cols + k]) << DTypeName(t) << " GEMM r=" << r << " k=" << k;
      }
      x[k] = 0.0f;
      x2[k] = x2[cols + k] = 0.0f;
    }
  }
}

TEST(MatMulGgml, RunsTheActivePathsKernel) {
  // Every type has its own loader on AVX-512 and AVX2; the portable rows (DequantizeRow per row) only
  // on the scalar path.
  for (DType t : kTypes) {
    EXPECT_TRUE(MatMulSupports(t));
    EXPECT_EQ(MatMulIsa(t), ActiveIsa()) << DTypeName(t);
  }
}

}  // namespace
}  // namespace lfm
