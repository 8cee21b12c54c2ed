// LFM2-VL image preprocessing, identical to Hugging Face's Lfm2VlImageProcessorFast plus the
// image-token expansion of Lfm2VlProcessor (see ../shared/notes/lfm2-facts.md §4-§5):
// smart resize, tile grid choice, stretched tiles + optional thumbnail, uint8 antialiased resize,
// rescale/normalise, (py, px, ch) patches padded to N_max, and the prompt string for one image.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "image/image.h"
#include "image/resize.h"
#include "lfm/status.h"

namespace lfm {

struct Lfm2VlProcessorConfig {
  // Defaults are HF Lfm2VlImageProcessorFast's class defaults.
  bool do_image_splitting = true;
  int downsample_factor = 2;
  int encoder_patch_size = 16;
  int min_image_tokens = 64;
  int max_image_tokens = 256;
  int min_tiles = 2;
  int max_tiles = 10;
  int tile_size = 512;
  double max_pixels_tolerance = 2.0;
  bool use_thumbnail = true;
  bool use_image_special_tokens = true;
  int resample = 2;  // PIL id: 2 bilinear, 3 bicubic
  bool do_rescale = true;
  double rescale_factor = 1.0 / 255.0;
  bool do_normalize = true;
  std::array<double, 3> image_mean = {0.5, 0.5, 0.5};
  std::array<double, 3> image_std = {0.5, 0.5, 0.5};

  // Token strings (tokenizer_config.json / special_tokens_map.json; these are the defaults).
  std::string image_token = "<image>";
  std::string image_start_token = "<|image_start|>";
  std::string image_end_token = "<|image_end|>";
  std::string image_thumbnail_token = "<|img_thumbnail|>";

  // transformers <= 4.57 labelled tiles <|img_row_{c}_col_{r}|> (rows and columns swapped for
  // non-square grids); 5.0 and vLLM label them geometrically. Default: geometric.
  bool legacy_transposed_row_col = false;

  // Which file and key set each setting (FromModelDir; "encoder_patch_size" ->
  // "<dir>/processor_config.json: encoder_patch_size"), for errors that cross-check other files.
  // A setting left at its default has no entry.
  std::map<std::string, std::string> field_sources;

  // Merges, in increasing priority: class defaults, preprocessor_config.json,
  // processor_config.json["image_processor"], processor_config.json, and the token strings from
  // tokenizer_config.json / special_tokens_map.json. Missing files and unknown keys are fine; a known
  // key of the wrong type is an error naming the file and key.
  static Result<Lfm2VlProcessorConfig> FromModelDir(const std::string& dir);
  // Applies the keys of one JSON object (the text of a config file); `source` names it in errors.
  Status MergeJson(const std::string& json_text, const std::string& source);

  // Checks the values (positive sizes, tile_size a multiple of patch * factor, ...).
  Status Validate() const;

  // Patches per crop row that the vision tower is given: max(max_image_tokens * f^2,
  // (tile_size / patch)^2 if splitting).
  int MaxNumPatches() const;
};

// The geometry decided for one image, before any pixel work.
struct Lfm2VlLayout {
  bool tiled = false;           // tile path taken
  int grid_cols = 1;            // grid width (tiles across)
  int grid_rows = 1;            // grid height
  bool thumbnail = false;       // a thumbnail crop follows the tiles
  int resized_height = 0;       // smart-resize size (single crop, and the thumbnail)
  int resized_width = 0;
  std::vector<std::pair<int, int>> crop_sizes;  // (height, width) of every crop, in order
  std::vector<int> crop_tokens;                 // image tokens per crop
  int image_tokens = 0;
};

// Python's round() (half to even) of x / factor, times factor.
int RoundByFactor(double x, int factor);
// HF smart_resize: returns (height, width).
std::pair<int, int> SmartResize(int height, int width, const Lfm2VlProcessorConfig& config);
// HF's candidate grids (cols, rows): sorted(set(ratios), key=cols*rows) with CPython's set order.
std::vector<std::pair<int, int>> TargetRatios(int min_tiles, int max_tiles);
Result<Lfm2VlLayout> ComputeLfm2VlLayout(int height, int width, const Lfm2VlProcessorConfig& config);

// The marker string for tile k (0-based, row-major) of a rows x cols grid.
std::string TileMarker(int tile_index, int grid_rows, int grid_cols, bool legacy_transposed);

struct ImageCrop {
  int height = 0, width = 0;        // pixels
  int patches_h = 0, patches_w = 0; // spatial shape
  std::vector<float> pixel_values;  // [N_max, 3 * P * P], zero rows past patches_h * patches_w
  std::vector<int32_t> attention_mask;  // [N_max]
  int tokens = 0;                   // image tokens after the projector's pixel unshuffle
  std::string marker;               // "<|img_row_R_col_C|>", "<|img_thumbnail|>" or "" for a single crop
};

struct PreprocessedImage {
  int rows = 1, cols = 1;  // grid (rows = tiles down, cols = tiles across)
  bool thumbnail = false;
  int resized_height = 0, resized_width = 0;  // HF image_sizes
  int max_num_patches = 0;
  int patch_dim = 0;  // 3 * P * P
  std::vector<ImageCrop> crops;
  int image_tokens = 0;
  std::string expanded_prompt;  // replaces one image_token in the rendered prompt
};

struct PreprocessOptions {
  bool include_pixels = true;   // false: layout, masks and prompt only
};

Result<PreprocessedImage> PreprocessLfm2Vl(const RgbImage& image, const Lfm2VlProcessorConfig& config,
                                           const PreprocessOptions& options = {});

// The resized uint8 crops in processor order (tiles row-major, then the thumbnail); exposed for
// tests and `lfm preprocess` dumps.
Result<std::vector<RgbImage>> Lfm2VlCropImages(const RgbImage& image, const Lfm2VlProcessorConfig& config);

// Builds the expansion string of one image from a layout.
std::string ExpandImageTokens(const Lfm2VlLayout& layout, const Lfm2VlProcessorConfig& config);

// Replaces each image_token of a rendered prompt, in order, by the expansion of the matching image.
// The number of image_token occurrences must equal images.size().
Result<std::string> ExpandPromptImages(const std::string& prompt, const std::vector<PreprocessedImage>& images,
                                       const Lfm2VlProcessorConfig& config);

}  // namespace lfm
