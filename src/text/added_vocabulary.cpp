#include "text/added_vocabulary.h"

#include <algorithm>
#include <optional>

#include "base/utf8.h"
#include "text/regex.h"

namespace lfm {
namespace {

// Rust char::is_alphanumeric (Alphabetic or Numeric), via PCRE2's Unicode tables.
bool IsAlphanumeric(uint32_t cp) {
  static const std::optional<Regex> re = [] {
    auto r = Regex::Compile(R"([\p{Alphabetic}\p{N}])", "single_word check");
    if (!r.ok()) r = Regex::Compile(R"([\p{L}\p{N}])", "single_word check");
    return r.ok() ? std::optional<Regex>(std::move(r).value()) : std::nullopt;
  }();
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
  if (!re) return false;
  std::string s;
  AppendUtf8(cp, s);
  std::vector<std::pair<size_t, size_t>> m;
  return re->FindAll(s, m).ok() && !m.empty();
}

uint32_t LastChar(std::string_view s) {
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
  size_t i = start;
  return DecodeUtf8(s, i);
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view s, int32_t token) {
  int32_t node = 0;
  for (char c : s) {
    auto b = static_cast<uint8_t>(c);
    auto& ch = nodes[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1}));
    if (it != ch.end() && it->first == b) {
      node = it->second;
    } else {
      int32_t n = static_cast<int32_t>(nodes.size());
      ch.insert(it, {b, n});
      nodes.emplace_back();
      node = n;
    }
  }
  // HF keeps the first token given for a content; later duplicates do not replace it.
  if (nodes[node].token < 0) nodes[node].token = token;
  first_byte[static_cast<uint8_t>(s[0])] = true;
}

int32_t AddedVocabulary::Trie::LongestAt(std::string_view text, size_t pos, size_t* len) const {
  int32_t node = 0, best = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    auto b = static_cast<uint8_t>(text[i]);
    const auto& ch = nodes[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, int32_t{-1}));
    if (it == ch.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      best = nodes[node].token;
      *len = i + 1 - pos;
    }
  }
  return best;
}

Result<AddedVocabulary> AddedVocabulary::Build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  AddedVocabulary v;
  v.tokens_ = std::move(tokens);
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    const AddedToken& t = v.tokens_[i];
    if (t.content.empty()) continue;  // HF ignores empty added tokens
    if (t.normalized) {
      std::string content = t.content;
      if (normalizer != nullptr) LFM_RETURN_IF_ERROR(normalizer->Normalize(content));
      if (content.empty()) continue;
      v.normalized_.Insert(content, static_cast<int32_t>(i));
      v.has_normalized_ = true;
    } else {
      v.raw_.Insert(t.content, static_cast<int32_t>(i));
    }
  }
  return v;
}

void AddedVocabulary::SplitOn(const Trie& trie, std::string text, bool at_origin,
                              std::vector<TextSplit>& out) const {
  // HF find_matches: leftmost-longest matches, then single_word / lstrip / rstrip adjustments.
  std::string_view s = text;
  size_t start_offset = 0;
  size_t pos = 0;
  auto emit_text = [&](size_t b, size_t e) {
    if (e <= b) return;  // HF drops empty splits (so "" encodes to nothing)
    TextSplit t;
    t.text = text.substr(b, e - b);
    t.at_origin = at_origin && b == 0;
    out.push_back(std::move(t));
  };
  while (pos < s.size()) {
    if (!trie.first_byte[static_cast<uint8_t>(s[pos])]) {
      ++pos;
      continue;
    }
    size_t len = 0;
    int32_t ti = trie.LongestAt(s, pos, &len);
    if (ti < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[static_cast<size_t>(ti)];
    size_t start = pos, stop = pos + len;
    pos = stop;  // the automaton continues after the raw match whatever the adjustments
    if (tok.single_word) {
      bool start_space = start == 0 || !IsAlphanumeric(LastChar(s.substr(0, start)));
      size_t k = stop;
      bool stop_space = stop == s.size() || !IsAlphanumeric(DecodeUtf8(s, k));
      if (!start_space || !stop_space) continue;
    }
    if (start < start_offset) continue;  // overlaps what an rstrip already consumed
    if (tok.lstrip) {
      size_t b = start;
      while (b > 0) {
        size_t cs = b - 1;
        while (cs > 0 && (static_cast<uint8_t>(s[cs]) & 0xC0) == 0x80) --cs;
        size_t k = cs;
        if (!IsUnicodeWhitespace(DecodeUtf8(s, k))) break;
        b = cs;
      }
      start = std::max(b, start_offset);
    }
    if (tok.rstrip) {
      while (stop < s.size()) {
        size_t k = stop;
        if (!IsUnicodeWhitespace(DecodeUtf8(s, k))) break;
        stop = k;
      }
    }
    if (start_offset < start) emit_text(start_offset, start);
    TextSplit t;
    t.text = text.substr(start, stop - start);
    t.token_id = tok.id;
    t.at_origin = at_origin && start == 0;
    out.push_back(std::move(t));
    start_offset = stop;
  }
  emit_text(start_offset, s.size());
}

Status AddedVocabulary::ExtractAndNormalize(std::string_view text, const Normalizer* normalizer,
                                            std::vector<TextSplit>& out) const {
  std::vector<TextSplit> raw;
  SplitOn(raw_, std::string(text), true, raw);
  for (TextSplit& s : raw) {
    if (s.token_id >= 0) {
      out.push_back(std::move(s));
      continue;
    }
    if (normalizer != nullptr) LFM_RETURN_IF_ERROR(normalizer->Normalize(s.text));
    if (has_normalized_) {
      SplitOn(normalized_, std::move(s.text), s.at_origin, out);
    } else {
      out.push_back(std::move(s));
    }
  }
  return Status::Ok();
}

}  // namespace lfm
