// GrammarMatcher: advancing by tokens and bytes, and the token mask.
//
// The mask is computed by walking the vocabulary trie through the recognizer (a byte is pushed per
// trie edge; a refused byte prunes its subtree). Inside strings that walk would visit most of the
// trie, so wherever the lexer treats all plain characters alike (Lexer::PlainStep) the subtree is
// classified instead: a token is allowed iff the lexer survives its plain prefix and its suffix is
// accepted from the state the prefix leads to, and the suffixes are checked once per such state by
// walking the (much smaller) trie of distinct suffixes.
#include <algorithm>
#include <bit>

#include "grammar/grammar.h"
#include "grammar/lexer.h"
#include "grammar/recognizer.h"

namespace lfm {

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie)
    : grammar_(std::move(grammar)), trie_(std::move(trie)) {
  rec_ = std::make_unique<grammar::Recognizer>(*grammar_->tables_, grammar_->lexer_.get());
  mask_cache_keys_.fill(UINT64_MAX);
  horizon_ok_ = grammar_->lexer_->SetHorizon(static_cast<uint32_t>(trie_->max_token_bytes() + 1));
  short_horizon_ = grammar_->lexer_->SetShortHorizon(static_cast<uint32_t>(trie_->short_token_bytes() + 1));
}

uint64_t GrammarMatcher::Key() const { return horizon_ok_ ? rec_->HorizonKey() : rec_->StateKey(); }

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

bool GrammarMatcher::PlainChain(uint32_t lex, size_t need, PlainChainInfo* ch) {
  grammar::Lexer* lexer = grammar_->lexer_.get();
  ch->states.assign(1, lex);
  ch->loops = false;
  const grammar::PlainStepInfo& first = lexer->PlainStep(lex);
  if (first.mixed) return false;
  ch->ascii = first.ascii;
  ch->non_ascii = first.non_ascii;
  ch->all = first.all();
  while (ch->states.size() <= need) {
    uint32_t cur = ch->states.back();
    const grammar::PlainStepInfo& st = lexer->PlainStep(cur);
    if (st.mixed) return false;
    if (st.next == grammar::kDeadLexState) return true;
    // Which characters are allowed must not depend on the position (a token only records the set).
    if (st.ascii != ch->ascii || st.non_ascii != ch->non_ascii) return false;
    if (st.next == cur) {
      ch->loops = true;
      return true;
    }
    ch->states.push_back(st.next);
  }
  return true;
}

const GrammarMatcher::SuffixSet* GrammarMatcher::SuffixOk(size_t plain_steps) {
  const size_t base = rec_->depth();
  // One allowed plain character stands for all of them (they lead to the same state); the lexer
  // only extends its lexeme, so the parser state is untouched.
  for (size_t k = 0; k < plain_steps; ++k) {
    if (!rec_->PushByte(suffix_fill_char_)) {
      rec_->PopTo(base);
      return nullptr;  // cannot happen for a valid chain; the caller then rejects the tokens
    }
  }
  uint64_t key = Key();
  if (memo_ids_ > kMaxMemoIds) {  // bounded memory; it is only a cache
    suffix_memo_.clear();
    memo_ids_ = 0;
  }
  auto found = suffix_index_.find(key);
  if (found != suffix_index_.end()) {
    rec_->PopTo(base);
    return &suffix_cache_[found->second];
  }
  ++stats_.suffix_sets;
  const size_t nsuf = trie_->num_suffixes();
  std::vector<uint64_t> ok(nsuf / 64 + 1, 0);
  ok[nsuf >> 6] |= uint64_t{1} << (nsuf & 63);  // the empty suffix of plain tokens (not listed)
  const auto& nodes = trie_->suffix_nodes();
  const int32_t* sids = trie_->suffix_ids().data();
  const size_t top = rec_->depth();
  // A subtree reached in a recognizer state it was already walked from accepts the same suffixes
  // (the key names the state: row serials are never reused). Successive positions of a bounded
  // string, for one, share everything after the closing quote. open: subtrees being recorded.
  struct Open {
    size_t end;
    MemoKey key;
    size_t log_begin;
  };
  std::vector<Open> open;
  std::vector<int32_t>& log = memo_log_;
  log.clear();
  auto close_until = [&](size_t i) {
    while (!open.empty() && i >= open.back().end) {
      memo_ids_ += log.size() - open.back().log_begin;
      suffix_memo_.emplace(open.back().key, std::vector<int32_t>(log.begin() + open.back().log_begin, log.end()));
      open.pop_back();
    }
  };
  auto accept = [&](int32_t sid) {
    ok[sid >> 6] |= uint64_t{1} << (sid & 63);
    log.push_back(sid);
  };
  for (size_t i = 0; i < nodes.size();) {
    close_until(i);
    const TokenTrie::Node& nd = nodes[i];
    rec_->PopTo(top + nd.depth - 1);
    if (!rec_->PushByte(nd.byte)) {
      i += nd.subtree;
      continue;
    }
    ++stats_.suffix_nodes;
    if (nd.subtree >= kMinMemoSubtree) {
      MemoKey mk{static_cast<uint32_t>(i), Key()};
      auto hit = suffix_memo_.find(mk);
      if (hit != suffix_memo_.end()) {
        for (int32_t sid : hit->second) accept(sid);
        i += nd.subtree;
        continue;
      }
      open.push_back({i + nd.subtree, mk, log.size()});
    }
    for (uint32_t k = 0; k < nd.tok_count; ++k) accept(sids[nd.tok_begin + k]);
    ++i;
  }
  close_until(nodes.size());
  rec_->PopTo(base);
  suffix_index_.emplace(key, suffix_cache_.size());
  suffix_cache_.push_back(SuffixSet{std::move(ok), log});
  return &suffix_cache_.back();
}

