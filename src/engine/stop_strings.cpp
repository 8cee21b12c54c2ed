#include "engine/stop_strings.h"

#include <algorithm>

namespace lfm {

StopStringMatcher::StopStringMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

std::string StopStringMatcher::Push(std::string_view piece) {
  if (stopped_) return {};
  size_t old_size = text_.size();
  text_.append(piece);
  size_t max_len = 0;
  for (const auto& s : stops_) max_len = std::max(max_len, s.size());
  // A stop string can only end inside the new piece, so search from just before it.
  size_t from = old_size >= max_len ? old_size - max_len + 1 : 0;
  size_t best = std::string::npos;
  for (const auto& s : stops_) best = std::min(best, text_.find(s, from));
  if (best != std::string::npos) {
    stopped_ = true;
    text_.resize(best);
    std::string out = best > emitted_ ? text_.substr(emitted_) : std::string();
    emitted_ = text_.size();
    return out;
  }
  // Hold back the longest tail that is a proper prefix of a stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k) {
      if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  size_t safe = std::max(emitted_, text_.size() - hold);
  std::string out = text_.substr(emitted_, safe - emitted_);
  emitted_ = safe;
  return out;
}

std::string StopStringMatcher::Flush() {
  std::string out = text_.substr(std::min(emitted_, text_.size()));
  emitted_ = text_.size();
  return out;
}

}  // namespace lfm
