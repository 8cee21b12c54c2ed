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

}  // namespace

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  const int d = s.head_dim, H = s.n_heads;
  const int64_t nkp = (n_k + kKBlock - 1) / kKBlock * kKBlock, ldkt = TransposedKeyStride(nkp);
  // Per head: keys transposed, [d][ldkt] (zero padded to whole key blocks); values as contiguous rows.
  float* const kt = ThreadScratch(ScratchSlot::kAttentionKeys, static_cast<size_t>(H) * d * ldkt);
  float* const vp = ThreadScratch(ScratchSlot::kAttentionValues, static_cast<size_t>(H) * n_k * d);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H), [&](size_t b, size_t e, int) {
    for (size_t h = b; h < e; ++h) {
      TransposeKeys(k + h * d, ld_in, n_k, d, nkp, ldkt, kt + h * d * ldkt);
      PackValues(v + h * d, ld_in, n_k, d, vp + h * n_k * d);
    }
  });
  const int64_t n_blocks = (n_q + kQBlock - 1) / kQBlock;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H * n_blocks), [&](size_t b, size_t e, int) {
    std::vector<float> o(static_cast<size_t>(kQBlock) * d);
    FlashRows st;
    st.o = o.data(), st.q = nullptr;
    for (size_t task = b; task < e; ++task) {
      const int h = static_cast<int>(task / n_blocks);
      const int64_t t0 = static_cast<int64_t>(task % n_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n_q - t0));
      FlashStart(nq, d, st);
      const float* q_rows[kQBlock];
      float* out_rows[kQBlock];
      for (int r = 0; r < nq; ++r) q_rows[r] = q + (t0 + r) * ld_in + h * d, out_rows[r] = out + (t0 + r) * ld_out + h * d;
      FlashSweep(q_rows, nq, n_k, nullptr, kt + static_cast<int64_t>(h) * d * ldkt, ldkt,
                 vp + static_cast<int64_t>(h) * n_k * d, d, d, s.scale, st);
      FlashFinish(st, nq, d, out_rows);
    }
  });
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
