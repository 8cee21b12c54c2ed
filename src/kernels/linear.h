// A weight matrix as the model multiplies it: the plain view (f32 / bf16 / f16, or q8_0 / q4_0 / K-quants
// on CPUs without the int8 kernel, run by MatMul), or q8_0 / q4_0 / q4_K / q5_K / q6_K repacked once into
// QuantPackedMatrix panels (run by QuantMatMul: int8 dot products on AVX-512 VNNI), or bf16 repacked once into the
// pair-interleaved panels of the packed GEMM that also runs the vision tower (kernels/vision_gemm.h:
// vdpbf16ps on AVX512_BF16, activations rounded to bf16 once per call). Model code calls Linear /
// LinearMany and does not care which.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "kernels/vision_gemm.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

struct LinearWeight {
  // dtype and shape always; data is not used once packed (the source bytes may have been released).
  TensorView view;
  std::shared_ptr<const QuantPackedMatrix> packed;
  std::shared_ptr<const PackedGemmMatrix> bf16_packed;  // bf16 pair panels (at most one of the two is set)

  int64_t rows() const { return view.rows(); }
  int64_t cols() const { return view.cols(); }
  DType dtype() const { return view.dtype; }
  // True when a packed copy holds the weights (then view.data may be released).
  bool is_packed() const { return packed != nullptr || bf16_packed != nullptr; }
  // Bytes read per use (decode): the packed panels, or the view's bytes.
  int64_t nbytes() const {
    return packed ? packed->nbytes() : bf16_packed ? bf16_packed->nbytes() : view.nbytes();
  }
  // Row r as f32 [cols()], from the packed copy when there is one (a tied embedding table reads the
  // lm_head's rows this way once the source bytes are released).
  void DequantizeRow(int64_t r, float* out) const;
};

// True when weights of dtype t are worth packing here: q8_0 / q4_0 / q4_K / q5_K / q6_K with the
// AVX-512 VNNI kernel, q4_0 with the AVX2 one (see linear.cpp for why not q8_0 there), never on the
// portable path; and LFM_INT8_MATMUL is not "0" (set it to 0 to measure or compare the f32-widening MatMul path).
// bf16 with the AVX-512 packed GEMM: pair-interleaved panels for vdpbf16ps where GemmPackedUsesBf16Dot(),
// else k-major panels widened to f32 for FMA; unless LFM_BF16_PACKED is "0" (then MatMul's row-major
// kernels run them, to measure or compare).
bool LinearPacks(DType t);

// Wraps v; packs it when LinearPacks(v.dtype). After packing, the caller may free v's bytes.
Result<LinearWeight> MakeLinearWeight(const TensorView& v);

// y [n, rows] (row stride ldy) = x [n, cols] (row stride ldx) times w^T.
void Linear(const LinearWeight& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);
inline void Linear(const LinearWeight& w, const float* x, int64_t n, float* y) {
  Linear(w, x, n, w.cols(), y, w.rows());
}

// Several matrices (same cols) on the same input in one parallel region where they are all packed
// or all plain (the usual case: one dtype per model); otherwise one call each.
struct LinearJob {
  const LinearWeight* w;
  float* y;
  int64_t ldy;
};
void LinearMany(const LinearJob* jobs, int count, const float* x, int64_t n, int64_t ldx);

}  // namespace lfm
