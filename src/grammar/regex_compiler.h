// Regex syntax (ECMA-262 / Rust-regex subset) -> byte-level RxId.
// Patterns are parsed into code-point classes; each class is expanded to the UTF-8 byte sequences of
// its members (raw text), or to their canonical JSON-escaped forms (inside a JSON string literal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grammar/regex.h"
#include "lfm/status.h"

namespace lfm::grammar {

using CodepointRanges = std::vector<std::pair<uint32_t, uint32_t>>;  // inclusive, sorted, disjoint

enum class CharEncoding {
  kUtf8,        // characters as their UTF-8 bytes
  kJsonString,  // characters as they appear inside a JSON string literal (canonical escapes)
};

struct RegexSyntax {
  bool search = false;          // JSON Schema `pattern`: unanchored unless ^/$ are present
  bool ecma_dot = true;         // '.' excludes \n \r U+2028 U+2029 (ECMA); else only \n (Rust)
  bool case_insensitive = false;
  bool dot_all = false;
};

class RegexCompiler {
 public:
  explicit RegexCompiler(RegexBuilder* rx) : rx_(rx) {}

  // Parses and lowers `pattern`; errors name the byte offset.
  // Patterns longer than kMaxPatternBytes are refused (ResourceExhausted): a regex that size is an
  // alternation of thousands of branches, whose lexer takes seconds and hundreds of MB to build.
  Result<RxId> Compile(std::string_view pattern, CharEncoding enc, const RegexSyntax& syntax = {});
  static constexpr size_t kMaxPatternBytes = 32768;
  // One character from `ranges`, encoded.
  RxId Class(const CodepointRanges& ranges, CharEncoding enc);
  // Any one Unicode scalar value, encoded (cached).
  RxId AnyChar(CharEncoding enc);
  // A complete JSON string literal (with quotes) whose decoded content matches `content` (a regex over
  // the JSON-escaped content), e.g. JsonQuoted(Repeat(AnyChar(kJsonString), 0, kRxInf)).
  RxId JsonQuoted(RxId content);
  // The canonical JSON encoding of a UTF-8 string's content (no quotes).
  static std::string JsonEscape(std::string_view utf8);

  RegexBuilder* builder() { return rx_; }

 private:
  RxId Utf8Range(uint32_t lo, uint32_t hi);
  RegexBuilder* rx_;
  RxId any_utf8_ = UINT32_MAX, any_json_ = UINT32_MAX;
};

}  // namespace lfm::grammar
