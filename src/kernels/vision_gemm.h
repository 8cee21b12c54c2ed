// Batched GEMM for the vision encoder, where every matrix multiplies hundreds of patch rows at once:
//   y[t, r] = bias[r] + sum_k x[t, k] * W[r, k]   for t < n, r < rows.
// The weight is re-laid out once at load into panels of kPanel output rows stored k-major
// ([K][kPanel], zero-padded past `rows`), so the micro-kernel broadcasts one activation and FMAs it
// against whole vectors of outputs: no horizontal sums, and a K-block of a panel stays in L1 while
// it sweeps a block of tokens held in L2. How 16-bit weights (bf16, f16) are multiplied is a
// PackedMath chosen at pack time; f32 weights (e.g. the model loaded with weight dtype f32) always
// get f32 math.
#pragma once

#include <cstdint>
#include <vector>

#include "base/cpu_features.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

// How a PackedGemmMatrix multiplies bf16 / f16 weights (other dtypes are always packed as f32):
enum class PackedMath {
  // k-major panels; bf16 stays bf16 and is widened in registers, f16 is widened to f32 at pack:
  // results equal f32 math on the same weights.
  kF32,
  // bf16 only (f16 falls back to kF32): pair-interleaved panels [K/2][kPanel][2], the activations
  // rounded to bf16 once per call, vdpbf16ps (accuracy: kernels/bf16_dot.h). Where AVX512_BF16 is fast.
  kBf16Dot,
  // Pair-interleaved fp16 panels, the weights scaled by one power of two (fp16_exp()) so the largest
  // is in [1, 2); each call scales every activation row by its own power of two and rounds it to fp16;
  // vfmadd231ph multiplies in fp16 and sums kFp16RunPairs pairs of k per lane in fp16, then the run is
  // added to the f32 result. The scales keep every fp16 sum below 2^15 (no overflow) and make the
  // activations' and weights' rounding relative (2^-11), not absolute. Accuracy: a run of 64 fp16 sums
  // adds ~2^-12 * sqrt(64) relative to its partial sum, the same order as rounding the activations to
  // bf16 (kBf16Dot); tests/kernels/vision_gemm_fp16_test.cpp measures both against f64. Where
  // AVX512_FP16 runs (ActiveAvx512Fp16()): twice the f32 FMA's products per instruction.
  // Measured: rms error 1.2-1.3e-3 of the outputs' rms at K = 768 and 3072, bf16 activations 1.6-1.7e-3.
  // The weight scaling is exact but for weights below ~2^-17 of the largest (fp16 subnormals).
  // Falls back to kF32 when a weight is not finite or the largest is outside [2^-24, 2^24].
  kFp16,
};

// Pairs of k summed in fp16 per lane before the run goes to f32 (kFp16). 64: the flush (convert,
// pair-sum, add) then costs ~12% of the FMA issue slots; 32 costs ~25%.
inline constexpr int64_t kFp16RunPairs = 64;
// kFp16 scales an activation row so its largest magnitude is below 2^kFp16ActivationLog2Max: with the
// weights below 2^1, each lane's run of kFp16RunPairs (2^6) products then sums to less than
// 2^(8 + 1 + 6) = 2^15 (fp16 max: 65504), rounding included.
inline constexpr int kFp16ActivationLog2Max = 8;
static_assert(kFp16RunPairs == 64, "kFp16ActivationLog2Max assumes runs of 2^6 products");
// The power of two a row of activations with largest magnitude max_abs is multiplied by (kFp16).
int Fp16ActivationExponent(float max_abs);

class PackedGemmMatrix {
 public:
  static constexpr int kPanel = 48;  // output rows per panel (3 AVX-512 vectors)

