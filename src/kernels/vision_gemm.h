// Batched GEMM for the vision encoder, where every matrix multiplies hundreds of patch rows at once:
//   y[t, r] = bias[r] + sum_k x[t, k] * W[r, k]   for t < n, r < rows.
// The weight is re-laid out once at load into panels of kPanel output rows stored k-major
// ([K][kPanel], zero-padded past `rows`), so the micro-kernel broadcasts one activation and FMAs it
// against whole vectors of outputs: no horizontal sums, and a K-block of a panel stays in L1 while
// it sweeps a block of tokens held in L2. bf16 weights stay bf16; every other dtype is packed as f32.
// On CPUs with AVX512_BF16 (ActiveAvx512Bf16()) bf16 panels are packed pair-interleaved,
// [K/2][kPanel][2], and GemmPacked rounds the activations to bf16 once per call and multiplies
// with vdpbf16ps (twice the f32 FMA rate; accuracy: kernels/bf16_dot.h). Elsewhere bf16 weights are
// widened in registers, so results equal f32 math on the same weights. f32 weights (e.g. the model
// loaded with weight dtype f32) always get f32 math.
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
  // The same with the bf16 layout chosen by the caller (tests): bf16_pairs packs bf16 weights
  // pair-interleaved for the bf16 dot-product math even where the CPU lacks it (GemmPacked then runs
  // the portable loops); false keeps the k-major layout and f32 math. Ignored for non-bf16 weights.
  static Result<PackedGemmMatrix> PackStacked(const std::vector<TensorView>& parts, bool bf16_pairs);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  DType dtype() const { return dtype_; }  // kBF16 or kF32
  int64_t nbytes() const { return static_cast<int64_t>(data_.size()); }
  int64_t panels() const { return (rows_ + kPanel - 1) / kPanel; }
  // True: bf16 panels are [ceil(cols/2)][kPanel][2] (a zero after an odd cols), and the product rounds
  // the activations to bf16. False: panels are [cols][kPanel].
  bool bf16_pairs() const { return bf16_pairs_; }
  // Columns as stored: cols rounded up to even in the pair layout.
  int64_t padded_cols() const { return bf16_pairs_ ? (cols_ + 1) / 2 * 2 : cols_; }
  // Panel p: padded_cols() x kPanel elements of dtype(), laid out as above.
  const uint8_t* panel(int64_t p) const { return data_.data() + p * padded_cols() * kPanel * elem_bytes(); }
  int elem_bytes() const { return dtype_ == DType::kBF16 ? 2 : 4; }
  // Row r (< rows()) as f32 [cols()], exactly the source row (bf16 and f32 panels hold the source values):
  // lets a tied embedding table be read from the packed lm_head once the source bytes are released.
  void DequantizeRow(int64_t r, float* out) const;
  // Index within a panel of the weight of column k, output lane `lane` (< kPanel).
  int64_t index(int64_t k, int64_t lane) const {
    return bf16_pairs_ ? (k / 2) * 2 * kPanel + lane * 2 + (k & 1) : k * kPanel + lane;
  }

 private:
  int64_t rows_ = 0, cols_ = 0;
  DType dtype_ = DType::kF32;
  bool bf16_pairs_ = false;
  std::vector<uint8_t> data_;
};

// The instruction set GemmPacked runs: ActiveIsa().
Isa GemmPackedIsa();
// True when Pack() lays bf16 weights out for the AVX512_BF16 kernel (ActiveAvx512Bf16()).
bool GemmPackedUsesBf16Dot();

// x: [n, w.cols()] with row stride ldx; y: [n, w.rows()] with row stride ldy (must not alias x);
// bias: [w.rows()] or null. Threaded over panels with DefaultThreadPool().
void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy);
// Several matrices with equal cols() and layout (e.g. the decoder's q/k/v or w1/w3) on the same input in
// one parallel region: the activations are rounded to bf16 once and the threads split all panels of all
// jobs, so a small product (decode, M = 1..8) pays one thread hand-off instead of one per matrix. Jobs
// that do not share cols() and layout run one GemmPacked each. Results equal GemmPacked's bit for bit.
struct GemmPackedJob {
  const PackedGemmMatrix* w;
  const float* bias;  // [w->rows()] or null
  float* y;
  int64_t ldy;
};
void GemmPackedMany(const GemmPackedJob* jobs, int count, const float* x, int64_t n, int64_t ldx);

// Plain single-threaded twin (double accumulation), reading the same packed layout; with
// w.bf16_pairs() it rounds the activations to bf16 exactly as GemmPacked does (kernels/bf16_dot.h).
void GemmPackedRef(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                   int64_t ldy);

}  // namespace lfm
