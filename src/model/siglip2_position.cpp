#include "model/siglip2_position.h"

#include <algorithm>
#include <cmath>

namespace lfm {

std::vector<ResizeTaps> AntialiasedBilinearTaps(int in_len, int out_len) {
  std::vector<ResizeTaps> taps(out_len);
  const float scale = static_cast<float>(in_len) / static_cast<float>(out_len);
  for (int i = 0; i < out_len; ++i) {
    ResizeTaps& t = taps[i];
    if (out_len >= in_len) {
      // Upsampling: antialias changes nothing, the filter is plain bilinear.
      const float src = std::max(0.0f, (static_cast<float>(i) + 0.5f) * scale - 0.5f);
      const int i0 = std::min(static_cast<int>(src), in_len - 1);
      const int i1 = std::min(i0 + 1, in_len - 1);
      const float frac = src - static_cast<float>(i0);
      t.first = i0;
      if (i1 == i0) {
        t.weights = {1.0f};
      } else {
        t.weights = {1.0f - frac, frac};
      }
      continue;
    }
    // Downsampling: PyTorch's antialiased bilinear = triangle filter stretched by the scale.
    const float center = (static_cast<float>(i) + 0.5f) * scale;
    const int lo = std::max(0, static_cast<int>(center - scale + 0.5f));
    const int hi = std::min(in_len, static_cast<int>(center + scale + 0.5f));
    t.first = lo;
    float total = 0;
    for (int j = lo; j < hi; ++j) {
      const float w = std::max(0.0f, 1.0f - std::fabs((static_cast<float>(j) + 0.5f - center) / scale));
      t.weights.push_back(w);
      total += w;
    }
    if (total > 0) {
      for (float& w : t.weights) w /= total;
    }
  }
  return taps;
}

void ResizePositionGrid(const float* table, int grid, int channels, int out_h, int out_w, float* out) {
  const std::vector<ResizeTaps> tx = AntialiasedBilinearTaps(grid, out_w);
  const std::vector<ResizeTaps> ty = AntialiasedBilinearTaps(grid, out_h);
  const size_t C = static_cast<size_t>(channels);
  // Width pass: tmp[gy][x] = sum_gx wx * table[gy][gx].
  std::vector<float> tmp(static_cast<size_t>(grid) * out_w * C, 0.0f);
  for (int gy = 0; gy < grid; ++gy) {
    for (int x = 0; x < out_w; ++x) {
      float* dst = tmp.data() + (static_cast<size_t>(gy) * out_w + x) * C;
      for (size_t k = 0; k < tx[x].weights.size(); ++k) {
        const float w = tx[x].weights[k];
        const float* src = table + (static_cast<size_t>(gy) * grid + tx[x].first + k) * C;
        for (size_t c = 0; c < C; ++c) dst[c] += w * src[c];
      }
    }
  }
  // Height pass: out[y][x] = sum_gy wy * tmp[gy][x].
  std::fill(out, out + static_cast<size_t>(out_h) * out_w * C, 0.0f);
  for (int y = 0; y < out_h; ++y) {
    for (size_t k = 0; k < ty[y].weights.size(); ++k) {
      const float w = ty[y].weights[k];
      const float* src_row = tmp.data() + static_cast<size_t>(ty[y].first + k) * out_w * C;
      float* dst_row = out + static_cast<size_t>(y) * out_w * C;
      for (size_t i = 0; i < static_cast<size_t>(out_w) * C; ++i) dst_row[i] += w * src_row[i];
    }
  }
}

}  // namespace lfm
