// AVX2 + FMA GEMV/GEMM for f32, bf16, f16, q8_0 and q4_0 weights: the AVX-512 kernels' scheme
// (matmul_avx512.cpp) on 8-lane vectors. Weights are widened to f32 in registers and accumulated with
// f32 FMAs. A column tail (K not a multiple of 8; only f32/bf16/f16 rows have one) is summed in a
// scalar FMA chain and added after the horizontal sum. Every output element is computed the same way
// whatever tile it falls in, so decode (GEMV) and prefill (GEMM) agree bit for bit on this path too.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/matmul_impl.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "kernels/isa_avx2_begin.h"  // last include: AVX2 code from here to isa_end.h
#if LFM_ISA_COMPILED

namespace lfm::avx2 {
namespace {

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// Load(row, k): 8 consecutive weights of one row from element k, widened to f32 (k is a multiple of 8,
// and for block types a block never straddles the 8). At(row, k): one weight, for the column tail.
struct LoadF32 {
  static __m256 Load(const uint8_t* row, int64_t k) { return _mm256_loadu_ps(reinterpret_cast<const float*>(row) + k); }
  static float At(const uint8_t* row, int64_t k) { return reinterpret_cast<const float*>(row)[k]; }
};

struct LoadBF16 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  }
  static float At(const uint8_t* row, int64_t k) { return BF16ToF32(reinterpret_cast<const uint16_t*>(row)[k]); }
};

struct LoadF16 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 2 * k)));
  }
  static float At(const uint8_t* row, int64_t k) { return HalfToFloat(reinterpret_cast<const uint16_t*>(row)[k]); }
};

struct LoadQ8_0 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row) + (k >> 5);
    const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qs + (k & 31)));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q)), _mm256_set1_ps(HalfToFloat(b->d)));
  }
  static float At(const uint8_t* row, int64_t k) {
    const BlockQ8_0* b = reinterpret_cast<const BlockQ8_0*>(row) + (k >> 5);
    return static_cast<float>(b->qs[k & 31]) * HalfToFloat(b->d);
  }
};

struct LoadQ4_0 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(row) + (k >> 5);
    // Elements 0..15 are the low nibbles of qs[0..15], 16..31 the high nibbles.
    __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qs + (k & 15)));
    if (k & 16) q = _mm_srli_epi16(q, 4);
    q = _mm_and_si128(q, _mm_set1_epi8(0x0f));
    const __m256i v = _mm256_sub_epi32(_mm256_cvtepu8_epi32(q), _mm256_set1_epi32(8));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_set1_ps(HalfToFloat(b->d)));
  }
  static float At(const uint8_t* row, int64_t k) {
    const BlockQ4_0* b = reinterpret_cast<const BlockQ4_0*>(row) + (k >> 5);
    const int j = static_cast<int>(k & 31);
    const int q = j < 16 ? (b->qs[j] & 0x0f) : (b->qs[j - 16] >> 4);
    return static_cast<float>(q - 8) * HalfToFloat(b->d);
  }
};

inline float HorizontalSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// R weight rows x T tokens, register-blocked; w points at the first of R rows, rb bytes apart.
template <class L, int R, int T>
inline void Tile(const uint8_t* w, int64_t rb, const float* x, int64_t ldx, int64_t K, float* y, int64_t ldy) {
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  const int64_t K8 = K & ~int64_t{7};
  for (int64_t k = 0; k < K8; k += 8) {
    __m256 xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm256_loadu_ps(x + t * ldx + k);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 wv = L::Load(w + r * rb, k);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[r][t] = _mm256_fmadd_ps(wv, xv[t], acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int t = 0; t < T; ++t) {
      float tail = 0.0f;
      for (int64_t k = K8; k < K; ++k) tail = std::fma(L::At(w + r * rb, k), x[t * ldx + k], tail);
      y[t * ldy + r] = HorizontalSum(acc[r][t]) + tail;
    }
  }
}

// Widens `rows` weight rows (K elements each, rb bytes apart) to f32 in `dst` (row stride K).
template <class L>
void WidenRows(const uint8_t* w, int64_t rb, int64_t rows, int64_t K, float* dst) {
  const int64_t K8 = K & ~int64_t{7};
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < K8; k += 8) _mm256_storeu_ps(dst + r * K + k, L::Load(w + r * rb, k));
    for (int64_t k = K8; k < K; ++k) dst[r * K + k] = L::At(w + r * rb, k);
  }
}

constexpr int kGemmRows = 4;    // weight rows per register tile
constexpr int kGemmTokens = 3;  // tokens per register tile: 12 accumulators + 3 x + 1 w = 16 ymm

template <class L>
void Rows(const TensorView& wt, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
          int64_t r1) {
  const uint8_t* base = static_cast<const uint8_t*>(wt.data);
  const int64_t K = wt.cols(), rb = wt.row_bytes();
  if (n == 1) {
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) Tile<L, 4, 1>(base + r * rb, rb, x, ldx, K, y + r, ldy);
    for (; r < r1; ++r) Tile<L, 1, 1>(base + r * rb, rb, x, ldx, K, y + r, ldy);
    return;
  }
  // Prefill: as the AVX-512 kernel, a block of tokens (~512 KB of activations) is swept by 4-row weight
  // tiles; 16-bit and block weights are widened once per tile into an f32 panel reused by every token.
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
      if (rr == kGemmRows) {
        int64_t t = t0;
        for (; t + kGemmTokens <= t1; t += kGemmTokens)
          Tile<LoadF32, kGemmRows, kGemmTokens>(wb, wrb, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
        for (; t < t1; ++t) Tile<LoadF32, kGemmRows, 1>(wb, wrb, x + t * ldx, ldx, K, y + t * ldy + r, ldy);
      } else {
        for (int64_t i = 0; i < rr; ++i) {
          int64_t t = t0;
          for (; t + kGemmTokens <= t1; t += kGemmTokens)
            Tile<LoadF32, 1, kGemmTokens>(wb + i * wrb, wrb, x + t * ldx, ldx, K, y + t * ldy + r + i, ldy);
          for (; t < t1; ++t) Tile<LoadF32, 1, 1>(wb + i * wrb, wrb, x + t * ldx, ldx, K, y + t * ldy + r + i, ldy);
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

#include "kernels/matmul_ggml_avx2-inl.h"  // Q4_1 / Q5_0 / Q5_1 / K-quant loaders and their Rows

}  // namespace
}  // namespace lfm::avx2

#endif  // LFM_ISA_COMPILED
#include "kernels/isa_end.h"  // baseline code again

namespace lfm::avx2 {

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

}  // namespace lfm::avx2
