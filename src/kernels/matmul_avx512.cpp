// AVX-512 GEMV/GEMM for f32, bf16, f16, q8_0 and q4_0 weights. Weights are widened to f32 in registers and
// accumulated with f32 FMAs, so bf16/f16 results equal f32 math on the same (rounded) weights.
// Every output element is computed the same way (16 lane partial sums in k order, then one
// horizontal add) whatever tile it falls in, so decode (GEMV) and prefill (GEMM) agree bit for bit.
// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/matmul_impl.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx512_begin.h"  // last include: AVX-512 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx512 {
namespace {

// Loaders widen 16 consecutive weights of one row (starting at element k) to f32. Rows are
// addressed in bytes so block-quantized types fit the same tiles (their k is a multiple of 16 and K a
// multiple of 32, so a 16-wide load never straddles a block and never needs the masked tail).
struct LoadF32 {
  static __m512 Load(const uint8_t* row, int64_t k) { return _mm512_loadu_ps(reinterpret_cast<const float*>(row) + k); }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16 m) {
    return _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(row) + k);
  }
};

struct LoadBF16 {
  static __m512 Widen(__m256i v) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16)); }
  static __m512 Load(const uint8_t* row, int64_t k) {
    return Widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16 m) {
    return Widen(_mm256_maskz_loadu_epi16(m, row + 2 * k));
  }
};

struct LoadF16 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row + 2 * k)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16 m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, row + 2 * k));
  }
};

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

struct LoadQ8_0 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row) + (k >> 5);
    const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs + (k & 31)));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q)), _mm512_set1_ps(HalfToFloat(b->d)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

struct LoadQ4_0 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(row) + (k >> 5);
    __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qs));
    // Elements 0..15 are the low nibbles, 16..31 the high nibbles.
    if (k & 16) q = _mm_srli_epi16(q, 4);
    q = _mm_and_si128(q, _mm_set1_epi8(0x0f));
    const __m512i v = _mm512_sub_epi32(_mm512_cvtepu8_epi32(q), _mm512_set1_epi32(8));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_set1_ps(HalfToFloat(b->d)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

// R weight rows x T tokens, register-blocked; w points at the first of R rows, rb bytes apart.
template <class L, int R, int T>
inline void Tile(const uint8_t* w, int64_t rb, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + t * ldx + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      __m512 wv = L::Load(w + r * rb, k);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  if (k < K) {
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1u);
    __m512 xv[T];
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
    for (int r = 0; r < R; ++r) {
      __m512 wv = L::LoadMasked(w + r * rb, k, m);
      for (int t = 0; t < T; ++t) acc[r][t] = _mm512_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[t * ldy + r] = _mm512_reduce_add_ps(acc[r][t]);
}

// Widens `rows` weight rows (K elements each, rb bytes apart) to f32 in `dst` (row stride K).
template <class L>
void WidenRows(const uint8_t* w, int64_t rb, int64_t rows, int64_t K, float* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) _mm512_storeu_ps(dst + r * K + k, L::Load(w + r * rb, k));
    if (k < K) {
      const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1u);
      _mm512_mask_storeu_ps(dst + r * K + k, m, L::LoadMasked(w + r * rb, k, m));
    }
  }
}

constexpr int kGemmRows = 4;    // weight rows per register tile
constexpr int kGemmTokens = 6;  // tokens per register tile: 24 accumulators + 6 x + 1 w = 31 zmm

