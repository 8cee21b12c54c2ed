// A weight matrix as the model multiplies it: the plain view (f32 / bf16 / f16, or q8_0 / q4_0 on CPUs
// without the int8 kernel, run by MatMul), or q8_0 / q4_0 repacked once into QuantPackedMatrix panels
// (run by QuantMatMul: int8 dot products on AVX-512 VNNI). Model code calls Linear / LinearMany and
// does not care which.
#pragma once

#include <cstdint>
#include <memory>

#include "kernels/matmul.h"
#include "kernels/quant_matmul.h"
#include "lfm/status.h"
#include "tensor/tensor_view.h"

namespace lfm {

struct LinearWeight {
  // dtype and shape always; data is not used once packed (the source bytes may have been released).
  TensorView view;
  std::shared_ptr<const QuantPackedMatrix> packed;

  int64_t rows() const { return view.rows(); }
  int64_t cols() const { return view.cols(); }
  DType dtype() const { return view.dtype; }
  // Bytes read per use (decode): the packed panels, or the view's bytes.
  int64_t nbytes() const { return packed ? packed->nbytes() : view.nbytes(); }
};

// True when weights of dtype t are worth packing here: q8_0 / q4_0 with the AVX-512 VNNI kernel, q4_0
// with the AVX2 one (see linear.cpp for why not q8_0 there), never on the portable path; and
// LFM_INT8_MATMUL is not "0" (set it to 0 to measure or compare the f32-widening MatMul path).
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
