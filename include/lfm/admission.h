// Admission control: limits on the size and shape of a chat request, checked before any expensive
// work (parsing into a tree, rendering, tokenizing, decoding images, running the model), so a
// hostile or mistaken request is refused in milliseconds with an error that names the limit, the
// value found and how to change it.
//
// Checks, in this order:
//   1. request bytes        the request JSON text (data: URI images included), before parsing
//   2. JSON depth           nesting of arrays/objects, pre-scanned before a tree is built
//   3. messages             number of messages
//   4. content parts        content parts per message
//   5. text bytes           all text that enters the chat template (messages, tools, kwargs)
//   6. images               number of images in the request
//   7. image bytes          per image: the file size (stat, not read) or the data: URI payload
//   8. image pixels         per image: width x height declared by its header, read without decoding
//   9. token budget         the prompt's text tokens plus each image's minimum token count (the
//                           smallest LFM2-VL layout its header size allows, never below
//                           min_image_tokens) must leave room in the context, before any image is
//                           decoded. 40 images into a 4k context are refused here.
//
// Set per engine in LoadOptions::admission; a request may override them in ChatOptions::admission
// (a server keeps one engine and may give callers different limits).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm {

struct AdmissionLimits {
  size_t max_request_bytes = size_t{64} << 20;  // 64 MiB: room for a few data: URI images
  size_t max_json_depth = 128;                  // real requests and tool schemas nest < 20
  size_t max_messages = 4096;
  size_t max_content_parts = 256;               // per message
  size_t max_text_bytes = size_t{8} << 20;      // 8 MiB of text: far past any LFM2 context
  size_t max_images = 32;                       // LFM2-VL takes >= 64 tokens per image
  size_t max_image_bytes = size_t{32} << 20;    // per image, encoded
  int64_t max_image_pixels = int64_t{64} << 20;  // per image, width x height from the header
};

// Each limit with its field name ("max_images"), value and meaning, in check order: for --help
// (the CLI flag is the name with dashes: --max-images) and status pages.
struct AdmissionLimitInfo {
  std::string name;
  uint64_t value = 0;
  std::string description;
};
std::vector<AdmissionLimitInfo> ListAdmissionLimits(const AdmissionLimits& limits);

// Checks 1-8 on a chat request without an engine (they need no model): a caller can refuse a
// request before loading a model or queueing it. Engine::Chat runs the same checks, and then the
// token budget, itself.
Status CheckChatRequest(const std::string& request_json, const AdmissionLimits& limits = {});

}  // namespace lfm
