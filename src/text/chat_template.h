// A model's chat template: found in the model directory, rendered with messages the way
// transformers' apply_chat_template does (variables messages, tools, documents,
// add_generation_prompt, the tokenizer's special-token strings, and any extra kwargs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"
#include "text/jinja/template.h"
#include "text/messages.h"

namespace lfm {

struct ChatRenderOptions {
  nlohmann::ordered_json tools;  // null = no tools (the template sees tools=None, as with HF)
  bool add_generation_prompt = true;
  // Leave the last (assistant) message open so generation continues it, as transformers'
  // continue_final_message does: the render is cut right after that message's text.
  bool continue_final_message = false;
  // Extra template variables (enable_thinking, keep_past_thinking, ...); they override defaults.
  nlohmann::ordered_json extra_context = nlohmann::ordered_json::object();
  jinja::Limits limits;
  std::optional<int64_t> now_unix_seconds;  // for strftime_now; unset = local time now
};

class ChatTemplate {
 public:
  // Reads <dir>/chat_template.jinja if present, else "chat_template" of <dir>/tokenizer_config.json
  // (a string, or a list of {name, template} from which "default" is taken). Special-token strings
  // (bos_token, eos_token, ...) and the list of special added tokens come from tokenizer_config.json.
  static Result<ChatTemplate> FromModelDir(const std::string& dir);
  // From template text; `special_tokens` is an object such as {"bos_token": "<|startoftext|>"}.
  static Result<ChatTemplate> FromString(const std::string& source,
                                         nlohmann::ordered_json special_tokens = nlohmann::ordered_json::object());

  Result<std::string> Render(const std::vector<Message>& messages, const ChatRenderOptions& options = {}) const;
  Result<std::string> Render(const ChatRequest& request, const ChatRenderOptions& options = {}) const;

  const std::string& source() const { return template_.source(); }
  // bos_token, eos_token, pad_token, unk_token, ... as template variables.
  const nlohmann::ordered_json& special_token_vars() const { return special_vars_; }
  // Contents of every added token marked "special" in tokenizer_config.json (empty when built
  // FromString); the list CheckNoSpecialTokens takes.
  const std::vector<std::string>& special_tokens() const { return special_tokens_; }

 private:
  jinja::Template template_;
  nlohmann::ordered_json special_vars_ = nlohmann::ordered_json::object();
  std::vector<std::string> special_tokens_;
};

// The template text of a tokenizer_config.json (string, or list of {name, template} -> "default").
Result<std::string> ChatTemplateFromTokenizerConfig(const nlohmann::ordered_json& config);

}  // namespace lfm
