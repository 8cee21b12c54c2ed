#include "text/unicode_nfc.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "base/utf8.h"

namespace lfm {
namespace {

struct CombiningClass {
  uint32_t cp;
  uint8_t ccc;
};
struct Decomposition {
  uint32_t cp;
  uint16_t offset, length;
};
struct Composition {
  uint32_t first, second, composite;
};

#include "text/unicode_nfc_tables.inc"

constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount,
                   kSCount = kLCount * kNCount;

int Ccc(uint32_t cp) {
  if (cp < 0x300) return 0;
  auto it = std::lower_bound(std::begin(kCombiningClasses), std::end(kCombiningClasses), cp,
                             [](const CombiningClass& c, uint32_t v) { return c.cp < v; });
  return (it != std::end(kCombiningClasses) && it->cp == cp) ? it->ccc : 0;
}

void Decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp >= 0xC0) {
    auto it = std::lower_bound(std::begin(kDecompositions), std::end(kDecompositions), cp,
                               [](const Decomposition& d, uint32_t v) { return d.cp < v; });
    if (it != std::end(kDecompositions) && it->cp == cp) {
      out.insert(out.end(), kDecompositionPool + it->offset, kDecompositionPool + it->offset + it->length);
      return;
    }
  }
  out.push_back(cp);
}

// The primary composite of (a, b), or 0.
uint32_t Compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  auto it = std::lower_bound(std::begin(kCompositions), std::end(kCompositions), std::make_pair(a, b),
                             [](const Composition& c, const std::pair<uint32_t, uint32_t>& v) {
                               return c.first != v.first ? c.first < v.first : c.second < v.second;
                             });
  if (it != std::end(kCompositions) && it->first == a && it->second == b) return it->composite;
  return 0;
}

}  // namespace

const char* NfcUnicodeVersion() { return kNfcUnicodeVersion; }

std::string ToNfc(std::string_view text) {
  bool ascii = true;
  for (char c : text) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return std::string(text);

  // 1. Full canonical decomposition.
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) Decompose(DecodeUtf8(text, i), cps);
  // 2. Canonical ordering: stable sort of each run of non-starters by combining class.
  std::vector<int> cls(cps.size());
  for (size_t k = 0; k < cps.size(); ++k) cls[k] = Ccc(cps[k]);
  for (size_t k = 0; k < cps.size();) {
    if (cls[k] == 0) {
      ++k;
      continue;
    }
    size_t e = k;
    while (e < cps.size() && cls[e] != 0) ++e;
    std::vector<std::pair<int, uint32_t>> run;
    for (size_t m = k; m < e; ++m) run.emplace_back(cls[m], cps[m]);
    std::stable_sort(run.begin(), run.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t m = k; m < e; ++m) {
      cls[m] = run[m - k].first;
      cps[m] = run[m - k].second;
    }
    k = e;
  }
  // 3. Canonical composition (UAX #15): combine each character with the last starter unless blocked.
  std::vector<uint32_t> out;
  out.reserve(cps.size());
  int starter = -1;    // index in out of the last starter
  int last_class = -1; // class of the last character appended after the starter (-1: none yet)
  for (size_t k = 0; k < cps.size(); ++k) {
    uint32_t cp = cps[k];
    int cc = cls[k];
    if (starter >= 0) {
      bool blocked = last_class != -1 && (last_class == 0 || last_class >= cc);
      if (!blocked) {
        if (uint32_t comp = Compose(out[static_cast<size_t>(starter)], cp); comp != 0) {
          out[static_cast<size_t>(starter)] = comp;
          continue;
        }
      }
    }
    out.push_back(cp);
    if (cc == 0) {
      starter = static_cast<int>(out.size()) - 1;
      last_class = -1;
    } else {
      last_class = cc;
    }
  }
  std::string result;
  result.reserve(text.size());
  for (uint32_t cp : out) AppendUtf8(cp, result);
  return result;
}

}  // namespace lfm
