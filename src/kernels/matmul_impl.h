// Internal: per-dtype SIMD row kernels behind MatMulRows.
#pragma once

#include "tensor/tensor_view.h"

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#define LFM_HAVE_AVX512 1
#else
#define LFM_HAVE_AVX512 0
#endif

namespace lfm::internal {

#if LFM_HAVE_AVX512
void MatMulRowsF32Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                         int64_t ldy, int64_t r0, int64_t r1);
void MatMulRowsBF16Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                          int64_t ldy, int64_t r0, int64_t r1);
void MatMulRowsF16Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                         int64_t ldy, int64_t r0, int64_t r1);
void MatMulRowsQ8_0Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                          int64_t ldy, int64_t r0, int64_t r1);
void MatMulRowsQ4_0Avx512(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y,
                          int64_t ldy, int64_t r0, int64_t r1);
#endif

}  // namespace lfm::internal
