// Stop strings on a streamed text: finds the first stop string and holds back any tail that could
// still become one, so a streaming client never sees text that is later cut.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lfm {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stops);

  // Appends newly decoded text. Returns the text that is now safe to emit.
  std::string Push(std::string_view piece);
  // True once a stop string was seen; text() then ends just before it.
  bool stopped() const { return stopped_; }
  // Everything emittable at the end of generation (the held-back tail, unless stopped).
  std::string Flush();
  // The full text so far (cut at the stop string once stopped).
  const std::string& text() const { return text_; }

 private:
  std::vector<std::string> stops_;
  std::string text_;
  size_t emitted_ = 0;
  bool stopped_ = false;
};

}  // namespace lfm
