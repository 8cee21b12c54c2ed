// The {"String": "..."} / {"Regex": "..."} pattern objects of tokenizer.json (Split, Replace).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lfm/status.h"
#include "text/json_fields.h"
#include "text/regex.h"

namespace lfm {

class StringPattern {
 public:
  static Result<StringPattern> FromJson(const tokenizer_json::Json& j, const tokenizer_json::Where& w);
  static StringPattern Literal(std::string s);

  // Non-overlapping matches, left to right, as [start, end) byte ranges (appended to out).
  Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  std::string literal_;
  std::optional<Regex> regex_;
};

}  // namespace lfm
