// Per-ISA code, not an ordinary header: tiled ("flash") attention for AVX-512 regions, shared by the
// vision tower's bidirectional attention (vision_ops_avx512.cpp) and the decoder's causal prefill
// (ops_avx512.cpp). Include it inside an AVX-512 target region, in the anonymous namespace that uses
// it, once Exp512 (exp_avx512-inl.h) and TailMask(int64_t) are defined; <algorithm>, <cmath> and
// <immintrin.h> come first. It includes nothing itself.

// Attention is tiled flash-attention style: a task is one head and kQBlock queries; it sweeps the keys
// in blocks of kKBlock and keeps, per query row, the running max m, the running sum l of exp(s - m)
// and the unnormalised output O (online softmax). Scores therefore only ever exist as a
// [4 x kKBlock] register tile, never as an n x n (or even kQBlock x n) matrix, and one block of K
// and V (16 KiB each at head_dim 64) is reused by all kQBlock queries of the task while in L1/L2.
constexpr int kQBlock = 32;
constexpr int kKBlock = 64;  // 4 vectors of 16 keys
constexpr int kRows = 4;     // query rows per register tile

// Online-softmax state of one task's query rows.
struct FlashRows {
  float m[kQBlock];  // running max of scale * score (-inf before the first block)
  float l[kQBlock];  // running sum of exp(scale * score - m)
  float* o;          // [kQBlock, d] unnormalised output
  float* q;          // [kQBlock, d] FlashSweep's scratch: the rows' queries times the scale
};

// Scores of kRows query rows (row pointers q[r], so the tail tile can repeat its last row) against
// kKBlock keys: acc[r][c] = sum_i q[r][i] * kt[i][16c + lane]. kt is the key block transposed, row
// stride ldkt, so each step is 4 vector loads and 4 broadcasts for 16 FMAs and no horizontal sums.
inline void ScoreTile(const float* const q[kRows], const float* kt, int64_t ldkt, int d, __m512 acc[kRows][4]) {
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r)
#pragma GCC unroll 16
    for (int c = 0; c < 4; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int i = 0; i < d; ++i) {
    const float* kr = kt + static_cast<int64_t>(i) * ldkt;
    const __m512 k0 = _mm512_loadu_ps(kr), k1 = _mm512_loadu_ps(kr + 16), k2 = _mm512_loadu_ps(kr + 32),
                 k3 = _mm512_loadu_ps(kr + 48);
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const __m512 qb = _mm512_set1_ps(q[r][i]);
      acc[r][0] = _mm512_fmadd_ps(qb, k0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(qb, k1, acc[r][1]);
      acc[r][2] = _mm512_fmadd_ps(qb, k2, acc[r][2]);
      acc[r][3] = _mm512_fmadd_ps(qb, k3, acc[r][3]);
    }
  }
}

// Lane r of the result = op over the 16 lanes of v[r], for 4 vectors at once (a partial transpose:
// 13 shuffles and ops where 4 separate reductions take ~32).
template <__m512 (*Op)(__m512, __m512), __m256 (*Op256)(__m256, __m256), __m128 (*Op128)(__m128, __m128)>
inline __m128 Reduce4(const __m512 v[4]) {
  const __m512 a01 = Op(_mm512_unpacklo_ps(v[0], v[1]), _mm512_unpackhi_ps(v[0], v[1]));
  const __m512 a23 = Op(_mm512_unpacklo_ps(v[2], v[3]), _mm512_unpackhi_ps(v[2], v[3]));
  // Per 128-bit chunk: lane r holds row r's partial over that chunk's lanes.
  const __m512 b = Op(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a01), _mm512_castps_pd(a23))),
                      _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a01), _mm512_castps_pd(a23))));
  const __m256 c = Op256(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
  return Op128(_mm256_castps256_ps128(c), _mm256_extractf128_ps(c, 1));
}

