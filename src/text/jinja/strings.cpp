#include "text/jinja/strings.h"

#include <algorithm>

#include "base/utf8.h"
#include "text/jinja/error.h"

namespace lfm::jinja {

bool PyIsSpace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20) || cp == 0x85 || cp == 0xa0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f ||
         cp == 0x3000;
}

uint32_t PyToUpper(uint32_t cp) {
  if (cp >= 'a' && cp <= 'z') return cp - 32;
  if (cp < 0x80) return cp;
  if (cp == 0xb5) return 0x39c;
  if (cp >= 0xe0 && cp <= 0xfe && cp != 0xf7) return cp - 32;
  if (cp == 0xff) return 0x178;
  if (cp >= 0x100 && cp <= 0x137 && (cp & 1)) return cp - 1;
  if (cp >= 0x139 && cp <= 0x148 && !(cp & 1)) return cp - 1;
  if (cp >= 0x14a && cp <= 0x177 && (cp & 1)) return cp - 1;
  if (cp == 0x17a || cp == 0x17c || cp == 0x17e) return cp - 1;
  if (cp >= 0x3b1 && cp <= 0x3c9 && cp != 0x3c2) return cp - 32;
  if (cp == 0x3c2) return 0x3a3;
  if (cp >= 0x430 && cp <= 0x44f) return cp - 32;
  if (cp >= 0x450 && cp <= 0x45f) return cp - 80;
  return cp;
}

uint32_t PyToLower(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0x80) return cp;
  if (cp >= 0xc0 && cp <= 0xde && cp != 0xd7) return cp + 32;
  if (cp == 0x178) return 0xff;
  if (cp >= 0x100 && cp <= 0x137 && !(cp & 1)) return cp + 1;
  if (cp >= 0x139 && cp <= 0x148 && (cp & 1)) return cp + 1;
  if (cp >= 0x14a && cp <= 0x177 && !(cp & 1)) return cp + 1;
  if (cp == 0x179 || cp == 0x17b || cp == 0x17d) return cp + 1;
  if (cp >= 0x391 && cp <= 0x3a9 && cp != 0x3a2) return cp + 32;
  if (cp >= 0x410 && cp <= 0x42f) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40f) return cp + 80;
  return cp;
}

bool PyIsUpperCase(uint32_t cp) { return PyToLower(cp) != cp; }
bool PyIsLowerCase(uint32_t cp) { return PyToUpper(cp) != cp || cp == 0xdf; }
bool PyIsAlpha(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp == 0xd7 || cp == 0xf7) return false;
  if (cp < 0xc0) return cp == 0xaa || cp == 0xb5 || cp == 0xba;
  // Treat letters of the scripts above and CJK/other scripts as alphabetic; punctuation blocks are not.
  if (cp >= 0x2000 && cp <= 0x2bff) return false;
  if (cp >= 0x3000 && cp <= 0x303f) return false;
  if (cp >= 0xff00 && cp <= 0xff20) return false;
  if (cp >= 0x1f000) return false;
  return true;
}

namespace {
template <typename F>
std::string MapCodePoints(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) AppendUtf8(f(DecodeUtf8(s, i)), out);
  return out;
}
}  // namespace

std::string PyUpper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp = DecodeUtf8(s, i);
    if (cp == 0xdf) {
      out += "SS";
    } else {
      AppendUtf8(PyToUpper(cp), out);
    }
  }
  return out;
}
std::string PyLower(std::string_view s) { return MapCodePoints(s, PyToLower); }

std::string PyCapitalize(std::string_view s) {
  std::string out;
  size_t i = 0;
  bool first = true;
  while (i < s.size()) {
    uint32_t cp = DecodeUtf8(s, i);
    AppendUtf8(first ? PyToUpper(cp) : PyToLower(cp), out);
    first = false;
  }
  return out;
}

std::string PyTitle(std::string_view s) {
  std::string out;
  size_t i = 0;
  bool prev_cased = false;
  while (i < s.size()) {
    uint32_t cp = DecodeUtf8(s, i);
    bool cased = PyIsUpperCase(cp) || PyIsLowerCase(cp);
    AppendUtf8(prev_cased ? PyToLower(cp) : PyToUpper(cp), out);
    prev_cased = cased;
  }
  return out;
}

