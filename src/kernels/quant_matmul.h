// Integer matmul for q8_0 / q4_0 weights: y[t, r] = sum_k x[t, k] * W[r, k] computed as int8 dot
// products (AVX-512 VNNI vpdpbusd) instead of widening every weight to f32.
//
// Weights are repacked once at load (QuantPackedMatrix) into panels of 16 output rows. Per 32-wide
// k block a panel holds the 16 rows' f16 scales and the 16x32 weights laid out [group of 4 k][16 rows]
// [4 bytes], so one 64-byte load covers 16 rows x 4 k and one vpdpbusd with a broadcast 4-byte
// activation group updates 16 row sums: no horizontal adds. Weights are stored UNSIGNED (vpdpbusd
// multiplies u8 x s8): q8_0 as w + 128, q4_0 as its raw nibble (w + 8), still two per byte so a
// decode step reads the same 34 / 18 bytes per 32 weights as GGUF.
// Panels are stored in groups of 4, interleaved: for each k block, the 4 panels' scales (4 x 32
// bytes), then their weights vector by vector: [4 or 8 vectors of 4 k][4 panels][64 bytes]. The
// decode kernel reads 4 panels at once (4 independent sum chains) in exactly this order, so each
// thread walks ONE sequential stream instead of 8 scattered ones (4 panels x scales and weights).
// Activations are quantized per call to int8 per 32-block (scale = amax / 127, round to nearest even,
// as llama.cpp's q8 quantizer), with per-block sums q_sum so the offset is removed exactly:
//   sum_k (w_k + off) q_k - off * q_sum = sum_k w_k q_k.
// Each block's int32 dot is then scaled by (w_scale * x_scale) and accumulated in f32 in block order,
// the same order the reference uses, so SIMD and reference agree up to nothing but f32 rounding of
// identical operations (the tests check it tightly). The result differs from f32 math on the
// dequantized weights only by the activation rounding (relative error ~ 1/254 per element, mostly
// averaging out over k).
//
// GGUF K-quants (q4_K / q5_K / q6_K) use the same panels of 16 rows and int8 dots, with activations
// quantized per 256 and a per-256 super-block layout of their own (kernels/quant_matmul_kquant.h): an
// exact repack of the file's integers (no re-quantization), so a decode step still reads ~4.6 / 5.6 /
// 6.6 bits per weight.
#pragma once

#include <cstddef>
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
  // w: a q8_0 or q4_0 matrix [rows, cols], cols a multiple of 32, or a q4_K / q5_K / q6_K matrix, cols a
  // multiple of 256. The result owns its bytes; w can be released afterwards.
  static Result<QuantPackedMatrix> Pack(const TensorView& w);

  DType dtype() const { return dtype_; }
  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  int64_t blocks() const { return cols_ / kQuantBlock; }
  bool is_kquant() const { return dtype_ == DType::kQ4_K || dtype_ == DType::kQ5_K || dtype_ == DType::kQ6_K; }
  // K-quants: 256-k super-blocks per row, and the bytes of one super-block of one panel.
  int64_t superblocks() const { return cols_ / 256; }
  int64_t superblock_bytes() const { return superblock_bytes_; }
  int64_t panels() const { return (rows_ + kQuantPanelRows - 1) / kQuantPanelRows; }
  // Panels per interleaved group (see above) and the bytes of one group.
  static constexpr int kGroupPanels = 4;
  int64_t groups() const { return (panels() + kGroupPanels - 1) / kGroupPanels; }
  int64_t group_bytes() const { return blocks() * block_stride(); }
  // Bytes from one k block of a panel to the next block of the same panel (scales and weights alike).
  int64_t block_stride() const { return kGroupPanels * (kQuantPanelRows * 2 + block_weight_bytes()); }
  // K-quants only: panels one after another, kpanel_bytes() each ([superblocks()][superblock_bytes()],
  // kernels/quant_matmul_kquant.h).
  int64_t kpanel_bytes() const { return kpanel_bytes_; }
  const uint8_t* kpanel(int64_t p) const { return data_.get() + p * kpanel_bytes_; }
  // Weight bytes of one 16-row x 32-k block: 512 (q8_0) or 256 (q4_0).
  int64_t block_weight_bytes() const { return dtype_ == DType::kQ4_0 ? 256 : 512; }
  // Bytes from one 64-byte vector (16 rows x 4 k) of a panel's block to its next vector.
  static constexpr int64_t kVectorStride = kGroupPanels * 64;
  // The offset the unsigned storage adds to each weight (128 or 8).
  int32_t offset() const { return dtype_ == DType::kQ4_0 ? 8 : 128; }
  // Panel p's 16 f16 scales of block 0 (32-byte aligned) and its first 64-byte weight vector of
  // block 0; vector g of block b is block_stride() * b + kVectorStride * g further on.
  const uint8_t* scales(int64_t p) const {
    return data_.get() + (p / kGroupPanels) * group_bytes() + (p % kGroupPanels) * kQuantPanelRows * 2;
  }
  const uint8_t* weights(int64_t p) const {
    return data_.get() + (p / kGroupPanels) * group_bytes() + kGroupPanels * kQuantPanelRows * 2 +
           (p % kGroupPanels) * 64;
  }
  int64_t nbytes() const { return is_kquant() ? panels() * kpanel_bytes_ : groups() * group_bytes(); }
  // Row r (< rows()) as f32 [cols()]: equal to DequantizeRow of the source row (d * q, exact), so a
  // tied embedding table can be read from the packed lm_head instead of keeping a second copy.
  void DequantizeRow(int64_t r, float* out) const;

 private:
  friend Result<QuantPackedMatrix> PackKQuant(const TensorView& w);  // quant_matmul_kquant.cpp
  struct AlignedFree {
    void operator()(uint8_t* p) const;
  };
  DType dtype_ = DType::kQ8_0;
  int64_t rows_ = 0, cols_ = 0, kpanel_bytes_ = 0, superblock_bytes_ = 0;
  std::unique_ptr<uint8_t[], AlignedFree> data_;
};

