// Admission control for chat requests (the limits are public: lfm/admission.h). Each step is a
// separate function so the chat path can run them in the documented order, each before the work it
// guards: bytes and depth before parsing, shape before rendering, image sizes before reading pixels,
// and the token budget before any image is decoded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "image/image.h"
#include "image/lfm2vl_processor.h"
#include "lfm/admission.h"
#include "lfm/status.h"
#include "text/messages.h"

namespace lfm {

// Steps 1-2 on the raw text: request bytes, then JSON nesting depth (base/json_input's linear
// pre-scan: no tree is built).
Status AdmitRequestText(std::string_view request_json, const AdmissionLimits& limits);
// Steps 3-4 on the parsed tree, before it becomes Messages: messages, content parts per message.
Status AdmitRequestTree(const nlohmann::ordered_json& request, const AdmissionLimits& limits);
// Steps 5-6 on the parsed request: bytes of text that enters the template, number of images.
Status AdmitRequestContent(const ChatRequest& request, const AdmissionLimits& limits);

// Steps 1-6 around the parse: text -> tree -> ChatRequest.
Result<ChatRequest> ParseAndAdmitChatRequest(const std::string& request_json, const AdmissionLimits& limits);

// Steps 7-8 for every image source (path, file:// URL, data: URI), in order: encoded size (stat for
// files, never read), then the header's width x height, read without decoding pixels. Returns the
// header sizes.
Result<std::vector<ImageHeaderSize>> AdmitImages(const std::vector<std::string>& sources,
                                                 const AdmissionLimits& limits);

// The fewest image tokens an image of this header size can take under `config`: its LFM2-VL layout,
// in both orientations (EXIF may rotate it by 90 degrees after decoding).
Result<int> MinImageTokens(const ImageHeaderSize& size, const Lfm2VlProcessorConfig& config);

// Step 9: `text_tokens` (the rendered prompt, one placeholder token per image) minus the
// placeholders plus each image's minimum token count must leave room for one generated token.
Status AdmitTokenBudget(size_t text_tokens, const std::vector<ImageHeaderSize>& images,
                        const Lfm2VlProcessorConfig& config, int max_context);

// Decoder limits matching the admission limits (so the full decode agrees with the header check).
DecodeOptions DecodeOptionsFor(const AdmissionLimits& limits);

}  // namespace lfm
