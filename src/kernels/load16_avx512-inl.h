// Per-ISA code, not an ordinary header: 16 f32 lanes loaded from f32 memory as they are, or from bf16
// bits (uint16_t, e.g. a bf16 KV cache) widened exactly (zero-extend to 32 bits, shift into the top
// half); MaskLoad16 loads the lanes of m only (the others 0). Include it inside an AVX-512 target
// region, in the namespace that uses it; <immintrin.h> first.

inline __m512 Load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 Load16(const uint16_t* p) {
  return _mm512_castsi512_ps(
      _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
inline __m512 MaskLoad16(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 MaskLoad16(__mmask16 m, const uint16_t* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}
