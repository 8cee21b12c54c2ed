// The int8 matmul on GGUF K-quants (q4_K / q5_K / q6_K repacked into QuantPackedMatrix panels) against
// its plain twin KQuantMatMulRef, on whatever path this process runs (ctest runs this binary once per
// LFM_ISA: avx512 = the VNNI kernel when the CPU has it; avx2 and scalar = the portable loops over the
// packed layout -- AVX2 CPUs keep K-quants on MatMul's widening kernels, kernels/linear.cpp).
//
// Kernel vs reference: the same integer block dots and the same f32 operations in the same order, so
// they must agree EXACTLY. Reference vs the definition (f32 weights from the GGUF dequantizer times the
// int8-quantized activations, summed in double): only f32 rounding, bounded per element by
// (4 * blocks + 8) * u * (sum of |terms| before cancellation).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/quant_matmul.h"
#include "kernels/quant_matmul_kquant.h"
#include "kernels/quant_matmul_test_util.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {
namespace {

constexpr double kU = 1.0 / (1 << 24);

using Mat = testing::QuantMat;

// Random K-quant rows: every byte pattern is a valid block except the f16 factors, which get small
// finite values (as real files: d ~ weight scale / 63).
Mat MakeMat(DType t, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> fd(1e-4f, 2e-3f);
  Mat m;
  const size_t rb = DTypeBytes(t, cols);
  m.bytes.resize(rb * rows);
  for (auto& b : m.bytes) b = static_cast<uint8_t>(byte(rng));
  const size_t bs = t == DType::kQ4_K ? sizeof(BlockQ4_K) : t == DType::kQ5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ6_K);
  for (size_t off = 0; off < m.bytes.size(); off += bs) {
    const uint16_t d = F32ToF16(fd(rng)), dmin = F32ToF16(fd(rng));
    if (t == DType::kQ6_K) {
      std::memcpy(&m.bytes[off + 208], &d, 2);
    } else {
      std::memcpy(&m.bytes[off], &d, 2);
      std::memcpy(&m.bytes[off + 2], &dmin, 2);
    }
  }
  m.dequant.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) DequantizeRow(t, m.bytes.data() + r * rb, m.dequant.data() + r * cols, cols);
  m.view = TensorView{t, {rows, cols}, m.bytes.data(), "w"};
  return m;
}

// |w| before the min is subtracted (q4_K / q5_K: (d sc) u and dmin m separately), the size of the
// terms the f32 sums see, for every weight of one row (each super-block unpacked once).
std::vector<double> TermMagnitudes(DType t, const uint8_t* row, int64_t cols) {
  std::vector<double> mag(cols);
  KQuantSuper s;
  for (int64_t sb = 0; sb < cols / 256; ++sb) {
    UnpackKQuantSuper(t, row, sb, &s);
    const double d = F16ToF32(s.d), dmin = F16ToF32(s.dmin);
    for (int e = 0; e < 256; ++e) {
      mag[sb * 256 + e] = t == DType::kQ6_K ? std::fabs(d * s.sc[e / 16]) * (std::abs(s.u[e] - 32) + 32)
                                            : d * s.sc[e / 32] * s.u[e] + dmin * s.m[e / 32];
    }
  }
  return mag;
}

void CheckShape(DType t, int64_t rows, int64_t cols, int64_t n, bool vs_definition) {
  SCOPED_TRACE(std::string(DTypeName(t)) + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
               " n=" + std::to_string(n));
  if (!testing::CheckedAtThisSize(rows, cols, n)) return;
  const Mat m = MakeMat(t, rows, cols, static_cast<uint32_t>(rows * 7 + cols + n));
  auto packed = QuantPackedMatrix::Pack(m.view);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  const int64_t ldx = cols + 32, ldy = rows + 5;
  const auto x = testing::QuantTestActs(n, ldx, static_cast<uint32_t>(n + 3));
  std::vector<float> ref;
  testing::ExpectKernelMatchesRefExactly(*packed, m.view, x.data(), n, ldx, ldy, &ref);
  if (::testing::Test::HasFatalFailure()) return;
  if (!vs_definition) return;
  QuantizedActs a;
  QuantizeActsRef(x.data(), n, cols, ldx, &a);
  const size_t rb = DTypeBytes(t, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> term = TermMagnitudes(t, m.bytes.data() + r * rb, cols);
    for (int64_t tk = 0; tk < n; ++tk) {
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const double xq = static_cast<double>(a.q[tk * cols + k]) * a.d[tk * a.blocks + k / 32];
        exact += static_cast<double>(m.dequant[r * cols + k]) * xq;
        mag += term[k] * std::fabs(xq);
      }
      const double bound = (4.0 * a.blocks + 8) * kU * mag;
      ASSERT_LE(std::fabs(ref[tk * ldy + r] - exact), bound) << "t=" << tk << " r=" << r;
    }
  }
}

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

