#include "kernels/quant_matmul.h"
#include "kernels/workspace.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "base/thread_pool.h"
#include "kernels/quant_matmul_impl.h"
#include "kernels/quant_matmul_kquant.h"
#include "tensor/convert.h"

namespace lfm {

void QuantPackedMatrix::AlignedFree::operator()(uint8_t* p) const { ::operator delete[](p, std::align_val_t(64)); }

Result<QuantPackedMatrix> QuantPackedMatrix::Pack(const TensorView& w) {
  if (w.dtype == DType::kQ4_K || w.dtype == DType::kQ5_K || w.dtype == DType::kQ6_K) return PackKQuant(w);
  if (w.dtype != DType::kQ8_0 && w.dtype != DType::kQ4_0) {
    return InvalidArgument("QuantPackedMatrix: tensor '" + w.name + "' is " + DTypeName(w.dtype) +
                           ", not q8_0, q4_0, q4_K, q5_K or q6_K");
  }
  if (w.rank() != 2 || w.rows() < 1 || w.cols() < kQuantBlock || w.cols() % kQuantBlock != 0) {
    return InvalidArgument("QuantPackedMatrix: tensor '" + w.name + "' has shape " + ShapeToString(w.shape) +
                           "; want a matrix whose columns are a multiple of 32");
  }
  QuantPackedMatrix m;
  m.dtype_ = w.dtype;
  m.rows_ = w.rows();
  m.cols_ = w.cols();
  const int64_t nb = m.blocks();
  const size_t total = static_cast<size_t>(m.nbytes());
  m.data_.reset(static_cast<uint8_t*>(::operator new[](total, std::align_val_t(64))));
  // Rows past rows() (the last panels' padding) get zero scales and weights: finite, never stored.
  std::memset(m.data_.get(), 0, total);
  const bool q4 = w.dtype == DType::kQ4_0;
  for (int64_t r = 0; r < m.rows_; ++r) {
    const int64_t p = r / kQuantPanelRows, pr = r % kQuantPanelRows;
    // The bytes are m's own (being filled); the accessors only hand out const views.
    uint8_t* scales0 = const_cast<uint8_t*>(m.scales(p));
    uint8_t* weights0 = const_cast<uint8_t*>(m.weights(p));
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* wb = weights0 + b * m.block_stride();
      uint16_t* scales = reinterpret_cast<uint16_t*>(scales0 + b * m.block_stride());
      if (q4) {
        // Vector j (64 bytes) holds, for row pr, bytes qs[4j .. 4j+3]: low nibbles are k = 4j..4j+3,
        // high nibbles k = 16+4j..16+4j+3 -- GGUF's own byte order, 4 bytes at a time.
        BlockQ4_0 blk;
        std::memcpy(&blk, w.row(r) + b * sizeof(BlockQ4_0), sizeof blk);
        scales[pr] = blk.d;
        for (int j = 0; j < 4; ++j) std::memcpy(wb + j * QuantPackedMatrix::kVectorStride + pr * 4, blk.qs + 4 * j, 4);
      } else {
        BlockQ8_0 blk;
        std::memcpy(&blk, w.row(r) + b * sizeof(BlockQ8_0), sizeof blk);
        scales[pr] = blk.d;
        for (int g = 0; g < 8; ++g)
          for (int i = 0; i < 4; ++i)
            wb[g * QuantPackedMatrix::kVectorStride + pr * 4 + i] = static_cast<uint8_t>(static_cast<int32_t>(blk.qs[4 * g + i]) + 128);
      }
    }
  }
  return m;
}

