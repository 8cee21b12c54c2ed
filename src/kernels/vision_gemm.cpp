#include "kernels/vision_gemm.h"

#include <algorithm>
#include <cmath>
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
  return PackStacked(parts, GemmPackedUsesBf16Dot() ? PackedMath::kBf16Dot : PackedMath::kF32);
}

Result<PackedGemmMatrix> PackedGemmMatrix::PackStacked(const std::vector<TensorView>& parts, bool bf16_pairs) {
  return PackStacked(parts, bf16_pairs ? PackedMath::kBf16Dot : PackedMath::kF32);
}

int Fp16ActivationExponent(float max_abs) {
  if (!(max_abs > 0.0f) || !std::isfinite(max_abs)) return 0;  // zeros: any scale; inf / NaN propagate
  int q = 0;
  std::frexp(max_abs, &q);  // max_abs < 2^q
  // |e| <= 100 keeps x * 2^e and 2^-(e + fp16_exp) normal f32 numbers (fp16_exp is within +-25).
  return std::clamp(kFp16ActivationLog2Max - q, -100, 100);
}

namespace {

// The largest magnitude among 16-bit weights (bf16 / f16 bits), or -1 when one is not finite.
float MaxAbs16(const TensorView& w) {
  const uint16_t inf_bits = w.dtype == DType::kBF16 ? 0x7f80 : 0x7c00;
  uint16_t most = 0;
  for (int64_t r = 0; r < w.rows(); ++r) {
    const uint16_t* src = reinterpret_cast<const uint16_t*>(w.row(r));
    for (int64_t k = 0; k < w.cols(); ++k) most = std::max<uint16_t>(most, src[k] & 0x7fff);
  }
  // Finite magnitudes of both formats order like their bit patterns.
  if (most >= inf_bits) return -1.0f;
  return w.dtype == DType::kBF16 ? BF16ToF32(most) : F16ToF32(most);
}

// kFp16 applies when every part is bf16 or f16 and finite with the largest magnitude in [2^-24, 2^24]
// (or all zero); then *exp is the power of two that puts the largest in [1, 2).
bool Fp16Applies(const std::vector<TensorView>& parts, int* exp) {
  float most = 0.0f;
  for (const TensorView& w : parts) {
    if (w.dtype != DType::kBF16 && w.dtype != DType::kF16) return false;
    const float m = MaxAbs16(w);
    if (m < 0.0f) return false;
    most = std::max(most, m);
  }
  *exp = 0;
  if (most == 0.0f) return true;
  if (most < std::ldexp(1.0f, -24) || most > std::ldexp(1.0f, 24)) return false;
  int q = 0;
  std::frexp(most, &q);  // most in [2^(q-1), 2^q)
  *exp = 1 - q;
  return true;
}

}  // namespace

