// Fuzz target: the EXIF Orientation reader on arbitrary bytes, and the transform it selects.
#include <cstddef>
#include <cstdint>

#include "image/exif.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto orientation = lfm::ParseExifOrientation(data, size);
  if (!orientation.ok()) return 0;
  if (*orientation < 1 || *orientation > 8) __builtin_trap();
  lfm::RgbImage image;
  image.width = 3;
  image.height = 2;
  image.rgb.assign(18, 7);
  lfm::RgbImage out = lfm::ApplyExifOrientation(image, *orientation);
  if (out.rgb.size() != image.rgb.size() || out.width * out.height != 6) __builtin_trap();
  return 0;
}
