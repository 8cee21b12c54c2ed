// Antialiased resampling of 8-bit RGB images, bit-exact with torch's CPU uint8 kernel
// (torchvision resize(uint8, antialias=True), what HF's fast LFM2-VL processor runs) and, with
// Precision::kPillow, with PIL's Image.resize. Both are the same separable fixed-point algorithm:
// horizontal pass first into a uint8 buffer, then vertical; weights become int16 fixed point.
#pragma once

#include "image/image.h"
#include "lfm/status.h"

namespace lfm {

enum class ResampleFilter { kBilinear, kBicubic };

enum class ResamplePrecision {
  kTorch,   // per-pass precision: the largest that keeps the biggest weight in int16 (torch uint8 AA)
  kPillow,  // fixed 22 bits (Pillow's ImagingResample)
};

// Maps a PIL resample id from a preprocessor config (2 = bilinear, 3 = bicubic) to a filter.
Result<ResampleFilter> ResampleFilterFromPil(int pil_id);

// Returns a copy when the size is unchanged. Sizes must be positive.
RgbImage ResizeRgb(const RgbImage& src, int out_width, int out_height, ResampleFilter filter,
                   ResamplePrecision precision = ResamplePrecision::kTorch);

// A rectangular window of `src` (must lie inside it).
RgbImage CropRgb(const RgbImage& src, int x, int y, int width, int height);

}  // namespace lfm
