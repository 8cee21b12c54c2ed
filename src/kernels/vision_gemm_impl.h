// Internal: the per-ISA panel kernels behind GemmPacked. vision_gemm.cpp picks one once, from
// ActiveIsa(); a kernel may only be called when ActiveIsa() is at least its ISA.
#pragma once

#include <cstdint>

#include "kernels/vision_gemm.h"

namespace lfm {

// y's panels [p0, p1) for all n tokens, on the calling thread.
using GemmPanelRangeFn = void (*)(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx,
                                  const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);

// The same for a bf16_pairs() matrix, with the activations already bf16: xb [n][w.padded_cols()]
// with row stride ldxb (elements).
using GemmPanelRangeBf16Fn = void (*)(const PackedGemmMatrix& w, const uint16_t* xb, int64_t n, int64_t ldxb,
                                      const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1);

// The same for a fp16_pairs() matrix, with the activations already scaled and rounded to fp16 pairs:
// xh [n][w.padded_cols()] with row stride ldxh (elements), inv[t] = 2^-(row t's exponent + w.fp16_exp()).
using GemmPanelRangeFp16Fn = void (*)(const PackedGemmMatrix& w, const uint16_t* xh, int64_t n, int64_t ldxh,
                                      const float* inv, const float* bias, float* y, int64_t ldy, int64_t p0,
                                      int64_t p1);

// Rows [0, n) of x (K values, row stride ldx) times 2^exps[t] (exps[t] = Fp16ActivationExponent of the
// row's largest magnitude, written here) rounded to fp16 (nearest even) into dst (row stride ldd >= K
// rounded up to even; a zero after an odd K).
using RowsToFp16ScaledFn = void (*)(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd,
                                    int* exps);
void RowsToFp16ScaledRef(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd, int* exps);

namespace avx512 {
GemmPanelRangeFn GemmPanelKernel();  // null when not compiled (non-x86)
// vision_gemm_avx512fp16.cpp; only callable when ActiveAvx512Fp16().
GemmPanelRangeFp16Fn GemmPanelKernelFp16();
RowsToFp16ScaledFn RowsToFp16ScaledKernel();
// vision_gemm_avx512bf16.cpp; only callable when ActiveAvx512Bf16().
GemmPanelRangeBf16Fn GemmPanelKernelBf16();
}
namespace avx2 {
GemmPanelRangeFn GemmPanelKernel();
}

}  // namespace lfm
