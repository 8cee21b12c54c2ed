#include "tensor/convert.h"

#include <algorithm>
#include <cmath>

#include "tensor/ggml_blocks.h"

namespace lfm {

float F16ToF32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (mant == 0) {
      u = sign;
    } else {  // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400u) == 0);
      u = sign | static_cast<uint32_t>(127 - 15 - e) << 23 | (mant & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | mant << 13;
  } else {
    u = sign | (exp + 112) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint16_t F32ToF16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return sign | 0x7e00u;               // NaN
  if (a >= 0x477ff000u) return sign | 0x7c00u;              // overflow (incl. inf) after rounding
  if (a < 0x38800000u) {                                    // subnormal or zero in f16
    float af;
    std::memcpy(&af, &a, 4);
    // Scale so that one f16 subnormal ulp (2^-24) is 1, then round to nearest even.
    float scaled = af * 16777216.0f;
    return sign | static_cast<uint16_t>(std::nearbyint(scaled));
  }
  uint32_t mant_round = a + 0xfffu + ((a >> 13) & 1u);
  return sign | static_cast<uint16_t>((mant_round - (112u << 23)) >> 13);
}

void DequantizeRow(DType t, const void* src, float* dst, int64_t n) {
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    // 16-bit data in a file may sit at an odd offset (safetensors does not align tensors): memcpy.
    case DType::kBF16: {
      const uint8_t* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = BF16ToF32(h);
      }
      return;
    }
    case DType::kF16: {
      const uint8_t* s = static_cast<const uint8_t*>(src);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, s + 2 * i, 2);
        dst[i] = F16ToF32(h);
      }
      return;
    }
    case DType::kQ8_0: {
      const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
      for (int64_t i = 0; i < n / kQ8_0BlockSize; ++i) {
        float d = F16ToF32(b[i].d);
        for (int j = 0; j < kQ8_0BlockSize; ++j) dst[i * kQ8_0BlockSize + j] = d * b[i].qs[j];
      }
      return;
    }
    case DType::kQ4_0: {
      const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
      for (int64_t i = 0; i < n / kQ4_0BlockSize; ++i) {
        float d = F16ToF32(b[i].d);
        float* o = dst + i * kQ4_0BlockSize;
        for (int j = 0; j < kQ4_0BlockSize / 2; ++j) {
          o[j] = d * (static_cast<int>(b[i].qs[j] & 0x0f) - 8);
          o[j + kQ4_0BlockSize / 2] = d * (static_cast<int>(b[i].qs[j] >> 4) - 8);
        }
      }
      return;
    }
    case DType::kQ4_1: return DequantizeQ4_1(static_cast<const BlockQ4_1*>(src), dst, n);
    case DType::kQ5_0: return DequantizeQ5_0(static_cast<const BlockQ5_0*>(src), dst, n);
    case DType::kQ5_1: return DequantizeQ5_1(static_cast<const BlockQ5_1*>(src), dst, n);
    case DType::kQ4_K: return DequantizeQ4_K(static_cast<const BlockQ4_K*>(src), dst, n);
    case DType::kQ5_K: return DequantizeQ5_K(static_cast<const BlockQ5_K*>(src), dst, n);
    case DType::kQ6_K: return DequantizeQ6_K(static_cast<const BlockQ6_K*>(src), dst, n);
    case DType::kAuto:
      return;
  }
}

void QuantizeRow(DType t, const float* src, void* dst, int64_t n) {
  switch (t) {
    case DType::kF32:
      std::memcpy(dst, src, n * 4);
      return;
    case DType::kBF16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = F32ToBF16(src[i]);
      return;
    }
    case DType::kF16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = F32ToF16(src[i]);
      return;
    }
    case DType::kQ8_0: {
      BlockQ8_0* b = static_cast<BlockQ8_0*>(dst);
      for (int64_t i = 0; i < n / kQ8_0BlockSize; ++i) {
        const float* x = src + i * kQ8_0BlockSize;
        float amax = 0;
        for (int j = 0; j < kQ8_0BlockSize; ++j) amax = std::max(amax, std::fabs(x[j]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = F32ToF16(d);
        // Ties round away from zero (roundf), as ggml's reference quantizer does: nearbyint's
        // round-half-even wrote different blocks than llama.cpp for exact .5 products.
        for (int j = 0; j < kQ8_0BlockSize; ++j) b[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      }
      return;
    }
    case DType::kQ4_0: {
      BlockQ4_0* b = static_cast<BlockQ4_0*>(dst);
      for (int64_t i = 0; i < n / kQ4_0BlockSize; ++i) {
        const float* x = src + i * kQ4_0BlockSize;
        float amax = 0, maxv = 0;
        for (int j = 0; j < kQ4_0BlockSize; ++j) {
          if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            maxv = x[j];
          }
        }
        float d = maxv / -8.0f;  // ggml convention: the extreme value maps to -8
        float id = d != 0 ? 1.0f / d : 0.0f;
        b[i].d = F32ToF16(d);
        for (int j = 0; j < kQ4_0BlockSize / 2; ++j) {
          int lo = std::min(15, static_cast<int>(x[j] * id + 8.5f));
          int hi = std::min(15, static_cast<int>(x[j + kQ4_0BlockSize / 2] * id + 8.5f));
          b[i].qs[j] = static_cast<uint8_t>(lo | (hi << 4));
        }
      }
      return;
    }
    case DType::kQ4_1:  // GGUF-only types: never a conversion target (ParseDTypeName refuses them)
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
    case DType::kAuto:
      return;
  }
}

}  // namespace lfm
