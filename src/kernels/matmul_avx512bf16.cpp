// AVX512_BF16 GEMV/GEMM for bf16 weights (the decoder's MatMul on CPUs with the feature, see
// ActiveAvx512Bf16()). The activations are rounded to bf16 once per call (kernels/bf16_dot.h) and each
// 64-byte load of a row-major weight row is 32 k values that vdpbf16ps multiplies pairwise with the
// same 32 activations into 16 f32 partial sums: no widening, half the multiply instructions of the f32
// path, and the row-major layout needs no repacking.
// Every output element is computed the same way (16 lane partial sums in k order, a masked tail, one
// horizontal add) whatever tile it falls in, so decode (GEMV) and prefill (GEMM) agree bit for bit.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/bf16_dot.h"
#include "kernels/matmul_impl.h"
#include "kernels/workspace.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512bf16_begin.h"  // last include: AVX-512 + BF16 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

inline __m512bh AsBh(__m512i v) { return (__m512bh)v; }

// R weight rows x T tokens; w points at the first of R rows (rb bytes apart), xb at the first token
// (bf16, row stride ldxb elements).
template <int R, int T>
inline void TileDot(const uint8_t* w, int64_t rb, const uint16_t* xb, int64_t ldxb, int64_t K, float* y,
                    int64_t ldy) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512bh xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = AsBh(_mm512_loadu_si512(xb + t * ldxb + k));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512bh wv = AsBh(_mm512_loadu_si512(w + r * rb + 2 * k));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv, xv[t]);
    }
  }
  if (k < K) {
    // Masked loads on both sides: nothing past a row's end is read, and the missing k are zeros.
    const __mmask32 m = static_cast<__mmask32>((uint64_t{1} << (K - k)) - 1u);
    __m512bh xv[T];
    for (int t = 0; t < T; ++t) xv[t] = AsBh(_mm512_maskz_loadu_epi16(m, xb + t * ldxb + k));
    for (int r = 0; r < R; ++r) {
      const __m512bh wv = AsBh(_mm512_maskz_loadu_epi16(m, w + r * rb + 2 * k));
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], wv, xv[t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

constexpr int kGemmRows = 4;    // weight rows per register tile
constexpr int kGemmTokens = 6;  // tokens per register tile: 24 accumulators + 6 x + 1 w = 31 zmm

void RowsBf16Dot(const TensorView& wt, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
                 int64_t r1) {
  if (r0 >= r1) return;
  const uint8_t* base = static_cast<const uint8_t*>(wt.data);
  const int64_t K = wt.cols(), rb = wt.row_bytes(), ldxb = (K + 1) / 2 * 2;
  // The activations as bf16, converted by each thread for its rows of this call (a MatMul is one
  // call per thread, so that is once per thread; n * K conversions are noise next to n * K * rows
  // products). Kept per thread so decode does not allocate.
  thread_local std::vector<uint16_t> xbuf;
  if (xbuf.size() < static_cast<size_t>(n * ldxb)) {
    const size_t before = xbuf.capacity() * sizeof(uint16_t);
    xbuf.resize(static_cast<size_t>(n * ldxb));
    NoteKernelWorkspace(before, xbuf.capacity() * sizeof(uint16_t));
  }
  uint16_t* xb = xbuf.data();
  RowsToBf16Kernel()(x, n, ldx, K, xb, ldxb);
  if (n == 1) {
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) TileDot<8, 1>(base + r * rb, rb, xb, ldxb, K, y + r, ldy);
    for (; r + 4 <= r1; r += 4) TileDot<4, 1>(base + r * rb, rb, xb, ldxb, K, y + r, ldy);
    for (; r < r1; ++r) TileDot<1, 1>(base + r * rb, rb, xb, ldxb, K, y + r, ldy);
    return;
  }
  // Prefill: a block of tokens (~256 KiB of bf16 activations, L2) is swept by 4-row weight tiles
  // (4 rows x K x 2 B, L1), so each weight row is read from memory once per token block.
  int64_t tok_block = (256 * 1024) / (2 * ldxb);
  tok_block = std::max<int64_t>(kGemmTokens, tok_block / kGemmTokens * kGemmTokens);
  for (int64_t t0 = 0; t0 < n; t0 += tok_block) {
    const int64_t t1 = std::min(n, t0 + tok_block);
    for (int64_t r = r0; r < r1; r += kGemmRows) {
      const int64_t rr = std::min<int64_t>(kGemmRows, r1 - r);
      const uint8_t* w = base + r * rb;
      int64_t t = t0;
      if (rr == kGemmRows) {
        for (; t + kGemmTokens <= t1; t += kGemmTokens)
          TileDot<kGemmRows, kGemmTokens>(w, rb, xb + t * ldxb, ldxb, K, y + t * ldy + r, ldy);
        for (; t < t1; ++t) TileDot<kGemmRows, 1>(w, rb, xb + t * ldxb, ldxb, K, y + t * ldy + r, ldy);
      } else {
        for (int64_t i = 0; i < rr; ++i) {
          int64_t tt = t0;
          for (; tt + kGemmTokens <= t1; tt += kGemmTokens)
            TileDot<1, kGemmTokens>(w + i * rb, rb, xb + tt * ldxb, ldxb, K, y + tt * ldy + r + i, ldy);
          for (; tt < t1; ++tt) TileDot<1, 1>(w + i * rb, rb, xb + tt * ldxb, ldxb, K, y + tt * ldy + r + i, ldy);
        }
      }
    }
  }
}

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

MatMulRowsFn MatMulRowsKernelBf16Dot() {
#if defined(__x86_64__)
  return RowsBf16Dot;
#else
  return nullptr;
#endif
}

}  // namespace lfm::avx512
