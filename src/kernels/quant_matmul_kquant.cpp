// Packing GGUF K-quants into QuantPackedMatrix panels (layout: kernels/quant_matmul_kquant.h), and
// reading a packed row back (a tied embedding table reads the lm_head's rows this way).
#include "kernels/quant_matmul_kquant.h"

#include <cstring>
#include <new>
#include <string>

#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {

void UnpackKQuantSuper(DType t, const uint8_t* row, int64_t sb, KQuantSuper* out) {
  if (t == DType::kQ6_K) {
    BlockQ6_K b;
    std::memcpy(&b, row + sb * sizeof b, sizeof b);
    out->d = b.d;
    out->dmin = 0;
    for (int s = 0; s < 16; ++s) out->sc[s] = b.scales[s];
    // As DequantizeQ6_K: two halves of 128; ql low / high nibbles and qh's 2-bit fields.
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = b.ql + 64 * h;
      const uint8_t* qh = b.qh + 32 * h;
      uint8_t* u = out->u + 128 * h;
      for (int l = 0; l < 32; ++l) {
        u[l] = static_cast<uint8_t>((ql[l] & 0x0f) | ((qh[l] & 3) << 4));
        u[l + 32] = static_cast<uint8_t>((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4));
        u[l + 64] = static_cast<uint8_t>((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4));
        u[l + 96] = static_cast<uint8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4));
      }
    }
    return;
  }
  // q4_K / q5_K: element 64c + 32half + l is nibble `half` of qs[32c + l] (+ Q5_K's bit 2c + half of qh[l]).
  const uint8_t* scales;
  const uint8_t* qs;
  const uint8_t* qh = nullptr;
  BlockQ4_K b4;
  BlockQ5_K b5;
  if (t == DType::kQ4_K) {
    std::memcpy(&b4, row + sb * sizeof b4, sizeof b4);
    out->d = b4.d;
    out->dmin = b4.dmin;
    scales = b4.scales;
    qs = b4.qs;
  } else {
    std::memcpy(&b5, row + sb * sizeof b5, sizeof b5);
    out->d = b5.d;
    out->dmin = b5.dmin;
    scales = b5.scales;
    qs = b5.qs;
    qh = b5.qh;
  }
  for (int s = 0; s < 8; ++s) {
    uint8_t sc, m;
    GetScaleMinK4(s, scales, &sc, &m);
    out->sc[s] = sc;
    out->m[s] = m;
  }
  for (int c = 0; c < 4; ++c) {
    for (int half = 0; half < 2; ++half) {
      for (int l = 0; l < 32; ++l) {
        int v = (qs[32 * c + l] >> (4 * half)) & 0x0f;
        if (qh != nullptr) v |= ((qh[l] >> (2 * c + half)) & 1) << 4;
        out->u[64 * c + 32 * half + l] = static_cast<uint8_t>(v);
      }
    }
  }
}

