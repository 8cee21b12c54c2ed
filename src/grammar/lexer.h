// The lexer DFA, built lazily and shared by all matchers of one Grammar.
// A lexer state is a hash-consed set of (lexeme, regex derivative) pairs; state 0 is dead.
// Transitions are cached in per-state tables of atomics, so the hot path (one table lookup per
// byte) takes no lock; a miss computes derivatives under the mutex.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "grammar/regex.h"
#include "lfm/status.h"

namespace lfm::grammar {

inline constexpr uint32_t kDeadLexState = 0;

// What one plain character (see TokenTrie: printable ASCII except '"' and '\\', and complete non-ASCII
// UTF-8 characters) does from a lexer state, when every allowed plain character extends the lexeme to
// the same state `next` and every other one is refused outright.
struct PlainStepInfo {
  bool mixed = true;                  // no such description: characters lead to different states, or
                                      // a refused one would end the lexeme (the parser then decides)
  uint32_t next = 0;                  // kDeadLexState if no plain character is allowed
  std::array<uint64_t, 2> ascii{};    // allowed ASCII characters (bit c)
  bool non_ascii = false;             // all non-ASCII plain characters allowed (else all refused)
  bool all() const;                   // every plain character allowed
};

struct LexState {
  std::vector<std::pair<uint32_t, RxId>> comps;  // (lexeme, remaining regex), sorted
  std::vector<uint32_t> accepting;               // lexemes whose regex is nullable here
  bool accepting_ignore_only = false;            // every accepting lexeme is an %ignore one
  uint32_t accepting_id = 0;                     // equal for states with equal `accepting` (0: none)
  std::array<std::atomic<int32_t>, 256> next;    // -1 = not computed yet
  std::atomic<uint32_t> horizon_id{UINT32_MAX};  // see Lexer::HorizonId; UINT32_MAX = not computed
  std::atomic<uint32_t> short_horizon_id{UINT32_MAX};  // the same for the short horizon
  PlainStepInfo plain_step;                      // valid once plain_known is set (see PlainStep())
  std::atomic<bool> plain_known{false};
  LexState() {
    for (auto& n : next) n.store(-1, std::memory_order_relaxed);
  }
};

class Lexer {
 public:
  // Takes ownership of the regex arena (shared with the grammar's lexemes).
  Lexer(std::unique_ptr<RegexBuilder> rx, std::vector<RxId> lexeme_rx, std::vector<bool> ignored,
        uint32_t max_states);

  // Lexer state at the start of a lexeme when `allowed` (sorted) lexemes may come next.
  uint32_t InitialState(const std::vector<uint32_t>& allowed);
  uint32_t Next(uint32_t s, uint8_t b) {
    int32_t n = State(s).next[b].load(std::memory_order_acquire);
    if (n >= 0) return static_cast<uint32_t>(n);
    return NextSlow(s, b);
  }
  const LexState& State(uint32_t s) const {
    return (*chunks_[s >> kChunkBits].load(std::memory_order_acquire))[s & kChunkMask];
  }
  // Cached per state. When not mixed, a token's fate from s depends only on which plain characters
  // its plain prefix uses, how many, and what follows them (see GrammarMatcher).
  const PlainStepInfo& PlainStep(uint32_t s);
  // Two states with equal HorizonIds accept the same byte strings shorter than the horizon, along
  // which they pass through the same accepting sets: nothing a token can hold tells them apart (the
  // positions of a long bounded string, say). The horizon is fixed by the first SetHorizon; a later
  // caller needing a longer one gets false and must key on exact states.
  bool SetHorizon(uint32_t horizon);
  uint32_t HorizonId(uint32_t s) {
    uint32_t h = State(s).horizon_id.load(std::memory_order_acquire);
    return h != UINT32_MAX ? h : HorizonIdSlow(s, false);
  }
  // A second, shorter horizon for byte strings most tokens fit in (a trie subtree without long
  // tokens): counters longer than it, such as the 64 hex digits of a hash, then look alike. Fixed by
  // the first caller; returns the horizon in force (0: none).
  uint32_t SetShortHorizon(uint32_t horizon);
  uint32_t ShortHorizonId(uint32_t s) {
    uint32_t h = State(s).short_horizon_id.load(std::memory_order_acquire);
    return h != UINT32_MAX ? h : HorizonIdSlow(s, true);
  }
  bool exhausted() const { return exhausted_.load(std::memory_order_relaxed); }
  size_t num_states() const { return num_states_; }
  size_t num_transitions_computed() const { return transitions_computed_.load(std::memory_order_relaxed); }
  RegexBuilder& regex() { return *rx_; }  // only under lock / before sharing
  std::mutex& mutex() { return mu_; }

 private:
  static constexpr uint32_t kChunkBits = 6;
  static constexpr uint32_t kChunkMask = (1u << kChunkBits) - 1;
  static constexpr uint32_t kMaxChunks = 4096;
  using Chunk = std::array<LexState, 1u << kChunkBits>;

  uint32_t NextSlow(uint32_t s, uint8_t b);
  PlainStepInfo ComputePlainStep(uint32_t s);
  uint32_t HorizonIdSlow(uint32_t s, bool is_short);
  uint32_t horizon_ = 0;  // under mu_; 0 = not set
  uint32_t short_horizon_ = 0;
  std::mutex plain_mu_;  // publishes PlainStepInfo (computed outside mu_, since Next may take mu_)
  uint32_t InternLocked(std::vector<std::pair<uint32_t, RxId>> comps);

  std::mutex mu_;
  std::unique_ptr<RegexBuilder> rx_;
  std::vector<RxId> lexeme_rx_;
  std::array<uint8_t, 256> byte_class_{};  // the regex builder's byte classes (stable, see RegexBuilder)
  std::vector<std::vector<uint8_t>> class_members_;
  std::vector<bool> ignored_;
  uint32_t max_states_;
  std::array<std::atomic<Chunk*>, kMaxChunks> chunks_{};
  std::vector<std::unique_ptr<Chunk>> owned_;
  uint32_t num_states_ = 0;
  struct CompsHash {
    size_t operator()(const std::vector<std::pair<uint32_t, RxId>>& v) const;
    size_t operator()(const std::vector<uint32_t>& v) const;
  };
  std::unordered_map<std::vector<std::pair<uint32_t, RxId>>, uint32_t, CompsHash> intern_;
  std::unordered_map<std::vector<uint32_t>, uint32_t, CompsHash> initial_;
  std::unordered_map<std::vector<uint32_t>, uint32_t, CompsHash> accepting_ids_;
  std::unordered_map<std::vector<std::pair<uint32_t, RxId>>, uint32_t, CompsHash> horizon_ids_, short_horizon_ids_;
  std::atomic<bool> exhausted_{false};
  std::atomic<size_t> transitions_computed_{0};
};

}  // namespace lfm::grammar
