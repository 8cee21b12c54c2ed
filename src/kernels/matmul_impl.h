// Internal: the per-ISA row kernels behind MatMulRows. Each ISA file (matmul_avx512.cpp,
// matmul_avx2.cpp) returns its kernel for a weight dtype, or null when it has none (the dispatcher then
// uses the portable rows). The lookups themselves are baseline code; the kernels they return may only
// be called when ActiveIsa() is at least their ISA.
#pragma once

#include <cstdint>

#include "tensor/tensor_view.h"

namespace lfm {

using MatMulRowsFn = void (*)(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                              int64_t r0, int64_t r1);

namespace avx512 {
MatMulRowsFn MatMulRowsKernel(DType t);
// bf16 weights with activations rounded to bf16 (matmul_avx512bf16.cpp); only callable when
// ActiveAvx512Bf16(). Null when not compiled.
MatMulRowsFn MatMulRowsKernelBf16Dot();
}
namespace avx2 {
MatMulRowsFn MatMulRowsKernel(DType t);
}

}  // namespace lfm
