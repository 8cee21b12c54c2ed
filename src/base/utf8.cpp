#include "base/utf8.h"

namespace lfm {

int Utf8SequenceLength(uint8_t b) {
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF4) return 4;
  return 0;
}

uint32_t DecodeUtf8(std::string_view s, size_t& i) {
  auto b0 = static_cast<uint8_t>(s[i]);
  int len = Utf8SequenceLength(b0);
  if (len == 1) {
    ++i;
    return b0;
  }
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = b0 & (0xFF >> (len + 1));
  for (int k = 1; k < len; ++k) {
    auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      ++i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  // Reject overlongs, surrogates and out-of-range values.
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++i;
    return 0xFFFD;
  }
  i += len;
  return cp;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t before = i;
    uint32_t cp = DecodeUtf8(s, i);
    if (cp == 0xFFFD && !(i - before == 3 && s.compare(before, 3, "\xEF\xBF\xBD") == 0)) return false;
  }
  return true;
}

size_t CompleteUtf8Prefix(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    auto b = static_cast<uint8_t>(s[n - back]);
    if ((b & 0xC0) == 0x80) continue;  // continuation byte: keep looking for the lead
    int len = Utf8SequenceLength(b);
    if (len > static_cast<int>(back)) {
      // Check that the bytes seen so far are valid continuations; if not, nothing is pending.
      for (size_t k = 1; k < back; ++k)
        if ((static_cast<uint8_t>(s[n - back + k]) & 0xC0) != 0x80) return n;
      return n - back;
    }
    return n;
  }
  return n;
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

size_t FindInvalidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t before = i;
    const uint32_t cp = DecodeUtf8(s, i);
    // DecodeUtf8 returns U+FFFD for bad bytes; a literal U+FFFD (EF BF BD) is fine.
    if (cp == 0xFFFD && !(i - before == 3 && s.compare(before, 3, "\xEF\xBF\xBD") == 0)) return before;
  }
  return std::string_view::npos;
}

Status CheckUtf8(std::string_view text, std::string_view input_name) {
  const size_t bad = FindInvalidUtf8(text);
  if (bad == std::string_view::npos) return Status::Ok();
  return InvalidArgument(std::string(input_name) + ": invalid UTF-8 at byte " + std::to_string(bad));
}

}  // namespace lfm
