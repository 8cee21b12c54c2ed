// Scalar conversions between f32 and the 16-bit float types, plus row (de)quantization.
#pragma once

#include <cstdint>
#include <cstring>

#include "tensor/dtype.h"

namespace lfm {

inline float BF16ToF32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// Round to nearest even, as torch does; NaN stays NaN.
inline uint16_t F32ToBF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

float F16ToF32(uint16_t h);
uint16_t F32ToF16(float f);

// Converts n elements of type t (n a multiple of t's block size) at src to f32.
void DequantizeRow(DType t, const void* src, float* dst, int64_t n);
// Converts n f32 values to type t (f32, f16, bf16, q8_0, q4_0); n a multiple of the block size.
void QuantizeRow(DType t, const float* src, void* dst, int64_t n);

}  // namespace lfm
