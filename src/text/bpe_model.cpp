#include "text/bpe_model.h"

#include <cstdio>
#include <functional>
#include <queue>

#include "base/utf8.h"

namespace lfm {

using tokenizer_json::Json;
using tokenizer_json::Where;

namespace {

constexpr size_t kMaxCachedWords = 1 << 16;
constexpr size_t kMaxCachedWordBytes = 256;

uint64_t PairKey(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

uint64_t Mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

constexpr uint64_t kEmpty = ~0ULL;

}  // namespace

void BpeModel::MergeTable::Reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  keys.assign(cap, kEmpty);
  ranks.assign(cap, 0);
  results.assign(cap, 0);
  mask = cap - 1;
}

bool BpeModel::MergeTable::Insert(uint64_t key, int32_t rank, int32_t result) {
  for (uint64_t h = Mix(key) & mask;; h = (h + 1) & mask) {
    if (keys[h] == kEmpty) {
      keys[h] = key;
      ranks[h] = rank;
      results[h] = result;
      return true;
    }
    if (keys[h] == key) return false;
  }
}

bool BpeModel::MergeTable::Find(uint64_t key, int32_t* rank, int32_t* result) const {
  if (keys.empty()) return false;
  for (uint64_t h = Mix(key) & mask;; h = (h + 1) & mask) {
    if (keys[h] == kEmpty) return false;
    if (keys[h] == key) {
      *rank = ranks[h];
      *result = results[h];
      return true;
    }
  }
}

Result<std::unique_ptr<BpeModel>> BpeModel::FromJson(const Json& j, const Where& w) {
  LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(
      j, w,
      {"type", "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk",
       "byte_fallback", "ignore_merges", "vocab", "merges"}));
  auto m = std::make_unique<BpeModel>();
  if (const Json* d = tokenizer_json::Find(j, "dropout"); d != nullptr && !d->is_null()) {
    if (!d->is_number() || d->get<double>() != 0.0)
      return w.Key("dropout").Unsupported("BPE dropout is not supported (must be null)");
  }
  LFM_ASSIGN_OR_RETURN(m->unk_token_, tokenizer_json::GetOptString(j, w, "unk_token"));
  LFM_ASSIGN_OR_RETURN(auto prefix, tokenizer_json::GetOptString(j, w, "continuing_subword_prefix"));
  LFM_ASSIGN_OR_RETURN(auto suffix, tokenizer_json::GetOptString(j, w, "end_of_word_suffix"));
  m->continuing_subword_prefix_ = prefix.value_or("");
  m->end_of_word_suffix_ = suffix.value_or("");
  LFM_ASSIGN_OR_RETURN(m->fuse_unk_, tokenizer_json::GetBool(j, w, "fuse_unk", false));
  LFM_ASSIGN_OR_RETURN(m->byte_fallback_, tokenizer_json::GetBool(j, w, "byte_fallback", false));
  LFM_ASSIGN_OR_RETURN(m->ignore_merges_, tokenizer_json::GetBool(j, w, "ignore_merges", false));

