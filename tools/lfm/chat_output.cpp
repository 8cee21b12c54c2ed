#include "chat_output.h"

#include <nlohmann/json.hpp>

#include "common_options.h"

namespace lfm::cli {

std::string ChatResultJson(const ChatResult& r, const GenerateOptions& opts) {
  auto j = nlohmann::ordered_json::parse(GenerationJson(r.generation, opts));
  j["content"] = r.content;
  nlohmann::ordered_json calls = nlohmann::ordered_json::array();
  for (const auto& c : r.tool_calls)
    calls.push_back({{"name", c.name}, {"arguments", nlohmann::ordered_json::parse(c.arguments_json)}});
  j["tool_calls"] = calls;
  j["tool_call_errors"] = r.tool_call_errors;
  j["prompt"] = r.prompt;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lfm::cli
