#include "text/messages.h"

#include <utility>

#include "base/json_input.h"

namespace lfm {

using Json = nlohmann::ordered_json;

Message Message::Text(std::string role, std::string text) {
  Message m;
  m.role = std::move(role);
  m.text = std::move(text);
  return m;
}

size_t Message::ImageCount() const {
  size_t n = 0;
  for (const auto& p : parts) n += p.type == ContentPart::Type::kImage ? 1 : 0;
  return n;
}

std::vector<std::string> Message::ImageUrls() const {
  std::vector<std::string> out;
  for (const auto& p : parts) {
    if (p.type == ContentPart::Type::kImage) out.push_back(p.image_url);
  }
  return out;
}

namespace {

std::string Where(size_t index, const std::string& field) {
  return "messages[" + std::to_string(index) + "]" + (field.empty() ? "" : "." + field);
}

Result<ContentPart> ParsePart(const Json& p, size_t index, size_t k) {
  std::string where = Where(index, "content[" + std::to_string(k) + "]");
  if (p.is_string()) return ContentPart{ContentPart::Type::kText, p.get<std::string>(), ""};
  if (!p.is_object()) return InvalidArgument(where + ": a content part must be an object");
  auto type_it = p.find("type");
  if (type_it == p.end() || !type_it->is_string()) return InvalidArgument(where + ": missing string field 'type'");
  std::string type = type_it->get<std::string>();
  ContentPart part;
  if (type == "text" || type == "input_text") {
    auto t = p.find("text");
    if (t == p.end() || !t->is_string()) return InvalidArgument(where + ": text part needs a string 'text'");
    part.text = t->get<std::string>();
    return part;
  }
  if (type == "image_url" || type == "image" || type == "input_image") {
    part.type = ContentPart::Type::kImage;
    for (const char* key : {"image_url", "image", "url", "path"}) {
      auto it = p.find(key);
      if (it == p.end()) continue;
      if (it->is_string()) {
        part.image_url = it->get<std::string>();
      } else if (it->is_object() && it->contains("url") && (*it)["url"].is_string()) {
        part.image_url = (*it)["url"].get<std::string>();
      }
      if (!part.image_url.empty()) break;
    }
    return part;
  }
  return InvalidArgument(where + ": unsupported content part type '" + type + "' (expected text or image)");
}

Result<ToolCall> ParseToolCall(const Json& c, size_t index, size_t k) {
  std::string where = Where(index, "tool_calls[" + std::to_string(k) + "]");
  if (!c.is_object()) return InvalidArgument(where + ": must be an object");
  ToolCall call;
  if (c.contains("id") && c["id"].is_string()) call.id = c["id"].get<std::string>();
  const Json* fn = &c;
  if (c.contains("function")) {
    if (!c["function"].is_object()) return InvalidArgument(where + ".function: must be an object");
    fn = &c["function"];
  }
  if (!fn->contains("name") || !(*fn)["name"].is_string()) {
    return InvalidArgument(where + ".function.name: missing or not a string");
  }
  call.name = (*fn)["name"].get<std::string>();
  if (fn->contains("arguments")) {
    const Json& a = (*fn)["arguments"];
    if (a.is_string()) {
      // Arguments that are not a JSON object (or nest too deep) stay the string they were.
      auto parsed = ParseOrderedJson(a.get<std::string>(), where + ".function.arguments");
      call.arguments = parsed.ok() && parsed->is_object() ? std::move(parsed).value() : a;
    } else if (a.is_object() || a.is_null()) {
      call.arguments = a.is_null() ? Json::object() : a;
    } else {
      return InvalidArgument(where + ".function.arguments: must be a JSON object or a string");
    }
  }
  return call;
}

Result<Message> ParseMessage(const Json& j, size_t index) {
  if (!j.is_object()) return InvalidArgument(Where(index, "") + ": a message must be a JSON object");
  Message m;
  auto role = j.find("role");
  if (role == j.end() || !role->is_string()) return InvalidArgument(Where(index, "role") + ": missing or not a string");
  m.role = role->get<std::string>();
  if (m.role.empty()) return InvalidArgument(Where(index, "role") + ": empty");
  auto content = j.find("content");
  if (content == j.end() || content->is_null()) {
    m.content_kind = Message::ContentKind::kNone;
  } else if (content->is_string()) {
    m.text = content->get<std::string>();
  } else if (content->is_array()) {
    m.content_kind = Message::ContentKind::kParts;
    for (size_t k = 0; k < content->size(); ++k) {
      LFM_ASSIGN_OR_RETURN(ContentPart part, ParsePart((*content)[k], index, k));
      m.parts.push_back(std::move(part));
    }
  } else {
    return InvalidArgument(Where(index, "content") + ": must be a string, an array of parts or null");
  }
  if (j.contains("tool_calls") && !j["tool_calls"].is_null()) {
    const Json& calls = j["tool_calls"];
    if (!calls.is_array()) return InvalidArgument(Where(index, "tool_calls") + ": must be an array");
    for (size_t k = 0; k < calls.size(); ++k) {
      LFM_ASSIGN_OR_RETURN(ToolCall call, ParseToolCall(calls[k], index, k));
      m.tool_calls.push_back(std::move(call));
    }
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "role" || it.key() == "content" || it.key() == "tool_calls") continue;
    m.extra[it.key()] = it.value();
  }
  return m;
}

}  // namespace

