#include "kernels/linear.h"

#include <cstdlib>
#include <cstring>

#include "tensor/convert.h"

namespace lfm {

namespace {

bool EnvIsZero(const char* name) {
  const char* e = std::getenv(name);
  return e != nullptr && std::strcmp(e, "0") == 0;
}

// Measured (bench/kernels_bench.cpp BM_Bf16Packed vs Bf16Path_dot, Zen 4, one thread): the packed pair
// layout runs prefill GEMMs ~1.25x faster than the row-major vdpbf16ps kernel (no horizontal sums, one
// activation broadcast feeds 3 vectors of outputs) and decode GEMVs at least as fast (one sequential
// stream per panel). Where the dot is slow (UseBf16Dot() false: vdpbf16ps at half the FMA rate,
// Sapphire Rapids-class Xeons), the AVX-512 packed GEMM widens the bf16 panels to f32 for FMA instead,
// which beats MatMul's row-major widening kernel the same way (its broadcast feeds 3 vectors too).
bool Bf16Packs() {
  static const bool on =
      !EnvIsZero("LFM_BF16_PACKED") && (GemmPackedUsesBf16Dot() || GemmPackedIsa() == Isa::kAvx512);
  return on;
}

}  // namespace

void LinearWeight::DequantizeRow(int64_t r, float* out) const {
  if (packed) {
    packed->DequantizeRow(r, out);
  } else if (bf16_packed) {
    bf16_packed->DequantizeRow(r, out);
  } else {
    lfm::DequantizeRow(view.dtype, view.row(r), out, view.cols());
  }
}

bool LinearPacks(DType t) {
  if (t == DType::kBF16) return Bf16Packs();
  const bool kquant = t == DType::kQ4_K || t == DType::kQ5_K || t == DType::kQ6_K;
  if (t != DType::kQ8_0 && t != DType::kQ4_0 && !kquant) return false;
  static const bool enabled = !EnvIsZero("LFM_INT8_MATMUL");
  if (!enabled) return false;
  // K-quants have only the VNNI kernel; elsewhere MatMul's widening kernels beat the portable loops.
  if (kquant) return QuantMatMulIsa() == Isa::kAvx512;
  // Measured (bench/quant_matmul_bench.cpp, Zen 4, LFM_ISA=avx2 vs the f32-widening kernels): the AVX2
  // int8 kernel wins decode for both types and prefill for q4_0, but q8_0 prefill runs ~0.8x (no
  // vpdpbusd: 4 ops per 32 products), so q8_0 keeps the widening path there.
  switch (QuantMatMulIsa()) {
    case Isa::kAvx512: return true;
    case Isa::kAvx2: return t == DType::kQ4_0;
    case Isa::kScalar: break;
  }
  return false;
}

Result<LinearWeight> MakeLinearWeight(const TensorView& v) {
  LinearWeight w;
  w.view = v;
  if (v.dtype == DType::kBF16 && LinearPacks(v.dtype)) {
    LFM_ASSIGN_OR_RETURN(PackedGemmMatrix p, PackedGemmMatrix::PackStacked({v}, GemmPackedUsesBf16Dot()));
    w.bf16_packed = std::make_shared<const PackedGemmMatrix>(std::move(p));
  } else if (LinearPacks(v.dtype)) {
    LFM_ASSIGN_OR_RETURN(QuantPackedMatrix p, QuantPackedMatrix::Pack(v));
    w.packed = std::make_shared<const QuantPackedMatrix>(std::move(p));
  }
  return w;
}

void Linear(const LinearWeight& w, const float* x, int64_t n, int64_t ldx, float* y, int64_t ldy) {
  if (w.packed) {
    QuantMatMul(*w.packed, x, n, ldx, y, ldy);
  } else if (w.bf16_packed) {
    GemmPacked(*w.bf16_packed, x, n, ldx, nullptr, y, ldy);
  } else {
    MatMul(w.view, x, n, ldx, y, ldy);
  }
}

void LinearMany(const LinearJob* jobs, int count, const float* x, int64_t n, int64_t ldx) {
  constexpr int kMax = 8;
  int packed = 0, bf16_packed = 0;
  for (int j = 0; j < count; ++j) {
    packed += jobs[j].w->packed ? 1 : 0;
    bf16_packed += jobs[j].w->bf16_packed ? 1 : 0;
  }
  if (count <= kMax && bf16_packed == count) {
    GemmPackedJob g[kMax];
    for (int j = 0; j < count; ++j) g[j] = {jobs[j].w->bf16_packed.get(), nullptr, jobs[j].y, jobs[j].ldy};
    GemmPackedMany(g, count, x, n, ldx);
  } else if (count <= kMax && packed == count) {
    QuantMatMulJob q[kMax];
    for (int j = 0; j < count; ++j) q[j] = {jobs[j].w->packed.get(), jobs[j].y, jobs[j].ldy};
    QuantMatMulMany(q, count, x, n, ldx);
  } else if (count <= kMax && packed == 0 && bf16_packed == 0) {
    MatMulJob m[kMax];
    for (int j = 0; j < count; ++j) m[j] = {&jobs[j].w->view, jobs[j].y, jobs[j].ldy};
    MatMulMany(m, count, x, n, ldx);
  } else {
    for (int j = 0; j < count; ++j) Linear(*jobs[j].w, x, n, ldx, jobs[j].y, jobs[j].ldy);
  }
}

}  // namespace lfm
