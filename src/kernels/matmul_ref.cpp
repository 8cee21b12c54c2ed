#include <vector>

#include "kernels/bf16_dot.h"
#include "kernels/matmul.h"
#include "tensor/convert.h"

namespace lfm {

void MatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  const int64_t rows = w.rows(), cols = w.cols();
  std::vector<float> wrow(cols);
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(w.dtype, w.row(r), wrow.data(), cols);
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * ldx;
      double acc = 0;  // double: the reference should be the more exact side of every comparison
      for (int64_t k = 0; k < cols; ++k) acc += static_cast<double>(wrow[k]) * xt[k];
      y[t * ldy + r] = static_cast<float>(acc);
    }
  }
}

void MatMulRefBf16Activations(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  const int64_t cols = w.cols();
  std::vector<float> xr(n * cols);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t k = 0; k < cols; ++k) xr[t * cols + k] = RoundToBf16ForDot(x[t * ldx + k]);
  MatMulRef(w, xr.data(), n, cols, y, ldy);
}

}  // namespace lfm
