#include "grammar/lexer.h"

#include <algorithm>

namespace lfm::grammar {

size_t Lexer::CompsHash::operator()(const std::vector<std::pair<uint32_t, RxId>>& v) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (const auto& [lex, r] : v) h = (h ^ ((static_cast<uint64_t>(lex) << 32) | r)) * 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

size_t Lexer::CompsHash::operator()(const std::vector<uint32_t>& v) const {
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint32_t x : v) h = (h ^ x) * 0xBF58476D1CE4E5B9ull;
  return static_cast<size_t>(h ^ (h >> 31));
}

Lexer::Lexer(std::unique_ptr<RegexBuilder> rx, std::vector<RxId> lexeme_rx, std::vector<bool> ignored,
             uint32_t max_states)
    : rx_(std::move(rx)),
      lexeme_rx_(std::move(lexeme_rx)),
      ignored_(std::move(ignored)),
      max_states_(std::min<uint32_t>(max_states, kMaxChunks << kChunkBits)) {
  for (auto& c : chunks_) c.store(nullptr, std::memory_order_relaxed);
  const auto& cls = rx_->byte_class();
  class_members_.resize(rx_->class_representatives().size());
  for (int b = 0; b < 256; ++b) class_members_[cls[b]].push_back(static_cast<uint8_t>(b));
  byte_class_ = cls;
  std::lock_guard<std::mutex> lock(mu_);
  InternLocked({});  // state 0: dead
}

uint32_t Lexer::InternLocked(std::vector<std::pair<uint32_t, RxId>> comps) {
  auto it = intern_.find(comps);
  if (it != intern_.end()) return it->second;
  if (num_states_ >= max_states_) {
    // Out of budget: report dead (the byte is refused) and flag it so the matcher can say why.
    exhausted_.store(true, std::memory_order_relaxed);
    return kDeadLexState;
  }
  uint32_t id = num_states_;
  uint32_t chunk = id >> kChunkBits;
  if (chunks_[chunk].load(std::memory_order_relaxed) == nullptr) {
    owned_.push_back(std::make_unique<Chunk>());
    chunks_[chunk].store(owned_.back().get(), std::memory_order_release);
  }
  LexState& st = (*chunks_[chunk].load(std::memory_order_relaxed))[id & kChunkMask];
  st.comps = comps;
  bool only_ignore = true;
  for (auto& [lex, r] : comps) {
    if (rx_->Nullable(r)) {
      st.accepting.push_back(lex);
      if (!ignored_[lex]) only_ignore = false;
    }
  }
  st.accepting_ignore_only = !st.accepting.empty() && only_ignore;
  // Lexeme ends are told apart by what completes, not by the state they complete in (the positions of
  // a bounded string all complete the same lexeme): the recognizer keys the rows it builds on this.
  st.accepting_id = st.accepting.empty()
                        ? 0
                        : accepting_ids_.emplace(st.accepting, static_cast<uint32_t>(accepting_ids_.size() + 1))
                              .first->second;
  intern_.emplace(std::move(comps), id);
  // Publish: readers see the state only through ids returned after this point.
  std::atomic_thread_fence(std::memory_order_release);
  ++num_states_;
  return id;
}

bool Lexer::SetHorizon(uint32_t horizon) {
  std::lock_guard<std::mutex> lock(mu_);
  if (horizon_ == 0) horizon_ = horizon;
  return horizon_ >= horizon;
}

uint32_t Lexer::SetShortHorizon(uint32_t horizon) {
  std::lock_guard<std::mutex> lock(mu_);
  if (short_horizon_ == 0) short_horizon_ = horizon;
  return short_horizon_;
}

