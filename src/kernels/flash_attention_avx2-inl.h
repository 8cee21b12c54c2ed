// Per-ISA code, not an ordinary header: tiled ("flash") attention for AVX2 regions, the 8-wide twin of
// flash_attention_avx512-inl.h with the same interface (FlashRows, FlashStart / FlashSweep /
// FlashFinish, TransposedKeyStride, TransposeKeys, PackValues), shared by the vision tower's
// bidirectional attention (vision_attention_avx2.cpp) and the decoder's causal prefill (ops_avx2.cpp,
// through attention_causal_tiled-inl.h). Keys come in blocks of kKBlock; scores exist only as a
// [4 x 16] register tile. Include it inside an AVX2 target region, in the anonymous namespace that
// uses it, once Exp256 (exp_avx2-inl.h), HMax / HSum (hreduce_avx2-inl.h) and Widen(float / uint16_t)
// are defined; <algorithm>, <cmath> and <immintrin.h> come first. It includes nothing itself.

constexpr int kQBlock = 32;
constexpr int kKBlock = 16;  // 2 vectors of 8 keys
constexpr int kRows = 4;     // query rows per register tile

// All-ones in lanes [0, n), n clamped to [0, 8]: the mask of maskload / maskstore / and.
inline __m256i LaneMask(int n) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(std::clamp(n, 0, 8)), lane);
}

// Online-softmax state of one task's query rows.
struct FlashRows {
  float m[kQBlock];  // running max of scale * score (-inf before the first block)
  float l[kQBlock];  // running sum of exp(scale * score - m)
  float* o;          // [kQBlock, d] unnormalised output
  float* q;          // [kQBlock, d] scratch of the AVX-512 twin; unused here
};

// acc[r][c] = sum_i q[r][i] * kt[i][8c + lane] for kRows rows x kKBlock keys (kt row stride ldkt).
inline void ScoreTile(const float* const q[kRows], const float* kt, int64_t ldkt, int d, __m256 acc[kRows][2]) {
  for (int r = 0; r < kRows; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  for (int i = 0; i < d; ++i) {
    const float* kr = kt + static_cast<int64_t>(i) * ldkt;
    const __m256 k0 = _mm256_loadu_ps(kr), k1 = _mm256_loadu_ps(kr + 8);
    for (int r = 0; r < kRows; ++r) {
      const __m256 qb = _mm256_broadcast_ss(q[r] + i);
      acc[r][0] = _mm256_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(qb, k1, acc[r][1]);
    }
  }
}

// Online-softmax update of one row from its scores s (keys past the valid ones masked off by kmask):
// raises the running max if needed, writes p = exp(scale * s - m) (0 for masked keys) to p and returns
// the factor the row's earlier output and sum must be multiplied by.
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

// Rows [0, nq) of st have seen no key yet.
inline void FlashStart(int nq, int d, FlashRows& st) {
  const int nq4 = (nq + kRows - 1) / kRows * kRows;  // the state arrays cover whole tiles
  for (int r = 0; r < nq4; ++r) st.m[r] = -INFINITY, st.l[r] = 0.0f;
  std::fill(st.o, st.o + static_cast<int64_t>(nq4) * d, 0.0f);
}

// Adds keys [0, n_k) to the state of query rows [0, nq) of one head; the interface and the causal
// limits lim are those of the AVX-512 FlashSweep.
inline void FlashSweep(const float* const* q_rows, int nq, int64_t n_k, const int64_t* lim, const float* kt,
                       int64_t ldkt, const float* v, int64_t ldv, int d, float scale, FlashRows& st) {
  alignas(32) float p[kRows * kKBlock];
  const int64_t n_sweep = lim ? std::min(n_k, lim[nq - 1]) : n_k;
  for (int64_t j0 = 0; j0 < n_sweep; j0 += kKBlock) {
    const int nk = static_cast<int>(std::min<int64_t>(kKBlock, n_k - j0));
    for (int r0 = 0; r0 < nq; r0 += kRows) {
      // Rows past nq (a partial last tile) repeat the last real row; their results are never written.
      const float* qr[kRows];
      int seen[kRows];  // keys of this block row r sees
      for (int r = 0; r < kRows; ++r) {
        const int row = std::min(r0 + r, nq - 1);
        qr[r] = q_rows[row];
        seen[r] = lim ? static_cast<int>(std::clamp<int64_t>(lim[row] - j0, 0, nk)) : nk;
      }
      const int tile_nk = seen[kRows - 1];  // the most any row of the tile sees (lim nondecreasing)
      if (tile_nk == 0) continue;
      __m256 s[kRows][2];
      ScoreTile(qr, kt + j0, ldkt, d, s);
      float corr[kRows];
      for (int r = 0; r < kRows; ++r) {
        const __m256 kmask[2] = {_mm256_castsi256_ps(LaneMask(seen[r])), _mm256_castsi256_ps(LaneMask(seen[r] - 8))};
        corr[r] = SoftmaxStep(s[r], kmask, scale, &st.m[r0 + r], &st.l[r0 + r], p + r * kKBlock);
      }
      for (int c0 = 0; c0 < d; c0 += 16) {
        PvChunk(p, tile_nk, v + j0 * ldv, ldv, c0, LaneMask(d - c0), LaneMask(d - c0 - 8), corr,
                st.o + static_cast<int64_t>(r0) * d, d);
      }
    }
  }
}

// out_rows[r] = o[r] / l[r], rows [0, nq).
inline void FlashFinish(const FlashRows& st, int nq, int d, float* const* out_rows) {
  for (int r = 0; r < nq; ++r) {
    const __m256 inv = _mm256_set1_ps(1.0f / st.l[r]);
    for (int i = 0; i < d; i += 8) {
      const __m256i m = LaneMask(d - i);
      _mm256_maskstore_ps(out_rows[r] + i, m, _mm256_mul_ps(inv, _mm256_maskload_ps(st.o + r * d + i, m)));
    }
  }
}

// Row stride of transposed keys padded to nkp keys: one cache line more, so the d rows a score tile
// reads do not all fall in the same L1 sets (see the AVX-512 twin).
inline int64_t TransposedKeyStride(int64_t nkp) { return nkp + 16; }

// Keys [0, n_k) of one head (row j at k + j * ldk; T = float or uint16_t bf16 bits, widened) transposed
// into kt: d rows of stride ldkt holding keys 0 .. nkp-1, keys n_k .. nkp-1 zero.
template <typename T>
void TransposeKeys(const T* k, int64_t ldk, int64_t n_k, int d, int64_t nkp, int64_t ldkt, float* kt) {
  for (int i = 0; i < d; ++i) std::fill(kt + i * ldkt + n_k, kt + i * ldkt + nkp, 0.0f);
  for (int64_t j = 0; j < n_k; ++j) {
    const T* kr = k + j * ldk;
    for (int i = 0; i < d; ++i) kt[i * ldkt + j] = Widen(kr[i]);
  }
}

// Values [0, n_k) of one head (row j at v + j * ldv) as contiguous f32 rows of d.
template <typename T>
void PackValues(const T* v, int64_t ldv, int64_t n_k, int d, float* dst) {
  for (int64_t j = 0; j < n_k; ++j) {
    for (int i = 0; i < d; ++i) dst[j * d + i] = Widen(v[j * ldv + i]);
  }
}