  // Any dtype DequantizeRow handles. The source is only read here.
  static Result<PackedGemmMatrix> Pack(const TensorView& w);
  // The rows of several matrices with equal column counts, stacked in order (e.g. q, k, v -> one
  // [3D, D] product). The packed dtype is bf16 only if all parts are bf16.
  static Result<PackedGemmMatrix> PackStacked(const std::vector<TensorView>& parts);
  // The same with the math chosen by the caller. A math the CPU lacks runs the portable loops (tests).
  static Result<PackedGemmMatrix> PackStacked(const std::vector<TensorView>& parts, PackedMath math);
  // bf16_pairs: kBf16Dot, else kF32.
  static Result<PackedGemmMatrix> PackStacked(const std::vector<TensorView>& parts, bool bf16_pairs);

  int64_t rows() const { return rows_; }
  int64_t cols() const { return cols_; }
  DType dtype() const { return dtype_; }  // kBF16, kF16 (kFp16 math) or kF32
  PackedMath math() const { return math_; }
  int64_t nbytes() const { return static_cast<int64_t>(data_.size()); }
  int64_t panels() const { return (rows_ + kPanel - 1) / kPanel; }
  // True: bf16 panels are [ceil(cols/2)][kPanel][2] (a zero after an odd cols), and the product rounds
  // the activations to bf16. False: panels are [cols][kPanel] (or fp16 pairs: fp16_pairs()).
  bool bf16_pairs() const { return math_ == PackedMath::kBf16Dot; }
  // True: fp16 panels [ceil(cols/2)][kPanel][2] holding W * 2^fp16_exp() (kFp16).
  bool fp16_pairs() const { return math_ == PackedMath::kFp16; }
  int fp16_exp() const { return fp16_exp_; }
  bool pairs() const { return math_ != PackedMath::kF32; }
  // Columns as stored: cols rounded up to even in the pair layouts.
  int64_t padded_cols() const { return pairs() ? (cols_ + 1) / 2 * 2 : cols_; }
  // Panel p: padded_cols() x kPanel elements of dtype(), laid out as above.
  const uint8_t* panel(int64_t p) const { return data_.data() + p * padded_cols() * kPanel * elem_bytes(); }
  int elem_bytes() const { return dtype_ == DType::kF32 ? 4 : 2; }
  // Row r (< rows()) as f32 [cols()], exactly the source row (bf16 and f32 panels hold the source values;
  // fp16 panels too, but for weights so small against the largest (bf16: below 2^-17 of it) that the
  // scaled value falls between fp16's subnormal steps of 2^-24):
  // lets a tied embedding table be read from the packed lm_head once the source bytes are released.
  void DequantizeRow(int64_t r, float* out) const;
  // Index within a panel of the weight of column k, output lane `lane` (< kPanel).
  int64_t index(int64_t k, int64_t lane) const {
    return pairs() ? (k / 2) * 2 * kPanel + lane * 2 + (k & 1) : k * kPanel + lane;
  }

 private:
  int64_t rows_ = 0, cols_ = 0;
  DType dtype_ = DType::kF32;
  PackedMath math_ = PackedMath::kF32;
  int fp16_exp_ = 0;
  std::vector<uint8_t> data_;
};

// The instruction set GemmPacked runs: ActiveIsa().
Isa GemmPackedIsa();
// True when Pack() lays bf16 weights out for the AVX512_BF16 kernel (ActiveAvx512Bf16()).
bool GemmPackedUsesBf16Dot();
// The fastest math for the vision tower's 16-bit weights on this CPU: kFp16 where the AVX512_FP16
// kernel runs (ActiveAvx512Fp16()), else what Pack() uses. The decoder keeps Pack()'s choice: its
// prefill is not where its time goes, and its greedy tokens are compared with llama.cpp's.
PackedMath VisionPackedMath();

// x: [n, w.cols()] with row stride ldx; y: [n, w.rows()] with row stride ldy (must not alias x);
// bias: [w.rows()] or null. Threaded over panels with DefaultThreadPool().
void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy);
// Several matrices with equal cols() and math (e.g. the decoder's q/k/v or w1/w3) on the same input in
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
// With w.fp16_pairs() it follows the kernel's arithmetic step by step instead (fp16 rounding of the
// scaled activations and of every run sum, f32 flushes), so the two agree to the last bit but for
// rare double-rounding ties.
void GemmPackedRef(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                   int64_t ldy);

}  // namespace lfm
