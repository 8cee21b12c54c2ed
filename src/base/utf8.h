// UTF-8 helpers shared by the tokenizer, the streaming detokenizer and the grammar engine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lfm/status.h"

namespace lfm {

// Length of the UTF-8 sequence introduced by lead byte b (1..4), or 0 if b cannot start one.
int Utf8SequenceLength(uint8_t b);
// True if s is entirely well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);
// Length of the longest prefix of s that does not end inside an incomplete (but so far valid)
// multi-byte sequence. Invalid bytes count as complete, so a stream never stalls on them.
size_t CompleteUtf8Prefix(std::string_view s);
// Decodes one code point at s[i]; advances i. Invalid bytes decode as U+FFFD and advance by one.
uint32_t DecodeUtf8(std::string_view s, size_t& i);
void AppendUtf8(uint32_t cp, std::string& out);

// Offset of the first byte of s that is not part of a well-formed UTF-8 sequence (a stray
// continuation byte, a truncated sequence, an overlong, a surrogate, a value past U+10FFFF), or
// std::string_view::npos if s is valid UTF-8.
size_t FindInvalidUtf8(std::string_view s);
// Text entering the program must be valid UTF-8 (the policy is to refuse, never to guess): OK, or
// InvalidArgument("<input_name>: invalid UTF-8 at byte N") naming the input and the first bad byte.
Status CheckUtf8(std::string_view text, std::string_view input_name);

}  // namespace lfm
