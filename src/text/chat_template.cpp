#include "text/chat_template.h"

#include <algorithm>

#include "base/json_input.h"
#include "base/mapped_file.h"

namespace lfm {

using Json = nlohmann::ordered_json;

namespace {

// Special-token values may be plain strings or serialised AddedToken objects {"content": ...}.
std::optional<std::string> TokenString(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) return v["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

Result<std::string> ChatTemplateFromTokenizerConfig(const Json& config) {
  if (!config.is_object() || !config.contains("chat_template")) {
    return NotFound("tokenizer_config.json has no 'chat_template'");
  }
  const Json& t = config["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array()) {
    for (const auto& e : t) {
      if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string()) {
        return e["template"].get<std::string>();
      }
    }
    return NotFound("tokenizer_config.json: chat_template list has no entry named 'default'");
  }
  return InvalidArgument("tokenizer_config.json: 'chat_template' must be a string or a list of {name, template}");
}

Result<ChatTemplate> ChatTemplate::FromString(const std::string& source, Json special_tokens) {
  auto t = jinja::Template::Parse(source);
  if (!t.ok()) return t.status();
  ChatTemplate ct;
  ct.template_ = std::move(t).value();
  ct.special_vars_ = special_tokens.is_object() ? std::move(special_tokens) : Json::object();
  return ct;
}

Result<ChatTemplate> ChatTemplate::FromModelDir(const std::string& dir) {
  const std::string jinja_path = dir + "/chat_template.jinja";
  const std::string config_path = dir + "/tokenizer_config.json";
  Json config = Json::object();
  if (FileExists(config_path)) {
    LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(config_path, file_limits::kConfig));
    LFM_ASSIGN_OR_RETURN(config, ParseOrderedJson(text, config_path));
    if (!config.is_object()) return InvalidArgument(config_path + ": not a JSON object");
  }
  std::string source;
  std::string origin;
  if (FileExists(jinja_path)) {
    LFM_ASSIGN_OR_RETURN(source, ReadFileToString(jinja_path, file_limits::kChatTemplate));
    origin = jinja_path;
  } else if (config.contains("chat_template")) {
    auto s = ChatTemplateFromTokenizerConfig(config);
    if (!s.ok()) return s.status().WithContext(config_path);
    source = std::move(s).value();
    origin = config_path + " (chat_template)";
  } else {
    return NotFound("no chat template in " + dir + ": neither chat_template.jinja nor a 'chat_template' in "
                    "tokenizer_config.json");
  }
  Json vars = Json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"}) {
    if (config.contains(key)) {
      if (auto s = TokenString(config[key])) vars[key] = *s;
    }
  }
  auto ct = FromString(source, vars);
  if (!ct.ok()) return ct.status().WithContext(origin);
  auto add = [&](const Json& v) {
    auto s = TokenString(v);
    if (!s || s->empty()) return;
    auto& list = ct->special_tokens_;
    if (std::find(list.begin(), list.end(), *s) == list.end()) list.push_back(*s);
  };
  if (config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
    for (const auto& [id, tok] : config["added_tokens_decoder"].items()) {
      if (tok.is_object() && tok.value("special", false)) add(tok);
    }
  }
  // transformers 5 configs drop added_tokens_decoder; the named special tokens are still listed.
  for (auto it = config.begin(); it != config.end(); ++it) {
    const std::string& k = it.key();
    bool named = k.size() > 6 && k.compare(k.size() - 6, 6, "_token") == 0;
    if (named || k == "image_thumbnail") add(it.value());
    if (k == "extra_special_tokens" || k == "additional_special_tokens" || k == "model_specific_special_tokens") {
      if (it->is_array() || it->is_object()) {
        for (const auto& v : *it) add(v);
      }
    }
  }
  return ct;
}

namespace {

std::string Strip(const std::string& s, bool left, bool right) {
  auto sp = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e && sp(s[b])) ++b;
  }
  if (right) {
    while (e > b && sp(s[e - 1])) --e;
  }
  return s.substr(b, e - b);
}

// transformers' continue_final_message: cut the render right after the final message's text.
Result<std::string> CutAfterFinalMessage(std::string rendered, const std::vector<Message>& messages) {
  if (messages.empty()) return InvalidArgument("continue_final_message is set but there are no messages");
  const Message& last = messages.back();
  std::string final;
  bool found = false;
  if (last.content_kind == Message::ContentKind::kText) {
    final = last.text;
    found = true;
  } else if (last.content_kind == Message::ContentKind::kParts) {
    for (auto it = last.parts.rbegin(); it != last.parts.rend(); ++it) {
      if (it->type == ContentPart::Type::kText) {
        final = it->text;
        found = true;
        break;
      }
    }
  }
  if (!found) return InvalidArgument("continue_final_message is set but the final message has no text to continue");
  std::string stripped = Strip(final, true, true);
  size_t loc = rendered.rfind(stripped);
  if (loc == std::string::npos) {
    return InvalidArgument("continue_final_message is set but the final message does not appear in the rendered chat");
  }
  std::string lstripped = Strip(final, true, false);
  // Same test as transformers: does the template keep the message's trailing whitespace?
  if (rendered.substr(loc, lstripped.size()) == final) {
    rendered.resize(loc + lstripped.size());
  } else {
    rendered.resize(loc + stripped.size());
  }
  return rendered;
}

}  // namespace

Result<std::string> ChatTemplate::Render(const std::vector<Message>& messages, const ChatRenderOptions& options) const {
  if (options.continue_final_message && options.add_generation_prompt) {
    return InvalidArgument("continue_final_message and add_generation_prompt cannot both be set");
  }
  Json ctx = special_vars_;
  Json msgs = Json::array();
  for (const auto& m : messages) msgs.push_back(MessageToTemplateJson(m));
  ctx["messages"] = std::move(msgs);
  ctx["tools"] = options.tools;
  ctx["documents"] = nullptr;
  ctx["add_generation_prompt"] = options.add_generation_prompt;
  if (options.continue_final_message) ctx["continue_final_message"] = true;
  if (options.extra_context.is_object()) {
    for (auto it = options.extra_context.begin(); it != options.extra_context.end(); ++it) ctx[it.key()] = it.value();
  }
  jinja::RenderOptions ro;
  ro.limits = options.limits;
  ro.now_unix_seconds = options.now_unix_seconds;
  auto out = template_.Render(ctx, ro);
  if (!out.ok() || !options.continue_final_message) return out;
  return CutAfterFinalMessage(std::move(out).value(), messages);
}

Result<std::string> ChatTemplate::Render(const ChatRequest& request, const ChatRenderOptions& options) const {
  ChatRenderOptions o = options;
  if (!request.tools.is_null()) o.tools = request.tools;
  o.add_generation_prompt = request.add_generation_prompt;
  o.continue_final_message = request.continue_final_message;
  for (auto it = request.template_kwargs.begin(); it != request.template_kwargs.end(); ++it) {
    o.extra_context[it.key()] = it.value();
  }
  return Render(request.messages, o);
}

}  // namespace lfm
