// Matrix products against a weight matrix W [rows, cols] (row-major, any supported dtype):
//   y[t, r] = sum_k x[t, k] * W[r, k]   for t < n tokens, r < rows.
// x is f32 [n, cols] (row stride ldx), y is f32 [n, rows] (row stride ldy). n == 1 is the decode
// GEMV; n > 1 is the blocked prefill GEMM. The entry point dispatches on the weight dtype, so new
// weight types (q8_0, q4_0) and new SIMD paths slot in here without touching model code.
#pragma once

#include <cstdint>

#include "base/cpu_features.h"
#include "tensor/tensor_view.h"

namespace lfm {

// True if MatMul has a kernel for weights of this dtype.
bool MatMulSupports(DType t);

// Threaded over output rows with DefaultThreadPool(). W must have a supported dtype (checked at
// model load; an unsupported one here is a programming error and leaves y untouched).
void MatMul(const TensorView& w, const float* x, int64_t n, float* y);
void MatMul(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);

// Several weight matrices (same cols) applied to the same input in one parallel region, e.g. the
// q/k/v projections or the FFN gate/up pair: one thread hand-off instead of several, and x stays hot.
struct MatMulJob {
  const TensorView* w;
  float* y;
  int64_t ldy;
};
void MatMulMany(const MatMulJob* jobs, int count, const float* x, int64_t n, int64_t ldx);

// Single-threaded plain reference, the twin every SIMD path is tested against.
void MatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);
// The same with each activation first rounded to bf16 as the AVX512_BF16 kernel does
// (kernels/bf16_dot.h): the twin of MatMul where MatMulRoundsActivationsToBf16(w.dtype).
void MatMulRefBf16Activations(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);
// True when MatMul multiplies weights of dtype t with activations rounded to bf16: bf16 weights on a
// CPU with AVX512_BF16 (ActiveAvx512Bf16()). Error vs f32 math: kernels/bf16_dot.h.
bool MatMulRoundsActivationsToBf16(DType t);

// Computes output rows [r0, r1) only, on the calling thread (the building block of MatMul).
void MatMulRows(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                int64_t r0, int64_t r1);

// The instruction set MatMul runs for weights of dtype t: ActiveIsa(), or lower where that ISA has no
// kernel for t (then the next lower one's; scalar = the portable rows).
Isa MatMulIsa(DType t);
// True when f32 weights run the AVX-512 kernel.
bool MatMulUsesAvx512();

}  // namespace lfm
