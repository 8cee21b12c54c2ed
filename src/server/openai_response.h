// Building OpenAI's response shapes from a finished generation: chat.completion, the
// chat.completion.chunk events of a stream, text_completion, usage and finish_reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/chat.h"
#include "lfm/engine.h"

namespace lfm::server {

using OJson = nlohmann::ordered_json;

// What one request produced.
struct Outcome {
  Generation generation;
  std::string content;                   // chat: tool-call blocks removed; completion: the text
  std::vector<ChatToolCall> tool_calls;
};

// Where every response of one request gets its id, creation time and model name.
struct ResponseIds {
  std::string id;       // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0;  // Unix seconds
  std::string model;
};

// OpenAI's finish_reason: "tool_calls" when the reply calls tools, "stop" for EOS or a stop string,
// "length" for max_tokens or a full context.
std::string FinishReason(const Outcome& outcome);
OJson Usage(const Generation& generation);
// The tool calls as OpenAI lists them (with "index" for stream deltas when `with_index`).
OJson ToolCallsJson(const ResponseIds& ids, const std::vector<ChatToolCall>& calls, bool with_index);

OJson ChatCompletion(const ResponseIds& ids, const Outcome& outcome);
// One chat.completion.chunk; finish_reason "" -> null. With include_usage, OpenAI puts
// "usage": null on every chunk but the last (a separate chunk with empty choices).
OJson ChatChunk(const ResponseIds& ids, OJson delta, const std::string& finish_reason, bool include_usage);
OJson ChatUsageChunk(const ResponseIds& ids, const Generation& generation);

OJson TextCompletion(const ResponseIds& ids, const Outcome& outcome);
OJson TextChunk(const ResponseIds& ids, const std::string& text, const std::string& finish_reason, bool include_usage);
OJson TextUsageChunk(const ResponseIds& ids, const Generation& generation);

// "data: <json>\n\n"
std::string SseEvent(const OJson& payload);

}  // namespace lfm::server
