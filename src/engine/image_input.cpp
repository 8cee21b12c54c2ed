#include "engine/image_input.h"

#include <cstring>

#include "base/timer.h"

namespace lfm {

Result<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t pos = 0;
  for (char c : text) {
    ++pos;
    if (c == '=' ) break;
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    int v = value(c);
    if (v < 0) return InvalidArgument("invalid base64 character at offset " + std::to_string(pos - 1));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

Result<RgbImage> LoadImageSource(const std::string& source, const DecodeOptions& options) {
  if (source.empty()) return InvalidArgument("image part without a path, file:// URL or data: URI");
  if (source.rfind("data:", 0) == 0) {
    size_t comma = source.find(',');
    if (comma == std::string::npos || source.substr(0, comma).find(";base64") == std::string::npos)
      return InvalidArgument("image data URI must be of the form data:image/...;base64,... ");
    LFM_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(std::string_view(source).substr(comma + 1)));
    auto img = DecodeImage(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), options);
    if (!img.ok()) return img.status().WithContext("image data URI");
    return img;
  }
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
    return Unsupported("image URL '" + source + "': lfm.cpp does not fetch from the network; download it and " +
                       "pass the file path (or a data: URI)");
  std::string path = source.rfind("file://", 0) == 0 ? source.substr(7) : source;
  auto img = DecodeImageFile(path, options);
  if (!img.ok()) return img.status().WithContext(path);
  return img;
}

Status EncodeImages(const Lfm2VlVision& vision, const std::vector<PreprocessedImage>& images,
                    std::vector<float>* rows, std::vector<double>* per_image_ms,
                    const ProgressCallback& on_progress, bool* stopped) {
  rows->clear();
  if (per_image_ms != nullptr) per_image_ms->clear();
  if (stopped != nullptr) *stopped = false;
  int64_t total = 0, done = 0;
  for (const auto& img : images) total += static_cast<int64_t>(img.crops.size());
  Timer stage_timer;
  auto go_on = [&] { return !on_progress || on_progress(Progress{"vision", done, total, stage_timer.Millis()}); };
  std::vector<float> batch_rows;
  for (size_t i = 0; i < images.size(); ++i) {
    Timer timer;
    const auto& crops = images[i].crops;
    // Consecutive crops of the image run through the tower as one batch (one pass over the weights
    // per layer for all of them), up to kBatchPatches patches so that the scratch stays ~150 MB and a
    // cancellation point (before every batch) comes every few seconds.
    constexpr int64_t kBatchPatches = 4096;
    for (size_t c0 = 0; c0 < crops.size();) {
      if (!go_on()) {
        if (stopped != nullptr) *stopped = true;
        return Status::Ok();
      }
      std::vector<Siglip2VisionTower::Crop> batch;
      int64_t patches = 0, tokens = 0;
      size_t c1 = c0;
      for (; c1 < crops.size(); ++c1) {
        const int64_t p = static_cast<int64_t>(crops[c1].patches_h) * crops[c1].patches_w;
        if (!batch.empty() && patches + p > kBatchPatches) break;
        batch.push_back({crops[c1].pixel_values.data(), crops[c1].patches_h, crops[c1].patches_w});
        patches += p;
        tokens += crops[c1].tokens;
      }
      const std::string which = "image " + std::to_string(i) + " crop" +
                                (c1 - c0 > 1 ? "s " + std::to_string(c0) + ".." + std::to_string(c1 - 1)
                                             : " " + std::to_string(c0));
      Status st = vision.EncodeCrops(batch, &batch_rows);
      if (!st.ok()) return st.WithContext(which);
      const size_t expect = static_cast<size_t>(tokens) * vision.text_hidden();
      if (batch_rows.size() != expect)
        return Internal(which + ": the vision tower gave " + std::to_string(batch_rows.size() / vision.text_hidden()) +
                        " rows, the processor expects " + std::to_string(tokens));
      rows->insert(rows->end(), batch_rows.begin(), batch_rows.end());
      done += static_cast<int64_t>(c1 - c0);
      c0 = c1;
    }
    if (per_image_ms != nullptr) per_image_ms->push_back(timer.Millis());
  }
  if (!go_on() && stopped != nullptr) *stopped = true;
  return Status::Ok();
}

}  // namespace lfm
