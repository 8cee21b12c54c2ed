#include "server/openai_request.h"

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace lfm::server {

namespace {

using Json = nlohmann::json;

// Nesting depth of arrays/objects, counted on the text before any tree is built, so a body of
// a million '[' is refused cheaply.
size_t JsonDepth(std::string_view text) {
  size_t depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      max_depth = std::max(max_depth, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return max_depth;
}

std::string TypeName(const Json& v) { return v.type_name(); }

// Reads the body into an object; the error names the problem.
std::optional<ApiError> ParseBody(std::string_view body, const RequestParseOptions& options, Json* out) {
  if (body.empty()) return BadRequest("", "the request body is empty; expected a JSON object");
  if (JsonDepth(body) > options.max_json_depth)
    return BadRequest("", "JSON nesting deeper than " + std::to_string(options.max_json_depth) +
                              " levels (limit max_json_depth)", "limit_exceeded");
  *out = Json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) return BadRequest("", "the request body is not valid JSON");
  if (!out->is_object()) return BadRequest("", "the request body must be a JSON object, got " + TypeName(*out));
  return std::nullopt;
}

std::optional<ApiError> GetNumber(const Json& body, const char* key, double lo, double hi, std::optional<float>* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  const std::string param = std::string("/") + key;
  if (!it->is_number()) return BadRequest(param, "must be a number, got " + TypeName(*it), "invalid_type");
  double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    return BadRequest(param, "must be in [" + Json(lo).dump() + ", " + Json(hi).dump() + "], got " + it->dump());
  *out = static_cast<float>(v);
  return std::nullopt;
}

std::optional<ApiError> GetInt(const Json& body, const char* key, int64_t lo, int64_t hi, std::optional<int64_t>* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  const std::string param = std::string("/") + key;
  // 3.0 is accepted as 3 (JavaScript clients send whole floats); 3.5 is not.
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (!std::isfinite(d) || d != std::floor(d)) return BadRequest(param, "must be an integer, got " + it->dump(), "invalid_type");
    if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
      return BadRequest(param, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + it->dump());
    *out = static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (!it->is_number_integer()) return BadRequest(param, "must be an integer, got " + TypeName(*it), "invalid_type");
  if (it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return BadRequest(param, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + it->dump());
  int64_t v = it->get<int64_t>();
  if (v < lo || v > hi)
    return BadRequest(param, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + it->dump());
  *out = v;
  return std::nullopt;
}

std::optional<ApiError> GetBool(const Json& body, const char* key, bool* out) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return BadRequest(std::string("/") + key, "must be a boolean, got " + TypeName(*it), "invalid_type");
  *out = it->get<bool>();
  return std::nullopt;
}

// Fields that change the answer's meaning in ways lfm.cpp does not implement: refused, not ignored.
std::optional<ApiError> RefuseUnsupported(const Json& body) {
  auto unsupported = [](const std::string& key, const std::string& why) {
    return BadRequest("/" + key, why, "unsupported_parameter");
  };
  if (auto it = body.find("n"); it != body.end() && !it->is_null() && *it != Json(1))
    return unsupported("n", "only n = 1 is supported (one choice per request), got " + it->dump());
  if (auto it = body.find("best_of"); it != body.end() && !it->is_null() && *it != Json(1))
    return unsupported("best_of", "only best_of = 1 is supported, got " + it->dump());
  for (const char* key : {"logprobs", "top_logprobs"}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null() || *it == Json(false) || *it == Json(0)) continue;
    return unsupported(key, "log probabilities are not implemented");
  }
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    auto it = body.find(key);
    if (it == body.end() || it->is_null() || (it->is_number() && it->get<double>() == 0.0)) continue;
    return unsupported(key, "not implemented (use repetition_penalty, llama-server's multiplicative penalty)");
  }
  if (auto it = body.find("logit_bias"); it != body.end() && !it->is_null() && !(it->is_object() && it->empty()))
    return unsupported("logit_bias", "not implemented");
  if (auto it = body.find("echo"); it != body.end() && *it == Json(true))
    return unsupported("echo", "echoing the prompt is not implemented");
  if (auto it = body.find("suffix"); it != body.end() && !it->is_null() && *it != Json(""))
    return unsupported("suffix", "insertion (suffix) is not implemented");
  if (auto it = body.find("modalities"); it != body.end() && !it->is_null() && *it != Json::array({"text"}))
    return unsupported("modalities", "only [\"text\"] output is supported");
  if (auto it = body.find("audio"); it != body.end() && !it->is_null())
    return unsupported("audio", "audio output is not supported");
  return std::nullopt;
}

