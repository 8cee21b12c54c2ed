// LFM2-VL layout, crops, patches and prompt expansion (HF Lfm2VlImageProcessorFast semantics).
#include "image/lfm2vl_processor.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "image/cpython_set_order.h"

namespace lfm {
namespace {

int CeilDiv(int a, int b) { return (a + b - 1) / b; }

// HF _is_image_too_large: clamps to the patch size (16), not to patch * factor as smart_resize does.
bool IsImageTooLarge(int height, int width, const Lfm2VlProcessorConfig& c) {
  const int P = c.encoder_patch_size, f = c.downsample_factor, tf = P * f;
  const int64_t h = std::max(P, RoundByFactor(height, tf));
  const int64_t w = std::max(P, RoundByFactor(width, tf));
  return static_cast<double>(h * w) >
         static_cast<double>(c.max_image_tokens) * P * P * f * f * c.max_pixels_tolerance;
}

int CropTokens(int height, int width, const Lfm2VlProcessorConfig& c) {
  const int P = c.encoder_patch_size, f = c.downsample_factor;
  return CeilDiv(height / P, f) * CeilDiv(width / P, f);
}

// HF find_closest_aspect_ratio: returns (cols, rows).
std::pair<int, int> ClosestGrid(int height, int width, const Lfm2VlProcessorConfig& c) {
  const double aspect = static_cast<double>(width) / height;
  const double area = static_cast<double>(width) * height;
  std::pair<int, int> best{1, 1};
  double best_diff = std::numeric_limits<double>::infinity();
  for (const auto& [gw, gh] : TargetRatios(c.min_tiles, c.max_tiles)) {
    const double diff = std::fabs(aspect - static_cast<double>(gw) / gh);
    if (diff < best_diff) {
      best_diff = diff;
      best = {gw, gh};
    } else if (diff == best_diff &&
               area > 0.5 * static_cast<double>(c.tile_size) * c.tile_size * gw * gh) {
      best = {gw, gh};
    }
  }
  return best;
}

}  // namespace

int RoundByFactor(double x, int factor) {
  return static_cast<int>(std::nearbyint(x / factor)) * factor;  // default FE_TONEAREST = half to even
}

std::pair<int, int> SmartResize(int height, int width, const Lfm2VlProcessorConfig& c) {
  const int P = c.encoder_patch_size, f = c.downsample_factor, tf = P * f;
  const double min_px = static_cast<double>(c.min_image_tokens) * P * P * f * f;
  const double max_px = static_cast<double>(c.max_image_tokens) * P * P * f * f;
  int64_t h = std::max(tf, RoundByFactor(height, tf));
  int64_t w = std::max(tf, RoundByFactor(width, tf));
  if (static_cast<double>(h * w) > max_px) {
    const double beta = std::sqrt(static_cast<double>(height) * width / max_px);
    h = std::max<int64_t>(tf, static_cast<int64_t>(std::floor(height / beta / tf)) * tf);
    w = std::max<int64_t>(tf, static_cast<int64_t>(std::floor(width / beta / tf)) * tf);
  } else if (static_cast<double>(h * w) < min_px) {
    const double beta = std::sqrt(min_px / (static_cast<double>(height) * width));
    h = static_cast<int64_t>(std::ceil(height * beta / tf)) * tf;
    w = static_cast<int64_t>(std::ceil(width * beta / tf)) * tf;
  }
  return {static_cast<int>(h), static_cast<int>(w)};
}

std::vector<std::pair<int, int>> TargetRatios(int min_tiles, int max_tiles) {
  // [(w, h) for n in range(min, max + 1) for w in range(1, n + 1) for h in range(1, n + 1)
  //  if min <= w * h <= max], then sorted(set(...), key=w*h).
  std::vector<std::pair<int, int>> ratios;
  for (int n = min_tiles; n <= max_tiles; ++n) {
    for (int w = 1; w <= n; ++w) {
      for (int h = 1; h <= n; ++h) {
        if (min_tiles <= w * h && w * h <= max_tiles) ratios.emplace_back(w, h);
      }
    }
  }
  std::vector<std::pair<int, int>> order = CPythonSetOrder(ratios);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first * a.second < b.first * b.second; });
  return order;
}

