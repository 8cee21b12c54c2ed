#include "text/jinja/lexer.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

#include "base/utf8.h"
#include "text/jinja/error.h"

namespace lfm::jinja {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string RStrip(std::string_view s) {
  size_t e = s.size();
  while (e > 0 && IsSpace(s[e - 1])) --e;
  return std::string(s.substr(0, e));
}

// lstrip_blocks: if only spaces/tabs separate the tag from the start of its line, drop them.
std::string LStripBlock(std::string_view text, bool line_starting) {
  size_t nl = text.rfind('\n');
  size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
  if (l_pos == 0 && !line_starting) return std::string(text);
  if (l_pos == text.size()) return std::string(text);
  for (size_t i = l_pos; i < text.size(); ++i) {
    if (!IsSpace(text[i])) return std::string(text);
  }
  return std::string(text.substr(0, l_pos));
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  Lexer(const std::string& src, const LexerOptions& opt) : s_(src), opt_(opt) {}

  std::vector<Token> Run() {
    size_t pos = 0;
    bool line_starting = true;
    const size_t n = s_.size();
    while (pos < n) {
      size_t p = FindTagStart(pos);
      std::string_view text(s_.data() + pos, p - pos);
      if (p >= n) {
        EmitData(std::string(text), pos);
        break;
      }
      char kind = s_[p + 1];
      char mod = p + 2 < n ? s_[p + 2] : '\0';
      std::string data;
      if (mod == '-') {
        data = RStrip(text);
      } else if (!(mod == '+' && kind != '{') && opt_.lstrip_blocks && kind != '{') {
        data = LStripBlock(text, line_starting);
      } else {
        data = std::string(text);
      }
      EmitData(std::move(data), pos);
      size_t inner = p + 2 + ((mod == '-' || (mod == '+' && kind != '{')) ? 1 : 0);
      if (kind == '#') {
        pos = LexComment(p, inner, line_starting);
      } else if (kind == '%' && IsRawBegin(inner)) {
        pos = LexRaw(p, inner, line_starting);
      } else {
        pos = LexTag(p, inner, kind == '%', line_starting);
      }
    }
    tokens_.push_back(Token{TokenType::kEof, "", 0, 0, n});
    return std::move(tokens_);
  }

 private:
  size_t FindTagStart(size_t from) const {
    size_t i = from;
    while (true) {
      i = s_.find('{', i);
      if (i == std::string::npos || i + 1 >= s_.size()) return s_.size();
      char c = s_[i + 1];
      if (c == '{' || c == '%' || c == '#') return i;
      ++i;
    }
  }

  void EmitData(std::string text, size_t pos) {
    if (!text.empty()) tokens_.push_back(Token{TokenType::kData, std::move(text), 0, 0, pos});
  }

  // After a tag end at `end` (just past the closing delimiter): handles '-' stripping and trim_blocks.
  size_t AfterTagEnd(size_t end, bool minus, bool plus, bool block_like, bool& line_starting) {
    line_starting = false;
    if (minus) {
      size_t q = end;
      while (q < s_.size() && IsSpace(s_[q])) ++q;
      if (q > end && s_[q - 1] == '\n') line_starting = true;
      return q;
    }
    if (block_like && !plus && opt_.trim_blocks && end < s_.size() && s_[end] == '\n') {
      line_starting = true;
      return end + 1;
    }
    return end;
  }

  size_t LexComment(size_t start, size_t inner, bool& line_starting) {
    size_t e = s_.find("#}", inner);
    if (e == std::string::npos) Fail("unexpected end of template: missing end of comment tag", start);
    bool minus = e > inner && s_[e - 1] == '-';
    bool plus = e > inner && s_[e - 1] == '+';
    return AfterTagEnd(e + 2, minus, plus, true, line_starting);
  }

  bool IsRawBegin(size_t inner) const {
    size_t i = inner;
    while (i < s_.size() && IsSpace(s_[i])) ++i;
    if (s_.compare(i, 3, "raw") != 0) return false;
    i += 3;
    if (i < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i])) || s_[i] == '_')) return false;
    while (i < s_.size() && IsSpace(s_[i])) ++i;
    if (i < s_.size() && s_[i] == '-') ++i;
    return s_.compare(i, 2, "%}") == 0;
  }

  size_t LexRaw(size_t start, size_t inner, bool& line_starting) {
    size_t i = s_.find("%}", inner);
    bool minus = s_[i - 1] == '-';
    size_t body = i + 2;
    if (minus) {
      while (body < s_.size() && IsSpace(s_[body])) ++body;
    }
    // Find {% [-+] endraw [-+] %}
    size_t search = body;
    while (true) {
      size_t t = s_.find("{%", search);
      if (t == std::string::npos) Fail("unexpected end of template: missing 'endraw'", start);
      size_t j = t + 2;
      char emod = (j < s_.size() && (s_[j] == '-' || s_[j] == '+')) ? s_[j] : '\0';
      if (emod) ++j;
      while (j < s_.size() && IsSpace(s_[j])) ++j;
      if (s_.compare(j, 6, "endraw") != 0) {
        search = t + 2;
        continue;
      }
      j += 6;
      while (j < s_.size() && IsSpace(s_[j])) ++j;
      bool end_minus = false, end_plus = false;
      if (j < s_.size() && s_[j] == '-') {
        end_minus = true;
        ++j;
      } else if (j < s_.size() && s_[j] == '+') {
        end_plus = true;
        ++j;
      }
      if (s_.compare(j, 2, "%}") != 0) {
        search = t + 2;
        continue;
      }
      std::string_view text(s_.data() + body, t - body);
      std::string data;
      if (emod == '-') {
        data = RStrip(text);
      } else if (emod != '+' && opt_.lstrip_blocks) {
        data = LStripBlock(text, minus && body > i + 2 && s_[body - 1] == '\n');
      } else {
        data = std::string(text);
      }
      EmitData(std::move(data), body);
      return AfterTagEnd(j + 2, end_minus, end_plus, true, line_starting);
    }
  }

  size_t LexTag(size_t start, size_t i, bool block, bool& line_starting) {
    tokens_.push_back(Token{block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", 0, 0, start});
    std::vector<char> stack;
    const size_t n = s_.size();
    while (true) {
      while (i < n && IsSpace(s_[i])) ++i;
      if (i >= n) Fail(block ? "unexpected end of template: missing '%}'" : "unexpected end of template: missing '}}'",
                       start);
      if (stack.empty()) {
        char close = block ? '%' : '}';
        char c0 = s_[i];
        bool minus = c0 == '-' && s_.compare(i + 1, 2, std::string{close, '}'}) == 0;
        bool plus = block && c0 == '+' && s_.compare(i + 1, 2, "%}") == 0;
        if (minus || plus || s_.compare(i, 2, std::string{close, '}'}) == 0) {
          size_t end = i + 2 + ((minus || plus) ? 1 : 0);
          tokens_.push_back(Token{block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", 0, 0, i});
          return AfterTagEnd(end, minus, plus, block, line_starting);
        }
      }
      char c = s_[i];
      if (std::isdigit(static_cast<unsigned char>(c))) {
        i = LexNumber(i);
      } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < n && (std::isalnum(static_cast<unsigned char>(s_[j])) || s_[j] == '_')) ++j;
        tokens_.push_back(Token{TokenType::kName, s_.substr(i, j - i), 0, 0, i});
        i = j;
      } else if (c == '\'' || c == '"') {
        i = LexString(i);
      } else {
        static const char* kOps3[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* o : kOps3) {
          if (s_.compare(i, 2, o) == 0) {
            op = o;
            break;
          }
        }
        if (op.empty()) {
          static const std::string kSingle = "+-*/%~[](){}<>=.:|,;";
          if (kSingle.find(c) == std::string::npos) {
            Fail(std::string("unexpected char '") + c + "'", i);
          }
          op = std::string(1, c);
          if (c == '(' || c == '[' || c == '{') {
            stack.push_back(c);
          } else if (c == ')' || c == ']' || c == '}') {
            char want = c == ')' ? '(' : c == ']' ? '[' : '{';
            if (stack.empty() || stack.back() != want) Fail(std::string("unexpected '") + c + "'", i);
            stack.pop_back();
          }
        }
        tokens_.push_back(Token{TokenType::kOp, op, 0, 0, i});
        i += op.size();
      }
    }
  }

  size_t LexNumber(size_t i) {
    const size_t n = s_.size();
    size_t j = i;
    auto digits = [&](size_t& k) {
      size_t b = k;
      while (k < n && (std::isdigit(static_cast<unsigned char>(s_[k])) || (s_[k] == '_' && k > b))) ++k;
    };
    digits(j);
    bool is_float = false;
    if (j + 1 < n && s_[j] == '.' && std::isdigit(static_cast<unsigned char>(s_[j + 1]))) {
      is_float = true;
      ++j;
      digits(j);
    }
    if (j < n && (s_[j] == 'e' || s_[j] == 'E')) {
      size_t k = j + 1;
      if (k < n && (s_[k] == '+' || s_[k] == '-')) ++k;
      if (k < n && std::isdigit(static_cast<unsigned char>(s_[k]))) {
        is_float = true;
        j = k;
        digits(j);
      }
    }
    std::string text;
    for (size_t k = i; k < j; ++k) {
      if (s_[k] != '_') text += s_[k];
    }
    Token t{is_float ? TokenType::kFloat : TokenType::kInt, text, 0, 0, i};
    if (is_float) {
      t.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str(), &end, 10);
      if (errno == ERANGE) Fail("integer literal too large: " + text, i);
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
    return j;
  }

  size_t LexString(size_t i) {
    const size_t n = s_.size();
    char q = s_[i];
    std::string out;
    size_t j = i + 1;
    while (true) {
      if (j >= n) Fail("unexpected end of string literal", i);
      char c = s_[j];
      if (c == q) break;
      if (c != '\\') {
        out += c;
        ++j;
        continue;
      }
      if (j + 1 >= n) Fail("unexpected end of string literal", i);
      char e = s_[j + 1];
      j += 2;
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        case '\'': out += '\''; break;
        case '"': out += '"'; break;
        case 'a': out += '\a'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'v': out += '\v'; break;
        case '\n': break;  // line continuation
        case 'x':
        case 'u':
        case 'U': {
          int len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < len; ++k) {
            int h = j + k < n ? HexValue(s_[j + k]) : -1;
            if (h < 0) Fail("truncated \\" + std::string(1, e) + " escape in string literal", j);
            cp = cp * 16 + static_cast<uint32_t>(h);
          }
          if (cp > 0x10FFFF) Fail("illegal Unicode character in string literal", j);
          j += static_cast<size_t>(len);
          AppendUtf8(cp, out);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && j < n && s_[j] >= '0' && s_[j] <= '7'; ++k, ++j) {
              cp = cp * 8 + static_cast<uint32_t>(s_[j] - '0');
            }
            AppendUtf8(cp, out);
          } else {
            out += '\\';
            out += e;
          }
      }
    }
    tokens_.push_back(Token{TokenType::kString, std::move(out), 0, 0, i});
    return j + 1;
  }

  const std::string& s_;
  LexerOptions opt_;
  std::vector<Token> tokens_;
};

}  // namespace

std::string NormalizeTemplateSource(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (c == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::vector<Token> Tokenize(const std::string& source, const LexerOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace lfm::jinja