TEST(KQuantMatMul, ActivationHalfSumsMatchTheReference) {
  const int64_t cols = 1024;
  for (int64_t n : {1, 7}) {
    const auto x = testing::QuantTestActs(n, cols, 17);
    QuantizedActs got, ref;
    QuantizeActs(x.data(), n, cols, cols, &got);
    QuantizeActsRef(x.data(), n, cols, cols, &ref);
    ASSERT_EQ(got.sum_lo, ref.sum_lo);
    for (int64_t b = 0; b < n * ref.blocks; ++b) {
      int32_t lo = 0;
      for (int k = 0; k < 16; ++k) lo += ref.q[b * 32 + k];
      ASSERT_EQ(ref.sum_lo[b], lo) << b;
    }
  }
}

TEST(KQuantMatMul, PackedRowsDequantizeExactlyLikeTheSource) {
  for (DType t : kTypes) {
    testing::ExpectPackedRowsDequantizeLikeSource(MakeMat(t, 37, 768, 11));
    if (HasFatalFailure()) return;
  }
}

TEST(KQuantMatMul, MatchesReferenceAtRealSizes) {
  for (DType t : kTypes) {
    CheckShape(t, 1024, 1024, 1, true);
    CheckShape(t, 1024, 1024, 5, false);
    CheckShape(t, 4608, 1024, 1, false);
    CheckShape(t, 4608, 1024, 64, false);
    CheckShape(t, 1024, 4608, 1, true);
    CheckShape(t, 1024, 4608, 8, false);
    CheckShape(t, 3072, 1024, 7, false);  // conv in_proj
  }
  CheckShape(DType::kQ4_K, 1024, 1024, 512, false);  // prefill
  CheckShape(DType::kQ6_K, 1024, 4608, 512, false);
}

TEST(KQuantMatMul, LmHeadQ6KDecode) {
  CheckShape(DType::kQ6_K, 65536, 1024, 1, false);  // the full lm_head of LFM2-350M
  CheckShape(DType::kQ6_K, 16384, 1024, 3, false);
}

TEST(KQuantMatMul, OddRowCountsAndTokenTails) {
  for (DType t : kTypes) {
    for (int64_t rows : {1, 15, 17, 33, 100}) {
      for (int64_t n : {1, 2, 3, 4, 5, 6, 7, 13}) CheckShape(t, rows, 256, n, true);
    }
    CheckShape(t, 1000, 768, 11, true);
    CheckShape(t, 37, 512, 1, true);
  }
}

TEST(KQuantMatMul, ManyMixesTypesLikeSeparateCalls) {
  // Q4_K_M files mix q4_K and q6_K in one layer's jobs: one quantization of x serves both.
  const Mat a = MakeMat(DType::kQ4_K, 1024, 1024, 1), b = MakeMat(DType::kQ6_K, 512, 1024, 2),
            c = MakeMat(DType::kQ5_K, 40, 1024, 3);
  auto pa = QuantPackedMatrix::Pack(a.view), pb = QuantPackedMatrix::Pack(b.view), pc = QuantPackedMatrix::Pack(c.view);
  ASSERT_TRUE(pa.ok() && pb.ok() && pc.ok());
  for (int64_t n : {1, 9}) {
    const auto x = testing::QuantTestActs(n, 1024, 5);
    std::vector<float> ya(n * 1024), yb(n * 512), yc(n * 40), ra(n * 1024), rb(n * 512), rc(n * 40);
    const QuantMatMulJob jobs[3] = {{&*pa, ya.data(), 1024}, {&*pb, yb.data(), 512}, {&*pc, yc.data(), 40}};
    QuantMatMulMany(jobs, 3, x.data(), n, 1024);
    QuantMatMulRef(a.view, x.data(), n, 1024, ra.data(), 1024);
    QuantMatMulRef(b.view, x.data(), n, 1024, rb.data(), 512);
    QuantMatMulRef(c.view, x.data(), n, 1024, rc.data(), 40);
    EXPECT_EQ(ya, ra);
    EXPECT_EQ(yb, rb);
    EXPECT_EQ(yc, rc);
  }
}

TEST(KQuantMatMul, PackRejectsColumnsThatAreNotWholeSuperBlocks) {
  std::vector<uint8_t> q(144 * 4);
  TensorView v{DType::kQ4_K, {4, 128}, q.data(), "half_super_block"};
  auto r = QuantPackedMatrix::Pack(v);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("multiple of 256"), std::string::npos);
  TensorView v3{DType::kQ6_K, {1, 2, 256}, q.data(), "rank3"};
  EXPECT_FALSE(QuantPackedMatrix::Pack(v3).ok());
}

TEST(KQuantMatMul, PackedBytesStayCloseToGguf) {
  // Decode reads the packed panels: per row and super-block 4 bytes more than GGUF for q4_K / q5_K
  // (the 6-bit scales and mins get a byte each), 2 for q6_K (an unused dmin slot).
  for (DType t : kTypes) {
    const Mat m = MakeMat(t, 1024, 1024, 9);
    auto p = QuantPackedMatrix::Pack(m.view);
    ASSERT_TRUE(p.ok());
    const int64_t extra = t == DType::kQ6_K ? 2 : 4;
    EXPECT_EQ(p->nbytes(), m.view.nbytes() + 1024 * 4 * extra) << DTypeName(t);
  }
}

}  // namespace
}  // namespace lfm