void GrammarMatcher::Classify(const TokenTrie::TokenClass* toks, size_t count, uint16_t node_chars,
                              const PlainChainInfo& ch, uint32_t* bits) {
  const size_t nstates = ch.states.size();
  stats_.classified_tokens += count;
  suffix_fill_char_ = FillChar(ch);
  if (ch.loops && nstates == 1) {
    // The common case (a free string body): one suffix set, no length limit; branch-free.
    const SuffixSet* okp = SuffixOk(0);
    if (!okp) return;
    const uint64_t* ok = okp->bits.data();
    for (size_t i = 0; i < count; ++i) {
      const TokenTrie::TokenClass& tc = toks[i];
      uint32_t allowed = static_cast<uint32_t>(ok[tc.suffix_id >> 6] >> (tc.suffix_id & 63)) & 1;
      bits[tc.id >> 5] |= allowed << (tc.id & 31);
    }
    return;
  }
  // Suffix sets are computed lazily, per chain position that some token actually reaches.
  suffix_by_step_.assign(nstates, nullptr);
  suffix_done_.assign(nstates, 0);
  for (size_t i = 0; i < count; ++i) {
    const TokenTrie::TokenClass& tc = toks[i];
    size_t r = tc.plain_chars - node_chars;
    if (r >= nstates) {
      if (!ch.loops) continue;  // the lexer dies inside the plain prefix
      r = nstates - 1;
    }
    if (!suffix_done_[r]) {
      suffix_by_step_[r] = SuffixOk(r);
      suffix_done_[r] = 1;
    }
    const SuffixSet* ok = suffix_by_step_[r];
    if (!ok || !((ok->bits[tc.suffix_id >> 6] >> (tc.suffix_id & 63)) & 1)) continue;
    bits[tc.id >> 5] |= 1u << (tc.id & 31);
  }
}

uint8_t GrammarMatcher::FillChar(const PlainChainInfo& ch) {
  for (int c = 0x20; c < 0x80; ++c)
    if ((ch.ascii[c >> 6] >> (c & 63)) & 1) return static_cast<uint8_t>(c);
  return 'a';  // unreachable: chains without an allowed ASCII character are walked, not classified
}