void QuantPackedMatrix::DequantizeRow(int64_t r, float* out) const {
  if (is_kquant()) {
    DequantizeKQuantRow(*this, r, out);
    return;
  }
  const int64_t p = r / kQuantPanelRows, pr = r % kQuantPanelRows;
  const bool q4 = dtype_ == DType::kQ4_0;
  for (int64_t b = 0; b < blocks(); ++b) {
    uint16_t h;
    std::memcpy(&h, scales(p) + b * block_stride() + pr * 2, 2);
    const float d = F16ToF32(h);
    const uint8_t* wb = weights(p) + b * block_stride();
    float* o = out + b * kQuantBlock;
    for (int k = 0; k < kQuantBlock; ++k) {
      int32_t q;
      if (q4) {
        const uint8_t byte = wb[((k & 15) / 4) * kVectorStride + pr * 4 + (k & 3)];
        q = (k < 16 ? (byte & 15) : (byte >> 4)) - 8;
      } else {
        q = static_cast<int32_t>(wb[(k / 4) * kVectorStride + pr * 4 + (k & 3)]) - 128;
      }
      o[k] = static_cast<float>(q) * d;
    }
  }
}

namespace {

struct Kernels {
  Isa isa = Isa::kScalar;
  QuantPanelsFn q8 = QuantPanelsPortable, q4 = QuantPanelsPortable;
  // K-quants: the VNNI kernels where the CPU has them, else the portable loops (AVX2 CPUs run K-quants
  // on MatMul's widening kernels instead: kernels/linear.cpp does not pack them there).
  QuantPanelsFn q4k = KQuantPanelsPortable, q5k = KQuantPanelsPortable, q6k = KQuantPanelsPortable;
  QuantizeActsFn quantize = QuantizeActsPortable, kquantize = KQuantizeActsPortable;
  Kernels() {
    if (ActiveIsa() >= Isa::kAvx2 && avx2::QuantPanelsKernel(DType::kQ8_0) && avx2::QuantPanelsKernel(DType::kQ4_0) &&
        avx2::QuantizeActsKernel()) {
      isa = Isa::kAvx2;
      q8 = avx2::QuantPanelsKernel(DType::kQ8_0);
      q4 = avx2::QuantPanelsKernel(DType::kQ4_0);
      quantize = avx2::QuantizeActsKernel();
    }
    if (ActiveIsa() >= Isa::kAvx512 && CpuHasAvx512Vnni() && avx512::QuantPanelsKernel(DType::kQ8_0) &&
        avx512::QuantPanelsKernel(DType::kQ4_0) && avx512::QuantizeActsKernel()) {
      isa = Isa::kAvx512;
      q8 = avx512::QuantPanelsKernel(DType::kQ8_0);
      q4 = avx512::QuantPanelsKernel(DType::kQ4_0);
      quantize = avx512::QuantizeActsKernel();
      if (avx512::KQuantPanelsKernel(DType::kQ4_K) && avx512::KQuantPanelsKernel(DType::kQ5_K) &&
          avx512::KQuantPanelsKernel(DType::kQ6_K) && avx512::KQuantizeActsKernel()) {
        q4k = avx512::KQuantPanelsKernel(DType::kQ4_K);
        q5k = avx512::KQuantPanelsKernel(DType::kQ5_K);
        q6k = avx512::KQuantPanelsKernel(DType::kQ6_K);
        kquantize = avx512::KQuantizeActsKernel();
      }
    }
  }
};

const Kernels& K() {
  static const Kernels k;  // thread-safe one-time init
  return k;
}

void Size(int64_t n, int64_t cols, unsigned forms, QuantizedActs* a) {
  a->n = n;
  a->cols = cols;
  a->blocks = cols / kQuantBlock;
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  if (forms & kActsBlock32) {
    a->q.resize(sz(n * cols));
    a->d.resize(sz(n * a->blocks));
    a->sum.resize(sz(n * a->blocks));
  }
  if (forms & kActsSuper256) {
    a->kq.resize(sz(n * cols));
    a->kd.resize(sz(n * (cols / 256)));
    a->ksum32.resize(sz(n * a->blocks));
    a->kq6_start.resize(sz(n * (cols / 8)));
  }
}

// Quantizes on the pool when there are enough tokens to pay for the hand-off.
void QuantizeWith(QuantizeActsFn fn, const float* x, int64_t n, int64_t ldx, QuantizedActs* a) {
  if (n * a->cols < (1 << 16)) {
    fn(x, ldx, 0, n, a);
    return;
  }
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(n), [&](size_t b, size_t e, int) { fn(x, ldx, static_cast<int64_t>(b), static_cast<int64_t>(e), a); },
      1);
}

