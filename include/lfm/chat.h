// Chat: messages in OpenAI's JSON shapes, rendered through the model's own chat template.
//
//   auto out = engine->Chat(R"({"messages": [{"role": "user", "content": "Hi!"}]})", {});
//   printf("%s\n", out->content.c_str());
//
// A request is either a JSON array of messages or an object {"messages": [...], "tools": [...],
// "add_generation_prompt": true, "chat_template_kwargs": {...}}. Image parts ({"type": "image_url",
// "image_url": {"url": "path/or/data-URI"}} or {"type": "image", "image": "path"}) go through the
// LFM2-VL vision pipeline on VL models and are refused on text models.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lfm/engine.h"

namespace lfm {

struct ChatOptions {
  GenerateOptions generate;
  // Request text containing a special-token string ("<|im_end|>", "<image>", ...) is refused by
  // default: any message's text (every role), tool-call ids, names and arguments, tool definitions
  // (every nested string and key) and template kwargs. With escape_special_tokens it is defused
  // with a zero-width space instead. Roles must be system, user, assistant or tool either way.
  bool escape_special_tokens = false;
  // Image-token budget overrides (0 = the processor config's min/max_image_tokens).
  int image_min_tokens = 0;
  int image_max_tokens = 0;
  // LFM2-VL do_image_splitting override (large images as tiles + thumbnail, or one resized image);
  // unset = the processor config's value.
  std::optional<bool> image_splitting;
  // Request limits for this call; unset = the engine's LoadOptions::admission (lfm/admission.h).
  std::optional<AdmissionLimits> admission;
};

struct ChatToolCall {
  std::string name;
  std::string arguments_json;  // a JSON object
};

struct ChatResult {
  Generation generation;     // ids, raw text, timings
  std::string content;       // the reply with tool-call blocks removed
  std::vector<ChatToolCall> tool_calls;
  std::vector<std::string> tool_call_errors;  // malformed calls, reported, never dropped silently
  std::string prompt;        // the rendered prompt (images expanded)
};

// A multi-turn conversation that keeps the decoder cache between turns: each Send() only runs the
// tokens of the new turn through prefill (unless the template rewrites history, e.g. strips past
// <think> blocks; then the conversation is re-run from the start and `history_reprefills` counts it).
class Conversation {
 public:
  ~Conversation();
  // Optional system prompt and tools (a JSON array, OpenAI shape), set before the first Send().
  // Text must be valid UTF-8 (refused with the byte offset otherwise).
  Status SetSystemPrompt(std::string system_prompt);
  Status SetToolsJson(const std::string& tools_json);
  // Sends one user message (plain text) and generates the assistant's reply. A reply that ends in
  // an error (finish_reason "error") is returned with its partial text but not kept: the next
  // Send() continues from the conversation before it.
  Result<ChatResult> Send(const std::string& user_text, const ChatOptions& options,
                          const TokenCallback& on_token = nullptr);
  int64_t prefilled_tokens() const;   // tokens run through prefill so far, all turns
  int history_reprefills() const;
  int turns() const;

  struct Impl;

 private:
  friend class Engine;
  explicit Conversation(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lfm