uint32_t Lexer::HorizonIdSlow(uint32_t s, bool is_short) {
  std::lock_guard<std::mutex> lock(mu_);
  LexState& st = (*chunks_[s >> kChunkBits].load(std::memory_order_relaxed))[s & kChunkMask];
  std::atomic<uint32_t>& slot = is_short ? st.short_horizon_id : st.horizon_id;
  const uint32_t horizon = is_short ? short_horizon_ : horizon_;
  auto& ids = is_short ? short_horizon_ids_ : horizon_ids_;
  uint32_t h = slot.load(std::memory_order_relaxed);
  if (h != UINT32_MAX) return h;
  if (horizon == 0 || s == kDeadLexState) {
    h = s == kDeadLexState ? 0 : UINT32_MAX - 1 - s;  // no horizon: the state itself (never equal to another's)
  } else {
    std::vector<std::pair<uint32_t, RxId>> comps;
    comps.reserve(st.comps.size());
    for (const auto& [lex, r] : st.comps) comps.emplace_back(lex, rx_->Horizon(r, horizon));
    h = ids.emplace(std::move(comps), static_cast<uint32_t>(ids.size() + 1)).first->second;
  }
  slot.store(h, std::memory_order_release);
  return h;
}

uint32_t Lexer::InitialState(const std::vector<uint32_t>& allowed) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = initial_.find(allowed);
  if (it != initial_.end()) return it->second;
  std::vector<std::pair<uint32_t, RxId>> comps;
  comps.reserve(allowed.size());
  for (uint32_t l : allowed) comps.emplace_back(l, lexeme_rx_[l]);
  uint32_t id = InternLocked(std::move(comps));
  initial_.emplace(allowed, id);
  return id;
}

uint32_t Lexer::NextSlow(uint32_t s, uint8_t b) {
  std::lock_guard<std::mutex> lock(mu_);
  LexState& st = (*chunks_[s >> kChunkBits].load(std::memory_order_relaxed))[s & kChunkMask];
  int32_t cached = st.next[b].load(std::memory_order_relaxed);
  if (cached >= 0) return static_cast<uint32_t>(cached);
  transitions_computed_.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::pair<uint32_t, RxId>> comps;
  for (auto& [lex, r] : st.comps) {
    RxId d = rx_->DerivQuick(r, b);
    if (d == rx_->Empty()) continue;
    if (rx_->node(d).may_be_empty && rx_->IsEmpty(d)) continue;
    comps.emplace_back(lex, d);
  }
  bool none = comps.empty();
  uint32_t id = none ? kDeadLexState : InternLocked(std::move(comps));
  // A state refused for lack of budget is not cached, so that the answer is not made permanent.
  // Every byte of b's class has the same derivatives: one computation fills them all.
  if (id != kDeadLexState || none) {
    for (uint8_t m : class_members_[byte_class_[b]]) st.next[m].store(static_cast<int32_t>(id), std::memory_order_release);
  }
  return id;
}

namespace {

constexpr std::array<uint64_t, 2> kPlainAscii = [] {
  std::array<uint64_t, 2> m{};
  for (int c = 0x20; c <= 0x7F; ++c)
    if (c != '"' && c != '\\') m[c >> 6] |= uint64_t{1} << (c & 63);
  return m;
}();

}  // namespace

bool PlainStepInfo::all() const { return !mixed && non_ascii && ascii == kPlainAscii; }

const PlainStepInfo& Lexer::PlainStep(uint32_t s) {
  LexState& st = const_cast<LexState&>(State(s));
  if (!st.plain_known.load(std::memory_order_acquire)) {
    PlainStepInfo info = ComputePlainStep(s);
    std::lock_guard<std::mutex> lock(plain_mu_);
    if (!st.plain_known.load(std::memory_order_relaxed)) {
      st.plain_step = info;
      st.plain_known.store(true, std::memory_order_release);
    }
  }
  return st.plain_step;
}