void GrammarMatcher::ClassifyRoot(const PlainChainInfo& ch, uint32_t* bits) {
  suffix_fill_char_ = FillChar(ch);
  const size_t nstates = ch.states.size();
  const auto& toks = trie_->by_suffix();
  const auto& chars = trie_->by_suffix_chars();
  auto chars_ok = [&](uint32_t k) {
    const TokenTrie::PrefixChars& pc = chars[k];
    return ((pc.ascii[0] & ~ch.ascii[0]) | (pc.ascii[1] & ~ch.ascii[1])) == 0 && (!pc.non_ascii || ch.non_ascii);
  };
  // Plain tokens: allowed if the lexer survives their length (and, for a class, their characters).
  auto [pb, pe] = trie_->SuffixTokens(static_cast<uint32_t>(trie_->num_suffixes()));
  if (ch.all) {
    const auto& plain = ch.loops ? trie_->plain_mask() : trie_->plain_mask_upto(static_cast<int64_t>(nstates) - 1);
    for (size_t w = 0; w < plain.size(); ++w) bits[w] |= plain[w];
  } else {
    for (uint32_t k = pb; k < pe; ++k) {
      if (!ch.loops && toks[k].plain_chars >= nstates) break;  // sorted by length
      if (chars_ok(k)) bits[toks[k].id >> 5] |= 1u << (toks[k].id & 31);
    }
  }
  // Suffixed tokens, allowed if their suffix is accepted after their prefix.
  if (nstates == 1) {
    // One position (a free string body, or no plain character allowed): the tokens are found
    // through the (usually short) list of accepted suffixes.
    const SuffixSet* ok = SuffixOk(0);
    if (!ok) return;
    for (int32_t sid : ok->sids) {
      auto [b, e] = trie_->SuffixTokens(static_cast<uint32_t>(sid));
      for (uint32_t k = b; k < e && (ch.loops || toks[k].plain_chars == 0); ++k)  // sorted by length
        if (ch.all || chars_ok(k)) bits[toks[k].id >> 5] |= 1u << (toks[k].id & 31);
    }
    return;
  }
  // Several positions (a bounded string): one accepted-suffix set per position, computed lazily.
  const auto& by_len = trie_->suffixed_by_len();
  const auto& by_len_chars = trie_->suffixed_by_len_chars();
  const SuffixSet* ok = nullptr;
  size_t ok_pos = SIZE_MAX;
  for (size_t k = 0; k < by_len.size(); ++k) {
    const TokenTrie::TokenClass& tc = by_len[k];
    size_t r = tc.plain_chars;
    if (r >= nstates) {
      if (!ch.loops) break;  // sorted by length: the lexer dies inside every remaining prefix
      r = nstates - 1;
    }
    if (r != ok_pos) {
      ok = SuffixOk(r);
      ok_pos = r;
    }
    if (!ok || !((ok->bits[tc.suffix_id >> 6] >> (tc.suffix_id & 63)) & 1)) continue;
    const TokenTrie::PrefixChars& pc = by_len_chars[k];
    if (!ch.all && (((pc.ascii[0] & ~ch.ascii[0]) | (pc.ascii[1] & ~ch.ascii[1])) || (pc.non_ascii && !ch.non_ascii)))
      continue;
    bits[tc.id >> 5] |= 1u << (tc.id & 31);
  }
}

bool GrammarMatcher::CanJump(size_t i, uint32_t lex) {
  const TokenTrie::Node& nd = trie_->nodes()[i];
  const uint16_t node_chars = trie_->node_plain_chars()[i];
  // Below the root a token's prefix-character set includes the path, so only states that allow
  // every plain character are classified here.
  if (nd.subtree < kMinJumpSubtree || node_chars == TokenTrie::kNotPlainPath) return false;
  return PlainChain(lex, trie_->max_plain_chars() - node_chars, &chain_) && chain_.all;
}

void GrammarMatcher::Jump(size_t i, uint32_t* bits) {
  ++stats_.jumps;
  const TokenTrie::Node& nd = trie_->nodes()[i];
  const uint16_t node_chars = trie_->node_plain_chars()[i];
  auto [tb, te] = trie_->SubtreeTokens(i);
  tb += nd.tok_count;
  if (chain_.loops && chain_.states.size() == 1) {
    // A free string body: every plain token of the subtree is allowed (set in bulk at the end),
    // the suffixed ones depend on their suffix.
    uint32_t sb = trie_->suffixed_before(tb), se = trie_->suffixed_before(te);
    Classify(trie_->suffixed_dfs().data() + sb, se - sb, node_chars, chain_, bits);
    uint32_t pb = trie_->plain_before(tb), pe = trie_->plain_before(te);
    if (pb < pe) plain_ranges_.emplace_back(pb, pe);
  } else {
    Classify(trie_->token_classes().data() + tb, te - tb, node_chars, chain_, bits);
  }
}

void GrammarMatcher::MarkTokens(const TokenTrie::Node& nd, uint32_t* bits) {
  const int32_t* ids = trie_->token_ids().data();
  for (uint32_t k = 0; k < nd.tok_count; ++k) {
    int32_t id = ids[nd.tok_begin + k];
    bits[id >> 5] |= 1u << (id & 31);
  }
}

