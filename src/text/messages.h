// Chat messages: OpenAI-style JSON in, the message dicts Hugging Face chat templates expect out.
//
// In: {"role", "content": string | null | [{"type":"text","text"} | {"type":"image_url","image_url":{"url"}}
//      | {"type":"image", ...} | {"type":"input_image", ...}], "tool_calls": [{"id","type":"function",
//      "function":{"name","arguments": JSON string or object}}], "tool_call_id", "name", and any other
//      field (e.g. "thinking", "reasoning_content"), which is passed to the template unchanged.
// Out (what the template sees): content stays a string, or becomes a list of {"type":"text","text"}
//      and {"type":"image"} parts (LFM2-VL's template turns each image part into one `<image>`);
//      tool-call arguments given as a JSON string are parsed into an object, as vLLM does, because
//      templates such as LFM2.5's iterate over `arguments.items()`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

struct ContentPart {
  enum class Type { kText, kImage };
  Type type = Type::kText;
  std::string text;       // kText
  std::string image_url;  // kImage: URL, data: URI or path as given (may be empty)
};

struct ToolCall {
  std::string id;
  std::string name;
  // An object when the arguments were an object or a JSON string holding one; otherwise the
  // original string.
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

struct Message {
  enum class ContentKind { kNone, kText, kParts };
  std::string role;
  ContentKind content_kind = ContentKind::kText;
  std::string text;                 // kText
  std::vector<ContentPart> parts;   // kParts
  std::vector<ToolCall> tool_calls;
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();  // other fields, passed through

  static Message Text(std::string role, std::string text);
  size_t ImageCount() const;
  // Image URLs in order (one per image part), for the image pipeline.
  std::vector<std::string> ImageUrls() const;
};

// A parsed chat request: messages plus the template-level fields.
struct ChatRequest {
  std::vector<Message> messages;
  nlohmann::ordered_json tools;  // null when absent, else the array as given
  bool add_generation_prompt = true;
  bool continue_final_message = false;
  // Other top-level keys that templates read (enable_thinking, keep_past_thinking, ...), from
  // "chat_template_kwargs" or given at the top level.
  nlohmann::ordered_json template_kwargs = nlohmann::ordered_json::object();
};

// Accepts an array of messages. Errors name the message index and field.
Result<std::vector<Message>> ParseMessagesJson(const nlohmann::ordered_json& j);
// Accepts an array of messages, or {"messages": [...], "tools": [...], "add_generation_prompt": bool,
// "continue_final_message": bool, "chat_template_kwargs": {...}, other keys...}.
Result<ChatRequest> ParseChatRequestJson(const nlohmann::ordered_json& j);

// The dict a chat template sees for one message.
nlohmann::ordered_json MessageToTemplateJson(const Message& m);

}  // namespace lfm
