// PCRE2 (UTF + Unicode properties, JIT) behind the match semantics HF tokenizers get from Oniguruma:
// leftmost non-overlapping matches, with an empty match refused right where the previous match ended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lfm/status.h"

namespace lfm {

// The pattern rewritten so PCRE2 gives Oniguruma's meaning: \s and \S become Unicode White_Space
// classes. Exposed for tests.
std::string OnigCompatiblePattern(std::string_view pattern);

class Regex {
 public:
  // `where` names the pattern's place in the file for the error message.
  static Result<Regex> Compile(std::string_view pattern, const std::string& where);

  // All matches in text (which must be valid UTF-8) as [start, end) byte ranges, appended to out.
  // Fails only on a PCRE2 resource limit (e.g. pathological backtracking), naming the pattern,
  // its place in tokenizer.json and the byte offset where the failed search started.
  Status FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

  // PCRE2's match limit (backtracking steps per search) for every later FindAll in the process;
  // 0 restores PCRE2's default (10 million). Tests lower it to reach the limit with short inputs.
  static void SetMatchLimitForTesting(uint32_t limit);

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
};

}  // namespace lfm