// Online-softmax update of a tile's kRows rows from their score tiles s (q already scaled; row r sees
// the first seen[r] keys of the block, the rest are masked off): raises each row's running max m,
// writes p = exp(s - m) (0 for masked keys) to p (row r at p + r * kKBlock), rescales the running
// sums l and returns in corr the factors the rows' earlier outputs must be multiplied by. The 4 rows'
// maxima, sums and corrections are vector ops, with no branch.
inline void SoftmaxTile(__m512 s[kRows][4], const int seen[kRows], float* m, float* l, float* p, float* corr) {
  static_assert(kRows == 4, "Reduce4 and the 128-bit row vectors hold 4 rows");
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  __m512 mx[kRows];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    if (seen[r] < kKBlock) {
#pragma GCC unroll 16
      for (int c = 0; c < 4; ++c) s[r][c] = _mm512_mask_mov_ps(ninf, TailMask(std::max(0, seen[r] - 16 * c)), s[r][c]);
    }
    mx[r] = _mm512_max_ps(_mm512_max_ps(s[r][0], s[r][1]), _mm512_max_ps(s[r][2], s[r][3]));
  }
  const __m128 m_old = _mm_loadu_ps(m);
  const __m128 m_new = _mm_max_ps(m_old, Reduce4<_mm512_max_ps, _mm256_max_ps, _mm_max_ps>(mx));
  // exp(m_old - m_new), 0 on a row's first keys (m_old = -inf); 1 while a row has seen no key at all
  // (-inf - -inf would be NaN).
  const __m128 c = _mm512_castps512_ps128(Exp512(_mm512_castps128_ps512(_mm_sub_ps(m_old, m_new))));
  _mm_storeu_ps(corr, _mm_blendv_ps(c, _mm_set1_ps(1.0f), _mm_cmpeq_ps(m_new, _mm_set1_ps(-INFINITY))));
  _mm_storeu_ps(m, m_new);
  __m512 sum[kRows];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const __m512 mv = _mm512_set1_ps(m[r]);
    sum[r] = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int c4 = 0; c4 < 4; ++c4) {
      __m512 e = Exp512(_mm512_sub_ps(s[r][c4], mv));
      if (seen[r] < kKBlock) e = _mm512_maskz_mov_ps(TailMask(std::max(0, seen[r] - 16 * c4)), e);
      _mm512_storeu_ps(p + r * kKBlock + 16 * c4, e);
      sum[r] = _mm512_add_ps(sum[r], e);
    }
  }
  _mm_storeu_ps(l, _mm_fmadd_ps(_mm_loadu_ps(l), _mm_loadu_ps(corr), Reduce4<_mm512_add_ps, _mm256_add_ps, _mm_add_ps>(sum)));
}

// o[r][c0 .. c0+16*NV) = corr[r] * o[r][..] + sum_{j < nk} p[r][j] * v[j][c0 ..] for kRows rows; the
// last vector of the chunk is masked by `last`. Only the nk valid value rows are read.
// Not inlined: inside the sweep, the softmax's hoisted constants took the registers this loop keeps its
// value vectors in, and it re-read V from memory for every row (measured 2x slower).
template <int NV>
__attribute__((noinline)) void PvChunk(const float* p, int nk, const float* v, int64_t ldv, int c0, __mmask16 last, const float* corr,
             float* o, int d) {
  __m512 acc[kRows][NV];
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
    const __m512 cr = _mm512_set1_ps(corr[r]);
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? last : __mmask16(0xffff);
      acc[r][c] = _mm512_mul_ps(cr, _mm512_maskz_loadu_ps(m, o + r * d + c0 + 16 * c));
    }
  }
  for (int j = 0; j < nk; ++j) {
    const float* vr = v + j * ldv + c0;
    __m512 vv[NV];
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      vv[c] = c == NV - 1 ? _mm512_maskz_loadu_ps(last, vr + 16 * c) : _mm512_loadu_ps(vr + 16 * c);
    }
#pragma GCC unroll 16
    for (int r = 0; r < kRows; ++r) {
      const __m512 pb = _mm512_set1_ps(p[r * kKBlock + j]);
#pragma GCC unroll 16
      for (int c = 0; c < NV; ++c) acc[r][c] = _mm512_fmadd_ps(pb, vv[c], acc[r][c]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
    for (int c = 0; c < NV; ++c) {
      const __mmask16 m = c == NV - 1 ? last : __mmask16(0xffff);
      _mm512_mask_storeu_ps(o + r * d + c0 + 16 * c, m, acc[r][c]);
    }
  }
}

