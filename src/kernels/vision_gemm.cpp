#include "kernels/vision_gemm.h"

#include <algorithm>
#include <cstring>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_gemm_impl.h"
#include "tensor/convert.h"

namespace lfm {

Result<PackedGemmMatrix> PackedGemmMatrix::Pack(const TensorView& w) { return PackStacked({w}); }

Result<PackedGemmMatrix> PackedGemmMatrix::PackStacked(const std::vector<TensorView>& parts) {
  return PackStacked(parts, GemmPackedUsesBf16Dot());
}

Result<PackedGemmMatrix> PackedGemmMatrix::PackStacked(const std::vector<TensorView>& parts, bool bf16_pairs) {
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
  m.bf16_pairs_ = all_bf16 && bf16_pairs;
  const int64_t K = m.cols_, eb = m.elem_bytes(), panel_elems = m.padded_cols() * kPanel;
  m.data_.assign(static_cast<size_t>(m.panels() * panel_elems * eb), 0);  // zeros: padding rows and column
  std::vector<float> row(K);
  int64_t out_row = 0;
  for (const TensorView& w : parts) {
    for (int64_t r = 0; r < w.rows(); ++r, ++out_row) {
      const int64_t p = out_row / kPanel, lane = out_row % kPanel;
      uint8_t* base = m.data_.data() + p * panel_elems * eb;
      if (m.dtype_ == DType::kBF16) {
        // bf16 stays bf16: a plain copy, exact.
        const uint16_t* src = reinterpret_cast<const uint16_t*>(w.row(r));
        uint16_t* dst = reinterpret_cast<uint16_t*>(base);
        for (int64_t k = 0; k < K; ++k) dst[m.index(k, lane)] = src[k];
      } else {
        DequantizeRow(w.dtype, w.row(r), row.data(), K);
        float* dst = reinterpret_cast<float*>(base);
        for (int64_t k = 0; k < K; ++k) dst[m.index(k, lane)] = row[k];
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
                             ? BF16ToF32(reinterpret_cast<const uint16_t*>(panel)[w.index(k, lane)])
                             : reinterpret_cast<const float*>(panel)[w.index(k, lane)];
        const float xv = w.bf16_pairs() ? RoundToBf16ForDot(x[t * ldx + k]) : x[t * ldx + k];
        acc += static_cast<double>(xv) * wv;
      }
      y[t * ldy + r] = static_cast<float>(acc);
    }
  }
}

namespace {

// Portable panels [p0, p1) of y for all n tokens, on the calling thread (f32 accumulation).
void GemmPanelRangeScalar(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias,
                          float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t K = w.cols(), P = PackedGemmMatrix::kPanel;
  std::vector<float> acc(P);
  for (int64_t p = p0; p < p1; ++p) {
    const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t l = 0; l < P; ++l) acc[l] = bias && l < valid ? bias[p * P + l] : 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const float xv = x[t * ldx + k];
        for (int64_t l = 0; l < P; ++l) {
          const float wv = w.dtype() == DType::kBF16
                               ? BF16ToF32(reinterpret_cast<const uint16_t*>(w.panel(p))[w.index(k, l)])
                               : reinterpret_cast<const float*>(w.panel(p))[w.index(k, l)];
          acc[l] += xv * wv;
        }
      }
      for (int64_t l = 0; l < valid; ++l) y[t * ldy + p * P + l] = acc[l];
    }
  }
}

// Portable panels of a bf16_pairs() matrix from activations already rounded to bf16 (f32
// accumulation): where the matrix was packed that way without the AVX512_BF16 kernel (tests).
void GemmPanelRangeBf16Scalar(const PackedGemmMatrix& w, const uint16_t* xb, int64_t n, int64_t ldxb,
                              const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t K = w.cols(), P = PackedGemmMatrix::kPanel;
  std::vector<float> acc(P);
  for (int64_t p = p0; p < p1; ++p) {
    const uint16_t* wp = reinterpret_cast<const uint16_t*>(w.panel(p));
    const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
    for (int64_t t = 0; t < n; ++t) {
      for (int64_t l = 0; l < P; ++l) acc[l] = bias && l < valid ? bias[p * P + l] : 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const float xv = BF16ToF32(xb[t * ldxb + k]);
        for (int64_t l = 0; l < P; ++l) acc[l] += xv * BF16ToF32(wp[w.index(k, l)]);
      }
      for (int64_t l = 0; l < valid; ++l) y[t * ldy + p * P + l] = acc[l];
    }
  }
}

GemmPanelRangeBf16Fn Bf16Kernel() {
  static const GemmPanelRangeBf16Fn fn =
      ActiveAvx512Bf16() && avx512::GemmPanelKernelBf16() ? avx512::GemmPanelKernelBf16() : GemmPanelRangeBf16Scalar;
  return fn;
}

// The panel kernel of the active ISA, chosen once (thread-safe static init).
struct ActiveKernel {
  GemmPanelRangeFn fn;
  Isa isa;
};

const ActiveKernel& Kernel() {
  static const ActiveKernel k = []() -> ActiveKernel {
    const Isa isa = ActiveIsa();
    if (isa >= Isa::kAvx512 && avx512::GemmPanelKernel()) return {avx512::GemmPanelKernel(), Isa::kAvx512};
    if (isa >= Isa::kAvx2 && avx2::GemmPanelKernel()) return {avx2::GemmPanelKernel(), Isa::kAvx2};
    return {GemmPanelRangeScalar, Isa::kScalar};
  }();
  return k;
}

}  // namespace

Isa GemmPackedIsa() { return Kernel().isa; }

bool GemmPackedUsesBf16Dot() { return ActiveAvx512Bf16() && avx512::GemmPanelKernelBf16() != nullptr; }

void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy) {
  if (n <= 0) return;
  if (w.bf16_pairs()) {
    // The activations rounded to bf16 once per call (each token row once, in parallel), then every
    // panel reads them. The buffer is kept per calling thread: the tower calls this ~80 times a crop.
    const int64_t ldxb = w.padded_cols();
    thread_local std::vector<uint16_t> xb;
    if (xb.size() < static_cast<size_t>(n * ldxb)) xb.resize(static_cast<size_t>(n * ldxb));
    uint16_t* xbp = xb.data();
    DefaultThreadPool().ParallelFor(static_cast<size_t>(n), [&](size_t b, size_t e, int) {
      RowsToBf16(x + b * ldx, static_cast<int64_t>(e - b), ldx, w.cols(), xbp + b * ldxb, ldxb);
    });
    const GemmPanelRangeBf16Fn fn = Bf16Kernel();
    DefaultThreadPool().ParallelFor(static_cast<size_t>(w.panels()), [&](size_t b, size_t e, int) {
      fn(w, xbp, n, ldxb, bias, y, ldy, static_cast<int64_t>(b), static_cast<int64_t>(e));
    });
    return;
  }
  const GemmPanelRangeFn fn = Kernel().fn;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(w.panels()), [&](size_t b, size_t e, int) {
    fn(w, x, n, ldx, bias, y, ldy, static_cast<int64_t>(b), static_cast<int64_t>(e));
  });
}

}  // namespace lfm
