#include "text/utf8_lossy.h"

#include <cstdint>

namespace lfm {
namespace {

// Length of the well-formed sequence at s[i], or 0 with *bad set to the length of the maximal
// ill-formed prefix (>= 1) to replace by one U+FFFD (Unicode "maximal subpart" practice).
size_t WellFormedLength(std::string_view s, size_t i, size_t* bad) {
  auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  int len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < static_cast<size_t>(len); ++k) {
    if (i + k >= s.size()) break;
    auto b = static_cast<uint8_t>(s[i + k]);
    uint8_t l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
    if (b < l || b > h) break;
  }
  if (k == static_cast<size_t>(len)) return k;
  *bad = k;
  return 0;
}

}  // namespace

void AppendUtf8Lossy(std::string_view s, std::string& out) {
  size_t i = 0, run = 0;  // run: start of the pending well-formed stretch
  while (i < s.size()) {
    if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t bad = 0;
    size_t n = WellFormedLength(s, i, &bad);
    if (n > 0) {
      i += n;
      continue;
    }
    out.append(s.data() + run, i - run);
    out.append("\xEF\xBF\xBD");
    i += bad;
    run = i;
  }
  out.append(s.data() + run, s.size() - run);
}

std::string Utf8Lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  AppendUtf8Lossy(s, out);
  return out;
}

}  // namespace lfm