Result<Lfm2VlLayout> ComputeLfm2VlLayout(int height, int width, const Lfm2VlProcessorConfig& c) {
  LFM_RETURN_IF_ERROR(c.Validate());
  if (height <= 0 || width <= 0) {
    return InvalidArgument("LFM2-VL preprocessing: image size " + std::to_string(width) + "x" +
                           std::to_string(height));
  }
  Lfm2VlLayout layout;
  const auto [rh, rw] = SmartResize(height, width, c);
  layout.resized_height = rh;
  layout.resized_width = rw;
  const bool split = c.do_image_splitting && !(c.min_tiles == 1 && c.max_tiles == 1);
  if (split && IsImageTooLarge(height, width, c)) {
    const auto [gw, gh] = ClosestGrid(height, width, c);
    layout.tiled = true;
    layout.grid_cols = gw;
    layout.grid_rows = gh;
    for (int k = 0; k < gw * gh; ++k) {
      layout.crop_sizes.emplace_back(c.tile_size, c.tile_size);
      layout.crop_tokens.push_back(CropTokens(c.tile_size, c.tile_size, c));
    }
    if (c.use_thumbnail && gw * gh != 1) {
      layout.thumbnail = true;
      layout.crop_sizes.emplace_back(rh, rw);
      layout.crop_tokens.push_back(CropTokens(rh, rw, c));
    }
  } else {
    layout.crop_sizes.emplace_back(rh, rw);
    layout.crop_tokens.push_back(CropTokens(rh, rw, c));
  }
  for (int t : layout.crop_tokens) layout.image_tokens += t;
  const int max_patches = c.MaxNumPatches();
  const int P = c.encoder_patch_size;
  for (const auto& [h, w] : layout.crop_sizes) {
    if ((h / P) * (w / P) > max_patches) {
      // Extreme aspect ratios: smart_resize clamps each side to >= 32 px, which can exceed N_max.
      return InvalidArgument("LFM2-VL preprocessing: a " + std::to_string(width) + "x" + std::to_string(height) +
                             " image gives a " + std::to_string(w) + "x" + std::to_string(h) + " crop with " +
                             std::to_string((h / P) * (w / P)) + " patches, more than max_num_patches " +
                             std::to_string(max_patches));
    }
  }
  return layout;
}

std::string TileMarker(int k, int rows, int cols, bool legacy_transposed) {
  // transformers <= 4.57 unpacked (grid_width, grid_height) into (rows, cols): the labels then run
  // over a cols x rows grid while the tiles stay row-major.
  int r, c;
  if (legacy_transposed) {
    r = k / rows;
    c = k % rows;
  } else {
    r = k / cols;
    c = k % cols;
  }
  return "<|img_row_" + std::to_string(r + 1) + "_col_" + std::to_string(c + 1) + "|>";
}

std::string ExpandImageTokens(const Lfm2VlLayout& layout, const Lfm2VlProcessorConfig& c) {
  std::string s;
  auto repeat = [&](int n) {
    s.reserve(s.size() + static_cast<size_t>(n) * c.image_token.size());
    for (int i = 0; i < n; ++i) s += c.image_token;
  };
  const bool markers = c.use_image_special_tokens;
  if (markers) s += c.image_start_token;
  const int tiles = layout.tiled ? layout.grid_rows * layout.grid_cols : 0;
  if (tiles > 1) {
    for (int k = 0; k < tiles; ++k) {
      if (markers) s += TileMarker(k, layout.grid_rows, layout.grid_cols, c.legacy_transposed_row_col);
      repeat(layout.crop_tokens[k]);
    }
    if (layout.thumbnail) {
      if (markers) s += c.image_thumbnail_token;
      repeat(layout.crop_tokens.back());
    }
  } else {
    repeat(layout.crop_tokens[0]);
  }
  if (markers) s += c.image_end_token;
  return s;
}

Result<std::vector<RgbImage>> Lfm2VlCropImages(const RgbImage& image, const Lfm2VlProcessorConfig& c) {
  LFM_ASSIGN_OR_RETURN(Lfm2VlLayout layout, ComputeLfm2VlLayout(image.height, image.width, c));
  LFM_ASSIGN_OR_RETURN(ResampleFilter filter, ResampleFilterFromPil(c.resample));
  std::vector<RgbImage> crops;
  if (layout.tiled) {
    // Tiles come from one stretched resize of the whole image (aspect ratio not kept).
    const int T = c.tile_size;
    RgbImage canvas = ResizeRgb(image, T * layout.grid_cols, T * layout.grid_rows, filter);
    for (int r = 0; r < layout.grid_rows; ++r) {
      for (int col = 0; col < layout.grid_cols; ++col) crops.push_back(CropRgb(canvas, col * T, r * T, T, T));
    }
    if (layout.thumbnail) crops.push_back(ResizeRgb(image, layout.resized_width, layout.resized_height, filter));
  } else {
    crops.push_back(ResizeRgb(image, layout.resized_width, layout.resized_height, filter));
  }
  return crops;
}

