// The int8 matmul on GGUF K-quants (q4_K / q5_K / q6_K repacked into QuantPackedMatrix panels) against
// its plain twin KQuantMatMulRef, on whatever path this process runs (ctest runs this binary once per
// LFM_ISA: avx512 = the VNNI kernel when the CPU has it; avx2 and scalar = the portable loops over the
// packed layout -- AVX2 CPUs keep K-quants on MatMul's widening kernels, kernels/linear.cpp).
//
// Kernel vs reference: the same exact integer super-block sums and the same f32 operations in the same
// order, so they must agree EXACTLY. Reference vs the definition (f32 weights from the GGUF dequantizer
// times the int8-quantized activations, summed in double): only f32 rounding (bound in CheckMat).
#include <gtest/gtest.h>

#include <algorithm>
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

size_t SuperBlockBytes(DType t) {
  return t == DType::kQ4_K ? sizeof(BlockQ4_K) : t == DType::kQ5_K ? sizeof(BlockQ5_K) : sizeof(BlockQ6_K);
}

// Writes a super-block's f16 factors: d and dmin at its start (q4_K / q5_K), d at its end (q6_K).
void SetFactors(DType t, uint8_t* block, float d, float dmin) {
  const uint16_t d16 = F32ToF16(d), dmin16 = F32ToF16(dmin);
  if (t == DType::kQ6_K) {
    std::memcpy(block + 208, &d16, 2);
  } else {
    std::memcpy(block, &d16, 2);
    std::memcpy(block + 2, &dmin16, 2);
  }
}

// The dequantized twin and the view of m.bytes, once the bytes are written.
void FinishMat(DType t, int64_t rows, int64_t cols, const char* name, Mat* m) {
  const size_t rb = DTypeBytes(t, cols);
  m->dequant.resize(rows * cols);
  for (int64_t r = 0; r < rows; ++r) DequantizeRow(t, m->bytes.data() + r * rb, m->dequant.data() + r * cols, cols);
  m->view = TensorView{t, {rows, cols}, m->bytes.data(), name};
}

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
  for (size_t off = 0; off < m.bytes.size(); off += SuperBlockBytes(t)) {
    const float d = fd(rng), dmin = fd(rng);
    SetFactors(t, &m.bytes[off], d, dmin);
  }
  FinishMat(t, rows, cols, "w", &m);
  return m;
}

// |w| before the min is subtracted (q4_K / q5_K: (d sc) u and dmin m separately; q6_K: |d sc (u - 32)|),
// the size of the terms the f32 steps see, for every weight of one row (each super-block unpacked once).
std::vector<double> TermMagnitudes(DType t, const uint8_t* row, int64_t cols) {
  std::vector<double> mag(cols);
  KQuantSuper s;
  for (int64_t sb = 0; sb < cols / 256; ++sb) {
    UnpackKQuantSuper(t, row, sb, &s);
    const double d = F16ToF32(s.d), dmin = F16ToF32(s.dmin);
    for (int e = 0; e < 256; ++e) {
      mag[sb * 256 + e] = t == DType::kQ6_K ? std::fabs(d * s.sc[e / 16]) * std::abs(s.u[e] - 32)
                                            : std::fabs(d) * s.sc[e / 32] * s.u[e] + std::fabs(dmin) * s.m[e / 32];
    }
  }
  return mag;
}

// Kernel == reference exactly on x [n, ldx]; with vs_definition also reference vs the definition.
void CheckMat(const Mat& m, const std::vector<float>& x, int64_t n, int64_t ldx, bool vs_definition) {
  const DType t = m.view.dtype;
  const int64_t rows = m.view.rows(), cols = m.view.cols();
  auto packed = QuantPackedMatrix::Pack(m.view);
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  const int64_t ldy = rows + 5;
  std::vector<float> ref;
  testing::ExpectKernelMatchesRefExactly(*packed, m.view, x.data(), n, ldx, ldy, &ref);
  if (::testing::Test::HasFatalFailure()) return;
  if (!vs_definition) return;
  QuantizedActs a;
  QuantizeActsRef(x.data(), n, cols, ldx, &a, kActsSuper256);
  const int64_t nsb = cols / 256;
  // Per super-block the reference's integers A and M are exact; its f32 error against the definition,
  // to first order in u, relative to the terms' magnitude `mag`:
  //   the dequantizer's own rounding of each weight (the definition's f32 weights): 1,
  //   float(A) / float(M) (each relative to its own part of the terms): 1,   d * xd / dmin * xd: 1,
  //   the FMAs into acc, each rounding relative to |acc| <= mag: 1 (q6_K) or 2 per super-block;
  // so (2 * superblocks + 3) u mag, + 1 for the second-order terms.
  const double bound_u = 2.0 * nsb + 4;
  const size_t rb = DTypeBytes(t, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const std::vector<double> term = TermMagnitudes(t, m.bytes.data() + r * rb, cols);
    for (int64_t tk = 0; tk < n; ++tk) {
      double exact = 0, mag = 0;
      for (int64_t k = 0; k < cols; ++k) {
        const double xq = static_cast<double>(a.kq[tk * cols + k]) * a.kd[tk * nsb + k / 256];
        exact += static_cast<double>(m.dequant[r * cols + k]) * xq;
        mag += term[k] * std::fabs(xq);
      }
      ASSERT_LE(std::fabs(ref[tk * ldy + r] - exact), bound_u * kU * mag) << "t=" << tk << " r=" << r;
    }
  }
}

