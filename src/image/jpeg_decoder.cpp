// JPEG through libjpeg-turbo with the library defaults PIL uses (ISLOW IDCT, fancy upsampling).
// libjpeg reports fatal errors through error_exit, which must not return: we longjmp back here and
// turn the message into a Status. A premature end of data is only a warning in libjpeg (it pads with
// grey); PIL refuses truncated files, and so do we.
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <jpeglib.h>
#include <jerror.h>

#include "image/decoders.h"

namespace lfm::image_internal {
namespace {

struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;
};

void OnError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void OnMessage(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    err->truncated = true;
    (*cinfo->err->format_message)(cinfo, err->message);
  }
}

void NoOutput(j_common_ptr) {}

// Everything that lives across setjmp is kept out of the function's locals (volatile rules).
struct JpegState {
  jpeg_decompress_struct cinfo;
  ErrorManager err;
  DecodedImage out;
  std::vector<uint8_t> row;
};

}  // namespace

Result<DecodedImage> DecodeJpeg(const uint8_t* data, size_t size, const DecodeOptions& options) {
  auto state = std::make_unique<JpegState>();
  jpeg_decompress_struct& cinfo = state->cinfo;
  cinfo.err = jpeg_std_error(&state->err.pub);
  state->err.pub.error_exit = OnError;
  state->err.pub.emit_message = OnMessage;
  state->err.pub.output_message = NoOutput;
  state->err.truncated = false;
  state->err.message[0] = '\0';
  Status status;
  if (setjmp(state->err.jump)) {
    std::string msg = state->err.message;
    jpeg_destroy_decompress(&cinfo);
    return InvalidArgument("JPEG: corrupt data: " + msg);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, const_cast<unsigned char*>(data), static_cast<unsigned long>(size));
  jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
  jpeg_read_header(&cinfo, TRUE);
  status = CheckDimensions("JPEG", cinfo.image_width, cinfo.image_height, options);
  if (!status.ok() || options.header_only) {
    const int64_t width = cinfo.image_width, height = cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    if (!status.ok()) return status;
    return HeaderOnly(width, height);
  }
  // Only the first APP1 that starts with "Exif\0\0" counts (PIL does the same).
  for (jpeg_saved_marker_ptr m = cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      state->out.exif.assign(m->data, m->data + m->data_length);
      break;
    }
  }
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  const bool adobe_inverted = cmyk && cinfo.saw_Adobe_marker;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  const int w = static_cast<int>(cinfo.output_width), h = static_cast<int>(cinfo.output_height);
  const int comps = cinfo.output_components;
  if ((cmyk && comps != 4) || (!cmyk && comps != 3)) {
    jpeg_destroy_decompress(&cinfo);
    return Unsupported("JPEG: unexpected " + std::to_string(comps) + "-component output");
  }
  RgbImage& img = state->out.image;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  state->row.resize(static_cast<size_t>(w) * comps);
  while (cinfo.output_scanline < cinfo.output_height) {
    const int y = static_cast<int>(cinfo.output_scanline);
    JSAMPROW dst = cmyk ? state->row.data() : img.rgb.data() + static_cast<size_t>(y) * w * 3;
    jpeg_read_scanlines(&cinfo, &dst, 1);
    if (state->err.truncated) break;
    if (cmyk) {
      uint8_t* out = img.rgb.data() + static_cast<size_t>(y) * w * 3;
      for (int x = 0; x < w; ++x) {
        int c[4];
        for (int k = 0; k < 4; ++k) {
          c[k] = state->row[x * 4 + k];
          if (adobe_inverted) c[k] = 255 - c[k];
        }
        // Pillow's cmyk2rgb: nk - c * nk / 255 with its MULDIV255 rounding.
        const int nk = 255 - c[3];
        for (int k = 0; k < 3; ++k) {
          const int t = c[k] * nk + 128;
          out[x * 3 + k] = static_cast<uint8_t>(nk - (((t >> 8) + t) >> 8));
        }
      }
    }
  }
  if (state->err.truncated) {
    std::string msg = state->err.message;
    jpeg_destroy_decompress(&cinfo);
    return InvalidArgument("JPEG: truncated data (" + msg + ")");
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  if (state->err.truncated) return InvalidArgument("JPEG: truncated data");
  return std::move(state->out);
}

}  // namespace lfm::image_internal
