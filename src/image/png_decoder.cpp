// PNG through libpng. libpng reports errors through png_error, which must not return: we longjmp
// back to png_jmpbuf and turn the message into a Status. Pixels are converted to RGB the way
// PIL's convert("RGB") does (see image.h); alpha and tRNS are dropped, never composited.
#include <png.h>

#include <cstring>
#include <memory>
#include <string>

#include "image/decoders.h"

namespace lfm::image_internal {
namespace {

struct PngState {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const uint8_t* data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  std::string error;
  DecodedImage out;
  std::vector<uint8_t> pixels;  // decoded rows before the 16-bit grey clip
  std::vector<png_bytep> rows;
  ~PngState() {
    if (png != nullptr) png_destroy_read_struct(&png, info != nullptr ? &info : nullptr, nullptr);
  }
};

void OnError(png_structp png, png_const_charp message) {
  auto* state = static_cast<PngState*>(png_get_error_ptr(png));
  if (state->error.empty()) state->error = message;
  png_longjmp(png, 1);
}

void OnWarning(png_structp, png_const_charp) {}

void ReadFromMemory(png_structp png, png_bytep out, png_size_t length) {
  auto* state = static_cast<PngState*>(png_get_io_ptr(png));
  if (length > state->size - state->pos) {
    // Build the message here: png_error longjmps, so no std::string may be alive across it.
    state->error = "truncated data: needed " + std::to_string(length) + " bytes at offset " +
                   std::to_string(state->pos) + " of " + std::to_string(state->size);
    png_error(png, "truncated");
  }
  std::memcpy(out, state->data + state->pos, length);
  state->pos += length;
}

}  // namespace

Result<DecodedImage> DecodePng(const uint8_t* data, size_t size, const DecodeOptions& options) {
  auto state = std::make_unique<PngState>();
  state->data = data;
  state->size = size;
  state->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, state.get(), OnError, OnWarning);
  if (state->png == nullptr) return Internal("PNG: png_create_read_struct failed");
  state->info = png_create_info_struct(state->png);
  if (state->info == nullptr) return Internal("PNG: png_create_info_struct failed");
  png_structp png = state->png;
  png_infop info = state->info;
  if (setjmp(png_jmpbuf(png))) {
    return InvalidArgument("PNG: corrupt data: " + state->error);
  }
  png_set_read_fn(png, state.get(), ReadFromMemory);
  png_read_info(png, info);
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
  png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, nullptr, nullptr);
  {
    Status st = CheckDimensions("PNG", width, height, options);
    if (!st.ok()) return st;
    if (options.header_only) return HeaderOnly(width, height);
  }
  // PIL opens 16-bit greyscale as mode "I;16" and clips it to 0..255 in convert("RGB"); every
  // other 16-bit mode keeps the high byte.
  const bool grey16 = color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16;
  if (grey16) {
    png_set_swap(png);  // host (little-endian) order for the clip below
  } else {
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16) png_set_strip_16(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);
  }
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const size_t rowbytes = png_get_rowbytes(png, info);
  const int channels = png_get_channels(png, info);
  const size_t expected = grey16 ? static_cast<size_t>(width) * 2 : static_cast<size_t>(width) * 3;
  if (rowbytes != expected || channels != (grey16 ? 1 : 3)) {
    return Internal("PNG: unexpected row layout after transforms (" + std::to_string(rowbytes) + " bytes, " +
                    std::to_string(channels) + " channels)");
  }
  RgbImage& img = state->out.image;
  img.width = static_cast<int>(width);
  img.height = static_cast<int>(height);
  img.rgb.resize(static_cast<size_t>(width) * height * 3);
  uint8_t* base = img.rgb.data();
  if (grey16) {
    state->pixels.resize(rowbytes * height);
    base = state->pixels.data();
  }
  state->rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y) state->rows[y] = base + y * rowbytes;
  png_read_image(png, state->rows.data());
  png_read_end(png, info);
  png_uint_32 exif_len = 0;
  png_bytep exif = nullptr;
  if (png_get_eXIf_1(png, info, &exif_len, &exif) != 0 && exif != nullptr) {
    state->out.exif.assign(exif, exif + exif_len);
  }
  if (grey16) {
    const uint16_t* src = reinterpret_cast<const uint16_t*>(state->pixels.data());
    const size_t n = static_cast<size_t>(width) * height;
    for (size_t i = 0; i < n; ++i) {
      uint16_t v;
      std::memcpy(&v, src + i, 2);
      const uint8_t c = static_cast<uint8_t>(v > 255 ? 255 : v);
      img.rgb[i * 3] = img.rgb[i * 3 + 1] = img.rgb[i * 3 + 2] = c;
    }
  }
  return std::move(state->out);
}

}  // namespace lfm::image_internal
