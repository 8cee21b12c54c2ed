#include "text/normalizer.h"

#include <clocale>
#include <cwctype>
#include <locale.h>
#include <vector>

#include "base/utf8.h"
#include "text/regex.h"
#include "text/string_pattern.h"
#include "text/text_split.h"
#include "text/unicode_nfc.h"

namespace lfm {
namespace {

using tokenizer_json::Json;
using tokenizer_json::Where;

class SequenceNormalizer : public Normalizer {
 public:
  std::vector<std::unique_ptr<Normalizer>> steps;
  Status Normalize(std::string& s) const override {
    for (const auto& n : steps) LFM_RETURN_IF_ERROR(n->Normalize(s));
    return Status::Ok();
  }
};

class PrependNormalizer : public Normalizer {
 public:
  std::string prepend;
  Status Normalize(std::string& s) const override {
    if (!s.empty()) s.insert(0, prepend);  // HF: only non-empty strings get the prefix
    return Status::Ok();
  }
};

class ReplaceNormalizer : public Normalizer {
 public:
  StringPattern pattern;
  std::string content;
  Status Normalize(std::string& s) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    LFM_RETURN_IF_ERROR(pattern.FindAll(s, matches));
    if (matches.empty()) return Status::Ok();
    std::string out;
    size_t prev = 0;
    for (auto [b, e] : matches) {
      out.append(s, prev, b - prev);
      out += content;
      prev = e;
    }
    out.append(s, prev, std::string::npos);
    s = std::move(out);
    return Status::Ok();
  }
};

// Rust's char::to_lowercase through the C library's Unicode tables (C.UTF-8 locale), plus the one
// multi-character mapping Rust has (U+0130 -> "i\u0307").
class LowercaseNormalizer : public Normalizer {
 public:
  Status Normalize(std::string& s) const override {
    static locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
      auto b = static_cast<unsigned char>(s[i]);
      if (b < 0x80) {
        out += (b >= 'A' && b <= 'Z') ? static_cast<char>(b + 32) : static_cast<char>(b);
        ++i;
        continue;
      }
      uint32_t cp = DecodeUtf8(s, i);
      if (cp == 0x130) {
        out += "i\xCC\x87";
        continue;
      }
      if (loc != static_cast<locale_t>(0)) cp = static_cast<uint32_t>(towlower_l(static_cast<wint_t>(cp), loc));
      AppendUtf8(cp, out);
    }
    s = std::move(out);
    return Status::Ok();
  }
};

class StripNormalizer : public Normalizer {
 public:
  bool left = true, right = true;
  Status Normalize(std::string& s) const override {
    size_t b = 0, e = s.size();
    if (left) {
      while (b < e) {
        size_t i = b;
        if (!IsUnicodeWhitespace(DecodeUtf8(s, i))) break;
        b = i;
      }
    }
    if (right) {
      while (e > b) {
        size_t start = e - 1;
        while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
        size_t i = start;
        if (!IsUnicodeWhitespace(DecodeUtf8(s, i))) break;
        e = start;
      }
    }
    s = s.substr(b, e - b);
    return Status::Ok();
  }
};

class NfcNormalizer : public Normalizer {
 public:
  Status Normalize(std::string& s) const override {
    s = ToNfc(s);
    return Status::Ok();
  }
};

}  // namespace

Result<std::unique_ptr<Normalizer>> NormalizerFromJson(const Json& j, const Where& w) {
  LFM_ASSIGN_OR_RETURN(std::string type, tokenizer_json::TypeOf(j, w));
  if (type == "Sequence") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "normalizers"}));
    const Json* list = tokenizer_json::Find(j, "normalizers");
    if (list == nullptr || !list->is_array()) return w.Key("normalizers").Invalid("missing or not an array");
    auto seq = std::make_unique<SequenceNormalizer>();
    for (size_t i = 0; i < list->size(); ++i) {
      LFM_ASSIGN_OR_RETURN(auto step, NormalizerFromJson((*list)[i], w.Key("normalizers").Index(i)));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<Normalizer>(std::move(seq));
  }
  if (type == "Prepend") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "prepend"}));
    auto n = std::make_unique<PrependNormalizer>();
    LFM_ASSIGN_OR_RETURN(n->prepend, tokenizer_json::GetString(j, w, "prepend"));
    return std::unique_ptr<Normalizer>(std::move(n));
  }
  if (type == "Replace") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "pattern", "content"}));
    auto n = std::make_unique<ReplaceNormalizer>();
    const Json* p = tokenizer_json::Find(j, "pattern");
    if (p == nullptr) return w.Key("pattern").Invalid("missing");
    LFM_ASSIGN_OR_RETURN(n->pattern, StringPattern::FromJson(*p, w.Key("pattern")));
    LFM_ASSIGN_OR_RETURN(n->content, tokenizer_json::GetString(j, w, "content"));
    return std::unique_ptr<Normalizer>(std::move(n));
  }
  if (type == "Lowercase") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return std::unique_ptr<Normalizer>(std::make_unique<LowercaseNormalizer>());
  }
  if (type == "Strip") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "strip_left", "strip_right"}));
    auto n = std::make_unique<StripNormalizer>();
    LFM_ASSIGN_OR_RETURN(n->left, tokenizer_json::GetBool(j, w, "strip_left", true));
    LFM_ASSIGN_OR_RETURN(n->right, tokenizer_json::GetBool(j, w, "strip_right", true));
    return std::unique_ptr<Normalizer>(std::move(n));
  }
  if (type == "NFC") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return std::unique_ptr<Normalizer>(std::make_unique<NfcNormalizer>());
  }
  if (type == "NFD" || type == "NFKC" || type == "NFKD" || type == "Precompiled" ||
      type == "BertNormalizer" || type == "StripAccents" || type == "Nmt" || type == "ByteLevel") {
    return w.Key("type").Unsupported("normalizer '" + type +
                                     "' is not implemented");
  }
  return w.Key("type").Invalid("unknown normalizer type '" + type + "'");
}

}  // namespace lfm