std::optional<ApiError> ParseSampling(const Json& body, SamplingFields* s) {
  if (auto e = RefuseUnsupported(body)) return e;
  if (auto e = GetNumber(body, "temperature", 0.0, 2.0, &s->temperature)) return e;
  if (auto e = GetNumber(body, "top_p", 0.0, 1.0, &s->top_p)) return e;
  if (auto e = GetNumber(body, "min_p", 0.0, 1.0, &s->min_p)) return e;
  if (auto e = GetNumber(body, "repetition_penalty", 0.01, 100.0, &s->repetition_penalty)) return e;
  if (!s->repetition_penalty) {
    if (auto e = GetNumber(body, "repeat_penalty", 0.01, 100.0, &s->repetition_penalty)) return e;  // llama-server
  }
  std::optional<int64_t> v;
  if (auto e = GetInt(body, "top_k", 0, std::numeric_limits<int32_t>::max(), &v)) return e;
  if (v) s->top_k = static_cast<int>(*v);
  v.reset();
  // Seeds as OpenAI accepts them (any 64-bit integer); a negative one is reinterpreted as unsigned.
  if (auto e = GetInt(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), &v)) return e;
  if (v) s->seed = static_cast<uint64_t>(*v);
  for (const char* key : {"max_completion_tokens", "max_tokens", "n_predict"}) {
    v.reset();
    if (auto e = GetInt(body, key, 1, std::numeric_limits<int32_t>::max(), &v)) return e;
    if (v) {
      s->max_tokens = static_cast<int>(*v);
      break;
    }
  }
  if (auto it = body.find("stop"); it != body.end() && !it->is_null()) {
    if (it->is_string()) {
      s->stop.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      if (it->size() > 4) return BadRequest("/stop", "at most 4 stop strings, got " + std::to_string(it->size()));
      for (size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string())
          return BadRequest("/stop/" + std::to_string(i), "must be a string, got " + TypeName((*it)[i]), "invalid_type");
        s->stop.push_back((*it)[i].get<std::string>());
      }
    } else {
      return BadRequest("/stop", "must be a string or an array of strings, got " + TypeName(*it), "invalid_type");
    }
    for (size_t i = 0; i < s->stop.size(); ++i)
      if (s->stop[i].empty()) return BadRequest("/stop/" + std::to_string(i), "stop strings must not be empty");
  }
  if (auto e = GetBool(body, "ignore_eos", &s->ignore_eos)) return e;
  if (auto e = GetBool(body, "stream", &s->stream)) return e;
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return BadRequest("/stream_options", "must be an object, got " + TypeName(*it), "invalid_type");
    if (auto u = it->find("include_usage"); u != it->end() && !u->is_null()) {
      if (!u->is_boolean()) return BadRequest("/stream_options/include_usage", "must be a boolean", "invalid_type");
      s->include_usage = u->get<bool>();
    }
  }
  return std::nullopt;
}

std::optional<ApiError> SchemaConstraint(const Json& schema, const std::string& param, std::optional<Constraint>* out) {
  if (!schema.is_object() && !schema.is_boolean())
    return BadRequest(param, "a JSON Schema must be an object, got " + TypeName(schema), "invalid_type");
  *out = Constraint{GrammarKind::kJsonSchema, schema.dump(), param};
  return std::nullopt;
}