void GrammarMatcher::WalkRec(size_t begin, size_t end, size_t base, uint32_t* bits) {
  // Every byte through the recognizer (lexeme ends build parser rows).
  const auto& nodes = trie_->nodes();
  for (size_t i = begin; i < end;) {
    ++stats_.recognizer_nodes;
    const TokenTrie::Node& nd = nodes[i];
    rec_->PopTo(base + nd.depth - 1);
    if (!rec_->PushByte(nd.byte)) {
      i += nd.subtree;
      continue;
    }
    MarkTokens(nd, bits);
    if (CanJump(i, rec_->TopLexState())) {
      Jump(i, bits);
      i += nd.subtree;
      continue;
    }
    ++i;
  }
}

void GrammarMatcher::WalkAll(uint32_t* bits) {
  // Bytes that extend the current lexeme only move the lexer, so the walk follows the lexer alone
  // (a table lookup per trie node) and brings the recognizer along only where it is needed: where a
  // lexeme would end (the parser decides what follows) and before classifying a subtree.
  plain_ranges_.clear();
  grammar::Lexer* lexer = grammar_->lexer_.get();
  const auto& nodes = trie_->nodes();
  const size_t base = rec_->depth();
  const size_t n = nodes.size();
  lex_path_.resize(trie_->max_token_bytes() + 1);
  byte_path_.resize(trie_->max_token_bytes() + 1);
  lex_path_[0] = rec_->TopLexState();
  size_t synced = 0;  // the recognizer holds byte_path_[0, synced) above base
  auto sync = [&](size_t d) {
    if (synced > d) synced = d;
    rec_->PopTo(base + synced);
    for (; synced < d; ++synced) rec_->PushByte(byte_path_[synced]);  // extensions: cannot fail
  };
  // Below the root the recognizer is the base row plus the lexer state at the node (bytes inside a
  // lexeme build no rows), so a subtree's allowed tokens are a function of (node, row, lexer state).
  if (walk_memo_ids_ > kMaxMemoIds) {
    walk_memo_.clear();
    walk_memo_ids_ = 0;
  }
  const uint64_t row_part = rec_->StateKey() & 0xFFFFFFFF00000000ull;
  const int32_t* token_ids = trie_->token_ids().data();
  walk_open_.clear();
  auto close_until = [&](size_t i) {
    while (!walk_open_.empty() && i >= walk_open_.back().end) {
      const WalkOpen& o = walk_open_.back();
      if (stats_.lexer_nodes - o.lexer_nodes_before < kMinWalkMemoNodes) {  // cheap to walk again
        walk_open_.pop_back();
        continue;
      }
      WalkMemo memo;
      auto [tb, te] = trie_->SubtreeTokens(o.node);
      for (uint32_t k = tb; k < te; ++k) {
        int32_t id = token_ids[k];
        if ((bits[id >> 5] >> (id & 31)) & 1) memo.ids.push_back(id);
      }
      memo.ranges.assign(plain_ranges_.begin() + o.ranges_begin, plain_ranges_.end());
      walk_memo_ids_ += memo.ids.size() + memo.ranges.size() + 1;
      walk_memo_.emplace(o.key, std::move(memo));
      walk_open_.pop_back();
    }
  };
  for (size_t i = 0; i < n;) {
    close_until(i);
    ++stats_.lexer_nodes;
    const TokenTrie::Node& nd = nodes[i];
    const size_t d = nd.depth;
    if (synced > d - 1) synced = d - 1;
    const uint32_t from = lex_path_[d - 1];
    const uint32_t to = lexer->Next(from, nd.byte);
    if (to == grammar::kDeadLexState) {
      if (!lexer->State(from).accepting.empty()) {
        sync(d - 1);
        WalkRec(i, i + nd.subtree, base, bits);
        rec_->PopTo(base + d - 1);
      }
      i += nd.subtree;
      continue;
    }
    lex_path_[d] = to;
    byte_path_[d - 1] = nd.byte;
    MemoKey mk{};
    const bool memo = d <= kMaxWalkMemoDepth && nd.subtree >= kMinWalkMemoSubtree;
    if (memo) {
      // Tokens of the subtree have at most nd.height bytes after this node: a horizon beyond that
      // tells nothing more (the short one lets long counters match, the 64 digits of a hash).
      const uint32_t h = nd.height < short_horizon_ ? lexer->ShortHorizonId(to) : horizon_ok_ ? lexer->HorizonId(to) : to;
      mk = MemoKey{static_cast<uint32_t>(i), row_part | h};
      auto hit = walk_memo_.find(mk);
      if (hit != walk_memo_.end()) {
        ++stats_.walk_memo_hits;
        for (int32_t id : hit->second.ids) bits[id >> 5] |= 1u << (id & 31);
        plain_ranges_.insert(plain_ranges_.end(), hit->second.ranges.begin(), hit->second.ranges.end());
        i += nd.subtree;
        continue;
      }
    }
    MarkTokens(nd, bits);
    if (CanJump(i, to)) {
      sync(d);
      Jump(i, bits);
      i += nd.subtree;
      continue;
    }
    if (memo) walk_open_.push_back({i, i + nd.subtree, mk, plain_ranges_.size(), stats_.lexer_nodes});
    ++i;
  }
  close_until(n);
  rec_->PopTo(base);
  SetPlainRanges(bits);
}

