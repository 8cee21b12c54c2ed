// Internal: GGUF K-quants (q4_K / q5_K / q6_K) in QuantPackedMatrix panels, for the int8 matmul.
//
// Every K-quant weight is an integer u times a per-sub-block integer scale times a per-row f16 factor:
//   q4_K / q5_K: w = (d * sc_s) * u - (dmin * m_s)   u in [0, 15] / [0, 31], 32-wide sub-blocks s,
//                                                    6-bit sc_s, m_s; d, dmin f16 per 256 super-block
//   q6_K:        w = (d * sc_s) * (u - 32)           u in [0, 63], 16-wide sub-blocks, int8 sc_s
// The packing keeps exactly these integers (nothing is re-quantized). The activations are quantized
// per 256 (x = xd * q, one xd per super-block: QuantizedActs' kq / kd), so a whole super-block of one
// row and token is two exact integers and two f32 steps:
//   A = sum_s sc_s * dot_s(u [- 32 for q6_K], q)     M = sum_s m_s * sum_s(q)   (q4_K / q5_K)
//   acc = fma(float(A), d * xd, acc); then (q4_K / q5_K) acc = fma(-float(M), dmin * xd, acc)
// in super-block order -- the same f32 operations in the same order in the SIMD kernel, the portable
// loops and KQuantMatMulRef, so all agree exactly (the integers are exact in any order). Mathematically
// it is sum_k w_k * xd * q_k, the dequantized weights times the quantized activations.
// int32 bounds (|q| <= 127): q4_K |A| <= 256 * 63 * 15 * 127, q5_K 256 * 63 * 31 * 127 (64 M), q6_K
// 256 * 128 * 32 * 127 (133 M), |M| <= 8 * 63 * 32 * 127: all < 2^31.
// The SIMD kernel multiplies by the sub-block scales with vpdpwssd (int16 x int16 pairs): each dot
// first runs as a vpdpbusd chain short enough that it fits int16 --
//   q4_K: 16 k (|dot| <= 16 * 15 * 127 = 30480), q5_K: 8 k (8 * 31 * 127 = 31496),
//   q6_K: 8 k started at -32 * sum(q) (8 * 32 * 127 = 32512) --
// so the chain's low 16 bits are its value and one vpdpwssd with the scale in the low half of each
// 32-bit lane (high half 0) adds chain * scale to A. (q4_K's high-nibble chain dots 16 u -- the nibble
// left in place, one vpandn -- and is shifted right by 4, exactly, before the vpdpwssd.)
//
// Panel layout (16 rows), per super-block, superblock_bytes() in all:
//   [0, 32)    d    f16 [16 rows]
//   [32, 64)   dmin f16 [16 rows] (zero for q6_K)
//   [64, 320)  q4_K / q5_K: sc u8 [8 blocks][16 rows], then m u8 [4 block pairs][16 rows][2]
//              (vpmovzxbw of 32 bytes = each row's two mins as the int16 pair vpdpwssd wants)
//              q6_K: sc i8 [8 blocks][16 rows][2] (a row's two 16-wide sub-block scales of the block)
//   then 8 blocks of 32 k, each:
//     nibbles [4 groups][16 rows][4 bytes]: byte i of group g of a row = (u[4g+i] & 15) | (u[16+4g+i] & 15) << 4
//     (q4_0's order: one 64-byte load = 16 rows x 4 k, low nibbles k 4g.., high nibbles k 16+4g..)
//     q5_K: + 64 bytes [16 rows][4]: bit g = u[4g+i] >> 4, bit 4+g = u[16+4g+i] >> 4
//     q6_K: + 2 x 64 bytes [16 rows][4]: bits 2g..2g+1 = u[4g+i] >> 4 (first), u[16+4g+i] >> 4 (second)
// so a q4_K super-block row takes 148 bytes (GGUF: 144), q5_K 180 (176), q6_K 212 (210).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/quant_matmul.h"
#include "lfm/status.h"
#include "tensor/convert.h"
#include "tensor/tensor_view.h"

