#include "grammar/json_schema_validator_regex.h"

#include "base/utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace lfm {

struct EcmaRegex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() { pcre2_code_free(code); }
};

// ECMA-262 differs from PCRE2 in a few escapes. We translate what matters for schemas:
// \d, \w, \b stay ASCII (PCRE2 default without UCP), \s must include Unicode spaces, \v is the VT
// character, \uXXXX and \u{X} are handled by (EXTRA_)ALT_BSUX, "[^]" by PCRE2_ALLOW_EMPTY_CLASS, "$" only
// at the very end (DOLLAR_ENDONLY), and \p{Letter}-style long property names map to PCRE2's short ones.
namespace {

constexpr const char* kEcmaSpace =
    "\\x09\\x0a\\x0b\\x0c\\x0d\\x20\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";

std::string PropertyName(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kMap[] = {
      {"Letter", "L"}, {"Cased_Letter", "L&"}, {"Uppercase_Letter", "Lu"}, {"Lowercase_Letter", "Ll"},
      {"Titlecase_Letter", "Lt"}, {"Modifier_Letter", "Lm"}, {"Other_Letter", "Lo"}, {"Mark", "M"},
      {"Nonspacing_Mark", "Mn"}, {"Spacing_Mark", "Mc"}, {"Enclosing_Mark", "Me"}, {"Number", "N"},
      {"Decimal_Number", "Nd"}, {"digit", "Nd"}, {"Letter_Number", "Nl"}, {"Other_Number", "No"},
      {"Punctuation", "P"}, {"punct", "P"}, {"Connector_Punctuation", "Pc"}, {"Dash_Punctuation", "Pd"},
      {"Open_Punctuation", "Ps"}, {"Close_Punctuation", "Pe"}, {"Initial_Punctuation", "Pi"},
      {"Final_Punctuation", "Pf"}, {"Other_Punctuation", "Po"}, {"Symbol", "S"}, {"Math_Symbol", "Sm"},
      {"Currency_Symbol", "Sc"}, {"Modifier_Symbol", "Sk"}, {"Other_Symbol", "So"}, {"Separator", "Z"},
      {"Space_Separator", "Zs"}, {"Line_Separator", "Zl"}, {"Paragraph_Separator", "Zp"}, {"Other", "C"},
      {"Control", "Cc"}, {"cntrl", "Cc"}, {"Format", "Cf"}, {"Unassigned", "Cn"}, {"Private_Use", "Co"},
      {"Surrogate", "Cs"}};
  for (auto prefix : {std::string_view("General_Category="), std::string_view("gc="),
                      std::string_view("Script="), std::string_view("sc="), std::string_view("Script_Extensions="),
                      std::string_view("scx=")}) {
    if (name.substr(0, prefix.size()) == prefix) name = name.substr(prefix.size());
  }
  for (const auto& [from, to] : kMap) {
    if (name == from) return std::string(to);
  }
  return std::string(name);
}

std::string TranslateEcma(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 16);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char n = p[i + 1];
      if (n == 's' || n == 'S') {
        if (n == 's') out += in_class ? std::string(kEcmaSpace) : "[" + std::string(kEcmaSpace) + "]";
        else out += in_class ? std::string("\\S") : "[^" + std::string(kEcmaSpace) + "]";
        ++i;
        continue;
      }
      if (n == 'v') {
        out += "\\x0b";
        ++i;
        continue;
      }
      if ((n == 'p' || n == 'P') && i + 2 < p.size() && p[i + 2] == '{') {
        size_t close = p.find('}', i + 3);
        if (close != std::string_view::npos) {
          out += '\\';
          out += n;
          out += '{';
          out += PropertyName(p.substr(i + 3, close - i - 3));
          out += '}';
          i = close;
          continue;
        }
      }
      out += c;
      out += n;
      ++i;
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

Result<EcmaRegex> EcmaRegex::Compile(std::string_view pattern) {
  std::string translated = TranslateEcma(pattern);
  int err = 0;
  PCRE2_SIZE off = 0;
  // Not PCRE2_MATCH_INVALID_UTF: with JIT in PCRE2 10.42 it makes \D and \W miss non-ASCII characters.
  // Search() checks UTF-8 itself instead.
  uint32_t opts = PCRE2_UTF | PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_DOLLAR_ENDONLY;
  pcre2_compile_context* cctx = pcre2_compile_context_create(nullptr);
  if (cctx != nullptr) pcre2_set_compile_extra_options(cctx, PCRE2_EXTRA_ALT_BSUX);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(), opts,
                                   &err, &off, cctx);
  pcre2_compile_context_free(cctx);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return InvalidArgument("invalid regular expression '" + std::string(pattern) + "' at offset " +
                           std::to_string(off) + ": " + reinterpret_cast<const char*>(buf));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // optional speed-up; interpretation still works if it fails
  auto impl = std::make_shared<Impl>();
  impl->code = code;
  EcmaRegex r;
  r.impl_ = std::move(impl);
  r.pattern_ = std::string(pattern);
  return r;
}

bool IsEcmaRegexSyntax(std::string_view p) {
  // Constructs PCRE2 accepts but ECMA-262 (unicode mode) does not.
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    if (p[i] == '\\') {
      char n = p[i + 1];
      if ((n >= 'a' && n <= 'z') || (n >= 'A' && n <= 'Z')) {
        if (std::string_view("dDwWsSbBfnrtvcxupPk").find(n) == std::string_view::npos) return false;
      }
      ++i;
      continue;
    }
    if (p[i] == '(' && p[i + 1] == '?') {
      std::string_view rest = p.substr(i + 2);
      bool ok = !rest.empty() && (rest[0] == ':' || rest[0] == '=' || rest[0] == '!' ||
                                  rest.substr(0, 2) == "<=" || rest.substr(0, 2) == "<!" ||
                                  (rest[0] == '<' && rest.size() > 1));
      if (!ok) return false;
    }
  }
  return EcmaRegex::Compile(p).ok();
}

bool EcmaRegex::Search(std::string_view subject) const {
  if (!impl_ || !IsValidUtf8(subject)) return false;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (md == nullptr) return false;
  int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, PCRE2_NO_UTF_CHECK, md,
                       nullptr);
  pcre2_match_data_free(md);
  return rc >= 0;
}

}  // namespace lfm
