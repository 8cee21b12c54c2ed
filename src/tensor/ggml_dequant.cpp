// Plain dequantizers of the GGUF-only block types (layouts and formulas: tensor/ggml_blocks.h).
// Each product and difference is a separate statement so no compiler contracts them into an FMA:
// the results must equal the reference's separately rounded f32 operations bit for bit.
#include <cstring>

#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {

namespace {

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

}  // namespace

void DequantizeQ4_1(const BlockQ4_1* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, y += 32) {
    const float d = F16ToF32(b[i].d), m = F16ToF32(b[i].m);
    for (int j = 0; j < 16; ++j) {
      const float lo = d * static_cast<float>(b[i].qs[j] & 0x0f);
      const float hi = d * static_cast<float>(b[i].qs[j] >> 4);
      y[j] = lo + m;
      y[j + 16] = hi + m;
    }
  }
}

void DequantizeQ5_0(const BlockQ5_0* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, y += 32) {
    const float d = F16ToF32(b[i].d);
    const uint32_t qh = LoadU32(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int lo = static_cast<int>((b[i].qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16;
      const int hi = static_cast<int>((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16;
      y[j] = d * static_cast<float>(lo);
      y[j + 16] = d * static_cast<float>(hi);
    }
  }
}

void DequantizeQ5_1(const BlockQ5_1* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / 32; ++i, y += 32) {
    const float d = F16ToF32(b[i].d), m = F16ToF32(b[i].m);
    const uint32_t qh = LoadU32(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const float lo = d * static_cast<float>((b[i].qs[j] & 0x0f) | (((qh >> j) & 1u) << 4));
      const float hi = d * static_cast<float>((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4));
      y[j] = lo + m;
      y[j + 16] = hi + m;
    }
  }
}

void RepackQ5_0ToQ8_0(const BlockQ5_0* b, void* q8_0_out, int64_t n) {
  BlockQ8_0* o = static_cast<BlockQ8_0*>(q8_0_out);
  for (int64_t i = 0; i < n / 32; ++i) {
    const uint32_t qh = LoadU32(b[i].qh);
    o[i].d = b[i].d;
    for (int j = 0; j < 16; ++j) {
      o[i].qs[j] = static_cast<int8_t>(static_cast<int>((b[i].qs[j] & 0x0f) | (((qh >> j) & 1u) << 4)) - 16);
      o[i].qs[j + 16] = static_cast<int8_t>(static_cast<int>((b[i].qs[j] >> 4) | (((qh >> (j + 16)) & 1u) << 4)) - 16);
    }
  }
}

namespace {

// One Q4_K / Q5_K super-block; high(l, c, half) gives the 5th bit (0 for Q4_K) of element 64c + 32half + l.
template <class High>
void DequantizeK45(uint16_t d16, uint16_t dmin16, const uint8_t* scales, const uint8_t* qs, High high, float* y) {
  const float d = F16ToF32(d16), dmin = F16ToF32(dmin16);
  for (int c = 0; c < 4; ++c) {
    for (int half = 0; half < 2; ++half) {
      uint8_t sc, m;
      GetScaleMinK4(2 * c + half, scales, &sc, &m);
      const float dl = d * static_cast<float>(sc);
      const float ml = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) {
        const int q = ((qs[32 * c + l] >> (4 * half)) & 0x0f) | high(l, c, half);
        const float v = dl * static_cast<float>(q);
        y[64 * c + 32 * half + l] = v - ml;
      }
    }
  }
}

}  // namespace

void DequantizeQ4_K(const BlockQ4_K* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    DequantizeK45(b[i].d, b[i].dmin, b[i].scales, b[i].qs, [](int, int, int) { return 0; }, y);
  }
}

void DequantizeQ5_K(const BlockQ5_K* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const uint8_t* qh = b[i].qh;
    DequantizeK45(b[i].d, b[i].dmin, b[i].scales, b[i].qs,
                  [qh](int l, int c, int half) { return ((qh[l] >> (2 * c + half)) & 1) << 4; }, y);
  }
}

void DequantizeQ6_K(const BlockQ6_K* b, float* y, int64_t n) {
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    const float d = F16ToF32(b[i].d);
    // Two halves of 128: ql[64h + l] low nibble -> element 128h + l, (l < 32: +0 / l >= 32: +32),
    // its high nibble -> +64; the 2-bit fields of qh[32h + l] at shifts 0/2/4/6 -> l, l+32, l+64, l+96.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const uint8_t* qh = b[i].qh + 32 * h;
      const int8_t* sc = b[i].scales + 8 * h;
      float* o = y + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int q0 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q1 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        const int s = l / 16;
        o[l] = (d * static_cast<float>(sc[s + 0])) * static_cast<float>(q0);
        o[l + 32] = (d * static_cast<float>(sc[s + 2])) * static_cast<float>(q1);
        o[l + 64] = (d * static_cast<float>(sc[s + 4])) * static_cast<float>(q2);
        o[l + 96] = (d * static_cast<float>(sc[s + 6])) * static_cast<float>(q3);
      }
    }
  }
}

}  // namespace lfm
