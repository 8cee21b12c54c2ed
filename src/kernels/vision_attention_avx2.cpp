// AVX2 version of AttentionBidirectional (vision_ops.h), for CPUs without AVX-512: the same
// flash-style tiling and online softmax as the AVX-512 kernel (vision_ops_avx512.cpp) with 8-wide
// vectors. A task is one head and kQBlock queries; keys come in blocks of kKBlock, scores exist only
// as a [4 x 16] register tile. Always f32 (the bf16 option needs AVX512_BF16). LayerNorm and the
// GELUs have no AVX2 versions: an AVX2 CPU runs the portable loops for those (vision_ops.cpp).
#include <algorithm>
#include <cmath>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/vision_ops_impl.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

constexpr int kQBlock = 32;
constexpr int kKBlock = 16;  // 2 vectors of 8 keys
constexpr int kRows = 4;     // query rows per register tile

// All-ones in lanes [0, n), n clamped to [0, 8]: the mask of maskload / maskstore / and.
inline __m256i LaneMask(int n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(std::clamp(n, 0, 8)), lane);
}

#include "kernels/hreduce_avx2-inl.h"  // HMax, HSum

#include "kernels/exp_avx2-inl.h"  // Exp256

struct FlashRows {
  float m[kQBlock];  // running max of scale * score
  float l[kQBlock];  // running sum of exp(scale * score - m)
  float* o;          // [kQBlock, d] unnormalised output
};

// acc[r][c] = sum_i q[r][i] * kt[i][8c + lane] for kRows rows x kKBlock keys (kt row stride nkp).
inline void ScoreTile(const float* const q[kRows], const float* kt, int64_t nkp, int d, __m256 acc[kRows][2]) {
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int i = 0; i < d; ++i) {
    const float* kr = kt + static_cast<int64_t>(i) * nkp;
    const __m256 k0 = _mm256_loadu_ps(kr), k1 = _mm256_loadu_ps(kr + 8);
    for (int r = 0; r < kRows; ++r) {
      const __m256 qb = _mm256_broadcast_ss(q[r] + i);
      acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
    }
  }
}

// Online-softmax update of one row (see the AVX-512 SoftmaxStep): writes p (0 for masked keys),
// returns the factor for the row's earlier output and sum.
inline float SoftmaxStep(__m256 s[2], const __m256 kmask[2], float scale, float* m, float* l, float* p) {
  const __m256 sc = _mm256_set1_ps(scale), ninf = _mm256_set1_ps(-INFINITY);
  for (int c = 0; c < 2; ++c) s[c] = _mm256_blendv_ps(ninf, _mm256_mul_ps(s[c], sc), kmask[c]);
  const float bm = HMax(_mm256_max_ps(s[0], s[1]));
  float corr = 1.0f;
  if (bm > *m) {
    corr = std::exp(*m - bm);  // exp(-inf) = 0 on the first block
    *m = bm;
  }
  const __m256 mv = _mm256_set1_ps(*m);
  const __m256 e0 = _mm256_and_ps(kmask[0], Exp256(_mm256_sub_ps(s[0], mv)));
  const __m256 e1 = _mm256_and_ps(kmask[1], Exp256(_mm256_sub_ps(s[1], mv)));
  _mm256_storeu_ps(p, e0);
  _mm256_storeu_ps(p + 8, e1);
  *l = *l * corr + HSum(_mm256_add_ps(e0, e1));
  return corr;
}

