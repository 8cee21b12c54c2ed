#include "chat_request.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "base/utf8.h"

namespace lfm::cli {

void ChatRequestOptions::Add(CLI::App* sub) {
  auto* p = sub->add_option("-p,--prompt", prompt, "User message");
  auto* f = sub->add_option("-f,--file", prompt_file, "Read the user message from a file (instead of -p)");
  p->excludes(f);
  sub->add_option("--system", system, "System prompt");
  sub->add_option("--messages", messages_file,
                  "JSON file: an array of messages, or {\"messages\": [...], \"tools\": [...], "
                  "\"add_generation_prompt\": true} (OpenAI shapes)");
  sub->add_option("--tools", tools_file, "JSON file with a tools array (OpenAI function-tool shape)");
  sub->add_option("--image", images, "Image file attached to the user message (VL models); repeatable");
  sub->add_flag("--escape-special", escape_special,
                "Defuse special-token strings in request text (any role, tool calls, tool definitions) with a "
                "zero-width space instead of refusing the request");
}

namespace {

// The request-size limit, checked on the file's size (stat) before a byte is read.
Status CheckRequestFileSize(const std::string& path, const AdmissionLimits& limits) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return Status::Ok();  // the reader says why
  if (static_cast<uint64_t>(st.st_size) <= limits.max_request_bytes) return Status::Ok();
  return ResourceExhausted(path + ": " + std::to_string(st.st_size) + " bytes, over the request limit of " +
                           std::to_string(limits.max_request_bytes) +
                           " bytes (AdmissionLimits::max_request_bytes; lfm: --max-request-bytes N)");
}

}  // namespace

Result<std::string> ChatRequestOptions::Build(const AdmissionLimits& limits) const {
  LFM_RETURN_IF_ERROR(CheckRequestFileSize(messages_file, limits));
  LFM_RETURN_IF_ERROR(CheckRequestFileSize(tools_file, limits));
  LFM_RETURN_IF_ERROR(CheckRequestFileSize(prompt_file, limits));
  // Text must be UTF-8; refused here with the flag's or file's name rather than deep inside the engine.
  std::string prompt = this->prompt;
  if (!prompt_file.empty()) {
    LFM_ASSIGN_OR_RETURN(prompt, ReadFileToString(prompt_file, file_limits::kRequest));
    LFM_RETURN_IF_ERROR(CheckUtf8(prompt, prompt_file));
    if (prompt.empty()) return InvalidArgument(prompt_file + ": the prompt file is empty");
  }
  LFM_RETURN_IF_ERROR(CheckUtf8(prompt, "--prompt"));
  LFM_RETURN_IF_ERROR(CheckUtf8(system, "--system"));
  nlohmann::ordered_json request = {{"messages", nlohmann::ordered_json::array()}};
  if (!messages_file.empty()) {
    LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(messages_file, file_limits::kRequest));
    LFM_RETURN_IF_ERROR(CheckUtf8(text, messages_file));
    LFM_ASSIGN_OR_RETURN(nlohmann::ordered_json j, ParseOrderedJson(text, messages_file));
    if (j.is_array()) {
      request["messages"] = j;
    } else if (j.is_object()) {
      request = j;
      if (!request.contains("messages")) return InvalidArgument(messages_file + ": the object has no \"messages\"");
    } else {
      return InvalidArgument(messages_file + ": expected a JSON array of messages or an object with \"messages\"");
    }
  }
  auto& messages = request["messages"];
  if (!messages.is_array()) return InvalidArgument("\"messages\" must be an array");
  if (!system.empty()) {
    if (!messages.empty() && messages[0].is_object() && messages[0].value("role", "") == "system")
      return InvalidArgument("--system given but the messages already start with a system message");
    // object() spelled out: a bare braced list here is read as an array of two pairs, not an object.
    messages.insert(messages.begin(), nlohmann::ordered_json::object({{"role", "system"}, {"content", system}}));
  }
  if (!prompt.empty() || !images.empty()) {
    if (images.empty()) {
      messages.push_back({{"role", "user"}, {"content", prompt}});
    } else {
      // Images first, then the text, as LFM2-VL's examples order them.
      nlohmann::ordered_json parts = nlohmann::ordered_json::array();
      for (const auto& path : images) parts.push_back({{"type", "image"}, {"image", path}});
      if (!prompt.empty()) parts.push_back({{"type", "text"}, {"text", prompt}});
      messages.push_back({{"role", "user"}, {"content", parts}});
    }
  }
  if (messages.empty()) return InvalidArgument("no messages: give -p TEXT, --image FILE or --messages FILE");
  if (!tools_file.empty()) {
    LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(tools_file, file_limits::kRequest));
    LFM_RETURN_IF_ERROR(CheckUtf8(text, tools_file));
    LFM_ASSIGN_OR_RETURN(request["tools"], ParseOrderedJson(text, tools_file));
  }
  return request.dump();
}

}  // namespace lfm::cli