Result<std::vector<Message>> ParseMessagesJson(const Json& j) {
  if (!j.is_array()) return InvalidArgument("messages: expected a JSON array of messages");
  std::vector<Message> out;
  for (size_t i = 0; i < j.size(); ++i) {
    LFM_ASSIGN_OR_RETURN(Message m, ParseMessage(j[i], i));
    out.push_back(std::move(m));
  }
  return out;
}

Result<ChatRequest> ParseChatRequestJson(const Json& j) {
  ChatRequest req;
  if (j.is_array()) {
    LFM_ASSIGN_OR_RETURN(req.messages, ParseMessagesJson(j));
    return req;
  }
  if (!j.is_object()) return InvalidArgument("chat request: expected an array of messages or an object");
  if (!j.contains("messages")) return InvalidArgument("chat request: missing 'messages'");
  LFM_ASSIGN_OR_RETURN(req.messages, ParseMessagesJson(j["messages"]));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    if (k == "messages") continue;
    if (k == "tools") {
      if (!it->is_null() && !it->is_array()) return InvalidArgument("chat request: 'tools' must be an array");
      req.tools = *it;
    } else if (k == "add_generation_prompt") {
      if (!it->is_boolean()) return InvalidArgument("chat request: 'add_generation_prompt' must be a boolean");
      req.add_generation_prompt = it->get<bool>();
    } else if (k == "continue_final_message") {
      if (!it->is_boolean()) return InvalidArgument("chat request: 'continue_final_message' must be a boolean");
      req.continue_final_message = it->get<bool>();
    } else if (k == "chat_template_kwargs") {
      if (!it->is_object()) return InvalidArgument("chat request: 'chat_template_kwargs' must be an object");
      for (auto kv = it->begin(); kv != it->end(); ++kv) req.template_kwargs[kv.key()] = kv.value();
    } else {
      req.template_kwargs[k] = *it;
    }
  }
  return req;
}

Json MessageToTemplateJson(const Message& m) {
  Json j = Json::object();
  j["role"] = m.role;
  switch (m.content_kind) {
    case Message::ContentKind::kNone: j["content"] = nullptr; break;
    case Message::ContentKind::kText: j["content"] = m.text; break;
    case Message::ContentKind::kParts: {
      Json parts = Json::array();
      for (const auto& p : m.parts) {
        if (p.type == ContentPart::Type::kImage) {
          parts.push_back(Json{{"type", "image"}});
        } else {
          parts.push_back(Json{{"type", "text"}, {"text", p.text}});
        }
      }
      j["content"] = std::move(parts);
      break;
    }
  }
  if (!m.tool_calls.empty()) {
    Json calls = Json::array();
    for (const auto& c : m.tool_calls) {
      Json call = Json::object();
      if (!c.id.empty()) call["id"] = c.id;
      call["type"] = "function";
      call["function"] = Json{{"name", c.name}, {"arguments", c.arguments}};
      calls.push_back(std::move(call));
    }
    j["tool_calls"] = std::move(calls);
  }
  for (auto it = m.extra.begin(); it != m.extra.end(); ++it) j[it.key()] = it.value();
  return j;
}

}  // namespace lfm
