// Internal: the per-ISA pieces behind QuantMatMul. The lookups are baseline code; the functions they
// return may only be called when QuantMatMulIsa() says so.
#pragma once

#include <cstdint>

#include "kernels/quant_matmul.h"

namespace lfm {

using QuantPanelsFn = void (*)(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy,
                               int64_t p0, int64_t p1);
// Quantizes tokens [t0, t1) of x into a (a already sized): one form (per 32 or per 256) per function.
using QuantizeActsFn = void (*)(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a);

namespace avx512 {
// Null when this build has no AVX-512 VNNI code (non-x86).
QuantPanelsFn QuantPanelsKernel(DType t);
QuantizeActsFn QuantizeActsKernel();
// q4_K / q5_K / q6_K panels and the per-256 quantizer (quant_matmul_kquant_avx512.cpp); null without
// VNNI code in the build.
QuantPanelsFn KQuantPanelsKernel(DType t);
QuantizeActsFn KQuantizeActsKernel();
}  // namespace avx512
namespace avx2 {
QuantPanelsFn QuantPanelsKernel(DType t);
QuantizeActsFn QuantizeActsKernel();
}  // namespace avx2

// Portable versions (quant_matmul_ref.cpp).
void QuantPanelsPortable(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                         int64_t p1);
void QuantizeActsPortable(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a);
// The per-256 (K-quant) form (quant_matmul_kquant_ref.cpp).
void KQuantizeActsPortable(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a);

}  // namespace lfm
