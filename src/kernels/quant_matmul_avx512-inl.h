// Per-ISA code, not an ordinary header: what the two AVX-512 VNNI int8 matmuls share (q8_0 / q4_0 in
// quant_matmul_avx512.cpp, K-quants in quant_matmul_kquant_avx512.cpp): the activation broadcast, the
// masked store of a finished register tile and the panel x token sweep that drives the tiles. Only the
// per-block weight decoding differs between them, and that stays in each file's Tile.
// Include it inside an AVX-512 target region (after isa_avx512vnni_begin.h), within the namespace that
// uses it; <immintrin.h>, <algorithm>, <cstring> and kernels/quant_matmul.h first.

// One 4-byte activation group (k .. k+3 of one token) in every 32-bit lane: vpdpbusd's signed side.
inline __m512i Broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// Writes a finished P panels x T tokens tile: acc[i][j] holds rows of panel p + i for token j, stored
// to y + j * ldy (y is token t's output, row 0). The last panel may hold fewer than 16 real rows.
template <int P, int T>
inline void StoreTile(const __m512 (&acc)[P][T], const QuantPackedMatrix& w, int64_t p, float* y, int64_t ldy) {
#pragma GCC unroll 8
  for (int i = 0; i < P; ++i) {
    const int64_t valid = std::min<int64_t>(kQuantPanelRows, w.rows() - (p + i) * kQuantPanelRows);
    const __mmask16 m = static_cast<__mmask16>((1u << valid) - 1u);
#pragma GCC unroll 8
    for (int j = 0; j < T; ++j) _mm512_mask_storeu_ps(y + j * ldy + (p + i) * kQuantPanelRows, m, acc[i][j]);
  }
}

// The last rem (< T) tokens of a run, as one tile of exactly rem tokens (tile widths are template
// arguments, so each remainder is its own instantiation).
template <int P, int T, class TileFn>
inline void TokenTail(TileFn& tile, int64_t p, int64_t t, int64_t rem) {
  if constexpr (T > 0) {
    if (rem == T) {
      tile.template operator()<P, T>(p, t);
    } else {
      TokenTail<P, T - 1>(tile, p, t, rem);
    }
  }
}

// Tokens [t0, t1) against P panels at p: kTokens-wide tiles, then one narrower tile for the rest.
template <int P, int kTokens, class TileFn>
inline void TokenRun(TileFn& tile, int64_t p, int64_t t0, int64_t t1) {
  int64_t t = t0;
  for (; t + kTokens <= t1; t += kTokens) tile.template operator()<P, kTokens>(p, t);
  TokenTail<P, kTokens - 1>(tile, p, t, t1 - t);
}

// Panels [p0, p1) x all n tokens (cols int8 activations per token). tile.template operator()<P, T>(p, t)
// computes panels [p, p + P) x tokens [t, t + T); the GEMM register tile is kPanels x kTokens.
template <int kPanels, int kTokens, class TileFn>
inline void SweepPanels(TileFn tile, int64_t n, int64_t cols, int64_t p0, int64_t p1) {
  if (n == 1) {
    // Decode (GEMV): memory bound; 4 panels at once keep 4 independent accumulator chains and read
    // streams in flight (a group of 4 panels is one sequential read in the interleaved layouts).
    int64_t p = p0;
    for (; p + 4 <= p1; p += 4) tile.template operator()<4, 1>(p, 0);
    for (; p < p1; ++p) tile.template operator()<1, 1>(p, 0);
    return;
  }
  // Prefill (GEMM): a block of tokens' int8 activations (~256 KB, L2) is swept by panel groups, whose
  // weights stay in L1/L2 while every token tile of the block reuses them.
  int64_t tb = (256 * 1024) / cols;
  tb = std::max<int64_t>(kTokens, tb / kTokens * kTokens);
  for (int64_t t0 = 0; t0 < n; t0 += tb) {
    const int64_t t1 = std::min(n, t0 + tb);
    int64_t p = p0;
    for (; p + kPanels <= p1; p += kPanels) TokenRun<kPanels, kTokens>(tile, p, t0, t1);
    for (; p < p1; ++p) TokenRun<1, kTokens>(tile, p, t0, t1);
  }
}