template <class L>
void Rows(const TensorView& wt, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
          int64_t r1) {
  const uint8_t* base = static_cast<const uint8_t*>(wt.data);
  const int64_t K = wt.cols(), rb = wt.row_bytes();
  if (n == 1) {
    int64_t r = r0;
    for (; r + 8 <= r1; r += 8) Tile<L, 8, 1>(base + r * rb, rb, x, ldx, K, y + r, ldy);
    for (; r + 4 <= r1; r += 4) Tile<L, 4, 1>(base + r * rb, rb, x, ldx, K, y + r, ldy);
    for (; r < r1; ++r) Tile<L, 1, 1>(base + r * rb, rb, x, ldx, K, y + r, ldy);
    return;
  }
  // Prefill: a block of tokens (~512 KB of activations, L2) is swept by 4-row weight tiles. 16-bit
  // weights are widened once per tile into an f32 panel (L1/L2) and then reused for every token of the
  // block, so the conversion cost is amortised and the inner loop is pure f32 FMA.
  constexpr bool kWiden = !std::is_same_v<L, LoadF32>;
  thread_local std::vector<float> panel;
  if (kWiden && panel.size() < static_cast<size_t>(kGemmRows * K)) panel.resize(kGemmRows * K);
  int64_t tok_block = (512 * 1024) / (4 * K);
  tok_block = std::max<int64_t>(kGemmTokens, tok_block / kGemmTokens * kGemmTokens);
  for (int64_t t0 = 0; t0 < n; t0 += tok_block) {
    const int64_t t1 = std::min(n, t0 + tok_block);
    for (int64_t r = r0; r < r1; r += kGemmRows) {
      const int64_t rr = std::min<int64_t>(kGemmRows, r1 - r);
      const float* w;
      if constexpr (kWiden) {
        WidenRows<L>(base + r * rb, rb, rr, K, panel.data());
        w = panel.data();
      } else {
        w = reinterpret_cast<const float*>(base + r * rb);
      }
      const uint8_t* wb = reinterpret_cast<const uint8_t*>(w);
      const int64_t wrb = K * 4;
      int64_t t = t0;
      if (rr == kGemmRows) {
        for (; t + kGemmTokens <= t1; t += kGemmTokens)
          Tile<LoadF32, kGemmRows, kGemmTokens>(wb, wrb, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
        for (; t < t1; ++t) Tile<LoadF32, kGemmRows, 1>(wb, wrb, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
      } else {
        for (int64_t i = 0; i < rr; ++i) {
          int64_t tt = t0;
          for (; tt + kGemmTokens <= t1; tt += kGemmTokens)
            Tile<LoadF32, 1, kGemmTokens>(wb + i * wrb, wrb, x + tt * ldx, ldx, K, y + tt * ldy + r + i, ldy);
          for (; tt < t1; ++tt) Tile<LoadF32, 1, 1>(wb + i * wrb, wrb, x + tt * ldx, ldx, K, y + tt * ldy + r + i, ldy);
        }
      }
    }
  }
}

void RowsF32(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
             int64_t r1) {
  Rows<LoadF32>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsBF16(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadBF16>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsF16(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
             int64_t r1) {
  Rows<LoadF16>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ8_0(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ8_0>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ4_0(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ4_0>(w, x, n, ldx, y, ldy, r0, r1);
}

#include "kernels/matmul_ggml_avx512-inl.h"  // Q4_1 / Q5_0 / Q5_1 / K-quant loaders and their Rows

}  // namespace
}  // namespace lfm::avx512

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx512 {

MatMulRowsFn MatMulRowsKernel(DType t) {
#if defined(__x86_64__)
  switch (t) {
    case DType::kF32: return RowsF32;
    case DType::kBF16: return RowsBF16;
    case DType::kF16: return RowsF16;
    case DType::kQ8_0: return RowsQ8_0;
    case DType::kQ4_0: return RowsQ4_0;
    case DType::kQ4_1: return RowsQ4_1;
    case DType::kQ5_0: return RowsQ5_0;
    case DType::kQ5_1: return RowsQ5_1;
    case DType::kQ4_K: return RowsQ4_K;
    case DType::kQ5_K: return RowsQ5_K;
    case DType::kQ6_K: return RowsQ6_K;
    default: break;
  }
#endif
  return nullptr;
}

}  // namespace lfm::avx512
