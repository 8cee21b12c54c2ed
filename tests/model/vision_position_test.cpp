// Position-embedding resize against tools/refs/pos_embed_resize_ref.py (an independent numpy
// transcription of PyTorch's antialiased bilinear interpolate), whose outputs are committed under
// tests/model/data. Covers upsampling, identity, and downsampling on one or both axes.
#include "model/siglip2_position.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/mapped_file.h"
#include "test_util.h"

namespace lfm {
namespace {

constexpr int kGrid = 16, kChannels = 8;

std::vector<float> ReadData(const std::string& name) {
  auto s = ReadFileToString(testing::SourceDir() + "/tests/model/data/" + name);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return {};
  std::vector<float> v(s->size() / 4);
  std::memcpy(v.data(), s->data(), v.size() * 4);
  return v;
}

TEST(VisionPositionTest, MatchesPytorchAntialiasedBilinearReference) {
  const std::vector<float> table = ReadData("pos_embed_table.f32");
  ASSERT_EQ(table.size(), static_cast<size_t>(kGrid * kGrid * kChannels));
  const std::pair<int, int> sizes[] = {{6, 52}, {52, 6}, {8, 8}, {16, 16}, {20, 14}, {32, 32}, {18, 28}, {2, 2},
                                       {1, 40}};
  for (auto [h, w] : sizes) {
    const std::string name = "pos_embed_resize_" + std::to_string(h) + "x" + std::to_string(w) + ".f32";
    const std::vector<float> want = ReadData(name);
    ASSERT_EQ(want.size(), static_cast<size_t>(h * w * kChannels)) << name;
    std::vector<float> got(want.size(), NAN);
    ResizePositionGrid(table.data(), kGrid, kChannels, h, w, got.data());
    double max_diff = 0;
    for (size_t i = 0; i < got.size(); ++i) max_diff = std::max(max_diff, std::fabs(double(got[i]) - want[i]));
    EXPECT_LT(max_diff, 1e-5) << name;  // f32 vs f64 rounding; a wrong filter is off by >1e-2
  }
}

TEST(VisionPositionTest, SameSizeIsIdentity) {
  const std::vector<float> table = ReadData("pos_embed_table.f32");
  std::vector<float> got(table.size());
  ResizePositionGrid(table.data(), kGrid, kChannels, kGrid, kGrid, got.data());
  EXPECT_EQ(got, table);
}

TEST(VisionPositionTest, TapsSumToOneAndStayInRange) {
  for (int out : {1, 2, 3, 5, 6, 8, 11, 15, 16, 17, 32, 52, 64}) {
    const auto taps = AntialiasedBilinearTaps(kGrid, out);
    ASSERT_EQ(taps.size(), static_cast<size_t>(out));
    for (const auto& t : taps) {
      float sum = 0;
      for (float w : t.weights) sum += w;
      EXPECT_NEAR(sum, 1.0f, 1e-6) << out;
      EXPECT_GE(t.first, 0);
      EXPECT_LE(t.first + static_cast<int>(t.weights.size()), kGrid);
    }
  }
  // Downsampling 16 -> 8: each output averages a 4-tap triangle (support 2) centred between two inputs.
  const auto half = AntialiasedBilinearTaps(kGrid, 8);
  ASSERT_EQ(half[3].weights.size(), 4u);
  EXPECT_EQ(half[3].first, 5);
  EXPECT_NEAR(half[3].weights[0], 0.125f, 1e-7);
  EXPECT_NEAR(half[3].weights[1], 0.375f, 1e-7);
}

}  // namespace
}  // namespace lfm
