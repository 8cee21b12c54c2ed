// Splits a template into tokens the way Jinja2's lexer does, including its whitespace rules:
// `{%-`/`-%}` stripping, `+` opt-outs, trim_blocks (drop the newline after a block or comment tag)
// and lstrip_blocks (drop the indentation before a block or comment tag).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lfm::jinja {

enum class TokenType { kData, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };

struct Token {
  TokenType type;
  std::string text;  // data, name, decoded string literal, operator
  int64_t int_value = 0;
  double float_value = 0;
  size_t pos = 0;  // byte offset of the token in the normalised source
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Jinja2 normalises newlines (\r\n, \r -> \n) and drops one trailing newline
// (keep_trailing_newline=False) before lexing; positions refer to the result.
std::string NormalizeTemplateSource(std::string_view source);

// Throws jinja::Error with the byte offset on malformed input (unterminated tag/string/comment).
std::vector<Token> Tokenize(const std::string& source, const LexerOptions& options);

}  // namespace lfm::jinja
