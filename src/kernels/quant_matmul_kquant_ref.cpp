// Portable K-quant pieces: the loops over the packed layout (the scalar path) and KQuantMatMulRef, the
// plain twin every SIMD path is tested against. Both do the block arithmetic spelled out in
// kernels/quant_matmul_kquant.h; the reference reads the GGUF bytes, the portable loops the panels.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_kquant.h"
#include "tensor/convert.h"

namespace lfm {

namespace {

// One 32-k block of one row and token into acc. u: the block's 32 values; sc / m: q4_K / q5_K's
// sub-block scale and min, or (q6_K) sc, m = the two halves' scales.
inline float BlockStep(DType t, const uint8_t* u, int32_t sc, int32_t m, float d, float dmin, const int8_t* q,
                       float xd, int32_t xsum, int32_t xsum_lo, float acc) {
  if (t == DType::kQ6_K) {
    int32_t lo = -32 * xsum_lo, hi = -32 * (xsum - xsum_lo);
    for (int k = 0; k < 16; ++k) lo += u[k] * q[k];
    for (int k = 16; k < 32; ++k) hi += u[k] * q[k];
    return std::fma(static_cast<float>(sc * lo + m * hi), d * xd, acc);
  }
  int32_t dot = 0;
  for (int k = 0; k < 32; ++k) dot += u[k] * q[k];
  acc = std::fma(static_cast<float>(sc * dot), d * xd, acc);
  return std::fma(-static_cast<float>(m * xsum), dmin * xd, acc);
}

}  // namespace

void KQuantPanelsPortable(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                          int64_t p1) {
  const DType t = w.dtype();
  const int64_t bb = KQuantBlockBytes(t), nb = a.blocks;
  for (int64_t p = p0; p < p1; ++p) {
    const uint8_t* panel = w.kpanel(p);
    const int64_t rows = std::min<int64_t>(kQuantPanelRows, w.rows() - p * kQuantPanelRows);
    for (int64_t tk = 0; tk < a.n; ++tk) {
      for (int64_t r = 0; r < rows; ++r) {
        float acc = 0;
        for (int64_t sb = 0; sb < w.superblocks(); ++sb) {
          const uint8_t* base = panel + sb * w.superblock_bytes();
          float d, dmin;
          KQuantPanelFactors(base, r, &d, &dmin);
          for (int b = 0; b < 8; ++b) {
            const uint8_t* wb = base + kKQuantMetaBytes + b * bb;
            uint8_t u[32];
            for (int k = 0; k < 32; ++k) u[k] = static_cast<uint8_t>(KQuantPanelValue(t, wb, r, k));
            int32_t sc, m;
            KQuantPanelScales(t, base, r, b, &sc, &m);
            const int64_t gb = sb * 8 + b;
            acc = BlockStep(t, u, sc, m, d, dmin, a.q.data() + tk * a.cols + gb * kQuantBlock, a.d[tk * nb + gb],
                            a.sum[tk * nb + gb], a.sum_lo[tk * nb + gb], acc);
          }
        }
        y[tk * ldy + p * kQuantPanelRows + r] = acc;
      }
    }
  }
}

void KQuantMatMulRef(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  const DType t = w.dtype;
  QuantizedActs a;
  QuantizeActsRef(x, n, w.cols(), ldx, &a);
  const int64_t nb = a.blocks, nsb = w.cols() / 256;
  std::vector<KQuantSuper> row(static_cast<size_t>(nsb));
  for (int64_t r = 0; r < w.rows(); ++r) {
    for (int64_t sb = 0; sb < nsb; ++sb) UnpackKQuantSuper(t, w.row(r), sb, &row[sb]);
    for (int64_t tk = 0; tk < n; ++tk) {
      float acc = 0;
      for (int64_t sb = 0; sb < nsb; ++sb) {
        const KQuantSuper& s = row[sb];
        const float d = F16ToF32(s.d), dmin = F16ToF32(s.dmin);
        for (int b = 0; b < 8; ++b) {
          const bool q6 = t == DType::kQ6_K;
          const int32_t sc = q6 ? s.sc[2 * b] : s.sc[b];
          const int32_t m = q6 ? s.sc[2 * b + 1] : s.m[b];
          const int64_t gb = sb * 8 + b;
          acc = BlockStep(t, s.u + 32 * b, sc, m, d, dmin, a.q.data() + tk * a.cols + gb * kQuantBlock,
                          a.d[tk * nb + gb], a.sum[tk * nb + gb], a.sum_lo[tk * nb + gb], acc);
        }
      }
      y[tk * ldy + r] = acc;
    }
  }
}

}  // namespace lfm
