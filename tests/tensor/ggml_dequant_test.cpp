// Our dequantization of llama.cpp's Q4_1 / Q5_0 / Q5_1 / Q4_K / Q5_K / Q6_K blocks against the `gguf`
// Python package's (tools/refs/make_ggml_quant_goldens.py; random blocks): bit-exact f32, since both
// compute the same separately rounded f32 operations. A wrong nibble order, bit position, scale
// unpacking or sign changes most values by far more than one ulp.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <vector>

#include "tensor/convert.h"
#include "tensor/dtype.h"
#include "tensor/ggml_blocks.h"
#include "test_util.h"

namespace lfm {
namespace {

struct Golden {
  std::vector<uint8_t> blocks;
  std::vector<float> values;
};

Golden ReadGolden(DType t) {
  const std::string path = testing::SourceDir() + "/tests/tensor/data/ggml_quants/" + DTypeName(t) + ".bin";
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const size_t bb = static_cast<size_t>(DTypeBlockBytes(t)), bs = static_cast<size_t>(DTypeBlockSize(t));
  const size_t per_block = bb + 4 * bs;
  Golden g;
  if (bytes.empty() || bytes.size() % per_block != 0) {
    ADD_FAILURE() << path << ": " << bytes.size() << " bytes is not a whole number of blocks";
    return g;
  }
  const size_t n = bytes.size() / per_block;
  g.blocks.assign(bytes.begin(), bytes.begin() + n * bb);
  g.values.resize(n * bs);
  std::memcpy(g.values.data(), bytes.data() + n * bb, n * bs * 4);
  return g;
}

class GgmlDequant : public ::testing::TestWithParam<DType> {};

TEST_P(GgmlDequant, BitExactToGgufPackage) {
  const DType t = GetParam();
  const Golden g = ReadGolden(t);
  ASSERT_FALSE(g.values.empty());
  const int64_t n = static_cast<int64_t>(g.values.size());
  ASSERT_EQ(DTypeBytes(t, n), static_cast<int64_t>(g.blocks.size()));
  std::vector<float> ours(n, -12345.0f);
  DequantizeRow(t, g.blocks.data(), ours.data(), n);
  int differ = 0, nonzero = 0;
  for (int64_t i = 0; i < n; ++i) {
    nonzero += g.values[i] != 0;
    if (std::memcmp(&ours[i], &g.values[i], 4) != 0 && ++differ <= 5) {
      ADD_FAILURE() << DTypeName(t) << " element " << i << " (block " << i / DTypeBlockSize(t) << "): ours "
                    << ours[i] << ", gguf " << g.values[i];
    }
  }
  EXPECT_EQ(differ, 0) << DTypeName(t) << ": of " << n;
  EXPECT_GT(nonzero, n / 2);  // the goldens are not trivially zero
  // Row by row (one block at a time) gives the same values: no state carried across blocks.
  std::vector<float> one(static_cast<size_t>(DTypeBlockSize(t)));
  const int64_t bs = DTypeBlockSize(t);
  for (int64_t b = 0; b < n / bs; ++b) {
    DequantizeRow(t, g.blocks.data() + b * DTypeBlockBytes(t), one.data(), bs);
    ASSERT_EQ(std::memcmp(one.data(), ours.data() + b * bs, bs * 4), 0) << DTypeName(t) << " block " << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Types, GgmlDequant,
                         ::testing::Values(DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ4_K, DType::kQ5_K,
                                           DType::kQ6_K),
                         [](const auto& info) { return std::string(DTypeName(info.param)); });

TEST(GgmlDequant, BlockGeometry) {
  EXPECT_EQ(DTypeBytes(DType::kQ4_1, 64), 40);
  EXPECT_EQ(DTypeBytes(DType::kQ5_0, 64), 44);
  EXPECT_EQ(DTypeBytes(DType::kQ5_1, 64), 48);
  EXPECT_EQ(DTypeBytes(DType::kQ4_K, 1024), 4 * 144);
  EXPECT_EQ(DTypeBytes(DType::kQ5_K, 1024), 4 * 176);
  EXPECT_EQ(DTypeBytes(DType::kQ6_K, 1024), 4 * 210);
  EXPECT_TRUE(DTypeRowOk(DType::kQ4_K, 4608));   // LFM2-350M's FFN width: 18 super-blocks
  EXPECT_FALSE(DTypeRowOk(DType::kQ6_K, 64));    // tiny models cannot hold K-quants
  EXPECT_TRUE(DTypeIsQuantized(DType::kQ5_1));
  // GGUF-only: not a conversion target from options or the CLI.
  EXPECT_FALSE(ParseDTypeName("q4_k").has_value());
  EXPECT_STREQ(DTypeName(DType::kQ6_K), "q6_k");
}

}  // namespace
}  // namespace lfm
