// ECMA-262-flavoured regular expressions for JSON Schema "pattern", "patternProperties" and the
// "regex" format, implemented with PCRE2 in UTF mode (so "." and classes work on code points).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "lfm/status.h"

namespace lfm {

class EcmaRegex {
 public:
  // Fails with InvalidArgument (message names the pattern and PCRE2's offset) if the pattern does not
  // compile, e.g. unbalanced brackets or lookbehind PCRE2 cannot handle.
  static Result<EcmaRegex> Compile(std::string_view pattern);
  // Unanchored search, as JSON Schema specifies. Invalid UTF-8 in `subject` never matches.
  bool Search(std::string_view subject) const;
  const std::string& pattern() const { return pattern_; }

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
  std::string pattern_;
};

// True if `pattern` is a valid ECMA-262 (unicode mode) regular expression, as far as we can tell:
// PCRE2 must compile it and it must not use PCRE/Python-only syntax such as \a, (?P<..>), (?#..), (?i).
bool IsEcmaRegexSyntax(std::string_view pattern);

}  // namespace lfm
