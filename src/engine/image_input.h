// Images in chat requests: where they come from (a file path, file:// URL or data: URI; never the
// network), decoding + LFM2-VL preprocessing, and the vision tower's embedding rows.
#pragma once

#include <string>
#include <vector>

#include "image/lfm2vl_processor.h"
#include "lfm/engine.h"
#include "lfm/status.h"
#include "model/lfm2_vl_vision.h"

namespace lfm {

// Decodes "path", "file:///path" or "data:image/...;base64,...". http(s) URLs are refused: lfm.cpp
// never fetches from the network.
Result<RgbImage> LoadImageSource(const std::string& source, const DecodeOptions& options = {});

// Standard base64 (RFC 4648; whitespace ignored, padding optional).
Result<std::string> DecodeBase64(std::string_view text);

// Runs every crop of every image through the vision tower, in processor order (image by image,
// tiles row-major, then the thumbnail): the rows that replace the prompt's image tokens in order.
// per_image_ms, if given, receives the encode time of each image (shown to the user on a terminal).
// Consecutive crops of an image run through the tower together (Lfm2VlVision::EncodeCrops), a
// few at a time. on_progress (stage "vision", units: crops) is told before the first batch and after
// each one; when it returns false, encoding stops there and *stopped is set.
Status EncodeImages(const Lfm2VlVision& vision, const std::vector<PreprocessedImage>& images,
                    std::vector<float>* rows, std::vector<double>* per_image_ms = nullptr,
                    const ProgressCallback& on_progress = nullptr, bool* stopped = nullptr);

}  // namespace lfm