Result<PackedGemmMatrix> PackedGemmMatrix::PackStacked(const std::vector<TensorView>& parts, PackedMath math) {
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
  if (math == PackedMath::kFp16 && Fp16Applies(parts, &m.fp16_exp_)) {
    m.dtype_ = DType::kF16;
    m.math_ = PackedMath::kFp16;
  } else {
    m.dtype_ = all_bf16 ? DType::kBF16 : DType::kF32;
    m.math_ = all_bf16 && math == PackedMath::kBf16Dot ? PackedMath::kBf16Dot : PackedMath::kF32;
  }
  const int64_t K = m.cols_, eb = m.elem_bytes(), panel_elems = m.padded_cols() * kPanel;
  m.data_.assign(static_cast<size_t>(m.panels() * panel_elems * eb), 0);  // zeros: padding rows and column
  std::vector<float> row(K);
  const float fp16_scale = std::ldexp(1.0f, m.fp16_exp_);
  int64_t out_row = 0;
  for (const TensorView& w : parts) {
    for (int64_t r = 0; r < w.rows(); ++r, ++out_row) {
      const int64_t p = out_row / kPanel, lane = out_row % kPanel;
      uint8_t* base = m.data_.data() + p * panel_elems * eb;
      if (m.fp16_pairs()) {
        // bf16 / f16 times a power of two: exact in fp16 but for weights too small against the largest
        // (bf16: below 2^-17 of it), which round to fp16 subnormal steps.
        lfm::DequantizeRow(w.dtype, w.row(r), row.data(), K);
        uint16_t* dst = reinterpret_cast<uint16_t*>(base);
        for (int64_t k = 0; k < K; ++k) dst[m.index(k, lane)] = F32ToF16(row[k] * fp16_scale);
      } else if (m.bf16_pairs()) {
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
  const float unscale = std::ldexp(1.0f, -fp16_exp_);
  for (int64_t k = 0; k < cols_; ++k) {
    const int64_t i = index(k, lane);
    const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
    out[k] = dtype_ == DType::kBF16   ? BF16ToF32(h[i])
             : dtype_ == DType::kF16 ? F16ToF32(h[i]) * unscale
                                     : reinterpret_cast<const float*>(p)[i];
  }
}

void RowsToFp16ScaledRef(const float* x, int64_t n, int64_t ldx, int64_t K, uint16_t* dst, int64_t ldd, int* exps) {
  for (int64_t t = 0; t < n; ++t) {
    float most = 0.0f;
    for (int64_t k = 0; k < K; ++k) most = std::max(most, std::fabs(x[t * ldx + k]));
    exps[t] = Fp16ActivationExponent(most);
    const float scale = std::ldexp(1.0f, exps[t]);
    for (int64_t k = 0; k < K; ++k) dst[t * ldd + k] = F32ToF16(x[t * ldx + k] * scale);
    if (K % 2 != 0) dst[t * ldd + K] = 0;
  }
}

namespace {

// v rounded to the nearest fp16 value (ties to even; beyond the largest finite, infinity), as a double.
double RoundToFp16(double v) {
  if (std::isnan(v)) return v;
  if (std::fabs(v) >= 65520.0) return std::copysign(INFINITY, v);
  int e = 0;
  std::frexp(v, &e);                             // |v| in [2^(e-1), 2^e): fp16 keeps 11 bits from 2^(e-1)
  const int ulp = std::max(e - 11, -24);         // below 2^-14, subnormals: steps of 2^-24
  return std::ldexp(std::nearbyint(std::ldexp(v, -ulp)), ulp);  // default rounding mode: nearest even
}

// Panels [p0, p1) of a fp16_pairs() matrix for all n tokens, following the AVX512_FP16 kernel's
// arithmetic one operation at a time: per lane (output row, k parity) a run of kFp16RunPairs fused
// multiply-adds rounded to fp16, then the two lanes' runs added in f32 and the sum times inv[t] added
// to the f32 result (from the bias, or 0). Slow: the reference twin, and the fallback where the
// kernel cannot run (tests pack kFp16 on any CPU).
void Fp16PanelsStepByStep(const PackedGemmMatrix& w, const uint16_t* xh, int64_t n, int64_t ldxh, const float* inv,
                          const float* bias, float* y, int64_t ldy, int64_t p0, int64_t p1) {
  const int64_t K = w.padded_cols(), P = PackedGemmMatrix::kPanel;
  for (int64_t p = p0; p < p1; ++p) {
    const uint16_t* wp = reinterpret_cast<const uint16_t*>(w.panel(p));
    const int64_t valid = std::min<int64_t>(P, w.rows() - p * P);
    for (int64_t l = 0; l < valid; ++l) {
      for (int64_t t = 0; t < n; ++t) {
        float acc = bias ? bias[p * P + l] : 0.0f;
        for (int64_t r0 = 0; r0 < K; r0 += 2 * kFp16RunPairs) {
          double run[2] = {0.0, 0.0};  // even k, odd k: fp16 values held in doubles
          for (int64_t k = r0; k < std::min(K, r0 + 2 * kFp16RunPairs); ++k) {
            const double xv = F16ToF32(xh[t * ldxh + k]), wv = F16ToF32(wp[w.index(k, l)]);
            run[k & 1] = RoundToFp16(xv * wv + run[k & 1]);  // xv * wv is exact in a double
          }
          const float sum = static_cast<float>(run[0]) + static_cast<float>(run[1]);
          acc = std::fma(sum, inv[t], acc);
        }
        y[t * ldy + p * P + l] = acc;
      }
    }
  }
}

// inv[t] = 2^-(exps[t] + fp16_exp): what the fp16 panel kernels multiply row t's runs by.
void Fp16Unscales(const int* exps, int64_t n, int fp16_exp, float* inv) {
  for (int64_t t = 0; t < n; ++t) inv[t] = std::ldexp(1.0f, -(exps[t] + fp16_exp));
}

}  // namespace

void GemmPackedRef(const PackedGemmMatrix& w, const float* x, int64_t n, int64_t ldx, const float* bias, float* y,
                   int64_t ldy) {
  if (w.fp16_pairs()) {
    const int64_t ldxh = w.padded_cols();
    std::vector<uint16_t> xh(static_cast<size_t>(n * ldxh));
    std::vector<int> exps(static_cast<size_t>(n));
    std::vector<float> inv(static_cast<size_t>(n));
    RowsToFp16ScaledRef(x, n, ldx, w.cols(), xh.data(), ldxh, exps.data());
    Fp16Unscales(exps.data(), n, w.fp16_exp(), inv.data());
    Fp16PanelsStepByStep(w, xh.data(), n, ldxh, inv.data(), bias, y, ldy, 0, w.panels());
    return;
  }
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

PackedMath VisionPackedMath() {
  if (ActiveAvx512Fp16() && avx512::GemmPanelKernelFp16() != nullptr) return PackedMath::kFp16;
  return GemmPackedUsesBf16Dot() ? PackedMath::kBf16Dot : PackedMath::kF32;
}

namespace {

// Runs convert(b, e) over rows [0, n) of K values: a few rows (decode) right here, where a thread
// hand-off costs more than the work, else split over DefaultThreadPool().
template <class Convert>
void ConvertRows(int64_t n, int64_t K, Convert&& convert) {
  if (n * K <= (int64_t{1} << 16)) {
    convert(int64_t{0}, n);
    return;
  }
  DefaultThreadPool().ParallelFor(static_cast<size_t>(n), [&](size_t b, size_t e, int) {
    convert(static_cast<int64_t>(b), static_cast<int64_t>(e));
  });
}

// Rows [0, n) of x as bf16 pairs for the pair layout (row stride ldxb = padded cols), in the calling
// thread's kGemmActivations buffer.
const uint16_t* ActivationsToBf16(const float* x, int64_t n, int64_t ldx, int64_t K, int64_t ldxb) {
  uint16_t* xb = ThreadScratch<uint16_t>(ScratchSlot::kGemmActivations, static_cast<size_t>(n * ldxb));
  ConvertRows(n, K, [&](int64_t b, int64_t e) { RowsToBf16(x + b * ldx, e - b, ldx, K, xb + b * ldxb, ldxb); });
  return xb;
}

// Rows [0, n) of x scaled and rounded to fp16 pairs for fp16_pairs() matrices, and each row's exponent
// (*exps), in the calling thread's kGemmActivations / kGemmRowExponents buffers.
const uint16_t* ActivationsToFp16(const float* x, int64_t n, int64_t ldx, int64_t K, int64_t ldxh, const int** exps) {
  static const RowsToFp16ScaledFn convert =
      ActiveAvx512Fp16() && avx512::RowsToFp16ScaledKernel() ? avx512::RowsToFp16ScaledKernel() : RowsToFp16ScaledRef;
  uint16_t* xh = ThreadScratch<uint16_t>(ScratchSlot::kGemmActivations, static_cast<size_t>(n * ldxh));
  int* ex = ThreadScratch<int>(ScratchSlot::kGemmRowExponents, static_cast<size_t>(n));
  ConvertRows(n, K, [&](int64_t b, int64_t e) {
    convert(x + b * ldx, e - b, ldx, K, xh + b * ldxh, ldxh, ex + b);
  });
  *exps = ex;
  return xh;
}

GemmPanelRangeFp16Fn Fp16Kernel() {
  static const GemmPanelRangeFp16Fn fn =
      ActiveAvx512Fp16() && avx512::GemmPanelKernelFp16() ? avx512::GemmPanelKernelFp16() : Fp16PanelsStepByStep;
  return fn;
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
    if (jobs[j].w->cols() != jobs[0].w->cols() || jobs[j].w->math() != jobs[0].w->math()) {
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
  if (jobs[0].w->fp16_pairs()) {
    const int64_t ldxh = jobs[0].w->padded_cols();
    const int* exps = nullptr;
    const uint16_t* xh = ActivationsToFp16(x, n, ldx, jobs[0].w->cols(), ldxh, &exps);
    // Each job's unscale per token (the jobs' weight scales may differ).
    float* inv = ThreadScratch(ScratchSlot::kGemmUnscales, static_cast<size_t>(count * n));
    for (int j = 0; j < count; ++j) Fp16Unscales(exps, n, jobs[j].w->fp16_exp(), inv + j * n);
    const GemmPanelRangeFp16Fn fn = Fp16Kernel();
    DefaultThreadPool().ParallelFor(static_cast<size_t>(starts[count]), [&](size_t b, size_t e, int) {
      for_pieces(b, e, [&](const GemmPackedJob& jb, int64_t p0, int64_t p1) {
        fn(*jb.w, xh, n, ldxh, inv + (&jb - jobs) * n, jb.bias, jb.y, jb.ldy, p0, p1);
      });
    });
    return;
  }
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
