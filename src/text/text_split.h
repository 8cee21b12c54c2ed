// The unit the tokenizer pipeline passes along (HF's PreTokenizedString splits, minus offsets).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lfm {

struct TextSplit {
  std::string text;
  int32_t token_id = -1;   // >= 0: an added token matched in the input; left alone from here on
  bool at_origin = false;  // starts at offset 0 of the original input (Metaspace prepend_scheme "first")
};

// How a Split-like step treats the pieces its pattern matched (HF SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Cuts text at the given non-overlapping matches ([start, end) byte ranges, ascending) following HF
// NormalizedString::split, and returns the resulting non-empty ranges.
std::vector<std::pair<size_t, size_t>> SplitRanges(size_t text_size,
                                                   const std::vector<std::pair<size_t, size_t>>& matches,
                                                   SplitBehavior behavior, bool invert);

// char::is_whitespace (Unicode White_Space).
bool IsUnicodeWhitespace(uint32_t cp);

}  // namespace lfm
