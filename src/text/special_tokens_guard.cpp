#include "text/special_tokens_guard.h"

#include <algorithm>
#include <functional>

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

const std::vector<std::string>& DefaultGuardedRoles() {
  static const std::vector<std::string> roles = {"user", "tool"};
  return roles;
}

namespace {

bool Guarded(const std::string& role, const std::vector<std::string>& roles) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

// Visits every string a message contributes to the prompt, with a field path for messages.
void ForEachString(Message& m, const std::function<void(std::string&, const std::string&)>& fn) {
  if (m.content_kind == Message::ContentKind::kText) fn(m.text, "content");
  for (size_t k = 0; k < m.parts.size(); ++k) {
    if (m.parts[k].type == ContentPart::Type::kText) fn(m.parts[k].text, "content[" + std::to_string(k) + "].text");
  }
  std::function<void(Json&, const std::string&)> walk = [&](Json& j, const std::string& path) {
    if (j.is_string()) {
      std::string s = j.get<std::string>();
      std::string before = s;
      fn(s, path);
      if (s != before) j = s;
    } else if (j.is_array()) {
      for (size_t i = 0; i < j.size(); ++i) walk(j[i], path + "[" + std::to_string(i) + "]");
    } else if (j.is_object()) {
      for (auto it = j.begin(); it != j.end(); ++it) walk(it.value(), path + "." + it.key());
    }
  };
  for (size_t k = 0; k < m.tool_calls.size(); ++k) {
    std::string p = "tool_calls[" + std::to_string(k) + "].function";
    fn(m.tool_calls[k].name, p + ".name");
    walk(m.tool_calls[k].arguments, p + ".arguments");
  }
  for (auto it = m.extra.begin(); it != m.extra.end(); ++it) walk(it.value(), it.key());
}

}  // namespace

Status CheckNoSpecialTokens(const std::vector<Message>& messages, const std::vector<std::string>& special_tokens,
                            const std::vector<std::string>& roles) {
  for (size_t i = 0; i < messages.size(); ++i) {
    if (!Guarded(messages[i].role, roles)) continue;
    Message copy = messages[i];
    Status status;
    ForEachString(copy, [&](std::string& s, const std::string& field) {
      if (!status.ok()) return;
      if (auto m = FindSpecialToken(s, special_tokens)) {
        status = InvalidArgument("messages[" + std::to_string(i) + "] (role '" + messages[i].role + "') " + field +
                                 " contains the special token '" + m->token + "' at byte " +
                                 std::to_string(m->offset) +
                                 "; special tokens are not allowed in message text (use the escape policy to "
                                 "send it as plain text)");
      }
    });
    if (!status.ok()) return status;
  }
  return Status::Ok();
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

void EscapeSpecialTokens(std::vector<Message>& messages, const std::vector<std::string>& special_tokens,
                         const std::vector<std::string>& roles) {
  for (auto& m : messages) {
    if (!Guarded(m.role, roles)) continue;
    ForEachString(m, [&](std::string& s, const std::string&) { s = EscapeSpecialTokensInText(s, special_tokens); });
  }
}

}  // namespace lfm
