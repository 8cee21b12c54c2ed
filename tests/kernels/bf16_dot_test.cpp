// The AVX512_BF16 paths (activations rounded to bf16, vdpbf16ps): the conversion bit for bit against
// its portable twin, the decoder MatMul and the vision GEMM against their twins that round the
// activations the same way (tight bound), and against f32 math (the documented bf16 bound), at the
// LFM2-350M / SigLIP2 sizes and at odd tails; plus which path the dispatch picks. On CPUs without the
// feature (or under LFM_ISA=avx512 / avx2 / scalar) the dispatch checks assert the f32 path instead,
// and the vision pair layout runs its portable loops.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "base/cpu_features.h"
#include "kernels/bf16_dot.h"
#include "kernels/linear.h"
#include "kernels/matmul.h"
#include "kernels/vision_gemm.h"
#include "tensor/convert.h"
#include "test_util.h"

namespace lfm {
namespace {

constexpr double kU = 1.0 / (1 << 24);  // f32 unit roundoff
constexpr double kBf16U = 1.0 / (1 << 8);  // 2x the bf16 unit roundoff 2^-9 (see CompareRows)

std::vector<float> Normal(size_t n, float sd, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = nd(rng);
  return v;
}

struct Bf16Matrix {
  std::vector<uint16_t> bits;
  std::vector<float> values;
  TensorView view;
};

Bf16Matrix MakeBf16(int64_t rows, int64_t cols, uint32_t seed) {
  Bf16Matrix m;
  const auto f = Normal(static_cast<size_t>(rows * cols), 0.5f, seed);
  m.bits.resize(f.size());
  m.values.resize(f.size());
  for (size_t i = 0; i < f.size(); ++i) {
    m.bits[i] = F32ToBF16(f[i]);
    m.values[i] = BF16ToF32(m.bits[i]);
  }
  m.view = TensorView{DType::kBF16, {rows, cols}, m.bits.data(), "w"};
  return m;
}

TEST(Bf16Dot, RoundingIsNearestEvenWithSubnormalsFlushed) {
  EXPECT_EQ(F32ToBF16ForDot(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBF16ForDot(-2.0f), 0xc000);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even neighbour (1).
  EXPECT_EQ(F32ToBF16ForDot(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(F32ToBF16ForDot(1.0f + 3.0f / 256), 0x3f82);  // tie, up to even
  EXPECT_EQ(F32ToBF16ForDot(1.0f + 1.0f / 256 + 1.0f / 65536), 0x3f81);  // above the tie
  EXPECT_EQ(F32ToBF16ForDot(std::numeric_limits<float>::denorm_min()), 0x0000);
  EXPECT_EQ(F32ToBF16ForDot(-std::numeric_limits<float>::denorm_min()), 0x8000);
  EXPECT_EQ(F32ToBF16ForDot(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_TRUE(std::isnan(RoundToBf16ForDot(std::numeric_limits<float>::quiet_NaN())));
  // Normal values round exactly as the weight conversion (F32ToBF16) does.
  for (float v : Normal(1000, 3.0f, 1)) EXPECT_EQ(F32ToBF16ForDot(v), F32ToBF16(v)) << v;
}

TEST(Bf16Dot, ConversionKernelMatchesTwinBitForBit) {
  // Specials mixed into random rows; every K tail of the 16-wide loop, odd K (a pad zero written).
  std::vector<float> specials = {0.0f, -0.0f, std::numeric_limits<float>::denorm_min(), -1e-40f,
                                 std::numeric_limits<float>::min(), std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::max(),
                                 1.0f + 1.0f / 256, 1.0f + 3.0f / 256};
  for (int64_t K : {1, 2, 15, 16, 17, 31, 33, 1024, 1151, 4608}) {
    const int64_t n = 5, ldx = K + 3, ldd = (K + 1) / 2 * 2 + 2;
    auto x = Normal(static_cast<size_t>(n * ldx), 2.0f, static_cast<uint32_t>(K));
    for (size_t i = 0; i < specials.size() && i < x.size(); ++i) x[i * 7 % x.size()] = specials[i];
    std::vector<uint16_t> got(n * ldd, 0xbeef), want(n * ldd, 0xbeef);
    RowsToBf16(x.data(), n, ldx, K, got.data(), ldd);
    RowsToBf16Ref(x.data(), n, ldx, K, want.data(), ldd);
    EXPECT_EQ(got, want) << "K=" << K << (ActiveAvx512Bf16() ? " (AVX512_BF16 kernel)" : " (portable)");
    // Nothing written past the (even-padded) row.
    for (int64_t t = 0; t < n; ++t)
      for (int64_t k = (K + 1) / 2 * 2; k < ldd; ++k) ASSERT_EQ(got[t * ldd + k], 0xbeef) << "K=" << K;
  }
}

TEST(Bf16Dot, DispatchPicksTheBf16PathOnlyWithTheFeature) {
  const char* env = std::getenv("LFM_ISA");
  const bool feature = ResolveAvx512Bf16(ActiveIsa(), CpuHasAvx512Bf16(), env);
  EXPECT_EQ(ActiveAvx512Bf16(), feature);
  // The dot kernels run when the feature is on and either LFM_ISA names them or the probe found
  // vdpbf16ps at >= kBf16DotMinSpeed of the FMA rate.
  const bool by_name = env != nullptr && std::string(env) == "avx512bf16";
  const Bf16DotSpeed& speed = Bf16DotProbeResult();
  const bool expected =
      feature && (by_name || (speed.measured && speed.dot_products_per_ns >= kBf16DotMinSpeed * speed.fma_products_per_ns));
  std::printf("vdpbf16ps %.1f products/ns, FMA %.1f products/ns (probe %s): dot kernels %s\n",
              speed.dot_products_per_ns, speed.fma_products_per_ns, speed.measured ? "ran" : "not run",
              UseBf16Dot() ? "on" : "off");
  EXPECT_EQ(UseBf16Dot(), expected);
  if (feature && !by_name) EXPECT_TRUE(speed.measured);
  EXPECT_EQ(MatMulRoundsActivationsToBf16(DType::kBF16), expected);
  EXPECT_EQ(GemmPackedUsesBf16Dot(), expected);
  for (DType t : {DType::kF32, DType::kF16, DType::kQ8_0, DType::kQ4_0}) {
    EXPECT_FALSE(MatMulRoundsActivationsToBf16(t)) << DTypeName(t);
  }
  const Bf16Matrix w = MakeBf16(50, 64, 3);
  auto packed = PackedGemmMatrix::Pack(w.view);
  ASSERT_TRUE(packed.ok());
  EXPECT_EQ(packed->bf16_pairs(), expected);
  // Without the feature the bf16 MatMul is f32 math on the widened weights: equal to its f32 twin.
  if (!expected) {
    const auto x = Normal(3 * 64, 1.0f, 4);
    std::vector<float> got(3 * 50), ref(3 * 50);
    MatMul(w.view, x.data(), 3, got.data());
    MatMulRef(w.view, x.data(), 3, 64, ref.data(), 50);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 64 * kU * 8);
  }
}

// Checks |got - twin| against the f32 accumulation bound (twin: the same rounded activations,
// double accumulation) and |got - f32 math| against the bf16 bound. For the latter: each activation
// moves by at most 2^-9 relative, so |err| <= 2^-9 sum_k |w_k x_k| + the f32 bound; the check allows
// 2^-8 (2x margin). Returns the largest ratio to the bf16 bound, for the log.
struct Errors {
  double twin = 0, f32 = 0;
};
Errors CompareRows(const float* w, int64_t K, const float* x, int64_t ldx, int64_t n, int64_t rows, const float* got,
                   const float* twin, const float* f32, int64_t ldy) {
  Errors e;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double s = 0, sr = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += std::fabs(static_cast<double>(w[r * K + k]) * x[t * ldx + k]);
        sr += std::fabs(static_cast<double>(w[r * K + k]) * RoundToBf16ForDot(x[t * ldx + k]));
      }
      const double g = got[t * ldy + r];
      e.twin = std::max(e.twin, std::fabs(g - twin[t * ldy + r]) / (std::sqrt(double(K)) * kU * sr + 1e-30));
      e.f32 = std::max(e.f32, std::fabs(g - f32[t * ldy + r]) / (kBf16U * s + std::sqrt(double(K)) * kU * s + 1e-30));
    }
  }
  return e;
}

// The checks of the *RealSizesAndTails tests on got, a path's output for w and n rows of x (-7
// sentinels past each row's outputs): nothing written past the outputs, and CompareRows' bounds against
// the twin that treats the activations as the path does (rounded to bf16 when it rounds them) and
// against f32 math.
void ExpectWithinTwinBounds(const Bf16Matrix& w, const std::vector<float>& x, int64_t n, int64_t ldx,
                            const std::vector<float>& got, int64_t ldy, bool rounds_activations) {
  const int64_t rows = w.view.rows(), cols = w.view.cols();
  std::vector<float> twin(n * ldy), f32(n * ldy);
  if (rounds_activations) {
    MatMulRefBf16Activations(w.view, x.data(), n, ldx, twin.data(), ldy);
  } else {
    MatMulRef(w.view, x.data(), n, ldx, twin.data(), ldy);
  }
  MatMulRef(w.view, x.data(), n, ldx, f32.data(), ldy);
  for (int64_t t = 0; t < n; ++t)
    for (int64_t r = rows; r < ldy; ++r) ASSERT_EQ(got[t * ldy + r], -7.0f) << "wrote past the outputs";
  const Errors e = CompareRows(w.values.data(), cols, x.data(), ldx, n, rows, got.data(), twin.data(), f32.data(), ldy);
  EXPECT_LT(e.twin, 1.0) << rows << "x" << cols << " n=" << n;
  EXPECT_LT(e.f32, 1.0) << rows << "x" << cols << " n=" << n;
}

// Decoder MatMul, bf16 weights: the decode GEMV at every LFM2-350M matrix shape (lm_head too) and
// prefill GEMMs with tails, against both twins.
TEST(Bf16Dot, MatMulRealSizesAndTails) {
  struct Shape {
    int64_t rows, cols, n;
  };
  const Shape shapes[] = {{1024, 1024, 1}, {4608, 1024, 1}, {1024, 4608, 1}, {65536, 1024, 1}, {3072, 1024, 1},
                          {1024, 1024, 37}, {4608, 1024, 13},  {100, 4608, 70}, {9, 1, 3},        {13, 31, 7},
                          {70, 33, 9},      {37, 1001, 130}};
  for (const Shape& s : shapes) {
    if (!testing::CheckedAtThisSize(s.rows, s.cols, s.n)) continue;
    const Bf16Matrix w = MakeBf16(s.rows, s.cols, static_cast<uint32_t>(s.rows + s.cols));
    const int64_t ldx = s.cols + 3, ldy = s.rows + 5;
    const auto x = Normal(static_cast<size_t>(s.n * ldx), 1.0f, 9);
    std::vector<float> got(s.n * ldy, -7.0f);
    MatMul(w.view, x.data(), s.n, ldx, got.data(), ldy);
    ExpectWithinTwinBounds(w, x, s.n, ldx, got, ldy, MatMulRoundsActivationsToBf16(DType::kBF16));
    if (HasFatalFailure()) return;
  }
}

TEST(Bf16Dot, MatMulGemvAndGemmAgreeBitForBit) {
  const Bf16Matrix w = MakeBf16(70, 1001, 5);
  const int64_t n = 13;
  const auto x = Normal(static_cast<size_t>(n * 1001), 1.0f, 6);
  std::vector<float> all(n * 70), one(70);
  MatMul(w.view, x.data(), n, all.data());
  for (int64_t t = 0; t < n; ++t) {
    MatMul(w.view, x.data() + t * 1001, 1, one.data());
    for (int r = 0; r < 70; ++r) ASSERT_EQ(one[r], all[t * 70 + r]) << "t=" << t << " r=" << r;
  }
}

// Vision GEMM with the pair layout, packed explicitly so every ISA path runs it (AVX512_BF16 kernel
// or the portable loops), at SigLIP2 shapes (768 hidden, 3072 MLP, 1024 patches of a 512x512 tile)
// with a partial last panel, odd K and token tails.
TEST(Bf16Dot, VisionGemmPairLayoutRealSizesAndTails) {
  struct Shape {
    int64_t rows, cols, n;
  };
  const Shape shapes[] = {{100, 3072, 1024}, {2304, 768, 67}, {768, 3072, 9}, {50, 37, 13}, {48, 1, 8}, {7, 257, 300}};
  for (const Shape& s : shapes) {
    if (!testing::CheckedAtThisSize(s.rows, s.cols, s.n)) continue;
    const Bf16Matrix w = MakeBf16(s.rows, s.cols, static_cast<uint32_t>(s.rows * 3 + s.cols));
    auto packed = PackedGemmMatrix::PackStacked({w.view}, /*bf16_pairs=*/true);
    ASSERT_TRUE(packed.ok()) << packed.status().ToString();
    ASSERT_TRUE(packed->bf16_pairs());
    const int64_t ldx = s.cols + 3, ldy = s.rows + 5;
    const auto x = Normal(static_cast<size_t>(s.n * ldx), 1.0f, 10);
    const auto bias = Normal(static_cast<size_t>(s.rows), 1.0f, 11);
    std::vector<float> got(s.n * ldy, -9.0f), twin(s.n * ldy), f32(s.n * ldy);
    GemmPacked(*packed, x.data(), s.n, ldx, bias.data(), got.data(), ldy);
    GemmPackedRef(*packed, x.data(), s.n, ldx, bias.data(), twin.data(), ldy);
    MatMulRef(w.view, x.data(), s.n, ldx, f32.data(), ldy);
    for (int64_t t = 0; t < s.n; ++t) {
      for (int64_t r = 0; r < s.rows; ++r) {
        got[t * ldy + r] -= bias[r];  // compare the products; the bias is exact in both
        twin[t * ldy + r] -= bias[r];
      }
      for (int64_t r = s.rows; r < ldy; ++r) ASSERT_EQ(got[t * ldy + r], -9.0f) << "wrote past the outputs";
    }
    const Errors e = CompareRows(w.values.data(), s.cols, x.data(), ldx, s.n, s.rows, got.data(), twin.data(),
                                 f32.data(), ldy);
    // The bias subtraction above adds one f32 rounding of |y| + |bias|: allowed via the 2x margin.
    EXPECT_LT(e.twin, 2.0) << s.rows << "x" << s.cols << " n=" << s.n;
    EXPECT_LT(e.f32, 1.0) << s.rows << "x" << s.cols << " n=" << s.n;
  }
}

TEST(Bf16Dot, VisionGemmF32LayoutKeepsF32Math) {
  // bf16_pairs = false: the k-major layout and f32 math on the widened weights, on every CPU.
  const Bf16Matrix w = MakeBf16(60, 200, 12);
  auto packed = PackedGemmMatrix::PackStacked({w.view}, false);
  ASSERT_TRUE(packed.ok());
  EXPECT_FALSE(packed->bf16_pairs());
  const auto x = Normal(9 * 200, 1.0f, 13);
  std::vector<float> got(9 * 60), ref(9 * 60);
  GemmPacked(*packed, x.data(), 9, 200, nullptr, got.data(), 60);
  MatMulRef(w.view, x.data(), 9, 200, ref.data(), 60);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-4);
}

// The decoder's Linear on bf16 weights: packed into the pair-interleaved GEMM panels where
// LinearPacks(kBF16) (AVX512_BF16), else MatMul's row-major kernels. At every LFM2-350M shape (the tied
// 65536-row lm_head too), decode (n = 1), batched decode (n = 2..8, the serving streams) and prefill
// GEMMs with token tails, partial last panels and odd K: against the twin rounding the activations as
// the path does and against f32 math; nothing written past the outputs.
TEST(Bf16Dot, LinearRealSizesAndTails) {
  struct Shape {
    int64_t rows, cols, n;
  };
  const Shape shapes[] = {{1024, 1024, 1}, {4608, 1024, 1}, {1024, 4608, 1}, {65536, 1024, 1}, {3072, 1024, 1},
                          {512, 1024, 2},   {4608, 1024, 5}, {1024, 4608, 8}, {1024, 1024, 9},  {3072, 1024, 67},
                          {1024, 4608, 13}, {100, 4608, 70}, {9, 1, 3},       {13, 31, 7},      {70, 33, 9},
                          {37, 1001, 130}};
  for (const Shape& s : shapes) {
    if (!testing::CheckedAtThisSize(s.rows, s.cols, s.n)) continue;
    const Bf16Matrix w = MakeBf16(s.rows, s.cols, static_cast<uint32_t>(s.rows + 7 * s.cols));
    auto lw = MakeLinearWeight(w.view);
    ASSERT_TRUE(lw.ok()) << lw.status().ToString();
    EXPECT_EQ(lw->bf16_packed != nullptr, LinearPacks(DType::kBF16));
    const int64_t ldx = s.cols + 3, ldy = s.rows + 5;
    const auto x = Normal(static_cast<size_t>(s.n * ldx), 1.0f, 19);
    std::vector<float> got(s.n * ldy, -7.0f);
    Linear(*lw, x.data(), s.n, ldx, got.data(), ldy);
    // The packed panels round the activations only in the pair layout (vdpbf16ps); k-major panels are f32 math.
    const bool rounds =
        lw->bf16_packed ? lw->bf16_packed->bf16_pairs() : MatMulRoundsActivationsToBf16(DType::kBF16);
    ExpectWithinTwinBounds(w, x, s.n, ldx, got, ldy, rounds);
    if (HasFatalFailure()) return;
  }
}

// Decode and prefill must give the same logits bits for the same token (a prompt re-read token by token
// equals the batched prefill; the serving batch of streams equals each stream alone): every token's row
// of one n-token call equals the n = 1 call on that token, for the packed and the row-major path.
TEST(Bf16Dot, LinearGemvAndGemmAgreeBitForBit) {
  for (const int64_t cols : {1001, 1024}) {
    const int64_t rows = 130;
    const Bf16Matrix w = MakeBf16(rows, cols, 5);
    auto lw = MakeLinearWeight(w.view);
    ASSERT_TRUE(lw.ok());
    for (const int64_t n : {2, 8, 13, 300}) {
      const auto x = Normal(static_cast<size_t>(n * cols), 1.0f, 6);
      std::vector<float> all(n * rows), one(rows);
      Linear(*lw, x.data(), n, all.data());
      for (int64_t t = 0; t < n; ++t) {
        Linear(*lw, x.data() + t * cols, 1, one.data());
        for (int64_t r = 0; r < rows; ++r)
          ASSERT_EQ(one[r], all[t * rows + r]) << "cols=" << cols << " n=" << n << " t=" << t << " r=" << r;
      }
    }
  }
}

// LinearMany (q/k/v, w1/w3 in one parallel region) equals one Linear per matrix bit for bit, and the
// tied-embedding row read from the packed copy equals the source row.
TEST(Bf16Dot, LinearManyEqualsSeparateAndRowsReadBack) {
  const int64_t D = 1024;
  const Bf16Matrix q = MakeBf16(1024, D, 31), k = MakeBf16(512, D, 32), v = MakeBf16(512, D, 33);
  auto lq = MakeLinearWeight(q.view), lk = MakeLinearWeight(k.view), lv = MakeLinearWeight(v.view);
  ASSERT_TRUE(lq.ok() && lk.ok() && lv.ok());
  for (const int64_t n : {1, 3, 40}) {
    const auto x = Normal(static_cast<size_t>(n * D), 1.0f, 34);
    std::vector<float> yq(n * 1024), yk(n * 512), yv(n * 512), sq(n * 1024), sk(n * 512), sv(n * 512);
    const LinearJob jobs[] = {{&*lq, yq.data(), 1024}, {&*lk, yk.data(), 512}, {&*lv, yv.data(), 512}};
    LinearMany(jobs, 3, x.data(), n, D);
    Linear(*lq, x.data(), n, sq.data());
    Linear(*lk, x.data(), n, sk.data());
    Linear(*lv, x.data(), n, sv.data());
    EXPECT_EQ(yq, sq) << "n=" << n;
    EXPECT_EQ(yk, sk) << "n=" << n;
    EXPECT_EQ(yv, sv) << "n=" << n;
  }
  std::vector<float> row(D);
  for (const int64_t r : {0, 47, 48, 511}) {
    lk->DequantizeRow(r, row.data());
    for (int64_t c = 0; c < D; ++c) ASSERT_EQ(row[c], k.values[r * D + c]) << "r=" << r << " c=" << c;
  }
}

// GemmPackedMany with jobs of different layouts or widths falls back to one product each.
TEST(Bf16Dot, GemmPackedManyMixedJobs) {
  const Bf16Matrix a = MakeBf16(50, 64, 41), b = MakeBf16(60, 64, 42), c = MakeBf16(20, 33, 43);
  auto pa = PackedGemmMatrix::PackStacked({a.view}, true), pb = PackedGemmMatrix::PackStacked({b.view}, false);
  auto pc = PackedGemmMatrix::PackStacked({c.view}, true);
  ASSERT_TRUE(pa.ok() && pb.ok() && pc.ok());
  const int64_t n = 5;
  const auto x = Normal(static_cast<size_t>(n * 64), 1.0f, 44);
  std::vector<float> ya(n * 50), yb(n * 60), ra(n * 50), rb(n * 60);
  const GemmPackedJob jobs[] = {{&*pa, nullptr, ya.data(), 50}, {&*pb, nullptr, yb.data(), 60}};
  GemmPackedMany(jobs, 2, x.data(), n, 64);
  GemmPacked(*pa, x.data(), n, 64, nullptr, ra.data(), 50);
  GemmPacked(*pb, x.data(), n, 64, nullptr, rb.data(), 60);
  EXPECT_EQ(ya, ra);
  EXPECT_EQ(yb, rb);
  std::vector<float> yc(n * 20), rc(n * 20);
  const GemmPackedJob jobs2[] = {{&*pa, nullptr, ya.data(), 50}, {&*pc, nullptr, yc.data(), 20}};
  GemmPackedMany(jobs2, 2, x.data(), n, 64);  // different cols: x rows are 64 wide, c reads the first 33
  GemmPacked(*pc, x.data(), n, 64, nullptr, rc.data(), 20);
  EXPECT_EQ(yc, rc);
}

}  // namespace
}  // namespace lfm
