#include "text/text_split.h"

#include <algorithm>

namespace lfm {

std::vector<std::pair<size_t, size_t>> SplitRanges(size_t text_size,
                                                   const std::vector<std::pair<size_t, size_t>>& matches,
                                                   SplitBehavior behavior, bool invert) {
  // 1. Cover the whole text with (range, is_match) pieces, as HF's Pattern::find_matches does.
  struct Piece {
    size_t start, end;
    bool is_match;
  };
  std::vector<Piece> pieces;
  if (text_size == 0) {
    pieces.push_back({0, 0, false});
  } else {
    size_t prev = 0;
    for (auto [s, e] : matches) {
      if (prev != s) pieces.push_back({prev, s, false});
      pieces.push_back({s, e, true});
      prev = e;
    }
    if (prev != text_size) pieces.push_back({prev, text_size, false});
  }
  if (invert)
    for (Piece& p : pieces) p.is_match = !p.is_match;

  // 2. Apply the behaviour: which pieces to keep, and which to glue together.
  std::vector<std::pair<size_t, size_t>> out;
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const Piece& p : pieces) out.emplace_back(p.start, p.end);
      break;
    case SplitBehavior::kRemoved:
      for (const Piece& p : pieces)
        if (!p.is_match) out.emplace_back(p.start, p.end);
      break;
    case SplitBehavior::kContiguous: {
      bool prev_match = false;
      for (const Piece& p : pieces) {
        if (p.is_match == prev_match && !out.empty()) {
          out.back().second = p.end;
        } else {
          out.emplace_back(p.start, p.end);
        }
        prev_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (const Piece& p : pieces) {
        if (p.is_match && !prev_match && !out.empty()) {
          out.back().second = p.end;
        } else {
          out.emplace_back(p.start, p.end);
        }
        prev_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_match = false;
      for (size_t k = pieces.size(); k-- > 0;) {
        const Piece& p = pieces[k];
        if (p.is_match && !prev_match && !out.empty()) {
          out.back().first = p.start;
        } else {
          out.emplace_back(p.start, p.end);
        }
        prev_match = p.is_match;
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  // 3. HF drops empty splits.
  std::vector<std::pair<size_t, size_t>> nonempty;
  nonempty.reserve(out.size());
  for (auto r : out)
    if (r.second > r.first) nonempty.push_back(r);
  return nonempty;
}

bool IsUnicodeWhitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

}  // namespace lfm
