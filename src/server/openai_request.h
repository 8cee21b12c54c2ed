// Parsing and checking the bodies of POST /v1/chat/completions and /v1/completions: every field
// we act on is type- and range-checked and named by its JSON pointer when wrong; fields that would
// change the meaning of the answer in a way lfm.cpp does not implement (n > 1, logprobs, logit_bias,
// presence/frequency penalties, echo, suffix, best_of > 1, tool_choice "required" or a named
// function, remote or local image URLs) are refused with 400; every other unknown field is ignored
// (llama-server does the same; OpenAI clients send fields such as "user", "store", "metadata").
//
// Images: only data: URLs are accepted ("data:image/png;base64,..."); the base64 text is decoded in
// memory and its first bytes must be a JPEG, PNG, WebP or GIF signature, so a broken image is refused
// here with the part's pointer (the engine decodes it later). http(s) URLs are refused (lfm serve
// fetches nothing); local paths and file:// URLs are never read from a request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lfm/grammar.h"
#include "server/api_error.h"

namespace lfm::server {

// The generation fields shared by both endpoints.
struct SamplingFields {
  std::optional<float> temperature, top_p, min_p, repetition_penalty;
  std::optional<int> top_k;
  std::optional<uint64_t> seed;
  std::optional<int> max_tokens;  // max_tokens or max_completion_tokens
  std::vector<std::string> stop;
  bool ignore_eos = false;        // llama-server's extension
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
};

struct Constraint {
  GrammarKind kind = GrammarKind::kJsonSchema;
  std::string source;   // schema JSON text, or a Lark grammar
  std::string param;    // where it came from, for errors ("/response_format/json_schema/schema")
};

struct ChatCompletionRequest {
  std::string model;
  // {"messages": [...], "tools": [...]} for Engine::Chat: the messages as sent, with each image part
  // rewritten to {"type":"image_url","image_url":{"url": DATA_URL}} and nothing else of the body.
  std::string engine_request_json;
  std::vector<std::string> image_params;  // JSON pointer of each image part, in request order
  bool has_tools = false;
  SamplingFields sampling;
  std::optional<Constraint> constraint;
};

struct CompletionRequest {
  std::string model;
  std::string prompt;
  SamplingFields sampling;
  std::optional<Constraint> constraint;
};

struct RequestParseOptions {
  size_t max_json_depth = 128;
  size_t max_stop_strings = 4;  // as OpenAI
};

template <typename T>
using Parsed = std::variant<T, ApiError>;

Parsed<ChatCompletionRequest> ParseChatCompletionRequest(std::string_view body, const RequestParseOptions& options = {});
Parsed<CompletionRequest> ParseCompletionRequest(std::string_view body, const RequestParseOptions& options = {});

// Decodes standard or URL-safe base64 (whitespace skipped, '=' padding optional); nullopt if invalid.
std::optional<std::string> DecodeBase64(std::string_view text);
// "jpeg", "png", "webp", "gif", or "" for bytes that start with none of their signatures.
std::string_view SniffImageFormat(std::string_view bytes);

}  // namespace lfm::server