// response_format (OpenAI), json_schema and grammar (llama-server's fields; grammar is Lark here,
// not GBNF): at most one constraint.
std::optional<ApiError> ParseConstraint(const Json& body, std::optional<Constraint>* out) {
  int given = 0;
  if (auto it = body.find("response_format"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return BadRequest("/response_format", "must be an object, got " + TypeName(*it), "invalid_type");
    auto type = it->find("type");
    if (type == it->end() || !type->is_string())
      return BadRequest("/response_format/type", "must be \"text\", \"json_object\" or \"json_schema\"");
    const std::string t = type->get<std::string>();
    if (t == "json_object") {
      *out = Constraint{GrammarKind::kJsonSchema, R"({"type":"object"})", "/response_format"};
      ++given;
    } else if (t == "json_schema") {
      auto wrapper = it->find("json_schema");
      if (wrapper == it->end() || !wrapper->is_object())
        return BadRequest("/response_format/json_schema",
                          "must be an object {\"name\": ..., \"schema\": {...}, \"strict\": true}", "invalid_type");
      auto schema = wrapper->find("schema");
      if (schema == wrapper->end())
        return BadRequest("/response_format/json_schema/schema", "missing (the JSON Schema to follow)", "missing_required_parameter");
      if (auto e = SchemaConstraint(*schema, "/response_format/json_schema/schema", out)) return e;
      ++given;
    } else if (t != "text") {
      return BadRequest("/response_format/type", "must be \"text\", \"json_object\" or \"json_schema\", got \"" + t + "\"");
    }
  }
  if (auto it = body.find("json_schema"); it != body.end() && !it->is_null()) {
    if (auto e = SchemaConstraint(*it, "/json_schema", out)) return e;
    ++given;
  }
  if (auto it = body.find("grammar"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return BadRequest("/grammar", "must be a string (a Lark grammar)", "invalid_type");
    *out = Constraint{GrammarKind::kLark, it->get<std::string>(), "/grammar"};
    ++given;
  }
  if (given > 1)
    return BadRequest("", "give at most one of response_format (json_object/json_schema), json_schema and grammar");
  return std::nullopt;
}

std::optional<ApiError> CheckImageUrl(const std::string& url, const std::string& param) {
  if (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0)
    return BadRequest(param, "remote image URLs are refused: lfm serve does not fetch from the network; send the "
                             "image inline as a data: URL (data:image/png;base64,...)", "unsupported_value");
  if (url.rfind("data:", 0) != 0)
    return BadRequest(param, "only data: URLs are accepted (data:image/png;base64,...); local paths and file:// URLs "
                             "are never read from a request", "unsupported_value");
  const size_t comma = url.find(',');
  if (comma == std::string::npos || url.substr(0, comma).find(";base64") == std::string::npos)
    return BadRequest(param, "a data URL must be of the form data:image/...;base64,<base64 bytes>");
  auto bytes = DecodeBase64(std::string_view(url).substr(comma + 1));
  if (!bytes) return BadRequest(param, "the data URL's base64 payload does not decode");
  if (bytes->empty()) return BadRequest(param, "the data URL holds no bytes");
  if (SniffImageFormat(*bytes).empty())
    return BadRequest(param, "the data URL's bytes are not a JPEG, PNG, WebP or GIF image");
  return std::nullopt;
}

// Checks one message and rewrites its image parts into the engine's shape.
std::optional<ApiError> ConvertMessage(const Json& in, const std::string& where, Json* out,
                                       std::vector<std::string>* image_params) {
  if (!in.is_object()) return BadRequest(where, "a message must be an object, got " + TypeName(in), "invalid_type");
  auto role = in.find("role");
  if (role == in.end() || !role->is_string())
    return BadRequest(where + "/role", "missing or not a string (system, user, assistant or tool)");
  const std::string r = role->get<std::string>();
  if (r != "system" && r != "user" && r != "assistant" && r != "tool" && r != "developer")
    return BadRequest(where + "/role", "unknown role \"" + r + "\" (system, user, assistant or tool)");
  *out = Json::object();
  // OpenAI's "developer" role is its new name for system instructions.
  (*out)["role"] = r == "developer" ? "system" : r;
  auto content = in.find("content");
  if (content != in.end() && !content->is_null()) {
    if (content->is_string()) {
      (*out)["content"] = *content;
    } else if (content->is_array()) {
      Json parts = Json::array();
      for (size_t j = 0; j < content->size(); ++j) {
        const Json& part = (*content)[j];
        const std::string pw = where + "/content/" + std::to_string(j);
        if (!part.is_object()) return BadRequest(pw, "a content part must be an object", "invalid_type");
        auto type = part.find("type");
        if (type == part.end() || !type->is_string()) return BadRequest(pw + "/type", "missing (\"text\" or \"image_url\")");
        const std::string t = type->get<std::string>();
        if (t == "text") {
          auto text = part.find("text");
          if (text == part.end() || !text->is_string()) return BadRequest(pw + "/text", "missing or not a string");
          parts.push_back(Json{{"type", "text"}, {"text", *text}});
        } else if (t == "image_url") {
          auto iu = part.find("image_url");
          std::string url;
          if (iu != part.end() && iu->is_object() && iu->contains("url") && (*iu)["url"].is_string()) {
            url = (*iu)["url"].get<std::string>();
          } else if (iu != part.end() && iu->is_string()) {
            url = iu->get<std::string>();
          } else {
            return BadRequest(pw + "/image_url", "must be {\"url\": \"data:image/...;base64,...\"}");
          }
          if (auto e = CheckImageUrl(url, pw + "/image_url/url")) return e;
          image_params->push_back(pw);
          parts.push_back(Json{{"type", "image_url"}, {"image_url", {{"url", std::move(url)}}}});
        } else {
          return BadRequest(pw + "/type", "unsupported content part type \"" + t + "\" (\"text\" or \"image_url\")",
                            "unsupported_value");
        }
      }
      (*out)["content"] = std::move(parts);
    } else {
      return BadRequest(where + "/content", "must be a string or an array of parts, got " + TypeName(*content), "invalid_type");
    }
  } else if (r != "assistant") {
    return BadRequest(where + "/content", "missing (only an assistant message with tool_calls may omit it)",
                      "missing_required_parameter");
  }
  if (auto calls = in.find("tool_calls"); calls != in.end() && !calls->is_null()) {
    if (!calls->is_array()) return BadRequest(where + "/tool_calls", "must be an array", "invalid_type");
    (*out)["tool_calls"] = *calls;
  }
  for (const char* key : {"tool_call_id", "name"}) {
    if (auto it = in.find(key); it != in.end() && !it->is_null()) {
      if (!it->is_string()) return BadRequest(where + "/" + key, "must be a string", "invalid_type");
      (*out)[key] = *it;
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ParseTools(const Json& body, Json* engine_request, bool* has_tools) {
  auto tools = body.find("tools");
  if (tools == body.end() || tools->is_null()) return std::nullopt;
  if (!tools->is_array()) return BadRequest("/tools", "must be an array of tools", "invalid_type");
  for (size_t i = 0; i < tools->size(); ++i) {
    const Json& t = (*tools)[i];
    const std::string w = "/tools/" + std::to_string(i);
    if (!t.is_object() || t.value("type", "") != "function")
      return BadRequest(w + "/type", "only {\"type\": \"function\", \"function\": {...}} tools are supported");
    auto f = t.find("function");
    if (f == t.end() || !f->is_object() || !f->contains("name") || !(*f)["name"].is_string())
      return BadRequest(w + "/function/name", "missing or not a string", "missing_required_parameter");
  }
  std::string choice = "auto";
  if (auto it = body.find("tool_choice"); it != body.end() && !it->is_null()) {
    if (!it->is_string())
      return BadRequest("/tool_choice", "forcing a named function is not implemented; use \"auto\" or \"none\"",
                        "unsupported_value");
    choice = it->get<std::string>();
    if (choice == "required")
      return BadRequest("/tool_choice", "\"required\" is not implemented; use \"auto\" or \"none\"", "unsupported_value");
    if (choice != "auto" && choice != "none")
      return BadRequest("/tool_choice", "must be \"auto\" or \"none\", got \"" + choice + "\"");
  }
  // "none": the model is not shown the tools, so it cannot call them.
  if (choice == "none" || tools->empty()) return std::nullopt;
  (*engine_request)["tools"] = *tools;
  *has_tools = true;
  return std::nullopt;
}

std::optional<ApiError> ParseModel(const Json& body, std::string* model) {
  auto it = body.find("model");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return BadRequest("/model", "must be a string", "invalid_type");
  *model = it->get<std::string>();
  return std::nullopt;
}

}  // namespace

Parsed<ChatCompletionRequest> ParseChatCompletionRequest(std::string_view body_text, const RequestParseOptions& options) {
  Json body;
  if (auto e = ParseBody(body_text, options, &body)) return *e;
  ChatCompletionRequest req;
  if (auto e = ParseModel(body, &req.model)) return *e;
  auto messages = body.find("messages");
  if (messages == body.end()) return BadRequest("/messages", "missing (an array of messages)", "missing_required_parameter");
  if (!messages->is_array() || messages->empty())
    return BadRequest("/messages", "must be a non-empty array of messages", "invalid_type");
  Json engine_messages = Json::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    Json m;
    if (auto e = ConvertMessage((*messages)[i], "/messages/" + std::to_string(i), &m, &req.image_params)) return *e;
    engine_messages.push_back(std::move(m));
  }
  Json engine_request = {{"messages", std::move(engine_messages)}};
  if (auto e = ParseTools(body, &engine_request, &req.has_tools)) return *e;
  if (auto e = ParseSampling(body, &req.sampling)) return *e;
  if (auto e = ParseConstraint(body, &req.constraint)) return *e;
  req.engine_request_json = engine_request.dump();
  return req;
}

Parsed<CompletionRequest> ParseCompletionRequest(std::string_view body_text, const RequestParseOptions& options) {
  Json body;
  if (auto e = ParseBody(body_text, options, &body)) return *e;
  CompletionRequest req;
  if (auto e = ParseModel(body, &req.model)) return *e;
  auto prompt = body.find("prompt");
  if (prompt == body.end()) return BadRequest("/prompt", "missing (a string)", "missing_required_parameter");
  if (prompt->is_string()) {
    req.prompt = prompt->get<std::string>();
  } else if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    req.prompt = (*prompt)[0].get<std::string>();
  } else if (prompt->is_array()) {
    return BadRequest("/prompt", "only one prompt per request is supported (a string or an array of one string)",
                      "unsupported_value");
  } else {
    return BadRequest("/prompt", "must be a string, got " + TypeName(*prompt), "invalid_type");
  }
  if (req.prompt.empty()) return BadRequest("/prompt", "must not be empty");
  if (auto e = ParseSampling(body, &req.sampling)) return *e;
  if (auto e = ParseConstraint(body, &req.constraint)) return *e;
  return req;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // After padding only more padding or whitespace may follow; a lone leftover sextet is not base64.
  for (; i < text.size(); ++i)
    if (text[i] != '=' && text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') return std::nullopt;
  if (bits >= 6) return std::nullopt;
  return out;
}

std::string_view SniffImageFormat(std::string_view b) {
  auto starts = [&](std::string_view sig) { return b.size() >= sig.size() && b.substr(0, sig.size()) == sig; };
  if (starts("\xFF\xD8\xFF")) return "jpeg";
  if (starts("\x89PNG\r\n\x1A\n")) return "png";
  if (b.size() >= 12 && starts("RIFF") && b.substr(8, 4) == "WEBP") return "webp";
  if (starts("GIF87a") || starts("GIF89a")) return "gif";
  return "";
}

}  // namespace lfm::server
