#include "grammar/grammar.h"

#include <algorithm>

#include "grammar/cfg.h"
#include "grammar/lexer.h"
#include "grammar/recognizer.h"
#include "grammar/regex.h"

namespace lfm {

using grammar::Cfg;
using grammar::IsNt;
using grammar::NtOf;
using grammar::NtSym;
using grammar::RxId;

Grammar::Grammar() = default;
Grammar::~Grammar() = default;

size_t Grammar::num_lexemes() const { return tables_->lexeme_ignored.size(); }
size_t Grammar::num_rules() const { return tables_->nt_starts.size(); }

Result<std::shared_ptr<const Grammar>> Grammar::FromCfg(Cfg cfg, std::unique_ptr<grammar::RegexBuilder> rx,
                                                         const GrammarLimits& limits) {
  if (cfg.NumSymbols() > limits.max_grammar_symbols) {
    return ResourceExhausted("grammar has " + std::to_string(cfg.NumSymbols()) + " symbols, over the limit of " +
                             std::to_string(limits.max_grammar_symbols));
  }
  const size_t nlex = cfg.lexemes.size();
  // 1. Lexemes must not match the empty string (a greedy lexer could never finish them):
  //    L becomes (L & ~ε), and each use of it becomes an optional nonterminal.
  std::vector<uint32_t> replace(nlex, UINT32_MAX);  // lexeme -> symbol to use instead
  std::vector<uint8_t> drop(nlex, 0);               // lexeme matching only ε: occurrences vanish
  std::vector<uint8_t> productive_lex(nlex, 1);
  for (size_t l = 0; l < nlex; ++l) {
    RxId r = cfg.lexemes[l];
    if (rx->Nullable(r)) {
      RxId r2 = rx->And(r, rx->Not(rx->Eps()));
      if (rx->IsEmpty(r2)) {
        drop[l] = 1;
        productive_lex[l] = 0;
        cfg.lexemes[l] = rx->Empty();
        continue;
      }
      cfg.lexemes[l] = r2;
      if (!cfg.lexeme_ignored[l]) {
        uint32_t opt = cfg.AddNt("opt_lexeme_" + std::to_string(l));
        cfg.AddRule(opt, {static_cast<uint32_t>(l)});
        cfg.AddRule(opt, {});
        replace[l] = NtSym(opt);
      }
    } else if (rx->IsEmpty(r)) {
      productive_lex[l] = 0;
    }
  }
  const size_t nnt = cfg.rules.size();
  for (size_t nt = 0; nt < nnt; ++nt) {
    for (auto& alt : cfg.rules[nt]) {
      if (alt.size() == 1 && !IsNt(alt[0]) && replace[alt[0]] != UINT32_MAX &&
          cfg.nt_names[nt].rfind("opt_lexeme_", 0) == 0)
        continue;
      std::vector<uint32_t> out;
      out.reserve(alt.size());
      for (uint32_t s : alt) {
        if (!IsNt(s) && drop[s]) continue;
        out.push_back(!IsNt(s) && replace[s] != UINT32_MAX ? replace[s] : s);
      }
      alt = std::move(out);
    }
  }
  // 2. Productivity: drop alternatives that can never complete.
  std::vector<uint8_t> prod(nnt, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t nt = 0; nt < nnt; ++nt) {
      if (prod[nt]) continue;
      for (auto& alt : cfg.rules[nt]) {
        bool ok = true;
        for (uint32_t s : alt) ok &= IsNt(s) ? prod[NtOf(s)] != 0 : productive_lex[s] != 0;
        if (ok) {
          prod[nt] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  if (!prod[cfg.start]) return InvalidArgument("the grammar matches nothing (unsatisfiable)");
  for (size_t nt = 0; nt < nnt; ++nt) {
    auto& alts = cfg.rules[nt];
    alts.erase(std::remove_if(alts.begin(), alts.end(),
                              [&](const std::vector<uint32_t>& alt) {
                                for (uint32_t s : alt)
                                  if (IsNt(s) ? !prod[NtOf(s)] : !productive_lex[s]) return true;
                                return false;
                              }),
               alts.end());
  }
  // 3. Nullable nonterminals.
  std::vector<uint8_t> nullable(nnt, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t nt = 0; nt < nnt; ++nt) {
      if (nullable[nt]) continue;
      for (auto& alt : cfg.rules[nt]) {
        bool ok = true;
        for (uint32_t s : alt) ok &= IsNt(s) && nullable[NtOf(s)];
        if (ok) {
          nullable[nt] = 1;
          changed = true;
          break;
        }
      }
    }
  }
  // 4. Flatten, with the augmented start S' -> S.
  auto t = std::make_unique<grammar::ParserTables>();
  t->max_items_in_row = limits.max_items_in_row;
  t->max_steps_per_row = limits.max_steps_per_row;
  t->nt_starts.resize(nnt + 1);
  t->nt_nullable = nullable;
  t->nt_nullable.push_back(nullable[cfg.start]);
  t->nt_names = cfg.nt_names;
  t->nt_names.push_back("start'");
  for (size_t nt = 0; nt < nnt; ++nt) {
    for (auto& alt : cfg.rules[nt]) {
      t->nt_starts[nt].push_back(static_cast<uint32_t>(t->sym.size()));
      for (uint32_t s : alt) {
        t->sym.push_back(s);
        t->lhs_at.push_back(static_cast<uint32_t>(nt));
      }
      t->sym.push_back(grammar::kEndSym);
      t->lhs_at.push_back(static_cast<uint32_t>(nt));
    }
  }
  t->start_nt = static_cast<uint32_t>(nnt);
  t->nt_starts[nnt].push_back(static_cast<uint32_t>(t->sym.size()));
  t->sym.push_back(NtSym(cfg.start));
  t->lhs_at.push_back(static_cast<uint32_t>(nnt));
  t->accept_pos = static_cast<uint32_t>(t->sym.size());
  t->sym.push_back(grammar::kEndSym);
  t->lhs_at.push_back(static_cast<uint32_t>(nnt));
  t->lexeme_ignored.assign(cfg.lexeme_ignored.begin(), cfg.lexeme_ignored.end());
  for (size_t l = 0; l < nlex; ++l)
    if (cfg.lexeme_ignored[l] && productive_lex[l]) t->ignore_lexemes.push_back(static_cast<uint32_t>(l));

  std::shared_ptr<Grammar> g(new Grammar());
  g->limits_ = limits;
  g->tables_ = std::move(t);
  g->lexer_ = std::make_unique<grammar::Lexer>(std::move(rx), cfg.lexemes, cfg.lexeme_ignored,
                                               limits.max_lexer_states);
  return std::shared_ptr<const Grammar>(std::move(g));
}

}  // namespace lfm