  // Vocab: {"token": id, ...}.
  const Json* vocab = tokenizer_json::Find(j, "vocab");
  if (vocab == nullptr) return w.Key("vocab").Invalid("missing");
  if (!vocab->is_object()) return w.Key("vocab").Invalid("expected an object of token -> id");
  int64_t max_id = -1;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() >= (int64_t{1} << 30)) {
      return w.Key("vocab").Invalid("token '" + it.key() + "' has an invalid id (need an integer in [0, 2^30))");
    }
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  const size_t n_ids = static_cast<size_t>(max_id + 1);
  std::vector<const std::string*> by_id(n_ids, nullptr);  // keys of the JSON object, alive meanwhile
  size_t total_bytes = 0;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    auto id = static_cast<size_t>(it.value().get<int64_t>());
    if (by_id[id] != nullptr)
      return w.Key("vocab").Invalid("id " + std::to_string(id) + " is used by two tokens ('" + *by_id[id] +
                                    "' and '" + it.key() + "')");
    by_id[id] = &it.key();
    total_bytes += it.key().size();
  }
  if (total_bytes > UINT32_MAX) return w.Key("vocab").Invalid("the tokens hold more than 4 GB");
  m->token_bytes_.reserve(total_bytes);
  m->token_begin_.resize(n_ids + 1);
  m->id_present_.assign(n_ids, false);
  for (size_t id = 0; id < n_ids; ++id) {
    m->token_begin_[id] = static_cast<uint32_t>(m->token_bytes_.size());
    if (by_id[id] == nullptr) continue;
    m->token_bytes_ += *by_id[id];
    m->id_present_[id] = true;
  }
  m->token_begin_[n_ids] = static_cast<uint32_t>(m->token_bytes_.size());
  by_id = {};
  size_t cap = 16;
  while (cap < vocab->size() * 2) cap <<= 1;  // load factor <= 1/2 keeps probes short
  m->vocab_slots_.assign(cap, -1);
  m->vocab_mask_ = cap - 1;
  for (size_t id = 0; id < n_ids; ++id) {
    if (!m->id_present_[id]) continue;
    // JSON object keys are unique, so each token takes a fresh slot.
    uint64_t h = std::hash<std::string_view>()(m->TokenAt(id)) & m->vocab_mask_;
    while (m->vocab_slots_[h] >= 0) h = (h + 1) & m->vocab_mask_;
    m->vocab_slots_[h] = static_cast<int32_t>(id);
    ++m->vocab_count_;
  }

  // Merges: ["a b", ...] (older files) or [["a", "b"], ...].
  const Json* merges = tokenizer_json::Find(j, "merges");
  if (merges == nullptr) return w.Key("merges").Invalid("missing");
  if (!merges->is_array()) return w.Key("merges").Invalid("expected an array");
  m->merges_.Reserve(merges->size());
  const size_t prefix_len = m->continuing_subword_prefix_.size();
  for (size_t r = 0; r < merges->size(); ++r) {
    const Json& e = (*merges)[r];
    Where we = w.Key("merges").Index(r);
    std::string a, b;
    if (e.is_string()) {
      const std::string& s = e.get_ref<const std::string&>();
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
        return we.Invalid("merge '" + s + "' is not two tokens separated by one space");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].get<std::string>();
      b = e[1].get<std::string>();
    } else {
      return we.Invalid("expected \"a b\" or [\"a\", \"b\"]");
    }
    auto ia = m->Lookup(a), ib = m->Lookup(b);
    if (!ia) return we.Invalid("merge refers to unknown token '" + a + "'");
    if (!ib) return we.Invalid("merge refers to unknown token '" + b + "'");
    // HF: the merged token drops the right part's first prefix_len bytes (its continuing_subword_prefix).
    if (b.size() < prefix_len) return we.Invalid("right part '" + b + "' is shorter than the continuing_subword_prefix");
    std::string merged = a + b.substr(prefix_len);
    auto im = m->Lookup(merged);
    if (!im) return we.Invalid("merge result '" + merged + "' is not in the vocab");
    // A repeated pair: the later entry wins, as in HF (its merge map is collected in file order).
    uint64_t key = PairKey(*ia, *ib);
    if (!m->merges_.Insert(key, static_cast<int32_t>(r), *im)) {
      for (uint64_t h = Mix(key) & m->merges_.mask;; h = (h + 1) & m->merges_.mask) {
        if (m->merges_.keys[h] == key) {
          m->merges_.ranks[h] = static_cast<int32_t>(r);
          m->merges_.results[h] = *im;
          break;
        }
      }
    }
  }

  if (m->unk_token_) {
    auto id = m->Lookup(*m->unk_token_);
    if (!id) return w.Key("unk_token").Invalid("unk_token '" + *m->unk_token_ + "' is not in the vocab");
    m->unk_id_ = *id;
  }
  if (m->byte_fallback_) {
    m->byte_tokens_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (auto id = m->Lookup(name)) m->byte_tokens_[b] = *id;
    }
  }
  if (prefix_len == 0 && m->end_of_word_suffix_.empty()) {
    m->small_char_ids_.assign(0x800, -1);
    for (uint32_t cp = 0; cp < 0x800; ++cp) {
      std::string s;
      AppendUtf8(cp, s);
      if (auto id = m->Lookup(s)) m->small_char_ids_[cp] = *id;
    }
  }
  return m;
}

