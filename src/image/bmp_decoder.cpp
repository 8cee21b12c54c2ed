// Uncompressed Windows BMP: 1/4/8-bit palette, 24-bit BGR, 32-bit BGRX (BI_RGB, or BI_BITFIELDS with
// the standard masks). Every offset is checked against the buffer. RLE and other bit depths are
// refused by name.
#include <cstring>
#include <string>

#include "image/decoders.h"

namespace lfm::image_internal {
namespace {

uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}
uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

}  // namespace

Result<DecodedImage> DecodeBmp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  if (size < 26) return InvalidArgument("BMP: truncated header (" + std::to_string(size) + " bytes)");
  const uint32_t pixel_offset = Le32(data + 10);
  const uint32_t dib_size = Le32(data + 14);
  int64_t width = 0, height = 0;
  int bpp = 0;
  uint32_t compression = 0, colours_used = 0;
  if (dib_size == 12) {  // BITMAPCOREHEADER
    width = Le16(data + 18);
    height = static_cast<int16_t>(Le16(data + 20));
    bpp = Le16(data + 24);
  } else if (dib_size >= 40) {
    if (size < 14 + 40) return InvalidArgument("BMP: truncated info header");
    width = static_cast<int32_t>(Le32(data + 18));
    height = static_cast<int32_t>(Le32(data + 22));
    bpp = Le16(data + 28);
    compression = Le32(data + 30);
    colours_used = Le32(data + 46);
  } else {
    return InvalidArgument("BMP: unknown header size " + std::to_string(dib_size));
  }
  const bool top_down = height < 0;
  if (top_down) height = -height;
  LFM_RETURN_IF_ERROR(CheckDimensions("BMP", width, height, options));
  if (options.header_only) return HeaderOnly(width, height);
  if (compression == 3 && bpp == 32) {
    // BI_BITFIELDS: accept the usual BGRX layout only.
    const size_t masks_at = dib_size >= 52 ? 14 + 40 : 14 + dib_size;
    if (masks_at + 12 > size) return InvalidArgument("BMP: truncated bit-field masks");
    if (Le32(data + masks_at) != 0x00FF0000u || Le32(data + masks_at + 4) != 0x0000FF00u ||
        Le32(data + masks_at + 8) != 0x000000FFu) {
      return Unsupported("BMP: 32-bit bit-field masks other than BGRX");
    }
  } else if (compression != 0) {
    return Unsupported("BMP: compression method " + std::to_string(compression) + " (only uncompressed)");
  }
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 24 && bpp != 32) {
    return Unsupported("BMP: " + std::to_string(bpp) + " bits per pixel");
  }
  const int entry = dib_size == 12 ? 3 : 4;
  std::vector<uint8_t> palette;  // RGB triples
  if (bpp <= 8) {
    const uint32_t n = colours_used != 0 ? colours_used : (1u << bpp);
    if (n > 256) return InvalidArgument("BMP: palette of " + std::to_string(n) + " colours");
    const size_t at = 14 + static_cast<size_t>(dib_size);
    if (at + static_cast<size_t>(n) * entry > size) return InvalidArgument("BMP: truncated palette");
    palette.assign(256 * 3, 0);
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t* p = data + at + static_cast<size_t>(i) * entry;
      palette[i * 3] = p[2];
      palette[i * 3 + 1] = p[1];
      palette[i * 3 + 2] = p[0];
    }
  }
  const size_t stride = ((static_cast<size_t>(width) * bpp + 31) / 32) * 4;
  if (pixel_offset > size || stride * static_cast<size_t>(height) > size - pixel_offset) {
    return InvalidArgument("BMP: truncated pixel data (need " + std::to_string(stride * height) + " bytes at offset " +
                           std::to_string(pixel_offset) + ", file has " + std::to_string(size) + ")");
  }
  DecodedImage out;
  RgbImage& img = out.image;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* row = data + pixel_offset + stride * (top_down ? y : img.height - 1 - y);
    uint8_t* dst = img.Pixel(0, y);
    for (int x = 0; x < img.width; ++x, dst += 3) {
      if (bpp >= 24) {
        const uint8_t* p = row + static_cast<size_t>(x) * (bpp / 8);
        dst[0] = p[2];
        dst[1] = p[1];
        dst[2] = p[0];
      } else {
        const int per_byte = 8 / bpp;
        const int shift = (per_byte - 1 - x % per_byte) * bpp;
        const int index = (row[x / per_byte] >> shift) & ((1 << bpp) - 1);
        std::memcpy(dst, &palette[index * 3], 3);
      }
    }
  }
  return out;
}

}  // namespace lfm::image_internal
