#include <algorithm>
#include <numeric>

#include "grammar/grammar.h"

namespace lfm {

namespace {

// A token is "plain" if it is made only of characters that may appear raw inside a JSON string and
// that every unconstrained string state loops on: printable ASCII except '"' and '\\' (DEL included),
// and complete, well-formed non-ASCII UTF-8 characters. Tokens ending inside a character are not plain.
bool IsPlain(const std::string& s) {
  if (s.empty()) return false;
  size_t i = 0;
  while (i < s.size()) {
    auto b = static_cast<uint8_t>(s[i]);
    if (b < 0x80) {
      if (b < 0x20 || b == '"' || b == '\\') return false;
      ++i;
      continue;
    }
    int len = b >= 0xC2 && b <= 0xDF ? 2 : b >= 0xE0 && b <= 0xEF ? 3 : b >= 0xF0 && b <= 0xF4 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    auto c1 = static_cast<uint8_t>(s[i + 1]);
    uint8_t lo = 0x80, hi = 0xBF;
    if (b == 0xE0) lo = 0xA0;
    if (b == 0xED) hi = 0x9F;
    if (b == 0xF0) lo = 0x90;
    if (b == 0xF4) hi = 0x8F;
    if (c1 < lo || c1 > hi) return false;
    for (int k = 2; k < len; ++k) {
      auto c = static_cast<uint8_t>(s[i + k]);
      if (c < 0x80 || c > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

}  // namespace

bool TokenTrie::is_eos(int32_t id) const {
  return std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
}

void TokenTrie::Flatten(const std::vector<int32_t>& ids_in, const std::vector<std::string>& bytes,
                        std::vector<Node>* nodes, std::vector<int32_t>* token_ids) {
  std::vector<int32_t> ids = ids_in;
  std::sort(ids.begin(), ids.end(), [&](int32_t a, int32_t b) {
    if (bytes[a] != bytes[b]) return bytes[a] < bytes[b];
    return a < b;
  });
  // Sorted order is depth-first preorder: each string shares its longest common prefix with the
  // previous one; the path is popped to that prefix and the rest appended as new nodes.
  std::vector<uint32_t> path;  // node index per depth-1
  const std::string* prev = nullptr;
  auto close = [&](size_t keep) {
    while (path.size() > keep) {
      uint32_t idx = path.back();
      path.pop_back();
      (*nodes)[idx].subtree = static_cast<uint32_t>(nodes->size() - idx);
    }
  };
  for (int32_t id : ids) {
    const std::string& s = bytes[id];
    size_t lcp = 0;
    if (prev) {
      size_t m = std::min(prev->size(), s.size());
      while (lcp < m && (*prev)[lcp] == s[lcp]) ++lcp;
    }
    close(std::min(lcp, path.size()));
    for (size_t d = path.size(); d < s.size(); ++d) {
      Node nd{};
      nd.byte = static_cast<uint8_t>(s[d]);
      nd.depth = static_cast<uint32_t>(d + 1);
      nd.tok_begin = static_cast<uint32_t>(token_ids->size());
      nd.tok_count = 0;
      path.push_back(static_cast<uint32_t>(nodes->size()));
      nodes->push_back(nd);
    }
    Node& last = (*nodes)[path.back()];
    if (last.tok_count == 0) last.tok_begin = static_cast<uint32_t>(token_ids->size());
    token_ids->push_back(id);
    ++last.tok_count;
    prev = &s;
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
  std::vector<int32_t> text, rest;
  t->plain_mask_.assign((n + 31) / 32, 0);
  for (size_t i = 0; i < n; ++i) {
    if (t->is_special_[i] || vocab.token_bytes[i].empty()) continue;
    if (t->is_eos(static_cast<int32_t>(i))) continue;
    if (vocab.token_bytes[i].size() > 65535) return InvalidArgument("TokenTrie: token " + std::to_string(i) + " too long");
    text.push_back(static_cast<int32_t>(i));
    if (IsPlain(vocab.token_bytes[i])) {
      t->plain_mask_[i >> 5] |= 1u << (i & 31);
    } else {
      rest.push_back(static_cast<int32_t>(i));
    }
  }
  // Character counts of plain tokens (complete UTF-8 characters by construction).
  std::vector<std::pair<size_t, int32_t>> plain_chars;
  size_t max_chars = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!((t->plain_mask_[i >> 5] >> (i & 31)) & 1)) continue;
    size_t chars = 0;
    for (unsigned char c : vocab.token_bytes[i]) chars += (c & 0xC0) != 0x80;
    plain_chars.emplace_back(chars, static_cast<int32_t>(i));
    max_chars = std::max(max_chars, chars);
  }
  t->plain_upto_.assign(max_chars, std::vector<uint32_t>((n + 31) / 32, 0));
  for (auto [chars, id] : plain_chars)
    for (size_t k = chars; k < max_chars; ++k) t->plain_upto_[k][id >> 5] |= 1u << (id & 31);
  Flatten(text, vocab.token_bytes, &t->all_, &t->token_ids_);
  Flatten(rest, vocab.token_bytes, &t->rest_, &t->token_ids_);
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