Result<PreprocessedImage> PreprocessLfm2Vl(const RgbImage& image, const Lfm2VlProcessorConfig& c,
                                           const PreprocessOptions& options) {
  if (image.width <= 0 || image.height <= 0 ||
      image.rgb.size() != static_cast<size_t>(image.width) * image.height * 3) {
    return InvalidArgument("LFM2-VL preprocessing: malformed RgbImage " + std::to_string(image.width) + "x" +
                           std::to_string(image.height) + " with " + std::to_string(image.rgb.size()) + " bytes");
  }
  LFM_ASSIGN_OR_RETURN(Lfm2VlLayout layout, ComputeLfm2VlLayout(image.height, image.width, c));
  PreprocessedImage out;
  out.rows = layout.grid_rows;
  out.cols = layout.grid_cols;
  out.thumbnail = layout.thumbnail;
  out.resized_height = layout.resized_height;
  out.resized_width = layout.resized_width;
  out.max_num_patches = c.MaxNumPatches();
  const int P = c.encoder_patch_size;
  out.patch_dim = 3 * P * P;
  out.image_tokens = layout.image_tokens;
  out.expanded_prompt = ExpandImageTokens(layout, c);
  const int n_tiles = layout.tiled ? layout.grid_rows * layout.grid_cols : 0;

  std::vector<RgbImage> pixels;
  if (options.include_pixels) {
    LFM_ASSIGN_OR_RETURN(pixels, Lfm2VlCropImages(image, c));
  }
  // HF's fast processor fuses rescale and normalise: (x - mean/rf) / (std/rf) in float32.
  std::array<float, 3> offset{}, divisor{};
  for (int ch = 0; ch < 3; ++ch) {
    float mean = static_cast<float>(c.image_mean[ch]), stdv = static_cast<float>(c.image_std[ch]);
    const float inv_rf = static_cast<float>(1.0 / c.rescale_factor);
    if (c.do_rescale && c.do_normalize) {
      offset[ch] = mean * inv_rf;
      divisor[ch] = stdv * inv_rf;
    } else if (c.do_normalize) {
      offset[ch] = mean;
      divisor[ch] = stdv;
    } else {
      offset[ch] = 0.0f;
      divisor[ch] = 1.0f;
    }
  }
  const bool rescale_only = c.do_rescale && !c.do_normalize;
  const float rf = static_cast<float>(c.rescale_factor);

  for (size_t i = 0; i < layout.crop_sizes.size(); ++i) {
    ImageCrop crop;
    crop.height = layout.crop_sizes[i].first;
    crop.width = layout.crop_sizes[i].second;
    crop.patches_h = crop.height / P;
    crop.patches_w = crop.width / P;
    crop.tokens = layout.crop_tokens[i];
    if (static_cast<int>(i) < n_tiles && n_tiles > 1) {
      crop.marker = TileMarker(static_cast<int>(i), layout.grid_rows, layout.grid_cols, c.legacy_transposed_row_col);
    } else if (layout.thumbnail && i + 1 == layout.crop_sizes.size()) {
      crop.marker = c.image_thumbnail_token;
    }
    const int valid = crop.patches_h * crop.patches_w;
    crop.attention_mask.assign(out.max_num_patches, 0);
    std::fill(crop.attention_mask.begin(), crop.attention_mask.begin() + valid, 1);
    if (options.include_pixels) {
      const RgbImage& src = pixels[i];
      crop.pixel_values.assign(static_cast<size_t>(out.max_num_patches) * out.patch_dim, 0.0f);
      for (int pr = 0; pr < crop.patches_h; ++pr) {
        for (int pc = 0; pc < crop.patches_w; ++pc) {
          float* dst = &crop.pixel_values[static_cast<size_t>(pr * crop.patches_w + pc) * out.patch_dim];
          for (int py = 0; py < P; ++py) {
            const uint8_t* row = src.Pixel(pc * P, pr * P + py);
            for (int k = 0; k < P * 3; ++k) {
              const int ch = k % 3;
              const float x = static_cast<float>(row[k]);
              *dst++ = rescale_only ? x * rf : (x - offset[ch]) / divisor[ch];
            }
          }
        }
      }
    }
    out.crops.push_back(std::move(crop));
  }
  return out;
}

Result<std::string> ExpandPromptImages(const std::string& prompt, const std::vector<PreprocessedImage>& images,
                                       const Lfm2VlProcessorConfig& c) {
  std::string out;
  size_t pos = 0, used = 0;
  while (true) {
    const size_t at = prompt.find(c.image_token, pos);
    if (at == std::string::npos) break;
    if (used == images.size()) {
      return InvalidArgument("prompt has more " + c.image_token + " placeholders than the " +
                             std::to_string(images.size()) + " images given");
    }
    out.append(prompt, pos, at - pos);
    out += images[used++].expanded_prompt;
    pos = at + c.image_token.size();
  }
  if (used != images.size()) {
    return InvalidArgument("prompt has " + std::to_string(used) + " " + c.image_token + " placeholders but " +
                           std::to_string(images.size()) + " images were given");
  }
  out.append(prompt, pos, std::string::npos);
  return out;
}

}  // namespace lfm