std::optional<int32_t> BpeModel::Lookup(std::string_view s) const {
  if (vocab_slots_.empty()) return std::nullopt;
  for (uint64_t h = std::hash<std::string_view>()(s) & vocab_mask_;; h = (h + 1) & vocab_mask_) {
    const int32_t id = vocab_slots_[h];
    if (id < 0) return std::nullopt;
    if (TokenAt(static_cast<size_t>(id)) == s) return id;
  }
}

std::optional<int32_t> BpeModel::TokenToId(std::string_view token) const { return Lookup(token); }

std::optional<std::string_view> BpeModel::IdToToken(int32_t id) const {
  if (id < 0 || id >= size() || !id_present_[static_cast<size_t>(id)]) return std::nullopt;
  return TokenAt(static_cast<size_t>(id));
}

void BpeModel::Tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (auto id = Lookup(word)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    auto it = cache_.find(std::string(word));
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  size_t before = out.size();
  MergeWord(word, out);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kMaxCachedWords)
      cache_.emplace(std::string(word), std::vector<int32_t>(out.begin() + before, out.end()));
  }
}

void BpeModel::MergeWord(std::string_view word, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int32_t prev, next;
  };
  std::vector<Symbol> syms;
  syms.reserve(word.size());
  auto add = [&](int32_t id) {
    int32_t n = static_cast<int32_t>(syms.size());
    syms.push_back({id, n - 1, -1});
    if (n > 0) syms[n - 1].next = n;
  };

  // 1. One symbol per character (HF BPE::merge_word), with unk / byte_fallback for unknown ones.
  int32_t pending_unk = -1;  // an unk waiting to be emitted (HF fuses consecutive ones if fuse_unk)
  std::string buf;
  size_t i = 0;
  while (i < word.size()) {
    size_t start = i;
    uint32_t cp = DecodeUtf8(word, i);
    std::string_view ch = word.substr(start, i - start);
    int32_t id = -1;
    if (!small_char_ids_.empty()) {
      if (cp < 0x800) {
        id = small_char_ids_[cp];
      } else if (auto f = Lookup(ch)) {
        id = *f;
      }
      buf.assign(ch);
    } else {
      buf.clear();
      if (start > 0) buf += continuing_subword_prefix_;
      buf += ch;
      if (i == word.size()) buf += end_of_word_suffix_;
      if (auto f = Lookup(buf)) id = *f;
    }
    if (id >= 0) {
      if (pending_unk >= 0) {
        add(pending_unk);
        pending_unk = -1;
      }
      add(id);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : buf) all = all && byte_tokens_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : buf) add(byte_tokens_[static_cast<uint8_t>(c)]);
        continue;
      }
    }
    if (unk_id_ >= 0) {
      if (pending_unk >= 0 && !fuse_unk_) add(pending_unk);
      pending_unk = unk_id_;
    }
  }
  if (pending_unk >= 0) add(pending_unk);

  // 2. Apply merges, lowest rank first and leftmost among equal ranks.
  if (syms.size() > 1) {
    struct Candidate {
      int32_t rank, pos, result;
      bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
    auto consider = [&](int32_t pos) {
      int32_t next = syms[pos].next;
      if (next < 0) return;
      int32_t rank, result;
      if (merges_.Find(PairKey(syms[pos].id, syms[next].id), &rank, &result)) heap.push({rank, pos, result});
    };
    for (int32_t k = 0; k + 1 < static_cast<int32_t>(syms.size()); ++k) consider(k);
    while (!heap.empty()) {
      Candidate c = heap.top();
      heap.pop();
      Symbol& s = syms[c.pos];
      if (s.id < 0 || s.next < 0) continue;
      int32_t rank, result;
      if (!merges_.Find(PairKey(s.id, syms[s.next].id), &rank, &result) || result != c.result ||
          rank != c.rank)
        continue;  // stale: one side was merged away since this candidate was queued
      Symbol& r = syms[s.next];
      s.id = result;
      s.next = r.next;
      if (r.next >= 0) syms[r.next].prev = c.pos;
      r.id = -1;
      if (s.prev >= 0) consider(s.prev);
      consider(c.pos);
    }
  }
  for (int32_t k = syms.empty() ? -1 : 0; k >= 0; k = syms[k].next) out.push_back(syms[k].id);
}

}  // namespace lfm
