// Decoded images and the decoders that produce them (JPEG, PNG, WebP, GIF, BMP).
// The format is sniffed from magic bytes, never from a file name. Limits are checked from the header
// before any pixel buffer is allocated, so a decompression bomb is refused up front.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm {

enum class ImageFormat { kUnknown, kJpeg, kPng, kWebp, kGif, kBmp, kTiff, kHeif, kAvif, kIco };

// "JPEG", "PNG", ... ("unknown" for kUnknown).
const char* ImageFormatName(ImageFormat format);
// Looks only at the leading bytes. Recognises some formats it cannot decode (TIFF, HEIF, AVIF, ICO)
// so that the refusal can name them.
ImageFormat SniffImageFormat(const uint8_t* data, size_t size);

struct DecodeOptions {
  // Rotate/flip by the EXIF Orientation tag (JPEG APP1, PNG eXIf, WebP EXIF), as PIL's
  // ImageOps.exif_transpose does before HF's processor sees the image.
  bool apply_exif = true;
  int64_t max_pixels = 64LL << 20;  // width * height, checked against the header
  size_t max_bytes = 256u << 20;    // encoded size
  // Stop after the header: width and height are checked and returned, rgb stays empty. Admission
  // control reads every image's declared size this way before any image is decoded.
  bool header_only = false;
};

// 8-bit RGB, row-major, rgb.size() == width * height * 3.
struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;

  uint8_t* Pixel(int x, int y) { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
  const uint8_t* Pixel(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

// Decodes to RGB the way PIL's Image.open(...).convert("RGB") does: alpha is dropped (not composited),
// grey is replicated, palettes are expanded, 16-bit RGB keeps the high byte, 16-bit grey is clipped
// to 255 (PIL's I;16 -> RGB conversion). CMYK JPEGs are converted as Pillow does ((255-k)(255-c)/255).
Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options = {});
Result<RgbImage> DecodeImageFile(const std::string& path, const DecodeOptions& options = {});

// The size the header declares (before EXIF orientation), checked against options.max_pixels,
// without allocating or decoding pixels: DecodeImage with header_only set.
struct ImageHeaderSize {
  int width = 0;
  int height = 0;
};
Result<ImageHeaderSize> ReadImageHeader(const uint8_t* data, size_t size, DecodeOptions options = {});

}  // namespace lfm
