#include "image/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace lfm {
namespace {

double Triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Keys cubic with a = -0.5, as torch's and PIL's bicubic.
double Cubic(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// Fixed-point taps of one axis: output o reads inputs [start[o], start[o] + size[o]).
struct AxisWeights {
  std::vector<int> start, size;
  std::vector<int32_t> w;  // [out][taps]; torch keeps them in int16 (they fit), Pillow in int32
  int taps = 0;
  int precision = 0;
};

AxisWeights ComputeWeights(int in, int out, ResampleFilter filter, ResamplePrecision precision) {
  const double interp = filter == ResampleFilter::kBilinear ? 2.0 : 4.0;
  const double scale = static_cast<double>(in) / out;
  const double support = scale >= 1.0 ? interp * 0.5 * scale : interp * 0.5;
  const double inv = scale >= 1.0 ? 1.0 / scale : 1.0;
  AxisWeights a;
  a.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  a.start.resize(out);
  a.size.resize(out);
  std::vector<double> wf(static_cast<size_t>(out) * a.taps, 0.0);
  double wmax = 0.0;
  for (int o = 0; o < out; ++o) {
    const double center = scale * (o + 0.5);
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in);
    const int n = std::min(xmax - xmin, a.taps);
    double total = 0.0;
    double* w = &wf[static_cast<size_t>(o) * a.taps];
    for (int j = 0; j < n; ++j) {
      const double x = (j + xmin - center + 0.5) * inv;
      w[j] = filter == ResampleFilter::kBilinear ? Triangle(x) : Cubic(x);
      total += w[j];
    }
    for (int j = 0; j < n; ++j) {
      if (total != 0.0) w[j] /= total;
      wmax = std::max(wmax, w[j]);
    }
    a.start[o] = xmin;
    a.size[o] = n;
  }
  if (precision == ResamplePrecision::kPillow) {
    a.precision = 22;
  } else {
    // torch: stops at the first precision where the largest weight, doubled, leaves int16.
    int p = 0;
    for (; p < 22; ++p) {
      if (static_cast<int>(0.5 + wmax * (1 << (p + 1))) >= (1 << 15)) break;
    }
    a.precision = p;
  }
  a.w.resize(wf.size());
  const double mul = static_cast<double>(1 << a.precision);
  for (size_t i = 0; i < wf.size(); ++i) {
    const double v = wf[i] * mul;
    a.w[i] = static_cast<int32_t>(v < 0 ? v - 0.5 : v + 0.5);
  }
  return a;
}

inline uint8_t Clip(int64_t acc, int precision) {
  const int64_t v = acc >> precision;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

RgbImage Horizontal(const RgbImage& src, int out_w, const AxisWeights& a) {
  RgbImage dst;
  dst.width = out_w;
  dst.height = src.height;
  dst.rgb.resize(static_cast<size_t>(out_w) * src.height * 3);
  const int64_t round = a.precision > 0 ? int64_t{1} << (a.precision - 1) : 0;
  for (int y = 0; y < src.height; ++y) {
    const uint8_t* row = src.Pixel(0, y);
    uint8_t* out = dst.Pixel(0, y);
    for (int o = 0; o < out_w; ++o) {
      const int32_t* w = &a.w[static_cast<size_t>(o) * a.taps];
      const uint8_t* p = row + static_cast<size_t>(a.start[o]) * 3;
      int64_t r = round, g = round, b = round;
      for (int j = 0; j < a.size[o]; ++j) {
        r += static_cast<int64_t>(w[j]) * p[j * 3];
        g += static_cast<int64_t>(w[j]) * p[j * 3 + 1];
        b += static_cast<int64_t>(w[j]) * p[j * 3 + 2];
      }
      out[o * 3] = Clip(r, a.precision);
      out[o * 3 + 1] = Clip(g, a.precision);
      out[o * 3 + 2] = Clip(b, a.precision);
    }
  }
  return dst;
}

RgbImage Vertical(const RgbImage& src, int out_h, const AxisWeights& a) {
  RgbImage dst;
  dst.width = src.width;
  dst.height = out_h;
  dst.rgb.resize(static_cast<size_t>(src.width) * out_h * 3);
  const int64_t round = a.precision > 0 ? int64_t{1} << (a.precision - 1) : 0;
  const size_t stride = static_cast<size_t>(src.width) * 3;
  std::vector<int64_t> acc(stride);
  for (int o = 0; o < out_h; ++o) {
    std::fill(acc.begin(), acc.end(), round);
    const int32_t* w = &a.w[static_cast<size_t>(o) * a.taps];
    for (int j = 0; j < a.size[o]; ++j) {
      const uint8_t* row = src.rgb.data() + static_cast<size_t>(a.start[o] + j) * stride;
      const int64_t wj = w[j];
      for (size_t i = 0; i < stride; ++i) acc[i] += wj * row[i];
    }
    uint8_t* out = dst.rgb.data() + static_cast<size_t>(o) * stride;
    for (size_t i = 0; i < stride; ++i) out[i] = Clip(acc[i], a.precision);
  }
  return dst;
}

}  // namespace

Result<ResampleFilter> ResampleFilterFromPil(int pil_id) {
  if (pil_id == 2) return ResampleFilter::kBilinear;
  if (pil_id == 3) return ResampleFilter::kBicubic;
  static const char* kNames[] = {"NEAREST", "LANCZOS", "BILINEAR", "BICUBIC", "BOX", "HAMMING"};
  std::string name = pil_id >= 0 && pil_id <= 5 ? kNames[pil_id] : "unknown";
  return Unsupported("resample " + std::to_string(pil_id) + " (" + name +
                     "): only 2 (BILINEAR) and 3 (BICUBIC) are implemented");
}

RgbImage ResizeRgb(const RgbImage& src, int out_w, int out_h, ResampleFilter filter, ResamplePrecision precision) {
  // An unchanged axis is skipped (torch and Pillow do the same; its weights are the identity).
  RgbImage mid = out_w != src.width ? Horizontal(src, out_w, ComputeWeights(src.width, out_w, filter, precision))
                                    : src;
  if (out_h == src.height) return mid;
  return Vertical(mid, out_h, ComputeWeights(src.height, out_h, filter, precision));
}

RgbImage CropRgb(const RgbImage& src, int x, int y, int width, int height) {
  RgbImage dst;
  dst.width = width;
  dst.height = height;
  dst.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (int r = 0; r < height; ++r) std::memcpy(dst.Pixel(0, r), src.Pixel(x, y + r), static_cast<size_t>(width) * 3);
  return dst;
}

}  // namespace lfm
