// Format sniffing, limits, and the EXIF step shared by all decoders.
#include <cstring>
#include <string>

#include "base/mapped_file.h"
#include "image/decoders.h"
#include "image/exif.h"

namespace lfm {

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kGif: return "GIF";
    case ImageFormat::kBmp: return "BMP";
    case ImageFormat::kTiff: return "TIFF";
    case ImageFormat::kHeif: return "HEIF";
    case ImageFormat::kAvif: return "AVIF";
    case ImageFormat::kIco: return "ICO";
    case ImageFormat::kUnknown: break;
  }
  return "unknown";
}

ImageFormat SniffImageFormat(const uint8_t* d, size_t n) {
  auto starts = [&](const char* magic, size_t len, size_t at = 0) {
    return n >= at + len && std::memcmp(d + at, magic, len) == 0;
  };
  if (starts("\xFF\xD8\xFF", 3)) return ImageFormat::kJpeg;
  if (starts("\x89PNG\r\n\x1A\n", 8)) return ImageFormat::kPng;
  if (starts("RIFF", 4) && starts("WEBP", 4, 8)) return ImageFormat::kWebp;
  if (starts("GIF87a", 6) || starts("GIF89a", 6)) return ImageFormat::kGif;
  if (starts("BM", 2) && n >= 18) return ImageFormat::kBmp;
  if (starts("II*\0", 4) || starts("MM\0*", 4)) return ImageFormat::kTiff;
  if (starts("ftypavif", 8, 4) || starts("ftypavis", 8, 4)) return ImageFormat::kAvif;
  if (starts("ftypheic", 8, 4) || starts("ftypheix", 8, 4) || starts("ftypmif1", 8, 4) ||
      starts("ftyphevc", 8, 4)) {
    return ImageFormat::kHeif;
  }
  if (starts("\0\0\1\0", 4)) return ImageFormat::kIco;
  return ImageFormat::kUnknown;
}

namespace image_internal {

Status CheckDimensions(const char* format, int64_t width, int64_t height, const DecodeOptions& options) {
  if (width <= 0 || height <= 0) {
    return InvalidArgument(std::string(format) + ": image has size " + std::to_string(width) + "x" +
                           std::to_string(height));
  }
  if (width > (1 << 30) || height > (1 << 30) || width * height > options.max_pixels) {
    return ResourceExhausted(std::string(format) + ": image of " + std::to_string(width) + "x" +
                             std::to_string(height) + " pixels exceeds the limit of " +
                             std::to_string(options.max_pixels) + " pixels (DecodeOptions::max_pixels)");
  }
  return Status::Ok();
}

DecodedImage HeaderOnly(int64_t width, int64_t height) {
  DecodedImage out;
  out.image.width = static_cast<int>(width);
  out.image.height = static_cast<int>(height);
  return out;
}

}  // namespace image_internal

Result<RgbImage> DecodeImage(const uint8_t* data, size_t size, const DecodeOptions& options) {
  using namespace image_internal;
  if (size == 0 || data == nullptr) return InvalidArgument("image: empty input");
  if (size > options.max_bytes) {
    return ResourceExhausted("image: " + std::to_string(size) + " bytes exceeds the limit of " +
                             std::to_string(options.max_bytes) + " bytes (DecodeOptions::max_bytes)");
  }
  const ImageFormat format = SniffImageFormat(data, size);
  Result<DecodedImage> decoded = InvalidArgument("image: not decoded");
  switch (format) {
    case ImageFormat::kJpeg: decoded = DecodeJpeg(data, size, options); break;
    case ImageFormat::kPng: decoded = DecodePng(data, size, options); break;
    case ImageFormat::kWebp: decoded = DecodeWebp(data, size, options); break;
    case ImageFormat::kGif: decoded = DecodeGif(data, size, options); break;
    case ImageFormat::kBmp: decoded = DecodeBmp(data, size, options); break;
    case ImageFormat::kTiff:
    case ImageFormat::kHeif:
    case ImageFormat::kAvif:
    case ImageFormat::kIco:
      return Unsupported(std::string(ImageFormatName(format)) +
                         ": format not supported (supported: JPEG, PNG, WebP, GIF, BMP)");
    case ImageFormat::kUnknown:
      return InvalidArgument("image: unrecognised format (first bytes are not JPEG, PNG, WebP, GIF or BMP)");
  }
  if (!decoded.ok()) return decoded.status();
  DecodedImage& d = decoded.value();
  if (options.header_only) return std::move(d.image);
  if (options.apply_exif && !d.exif.empty()) {
    // Malformed EXIF is not fatal: PIL decodes such files and leaves them unrotated.
    Result<int> orientation = ParseExifOrientation(d.exif.data(), d.exif.size());
    if (orientation.ok() && *orientation != 1) return ApplyExifOrientation(d.image, *orientation);
  }
  return std::move(d.image);
}

Result<ImageHeaderSize> ReadImageHeader(const uint8_t* data, size_t size, DecodeOptions options) {
  options.header_only = true;
  LFM_ASSIGN_OR_RETURN(RgbImage header, DecodeImage(data, size, options));
  return ImageHeaderSize{header.width, header.height};
}

Result<RgbImage> DecodeImageFile(const std::string& path, const DecodeOptions& options) {
  // Refuse a FIFO, device or directory, and an oversized file, before opening or mapping it.
  LFM_RETURN_IF_ERROR(CheckRegularFile(path, {"an image", options.max_bytes}).status());
  auto file = MappedFile::Open(path);
  if (!file.ok()) return file.status();
  auto image = DecodeImage(file->data(), file->size(), options);
  if (!image.ok()) return image.status().WithContext(path);
  return image;
}

}  // namespace lfm
