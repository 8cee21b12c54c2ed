// The grammar IR every front end produces: a context-free grammar whose terminals are lexemes
// (byte-level regexes). Built mutable by a front end, then frozen into a Grammar.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/regex.h"

namespace lfm::grammar {

inline constexpr uint32_t kNtBit = 0x80000000u;
inline bool IsNt(uint32_t sym) { return (sym & kNtBit) != 0; }
inline uint32_t NtSym(uint32_t nt) { return nt | kNtBit; }
inline uint32_t NtOf(uint32_t sym) { return sym & ~kNtBit; }

struct Cfg {
  std::vector<RxId> lexemes;            // terminal id -> regex
  std::vector<bool> lexeme_ignored;     // %ignore lexemes may occur between any two lexemes
  std::vector<std::string> nt_names;
  std::vector<std::vector<std::vector<uint32_t>>> rules;  // nt -> alternatives -> symbols
  uint32_t start = 0;
  std::unordered_map<RxId, uint32_t> lexeme_of_rx;

  // Same regex, same lexeme: keeps lexer state sets small.
  uint32_t Lexeme(RxId rx) {
    auto it = lexeme_of_rx.find(rx);
    if (it != lexeme_of_rx.end()) return it->second;
    uint32_t id = static_cast<uint32_t>(lexemes.size());
    lexemes.push_back(rx);
    lexeme_ignored.push_back(false);
    lexeme_of_rx.emplace(rx, id);
    return id;
  }
  uint32_t IgnoreLexeme(RxId rx) {
    uint32_t id = static_cast<uint32_t>(lexemes.size());
    lexemes.push_back(rx);
    lexeme_ignored.push_back(true);
    return id;
  }
  uint32_t AddNt(std::string name) {
    nt_names.push_back(std::move(name));
    rules.emplace_back();
    return static_cast<uint32_t>(rules.size() - 1);
  }
  void AddRule(uint32_t nt, std::vector<uint32_t> rhs) { rules[nt].push_back(std::move(rhs)); }
  size_t NumSymbols() const {
    size_t n = 0;
    for (auto& alts : rules)
      for (auto& a : alts) n += a.size() + 1;
    return n;
  }
};

}  // namespace lfm::grammar
