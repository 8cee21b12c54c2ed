// Integer matmul for q8_0 / q4_0 weights: y[t, r] = sum_k x[t, k] * W[r, k] computed as int8 dot
// products (AVX-512 VNNI vpdpbusd) instead of widening every weight to f32.
//
// Weights are repacked once at load (QuantPackedMatrix) into panels of 16 output rows. Per 32-wide
// k block a panel holds the 16 rows' f16 scales and the 16x32 weights laid out [group of 4 k][16 rows]
// [4 bytes], so one 64-byte load covers 16 rows x 4 k and one vpdpbusd with a broadcast 4-byte
// activation group updates 16 row sums: no horizontal adds. Weights are stored UNSIGNED (vpdpbusd
// multiplies u8 x s8): q8_0 as w + 128, q4_0 as its raw nibble (w + 8), still two per byte so a
// decode step reads the same 34 / 18 bytes per 32 weights as GGUF.
//
// Activations are quantized per call to int8 per 32-block (scale = amax / 127, round to nearest even,
// as llama.cpp's q8 quantizer), with per-block sums q_sum so the offset is removed exactly:
//   sum_k (w_k + off) q_k - off * q_sum = sum_k w_k q_k.
// Each block's int32 dot is then scaled by (w_scale * x_scale) and accumulated in f32 in block order,
// the same order the reference uses, so SIMD and reference agree up to nothing but f32 rounding of
// identical operations (the tests check it tightly). The result differs from f32 math on the
// dequantized weights only by the activation rounding (relative error ~ 1/254 per element, mostly
// averaging out over k).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/cpu_features.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

inline constexpr int kQuantPanelRows = 16;  // output rows per panel: one zmm of int32 sums
inline constexpr int kQuantBlock = 32;      // k per block (q8_0 / q4_0 block size)

class QuantPackedMatrix {
 public:
  // w: a q8_0 or q4_0 matrix [rows, cols], cols a multiple of 32. The result owns its bytes; w can be
  // released afterwards.
  static Result<QuantPackedMatrix> Pack(const TensorView& w);

  DType dtype() const { return dtype_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t blocks() const { return cols_ / kQuantBlock; }
  int64_t panels() const { return (rows_ + kQuantPanelRows - 1) / kQuantPanelRows; }
  // Bytes of one panel: the f16 scales [blocks][16] (padded to 64 bytes), then the weights
  // [blocks][block_weight_bytes()].
  int64_t panel_bytes() const { return panel_bytes_; }
  int64_t scale_bytes() const { return scale_bytes_; }
  // Weight bytes of one 16-row x 32-k block: 512 (q8_0) or 256 (q4_0).
  int64_t block_weight_bytes() const { return dtype_ == DType::kQ4_0 ? 256 : 512; }
  // The offset the unsigned storage adds to each weight (128 or 8).
  int32_t offset() const { return dtype_ == DType::kQ4_0 ? 8 : 128; }
  const uint8_t* panel(int64_t p) const { return data_.get() + p * panel_bytes_; }
  int64_t nbytes() const { return panels() * panel_bytes_; }
  // Row r (< rows()) as f32 [cols()]: equal to DequantizeRow of the source row (d * q, exact), so a
  // tied embedding table can be read from the packed lm_head instead of keeping a second copy.
  void DequantizeRow(int64_t r, float* out) const;

 private:
  struct AlignedFree {
    void operator()(uint8_t* p) const;
  };
  DType dtype_ = DType::kQ8_0;
  int64_t rows_ = 0, cols_ = 0, panel_bytes_ = 0, scale_bytes_ = 0;
  std::unique_ptr<uint8_t[], AlignedFree> data_;
};

// Activations quantized to int8 per 32-block: q [n][K], scale d [n][blocks], sum of q [n][blocks].
struct QuantizedActs {
  int64_t n = 0, cols = 0, blocks = 0;
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
};

// Quantizes x [n, cols] (row stride ldx; cols a multiple of 32) into a (SIMD where the CPU has it;
// bit-identical to QuantizeActsRef).
void QuantizeActs(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a);
void QuantizeActsRef(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a);

// Threaded over panels with DefaultThreadPool(). x is f32 [n, cols] (stride ldx), y f32 [n, rows]
// (stride ldy); only the first rows() columns of each y row are written.
void QuantMatMul(const QuantPackedMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);

// Several matrices with the same cols on the same input: x is quantized once and all run in one
// parallel region (the q/k/v projections, the FFN gate/up pair).
struct QuantMatMulJob {
  const QuantPackedMatrix* w;
  float* y;
  int64_t ldy;
};
void QuantMatMulMany(const QuantMatMulJob* jobs, int count, const float* x, int64_t n, int64_t ldx);

// Panels [p0, p1) of w on the calling thread, from already quantized activations.
void QuantMatMulPanels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                       int64_t p1);

// Single-threaded plain reference from the ORIGINAL q8_0/q4_0 view (not the packed copy, so it also
// checks the packing): quantizes x with QuantizeActsRef, int32 block dots, then
// acc = fma(float(dot), w_scale * x_scale, acc) in block order.
void QuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);

// The instruction set QuantMatMul runs: kAvx512 when the active ISA is AVX-512 and the CPU has
// AVX512_VNNI (vpdpbusd), else kAvx2 on AVX2 (vpmaddubsw + vpmaddwd), else kScalar (portable loops over
// the packed layout; correct but slow). kernels/linear.h decides where packing pays off.
Isa QuantMatMulIsa();

}  // namespace lfm