// One per thread that calls QuantMatMul: the activations of the running call.
QuantizedActs& Scratch() {
  thread_local QuantizedActs a;
  return a;
}

}  // namespace

Isa QuantMatMulIsa() { return K().isa; }

void QuantizeActs(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a, unsigned forms) {
  Size(n, cols, forms, a);
  if (forms & kActsBlock32) QuantizeWith(K().quantize, x, n, ldx, a);
  if (forms & kActsSuper256) QuantizeWith(K().kquantize, x, n, ldx, a);
}

void QuantizeActsRef(const float* x, int64_t n, int64_t cols, int64_t ldx, QuantizedActs* a, unsigned forms) {
  Size(n, cols, forms, a);
  if (forms & kActsBlock32) QuantizeActsPortable(x, ldx, 0, n, a);
  if (forms & kActsSuper256) KQuantizeActsPortable(x, ldx, 0, n, a);
}

void QuantMatMulPanels(const QuantPackedMatrix& w, const QuantizedActs& a, float* y, int64_t ldy, int64_t p0,
                       int64_t p1) {
  QuantPanelsFn fn = K().q8;
  switch (w.dtype()) {
    case DType::kQ4_0: fn = K().q4; break;
    case DType::kQ4_K: fn = K().q4k; break;
    case DType::kQ5_K: fn = K().q5k; break;
    case DType::kQ6_K: fn = K().q6k; break;
    default: break;
  }
  fn(w, a, y, ldy, p0, p1);
}

void QuantMatMul(const QuantPackedMatrix& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  const QuantMatMulJob job{&w, y, ldy};
  QuantMatMulMany(&job, 1, x, n, ldx);
}

void QuantMatMulMany(const QuantMatMulJob* jobs, int count, const float* x, int64_t n, int64_t ldx) {
  if (n <= 0 || count <= 0) return;
  const int64_t cols = jobs[0].w->cols();
  int64_t total = 0;
  // The forms the jobs need: K-quants per 256, q8_0 / q4_0 per 32 (a Q4_K_M layer can mix them).
  unsigned forms = 0;
  for (int j = 0; j < count; ++j) {
    if (jobs[j].w->cols() != cols) return;  // a programming error: the jobs must share the input
    total += jobs[j].w->panels();
    forms |= jobs[j].w->is_kquant() ? kActsSuper256 : kActsBlock32;
  }
  QuantizedActs& a = Scratch();
  const size_t before = a.capacity_bytes();
  QuantizeActs(x, n, cols, ldx, &a, forms);
  NoteKernelWorkspace(before, a.capacity_bytes());
  DefaultThreadPool().ParallelFor(
      static_cast<size_t>(total),
      [&](size_t b, size_t e, int) {
        // Walk the concatenated panel space [job 0 panels | job 1 panels | ...].
        int64_t start = 0;
        for (int j = 0; j < count; ++j) {
          const int64_t np = jobs[j].w->panels();
          const int64_t lo = std::max<int64_t>(static_cast<int64_t>(b), start);
          const int64_t hi = std::min<int64_t>(static_cast<int64_t>(e), start + np);
          if (lo < hi) QuantMatMulPanels(*jobs[j].w, a, jobs[j].y, jobs[j].ldy, lo - start, hi - start);
          start += np;
        }
      },
      // Whole groups per thread, so each thread streams its own contiguous bytes.
      QuantPackedMatrix::kGroupPanels);
}

}  // namespace lfm
