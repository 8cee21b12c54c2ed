// Helpers shared by the int8 matmul tests (quant_matmul_test.cpp: q8_0 / q4_0, kquant_matmul_test.cpp:
// q4_K / q5_K / q6_K): a weight matrix kept as bytes plus its dequantized f32 twin, activations shaped
// like real ones, and the exact kernel-vs-reference comparison both test files make.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "kernels/quant_matmul.h"
#include "tensor/convert.h"
#include "test_util.h"

namespace lfm::testing {

// A quantized [rows, cols] matrix: the GGUF-layout bytes, a view of them, and the same weights
// dequantized row by row (the f32 values the kernels must reproduce).
struct QuantMat {
  std::vector<uint8_t> bytes;
  std::vector<float> dequant;
  TensorView view;
};

// n rows of ldx normal activations, with outliers as real activations have: a few channels (every
// 97th value) 20x larger than the rest.
inline std::vector<float> QuantTestActs(int64_t n, int64_t ldx, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(n * ldx);
  for (auto& v : x) v = nd(rng);
  for (int64_t i = 0; i < n * ldx; i += 97) x[i] *= 20;
  return x;
}

// Runs QuantMatMul (this process's path) and QuantMatMulRef on the same inputs and requires the two to
// agree exactly. Outputs have stride ldy > rows, pre-filled with a sentinel that must survive past each
// row (a write past the row is a bug). Leaves the reference output in *ref for further checks; a fatal
// failure is visible to the caller through HasFatalFailure().
inline void ExpectKernelMatchesRefExactly(const QuantPackedMatrix& packed, const TensorView& w, const float* x,
                                          int64_t n, int64_t ldx, int64_t ldy, std::vector<float>* ref) {
  const int64_t rows = w.rows();
  constexpr float kSentinel = -7.0f;
  std::vector<float> got(n * ldy, kSentinel);
  ref->assign(n * ldy, kSentinel);
  QuantMatMul(packed, x, n, ldx, got.data(), ldy);
  QuantMatMulRef(w, x, n, ldx, ref->data(), ldy);
  int64_t mismatches = 0;
  for (int64_t i = 0; i < n * ldy; ++i) {
    if (i % ldy >= rows) {
      ASSERT_EQ(got[i], kSentinel) << "wrote past the output row at " << i;
    } else if (got[i] != (*ref)[i] && ++mismatches <= 5) {
      ADD_FAILURE() << "t=" << i / ldy << " r=" << i % ldy << " got " << got[i] << " ref " << (*ref)[i];
    }
  }
  EXPECT_EQ(mismatches, 0);
}

// Packing must not change a single weight: every packed row dequantizes to the source's f32 values.
inline void ExpectPackedRowsDequantizeLikeSource(const QuantMat& m) {
  const int64_t rows = m.view.rows(), cols = m.view.cols();
  auto p = QuantPackedMatrix::Pack(m.view);
  ASSERT_TRUE(p.ok()) << p.status().message();
  std::vector<float> row(cols);
  for (int64_t r = 0; r < rows; ++r) {
    p->DequantizeRow(r, row.data());
    for (int64_t k = 0; k < cols; ++k) {
      ASSERT_EQ(row[k], m.dequant[r * cols + k]) << DTypeName(m.view.dtype) << " r=" << r << " k=" << k;
    }
  }
}

}  // namespace lfm::testing