Result<QuantPackedMatrix> PackKQuant(const TensorView& w) {
  const DType t = w.dtype;
  if (t != DType::kQ4_K && t != DType::kQ5_K && t != DType::kQ6_K) {
    return InvalidArgument("PackKQuant: tensor '" + w.name + "' is " + DTypeName(t) + ", not q4_K, q5_K or q6_K");
  }
  if (w.rank() != 2 || w.rows() < 1 || w.cols() < 256 || w.cols() % 256 != 0) {
    return InvalidArgument("QuantPackedMatrix: tensor '" + w.name + "' has shape " + ShapeToString(w.shape) +
                           "; want a matrix whose columns are a multiple of 256");
  }
  QuantPackedMatrix m;
  m.dtype_ = t;
  m.rows_ = w.rows();
  m.cols_ = w.cols();
  const int64_t bb = KQuantBlockBytes(t);
  m.superblock_bytes_ = kKQuantMetaBytes + 8 * bb;
  m.kpanel_bytes_ = m.superblocks() * m.superblock_bytes_;
  const size_t total = static_cast<size_t>(m.panels() * m.kpanel_bytes_);
  m.data_.reset(static_cast<uint8_t*>(::operator new[](total, std::align_val_t(64))));
  // Padding rows of the last panel: zero factors and values, finite, never stored.
  std::memset(m.data_.get(), 0, total);
  KQuantSuper s;
  for (int64_t r = 0; r < m.rows_; ++r) {
    uint8_t* panel = m.data_.get() + (r / kQuantPanelRows) * m.kpanel_bytes_;
    const int64_t pr = r % kQuantPanelRows;
    for (int64_t sb = 0; sb < m.superblocks(); ++sb) {
      UnpackKQuantSuper(t, w.row(r), sb, &s);
      uint8_t* base = panel + sb * m.superblock_bytes_;
      std::memcpy(base + pr * 2, &s.d, 2);
      std::memcpy(base + 32 + pr * 2, &s.dmin, 2);
      for (int b = 0; b < 8; ++b) {
        int64_t osc, om;
        KQuantScaleOffsets(t, pr, b, &osc, &om);
        const bool q6 = t == DType::kQ6_K;  // q6_K: the block's two 16-wide halves' (signed) scales
        base[osc] = static_cast<uint8_t>(q6 ? static_cast<int8_t>(s.sc[2 * b]) : s.sc[b]);
        base[om] = static_cast<uint8_t>(q6 ? static_cast<int8_t>(s.sc[2 * b + 1]) : s.m[b]);
      }
      for (int b = 0; b < 8; ++b) {
        uint8_t* wb = base + kKQuantMetaBytes + b * bb;
        const uint8_t* u = s.u + 32 * b;
        for (int g = 0; g < 4; ++g) {
          for (int i = 0; i < 4; ++i) {
            const int lo = u[4 * g + i], hi = u[16 + 4 * g + i];
            wb[g * 64 + pr * 4 + i] = static_cast<uint8_t>((lo & 15) | ((hi & 15) << 4));
            if (t == DType::kQ5_K) {
              wb[256 + pr * 4 + i] |= static_cast<uint8_t>(((lo >> 4) << g) | ((hi >> 4) << (4 + g)));
            } else if (t == DType::kQ6_K) {
              wb[256 + pr * 4 + i] |= static_cast<uint8_t>((lo >> 4) << (2 * g));
              wb[320 + pr * 4 + i] |= static_cast<uint8_t>((hi >> 4) << (2 * g));
            }
          }
        }
      }
    }
  }
  return m;
}

void DequantizeKQuantRow(const QuantPackedMatrix& w, int64_t r, float* out) {
  const DType t = w.dtype();
  const int64_t bb = KQuantBlockBytes(t);
  const uint8_t* panel = w.kpanel(r / kQuantPanelRows);
  const int64_t pr = r % kQuantPanelRows;
  for (int64_t sb = 0; sb < w.superblocks(); ++sb) {
    const uint8_t* base = panel + sb * w.superblock_bytes();
    float d, dmin;
    KQuantPanelFactors(base, pr, &d, &dmin);
    for (int b = 0; b < 8; ++b) {
      const uint8_t* wb = base + kKQuantMetaBytes + b * bb;
      int32_t sc, m;
      KQuantPanelScales(t, base, pr, b, &sc, &m);
      for (int k = 0; k < 32; ++k) {
        const int u = KQuantPanelValue(t, wb, pr, k);
        float v;
        if (t == DType::kQ6_K) {
          // q6_K: sc, m are the scales of the block's first and second 16 values.
          v = (d * static_cast<float>(k < 16 ? sc : m)) * static_cast<float>(u - 32);
        } else {
          // The dequantizer's operations: (d * sc) * u - dmin * m.
          const float dl = d * static_cast<float>(sc), ml = dmin * static_cast<float>(m);
          v = dl * static_cast<float>(u) - ml;
        }
        out[sb * 256 + b * 32 + k] = v;
      }
    }
  }
}

}  // namespace lfm