namespace lfm {

inline constexpr int64_t kKQuantMetaBytes = 320;

// Bytes of one 32-k block's weights in a panel.
constexpr int64_t KQuantBlockBytes(DType t) { return t == DType::kQ4_K ? 256 : t == DType::kQ5_K ? 320 : 384; }

// Readers of the panel layout above for one row pr (0..15) of a panel, shared by the portable loops
// and DequantizeKQuantRow (the SIMD kernel reads the same bytes 16 rows at a time). base: a super-block.

// Row pr's d and dmin (0 for q6_K) as f32.
inline void KQuantPanelFactors(const uint8_t* base, int64_t pr, float* d, float* dmin) {
  uint16_t d16, dmin16;
  std::memcpy(&d16, base + pr * 2, 2);
  std::memcpy(&dmin16, base + 32 + pr * 2, 2);
  *d = F16ToF32(d16);
  *dmin = F16ToF32(dmin16);
}

// The byte offsets in a super-block of row pr's integer scales for 32-k block b (0..7): q4_K / q5_K:
// the sub-block's scale and min; q6_K: the scales of the block's two 16-wide halves.
inline void KQuantScaleOffsets(DType t, int64_t pr, int b, int64_t* sc, int64_t* m) {
  if (t == DType::kQ6_K) {
    *sc = 64 + b * 32 + pr * 2;
    *m = *sc + 1;
  } else {
    *sc = 64 + b * 16 + pr;
    *m = 192 + (b / 2) * 32 + pr * 2 + b % 2;
  }
}

// Row pr's integer scales for block b as above (q6_K's are signed).
inline void KQuantPanelScales(DType t, const uint8_t* base, int64_t pr, int b, int32_t* sc, int32_t* m) {
  int64_t osc, om;
  KQuantScaleOffsets(t, pr, b, &osc, &om);
  if (t == DType::kQ6_K) {
    *sc = static_cast<int8_t>(base[osc]);
    *m = static_cast<int8_t>(base[om]);
  } else {
    *sc = base[osc];
    *m = base[om];
  }
}

// Row pr's unsigned value k (0..31) of the 32-k block at wb: the nibble plus q5_K's 1 / q6_K's 2
// high bits.
inline int KQuantPanelValue(DType t, const uint8_t* wb, int64_t pr, int k) {
  const int g = (k % 16) / 4, i = k % 4;
  const bool high = k >= 16;
  const uint8_t byte = wb[g * 64 + pr * 4 + i];
  int u = high ? byte >> 4 : byte & 15;
  if (t == DType::kQ5_K) u |= ((wb[256 + pr * 4 + i] >> (high ? 4 + g : g)) & 1) << 4;
  if (t == DType::kQ6_K) u |= ((wb[(high ? 320 : 256) + pr * 4 + i] >> (2 * g)) & 3) << 4;
  return u;
}

// One super-block of one row as its integers.
struct KQuantSuper {
  uint16_t d = 0, dmin = 0;  // f16 bits (dmin 0 for q6_K)
  int32_t sc[16] = {};       // q4_K / q5_K: 8 (per 32); q6_K: 16 (per 16)
  int32_t m[8] = {};         // q4_K / q5_K mins
  uint8_t u[256] = {};       // the unsigned values
};

// Super-block sb of a GGUF row (the file's bytes) as integers.
void UnpackKQuantSuper(DType t, const uint8_t* row, int64_t sb, KQuantSuper* out);

// Packs a q4_K / q5_K / q6_K matrix (QuantPackedMatrix::Pack calls it for these types).
Result<QuantPackedMatrix> PackKQuant(const TensorView& w);

// Row r of a packed K-quant matrix as f32, with the dequantizer's operations (bit-equal to
// DequantizeRow of the source row).
void DequantizeKQuantRow(const QuantPackedMatrix& w, int64_t r, float* out);

// Portable loops over the packed layout (the scalar path).
void KQuantPanelsPortable(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                          int64_t p1);

// The plain twin, from the ORIGINAL GGUF view (checks the packing too).
void KQuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy);

}  // namespace lfm