// o[r][c0 .. c0+16) = corr[r] * o[r][..] + sum_{j < nk} p[r][j] * v[j][c0 ..]; m0 / m1 mask the two
// vectors of a chunk at the end of the head. Only the nk valid value rows are read.
inline void PvChunk(const float* p, int nk, const float* v, int64_t ldv, int c0, __m256i m0, __m256i m1,
                    const float* corr, float* o, int d) {
  __m256 acc[kRows][2];
  for (int r = 0; r < kRows; ++r) {
    const __m256 cr = _mm256_set1_ps(corr[r]);
    acc[r][0] = _mm256_mul_ps(cr, _mm256_maskload_ps(o + r * d + c0, m0));
    acc[r][1] = _mm256_mul_ps(cr, _mm256_maskload_ps(o + r * d + c0 + 8, m1));
  }
  for (int j = 0; j < nk; ++j) {
    const float* vr = v + j * ldv + c0;
    const __m256 v0 = _mm256_maskload_ps(vr, m0), v1 = _mm256_maskload_ps(vr + 8, m1);
    for (int r = 0; r < kRows; ++r) {
      const __m256 pb = _mm256_broadcast_ss(p + r * kKBlock + j);
      acc[r][0] = _mm256_fmadd_ps(pb, v0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(pb, v1, acc[r][1]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    _mm256_maskstore_ps(o + r * d + c0, m0, acc[r][0]);
    _mm256_maskstore_ps(o + r * d + c0 + 8, m1, acc[r][1]);
  }
}

void FlashTask(const float* q, const float* v, int64_t ld_in, int nq, int64_t n_k, const float* kt, int64_t nkp,
               int d, float scale, FlashRows& st, float* out, int64_t ld_out) {
  const int nq4 = (nq + kRows - 1) / kRows * kRows;
  for (int r = 0; r < nq4; ++r) st.m[r] = -INFINITY, st.l[r] = 0.0f;
  std::fill(st.o, st.o + static_cast<int64_t>(nq4) * d, 0.0f);
  alignas(32) float p[kRows * kKBlock];
  for (int64_t j0 = 0; j0 < n_k; j0 += kKBlock) {
    const int nk = static_cast<int>(std::min<int64_t>(kKBlock, n_k - j0));
    const __m256 kmask[2] = {_mm256_castsi256_ps(LaneMask(nk)), _mm256_castsi256_ps(LaneMask(nk - 8))};
    for (int r0 = 0; r0 < nq; r0 += kRows) {
      // Rows past nq (a partial last tile) repeat the last real row; their results are never written.
      const float* qr[kRows];
      for (int r = 0; r < kRows; ++r) qr[r] = q + std::min(r0 + r, nq - 1) * ld_in;
      __m256 s[kRows][2];
      ScoreTile(qr, kt + j0, nkp, d, s);
      float corr[kRows];
      for (int r = 0; r < kRows; ++r) {
        corr[r] = SoftmaxStep(s[r], kmask, scale, &st.m[r0 + r], &st.l[r0 + r], p + r * kKBlock);
      }
      for (int c0 = 0; c0 < d; c0 += 16) {
        PvChunk(p, nk, v + j0 * ld_in, ld_in, c0, LaneMask(d - c0), LaneMask(d - c0 - 8), corr,
                st.o + static_cast<int64_t>(r0) * d, d);
      }
    }
  }
  for (int r = 0; r < nq; ++r) {
    const __m256 inv = _mm256_set1_ps(1.0f / st.l[r]);
    for (int i = 0; i < d; i += 8) {
      const __m256i m = LaneMask(d - i);
      _mm256_maskstore_ps(out + r * ld_out + i, m, _mm256_mul_ps(inv, _mm256_maskload_ps(st.o + r * d + i, m)));
    }
  }
}

}  // namespace

void AttentionBidirectional(const float* q, const float* k, const float* v, int64_t ld_in, int64_t n_q,
                            int64_t n_k, const BidirectionalAttentionShape& s, float* out, int64_t ld_out) {
  if (n_q <= 0 || n_k <= 0) return;
  const int d = s.head_dim, H = s.n_heads;
  const int64_t nkp = (n_k + kKBlock - 1) / kKBlock * kKBlock;
  // Keys transposed per head, [H][d][nkp] (zero padded to whole key blocks).
  std::vector<float> kt(static_cast<size_t>(H) * d * nkp, 0.0f);
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H), [&](size_t b, size_t e, int) {
    for (size_t h = b; h < e; ++h) {
      float* dst = kt.data() + h * d * nkp;
      for (int64_t j = 0; j < n_k; ++j) {
        const float* kr = k + j * ld_in + h * d;
        for (int i = 0; i < d; ++i) dst[i * nkp + j] = kr[i];
      }
    }
  });
  const int64_t n_blocks = (n_q + kQBlock - 1) / kQBlock;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(H * n_blocks), [&](size_t b, size_t e, int) {
    std::vector<float> o(static_cast<size_t>(kQBlock) * d);
    FlashRows st;
    st.o = o.data();
    for (size_t task = b; task < e; ++task) {
      const int h = static_cast<int>(task / n_blocks);
      const int64_t t0 = static_cast<int64_t>(task % n_blocks) * kQBlock;
      const int nq = static_cast<int>(std::min<int64_t>(kQBlock, n_q - t0));
      FlashTask(q + t0 * ld_in + h * d, v + h * d, ld_in, nq, n_k, kt.data() + static_cast<int64_t>(h) * d * nkp,
                nkp, d, s.scale, st, out + t0 * ld_out + h * d, ld_out);
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
