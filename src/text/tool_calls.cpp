#include "text/tool_calls.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "base/json_input.h"
#include "base/utf8.h"

namespace lfm {

using Json = nlohmann::ordered_json;

namespace {

struct ParseFailure {
  size_t pos;
  std::string message;
};

constexpr int kMaxDepth = 128;

// Recursive-descent parser over Python literal / call syntax. Throws ParseFailure.
class LiteralParser {
 public:
  explicit LiteralParser(std::string_view s) : s_(s) {}

  size_t pos() const { return i_; }
  bool AtEnd() {
    SkipWs();
    return i_ >= s_.size();
  }

  void SkipWs() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }

  [[noreturn]] void Fail(const std::string& m) { throw ParseFailure{i_, m}; }

  bool Peek(char c) {
    SkipWs();
    return i_ < s_.size() && s_[i_] == c;
  }
  void Expect(char c) {
    SkipWs();
    if (i_ >= s_.size()) Fail(std::string("expected '") + c + "', got end of input");
    if (s_[i_] != c) Fail(std::string("expected '") + c + "', got '" + s_[i_] + "'");
    ++i_;
  }

  bool AtIdentifier() {
    SkipWs();
    return i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_');
  }

  std::string Identifier() {
    SkipWs();
    size_t st = i_;
    if (i_ < s_.size() && (std::isalpha(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) {
      ++i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '.' ||
                                s_[i_] == '-')) {
        ++i_;
      }
    }
    if (st == i_) Fail("expected a name");
    return std::string(s_.substr(st, i_ - st));
  }

  Json Value(int depth = 0) {
    if (depth > kMaxDepth) Fail("literal nested too deeply");
    SkipWs();
    if (i_ >= s_.size()) Fail("expected a value, got end of input");
    char c = s_[i_];
    if (c == '"' || c == '\'') return String();
    if (c == '[' || c == '(') {
      char close = c == '[' ? ']' : ')';
      ++i_;
      Json arr = Json::array();
      while (!Peek(close)) {
        arr.push_back(Value(depth + 1));
        if (!Peek(close)) Expect(',');
      }
      Expect(close);
      return arr;
    }
    if (c == '{') {
      ++i_;
      Json obj = Json::object();
      while (!Peek('}')) {
        size_t key_pos = i_;
        Json key = Value(depth + 1);
        std::string k;
        if (key.is_string()) {
          k = key.get<std::string>();
        } else if (key.is_primitive()) {
          k = key.dump();
        } else {
          throw ParseFailure{key_pos, "dict keys must be strings or numbers"};
        }
        Expect(':');
        obj[k] = Value(depth + 1);
        if (!Peek('}')) Expect(',');
      }
      Expect('}');
      return obj;
    }
    if (c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) return Number();
    if (std::isalpha(static_cast<unsigned char>(c))) {
      size_t st = i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) ++i_;
      std::string_view w = s_.substr(st, i_ - st);
      if (w == "True" || w == "true") return true;
      if (w == "False" || w == "false") return false;
      if (w == "None" || w == "null") return nullptr;
      i_ = st;
      Fail("unexpected name '" + std::string(w) + "' (expected a literal value)");
    }
    Fail(std::string("unexpected character '") + c + "'");
  }

 private:
  Json Number() {
    size_t st = i_;
    if (s_[i_] == '-' || s_[i_] == '+') ++i_;
    bool is_float = false;
    std::string digits;
    if (i_ < s_.size() && (s_[st] == '-' || s_[st] == '+')) digits += s_[st];
    auto take_digits = [&]() {
      size_t b = i_;
      while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || (s_[i_] == '_' && i_ > b))) {
        if (s_[i_] != '_') digits += s_[i_];
        ++i_;
      }
      return i_ > b;
    };
    bool int_part = take_digits();
    if (i_ < s_.size() && s_[i_] == '.') {
      is_float = true;
      digits += '.';
      ++i_;
      bool frac = take_digits();
      if (!int_part && !frac) Fail("malformed number");
    } else if (!int_part) {
      i_ = st;
      Fail("malformed number");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      is_float = true;
      digits += 'e';
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '-' || s_[i_] == '+')) digits += s_[i_++];
      if (!take_digits()) Fail("malformed exponent");
    }
    if (!is_float) {
      errno = 0;
      long long v = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno != ERANGE) return static_cast<int64_t>(v);
    }
    double d = std::strtod(digits.c_str(), nullptr);
    if (!std::isfinite(d)) {
      i_ = st;
      Fail("number out of range");
    }
    return d;
  }

  Json String() {
    char q = s_[i_];
    size_t st = i_;
    ++i_;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) {
        i_ = st;
        Fail("unterminated string");
      }
      char c = s_[i_];
      if (c == q) {
        ++i_;
        break;
      }
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      if (i_ + 1 >= s_.size()) {
        i_ = st;
        Fail("unterminated string");
      }
      char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case '0': out += '\0'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case '/': out += '/'; break;
        case '\n': break;
        case 'x':
        case 'u':
        case 'U': {
          int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_]))) Fail("bad escape sequence");
            char h = s_[i_++];
            cp = cp * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                                            : (std::tolower(h) - 'a' + 10));
          }
          // JSON-style surrogate pair \uD83D\uDE00.
          if (e == 'u' && cp >= 0xD800 && cp <= 0xDBFF && i_ + 5 < s_.size() + 0 && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            uint32_t lo = 0;
            bool ok = true;
            for (int k = 0; k < 4; ++k) {
              char h = s_[i_ + 2 + k];
              if (!std::isxdigit(static_cast<unsigned char>(h))) ok = false;
              lo = lo * 16 + static_cast<uint32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0'
                                                                                              : (std::tolower(h) - 'a' + 10));
            }
            if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
              i_ += 6;
            }
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) Fail("invalid code point in escape");
          AppendUtf8(cp, out);
          break;
        }
        default:
          out += '\\';
          out += e;
      }
    }
    if (!IsValidUtf8(out)) Fail("string is not valid UTF-8");
    return out;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// Parses "[call, call, ...]" (the list brackets optional) into calls; offsets are relative to `body`.
