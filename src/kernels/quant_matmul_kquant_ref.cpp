// Portable K-quant pieces: the per-256 activation quantizer, the loops over the packed layout (the
// scalar path) and KQuantMatMulRef, the plain twin every SIMD path is tested against. Both matmuls do
// the super-block arithmetic spelled out in kernels/quant_matmul_kquant.h through SuperBlockStep; the
// reference reads the GGUF bytes, the portable loops the panels.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_impl.h"
#include "kernels/quant_matmul_kquant.h"
#include "tensor/convert.h"

namespace lfm {

void KQuantizeActsPortable(const float* x, int64_t ldx, int64_t t0, int64_t t1, QuantizedActs* a) {
  const int64_t nsb = a->cols / 256, nb = a->blocks;
  for (int64_t t = t0; t < t1; ++t) {
    for (int64_t sb = 0; sb < nsb; ++sb) {
      const float* xs = x + t * ldx + sb * 256;
      float amax = 0;
      for (int i = 0; i < 256; ++i) amax = std::max(amax, std::fabs(xs[i]));
      const float d = amax / 127.0f;
      const float id = d != 0 ? 1.0f / d : 0.0f;
      int8_t* q = a->kq.data() + t * a->cols + sb * 256;
      for (int i = 0; i < 256; ++i) {
        // |x * id| <= 127 (plus rounding), so the nearest-even integer always fits int8.
        const float v = std::nearbyint(xs[i] * id);
        q[i] = static_cast<int8_t>(v == v ? static_cast<int32_t>(v) : 0);  // NaN input: no UB, value unspecified
      }
      a->kd[t * nsb + sb] = d;
      for (int b = 0; b < 8; ++b) {
        int32_t sum = 0;
        for (int e = 0; e < 4; ++e) {
          int32_t s8 = 0;
          for (int i = 0; i < 8; ++i) s8 += q[b * 32 + e * 8 + i];
          a->kq6_start[t * (a->cols / 8) + sb * 32 + b * 4 + e] = -32 * s8;
          sum += s8;
        }
        a->ksum32[t * nb + sb * 8 + b] = static_cast<int16_t>(sum);
      }
    }
  }
}

namespace {

// One super-block of one row and token into acc: u the 256 unsigned values, sc the 8 (q6_K: 16) scales,
// m the 8 mins (q4_K / q5_K), q the 256 activations of scale xd. The integers are exact (bounds in
// kernels/quant_matmul_kquant.h); the f32 steps are the kernels'.
inline float SuperBlockStep(DType t, const uint8_t* u, const int32_t* sc, const int32_t* m, float d, float dmin,
                            const int8_t* q, float xd, float acc) {
  int32_t a = 0;
  if (t == DType::kQ6_K) {
    for (int k = 0; k < 256; ++k) a += sc[k / 16] * ((u[k] - 32) * q[k]);
    return std::fma(static_cast<float>(a), d * xd, acc);
  }
  int32_t mins = 0;
  for (int k = 0; k < 256; ++k) {
    a += sc[k / 32] * (u[k] * q[k]);
    mins += m[k / 32] * q[k];
  }
  acc = std::fma(static_cast<float>(a), d * xd, acc);
  return std::fma(-static_cast<float>(mins), dmin * xd, acc);
}

}  // namespace

void KQuantPanelsPortable(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                          int64_t p1) {
  const DType t = w.dtype();
  const bool q6 = t == DType::kQ6_K;
  const int64_t bb = KQuantBlockBytes(t), nsb = w.superblocks();
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* panel = w.kpanel(p);
    const int64_t rows = std::min<int64_t>(kQuantPanelRows, w.rows() - p * kQuantPanelRows);
    for (int64_t tk = 0; tk < a.n; ++tk) {
      for (int64_t r = 0; r < rows; ++r) {
        float acc = 0;
        for (int64_t sb = 0; sb < nsb; ++sb) {
          const uint8_t* base = panel + sb * w.superblock_bytes();
          float d, dmin;
          KQuantPanelFactors(base, r, &d, &dmin);
          uint8_t u[256];
          int32_t sc[16], m[8];
          for (int b = 0; b < 8; ++b) {
            const uint8_t* wb = base + kKQuantMetaBytes + b * bb;
            for (int k = 0; k < 32; ++k) u[b * 32 + k] = static_cast<uint8_t>(KQuantPanelValue(t, wb, r, k));
            int32_t s0, s1;
            KQuantPanelScales(t, base, r, b, &s0, &s1);
            if (q6) {
              sc[2 * b] = s0, sc[2 * b + 1] = s1;
            } else {
              sc[b] = s0, m[b] = s1;
            }
          }
          acc = SuperBlockStep(t, u, sc, m, d, dmin, a.kq.data() + tk * a.cols + sb * 256, a.kd[tk * nsb + sb], acc);
        }
        y[tk * ldy + p * kQuantPanelRows + r] = acc;
      }
    }
  }
}

void KQuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  const DType t = w.dtype;
  QuantizedActs a;
  QuantizeActsRef(x, n, w.cols(), ldx, &a, kActsSuper256);
  const int64_t nsb = w.cols() / 256;
  std::vector<KQuantSuper> row(static_cast<size_t>(nsb));
  for (int64_t r = 0; r < w.rows(); ++r) {
    for (int64_t sb = 0; sb < nsb; ++sb) UnpackKQuantSuper(t, w.row(r), sb, &row[sb]);
    for (int64_t tk = 0; tk < n; ++tk) {
      float acc = 0;
      for (int64_t sb = 0; sb < nsb; ++sb) {
        const KQuantSuper& s = row[sb];
        acc = SuperBlockStep(t, s.u, s.sc, s.m, F16ToF32(s.d), F16ToF32(s.dmin), a.kq.data() + tk * a.cols + sb * 256,
                             a.kd[tk * nsb + sb], acc);
      }
      y[tk * ldy + r] = acc;
    }
  }
}

}  // namespace lfm
