#include "text/special_tokens_guard.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "base/utf8.h"

namespace lfm {

using Json = nlohmann::ordered_json;

std::optional<SpecialTokenMatch> FindSpecialToken(std::string_view text, const std::vector<std::string>& special_tokens) {
  std::optional<SpecialTokenMatch> best;
  for (const auto& tok : special_tokens) {
    if (tok.empty()) continue;
    size_t limit = best ? std::min(text.size(), best->offset + tok.size()) : text.size();
    size_t p = text.substr(0, limit).find(tok);
    if (p == std::string_view::npos) continue;
    if (!best || p < best->offset || (p == best->offset && tok.size() > best->token.size())) {
      best = SpecialTokenMatch{p, tok};
    }
  }
  return best;
}

const std::vector<std::string>& Lfm2ChatRoles() {
  static const std::vector<std::string> roles = {"system", "user", "assistant", "tool"};
  return roles;
}

Status CheckRoles(const std::vector<Message>& messages, const std::vector<std::string>& known_roles) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (std::find(known_roles.begin(), known_roles.end(), role) != known_roles.end()) continue;
    std::string expected;
    for (const auto& r : known_roles) expected += (expected.empty() ? "" : ", ") + r;
    // The role is user data: show it as JSON so control bytes or a forged header stay visible.
    return InvalidArgument("messages[" + std::to_string(i) + "].role: unknown role " +
                           Json(role).dump(-1, ' ', true, Json::error_handler_t::replace) +
                           " (this chat template knows " + expected + ")");
  }
  return Status::Ok();
}

namespace {

// Visits every string the template sees, with its JSON path kept in one growing buffer (the path is
// only turned into a message on a hit). `is_key` marks an object key; the visitor may rewrite the
// string in place and returns false to stop the walk.
using Visitor = std::function<bool(std::string& text, const std::string& path, bool is_key)>;

class TemplateStringWalker {
 public:
  explicit TemplateStringWalker(const Visitor& visit) : visit_(visit) {}

  bool Request(ChatRequest& r) {
    if (!Messages(r.messages)) return false;
    if (!r.tools.is_null() && !Value(r.tools, "tools")) return false;
    // Template kwargs are template variables: a top-level "bos_token" would reach the prompt.
    return Object(r.template_kwargs, "");
  }

  bool Messages(std::vector<Message>& messages) {
    for (size_t i = 0; i < messages.size(); ++i) {
      if (!Message1(messages[i], "messages[" + std::to_string(i) + "]")) return false;
    }
    return true;
  }

 private:
  bool Message1(Message& m, const std::string& at) {
    if (m.content_kind == Message::ContentKind::kText && !Visit(m.text, at + ".content", false)) return false;
    for (size_t k = 0; k < m.parts.size(); ++k) {
      // Image parts reach the template as {"type": "image"}; their URL never does.
      if (m.parts[k].type != ContentPart::Type::kText) continue;
      if (!Visit(m.parts[k].text, at + ".content[" + std::to_string(k) + "].text", false)) return false;
    }
    for (size_t k = 0; k < m.tool_calls.size(); ++k) {
      ToolCall& c = m.tool_calls[k];
      const std::string p = at + ".tool_calls[" + std::to_string(k) + "]";
      if (!Visit(c.id, p + ".id", false) || !Visit(c.name, p + ".function.name", false)) return false;
      if (!Value(c.arguments, p + ".function.arguments")) return false;
    }
    return Object(m.extra, at);
  }

  bool Visit(std::string& s, const std::string& path, bool is_key) { return visit_(s, path, is_key); }

  bool Value(Json& j, const std::string& path) {
    if (j.is_string()) return Visit(j.get_ref<std::string&>(), path, false);
    if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) {
        if (!Value(j[i], path + "[" + std::to_string(i) + "]")) return false;
      }
      return true;
    }
    if (j.is_object()) return Object(j, path);
    return true;
  }

  // Keys are checked too: a template that dumps a schema (tools | tojson) writes them verbatim.
  // `path` is the object's own path ("" for the top level of the kwargs).
  bool Object(Json& j, const std::string& path) {
    if (!j.is_object()) return Value(j, path);
    std::vector<std::pair<size_t, std::string>> renamed;  // (member index, new key)
    size_t index = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++index) {
      std::string key = it.key();
      if (!Visit(key, path.empty() ? "(top-level key)" : path, true)) return false;
      if (key != it.key()) renamed.emplace_back(index, std::move(key));
      if (!Value(it.value(), path.empty() ? it.key() : path + "." + it.key())) return false;
    }
    if (renamed.empty()) return true;
    // Keys cannot be renamed in place: rebuild the object, keeping the member order.
    Json rebuilt = Json::object();
    index = 0;
    size_t next = 0;
    for (auto it = j.begin(); it != j.end(); ++it, ++index) {
      const bool rename = next < renamed.size() && renamed[next].first == index;
      rebuilt[rename ? renamed[next++].second : it.key()] = std::move(it.value());
    }
    j = std::move(rebuilt);
    return true;
  }

  const Visitor& visit_;
};