void ParseCallList(std::string_view body, size_t base, std::vector<ParsedToolCall>* calls) {
  LiteralParser p(body);
  bool bracket = p.Peek('[');
  if (bracket) p.Expect('[');
  std::vector<ParsedToolCall> out;
  while (true) {
    if (bracket && p.Peek(']')) break;
    if (!bracket && p.AtEnd()) break;
    ParsedToolCall call;
    p.SkipWs();
    call.offset = base + p.pos();
    if (p.Peek('{')) {
      Json obj = p.Value();
      if (!obj.contains("name") || !obj["name"].is_string()) {
        throw ParseFailure{call.offset - base, "JSON tool call needs a string 'name'"};
      }
      call.name = obj["name"].get<std::string>();
      const char* key = obj.contains("arguments") ? "arguments" : "parameters";
      if (obj.contains(key)) {
        Json args = obj[key];
        if (args.is_string()) {
          auto parsed = ParseOrderedJson(args.get<std::string>(), "tool call arguments");
          if (!parsed.ok()) throw ParseFailure{call.offset - base, parsed.status().message()};
          args = std::move(parsed).value();
        }
        if (!args.is_object()) throw ParseFailure{call.offset - base, "JSON tool call arguments must be an object"};
        call.arguments = std::move(args);
      }
    } else {
      call.name = p.Identifier();
      p.Expect('(');
      while (!p.Peek(')')) {
        p.SkipWs();
        size_t arg_pos = p.pos();
        if (!p.AtIdentifier()) throw ParseFailure{arg_pos, "expected keyword argument 'name=value'"};
        std::string key = p.Identifier();
        if (!p.Peek('=')) throw ParseFailure{arg_pos, "expected keyword argument 'name=value'"};
        p.Expect('=');
        if (call.arguments.contains(key)) throw ParseFailure{arg_pos, "duplicate argument '" + key + "'"};
        call.arguments[key] = p.Value();
        if (!p.Peek(')')) p.Expect(',');
      }
      p.Expect(')');
    }
    out.push_back(std::move(call));
    if (bracket && p.Peek(']')) break;
    if (!bracket && p.AtEnd()) break;
    p.Expect(',');
  }
  if (bracket) p.Expect(']');
  if (!p.AtEnd()) throw ParseFailure{p.pos(), "unexpected text after the tool call list"};
  for (auto& c : out) calls->push_back(std::move(c));
}

}  // namespace

bool ParsePythonLiteral(std::string_view text, Json* out, size_t* error_offset, std::string* error) {
  try {
    LiteralParser p(text);
    Json v = p.Value();
    if (!p.AtEnd()) throw ParseFailure{p.pos(), "unexpected text after the value"};
    *out = std::move(v);
    return true;
  } catch (const ParseFailure& f) {
    if (error_offset) *error_offset = f.pos;
    if (error) *error = f.message;
    return false;
  } catch (const std::exception& e) {
    if (error_offset) *error_offset = 0;
    if (error) *error = e.what();
    return false;
  }
}

ToolCallParseResult ParseToolCalls(std::string_view text, const ToolCallMarkers& markers) {
  ToolCallParseResult r;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t start = markers.start.empty() ? std::string_view::npos : text.find(markers.start, pos);
    if (start == std::string_view::npos) {
      r.content.append(text.substr(pos));
      break;
    }
    r.content.append(text.substr(pos, start - pos));
    size_t body_begin = start + markers.start.size();
    size_t end = text.find(markers.end, body_begin);
    if (end == std::string_view::npos) {
      r.errors.push_back(ToolCallParseError{start, "tool call start marker without an end marker",
                                            std::string(text.substr(start))});
      break;
    }
    std::string_view body = text.substr(body_begin, end - body_begin);
    std::vector<ParsedToolCall> calls;
    try {
      ParseCallList(body, body_begin, &calls);
      for (auto& c : calls) r.calls.push_back(std::move(c));
    } catch (const ParseFailure& f) {
      r.errors.push_back(ToolCallParseError{body_begin + f.pos, f.message,
                                            std::string(text.substr(start, end + markers.end.size() - start))});
    } catch (const std::exception& e) {
      r.errors.push_back(ToolCallParseError{body_begin, e.what(),
                                            std::string(text.substr(start, end + markers.end.size() - start))});
    }
    pos = end + markers.end.size();
  }
  return r;
}

}  // namespace lfm
