// Internal: the per-ISA versions of the vision kernels (vision_ops.h), each with the public signature.
// vision_ops.cpp picks one set once, from ActiveIsa(); a set may only be called when ActiveIsa() is at
// least its ISA.
#pragma once

#include <cstdint>

#include "base/cpu_features.h"
#include "kernels/vision_ops.h"

namespace lfm {

struct VisionKernels {
  void (*layer_norm_rows)(const float* x, int64_t rows, int64_t d, const float* w, const float* b, float eps,
                          float* y);
  void (*bias_gelu_tanh_rows)(float* x, int64_t rows, int64_t d, const float* bias);
  void (*bias_gelu_erf_rows)(float* x, int64_t rows, int64_t d, const float* bias);
  void (*attention_bidirectional)(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                                  int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out);
};

// CpuHasAvx512Bf16() (base/cpu_features.h): the CPU runs AVX512_BF16 (vdpbf16ps, vcvtne2ps2bf16).

namespace avx512 {
const VisionKernels* VisionKernelSet();  // null when not compiled (non-x86)
}

// The AVX2 attention (vision_attention_avx2.cpp); AVX2 CPUs run the portable LayerNorm and GELUs.
namespace avx2 {
bool VisionAttentionCompiled();  // false on non-x86 builds, where AttentionBidirectional is absent
void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q, int64_t n_k,
                            const BidirectionalAttentionShape& s, float* out, int64_t ld_out);
}

}  // namespace lfm
