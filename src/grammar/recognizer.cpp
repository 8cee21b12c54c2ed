#include "grammar/recognizer.h"

#include <algorithm>

#include "grammar/cfg.h"

namespace lfm::grammar {

namespace {

// Slot of an item key ((pos << 32) | origin) in the per-row set. A plain multiply carries bits only
// upwards, so pos would never reach the low bits used to index a small table: fold the halves first.
size_t ItemSlot(uint64_t key) {
  uint64_t h = (key ^ (key >> 29)) * 0x9E3779B97F4A7C15ull;
  return static_cast<size_t>(h ^ (h >> 32));
}

}  // namespace

Recognizer::Recognizer(const ParserTables& t, Lexer* lexer) : t_(t), lexer_(lexer) {
  predicted_stamp_.assign(t_.nt_starts.size(), 0);
  set_keys_.assign(64, 0);
  set_stamp_.assign(64, 0);
  row_begin_.push_back(0);
  ++stamp_;
  set_count_ = 0;
  for (uint32_t p : t_.nt_starts[t_.start_nt]) AddItem(p, 0);
  row_begin_.push_back(0);  // placeholder end, fixed by Closure
  row_lex_.push_back(0);
  row_accepting_.push_back(0);
  row_serial_.push_back(next_serial_++);
  Closure(0);
  stack_.push_back({row_lex_[0], 0});
}

bool Recognizer::AddItem(uint32_t pos, uint32_t origin) {
  uint64_t key = (static_cast<uint64_t>(pos) << 32) | origin;
  if (set_count_ * 2 >= set_keys_.size()) {
    // Grow and rehash the current row's keys.
    size_t n = set_keys_.size() * 2;
    std::vector<uint64_t> keys(n, 0);
    std::vector<uint32_t> stamps(n, 0);
    for (size_t i = 0; i < set_keys_.size(); ++i) {
      if (set_stamp_[i] != stamp_) continue;
      size_t h = ItemSlot(set_keys_[i]);
      while (true) {
        h &= n - 1;
        if (stamps[h] != stamp_) break;
        ++h;
      }
      keys[h] = set_keys_[i];
      stamps[h] = stamp_;
    }
    set_keys_.swap(keys);
    set_stamp_.swap(stamps);
  }
  size_t n = set_keys_.size();
  size_t h = ItemSlot(key);
  while (true) {
    h &= n - 1;
    if (set_stamp_[h] != stamp_) break;
    if (set_keys_[h] == key) return false;
    ++h;
  }
  set_keys_[h] = key;
  set_stamp_[h] = stamp_;
  ++set_count_;
  items_.push_back({pos, origin});
  return true;
}

void Recognizer::Closure(uint32_t k) {
  uint32_t begin = row_begin_[k];
  uint64_t steps = 0;
  for (size_t i = begin; i < items_.size(); ++i) {
    if (items_.size() - begin > t_.max_items_in_row) {
      limit_ = ResourceExhausted("Earley row exceeds " + std::to_string(t_.max_items_in_row) +
                                 " items (grammar too ambiguous)");
      break;
    }
    Item it = items_[i];
    uint32_t s = t_.sym[it.pos];
    if (s == kEndSym) {
      uint32_t lhs_sym = NtSym(t_.lhs_at[it.pos]);
      uint32_t j = it.origin;
      uint32_t jb = row_begin_[j];
      uint32_t je = j == k ? static_cast<uint32_t>(items_.size()) : row_begin_[j + 1];
      steps += je - jb;
      if (steps > t_.max_steps_per_row) {
        limit_ = ResourceExhausted("Earley row needs more than " + std::to_string(t_.max_steps_per_row) +
                                   " completion steps (grammar too ambiguous)");
        break;
      }
      for (uint32_t p = jb; p < je; ++p) {
        Item w = items_[p];
        if (t_.sym[w.pos] == lhs_sym) AddItem(w.pos + 1, w.origin);
      }
    } else if (IsNt(s)) {
      uint32_t nt = NtOf(s);
      if (predicted_stamp_[nt] != stamp_) {
        predicted_stamp_[nt] = stamp_;
        for (uint32_t p : t_.nt_starts[nt]) AddItem(p, k);
      }
      if (t_.nt_nullable[nt]) AddItem(it.pos + 1, it.origin);
    }
  }
  row_begin_[k + 1] = static_cast<uint32_t>(items_.size());
  // Allowed lexemes and acceptance.
  allowed_scratch_.clear();
  bool accepting = false;
  for (uint32_t p = row_begin_[k]; p < row_begin_[k + 1]; ++p) {
    uint32_t s = t_.sym[items_[p].pos];
    if (s != kEndSym && !IsNt(s)) allowed_scratch_.push_back(s);
    if (items_[p].pos == t_.accept_pos && items_[p].origin == 0) accepting = true;
  }
  if (!allowed_scratch_.empty() || accepting) {
    allowed_scratch_.insert(allowed_scratch_.end(), t_.ignore_lexemes.begin(), t_.ignore_lexemes.end());
  }
  std::sort(allowed_scratch_.begin(), allowed_scratch_.end());
  allowed_scratch_.erase(std::unique(allowed_scratch_.begin(), allowed_scratch_.end()), allowed_scratch_.end());
  row_lex_[k] = lexer_->InitialState(allowed_scratch_);
  row_accepting_[k] = accepting;
}

bool Recognizer::BuildRow(uint32_t from, const std::vector<uint32_t>& lexemes, uint32_t serial) {
  uint32_t k = static_cast<uint32_t>(row_lex_.size());
  ++stamp_;
  if (stamp_ == 0) {  // wrapped: reset stamps
    std::fill(set_stamp_.begin(), set_stamp_.end(), 0);
    std::fill(predicted_stamp_.begin(), predicted_stamp_.end(), 0);
    stamp_ = 1;
  }
  set_count_ = 0;
  row_begin_.push_back(0);
  row_lex_.push_back(0);
  row_accepting_.push_back(0);
  row_serial_.push_back(serial);
  for (uint32_t p = row_begin_[from]; p < row_begin_[from + 1]; ++p) {
    Item it = items_[p];
    uint32_t s = t_.sym[it.pos];
    if (s == kEndSym || IsNt(s)) continue;
    if (std::binary_search(lexemes.begin(), lexemes.end(), s)) AddItem(it.pos + 1, it.origin);
  }
  if (items_.size() == row_begin_[k]) {
    TruncateRows(k);
    return false;
  }
  Closure(k);
  if (!limit_.ok()) {
    TruncateRows(k);
    return false;
  }
  return true;
}

void Recognizer::TruncateRows(uint32_t nrows) {
  if (row_lex_.size() <= nrows) return;
  items_.resize(row_begin_[nrows]);
  row_begin_.resize(nrows + 1);
  row_lex_.resize(nrows);
  row_accepting_.resize(nrows);
  row_serial_.resize(nrows);
}

bool Recognizer::PushByte(uint8_t b) {
  Entry top = stack_.back();
  uint32_t n = lexer_->Next(top.lex, b);
  if (n != kDeadLexState) {
    stack_.push_back({n, top.row});
    return true;
  }
  const LexState& st = lexer_->State(top.lex);
  if (st.accepting.empty() || stack_.size() == 1) return false;
  uint32_t nrows = static_cast<uint32_t>(row_lex_.size());
  uint32_t row = top.row;
  if (!st.accepting_ignore_only) {
    if (!CompleteLexemes(top.lex, b)) return false;
    row = nrows;
  }
  uint32_t n2 = lexer_->Next(row_lex_[row], b);
  if (n2 == kDeadLexState) {
    TruncateRows(nrows);
    return false;
  }
  stack_.push_back({n2, row});
  return true;
}

bool Recognizer::CompleteLexemes(uint32_t lex, int next_byte) {
  const LexState& st = lexer_->State(lex);
  const uint32_t from = stack_.back().row;
  const uint64_t key = (static_cast<uint64_t>(row_serial_[from]) << 32) | st.accepting_id;
  const CachedRow* hit = key == last_key_ ? last_row_ : nullptr;
  if (!hit) {
    auto it = row_cache_.find(key);
    if (it != row_cache_.end()) hit = &it->second, last_key_ = key, last_row_ = hit;
  }
  if (!hit) {
    if (row_cache_items_ > kMaxRowCacheItems) {  // only a cache: rows built from now on get fresh serials
      row_cache_.clear();
      row_cache_items_ = 0;
      last_key_ = UINT64_MAX;
      last_row_ = nullptr;
    }
    // The completed grammar lexemes (ignore lexemes that also match are dropped).
    done_scratch_.clear();
    for (uint32_t l : st.accepting)
      if (!t_.lexeme_ignored[l]) done_scratch_.push_back(l);
    const uint32_t k = static_cast<uint32_t>(row_lex_.size());
    row_begin_.back() = static_cast<uint32_t>(items_.size());
    const uint32_t serial = next_serial_;
    if (!BuildRow(from, done_scratch_, serial)) {
      if (!limit_.ok()) return false;  // not cached: the limit is reported each time it is hit
      row_cache_.emplace(key, CachedRow{serial, false});
      return false;
    }
    ++next_serial_;
    CachedRow c{serial, true, row_lex_[k], row_accepting_[k],
                std::vector<Item>(items_.begin() + row_begin_[k], items_.begin() + row_begin_[k + 1])};
    row_cache_items_ += c.items.size() + 8;
    row_cache_.emplace(key, std::move(c));
    return true;
  }
  const CachedRow& c = *hit;
  if (!c.ok) return false;
  // Refuse the next byte before copying the row if no lexeme allowed there starts with it (most
  // bytes, in a trie walk).
  if (next_byte >= 0 && lexer_->Next(c.row_lex, static_cast<uint8_t>(next_byte)) == kDeadLexState) return false;
  row_begin_.back() = static_cast<uint32_t>(items_.size());
  items_.insert(items_.end(), c.items.begin(), c.items.end());
  row_begin_.push_back(static_cast<uint32_t>(items_.size()));
  row_lex_.push_back(c.row_lex);
  row_accepting_.push_back(c.accepting);
  row_serial_.push_back(c.serial);
  return true;
}

void Recognizer::PopTo(size_t depth) {
  if (depth >= stack_.size() || depth == 0) return;
  stack_.resize(depth);
  TruncateRows(stack_.back().row + 1);
}

bool Recognizer::IsAccepting() {
  Entry top = stack_.back();
  if (stack_.size() == 1) return row_accepting_[top.row];
  const LexState& st = lexer_->State(top.lex);
  if (st.accepting.empty()) return false;
  if (st.accepting_ignore_only) return row_accepting_[top.row];
  uint32_t nrows = static_cast<uint32_t>(row_lex_.size());
  if (!CompleteLexemes(top.lex)) return false;
  bool acc = row_accepting_.back();
  TruncateRows(nrows);
  return acc;
}

}  // namespace lfm::grammar
