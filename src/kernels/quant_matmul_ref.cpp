// Portable int8 matmul pieces: the activation quantizer, the loops over the packed layout (used when
// the CPU has no VNNI kernel) and QuantMatMulRef, the plain twin every SIMD path is tested against.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_impl.h"
#include "kernels/quant_matmul_kquant.h"
#include "tensor/convert.h"

namespace lfm {

void QuantizeActsPortable(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a) {
  const int64_t nb = a->blocks;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      const float* xb = x + t * ldx + b * kQuantBlock;
      float amax = 0;
      for (int i = 0; i < kQuantBlock; ++i) amax = std::max(amax, std::fabs(xb[i]));
      const float d = amax / 127.0f;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      int8_t* q = a->q.data() + t * a->cols + b * kQuantBlock;
      int32_t sum = 0;
      for (int i = 0; i < kQuantBlock; ++i) {
        // |x * id| <= 127 (plus rounding), so the nearest-even integer always fits int8.
        const float v = std::nearbyint(xb[i] * id);
        const int32_t qi = v == v ? static_cast<int32_t>(v) : 0;  // NaN input: no UB, value unspecified
        q[i] = static_cast<int8_t>(qi);
        sum += qi;
      }
      a->d[t * nb + b] = d;
      a->sum[t * nb + b] = sum;
    }
  }
}

void QuantPanelsPortable(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                         int64_t p1) {
  const int64_t nb = w.blocks();
  const bool q4 = w.dtype() == DType::kQ4_0;
  const int32_t off = w.offset();
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t rows = std::min<int64_t>(kQuantPanelRows, w.rows() - p * kQuantPanelRows);
    for (int64_t t = 0; t < a.n; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        float acc = 0;
        for (int64_t b = 0; b < nb; ++b) {
          const uint8_t* wb = w.weights(p) + b * w.block_stride();
          const int8_t* q = a.q.data() + t * a.cols + b * kQuantBlock;
          int32_t dot = -off * a.sum[t * nb + b];
          for (int k = 0; k < kQuantBlock; ++k) {
            int32_t u;
            if (q4) {
              const uint8_t byte = wb[((k & 15) / 4) * QuantPackedMatrix::kVectorStride + r * 4 + (k & 3)];
              u = k < 16 ? (byte & 15) : (byte >> 4);
            } else {
              u = wb[(k / 4) * QuantPackedMatrix::kVectorStride + r * 4 + (k & 3)];
            }
            dot += u * q[k];
          }
          uint16_t h;
          std::memcpy(&h, w.scales(p) + b * w.block_stride() + r * 2, 2);
          const float scale = F16ToF32(h) * a.d[t * nb + b];
          acc = std::fma(static_cast<float>(dot), scale, acc);
        }
        y[t * ldy + p * kQuantPanelRows + r] = acc;
      }
    }
  }
}

void QuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  if (w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K || w.dtype == DType::kQ6_K) {
    KQuantMatMulRef(w, x, n, ldx, y, ldy);
    return;
  }
  QuantizedActs a;
  QuantizeActsRef(x, n, w.cols(), ldx, &a);
  const int64_t nb = a.blocks;
  const bool q4 = w.dtype == DType::kQ4_0;
  for (int64_t r = 0; r < w.rows(); ++r) {
    for (int64_t t = 0; t < n; ++t) {
      float acc = 0;
      for (int64_t b = 0; b < nb; ++b) {
        const int8_t* q = a.q.data() + t * a.cols + b * kQuantBlock;
        int32_t dot = 0;
        uint16_t d;
        if (q4) {
          BlockQ4_0 blk;
          std::memcpy(&blk, w.row(r) + b * sizeof blk, sizeof blk);
          d = blk.d;
          for (int k = 0; k < 16; ++k) {
            dot += ((blk.qs[k] & 15) - 8) * q[k];
            dot += ((blk.qs[k] >> 4) - 8) * q[k + 16];
          }
        } else {
          BlockQ8_0 blk;
          std::memcpy(&blk, w.row(r) + b * sizeof blk, sizeof blk);
          d = blk.d;
          for (int k = 0; k < kQuantBlock; ++k) dot += blk.qs[k] * q[k];
        }
        acc = std::fma(static_cast<float>(dot), F16ToF32(d) * a.d[t * nb + b], acc);
      }
      y[t * ldy + r] = acc;
    }
  }
}

}  // namespace lfm
