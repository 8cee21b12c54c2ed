// Internal: one function per container format, called by DecodeImage after sniffing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "image/image.h"

namespace lfm::image_internal {

struct DecodedImage {
  RgbImage image;
  std::vector<uint8_t> exif;  // raw EXIF (TIFF header, optionally behind "Exif\0\0"); empty if none
};

// Refuses 0-sized and over-limit images; `format` names the decoder in the message.
Status CheckDimensions(const char* format, int64_t width, int64_t height, const DecodeOptions& options);
// What a decoder returns in header_only mode: the size, no pixels.
DecodedImage HeaderOnly(int64_t width, int64_t height);

Result<DecodedImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<DecodedImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<DecodedImage> DecodeWebp(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<DecodedImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& options);
Result<DecodedImage> DecodeBmp(const uint8_t* data, size_t size, const DecodeOptions& options);

}  // namespace lfm::image_internal
