// GIF through giflib: the first frame only, read record by record (never DGifSlurp, which would
// decode every frame of an animation). Palette indices map to RGB; transparency is ignored, as in
// PIL's convert("RGB") of a "P" image. Pixels of the logical screen outside the first frame get the
// colour of the transparent index if one is set, else of index 0 (what PIL 9.4 does; the
// background index is not used).
#include <gif_lib.h>

#include <cstring>
#include <memory>
#include <algorithm>
#include <string>

#include "image/decoders.h"

namespace lfm::image_internal {
namespace {

struct MemoryReader {
  const uint8_t* data;
  size_t size;
  size_t pos;
};

int ReadFromMemory(GifFileType* gif, GifByteType* out, int length) {
  auto* r = static_cast<MemoryReader*>(gif->UserData);
  if (length < 0) return 0;
  size_t n = std::min(static_cast<size_t>(length), r->size - r->pos);
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

struct GifCloser {
  void operator()(GifFileType* gif) const {
    int err = 0;
    DGifCloseFile(gif, &err);
  }
};

std::string GifError(int code) {
  const char* s = GifErrorString(code);
  return s != nullptr ? s : ("giflib error " + std::to_string(code));
}

}  // namespace

Result<DecodedImage> DecodeGif(const uint8_t* data, size_t size, const DecodeOptions& options) {
  MemoryReader reader{data, size, 0};
  int err = 0;
  std::unique_ptr<GifFileType, GifCloser> gif(DGifOpen(&reader, ReadFromMemory, &err));
  if (!gif) return InvalidArgument("GIF: bad header: " + GifError(err));
  const int sw = gif->SWidth, sh = gif->SHeight;
  LFM_RETURN_IF_ERROR(CheckDimensions("GIF", sw, sh, options));
  if (options.header_only) return HeaderOnly(sw, sh);
  GifRecordType type;
  int transparent = -1;
  do {
    if (DGifGetRecordType(gif.get(), &type) == GIF_ERROR) {
      return InvalidArgument("GIF: corrupt data: " + GifError(gif->Error));
    }
    if (type == EXTENSION_RECORD_TYPE) {
      int ext_code = 0;
      GifByteType* ext = nullptr;
      if (DGifGetExtension(gif.get(), &ext_code, &ext) == GIF_ERROR) {
        return InvalidArgument("GIF: corrupt extension: " + GifError(gif->Error));
      }
      if (ext_code == GRAPHICS_EXT_FUNC_CODE && ext != nullptr && ext[0] >= 4 && (ext[1] & 1) != 0) {
        transparent = ext[4];
      }
      while (ext != nullptr) {
        if (DGifGetExtensionNext(gif.get(), &ext) == GIF_ERROR) {
          return InvalidArgument("GIF: corrupt extension: " + GifError(gif->Error));
        }
      }
    } else if (type == TERMINATE_RECORD_TYPE) {
      return InvalidArgument("GIF: no image in file");
    }
  } while (type != IMAGE_DESC_RECORD_TYPE);
  if (DGifGetImageDesc(gif.get()) == GIF_ERROR) {
    return InvalidArgument("GIF: corrupt image descriptor: " + GifError(gif->Error));
  }
  const GifImageDesc& desc = gif->Image;
  const ColorMapObject* map = desc.ColorMap != nullptr ? desc.ColorMap : gif->SColorMap;
  if (map == nullptr) return InvalidArgument("GIF: no colour map");
  if (desc.Width <= 0 || desc.Height <= 0 || desc.Left < 0 || desc.Top < 0 ||
      static_cast<int64_t>(desc.Left) + desc.Width > sw || static_cast<int64_t>(desc.Top) + desc.Height > sh) {
    return InvalidArgument("GIF: first frame " + std::to_string(desc.Width) + "x" + std::to_string(desc.Height) +
                           " at (" + std::to_string(desc.Left) + "," + std::to_string(desc.Top) +
                           ") lies outside the " + std::to_string(sw) + "x" + std::to_string(sh) + " screen");
  }
  auto colour = [&](int index, uint8_t* out) {
    if (index < 0 || index >= map->ColorCount) index = 0;
    out[0] = map->Colors[index].Red;
    out[1] = map->Colors[index].Green;
    out[2] = map->Colors[index].Blue;
  };
  DecodedImage out;
  RgbImage& img = out.image;
  img.width = sw;
  img.height = sh;
  img.rgb.resize(static_cast<size_t>(sw) * sh * 3);
  uint8_t bg[3];
  colour(transparent >= 0 ? transparent : 0, bg);
  for (size_t i = 0; i < img.rgb.size(); i += 3) std::memcpy(&img.rgb[i], bg, 3);
  std::vector<GifPixelType> line(desc.Width);
  auto put_row = [&](int y) -> Status {
    if (DGifGetLine(gif.get(), line.data(), desc.Width) == GIF_ERROR) {
      return InvalidArgument("GIF: corrupt or truncated pixel data at row " + std::to_string(y) + ": " +
                             GifError(gif->Error));
    }
    for (int x = 0; x < desc.Width; ++x) colour(line[x], img.Pixel(desc.Left + x, desc.Top + y));
    return Status::Ok();
  };
  if (desc.Interlace) {
    static const int kStart[4] = {0, 4, 2, 1}, kStep[4] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass) {
      for (int y = kStart[pass]; y < desc.Height; y += kStep[pass]) LFM_RETURN_IF_ERROR(put_row(y));
    }
  } else {
    for (int y = 0; y < desc.Height; ++y) LFM_RETURN_IF_ERROR(put_row(y));
  }
  return out;
}

}  // namespace lfm::image_internal
