// GCC 12 warns spuriously inside its own AVX-512 headers (_mm512_undefined_*).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/vision_gemm.h"

#include <algorithm>
#include <cstring>

#include "base/thread_pool.h"
#include "kernels/matmul_impl.h"
#include "tensor/convert.h"

#if LFM_HAVE_AVX512
#include <immintrin.h>
#endif

namespace lfm {

Result<PackedGemmMatrix> PackedGemmMatrix::Pack(const TensorView& w) { return PackStacked({w}); }

Result<PackedGemmMatrix> PackedGemmMatrix::PackStacked(const std::vector<TensorView>& parts) {
  PackedGemmMatrix m;
  if (parts.empty()) return InvalidArgument("PackStacked: no matrices");
  bool all_bf16 = true;
  for (const TensorView& w : parts) {
    if (w.rank() < 1 || w.rows() <= 0 || w.cols() <= 0) {
      return InvalidArgument("tensor '" + w.name + "': cannot pack shape " + ShapeToString(w.shape) + " for GEMM");
    }
    if (w.cols() != parts[0].cols()) {
      return InvalidArgument("tensor '" + w.name + "': " + std::to_string(w.cols()) + " columns, but '" +
                             parts[0].name + "' has " + std::to_string(parts[0].cols()) + "; cannot stack them");
    }
    if (!DTypeRowOk(w.dtype, w.cols())) {
      return InvalidArgument("tensor '" + w.name + "': " + std::to_string(w.cols()) +
                             " columns is not a multiple of the " + DTypeName(w.dtype) + " block size");
    }
    all_bf16 = all_bf16 && w.dtype == DType::kBF16;
    m.rows_ += w.rows();
  }
  m.cols_ = parts[0].cols();
  m.dtype_ = all_bf16 ? DType::kBF16 : DType::kF32;
  const int64_t K = m.cols_, eb = m.elem_bytes();
  m.data_.assign(static_cast<size_t>(m.panels() * K * kPanel * eb), 0);
  std::vector<float> row(K);
  int64_t out_row = 0;
  for (const TensorView& w : parts) {
    for (int64_t r = 0; r < w.rows(); ++r, ++out_row) {
      const int64_t p = out_row / kPanel, lane = out_row % kPanel;
      uint8_t* base = m.data_.data() + p * K * kPanel * eb;
      if (m.dtype_ == DType::kBF16) {
        // bf16 stays bf16: a plain copy, exact.
        const uint16_t* src = reinterpret_cast<const uint16_t*>(w.row(r));
        uint16_t* dst = reinterpret_cast<uint16_t*>(base);
        for (int64_t k = 0; k < K; ++k) dst[k * kPanel + lane] = src[k];
      } else {
        DequantizeRow(w.dtype, w.row(r), row.data(), K);
        float* dst = reinterpret_cast<float*>(base);
        for (int64_t k = 0; k < K; ++k) dst[k * kPanel + lane] = row[k];
      }
    }
  }
  return m;
}

void GemmPackedRef(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                   int64_t ldy) {
  const int64_t K = w.cols(), P = PackedGemmMatrix::kPanel;
  for (int64_t r = 0; r < w.rows(); ++r) {
    const uint8_t* panel = w.panel(r / P);
    const int64_t lane = r % P;
    for (int64_t t = 0; t < n; ++t) {
      double acc = bias ? bias[r] : 0.0;
      for (int64_t k = 0; k < K; ++k) {
        const float wv = w.dtype() == DType::kBF16
                             ? BF16ToF32(reinterpret_cast<const uint16_t*>(panel)[k * P + lane])
                             : reinterpret_cast<const float*>(panel)[k * P + lane];
        acc += static_cast<double>(x[t * ldx + k]) * wv;
      }
      y[t * ldy + r] = static_cast<float>(acc);
    }
  }
}

#if LFM_HAVE_AVX512

namespace {

constexpr int kMR = 8;      // tokens per micro-tile (8 x 3 accumulators + 3 weights + 1 broadcast)
constexpr int64_t kMC = 128;  // tokens per L2 block

struct PanelF32 {
  using T = float;
  static __m512 Load(const T* p) { return _mm512_loadu_ps(p); }
  static constexpr int64_t kKC = 128;  // 128 x 48 x 4 B = 24 KiB of panel in L1
};
struct PanelBF16 {
  using T = uint16_t;
  static __m512 Load(const T* p) {
    return _mm512_castsi512_ps(
        _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
  }
  static constexpr int64_t kKC = 256;  // 256 x 48 x 2 B = 24 KiB
};

// y[MR][48] (+)= x[MR][kc] * panel[kc][48]. `first`: start from the bias (or 0) instead of y.
template <class L, int MR>
inline void MicroKernel(const float* x, int64_t ldx, const typename L::T* w, int64_t kc, float* y, int64_t ldy,
                        bool first, const float* bias, const __mmask16 (&mask)[3]) {
  constexpr int P = PackedGemmMatrix::kPanel;
  __m512 acc[MR][3];
  for (int c = 0; c < 3; ++c) {
    const __m512 init = bias ? _mm512_maskz_loadu_ps(mask[c], bias + 16 * c) : _mm512_setzero_ps();
    for (int m = 0; m < MR; ++m) acc[m][c] = first ? init : _mm512_maskz_loadu_ps(mask[c], y + m * ldy + 16 * c);
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 w0 = L::Load(w + k * P), w1 = L::Load(w + k * P + 16), w2 = L::Load(w + k * P + 32);
    for (int m = 0; m < MR; ++m) {
      const __m512 xb = _mm512_set1_ps(x[m * ldx + k]);
      acc[m][0] = _mm512_fmadd_ps(xb, w0, acc[m][0]);
      acc[m][1] = _mm512_fmadd_ps(xb, w1, acc[m][1]);
      acc[m][2] = _mm512_fmadd_ps(xb, w2, acc[m][2]);
    }
  }
  for (int m = 0; m < MR; ++m)
    for (int c = 0; c < 3; ++c) _mm512_mask_storeu_ps(y + m * ldy + 16 * c, mask[c], acc[m][c]);
}

template <class L>
void GemmPanels(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy, int64_t p0, int64_t p1) {
  using T = typename L::T;
  constexpr int P = PackedGemmMatrix::kPanel;
  const int64_t K = w.cols();
  for (int64_t t0 = 0; t0 < n; t0 += kMC) {
    const int64_t t1 = std::min(n, t0 + kMC);
    for (int64_t k0 = 0; k0 < K; k0 += L::kKC) {
      const int64_t kc = std::min(L::kKC, K - k0);
      const bool first = k0 == 0;
      for (int64_t p = p0; p < p1; ++p) {
        const T* wp = reinterpret_cast<const T*>(w.panel(p)) + k0 * P;
        const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
        __mmask16 mask[3];
        for (int c = 0; c < 3; ++c) {
          const int64_t left = std::clamp<int64_t>(valid - 16 * c, 0, 16);
          mask[c] = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1u);
        }
        const float* bp = bias && first ? bias + p * P : nullptr;
        float* yp = y + p * P;
        int64_t t = t0;
        for (; t + kMR <= t1; t += kMR) {
          MicroKernel<L, kMR>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask);
        }
        switch (t1 - t) {
          case 7: MicroKernel<L, 7>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 6: MicroKernel<L, 6>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 5: MicroKernel<L, 5>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 4: MicroKernel<L, 4>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 3: MicroKernel<L, 3>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 2: MicroKernel<L, 2>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          case 1: MicroKernel<L, 1>(x + t * ldx + k0, ldx, wp, kc, yp + t * ldy, ldy, first, bp, mask); break;
          default: break;
        }
      }
    }
  }
}

}  // namespace

