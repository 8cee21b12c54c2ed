// A small EXIF reader: just enough to find the Orientation tag (0x0112) in IFD0. Every read is
// bounds-checked; malformed data gives an error Status, which decoders treat as "no orientation".
#pragma once

#include <cstddef>
#include <cstdint>

#include "image/image.h"
#include "lfm/status.h"

namespace lfm {

// `data` is a TIFF structure ("II*\0" or "MM\0*"), optionally preceded by "Exif\0\0" (JPEG APP1 and
// some PNG eXIf writers). Returns the orientation 1..8, or 1 when the tag is absent. A tag value
// outside 1..8 is reported as an error (PIL leaves such images unrotated).
Result<int> ParseExifOrientation(const uint8_t* data, size_t size);

// Applies an EXIF orientation (1..8) the way PIL's ImageOps.exif_transpose does: 2 mirror, 3 rotate
// 180, 4 flip, 5 transpose, 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
RgbImage ApplyExifOrientation(const RgbImage& image, int orientation);

}  // namespace lfm
