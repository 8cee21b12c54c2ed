#include <algorithm>
#include <map>
#include <numeric>

#include "grammar/grammar.h"

namespace lfm {

namespace {

// Length in bytes of the plain prefix of s (see TokenTrie): characters that may appear raw inside a
// JSON string. A character cut off by the end of s, or malformed, ends the prefix.
size_t PlainPrefixBytes(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == '"' || b == '\\') return i;
      ++i;
      continue;
    }
    int len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return i;
    auto c1 = static_cast<uint8_t>(s[i + 1]);
    uint8_t lo = 0x80, hi = 0xBF;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
    if (c1 < lo || c1 > hi) return i;
    for (int k = 2; k < len; ++k) {
      auto c = static_cast<uint8_t>(s[i + k]);
      if (c < 0x80 || c > 0xBF) return i;
    }
    i += len;
  }
  return i;
}

size_t CountChars(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace

bool TokenTrie::is_eos(int32_t id) const {
  return std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
}

void TokenTrie::Flatten(std::vector<std::pair<std::string_view, int32_t>> entries, std::vector<Node>* nodes,
                        std::vector<int32_t>* payload, std::vector<uint16_t>* node_chars) {
  std::sort(entries.begin(), entries.end());
  // Sorted order is depth-first preorder: each string shares its longest common prefix with the
  // previous one; the path is popped to that prefix and the rest appended as new nodes.
  std::vector<uint32_t> path;  // node index per depth-1
  std::string_view prev;
  bool have_prev = false;
  auto close = [&](size_t keep) {
    while (path.size() > keep) {
      uint32_t idx = path.back();
      path.pop_back();
      (*nodes)[idx].subtree = static_cast<uint32_t>(nodes->size() - idx);
    }
  };
  for (const auto& [s, id] : entries) {
    size_t lcp = 0;
    if (have_prev) {
      size_t m = std::min(prev.size(), s.size());
      while (lcp < m && prev[lcp] == s[lcp]) ++lcp;
    }
    close(std::min(lcp, path.size()));
    size_t plain_bytes = node_chars ? PlainPrefixBytes(s) : 0;
    for (size_t d = path.size(); d < s.size(); ++d) {
      Node nd{};
      nd.byte = static_cast<uint8_t>(s[d]);
      nd.depth = static_cast<uint32_t>(d + 1);
      nd.tok_begin = static_cast<uint32_t>(payload->size());
      nd.tok_count = 0;
      path.push_back(static_cast<uint32_t>(nodes->size()));
      nodes->push_back(nd);
      if (node_chars) {
        // The path s[0, d+1) is plain if it lies inside the plain prefix and ends on a character boundary.
        bool boundary = d + 1 == s.size() || (static_cast<uint8_t>(s[d + 1]) & 0xC0) != 0x80;
        bool plain = d + 1 <= plain_bytes && boundary;
        node_chars->push_back(plain ? static_cast<uint16_t>(std::min<size_t>(CountChars(s.substr(0, d + 1)), 0xFFFE))
                                    : kNotPlainPath);
      }
    }
    Node& last = (*nodes)[path.back()];
    if (last.tok_count == 0) last.tok_begin = static_cast<uint32_t>(payload->size());
    payload->push_back(id);
    ++last.tok_count;
    prev = s;
    have_prev = true;
  }
  close(0);
}

Result<std::shared_ptr<const TokenTrie>> TokenTrie::Build(const TokenVocab& vocab) {
  const size_t n = vocab.token_bytes.size();
  if (n == 0) return InvalidArgument("TokenTrie: empty vocabulary");
  if (n >= (1u << 24)) return InvalidArgument("TokenTrie: vocabulary too large");
  if (!vocab.is_special.empty() && vocab.is_special.size() != n)
    return InvalidArgument("TokenTrie: is_special has " + std::to_string(vocab.is_special.size()) +
                           " entries for " + std::to_string(n) + " tokens");
  auto t = std::shared_ptr<TokenTrie>(new TokenTrie());
  t->token_bytes_ = vocab.token_bytes;
  t->is_special_ = vocab.is_special;
  t->is_special_.resize(n, false);
  for (int32_t e : vocab.eos_ids) {
    if (e < 0 || static_cast<size_t>(e) >= n)
      return InvalidArgument("TokenTrie: EOS id " + std::to_string(e) + " outside the vocabulary");
    t->eos_ids_.push_back(e);
  }
  std::vector<std::pair<std::string_view, int32_t>> text;
  std::map<std::string_view, int32_t> suffixes;  // distinct suffix -> suffix id
  t->plain_mask_.assign((n + 31) / 32, 0);
  std::vector<uint16_t> plain_chars(n, 0);
  std::vector<int64_t> suffix_of(n, -1);
  std::vector<PrefixChars> prefix_chars(n);
  size_t max_plain_token_chars = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string& bytes = t->token_bytes_[i];
    if (t->is_special_[i] || bytes.empty()) continue;
    if (t->is_eos(static_cast<int32_t>(i))) continue;
    if (bytes.size() > 65535) return InvalidArgument("TokenTrie: token " + std::to_string(i) + " too long");
    text.emplace_back(bytes, static_cast<int32_t>(i));
    t->max_token_bytes_ = std::max(t->max_token_bytes_, bytes.size());
    std::string_view b = bytes;
    size_t plain = PlainPrefixBytes(b);
    PrefixChars pc{};
    for (size_t k = 0; k < plain; ++k) {
      auto c = static_cast<uint8_t>(b[k]);
      if (c < 0x80) pc.ascii[c >> 6] |= uint64_t{1} << (c & 63);
      else pc.non_ascii = true;
    }
    size_t chars = CountChars(b.substr(0, plain));
    plain_chars[i] = static_cast<uint16_t>(chars);
    t->max_plain_chars_ = static_cast<uint16_t>(std::max<size_t>(t->max_plain_chars_, chars));
    if (plain == b.size()) {
      t->plain_mask_[i >> 5] |= 1u << (i & 31);
      max_plain_token_chars = std::max(max_plain_token_chars, chars);
    } else {
      suffix_of[i] = suffixes.emplace(b.substr(plain), static_cast<int32_t>(suffixes.size())).first->second;
    }
    prefix_chars[i] = pc;
  }
  t->num_suffixes_ = suffixes.size();
  auto token_class = [&](int32_t id) {
    uint32_t sid = suffix_of[id] < 0 ? static_cast<uint32_t>(t->num_suffixes_) : static_cast<uint32_t>(suffix_of[id]);
    return TokenClass{id, plain_chars[id], sid};
  };
  // Group tokens by suffix id (plain tokens last), by plain length within a group.
  t->by_suffix_begin_.assign(t->num_suffixes_ + 2, 0);
  for (const auto& [bytes, id] : text) t->by_suffix_begin_[token_class(id).suffix_id + 1]++;
  for (size_t k = 1; k < t->by_suffix_begin_.size(); ++k) t->by_suffix_begin_[k] += t->by_suffix_begin_[k - 1];
  t->by_suffix_.resize(text.size());
  t->by_suffix_chars_.resize(text.size());
  {
    std::vector<uint32_t> fill(t->by_suffix_begin_.begin(), t->by_suffix_begin_.end() - 1);
    for (const auto& [bytes, id] : text) {
      TokenClass tc = token_class(id);
      t->by_suffix_[fill[tc.suffix_id]++] = tc;
    }
    for (size_t g = 0; g + 1 < t->by_suffix_begin_.size(); ++g)
      std::sort(t->by_suffix_.begin() + t->by_suffix_begin_[g], t->by_suffix_.begin() + t->by_suffix_begin_[g + 1],
                [](const TokenClass& a, const TokenClass& b) { return a.plain_chars < b.plain_chars || (a.plain_chars == b.plain_chars && a.id < b.id); });
    for (size_t k = 0; k < t->by_suffix_.size(); ++k) t->by_suffix_chars_[k] = prefix_chars[t->by_suffix_[k].id];
  }
  t->suffixed_by_len_.assign(t->by_suffix_.begin(), t->by_suffix_.begin() + t->by_suffix_begin_[t->num_suffixes_]);
  std::stable_sort(t->suffixed_by_len_.begin(), t->suffixed_by_len_.end(),
                   [](const TokenClass& a, const TokenClass& b) { return a.plain_chars < b.plain_chars; });
  for (const TokenClass& tc : t->suffixed_by_len_) t->suffixed_by_len_chars_.push_back(prefix_chars[tc.id]);
  t->plain_upto_.assign(max_plain_token_chars, std::vector<uint32_t>((n + 31) / 32, 0));
  for (size_t i = 0; i < n; ++i) {
    if (!((t->plain_mask_[i >> 5] >> (i & 31)) & 1)) continue;
    for (size_t k = plain_chars[i]; k < max_plain_token_chars; ++k) t->plain_upto_[k][i >> 5] |= 1u << (i & 31);
  }
  {
    std::vector<size_t> lengths;
    lengths.reserve(text.size());
    for (const auto& [bytes, id] : text) lengths.push_back(bytes.size());
    if (!lengths.empty()) {
      auto k = lengths.begin() + static_cast<std::ptrdiff_t>((lengths.size() - 1) * 995 / 1000);
      std::nth_element(lengths.begin(), k, lengths.end());
      t->short_token_bytes_ = *k;
    }
  }
  Flatten(std::move(text), &t->all_, &t->token_ids_, &t->node_plain_chars_);
  for (size_t i = t->all_.size(); i-- > 0;) {  // children lie after their parent
    Node& nd = t->all_[i];
    for (size_t c = i + 1; c < i + nd.subtree; c += t->all_[c].subtree)
      nd.height = static_cast<uint8_t>(std::max<int>(nd.height, std::min(255, t->all_[c].height + 1)));
  }
  t->token_classes_.reserve(t->token_ids_.size());
  for (int32_t id : t->token_ids_) t->token_classes_.push_back(token_class(id));
  t->plain_before_.reserve(t->token_ids_.size() + 1);
  for (const TokenClass& tc : t->token_classes_) {
    t->plain_before_.push_back(static_cast<uint32_t>(t->plain_dfs_.size()));
    if (suffix_of[tc.id] < 0) t->plain_dfs_.push_back(tc.id);
    else t->suffixed_dfs_.push_back(tc);
  }
  t->plain_before_.push_back(static_cast<uint32_t>(t->plain_dfs_.size()));
  Flatten({suffixes.begin(), suffixes.end()}, &t->suffix_nodes_, &t->suffix_payload_, nullptr);
  return std::shared_ptr<const TokenTrie>(std::move(t));
}

size_t TokenTrie::LongestPrefixToken(std::string_view s, int32_t* id) const {
  size_t best = 0;
  size_t i = 0;  // node index
  size_t end = all_.size();
  size_t depth = 0;
  *id = -1;
  while (i < end && depth < s.size()) {
    // Find the child of the current node with byte s[depth] among nodes [i, end).
    bool found = false;
    while (i < end) {
      const Node& nd = all_[i];
      if (nd.byte == static_cast<uint8_t>(s[depth])) {
        found = true;
        break;
      }
      i += nd.subtree;
    }
    if (!found) break;
    const Node& nd = all_[i];
    ++depth;
    if (nd.tok_count > 0) {
      best = depth;
      *id = token_ids_[nd.tok_begin];
    }
    end = i + nd.subtree;
    ++i;
  }
  return best;
}

}  // namespace lfm
