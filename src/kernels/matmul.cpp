#include "kernels/matmul.h"

#include <algorithm>
#include <vector>

#include "base/cpu_features.h"
#include "base/thread_pool.h"
#include "kernels/bf16_dot.h"
#include "kernels/matmul_impl.h"
#include "tensor/convert.h"

namespace lfm {

bool MatMulSupports(DType t) { return t != DType::kAuto; }

namespace {

// Portable fallback for any dtype: dequantize one weight row at a time, then dot with each token.
void RowsGeneric(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                 int64_t r0, int64_t r1) {
  const int64_t cols = w.cols();
  thread_local std::vector<float> wrow;
  wrow.resize(cols);
  for (int64_t r = r0; r < r1; ++r) {
    DequantizeRow(w.dtype, w.row(r), wrow.data(), cols);
    for (int64_t t = 0; t < n; ++t) {
      const float* xt = x + t * ldx;
      float acc = 0;
      for (int64_t k = 0; k < cols; ++k) acc += wrow[k] * xt[k];
      y[t * ldy + r] = acc;
    }
  }
}

}  // namespace

namespace {

// The row kernel of each weight dtype on the active ISA, chosen once: an ISA without a kernel for a
// dtype leaves the next lower one's (AVX-512 -> AVX2 -> portable rows).
struct RowKernels {
  static constexpr int kTypes = 16;  // room for new dtypes: they get the portable rows until they have kernels
  static_assert(static_cast<int>(DType::kQ6_K) < kTypes);
  MatMulRowsFn fn[kTypes] = {};
  Isa isa[kTypes] = {};
  RowKernels() {
    const Isa active = ActiveIsa();
    for (int i = 0; i < kTypes; ++i) {
      const DType t = static_cast<DType>(i);
      fn[i] = RowsGeneric;
      isa[i] = Isa::kScalar;
      if (active >= Isa::kAvx2 && avx2::MatMulRowsKernel(t)) {
        fn[i] = avx2::MatMulRowsKernel(t);
        isa[i] = Isa::kAvx2;
      }
      if (active >= Isa::kAvx512 && avx512::MatMulRowsKernel(t)) {
        fn[i] = avx512::MatMulRowsKernel(t);
        isa[i] = Isa::kAvx512;
      }
      if (t == DType::kBF16 && UseBf16Dot() && avx512::MatMulRowsKernelBf16Dot()) {
        fn[i] = avx512::MatMulRowsKernelBf16Dot();
      }
    }
  }
};

const RowKernels& Kernels() {
  static const RowKernels k;  // thread-safe one-time init
  return k;
}

}  // namespace

Isa MatMulIsa(DType t) {
  const int i = static_cast<int>(t);
  return i < RowKernels::kTypes ? Kernels().isa[i] : Isa::kScalar;
}

bool MatMulRoundsActivationsToBf16(DType t) {
  return t == DType::kBF16 && Kernels().fn[static_cast<int>(t)] == avx512::MatMulRowsKernelBf16Dot() &&
         avx512::MatMulRowsKernelBf16Dot() != nullptr;
}

bool MatMulUsesAvx512() { return MatMulIsa(DType::kF32) == Isa::kAvx512; }

void MatMulRows(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy,
                int64_t r0, int64_t r1) {
  const int i = static_cast<int>(w.dtype);
  if (i >= RowKernels::kTypes) return;  // unsupported dtype: a programming error (see MatMulSupports)
  Kernels().fn[i](w, x, n, ldx, y, ldy, r0, r1);
}

void MatMul(const TensorView& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  if (!MatMulSupports(w.dtype) || n <= 0) return;
  const int64_t rows = w.rows();
  // Grain: keep row tiles whole, and give each thread enough work to amortise the hand-off.
  const size_t grain = 16;
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(rows),
      [&](size_t b, size_t e, int) {
        MatMulRows(w, x, n, ldx, y, ldy, static_cast<int64_t>(b), static_cast<int64_t>(e));
      },
      grain);
}

void MatMulMany(const MatMulJob* jobs, int count, const float* x, int64_t n, int64_t ldx) {
  if (n <= 0) return;
  int64_t total = 0;
  for (int j = 0; j < count; ++j) {
    if (!MatMulSupports(jobs[j].w->dtype)) return;
    total += jobs[j].w->rows();
  }
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(total),
      [&](size_t b, size_t e, int) {
        // Walk the concatenated row space [job 0 rows | job 1 rows | ...].
        int64_t start = 0;
        for (int j = 0; j < count; ++j) {
          const int64_t rows = jobs[j].w->rows();
          const int64_t lo = std::max<int64_t>(static_cast<int64_t>(b), start);
          const int64_t hi = std::min<int64_t>(static_cast<int64_t>(e), start + rows);
          if (lo < hi) MatMulRows(*jobs[j].w, x, n, ldx, jobs[j].y, jobs[j].ldy, lo - start, hi - start);
          start += rows;
        }
      },
      16);
}

void MatMul(const TensorView& w, const float* x, int64_t n, float* y) {
  MatMul(w, x, n, w.cols(), y, w.rows());
}

}  // namespace lfm