void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy) {
  if (n <= 0) return;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(w.panels()), [&](size_t b, size_t e, int) {
    if (w.dtype() == DType::kBF16) {
      GemmPanels<PanelBF16>(w, x, n, ldx, bias, y, ldy, static_cast<int64_t>(b), static_cast<int64_t>(e));
    } else {
      GemmPanels<PanelF32>(w, x, n, ldx, bias, y, ldy, static_cast<int64_t>(b), static_cast<int64_t>(e));
    }
  });
}

#else  // !LFM_HAVE_AVX512

void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy) {
  if (n <= 0) return;
  const int64_t K = w.cols(), P = PackedGemmMatrix::kPanel;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(w.panels()), [&](size_t b, size_t e, int) {
    std::vector<float> acc(P);
    for (size_t p = b; p < e; ++p) {
      const int64_t valid = std::min<int64_t>(P, w.rows() - static_cast<int64_t>(p) * P);
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t l = 0; l < P; ++l) acc[l] = bias && l < valid ? bias[p * P + l] : 0.0f;
        for (int64_t k = 0; k < K; ++k) {
          const float xv = x[t * ldx + k];
          for (int64_t l = 0; l < P; ++l) {
            const float wv = w.dtype() == DType::kBF16
                                 ? BF16ToF32(reinterpret_cast<const uint16_t*>(w.panel(p))[k * P + l])
                                 : reinterpret_cast<const float*>(w.panel(p))[k * P + l];
            acc[l] += xv * wv;
          }
        }
        for (int64_t l = 0; l < valid; ++l) y[t * ldy + p * P + l] = acc[l];
      }
    }
  });
}

#endif  // LFM_HAVE_AVX512

}  // namespace lfm
