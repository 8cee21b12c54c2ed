// Block layouts of llama.cpp's Q4_1 / Q5_0 / Q5_1 and K-quant (Q4_K / Q5_K / Q6_K) types, as GGUF files
// store them, and their plain dequantizers (the reference every faster path is checked against; the
// goldens in tests/tensor/data/ggml_quants come from the `gguf` Python package, an independent
// implementation, and must match bit for bit).
//
// Value of element j (f16 fields widened to f32 first; the operation order is the reference's, so
// the f32 results are exact to the golden):
//   Q4_1: d * q + m                      q = 4-bit, low nibbles are elements 0..15, high 16..31
//   Q5_0: d * (q - 16)                   q = nibble | bit j of qh << 4
//   Q5_1: d * q + m
//   Q4_K: (d * sc_s) * q - (dmin * m_s)  s = j / 32, 6-bit sc_s / m_s packed in scales[12]
//   Q5_K: as Q4_K with q = nibble | qh bit << 4
//   Q6_K: (d * sc_s) * (q - 32)          s = j / 16, int8 sc_s
#pragma once

#include <cstdint>

namespace lfm {

inline constexpr int kQK_K = 256;  // elements per K-quant super-block

struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // bit j = the 5th bit of element j (little-endian uint32)
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_0) == 22);

struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
static_assert(sizeof(BlockQ5_1) == 24);

struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];  // 8 x (6-bit scale, 6-bit min), see GetScaleMinK4
  uint8_t qs[128];     // per 64 elements: 32 bytes, low nibbles = first 32, high nibbles = next 32
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];   // bit 2c (2c+1) of qh[l] = 5th bit of element 64c + l (64c + 32 + l)
  uint8_t qs[128];
};
static_assert(sizeof(BlockQ5_K) == 176);

struct BlockQ6_K {
  uint8_t ql[128];   // low 4 bits
  uint8_t qh[64];    // high 2 bits
  int8_t scales[16];
  uint16_t d;
};
static_assert(sizeof(BlockQ6_K) == 210);

// Sub-block s (0..7) of a Q4_K / Q5_K super-block: its 6-bit scale and min.
inline void GetScaleMinK4(int s, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (s < 4) {
    *sc = q[s] & 63;
    *m = q[s + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((q[s + 4] & 0x0f) | ((q[s - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((q[s + 4] >> 4) | ((q[s] >> 6) << 4));
  }
}

// n elements (a multiple of the type's block size) to f32.
void DequantizeQ4_1(const BlockQ4_1* b, float* y, int64_t n);
void DequantizeQ5_0(const BlockQ5_0* b, float* y, int64_t n);
void DequantizeQ5_1(const BlockQ5_1* b, float* y, int64_t n);
void DequantizeQ4_K(const BlockQ4_K* b, float* y, int64_t n);
void DequantizeQ5_K(const BlockQ5_K* b, float* y, int64_t n);
void DequantizeQ6_K(const BlockQ6_K* b, float* y, int64_t n);

// Q5_0 -> Q8_0 without loss: the same f16 scale and 32-block, the 5-bit values (q - 16, in [-16, 15])
// stored as int8. Lets Q5_0 files run on the q8_0 kernels (int8 VNNI), at 34 instead of 22 bytes/block.
void RepackQ5_0ToQ8_0(const BlockQ5_0* b, void* q8_0_out, int64_t n);

}  // namespace lfm
