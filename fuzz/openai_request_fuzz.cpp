// Fuzz target: the HTTP body parsers of `lfm serve` (POST /v1/chat/completions and /v1/completions).
// Any byte string must come back as a parsed request or an ApiError, never a crash; an accepted
// chat request's rewritten engine JSON must itself be valid JSON, and base64 decoding of any text
// must not crash either (image data URLs are decoded in memory).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>
#include <variant>

#include "server/openai_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto chat = lfm::server::ParseChatCompletionRequest(body);
  if (auto* req = std::get_if<lfm::server::ChatCompletionRequest>(&chat)) {
    if (!nlohmann::json::accept(req->engine_request_json)) std::abort();
  }
  (void)lfm::server::ParseCompletionRequest(body);
  (void)lfm::server::DecodeBase64(body);
  (void)lfm::server::SniffImageFormat(body);
  return 0;
}
