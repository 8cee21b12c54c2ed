#include "server/openai_response.h"

namespace lfm::server {

namespace {
OJson NullOr(const std::string& s) { return s.empty() ? OJson(nullptr) : OJson(s); }

std::string Dump(const OJson& j) {
  // Model text is valid UTF-8 by construction (the detokenizer holds back partial characters);
  // replace, never throw, should that ever not hold.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

std::string FinishReason(const Outcome& outcome) {
  if (!outcome.tool_calls.empty()) return "tool_calls";
  const std::string& r = outcome.generation.finish_reason;
  if (r == "length" || r == "context") return "length";
  return "stop";  // eos, a stop string, or a stop by the server
}

OJson Usage(const Generation& g) {
  const int prompt = g.timings.prompt_tokens > 0 ? g.timings.prompt_tokens : static_cast<int>(g.prompt_ids.size());
  const int completion = static_cast<int>(g.ids.size());
  // OpenAI's prompt_tokens_details.cached_tokens: the prompt tokens the prefix cache supplied.
  return OJson{{"prompt_tokens", prompt},
               {"completion_tokens", completion},
               {"total_tokens", prompt + completion},
               {"prompt_tokens_details", OJson{{"cached_tokens", g.timings.cached_prompt_tokens}}}};
}

OJson ToolCallsJson(const ResponseIds& ids, const std::vector<ChatToolCall>& calls, bool with_index) {
  OJson out = OJson::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    OJson c;
    if (with_index) c["index"] = i;
    c["id"] = "call_" + ids.id.substr(ids.id.find('-') + 1) + "_" + std::to_string(i);
    c["type"] = "function";
    c["function"] = {{"name", calls[i].name}, {"arguments", calls[i].arguments_json}};
    out.push_back(std::move(c));
  }
  return out;
}

OJson ChatCompletion(const ResponseIds& ids, const Outcome& outcome) {
  OJson message = {{"role", "assistant"}};
  message["content"] = outcome.content.empty() && !outcome.tool_calls.empty() ? OJson(nullptr) : OJson(outcome.content);
  if (!outcome.tool_calls.empty()) message["tool_calls"] = ToolCallsJson(ids, outcome.tool_calls, false);
  return OJson{{"id", ids.id},
               {"object", "chat.completion"},
               {"created", ids.created},
               {"model", ids.model},
               {"choices", OJson::array({OJson{{"index", 0},
                                               {"message", std::move(message)},
                                               {"logprobs", nullptr},
                                               {"finish_reason", FinishReason(outcome)}}})},
               {"usage", Usage(outcome.generation)},
               {"system_fingerprint", "lfm.cpp"}};
}

OJson ChatChunk(const ResponseIds& ids, OJson delta, const std::string& finish_reason, bool include_usage) {
  OJson j = {{"id", ids.id},
             {"object", "chat.completion.chunk"},
             {"created", ids.created},
             {"model", ids.model},
             {"system_fingerprint", "lfm.cpp"},
             {"choices", OJson::array({OJson{{"index", 0},
                                             {"delta", std::move(delta)},
                                             {"logprobs", nullptr},
                                             {"finish_reason", NullOr(finish_reason)}}})}};
  if (include_usage) j["usage"] = nullptr;
  return j;
}

OJson ChatUsageChunk(const ResponseIds& ids, const Generation& generation) {
  return OJson{{"id", ids.id},
               {"object", "chat.completion.chunk"},
               {"created", ids.created},
               {"model", ids.model},
               {"system_fingerprint", "lfm.cpp"},
               {"choices", OJson::array()},
               {"usage", Usage(generation)}};
}

OJson TextCompletion(const ResponseIds& ids, const Outcome& outcome) {
  return OJson{{"id", ids.id},
               {"object", "text_completion"},
               {"created", ids.created},
               {"model", ids.model},
               {"choices", OJson::array({OJson{{"index", 0},
                                               {"text", outcome.content},
                                               {"logprobs", nullptr},
                                               {"finish_reason", FinishReason(outcome)}}})},
               {"usage", Usage(outcome.generation)},
               {"system_fingerprint", "lfm.cpp"}};
}

OJson TextChunk(const ResponseIds& ids, const std::string& text, const std::string& finish_reason, bool include_usage) {
  OJson j = {{"id", ids.id},
             {"object", "text_completion"},
             {"created", ids.created},
             {"model", ids.model},
             {"choices", OJson::array({OJson{{"index", 0},
                                             {"text", text},
                                             {"logprobs", nullptr},
                                             {"finish_reason", NullOr(finish_reason)}}})}};
  if (include_usage) j["usage"] = nullptr;
  return j;
}

OJson TextUsageChunk(const ResponseIds& ids, const Generation& generation) {
  return OJson{{"id", ids.id},
               {"object", "text_completion"},
               {"created", ids.created},
               {"model", ids.model},
               {"choices", OJson::array()},
               {"usage", Usage(generation)}};
}

std::string SseEvent(const OJson& payload) { return "data: " + Dump(payload) + "\n\n"; }

}  // namespace lfm::server