// Activations quantized to int8, in one or both of two forms (a call fills the ones its weights need):
// - per 32-block (q8_0 / q4_0): q [n][cols], scale d [n][blocks], sum of q [n][blocks];
// - per 256 super-block (K-quants; llama.cpp's Q8_K does the same): kq [n][cols] with ONE scale
//   kd [n][cols / 256], so a super-block's integer dots add up exactly in int32 before any float work
//   (kernels/quant_matmul_kquant.h); ksum32 [n][cols / 32] the sums of kq per 32 (|sum| <= 32 * 127
//   fits int16, and consecutive pairs are one 32-bit load for vpdpwssd); kq6_start [n][cols / 8]
//   = -32 x the sums of kq per 8 (where q6_K's 8-k dot chains start, removing its +32 storage offset).
// Both use scale = amax / 127 and round to nearest even (llama.cpp's q8 quantizers).
struct QuantizedActs {
  int64_t n = 0, cols = 0, blocks = 0;
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
  std::vector<int8_t> kq;
  std::vector<float> kd;
  std::vector<int16_t> ksum32;
  std::vector<int32_t> kq6_start;
  // Bytes held by the vectors (the workspace accounting).
  size_t capacity_bytes() const {
    return q.capacity() + kq.capacity() + (d.capacity() + sum.capacity() + kd.capacity() + kq6_start.capacity()) * 4 +
           ksum32.capacity() * 2;
  }
};

// Which forms QuantizeActs fills: bit flags.
inline constexpr unsigned kActsBlock32 = 1;    // q, d, sum (cols a multiple of 32)
inline constexpr unsigned kActsSuper256 = 2;   // kq, kd, ksum32, kq6_start (cols a multiple of 256)

// Quantizes x [n, cols] (row stride ldx) into a (SIMD where the CPU has it; bit-identical to
// QuantizeActsRef), the forms in `forms`; the other form's vectors are left as they were.
void QuantizeActs(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a,
                  unsigned forms = kActsBlock32);
void QuantizeActsRef(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a,
                     unsigned forms = kActsBlock32);

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

// Panels [p0, p1) of w on the calling thread, from already quantized activations (the form w needs:
// per 256 for K-quants, else per 32).
void QuantMatMulPanels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                       int64_t p1);

// Single-threaded plain reference from the ORIGINAL q8_0/q4_0 view (not the packed copy, so it also
// checks the packing): quantizes x with QuantizeActsRef (per 32), int32 block dots, then
// acc = fma(float(dot), w_scale * x_scale, acc) in block order. K-quant views go to KQuantMatMulRef
// (kernels/quant_matmul_kquant.h).
void QuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);

// The instruction set QuantMatMul runs: kAvx512 when the active ISA is AVX-512 and the CPU has
// AVX512_VNNI (vpdpbusd), else kAvx2 on AVX2 (vpmaddubsw + vpmaddwd), else kScalar (portable loops over
// the packed layout; correct but slow). kernels/linear.h decides where packing pays off.
Isa QuantMatMulIsa();

}  // namespace lfm
