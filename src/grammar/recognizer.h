// Earley parser over lexemes driven one byte at a time through the shared lexer DFA.
// The state is a stack with one entry per byte (lexer state, Earley row), so walking down the token
// trie pushes and walking up truncates: rows are created only when a lexeme completes.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/lexer.h"
#include "lfm/status.h"

namespace lfm::grammar {

inline constexpr uint32_t kEndSym = 0xFFFFFFFFu;

// The frozen grammar in flat arrays: every alternative is a run of symbols ending in kEndSym.
struct ParserTables {
  std::vector<uint32_t> sym;       // per position
  std::vector<uint32_t> lhs_at;    // per position: the rule's left-hand nonterminal
  std::vector<std::vector<uint32_t>> nt_starts;  // nt -> start positions of its alternatives
  std::vector<uint8_t> nt_nullable;
  std::vector<std::string> nt_names;
  std::vector<uint32_t> ignore_lexemes;
  std::vector<uint8_t> lexeme_ignored;
  uint32_t start_nt = 0;  // augmented start S'
  uint32_t accept_pos = 0;  // position of kEndSym in S' -> S
  uint32_t max_items_in_row = 20000;
  uint64_t max_steps_per_row = 500000;
};

class Recognizer {
 public:
  Recognizer(const ParserTables& t, Lexer* lexer);

  bool PushByte(uint8_t b);
  size_t depth() const { return stack_.size(); }
  void PopTo(size_t depth);
  bool IsAccepting();
  // (lexer state, row serial) of the top: equal keys give equal masks.
  uint64_t StateKey() const {
    const Entry& e = stack_.back();
    return (static_cast<uint64_t>(row_serial_[e.row]) << 32) | e.lex;
  }
  // The same with the lexer state up to its horizon (Lexer::HorizonId): equal keys give equal masks
  // for tokens shorter than the horizon.
  uint64_t HorizonKey() const {
    const Entry& e = stack_.back();
    return (static_cast<uint64_t>(row_serial_[e.row]) << 32) | lexer_->HorizonId(e.lex);
  }
  uint32_t TopLexState() const { return stack_.back().lex; }
  const Status& limit_status() const { return limit_; }
  void ClearLimit() { limit_ = Status(); }

 private:
  struct Item {
    uint32_t pos, origin;
  };
  struct Entry {
    uint32_t lex, row;
  };
  // Scans `lexemes` (the completed lexemes of the top lexer state) from row `from`; appends a row
  // with the given serial.
  bool BuildRow(uint32_t from, const std::vector<uint32_t>& lexemes, uint32_t serial);
  // Appends the row that completing the lexemes of lexer state `lex` after the top row builds (from
  // the row cache when it was built before). False if no item survives or a limit was hit, or if
  // next_byte (>= 0) cannot start a lexeme allowed by the new row.
  bool CompleteLexemes(uint32_t lex, int next_byte = -1);
  void Closure(uint32_t row);
  bool AddItem(uint32_t pos, uint32_t origin);
  void TruncateRows(uint32_t nrows);

  const ParserTables& t_;
  Lexer* lexer_;
  std::vector<Item> items_;
  std::vector<uint32_t> row_begin_;  // rows r: items_[row_begin_[r], row_begin_[r+1]); size = rows + 1
  std::vector<uint32_t> row_lex_;    // initial lexer state of each row
  std::vector<uint8_t> row_accepting_;
  // A row's serial names its content and every row below it: the row built from the row with serial
  // f by completing the lexemes of accepting set a (LexState::accepting_id) always gets the same serial,
  // so equal StateKeys mean equal states even after the rows were truncated and built again. Rows are
  // cached under (f, a): a trie walk completes the same lexemes from the same rows in every mask (and
  // a bounded string completes the same lexeme at every position), and a row of a large object or
  // anyOf costs hundreds of items to build. Serials are never given to two different contents.
  std::vector<uint32_t> row_serial_;
  uint32_t next_serial_ = 0;
  struct CachedRow {
    uint32_t serial = 0;
    bool ok = false;  // false: no item survives (a refused lexeme end)
    uint32_t row_lex = 0;
    uint8_t accepting = 0;
    std::vector<Item> items;
  };
  std::unordered_map<uint64_t, CachedRow> row_cache_;
  uint64_t last_key_ = UINT64_MAX;  // the last row_cache_ hit (siblings in a trie walk repeat it)
  const CachedRow* last_row_ = nullptr;
  size_t row_cache_items_ = 0;
  static constexpr size_t kMaxRowCacheItems = size_t{1} << 21;  // 16 MiB of items; then it starts over
  std::vector<Entry> stack_;
  // Per-row dedup (open addressing, cleared by stamping) and per-nt "predicted in this row" stamps.
  std::vector<uint64_t> set_keys_;
  std::vector<uint32_t> set_stamp_;
  uint32_t stamp_ = 0;
  size_t set_count_ = 0;
  std::vector<uint32_t> predicted_stamp_;
  std::vector<uint32_t> allowed_scratch_;
  std::vector<uint32_t> done_scratch_;
  Status limit_;

};

}  // namespace lfm::grammar