void PvTile(const float* p, int nk, const float* v, int64_t ldv, int d, const float* corr, float* o) {
  for (int c0 = 0; c0 < d; c0 += 64) {
    const int left = std::min(64, d - c0);
    const int nv = (left + 15) / 16;
    const __mmask16 last = TailMask(left - 16 * (nv - 1));
    switch (nv) {
      case 1: PvChunk<1>(p, nk, v, ldv, c0, last, corr, o, d); break;
      case 2: PvChunk<2>(p, nk, v, ldv, c0, last, corr, o, d); break;
      case 3: PvChunk<3>(p, nk, v, ldv, c0, last, corr, o, d); break;
      default: PvChunk<4>(p, nk, v, ldv, c0, last, corr, o, d); break;
    }
  }
}

// Rows [0, nq) of st have seen no key yet.
inline void FlashStart(int nq, int d, FlashRows& st) {
  const int nq4 = (nq + kRows - 1) / kRows * kRows;  // the state arrays cover whole tiles
  for (int r = 0; r < nq4; ++r) st.m[r] = -INFINITY, st.l[r] = 0.0f;
  std::fill(st.o, st.o + static_cast<int64_t>(nq4) * d, 0.0f);
}

// Adds keys [0, n_k) to the state of query rows [0, nq) (row r's query at q_rows[r], d floats; rows
// may belong to different heads that share these keys). kt holds the keys transposed (d rows of stride
// ldkt, whole key blocks zero padded: see TransposeKeys), v their value rows (stride ldv). lim: null
// when every row sees all n_k keys, else row r sees keys [0, lim[r]) only (a causal mask; lim
// nondecreasing, each <= n_k). A row that sees no key of a block keeps its state (p 0, correction 1),
// so a row must see at least one key over all the sweeps before FlashFinish. A row's result depends
// only on its query and the keys it sees, not on the other rows of its tile or on how its keys were
// split into sweeps at kKBlock boundaries: the causal attention relies on that (attention_causal_tiled-inl.h).
inline void FlashSweep(const float* const* q_rows, int nq, int64_t n_k, const int64_t* lim, const float* kt,
                       int64_t ldkt, const float* v, int64_t ldv, int d, float scale, FlashRows& st) {
  alignas(64) float p[kRows * kKBlock];
  // The rows' queries times the scale, once: the score tiles then come out scaled.
  const __m512 sc = _mm512_set1_ps(scale);
  for (int r = 0; r < nq; ++r) {
    for (int i = 0; i < d; i += 16) {
      const __mmask16 m = TailMask(d - i);
      _mm512_mask_storeu_ps(st.q + r * d + i, m, _mm512_mul_ps(sc, _mm512_maskz_loadu_ps(m, q_rows[r] + i)));
    }
  }
  const int64_t n_sweep = lim ? std::min(n_k, lim[nq - 1]) : n_k;
  for (int64_t j0 = 0; j0 < n_sweep; j0 += kKBlock) {
    const int nk = static_cast<int>(std::min<int64_t>(kKBlock, n_k - j0));
    for (int r0 = 0; r0 < nq; r0 += kRows) {
      // Rows past nq (a partial last tile) repeat the last real row; their results are never written.
      const float* qr[kRows];
      int seen[kRows];  // keys of this block row r sees
#pragma GCC unroll 16
      for (int r = 0; r < kRows; ++r) {
        const int row = std::min(r0 + r, nq - 1);
        qr[r] = st.q + row * d;
        seen[r] = lim ? static_cast<int>(std::clamp<int64_t>(lim[row] - j0, 0, nk)) : nk;
      }
      const int tile_nk = seen[kRows - 1];  // the most any row of the tile sees (lim nondecreasing)
      if (tile_nk == 0) continue;
      __m512 s[kRows][4];
      ScoreTile(qr, kt + j0, ldkt, d, s);
      alignas(16) float corr[kRows];
      SoftmaxTile(s, seen, st.m + r0, st.l + r0, p, corr);
      PvTile(p, tile_nk, v + j0 * ldv, ldv, d, corr, st.o + static_cast<int64_t>(r0) * d);
    }
  }
}

// out_rows[r] = o[r] / l[r], rows [0, nq).
inline void FlashFinish(const FlashRows& st, int nq, int d, float* const* out_rows) {
  for (int r = 0; r < nq; ++r) {
    const __m512 inv = _mm512_set1_ps(1.0f / st.l[r]);
    for (int i = 0; i < d; i += 16) {
      const __mmask16 m = TailMask(d - i);
      _mm512_mask_storeu_ps(out_rows[r] + i, m, _mm512_mul_ps(inv, _mm512_maskz_loadu_ps(m, st.o + r * d + i)));
    }
  }
}

