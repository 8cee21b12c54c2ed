#include "tensor/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/convert.h"
#include "tensor/tensor_view.h"

namespace lfm {
namespace {

TEST(DType, SizesAndNames) {
  EXPECT_EQ(DTypeBytes(DType::kF32, 10), 40);
  EXPECT_EQ(DTypeBytes(DType::kBF16, 10), 20);
  EXPECT_EQ(DTypeBytes(DType::kF16, 10), 20);
  EXPECT_EQ(DTypeBlockSize(DType::kQ8_0), 32);
  EXPECT_EQ(DTypeBytes(DType::kQ8_0, 64), 68);
  EXPECT_EQ(DTypeBytes(DType::kQ4_0, 64), 36);
  EXPECT_TRUE(DTypeRowOk(DType::kQ4_0, 1024));
  EXPECT_FALSE(DTypeRowOk(DType::kQ4_0, 1000));
  EXPECT_EQ(ParseDTypeName("BF16"), DType::kBF16);
  EXPECT_EQ(ParseDTypeName("q8_0"), DType::kQ8_0);
  EXPECT_FALSE(ParseDTypeName("f64").has_value());
  TensorView v{DType::kBF16, {4, 3}, nullptr, "w"};
  EXPECT_EQ(v.rows(), 4);
  EXPECT_EQ(v.cols(), 3);
  EXPECT_EQ(v.nbytes(), 24);
  EXPECT_EQ(ShapeToString(v.shape), "[4, 3]");
}

TEST(Convert, Bf16RoundsToNearestEven) {
  EXPECT_EQ(F32ToBF16(1.0f), 0x3f80);
  EXPECT_EQ(BF16ToF32(0x3f80), 1.0f);
  // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1.0078125: ties to even (1.0).
  EXPECT_EQ(F32ToBF16(1.0f + 1.0f / 256), 0x3f80);
  EXPECT_EQ(F32ToBF16(1.0f + 3.0f / 256), 0x3f82);
  EXPECT_TRUE(std::isnan(BF16ToF32(F32ToBF16(NAN))));
  EXPECT_EQ(BF16ToF32(F32ToBF16(-2.5f)), -2.5f);
}

TEST(Convert, F16KnownValues) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(-2.0f), 0xc000);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(1e6f), 0x7c00);  // overflow -> inf
  EXPECT_EQ(F32ToF16(5.960464477539063e-08f), 0x0001);  // smallest subnormal
  EXPECT_EQ(F16ToF32(0x0001), 5.960464477539063e-08f);
  EXPECT_EQ(F16ToF32(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isnan(F16ToF32(0x7e00)));
  // Every finite f16 survives a round trip through f32.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    ASSERT_EQ(F32ToF16(F16ToF32(static_cast<uint16_t>(h))), h) << h;
  }
}

TEST(Convert, QuantizedRowsRoundTripWithinOneStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0, 1);
  std::vector<float> x(96), y(96);
  for (auto& v : x) v = nd(rng);
  for (DType t : {DType::kQ8_0, DType::kQ4_0}) {
    std::vector<uint8_t> q(DTypeBytes(t, 96));
    QuantizeRow(t, x.data(), q.data(), 96);
    DequantizeRow(t, q.data(), y.data(), 96);
    for (int b = 0; b < 3; ++b) {
      float amax = 0;
      for (int i = 0; i < 32; ++i) amax = std::max(amax, std::fabs(x[b * 32 + i]));
      const float step = amax / (t == DType::kQ8_0 ? 127 : 8);
      // q4_0 maps the extreme value to -8, so the other side clamps at +7: up to one full step.
      const float tol = t == DType::kQ8_0 ? step * 0.51f : step * 1.01f;
      for (int i = 0; i < 32; ++i) EXPECT_LE(std::fabs(x[b * 32 + i] - y[b * 32 + i]), tol + 1e-6f);
    }
  }
}

}  // namespace
}  // namespace lfm