std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left, bool right) {
  std::vector<std::pair<size_t, size_t>> cps;  // (start, end) of each code point
  size_t i = 0;
  std::vector<uint32_t> vals;
  while (i < s.size()) {
    size_t st = i;
    vals.push_back(DecodeUtf8(s, i));
    cps.emplace_back(st, i);
  }
  std::vector<uint32_t> set;
  if (chars) {
    size_t k = 0;
    while (k < chars->size()) set.push_back(DecodeUtf8(*chars, k));
  }
  auto strip_it = [&](uint32_t cp) {
    return chars ? std::find(set.begin(), set.end(), cp) != set.end() : PyIsSpace(cp);
  };
  size_t b = 0, e = vals.size();
  if (left) {
    while (b < e && strip_it(vals[b])) ++b;
  }
  if (right) {
    while (e > b && strip_it(vals[e - 1])) --e;
  }
  if (b >= e) return "";
  return std::string(s.substr(cps[b].first, cps[e - 1].second - cps[b].first));
}

std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep, int64_t maxsplit,
                                 bool from_right) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) throw Error("empty separator");
    if (!from_right) {
      size_t start = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        size_t p = s.find(*sep, start);
        if (p == std::string_view::npos) break;
        out.emplace_back(s.substr(start, p - start));
        start = p + sep->size();
      }
      out.emplace_back(s.substr(start));
    } else {
      size_t end = s.size();
      std::vector<std::string> rev;
      while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
        if (end < sep->size()) break;
        size_t p = s.rfind(*sep, end - sep->size());
        if (p == std::string_view::npos) break;
        rev.emplace_back(s.substr(p + sep->size(), end - p - sep->size()));
        end = p;
      }
      rev.emplace_back(s.substr(0, end));
      out.assign(rev.rbegin(), rev.rend());
    }
    return out;
  }
  // Whitespace split.
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  size_t word_start = std::string_view::npos;
  while (i < s.size()) {
    size_t st = i;
    uint32_t cp = DecodeUtf8(s, i);
    if (PyIsSpace(cp)) {
      if (word_start != std::string_view::npos) {
        words.emplace_back(word_start, st);
        word_start = std::string_view::npos;
      }
    } else if (word_start == std::string_view::npos) {
      word_start = st;
    }
  }
  if (word_start != std::string_view::npos) words.emplace_back(word_start, s.size());
  if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit + 0) {
    for (auto& w : words) out.emplace_back(s.substr(w.first, w.second - w.first));
    return out;
  }
  if (!from_right) {
    for (int64_t k = 0; k < maxsplit; ++k) out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
    std::string rest(s.substr(words[static_cast<size_t>(maxsplit)].first));
    out.push_back(PyStrip(rest, std::nullopt, false, true));
  } else {
    size_t keep = words.size() - static_cast<size_t>(maxsplit);
    std::string head(s.substr(0, words[keep - 1].second));
    out.push_back(PyStrip(head, std::nullopt, true, false));
    for (size_t k = keep; k < words.size(); ++k) out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
  }
  return out;
}

std::string PyReplace(std::string_view s, std::string_view old_s, std::string_view new_s, int64_t count) {
  std::string out;
  if (old_s.empty()) {
    int64_t done = 0;
    size_t i = 0;
    if (count != 0) {
      out += new_s;
      ++done;
    }
    while (i < s.size()) {
      size_t st = i;
      DecodeUtf8(s, i);
      out += s.substr(st, i - st);
      if (count < 0 || done < count) {
        out += new_s;
        ++done;
      }
    }
    return out;
  }
  size_t start = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t p = s.find(old_s, start);
    if (p == std::string_view::npos) break;
    out += s.substr(start, p - start);
    out += new_s;
    start = p + old_s.size();
    ++done;
  }
  out += s.substr(start);
  return out;
}

std::vector<std::string> PySplitLines(std::string_view s, bool keepends) {
  std::vector<std::string> out;
  size_t i = 0, line_start = 0;
  while (i < s.size()) {
    size_t st = i;
    uint32_t cp = DecodeUtf8(s, i);
    bool brk = cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || (cp >= 0x1c && cp <= 0x1e) || cp == 0x85 ||
               cp == 0x2028 || cp == 0x2029;
    if (!brk) continue;
    size_t end_of_break = i;
    if (cp == '\r' && i < s.size() && s[i] == '\n') end_of_break = ++i;
    out.emplace_back(s.substr(line_start, (keepends ? end_of_break : st) - line_start));
    line_start = end_of_break;
  }
  if (line_start < s.size()) out.emplace_back(s.substr(line_start));
  return out;
}

}  // namespace lfm::jinja
