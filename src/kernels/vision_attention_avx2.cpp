// AVX2 version of AttentionBidirectional (vision_ops.h), for CPUs without AVX-512: the flash-style
// tiling and online softmax of flash_attention_avx2-inl.h (8-wide twin of the AVX-512 kernel), which the
// decoder's causal prefill shares. Always f32 (the bf16 option needs AVX512_BF16). LayerNorm and the
// GELUs have no AVX2 versions: an AVX2 CPU runs the portable loops for those (vision_ops.cpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/workspace.h"
#include "kernels/vision_ops_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

#include "kernels/hreduce_avx2-inl.h"        // HMax, HSum
#include "kernels/exp_avx2-inl.h"            // Exp256
inline float Widen(float v) { return v; }    // TransposeKeys / PackValues of f32 rows
#include "kernels/flash_attention_avx2-inl.h"  // FlashRows, FlashStart/FlashSweep/FlashFinish, TransposeKeys
#include "kernels/attention_bidirectional_tiled-inl.h"  // AttentionBidirectionalTiled

}  // namespace

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  AttentionBidirectionalTiled(q, k, v, ld_in, n_q, n_k, s.n_heads, s.head_dim, s.scale, out, ld_out);
}

}  // namespace lfm::avx2

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx2 {

bool VisionAttentionCompiled() {
#if defined(__x86_64__)
  return true;
#else
  return false;
#endif
}

}  // namespace lfm::avx2
