// AVX2 loaders of the GGUF-only block types for the widening matmul of matmul_avx2.cpp: the AVX-512
// loaders' scheme (matmul_ggml_avx512-inl.h) on 8 lanes; k is a multiple of 8, so the 8 never
// straddle a block or sub-block. Same operation order as DequantizeRow (scale products first), so a
// row widens to exactly its values. Included inside matmul_avx2.cpp's ISA region and anonymous
// namespace, after the Rows template. Not a standalone header.

// 8 bytes at p -> the nibble (shift 0 or 4) of each, as 8 int32.
inline __m256i Nibbles8(const uint8_t* p, int shift) {
  __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  if (shift) q = _mm_srli_epi16(q, 4);
  return _mm256_cvtepu8_epi32(_mm_and_si128(q, _mm_set1_epi8(0x0f)));
}

// Bits [first, first + 8) of a 32-bit mask, one per lane, as 0 or 16 (the 5th bit of Q5_0 / Q5_1).
inline __m256i HighBits8(uint32_t qh, int first) {
  const __m256i shifts = _mm256_add_epi32(_mm256_set_epi32(7, 6, 5, 4, 3, 2, 1, 0), _mm256_set1_epi32(first));
  const __m256i bits = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(qh)), shifts);
  return _mm256_slli_epi32(_mm256_and_si256(bits, _mm256_set1_epi32(1)), 4);
}

inline uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

// One weight, for the column tail (never reached: these rows are whole blocks of 32 or 256).
template <DType kType>
float BlockAt(const uint8_t* row, int64_t k) {
  const int64_t bs = DTypeBlockSize(kType);
  float v[kQK_K];
  DequantizeRow(kType, row + (k / bs) * DTypeBlockBytes(kType), v, bs);
  return v[k % bs];
}

struct LoadQ4_1 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_1* b = reinterpret_cast<const BlockQ4_1*>(row) + (k >> 5);
    const __m256 q = _mm256_cvtepi32_ps(Nibbles8(b->qs + (k & 15), (k & 16) ? 4 : 0));
    return _mm256_add_ps(_mm256_mul_ps(q, _mm256_set1_ps(HalfToFloat(b->d))), _mm256_set1_ps(HalfToFloat(b->m)));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ4_1>(row, k); }
};

struct LoadQ5_0 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_0* b = reinterpret_cast<const BlockQ5_0*>(row) + (k >> 5);
    const int e = static_cast<int>(k & 31);
    const __m256i q = _mm256_or_si256(Nibbles8(b->qs + (e & 15), (e & 16) ? 4 : 0), HighBits8(LoadU32(b->qh), e));
    return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(q, _mm256_set1_epi32(16))),
                         _mm256_set1_ps(HalfToFloat(b->d)));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ5_0>(row, k); }
};

struct LoadQ5_1 {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_1* b = reinterpret_cast<const BlockQ5_1*>(row) + (k >> 5);
    const int e = static_cast<int>(k & 31);
    const __m256i q = _mm256_or_si256(Nibbles8(b->qs + (e & 15), (e & 16) ? 4 : 0), HighBits8(LoadU32(b->qh), e));
    return _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(q), _mm256_set1_ps(HalfToFloat(b->d))),
                         _mm256_set1_ps(HalfToFloat(b->m)));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ5_1>(row, k); }
};

// Q4_K / Q5_K (layout walk as in the AVX-512 loader): chunk c, half h, byte l of the chunk's 32.
inline __m256 LoadK45(uint16_t d, uint16_t dmin, const uint8_t* scales, const uint8_t* qs, const uint8_t* qh, int e) {
  const int c = e >> 6, h = (e >> 5) & 1, l = e & 31;
  uint8_t sc, m;
  GetScaleMinK4(2 * c + h, scales, &sc, &m);
  const float dl = HalfToFloat(d) * static_cast<float>(sc);
  const float ml = HalfToFloat(dmin) * static_cast<float>(m);
  __m256i q = Nibbles8(qs + 32 * c + l, 4 * h);
  if (qh != nullptr) {
    const __m256i hb = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qh + l)));
    const __m256i bit = _mm256_and_si256(_mm256_srli_epi32(hb, 2 * c + h), _mm256_set1_epi32(1));
    q = _mm256_or_si256(q, _mm256_slli_epi32(bit, 4));
  }
  return _mm256_sub_ps(_mm256_mul_ps(_mm256_set1_ps(dl), _mm256_cvtepi32_ps(q)), _mm256_set1_ps(ml));
}

struct LoadQ4_K {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ4_K* b = reinterpret_cast<const BlockQ4_K*>(row) + (k >> 8);
    return LoadK45(b->d, b->dmin, b->scales, b->qs, nullptr, static_cast<int>(k & 255));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ4_K>(row, k); }
};

struct LoadQ5_K {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ5_K* b = reinterpret_cast<const BlockQ5_K*>(row) + (k >> 8);
    return LoadK45(b->d, b->dmin, b->scales, b->qs, b->qh, static_cast<int>(k & 255));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ5_K>(row, k); }
};

struct LoadQ6_K {
  static __m256 Load(const uint8_t* row, int64_t k) {
    const BlockQ6_K* b = reinterpret_cast<const BlockQ6_K*>(row) + (k >> 8);
    const int e = static_cast<int>(k & 255), hh = e >> 7, u = (e >> 5) & 3, l = e & 31;
    const __m256i lo = Nibbles8(b->ql + 64 * hh + 32 * (u & 1) + l, (u >> 1) * 4);
    const __m256i hb = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(b->qh + 32 * hh + l)));
    const __m256i hi = _mm256_and_si256(_mm256_srli_epi32(hb, 2 * u), _mm256_set1_epi32(3));
    const __m256i q = _mm256_sub_epi32(_mm256_or_si256(lo, _mm256_slli_epi32(hi, 4)), _mm256_set1_epi32(32));
    const float dl = HalfToFloat(b->d) * static_cast<float>(b->scales[8 * hh + (l >> 4) + 2 * u]);
    return _mm256_mul_ps(_mm256_set1_ps(dl), _mm256_cvtepi32_ps(q));
  }
  static float At(const uint8_t* row, int64_t k) { return BlockAt<DType::kQ6_K>(row, k); }
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
