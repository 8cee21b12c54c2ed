#include "kernels/vision_gemm.h"

#include <algorithm>
#include <cstring>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/bf16_dot.h"
#include "kernels/vision_gemm_impl.h"
#include "kernels/workspace.h"
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
      if (m.bf16_pairs_) {
        // bf16 stays bf16 (exact); in the pair layout each pair of k is one 32-bit copy (the decoder's
        // ~180 M weights are packed at every load, so this loop matters).
        const uint16_t* src = reinterpret_cast<const uint16_t*>(w.row(r));
        uint16_t* dst = reinterpret_cast<uint16_t*>(base) + 2 * lane;
        for (int64_t kp = 0; kp < K / 2; ++kp) std::memcpy(dst + kp * 2 * kPanel, src + 2 * kp, 4);
        if (K & 1) dst[(K / 2) * 2 * kPanel] = src[K - 1];
      } else if (m.dtype_ == DType::kBF16) {
        // bf16 stays bf16: a plain copy, exact.
        const uint16_t* src = reinterpret_cast<const uint16_t*>(w.row(r));
        uint16_t* dst = reinterpret_cast<uint16_t*>(base);
        for (int64_t k = 0; k < K; ++k) dst[m.index(k, lane)] = src[k];
      } else {
        lfm::DequantizeRow(w.dtype, w.row(r), row.data(), K);
        float* dst = reinterpret_cast<float*>(base);
        for (int64_t k = 0; k < K; ++k) dst[m.index(k, lane)] = row[k];
      }
    }
  }
  return m;
}

void PackedGemmMatrix::DequantizeRow(int64_t r, float* out) const {
  const uint8_t* p = panel(r / kPanel);
  const int64_t lane = r % kPanel;
  for (int64_t k = 0; k < cols_; ++k) {
    out[k] = dtype_ == DType::kBF16 ? BF16ToF32(reinterpret_cast<const uint16_t*>(p)[index(k, lane)])
                                    : reinterpret_cast<const float*>(p)[index(k, lane)];
  }
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

bool GemmPackedUsesBf16Dot() { return UseBf16Dot() && avx512::GemmPanelKernelBf16() != nullptr; }

namespace {

// Rows [0, n) of x as bf16 pairs for the pair layout (row stride ldxb = padded cols), in a buffer kept
// per calling thread (the tower calls GemmPacked ~80 times a crop, the decoder ~50 times a token: no
// allocation once warm). A few rows (decode) are converted right here: a thread hand-off costs more.
const uint16_t* ActivationsToBf16(const float* x, int64_t n, int64_t ldx, int64_t K, int64_t ldxb) {
  thread_local std::vector<uint16_t> xb;
  if (xb.size() < static_cast<size_t>(n * ldxb)) {
    const size_t before = xb.capacity() * sizeof(uint16_t);
    xb.resize(static_cast<size_t>(n * ldxb));
    NoteKernelWorkspace(before, xb.capacity() * sizeof(uint16_t));
  }
  uint16_t* xbp = xb.data();
  if (n * K <= (int64_t{1} << 16)) {
    RowsToBf16(x, n, ldx, K, xbp, ldxb);
  } else {
    DefaultThreadPool().ParallelFor(static_cast<size_t>(n), [&](size_t b, size_t e, int) {
      RowsToBf16(x + b * ldx, static_cast<int64_t>(e - b), ldx, K, xbp + b * ldxb, ldxb);
    });
  }
  return xbp;
}

}  // namespace

void GemmPacked(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                int64_t ldy) {
  const GemmPackedJob job{&w, bias, y, ldy};
  GemmPackedMany(&job, 1, x, n, ldx);
}

void GemmPackedMany(const GemmPackedJob* jobs, int count, const float* x, int64_t n, int64_t ldx) {
  if (n <= 0 || count <= 0) return;
  for (int j = 1; j < count; ++j) {
    if (jobs[j].w->cols() != jobs[0].w->cols() || jobs[j].w->bf16_pairs() != jobs[0].w->bf16_pairs()) {
      for (int i = 0; i < count; ++i) GemmPackedMany(&jobs[i], 1, x, n, ldx);
      return;
    }
  }
  // Panel q of the concatenation of all jobs' panels: starts[j] <= q < starts[j + 1] is job j's.
  constexpr int kMaxJobs = 8;
  if (count > kMaxJobs) {
    GemmPackedMany(jobs, kMaxJobs, x, n, ldx);
    GemmPackedMany(jobs + kMaxJobs, count - kMaxJobs, x, n, ldx);
    return;
  }
  int64_t starts[kMaxJobs + 1] = {0};
  for (int j = 0; j < count; ++j) starts[j + 1] = starts[j] + jobs[j].w->panels();
  // Calls fn(job, p0, p1) for every job's share of the global panel range [b, e).
  auto for_pieces = [&](size_t b, size_t e, auto&& fn) {
    for (int j = 0; j < count; ++j) {
      const int64_t p0 = std::max<int64_t>(static_cast<int64_t>(b), starts[j]) - starts[j];
      const int64_t p1 = std::min<int64_t>(static_cast<int64_t>(e), starts[j + 1]) - starts[j];
      if (p0 < p1) fn(jobs[j], p0, p1);
    }
  };
  if (jobs[0].w->bf16_pairs()) {
    const int64_t ldxb = jobs[0].w->padded_cols();
    const uint16_t* xb = ActivationsToBf16(x, n, ldx, jobs[0].w->cols(), ldxb);
    const GemmPanelRangeBf16Fn fn = Bf16Kernel();
    DefaultThreadPool().ParallelFor(static_cast<size_t>(starts[count]), [&](size_t b, size_t e, int) {
      for_pieces(b, e, [&](const GemmPackedJob& jb, int64_t p0, int64_t p1) {
        fn(*jb.w, xb, n, ldxb, jb.bias, jb.y, jb.ldy, p0, p1);
      });
    });
    return;
  }
  const GemmPanelRangeFn fn = Kernel().fn;
  DefaultThreadPool().ParallelFor(static_cast<size_t>(starts[count]), [&](size_t b, size_t e, int) {
    for_pieces(b, e, [&](const GemmPackedJob& jb, int64_t p0, int64_t p1) {
      fn(*jb.w, x, n, ldx, jb.bias, jb.y, jb.ldy, p0, p1);
    });
  });
}

}  // namespace lfm
