// Streaming detokenization: turns ids into text as they are generated, never emitting part of a UTF-8
// character. The concatenation of all Push() results plus Flush() equals Tokenizer::Decode of the same ids
// for byte-level tokenizers (decoders that work token by token).
#pragma once

#include <cstdint>
#include <string>

#include "text/tokenizer.h"

namespace lfm {

class StreamingDetokenizer {
 public:
  // Keeps its own (cheap) copy of the tokenizer.
  explicit StreamingDetokenizer(const Tokenizer& tokenizer, bool skip_special);

  // The text completed by this token (possibly "" while a character is still incomplete).
  std::string Push(int32_t id);
  // Whatever is still pending (an incomplete character comes out as U+FFFD). Resets the stream.
  std::string Flush();

 private:
  Tokenizer tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;  // bytes of an unfinished UTF-8 character
};

}  // namespace lfm