// Transposes 16 rows of 16 floats in registers (a[r] = row r on entry, column r on exit): 32
// unpacks and 32 128-bit shuffles for 256 elements.
inline void Transpose16x16(__m512 a[16]) {
  __m512 t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {  // per 128-bit chunk k: rows 2i, 2i+1 interleaved, columns 4k..4k+1 / 4k+2..4k+3
    t[2 * i] = _mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {  // a[4i + c]: per chunk k, column 4k + c of rows 4i .. 4i+3
    const __m512d lo01 = _mm512_castps_pd(t[4 * i]), hi01 = _mm512_castps_pd(t[4 * i + 1]);
    const __m512d lo23 = _mm512_castps_pd(t[4 * i + 2]), hi23 = _mm512_castps_pd(t[4 * i + 3]);
    a[4 * i + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo01, lo23));
    a[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo01, lo23));
    a[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi01, hi23));
    a[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi01, hi23));
  }
  // Column 4k + c = chunk k of a[c], a[4 + c], a[8 + c], a[12 + c]: a 4x4 transpose of 128-bit chunks.
  __m512 u[16];
#pragma GCC unroll 16
  for (int c = 0; c < 4; ++c) {
    const __m512 g0 = _mm512_shuffle_f32x4(a[c], a[4 + c], 0x88), g1 = _mm512_shuffle_f32x4(a[c], a[4 + c], 0xdd);
    const __m512 g2 = _mm512_shuffle_f32x4(a[8 + c], a[12 + c], 0x88),
                 g3 = _mm512_shuffle_f32x4(a[8 + c], a[12 + c], 0xdd);
    u[c] = _mm512_shuffle_f32x4(g0, g2, 0x88);
    u[4 + c] = _mm512_shuffle_f32x4(g1, g3, 0x88);
    u[8 + c] = _mm512_shuffle_f32x4(g0, g2, 0xdd);
    u[12 + c] = _mm512_shuffle_f32x4(g1, g3, 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) a[i] = u[i];
}

// Row stride of transposed keys padded to nkp keys: one cache line more than nkp. A score tile reads 4
// lines from each of d rows; at a power-of-two stride (1,024 keys: 4 KiB) all d rows fall in the same
// L1 sets, more lines than the sets have ways, and every load went to L2.
inline int64_t TransposedKeyStride(int64_t nkp) { return nkp + 16; }

// Keys [0, n_k) of one head (row j at k + j * ldk, d floats; T = float, or uint16_t bf16 bits widened
// by MaskLoad16) transposed into kt: d rows of stride ldkt holding keys 0 .. nkp-1 (nkp a multiple of
// 16; keys n_k .. nkp-1 zero). 16x16 blocks through registers.
template <typename T>
void TransposeKeys(const T* k, int64_t ldk, int64_t n_k, int d, int64_t nkp, int64_t ldkt, float* kt) {
  for (int64_t j0 = 0; j0 < nkp; j0 += 16) {
    for (int i0 = 0; i0 < d; i0 += 16) {
      const __mmask16 m = TailMask(d - i0);
      __m512 a[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r) a[r] = j0 + r < n_k ? MaskLoad16(m, k + (j0 + r) * ldk + i0) : _mm512_setzero_ps();
      Transpose16x16(a);
      for (int i = 0; i < std::min(16, d - i0); ++i) _mm512_storeu_ps(kt + (i0 + i) * ldkt + j0, a[i]);
    }
  }
}

// Values [0, n_k) of one head (row j at v + j * ldv) copied (T = float) or widened (bf16 bits) into
// contiguous rows of d floats: the P*V tiles then read whole consecutive lines, where the source's
// stride (e.g. 2 KiB in the KV cache, 9 KiB in the tower's fused QKV rows) maps a key block's rows
// onto a few L1 sets.
template <typename T>
void PackValues(const T* v, int64_t ldv, int64_t n_k, int d, float* dst) {
  for (int64_t j = 0; j < n_k; ++j) {
    for (int i = 0; i < d; i += 16) {
      const __mmask16 m = TailMask(d - i);
      _mm512_mask_storeu_ps(dst + j * d + i, m, MaskLoad16(m, v + j * ldv + i));
    }
  }
}
