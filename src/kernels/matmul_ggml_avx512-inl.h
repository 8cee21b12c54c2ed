// AVX-512 loaders of the GGUF-only block types (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K; layouts and
// formulas in tensor/ggml_blocks.h) for the widening matmul of matmul_avx512.cpp: each widens 16
// consecutive weights of a row, starting at k (a multiple of 16, so the 16 never straddle a block or
// sub-block), to f32 in registers, in the reference's operation order (scale products first), so a
// row widens to exactly DequantizeRow's values. Included inside matmul_avx512.cpp's ISA region and
// anonymous namespace, after the Rows template; the wrappers at the end are what MatMulRowsKernel returns.
// Not a standalone header.

// 16 bytes at p (one per element) -> the nibble (shift 0 or 4) of each, as 16 int32.
inline __m512i Nibbles16(const uint8_t* p, int shift) {
  __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (shift) q = _mm_srli_epi16(q, 4);
  return _mm512_cvtepu8_epi32(_mm_and_si128(q, _mm_set1_epi8(0x0f)));
}

// Bits [first, first + 16) of a 32-bit mask, one per lane, as 0 or 16 (the 5th bit of Q5_0 / Q5_1).
inline __m512i HighBits16(uint32_t qh, int first) {
  const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  const __m512i bits = _mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(qh)), _mm512_add_epi32(lane, _mm512_set1_epi32(first)));
  return _mm512_slli_epi32(_mm512_and_si512(bits, _mm512_set1_epi32(1)), 4);
}

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

struct LoadQ4_1 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_1* b = reinterpret_cast<const BlockQ4_1*>(row) + (k >> 5);
    const __m512 q = _mm512_cvtepi32_ps(Nibbles16(b->qs, (k & 16) ? 4 : 0));
    return _mm512_add_ps(_mm512_mul_ps(q, _mm512_set1_ps(HalfToFloat(b->d))), _mm512_set1_ps(HalfToFloat(b->m)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

struct LoadQ5_0 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_0* b = reinterpret_cast<const BlockQ5_0*>(row) + (k >> 5);
    const int first = static_cast<int>(k & 16);
    const __m512i q = _mm512_or_si512(Nibbles16(b->qs, first ? 4 : 0), HighBits16(LoadU32(b->qh), first));
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(16))),
                         _mm512_set1_ps(HalfToFloat(b->d)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

struct LoadQ5_1 {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row) + (k >> 5);
    const int first = static_cast<int>(k & 16);
    const __m512i q = _mm512_or_si512(Nibbles16(b->qs, first ? 4 : 0), HighBits16(LoadU32(b->qh), first));
    return _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), _mm512_set1_ps(HalfToFloat(b->d))),
                         _mm512_set1_ps(HalfToFloat(b->m)));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

// Q4_K / Q5_K: element e = k % 256 of a super-block is in 64-chunk c = e / 64, half h = (e / 32) % 2
// (sub-block s = 2c + h: low nibbles for h = 0, high for h = 1) at byte l0 + i of the chunk's 32.
// qh: Q5_K's 5th bits (bit s of qh[l0 + i]), nullptr for Q4_K.
inline __m512 LoadK45(uint16_t d, uint16_t dmin, const uint8_t* scales, const uint8_t* qs, const uint8_t* qh, int e) {
  const int c = e >> 6, h = (e >> 5) & 1, l0 = e & 31;
  uint8_t sc, m;
  GetScaleMinK4(2 * c + h, scales, &sc, &m);
  const float dl = HalfToFloat(d) * static_cast<float>(sc);
  const float ml = HalfToFloat(dmin) * static_cast<float>(m);
  __m512i q = Nibbles16(qs + 32 * c + l0, 4 * h);
  if (qh != nullptr) {
    const __m512i hb = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qh + l0)));
    const __m512i bit = _mm512_and_si512(_mm512_srli_epi32(hb, static_cast<unsigned>(2 * c + h)), _mm512_set1_epi32(1));
    q = _mm512_or_si512(q, _mm512_slli_epi32(bit, 4));
  }
  return _mm512_sub_ps(_mm512_mul_ps(_mm512_set1_ps(dl), _mm512_cvtepi32_ps(q)), _mm512_set1_ps(ml));
}

struct LoadQ4_K {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_K* b = reinterpret_cast<const BlockQ4_K*>(row) + (k >> 8);
    return LoadK45(b->d, b->dmin, b->scales, b->qs, nullptr, static_cast<int>(k & 255));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

struct LoadQ5_K {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_K* b = reinterpret_cast<const BlockQ5_K*>(row) + (k >> 8);
    return LoadK45(b->d, b->dmin, b->scales, b->qs, b->qh, static_cast<int>(k & 255));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

// Q6_K: element e = k % 256 is in half hh = e / 128; within it, quarter u = (e % 128) / 32 takes the
// low (u < 2) or high nibble of ql[64hh + 32(u % 2) + l0 + i] and bits 2u..2u+1 of qh[32hh + l0 + i];
// scale index 8hh + l0 / 16 + 2u.
struct LoadQ6_K {
  static __m512 Load(const uint8_t* row, int64_t k) {
    const BlockQ6_K* b = reinterpret_cast<const BlockQ6_K*>(row) + (k >> 8);
    const int e = static_cast<int>(k & 255), hh = e >> 7, u = (e >> 5) & 3, l0 = e & 31;
    const __m512i lo = Nibbles16(b->ql + 64 * hh + 32 * (u & 1) + l0, (u >> 1) * 4);
    const __m512i hb = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b->qh + 32 * hh + l0)));
    const __m512i hi = _mm512_and_si512(_mm512_srli_epi32(hb, static_cast<unsigned>(2 * u)), _mm512_set1_epi32(3));
    const __m512i q = _mm512_sub_epi32(_mm512_or_si512(lo, _mm512_slli_epi32(hi, 4)), _mm512_set1_epi32(32));
    const float dl = HalfToFloat(b->d) * static_cast<float>(b->scales[8 * hh + (l0 >> 4) + 2 * u]);
    return _mm512_mul_ps(_mm512_set1_ps(dl), _mm512_cvtepi32_ps(q));
  }
  static __m512 LoadMasked(const uint8_t* row, int64_t k, __mmask16) { return Load(row, k); }
};

void RowsQ4_1(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ4_1>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ5_0(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ5_0>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ5_1(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ5_1>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ4_K(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ4_K>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ5_K(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ5_K>(w, x, n, ldx, y, ldy, r0, r1);
}
void RowsQ6_K(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy, int64_t r0,
              int64_t r1) {
  Rows<LoadQ6_K>(w, x, n, ldx, y, ldy, r0, r1);
}
