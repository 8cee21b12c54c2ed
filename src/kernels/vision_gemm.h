// Batched GEMM for the vision encoder, where every matrix multiplies hundreds of patch rows at once:
//   y[t, r] = bias[r] + sum_k x[t, k] * W[r, k]   for t < n, r < rows.
// The weight is re-laid out once at load into panels of kPanel output rows stored k-major
// ([K][kPanel], zero-padded past `rows`), so the micro-kernel broadcasts one activation and FMAs it
// against whole vectors of outputs: no horizontal sums, and a K-block of a panel stays in L1 while
// it sweeps a block of tokens held in L2. bf16 weights stay bf16 (widened in registers, so results
// equal f32 math on the same weights); every other dtype is packed as f32.
#pragma once

#include <cstdint>
#include <vector>

#include "base/cpu_features.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

class PackedGemmMatrix {
 public:
  static constexpr int kPanel = 48;  // output rows per panel (3 AVX-512 vectors)

  // Any dtype DequantizeRow handles. The source is only read here.
  static Result<PackedGemmMatrix> Pack(const TensorView& w);
  // The rows of several matrices with equal column counts, stacked in order (e.g. q, k, v -> one
  // [3D, D] product). The packed dtype is bf16 only if all parts are bf16.
  static Result<PackedGemmMatrix> PackStacked(const std::vector<TensorView>& parts);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  DType dtype() const { return dtype_; }  // kBF16 or kF32
  int64_t nbytes() const { return static_cast<int64_t>(data_.size()); }
  int64_t panels() const { return (rows_ + kPanel - 1) / kPanel; }
  // Panel p: [cols][kPanel] elements of dtype().
  const uint8_t* panel(int64_t p) const { return data_.data() + p * cols_ * kPanel * elem_bytes(); }
  int elem_bytes() const { return dtype_ == DType::kBF16 ? 2 : 4; }

 private:
  int64_t rows_ = 0, cols_ = 0;
  DType dtype_ = DType::kF32;
  std::vector<uint8_t> data_;
};

// The instruction set GemmPacked runs: ActiveIsa().
Isa GemmPackedIsa();

// x: [n, w.cols()] with row stride ldx; y: [n, w.rows()] with row stride ldy (must not alias x);
// bias: [w.rows()] or null. Threaded over panels with DefaultThreadPool().
void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy);
// Plain single-threaded twin (double accumulation), reading the same packed layout.
void GemmPackedRef(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                   int64_t ldy);

}  // namespace lfm
