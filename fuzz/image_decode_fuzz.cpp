// Fuzz target: any bytes through the image decoders (every format, EXIF on), then LFM2-VL layout and
// prompt expansion. Must never crash, hang or leak; errors are fine.
#include <cstddef>
#include <cstdint>

#include "image/image.h"
#include "image/lfm2vl_processor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lfm::DecodeOptions options;
  options.max_pixels = 1 << 22;  // keep mutated headers from making each run slow
  auto image = lfm::DecodeImage(data, size, options);
  if (!image.ok()) return 0;
  if (image->rgb.size() != static_cast<size_t>(image->width) * image->height * 3) __builtin_trap();
  lfm::Lfm2VlProcessorConfig config;
  config.min_image_tokens = 4;
  config.max_image_tokens = 16;
  config.tile_size = 64;
  config.max_tiles = 4;
  lfm::PreprocessOptions pre;
  pre.include_pixels = image->width * image->height <= 256 * 256;
  auto out = lfm::PreprocessLfm2Vl(*image, config, pre);
  (void)out;
  return 0;
}
