// Byte-level regular expressions as hash-consed nodes with Brzozowski derivatives.
// Each distinct node is a DFA state; the automaton is built lazily, one cached derivative at a
// time. Intersection (And) and complement (Not) come for free with derivatives, which the JSON
// Schema compiler needs (pattern AND length, "any key except the listed ones").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lfm/status.h"

namespace lfm::grammar {

using RxId = uint32_t;
inline constexpr uint32_t kRxInf = UINT32_MAX;

struct ByteSet {
  std::array<uint64_t, 4> w{};
  void Set(uint8_t b) { w[b >> 6] |= uint64_t{1} << (b & 63); }
  void SetRange(int lo, int hi) {
    for (int b = lo; b <= hi; ++b) Set(static_cast<uint8_t>(b));
  }
  bool Has(uint8_t b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  bool Empty() const { return (w[0] | w[1] | w[2] | w[3]) == 0; }
  bool operator==(const ByteSet&) const = default;
};

enum class RxKind : uint8_t { kEmpty, kEps, kBytes, kConcat, kOr, kAnd, kNot, kRepeat, kMod };

struct RxNode {
  RxKind kind;
  bool nullable;
  bool may_be_empty;  // contains And/Not: syntactic non-emptiness is not proof of non-emptiness
  uint32_t a = 0, b = 0;  // children (Concat: a b; Not/Repeat: a); Bytes: byteset index
  uint32_t lo = 0, hi = 0;  // Repeat {lo,hi}; Mod: modulus, remainder(+started flag in b)
  uint32_t kids_begin = 0, kids_count = 0;  // Or/And children in kids_
  // A counted repetition (Repeat) somewhere inside: only those nodes change under Horizon(), which
  // can then skip the rest (a trie of 200k enum literals has none: rebuilding it cost 20 s at the
  // first mask).
  bool has_repeat = false;
};

// Owns all nodes. Not thread-safe: the Grammar guards it with a mutex after compilation.
class RegexBuilder {
 public:
  RegexBuilder();

  RxId Empty() const { return 0; }
  RxId Eps() const { return 1; }
  RxId Any() const { return any_; }  // every byte string: ~Empty
  RxId Bytes(const ByteSet& s);
  RxId Byte(uint8_t b);
  RxId Literal(std::string_view s);
  RxId Concat(RxId a, RxId b);
  RxId Concat(const std::vector<RxId>& xs);
  RxId Or(std::vector<RxId> xs);
  RxId Or(RxId a, RxId b) { return Or(std::vector<RxId>{a, b}); }
  RxId And(std::vector<RxId> xs);
  RxId And(RxId a, RxId b) { return And(std::vector<RxId>{a, b}); }
  RxId Not(RxId a);
  RxId Repeat(RxId a, uint32_t lo, uint32_t hi);
  RxId Optional(RxId a) { return Or(a, Eps()); }
  // Decimal digit strings whose value is a multiple of k (k >= 1); leading zeros are the
  // caller's business (intersect with an integer syntax regex).
  RxId MultipleOfDigits(uint32_t k);

  const RxNode& node(RxId id) const { return nodes_[id]; }
  bool Nullable(RxId id) const { return nodes_[id].nullable; }
  RxId Deriv(RxId id, uint8_t byte);
  // Deriv without the cache lookup for a regex that starts with a byte set (a literal's rest, as in
  // the dozens of object-key lexemes alive at a key's start); else Deriv.
  RxId DerivQuick(RxId id, uint8_t byte) {
    const RxNode& n = nodes_[id];
    if (n.kind == RxKind::kConcat && nodes_[n.a].kind == RxKind::kBytes)
      return bytesets_[nodes_[n.a].a].Has(byte) ? n.b : Empty();
    return Deriv(id, byte);
  }
  // True if the language is empty. Exact, bounded by fuel (derivative steps); when fuel runs out the
  // answer is "not empty" (conservative: a state is kept alive) and *exhausted is set.
  bool IsEmpty(RxId id, bool* exhausted = nullptr);
  // A regex that matches exactly the same strings shorter than `horizon` bytes (and so has the same
  // derivatives along them): counted repetitions whose bounds no such string can reach lose them
  // (lo >= horizon becomes horizon, hi >= horizon becomes unbounded). The positions of a long bounded
  // string thus map to one regex. Memoized; the identity past a nesting depth (always correct).
  RxId Horizon(RxId id, uint32_t horizon);
  // Full-match test (tests and enum filtering).
  bool Matches(RxId id, std::string_view s);
  size_t num_nodes() const { return nodes_.size(); }
  // Bytes that no regex of this builder tells apart: every derivative by one byte of a class equals
  // the derivative by any other. Refined as byte sets are created; boolean combinations of existing
  // sets never split a class, so the partition is stable once compilation is done.
  const std::array<uint8_t, 256>& byte_class() const { return byte_class_; }
  // One byte per class, in increasing order.
  const std::vector<uint8_t>& class_representatives() const { return class_reps_; }
  const std::vector<RxId>& kids(RxId id) const;
  // True if the language is finite (no unbounded repetition, complement or intersection inside).
  bool IsFiniteLiteralSet(RxId id, int depth = 0) const;
  std::string ToString(RxId id) const;  // debugging

 private:
  RxId Intern(RxNode n, const std::vector<RxId>& kids);
  void RefineClasses(const ByteSet& s);
  RxId DerivUncached(RxId id, uint8_t byte);

  std::vector<RxNode> nodes_;
  std::vector<RxId> kids_;
  std::vector<ByteSet> bytesets_;
  static constexpr RxId kNoNode = UINT32_MAX;
  static uint64_t NodeHash(const RxNode& n, const RxId* kids, size_t nkids);
  bool SameNode(RxId id, const RxNode& n, const std::vector<RxId>& kids) const;
  std::vector<RxId> intern_ = std::vector<RxId>(1024, kNoNode);  // open addressing over node ids
  std::unordered_map<std::string, RxId> byteset_ids_;             // byte set contents -> its node
  // Derivative cache: open addressing over (node, byte) keys; the hottest lookup of lexer building.
  struct DerivSlot {
    uint64_t key = UINT64_MAX;
    RxId value = 0;
  };
  std::vector<DerivSlot> deriv_ = std::vector<DerivSlot>(1024);
  size_t deriv_count_ = 0;
  std::unordered_map<uint64_t, RxId> horizon_memo_;  // (horizon, node) -> node
  RxId HorizonRec(RxId id, uint32_t horizon, int depth);
  std::vector<int8_t> empty_memo_;  // per node: -1 unknown, 0/1
  // Exact structural answers that spare most emptiness searches: -1 unknown, 0 non-empty, 1 empty.
  int EmptyByStructure(RxId id, int depth);
  bool IsInfiniteSimple(RxId id, int depth) const;  // only for nodes free of And/Not
  // A shortest string of the language (bytes are class representatives), by a breadth-first search
  // of derivatives bounded by fuel; memoized. Null if none was found.
  const std::string* Witness(RxId id);
  std::unordered_map<RxId, std::pair<bool, std::string>> witness_memo_;
  bool IsFiniteLiteralSetRec(RxId id, int depth) const;
  mutable std::vector<int8_t> finite_memo_;         // IsFiniteLiteralSet per node: -1 unknown
  std::array<uint8_t, 256> byte_class_{};  // all bytes in class 0 at first
  std::vector<uint8_t> class_reps_{0};
  RxId any_ = 0;
  mutable std::vector<RxId> kids_scratch_;
};

}  // namespace lfm::grammar