PlainStepInfo Lexer::ComputePlainStep(uint32_t s) {
  PlainStepInfo mixed;  // mixed = true
  if (s == kDeadLexState) return mixed;
  // The state after one byte, or kMixedMark if a refused byte would end a lexeme there.
  constexpr uint32_t kMixedMark = UINT32_MAX;
  auto step = [&](uint32_t from, uint8_t b) -> uint32_t {
    uint32_t to = Next(from, b);
    if (to == kDeadLexState && !State(from).accepting.empty()) return kMixedMark;
    return to;
  };
  PlainStepInfo info;
  info.mixed = false;
  info.next = kDeadLexState;
  auto merge = [&](uint32_t to) {
    if (to == kMixedMark) return false;
    if (to == kDeadLexState) return true;
    if (info.next == kDeadLexState) info.next = to;
    return info.next == to;
  };
  for (int c = 0x20; c <= 0x7F; ++c) {
    if (c == '"' || c == '\\') continue;
    uint32_t to = step(s, static_cast<uint8_t>(c));
    if (!merge(to)) return mixed;
    if (to != kDeadLexState) info.ascii[c >> 6] |= uint64_t{1} << (c & 63);
  }
  // Multi-byte UTF-8: (lead range, first continuation range, number of further continuations). Only
  // the state after the whole character matters, so partial characters are followed on the regexes
  // directly: no lexer state is made for them (nothing else would ever visit most of them). A
  // character refused part-way is refused, unless a lexeme could end part-way: then mixed.
  struct Seq {
    int lead_lo, lead_hi, c1_lo, c1_hi, rest;
  };
  static const Seq kSeqs[] = {{0xC2, 0xDF, 0x80, 0xBF, 0}, {0xE0, 0xE0, 0xA0, 0xBF, 1}, {0xE1, 0xEC, 0x80, 0xBF, 1},
                              {0xED, 0xED, 0x80, 0x9F, 1}, {0xEE, 0xEF, 0x80, 0xBF, 1}, {0xF0, 0xF0, 0x90, 0xBF, 2},
                              {0xF1, 0xF3, 0x80, 0xBF, 2}, {0xF4, 0xF4, 0x80, 0x8F, 2}};
  using Comps = std::vector<std::pair<uint32_t, RxId>>;
  std::lock_guard<std::mutex> lock(mu_);
  auto deriv = [&](const Comps& in, uint8_t b) {
    Comps out;
    for (const auto& [lex, r] : in) {
      RxId d = rx_->DerivQuick(r, b);
      if (d == rx_->Empty() || (rx_->node(d).may_be_empty && rx_->IsEmpty(d))) continue;
      out.emplace_back(lex, d);
    }
    return out;
  };
  auto accepting = [&](const Comps& c) {
    for (const auto& [lex, r] : c)
      if (rx_->Nullable(r)) return true;
    return false;
  };
  // One byte per class within [lo, hi]: bytes of a class have the same derivatives.
  auto class_bytes = [&](int lo, int hi) {
    std::vector<uint8_t> out;
    std::array<bool, 256> seen{};
    for (int c = lo; c <= hi; ++c) {
      uint8_t k = byte_class_[c];
      if (!seen[k]) seen[k] = true, out.push_back(static_cast<uint8_t>(c));
    }
    return out;
  };
  const Comps start = State(s).comps;
  const bool start_accepting = accepting(start);
  Comps target = info.next == kDeadLexState ? Comps{} : State(info.next).comps;
  int allowed_kinds = 0, refused_kinds = 0;  // non-ASCII must be all allowed or all refused
  for (const Seq& q : kSeqs) {
    std::vector<Comps> level;
    for (uint8_t l : class_bytes(q.lead_lo, q.lead_hi)) {
      Comps y = deriv(start, l);
      if (y.empty() && start_accepting) return mixed;
      level.push_back(std::move(y));
    }
    for (int k = 0; k <= q.rest; ++k) {
      std::sort(level.begin(), level.end());
      level.erase(std::unique(level.begin(), level.end()), level.end());
      int lo = k == 0 ? q.c1_lo : 0x80, hi = k == 0 ? q.c1_hi : 0xBF;
      std::vector<Comps> next;
      for (const Comps& x : level) {
        if (x.empty()) {
          next.emplace_back();
          continue;
        }
        const bool x_accepting = accepting(x);
        for (uint8_t c : class_bytes(lo, hi)) {
          Comps y = deriv(x, c);
          if (y.empty() && x_accepting) return mixed;
          next.push_back(std::move(y));
        }
      }
      level = std::move(next);
    }
    for (const Comps& x : level) {
      if (x.empty()) {
        ++refused_kinds;
        continue;
      }
      ++allowed_kinds;
      if (info.next == kDeadLexState) {
        // No ASCII character was allowed: the first whole character names the successor.
        uint32_t id = InternLocked(x);
        if (id == kDeadLexState) return mixed;  // out of lexer states: let the walk report it
        info.next = id;
        target = x;
      } else if (x != target) {
        return mixed;
      }
    }
    if (allowed_kinds && refused_kinds) return mixed;
  }
  info.non_ascii = allowed_kinds > 0;
  return info;
}

}  // namespace lfm::grammar