std::string Describe(const std::vector<Message>& messages, const std::string& path) {
  // messages[i]... : name the role too, the first thing a reader looks for.
  if (path.rfind("messages[", 0) != 0) return path;
  size_t close = path.find(']');
  size_t i = std::stoul(path.substr(9, close - 9));
  return path + " (role '" + messages[i].role + "')";
}

Status Check(ChatRequest& request, bool whole_request, const std::vector<std::string>& special_tokens) {
  Status status;
  Visitor visit = [&](std::string& s, const std::string& path, bool is_key) {
    auto m = FindSpecialToken(s, special_tokens);
    if (!m) return true;
    status = InvalidArgument(Describe(request.messages, path) + (is_key ? " has a key that contains" : " contains") +
                             " the special token '" + m->token + "' at byte " + std::to_string(m->offset) +
                             "; special tokens are not allowed in any text that enters the chat template "
                             "(use the escape policy to send it as plain text)");
    return false;
  };
  TemplateStringWalker walker(visit);
  if (whole_request) {
    walker.Request(request);
  } else {
    walker.Messages(request.messages);
  }
  return status;
}

}  // namespace

// The walker rewrites objects in place (keys may change under the escape policy), so the checks
// walk a copy: the caller's request stays untouched.
Status CheckNoSpecialTokens(const ChatRequest& request, const std::vector<std::string>& special_tokens) {
  ChatRequest copy = request;
  return Check(copy, true, special_tokens);
}

Status CheckNoSpecialTokens(const std::vector<Message>& messages, const std::vector<std::string>& special_tokens) {
  ChatRequest copy;
  copy.messages = messages;
  return Check(copy, false, special_tokens);
}

std::string EscapeSpecialTokensInText(std::string_view text, const std::vector<std::string>& special_tokens) {
  static const std::string kZwsp = "\xE2\x80\x8B";
  std::string out;
  std::string_view rest = text;
  // Each pass breaks the earliest occurrence; the inserted ZWSP cannot create a new one unless a
  // special token contains U+200B itself, so bound the passes anyway.
  for (int guard = 0; guard < (1 << 20); ++guard) {
    auto m = FindSpecialToken(rest, special_tokens);
    if (!m) break;
    size_t first_len = 1;
    size_t i = m->offset;
    DecodeUtf8(rest, i);
    first_len = i - m->offset;
    if (first_len >= m->token.size()) {
      // A one-code-point special token cannot be broken up; it is replaced by U+FFFD.
      out.append(rest.substr(0, m->offset));
      out += "\xEF\xBF\xBD";
      rest = rest.substr(m->offset + m->token.size());
      continue;
    }
    out.append(rest.substr(0, m->offset + first_len));
    out += kZwsp;
    rest = rest.substr(m->offset + first_len);
  }
  out.append(rest);
  return out;
}

namespace {

Visitor EscapeVisitor(const std::vector<std::string>& special_tokens) {
  return [&special_tokens](std::string& s, const std::string&, bool) {
    if (FindSpecialToken(s, special_tokens)) s = EscapeSpecialTokensInText(s, special_tokens);
    return true;
  };
}

}  // namespace

void EscapeSpecialTokens(ChatRequest& request, const std::vector<std::string>& special_tokens) {
  Visitor visit = EscapeVisitor(special_tokens);
  TemplateStringWalker(visit).Request(request);
}

void EscapeSpecialTokens(std::vector<Message>& messages, const std::vector<std::string>& special_tokens) {
  Visitor visit = EscapeVisitor(special_tokens);
  TemplateStringWalker(visit).Messages(messages);
}

}  // namespace lfm
