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

// ---------------------------------------------------------------------------------------------
// GrammarMatcher

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie)
    : grammar_(std::move(grammar)), trie_(std::move(trie)) {
  rec_ = std::make_unique<grammar::Recognizer>(*grammar_->tables_, grammar_->lexer_.get());
}

GrammarMatcher::~GrammarMatcher() = default;

Status GrammarMatcher::LimitStatus() const {
  if (!rec_->limit_status().ok()) return rec_->limit_status();
  if (grammar_->lexer_->exhausted())
    return ResourceExhausted("lexer exceeded " + std::to_string(grammar_->limits_.max_lexer_states) + " states");
  return Status();
}

bool GrammarMatcher::AcceptBytes(std::string_view bytes) {
  if (terminated_) return false;
  size_t depth = rec_->depth();
  for (char c : bytes) {
    if (!rec_->PushByte(static_cast<uint8_t>(c))) {
      rec_->PopTo(depth);
      return false;
    }
  }
  return true;
}

size_t GrammarMatcher::Checkpoint() const { return rec_->depth(); }

void GrammarMatcher::RollbackTo(size_t checkpoint) {
  rec_->PopTo(checkpoint);
  terminated_ = false;
}

bool GrammarMatcher::IsAccepting() { return !terminated_ && rec_->IsAccepting(); }

Status GrammarMatcher::AcceptToken(int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= trie_->vocab_size())
    return InvalidArgument("token id " + std::to_string(id) + " outside the vocabulary");
  if (terminated_) return InvalidArgument("token " + std::to_string(id) + " after the end of the grammar");
  if (trie_->is_eos(id)) {
    if (!rec_->IsAccepting()) return InvalidArgument("EOS token " + std::to_string(id) + " before the grammar is complete");
    terminated_ = true;
    return Status();
  }
  if (trie_->is_special(id)) return InvalidArgument("special token " + std::to_string(id) + " not allowed by the grammar");
  const std::string& b = trie_->token_bytes(id);
  if (b.empty() || !AcceptBytes(b)) {
    Status lim = LimitStatus();
    if (!lim.ok()) return lim;
    return InvalidArgument("token " + std::to_string(id) + " not allowed by the grammar here");
  }
  return Status();
}

void GrammarMatcher::Walk(const std::vector<TokenTrie::Node>& nodes, uint32_t* bits) {
  const size_t base = rec_->depth();
  const int32_t* ids = trie_->token_ids().data();
  const size_t n = nodes.size();
  for (size_t i = 0; i < n;) {
    const TokenTrie::Node& nd = nodes[i];
    rec_->PopTo(base + nd.depth - 1);
    if (rec_->PushByte(nd.byte)) {
      for (uint32_t k = 0; k < nd.tok_count; ++k) {
        int32_t id = ids[nd.tok_begin + k];
        bits[id >> 5] |= 1u << (id & 31);
      }
      ++i;
    } else {
      i += nd.subtree;
    }
  }
  rec_->PopTo(base);
}

Status GrammarMatcher::ComputeMask(std::vector<uint32_t>* bitmask) {
  bitmask->assign(trie_->mask_words(), 0);
  if (terminated_) return InvalidArgument("ComputeMask after the grammar terminated (EOS accepted)");
  rec_->ClearLimit();
  uint64_t key = rec_->StateKey();
  if (key == cache_key_) {
    *bitmask = cache_mask_;
    return Status();
  }
  uint32_t* bits = bitmask->data();
  grammar::Lexer* lexer = grammar_->lexer_.get();
  int64_t cls = lexer->PlainClass(rec_->TopLexState());
  if (cls != grammar::Lexer::kPlainUnknown) {
    const auto& plain = cls == grammar::Lexer::kPlainAll ? trie_->plain_mask() : trie_->plain_mask_upto(cls);
    for (size_t w = 0; w < plain.size(); ++w) bits[w] |= plain[w];
    Walk(trie_->rest_nodes(), bits);
  } else {
    Walk(trie_->nodes(), bits);
  }
  bool any = false;
  for (uint32_t w : *bitmask) any |= w != 0;
  if (rec_->IsAccepting()) {
    for (int32_t e : trie_->eos_ids()) (*bitmask)[e >> 5] |= 1u << (e & 31), any = true;
  }
  Status lim = LimitStatus();
  if (!lim.ok()) return lim;
  if (!any) return Internal("grammar matcher: no token allowed in a non-accepting state (dead end)");
  cache_key_ = key;
  cache_mask_ = *bitmask;
  return Status();
}

}  // namespace lfm