void CheckShape(DType t, int64_t rows, int64_t cols, int64_t n, bool vs_definition) {
  SCOPED_TRACE(std::string(DTypeName(t)) + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
               " n=" + std::to_string(n));
  if (!testing::CheckedAtThisSize(rows, cols, n)) return;
  const Mat m = MakeMat(t, rows, cols, static_cast<uint32_t>(rows * 7 + cols + n));
  const int64_t ldx = cols + 32;
  CheckMat(m, testing::QuantTestActs(n, ldx, static_cast<uint32_t>(n + 3)), n, ldx, vs_definition);
}

constexpr DType kTypes[] = {DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

TEST(KQuantMatMul, SuperBlockActivationsMatchTheReference) {
  const int64_t cols = 1024, ldx = cols + 16;
  for (int64_t n : {1, 7}) {
    auto x = testing::QuantTestActs(n, ldx, 17);
    for (int64_t i = 0; i < 256; ++i) x[256 + i] = 0;  // an all-zero super-block: scale 0, q 0
    QuantizedActs got, ref;
    QuantizeActs(x.data(), n, cols, ldx, &got, kActsSuper256);
    QuantizeActsRef(x.data(), n, cols, ldx, &ref, kActsSuper256);
    ASSERT_EQ(got.kq, ref.kq);
    ASSERT_EQ(got.kd, ref.kd);
    ASSERT_EQ(got.ksum32, ref.ksum32);
    ASSERT_EQ(got.kq6_start, ref.kq6_start);
    ASSERT_EQ(ref.kd[1], 0.0f);
    for (int64_t tk = 0; tk < n; ++tk) {
      for (int64_t sb = 0; sb < cols / 256; ++sb) {
        // The scale is amax / 127 and q = round(x / scale): |q| <= 127 and x is within half a step.
        float amax = 0;
        for (int64_t k = 0; k < 256; ++k) amax = std::max(amax, std::fabs(x[tk * ldx + sb * 256 + k]));
        const float d = ref.kd[tk * 4 + sb];
        ASSERT_EQ(d, amax / 127.0f);
        for (int64_t k = 0; k < 256; ++k) {
          const int q = ref.kq[tk * cols + sb * 256 + k];
          ASSERT_LE(std::abs(q), 127);
          ASSERT_LE(std::fabs(x[tk * ldx + sb * 256 + k] - q * d), 0.5001 * d + 1e-30) << k;
        }
      }
      for (int64_t e = 0; e < cols / 8; ++e) {
        int32_t s8 = 0;
        for (int k = 0; k < 8; ++k) s8 += ref.kq[tk * cols + e * 8 + k];
        ASSERT_EQ(ref.kq6_start[tk * cols / 8 + e], -32 * s8) << e;
      }
      for (int64_t b = 0; b < cols / 32; ++b) {
        int32_t s32 = 0;
        for (int k = 0; k < 32; ++k) s32 += ref.kq[tk * cols + b * 32 + k];
        ASSERT_EQ(ref.ksum32[tk * cols / 32 + b], s32) << b;
      }
    }
  }
}

// Every weight, scale and activation at its extreme: the int16 chains the SIMD kernel folds with
// vpdpwssd reach their bounds (q4_K 16 * 15 * 127 = 30480, q5_K 8 * 31 * 127 = 31496, q6_K
// 8 * 32 * 127 = 32512, kernels/quant_matmul_kquant.h) and so do the int32 super-block sums (q6_K:
// 256 * 128 * 32 * 127). One chain too long (or a scale read as signed where it is not) wraps and
// misses the reference and the definition by far more than rounding.
TEST(KQuantMatMul, ExtremeValuesStayExact) {
  const int64_t rows = 48, cols = 512;
  for (DType t : kTypes) {
    // q6_K: u = 0 (u - 32 = -32) and u = 63 (31) against scales -128 and 127; q4_K / q5_K: all bits
    // set = u 15 / 31, 6-bit scales and mins 63.
    for (int variant = 0; variant < 2; ++variant) {
      SCOPED_TRACE(std::string(DTypeName(t)) + " variant " + std::to_string(variant));
      Mat m;
      const size_t rb = DTypeBytes(t, cols);
      m.bytes.assign(rb * rows, 0xff);
      for (size_t off = 0; off < m.bytes.size(); off += SuperBlockBytes(t)) {
        if (t == DType::kQ6_K) {
          // ql [128], qh [64], scales [16], d.
          std::memset(&m.bytes[off], variant ? 0xff : 0x00, 192);
          const int64_t row = static_cast<int64_t>(off / rb);
          std::memset(&m.bytes[off + 192], row % 2 ? 0x80 : 0x7f, 16);
        }
        SetFactors(t, &m.bytes[off], variant ? -1e-3f : 1e-3f, 2e-3f);
      }
      FinishMat(t, rows, cols, "extreme", &m);
      for (float xv : {1.0f, -1.0f}) {
        for (int64_t n : {1, 4, 5}) {
          const std::vector<float> x(n * cols, xv);  // q = +-127 everywhere
          CheckMat(m, x, n, cols, true);
          if (HasFatalFailure()) return;
        }
      }
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
  // Q4_K_M files mix q4_K and q6_K (and q8_0) in one layer's jobs: one call quantizes x per 256 for
  // the K-quants and per 32 for q8_0, and every job reads its own form.
  const Mat a = MakeMat(DType::kQ4_K, 1024, 1024, 1), b = MakeMat(DType::kQ6_K, 512, 1024, 2),
            c = MakeMat(DType::kQ5_K, 40, 1024, 3);
  std::vector<uint8_t> q8(DTypeBytes(DType::kQ8_0, 1024) * 72);
  {
    std::mt19937 rng(4);
    std::normal_distribution<float> nd(0, 0.05f);
    std::vector<float> row(1024);
    for (int64_t r = 0; r < 72; ++r) {
      for (auto& v : row) v = nd(rng);
      QuantizeRow(DType::kQ8_0, row.data(), q8.data() + r * DTypeBytes(DType::kQ8_0, 1024), 1024);
    }
  }
  const TensorView q8v{DType::kQ8_0, {72, 1024}, q8.data(), "q8"};
  auto pa = QuantPackedMatrix::Pack(a.view), pb = QuantPackedMatrix::Pack(b.view), pc = QuantPackedMatrix::Pack(c.view),
       pd = QuantPackedMatrix::Pack(q8v);
  ASSERT_TRUE(pa.ok() && pb.ok() && pc.ok() && pd.ok());
  for (int64_t n : {1, 9}) {
    const auto x = testing::QuantTestActs(n, 1024, 5);
    std::vector<float> ya(n * 1024), yb(n * 512), yc(n * 40), yd(n * 72), ra(n * 1024), rb(n * 512), rc(n * 40),
        rd(n * 72);
    const QuantMatMulJob jobs[4] = {
        {&*pa, ya.data(), 1024}, {&*pd, yd.data(), 72}, {&*pb, yb.data(), 512}, {&*pc, yc.data(), 40}};
    QuantMatMulMany(jobs, 4, x.data(), n, 1024);
    QuantMatMulRef(a.view, x.data(), n, 1024, ra.data(), 1024);
    QuantMatMulRef(b.view, x.data(), n, 1024, rb.data(), 512);
    QuantMatMulRef(c.view, x.data(), n, 1024, rc.data(), 40);
    QuantMatMul(*pd, x.data(), n, 1024, rd.data(), 72);  // q8_0's kernel == its reference: quant_matmul_test
    EXPECT_EQ(ya, ra);
    EXPECT_EQ(yb, rb);
    EXPECT_EQ(yc, rc);
    EXPECT_EQ(yd, rd);
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
