#include "image/exif.h"

#include <cstring>
#include <string>

namespace lfm {
namespace {

class TiffReader {
 public:
  TiffReader(const uint8_t* data, size_t size, bool big_endian) : d_(data), n_(size), be_(big_endian) {}
  bool U16(size_t off, uint32_t* out) const {
    if (off > n_ || n_ - off < 2) return false;
    *out = be_ ? (d_[off] << 8 | d_[off + 1]) : (d_[off] | d_[off + 1] << 8);
    return true;
  }
  bool U32(size_t off, uint32_t* out) const {
    uint32_t a, b;
    if (!U16(off, &a) || !U16(off + 2, &b)) return false;
    *out = be_ ? (a << 16 | b) : (b << 16 | a);
    return true;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  bool be_;
};

}  // namespace

Result<int> ParseExifOrientation(const uint8_t* data, size_t size) {
  if (size >= 6 && std::memcmp(data, "Exif\0\0", 6) == 0) {
    data += 6;
    size -= 6;
  }
  if (size < 8) return InvalidArgument("EXIF: " + std::to_string(size) + " bytes is too short for a TIFF header");
  bool big_endian;
  if (std::memcmp(data, "II*\0", 4) == 0) {
    big_endian = false;
  } else if (std::memcmp(data, "MM\0*", 4) == 0) {
    big_endian = true;
  } else {
    return InvalidArgument("EXIF: no TIFF byte-order mark at offset 0");
  }
  TiffReader r(data, size, big_endian);
  uint32_t ifd = 0, count = 0;
  r.U32(4, &ifd);
  if (!r.U16(ifd, &count)) {
    return InvalidArgument("EXIF: IFD0 offset " + std::to_string(ifd) + " is past the end (" + std::to_string(size) +
                           " bytes)");
  }
  for (uint32_t i = 0; i < count; ++i) {
    const size_t entry = static_cast<size_t>(ifd) + 2 + static_cast<size_t>(i) * 12;
    uint32_t tag = 0, type = 0, n = 0, value = 0;
    if (!r.U16(entry, &tag) || !r.U16(entry + 2, &type) || !r.U32(entry + 4, &n)) {
      return InvalidArgument("EXIF: IFD0 entry " + std::to_string(i) + " at offset " + std::to_string(entry) +
                             " is past the end");
    }
    if (tag != 0x0112) continue;
    // SHORT is the standard type; some writers use LONG. The value sits in the entry itself.
    if (n < 1 || (type != 3 && type != 4)) {
      return InvalidArgument("EXIF: Orientation has type " + std::to_string(type) + " and count " + std::to_string(n));
    }
    if (!(type == 3 ? r.U16(entry + 8, &value) : r.U32(entry + 8, &value))) {
      return InvalidArgument("EXIF: Orientation value is past the end");
    }
    if (value < 1 || value > 8) return InvalidArgument("EXIF: Orientation value " + std::to_string(value) + " not in 1..8");
    return static_cast<int>(value);
  }
  return 1;
}

RgbImage ApplyExifOrientation(const RgbImage& in, int orientation) {
  if (orientation < 2 || orientation > 8) return in;
  const int w = in.width, h = in.height;
  const bool swap = orientation >= 5;
  RgbImage out;
  out.width = swap ? h : w;
  out.height = swap ? w : h;
  out.rgb.resize(in.rgb.size());
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      int sx = x, sy = y;
      switch (orientation) {
        case 2: sx = w - 1 - x; break;
        case 3: sx = w - 1 - x; sy = h - 1 - y; break;
        case 4: sy = h - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = h - 1 - x; break;
        case 7: sx = w - 1 - y; sy = h - 1 - x; break;
        case 8: sx = w - 1 - y; sy = x; break;
      }
      std::memcpy(out.Pixel(x, y), in.Pixel(sx, sy), 3);
    }
  }
  return out;
}

}  // namespace lfm