void GrammarMatcher::SetPlainRanges(uint32_t* bits) {
  // plain_ranges_ are disjoint and increasing (DFS order). Setting their tokens one by one costs the
  // number inside them; when that is most plain tokens, start from the plain mask and clear the
  // tokens outside them instead.
  const auto& plain = trie_->plain_dfs();
  size_t inside = 0;
  for (auto [a, b] : plain_ranges_) inside += b - a;
  if (inside * 2 <= plain.size()) {
    for (auto [a, b] : plain_ranges_)
      for (uint32_t k = a; k < b; ++k) bits[plain[k] >> 5] |= 1u << (plain[k] & 31);
    return;
  }
  scratch_mask_ = trie_->plain_mask();
  uint32_t pos = 0;
  auto clear_until = [&](uint32_t end) {
    for (; pos < end; ++pos) scratch_mask_[plain[pos] >> 5] &= ~(1u << (plain[pos] & 31));
  };
  for (auto [a, b] : plain_ranges_) {
    clear_until(a);
    pos = b;
  }
  clear_until(static_cast<uint32_t>(plain.size()));
  for (size_t w = 0; w < scratch_mask_.size(); ++w) bits[w] |= scratch_mask_[w];
}

Status GrammarMatcher::ComputeMask(std::vector<uint32_t>* bitmask) {
  bitmask->assign(trie_->mask_words(), 0);
  if (terminated_) return InvalidArgument("ComputeMask after the grammar terminated (EOS accepted)");
  stats_ = MaskStats{};
  const size_t lexer_states_before = grammar_->lexer_->num_states();
  const size_t transitions_before = grammar_->lexer_->num_transitions_computed();
  rec_->ClearLimit();
  uint64_t key = Key();
  for (size_t k = 0; k < kCachedMasks; ++k) {
    if (mask_cache_keys_[k] == key) {
      *bitmask = mask_cache_[k];
      stats_.cached = true;
      return Status();
    }
  }
  uint32_t* bits = bitmask->data();
  // Accepted-suffix sets stay valid as long as their row exists (serials are never reused); kept
  // across masks so that a bounded string's next position is mostly known already. Bounded.
  if (suffix_cache_.size() > kMaxSuffixSets) {
    suffix_cache_.clear();
    suffix_index_.clear();
  }
  // Classifying reads every token once; with few allowed characters walking the trie is cheaper.
  const bool classify = PlainChain(rec_->TopLexState(), trie_->max_plain_chars(), &chain_) &&
                        std::popcount(chain_.ascii[0]) + std::popcount(chain_.ascii[1]) >= kMinClassChars;
  stats_.classified_root = classify;
  if (classify) {
    ClassifyRoot(chain_, bits);
  } else {
    WalkAll(bits);
  }
  stats_.new_lexer_states = static_cast<uint32_t>(grammar_->lexer_->num_states() - lexer_states_before);
  stats_.new_transitions =
      static_cast<uint32_t>(grammar_->lexer_->num_transitions_computed() - transitions_before);
  bool any = false;
  for (uint32_t w : *bitmask) any |= w != 0;
  if (rec_->IsAccepting()) {
    for (int32_t e : trie_->eos_ids()) (*bitmask)[e >> 5] |= 1u << (e & 31), any = true;
  }
  Status lim = LimitStatus();
  if (!lim.ok()) {
    walk_memo_.clear();  // subtrees walked past a limit may be incomplete
    walk_memo_ids_ = 0;
    return lim;
  }
  if (!any) return Internal("grammar matcher: no token allowed in a non-accepting state (dead end)");
  mask_cache_keys_[mask_cache_next_] = key;
  mask_cache_[mask_cache_next_] = *bitmask;
  mask_cache_next_ = (mask_cache_next_ + 1) % kCachedMasks;
  return Status();
}

}  // namespace lfm
