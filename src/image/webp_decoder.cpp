// WebP through libwebp (still images; the first frame of an animation needs libwebpdemux and is
// refused). The EXIF chunk of an extended (VP8X) file is found by walking the RIFF chunks ourselves.
#include <webp/decode.h>

#include <cstring>
#include <string>

#include "image/decoders.h"

namespace lfm::image_internal {
namespace {

uint32_t ReadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

// Returns the payload of the first "EXIF" chunk, or nothing.
std::vector<uint8_t> FindExifChunk(const uint8_t* data, size_t size) {
  size_t pos = 12;  // "RIFF" size "WEBP"
  while (pos + 8 <= size) {
    const uint32_t len = ReadLe32(data + pos + 4);
    if (len > size - pos - 8) break;
    if (std::memcmp(data + pos, "EXIF", 4) == 0) return {data + pos + 8, data + pos + 8 + len};
    pos += 8 + static_cast<size_t>(len) + (len & 1);
  }
  return {};
}

const char* VP8StatusName(VP8StatusCode code) {
  switch (code) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "error";
  }
}

}  // namespace

Result<DecodedImage> DecodeWebp(const uint8_t* data, size_t size, const DecodeOptions& options) {
  WebPBitstreamFeatures features;
  VP8StatusCode code = WebPGetFeatures(data, size, &features);
  if (code != VP8_STATUS_OK) return InvalidArgument(std::string("WebP: bad header: ") + VP8StatusName(code));
  LFM_RETURN_IF_ERROR(CheckDimensions("WebP", features.width, features.height, options));
  if (options.header_only) return HeaderOnly(features.width, features.height);
  if (features.has_animation) return Unsupported("WebP: animated WebP is not supported");
  DecodedImage out;
  out.image.width = features.width;
  out.image.height = features.height;
  const size_t stride = static_cast<size_t>(features.width) * 3;
  out.image.rgb.resize(stride * features.height);
  // RGB output drops alpha without compositing, as PIL's convert("RGB") does.
  if (WebPDecodeRGBInto(data, size, out.image.rgb.data(), out.image.rgb.size(), static_cast<int>(stride)) ==
      nullptr) {
    WebPDecoderConfig config;
    std::string why = "corrupt or truncated data";
    if (WebPInitDecoderConfig(&config) != 0) {
      config.output.colorspace = MODE_RGB;
      code = WebPDecode(data, size, &config);
      if (code != VP8_STATUS_OK) why = VP8StatusName(code);
      WebPFreeDecBuffer(&config.output);
    }
    return InvalidArgument("WebP: decoding failed: " + why);
  }
  out.exif = FindExifChunk(data, size);
  return out;
}

}  // namespace lfm::image_internal
