#include "text/detokenizer.h"

#include "base/utf8.h"
#include "text/utf8_lossy.h"

namespace lfm {

StreamingDetokenizer::StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special) {}

std::string StreamingDetokenizer::Push(int32_t id) {
  if (id < 0 || id >= tokenizer_.vocab_size()) return "";
  if (skip_special_ && tokenizer_.IsSpecial(id)) return "";
  if (tokenizer_.IdToToken(id).empty()) return "";  // hole in the vocab: Decode skips it too
  pending_ += tokenizer_.TokenBytes(id, first_);
  first_ = false;
  size_t n = CompleteUtf8Prefix(pending_);
  std::string out = Utf8Lossy(std::string_view(pending_).substr(0, n));
  pending_.erase(0, n);
  return out;
}

std::string StreamingDetokenizer::Flush() {
  std::string out = Utf8Lossy(pending_);
  pending_.clear();
  first_ = true;
  return out;
}

}  // namespace lfm
