#include "grammar/regex.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_set>

namespace lfm::grammar {

RegexBuilder::RegexBuilder() {
  RxNode empty{RxKind::kEmpty, false, false};
  Intern(empty, {});
  RxNode eps{RxKind::kEps, true, false};
  Intern(eps, {});
  any_ = Not(Empty());
}

namespace {

uint64_t Mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ull;
}

}  // namespace

uint64_t RegexBuilder::NodeHash(const RxNode& n, const RxId* kids, size_t nkids) {
  uint64_t h = Mix(static_cast<uint64_t>(n.kind), n.a);
  h = Mix(h, n.b);
  h = Mix(h, (static_cast<uint64_t>(n.lo) << 32) | n.hi);
  for (size_t i = 0; i < nkids; ++i) h = Mix(h, kids[i]);
  // Final avalanche: a multiply only carries bits upwards, so without it the high half of a field
  // (Repeat's lo) never reaches the bits the table is indexed by, and counted repetitions that differ
  // only in lo all collide (minLength 10000 took seconds to compile).
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  return h;
}

bool RegexBuilder::SameNode(RxId id, const RxNode& n, const std::vector<RxId>& kids) const {
  const RxNode& m = nodes_[id];
  if (m.kind != n.kind || m.a != n.a || m.b != n.b || m.lo != n.lo || m.hi != n.hi || m.kids_count != kids.size())
    return false;
  return std::equal(kids.begin(), kids.end(), kids_.begin() + m.kids_begin);
}

RxId RegexBuilder::Intern(RxNode n, const std::vector<RxId>& kids) {
  // Hash-consing: open addressing over node ids, keyed by the node's fields and children.
  const uint64_t h = NodeHash(n, kids.data(), kids.size());
  size_t mask = intern_.size() - 1;
  size_t j = h >> 17;
  for (;; ++j) {
    RxId at = intern_[j & mask];
    if (at == kNoNode) break;
    if (SameNode(at, n, kids)) return at;
  }
  n.has_repeat = n.kind == RxKind::kRepeat;
  switch (n.kind) {
    case RxKind::kConcat:
      n.has_repeat = nodes_[n.a].has_repeat || nodes_[n.b].has_repeat;
      break;
    case RxKind::kNot:
    case RxKind::kRepeat:
      n.has_repeat = n.has_repeat || nodes_[n.a].has_repeat;
      break;
    case RxKind::kOr:
    case RxKind::kAnd:
      for (RxId k : kids) n.has_repeat = n.has_repeat || nodes_[k].has_repeat;
      break;
    default:
      break;
  }
  n.kids_begin = static_cast<uint32_t>(kids_.size());
  n.kids_count = static_cast<uint32_t>(kids.size());
  kids_.insert(kids_.end(), kids.begin(), kids.end());
  RxId id = static_cast<RxId>(nodes_.size());
  nodes_.push_back(n);
  intern_[j & mask] = id;
  if (nodes_.size() * 2 > intern_.size()) {
    std::vector<RxId> grown(intern_.size() * 2, kNoNode);
    mask = grown.size() - 1;
    for (RxId x : intern_) {
      if (x == kNoNode) continue;
      const RxNode& m = nodes_[x];
      size_t k = NodeHash(m, kids_.data() + m.kids_begin, m.kids_count) >> 17;
      while (grown[k & mask] != kNoNode) ++k;
      grown[k & mask] = x;
    }
    intern_.swap(grown);
  }
  return id;
}

void RegexBuilder::RefineClasses(const ByteSet& s) {
  // New class ids by (old class, in s), numbered in byte order.
  int16_t remap[512];
  std::fill(std::begin(remap), std::end(remap), static_cast<int16_t>(-1));
  int next = 0;
  std::array<uint8_t, 256> out;
  class_reps_.clear();
  for (int b = 0; b < 256; ++b) {
    int key = byte_class_[b] * 2 + (s.Has(static_cast<uint8_t>(b)) ? 1 : 0);
    if (remap[key] < 0) {
      remap[key] = static_cast<int16_t>(next++);
      class_reps_.push_back(static_cast<uint8_t>(b));
    }
    out[b] = static_cast<uint8_t>(remap[key]);
  }
  byte_class_ = out;
}

RxId RegexBuilder::Bytes(const ByteSet& s) {
  if (s.Empty()) return Empty();
  // Bytesets are interned by content: the node key holds the set's index, so look the set up first.
  std::string key(reinterpret_cast<const char*>(s.w.data()), 32);
  auto it = byteset_ids_.find(key);
  if (it != byteset_ids_.end()) return it->second;
  RxNode n{RxKind::kBytes, false, false};
  n.a = static_cast<uint32_t>(bytesets_.size());
  bytesets_.push_back(s);
  RefineClasses(s);
  RxId id = Intern(n, {});
  byteset_ids_.emplace(std::move(key), id);
  return id;
}

RxId RegexBuilder::Byte(uint8_t b) {
  ByteSet s;
  s.Set(b);
  return Bytes(s);
}

RxId RegexBuilder::Literal(std::string_view s) {
  RxId r = Eps();
  for (size_t i = s.size(); i-- > 0;) r = Concat(Byte(static_cast<uint8_t>(s[i])), r);
  return r;
}

RxId RegexBuilder::Concat(RxId a, RxId b) {
  if (a == Empty() || b == Empty()) return Empty();
  if (a == Eps()) return b;
  if (b == Eps()) return a;
  const RxNode& na = nodes_[a];
  if (na.kind == RxKind::kConcat) {
    RxId x = na.a, y = na.b;
    return Concat(x, Concat(y, b));
  }
  RxNode n{RxKind::kConcat, na.nullable && nodes_[b].nullable,
           na.may_be_empty || nodes_[b].may_be_empty};
  n.a = a;
  n.b = b;
  return Intern(n, {});
}

RxId RegexBuilder::Concat(const std::vector<RxId>& xs) {
  RxId r = Eps();
  for (size_t i = xs.size(); i-- > 0;) r = Concat(xs[i], r);
  return r;
}

RxId RegexBuilder::Or(std::vector<RxId> xs) {
  std::vector<RxId> flat;
  flat.reserve(xs.size());
  ByteSet merged;
  bool have_bytes = false;
  for (RxId x : xs) {
    const RxNode& n = nodes_[x];
    if (n.kind == RxKind::kEmpty) continue;
    if (x == any_) return any_;
    if (n.kind == RxKind::kOr) {
      for (uint32_t i = 0; i < n.kids_count; ++i) {
        RxId k = kids_[n.kids_begin + i];
        if (nodes_[k].kind == RxKind::kBytes) {
          const ByteSet& s = bytesets_[nodes_[k].a];
          for (int w = 0; w < 4; ++w) merged.w[w] |= s.w[w];
          have_bytes = true;
        } else {
          flat.push_back(k);
        }
      }
    } else if (n.kind == RxKind::kBytes) {
      const ByteSet& s = bytesets_[n.a];
      for (int w = 0; w < 4; ++w) merged.w[w] |= s.w[w];
      have_bytes = true;
    } else {
      flat.push_back(x);
    }
  }
  if (have_bytes) flat.push_back(Bytes(merged));
  std::sort(flat.begin(), flat.end());
  flat.erase(std::unique(flat.begin(), flat.end()), flat.end());
  bool other_nullable = false;
  for (RxId x : flat)
    if (x != Eps() && nodes_[x].nullable) other_nullable = true;
  if (other_nullable) flat.erase(std::remove(flat.begin(), flat.end(), Eps()), flat.end());
  if (flat.empty()) return Empty();
  if (flat.size() == 1) return flat[0];
  RxNode n{RxKind::kOr, false, false};
  for (RxId x : flat) {
    n.nullable |= nodes_[x].nullable;
    n.may_be_empty |= nodes_[x].may_be_empty;
  }
  return Intern(n, flat);
}

RxId RegexBuilder::And(std::vector<RxId> xs) {
  std::vector<RxId> flat;
  for (RxId x : xs) {
    const RxNode& n = nodes_[x];
    if (n.kind == RxKind::kEmpty) return Empty();
    if (x == any_) continue;
    if (n.kind == RxKind::kAnd) {
      for (uint32_t i = 0; i < n.kids_count; ++i) flat.push_back(kids_[n.kids_begin + i]);
    } else {
      flat.push_back(x);
    }
  }
  std::sort(flat.begin(), flat.end());
  flat.erase(std::unique(flat.begin(), flat.end()), flat.end());
  if (flat.empty()) return any_;
  if (flat.size() == 1) return flat[0];
  bool all_nullable = true;
  for (RxId x : flat) all_nullable &= nodes_[x].nullable;
  if (std::find(flat.begin(), flat.end(), Eps()) != flat.end()) return all_nullable ? Eps() : Empty();
  // Two byte sets intersect to one.
  RxNode n{RxKind::kAnd, all_nullable, true};
  return Intern(n, flat);
}

RxId RegexBuilder::Not(RxId a) {
  const RxNode& na = nodes_[a];
  if (na.kind == RxKind::kNot) return na.a;
  RxNode n{RxKind::kNot, !na.nullable, true};
  n.a = a;
  return Intern(n, {});
}

RxId RegexBuilder::Repeat(RxId a, uint32_t lo, uint32_t hi) {
  if (hi < lo) return Empty();
  if (hi == 0) return Eps();
  if (a == Empty()) return lo == 0 ? Eps() : Empty();
  if (a == Eps()) return Eps();
  if (nodes_[a].nullable) lo = 0;
  if (lo == 1 && hi == 1) return a;
  RxNode n{RxKind::kRepeat, lo == 0, nodes_[a].may_be_empty};
  n.a = a;
  n.lo = lo;
  n.hi = hi;
  return Intern(n, {});
}

RxId RegexBuilder::MultipleOfDigits(uint32_t k) {
  // Every digit moves the remainder differently: each is a byte class of its own.
  for (int d = '0'; d <= '9'; ++d) {
    ByteSet one;
    one.Set(static_cast<uint8_t>(d));
    RefineClasses(one);
  }
  RxNode n{RxKind::kMod, false, false};
  n.lo = k;
  n.hi = 0;
  n.b = 0;
  return Intern(n, {});
}

RxId RegexBuilder::Deriv(RxId id, uint8_t byte) {
  const uint64_t key = (static_cast<uint64_t>(id) << 8) | byte;
  size_t mask = deriv_.size() - 1;
  size_t h = (key * 0x9E3779B97F4A7C15ull) >> 20;
  for (;; ++h) {
    const DerivSlot& slot = deriv_[h & mask];
    if (slot.key == key) return slot.value;
    if (slot.key == UINT64_MAX) break;
  }
  RxId r = DerivUncached(id, byte);  // may recurse and grow the table: probe again below
  if ((deriv_count_ + 1) * 2 > deriv_.size()) {
    std::vector<DerivSlot> old(deriv_.size() * 2);
    old.swap(deriv_);
    mask = deriv_.size() - 1;
    for (const DerivSlot& s : old) {
      if (s.key == UINT64_MAX) continue;
      size_t j = (s.key * 0x9E3779B97F4A7C15ull) >> 20;
      while (deriv_[j & mask].key != UINT64_MAX) ++j;
      deriv_[j & mask] = s;
    }
  }
  mask = deriv_.size() - 1;
  h = (key * 0x9E3779B97F4A7C15ull) >> 20;
  while (deriv_[h & mask].key != UINT64_MAX && deriv_[h & mask].key != key) ++h;
  if (deriv_[h & mask].key == UINT64_MAX) ++deriv_count_;
  deriv_[h & mask] = {key, r};
  return r;
}

RxId RegexBuilder::DerivUncached(RxId id, uint8_t byte) {
  const RxNode n = nodes_[id];  // copy: nodes_ may grow
  switch (n.kind) {
    case RxKind::kEmpty:
    case RxKind::kEps:
      return Empty();
    case RxKind::kBytes:
      return bytesets_[n.a].Has(byte) ? Eps() : Empty();
    case RxKind::kConcat: {
      RxId r = Concat(Deriv(n.a, byte), n.b);
      if (nodes_[n.a].nullable) r = Or(r, Deriv(n.b, byte));
      return r;
    }
    case RxKind::kOr:
    case RxKind::kAnd: {
      std::vector<RxId> ds;
      ds.reserve(n.kids_count);
      for (uint32_t i = 0; i < n.kids_count; ++i) ds.push_back(Deriv(kids_[n.kids_begin + i], byte));
      return n.kind == RxKind::kOr ? Or(std::move(ds)) : And(std::move(ds));
    }
    case RxKind::kNot:
      return Not(Deriv(n.a, byte));
    case RxKind::kRepeat: {
      RxId d = Deriv(n.a, byte);
      return Concat(d, Repeat(n.a, n.lo ? n.lo - 1 : 0, n.hi == kRxInf ? kRxInf : n.hi - 1));
    }
    case RxKind::kMod: {
      if (byte < '0' || byte > '9') return Empty();
      RxNode m{RxKind::kMod, false, false};
      m.lo = n.lo;
      m.hi = static_cast<uint32_t>((static_cast<uint64_t>(n.hi) * 10 + (byte - '0')) % n.lo);
      m.b = 1;
      m.nullable = m.hi == 0;
      return Intern(m, {});
    }
  }
  return Empty();
}

bool RegexBuilder::IsEmpty(RxId id, bool* exhausted) {
  if (id == Empty()) return true;
  if (!nodes_[id].may_be_empty) return false;
  if (id < empty_memo_.size() && empty_memo_[id] >= 0) return empty_memo_[id] == 1;
  if (int known = EmptyByStructure(id, 0); known >= 0) {
    if (empty_memo_.size() <= id) empty_memo_.resize(nodes_.size() + 1024, -1);
    empty_memo_[id] = static_cast<int8_t>(known);
    return known == 1;
  }
  std::unordered_set<RxId> seen{id};
  std::deque<RxId> queue{id};
  int fuel = 4000;
  bool empty = true;
  while (!queue.empty()) {
    RxId s = queue.front();
    queue.pop_front();
    if (nodes_[s].nullable) {
      empty = false;
      break;
    }
    if (!nodes_[s].may_be_empty && s != Empty()) {
      empty = false;
      break;
    }
    if (--fuel <= 0) {
      if (exhausted) *exhausted = true;
      empty = false;
      break;
    }
    for (uint8_t b : class_reps_) {
      RxId d = Deriv(s, b);
      if (d != Empty() && seen.insert(d).second) queue.push_back(d);
    }
  }
  if (empty_memo_.size() <= id) empty_memo_.resize(nodes_.size() + 1024, -1);
  empty_memo_[id] = empty ? 1 : 0;
  return empty;
}

const std::string* RegexBuilder::Witness(RxId id) {
  if (auto it = witness_memo_.find(id); it != witness_memo_.end()) return it->second.first ? &it->second.second : nullptr;
  std::unordered_map<RxId, std::pair<RxId, uint8_t>> parent{{id, {kNoNode, 0}}};  // state -> (from, byte)
  std::deque<RxId> queue{id};
  RxId found = kNoNode;
  for (int fuel = 1000; !queue.empty() && fuel > 0; --fuel) {
    RxId s = queue.front();
    queue.pop_front();
    if (nodes_[s].nullable) {
      found = s;
      break;
    }
    for (uint8_t b : class_reps_) {
      RxId d = Deriv(s, b);
      if (d != Empty() && parent.emplace(d, std::make_pair(s, b)).second) queue.push_back(d);
    }
  }
  std::pair<bool, std::string> w{found != kNoNode, ""};
  for (RxId s = found; w.first && s != id;) {
    auto [from, b] = parent.at(s);
    w.second.push_back(static_cast<char>(b));
    s = from;
  }
  std::reverse(w.second.begin(), w.second.end());
  auto [it, inserted] = witness_memo_.emplace(id, std::move(w));
  return it->second.first ? &it->second.second : nullptr;
}

RxId RegexBuilder::Horizon(RxId id, uint32_t horizon) { return HorizonRec(id, horizon, 0); }

RxId RegexBuilder::HorizonRec(RxId id, uint32_t horizon, int depth) {
  const RxNode n = nodes_[id];
  switch (n.kind) {
    case RxKind::kEmpty:
    case RxKind::kEps:
    case RxKind::kBytes:
    case RxKind::kMod:
      return id;
    default:
      break;
  }
  if (depth > 200 || !n.has_repeat) return id;
  const uint64_t key = (static_cast<uint64_t>(horizon) << 32) | id;
  if (auto it = horizon_memo_.find(key); it != horizon_memo_.end()) return it->second;
  RxId out = id;
  switch (n.kind) {
    case RxKind::kConcat:
      out = Concat(HorizonRec(n.a, horizon, depth + 1), HorizonRec(n.b, horizon, depth + 1));
      break;
    case RxKind::kOr:
    case RxKind::kAnd: {
      std::vector<RxId> ks = kids(id);  // a copy: kids() returns a scratch buffer
      for (RxId& k : ks) k = HorizonRec(k, horizon, depth + 1);
      out = n.kind == RxKind::kOr ? Or(std::move(ks)) : And(std::move(ks));
      break;
    }
    case RxKind::kNot:
      out = Not(HorizonRec(n.a, horizon, depth + 1));
      break;
    case RxKind::kRepeat: {
      // Every repetition consumes a byte (Repeat drops lo for a nullable body, and a nullable body
      // repeated any number of times above one is the same language), so a string shorter than the
      // horizon takes fewer than `horizon` repetitions.
      uint32_t lo = std::min(n.lo, horizon), hi = n.hi >= horizon ? kRxInf : n.hi;
      out = Repeat(HorizonRec(n.a, horizon, depth + 1), lo, hi);
      break;
    }
    default:
      break;
  }
  horizon_memo_.emplace(key, out);
  return out;
}

int RegexBuilder::EmptyByStructure(RxId id, int depth) {
  const RxNode n = nodes_[id];  // a copy: witnesses (below) add nodes
  if (id == Empty()) return 1;
  if (!n.may_be_empty || n.nullable) return 0;
  if (id < empty_memo_.size() && empty_memo_[id] >= 0) return empty_memo_[id];
  if (depth > 200) return -1;
  switch (n.kind) {
    case RxKind::kConcat: {  // empty iff a part is
      int a = EmptyByStructure(n.a, depth + 1);
      if (a == 1) return 1;
      int b = EmptyByStructure(n.b, depth + 1);
      if (b == 1) return 1;
      return a == 0 && b == 0 ? 0 : -1;
    }
    case RxKind::kOr: {  // empty iff every alternative is
      bool all_empty = true;
      for (uint32_t i = 0; i < n.kids_count; ++i) {
        int k = EmptyByStructure(kids_[n.kids_begin + i], depth + 1);
        if (k == 0) return 0;
        all_empty &= k == 1;
      }
      return all_empty ? 1 : -1;
    }
    case RxKind::kAnd: {
      // P & ~F1 & ~F2 ... with P infinite and every F finite (an object key that is none of the listed
      // names): an infinite set minus finitely many strings is not empty. The lexer meets one such
      // node per key prefix, each of which would otherwise need a search over derivatives.
      RxId positive = kNoNode;
      bool shape = true;  // one positive side, finite literal sets excluded
      for (uint32_t i = 0; i < n.kids_count && shape; ++i) {
        RxId k = kids_[n.kids_begin + i];
        if (nodes_[k].kind == RxKind::kNot) {
          shape = IsFiniteLiteralSet(nodes_[k].a);
        } else {
          shape = positive == kNoNode;
          positive = k;
        }
      }
      if (shape && positive != kNoNode && !nodes_[positive].may_be_empty && IsInfiniteSimple(positive, 0)) return 0;
      // Not empty if a shortest string of one side belongs to all of them. A search of the whole
      // would explore the product (a length bound times a pattern's states: an email pattern with
      // maxLength 254 took seconds per mask); one side alone is small and shared by many states.
      std::vector<RxId> ks = kids(id);  // a copy: kids() returns a scratch buffer
      for (RxId k : ks) {
        if (nodes_[k].kind == RxKind::kNot) continue;
        const std::string* w = Witness(k);
        if (w && Matches(id, *w)) {
          if (empty_memo_.size() <= id) empty_memo_.resize(nodes_.size() + 1024, -1);
          empty_memo_[id] = 0;
          return 0;
        }
      }
      return -1;
    }
    default:
      return -1;
  }
}

bool RegexBuilder::IsInfiniteSimple(RxId id, int depth) const {
  const RxNode& n = nodes_[id];
  if (depth > 200 || n.may_be_empty || id == Empty()) return false;
  switch (n.kind) {
    case RxKind::kRepeat:  // a non-empty body other than ε, unboundedly repeated
      return (n.hi == kRxInf && n.a != Eps()) || IsInfiniteSimple(n.a, depth + 1);
    case RxKind::kConcat:  // the other part is not empty (no And/Not inside, not Empty)
      return IsInfiniteSimple(n.a, depth + 1) || IsInfiniteSimple(n.b, depth + 1);
    case RxKind::kOr:
      for (uint32_t i = 0; i < n.kids_count; ++i)
        if (IsInfiniteSimple(kids_[n.kids_begin + i], depth + 1)) return true;
      return false;
    case RxKind::kMod:  // every digit string of one remainder
      return true;
    default:
      return false;
  }
}

const std::vector<RxId>& RegexBuilder::kids(RxId id) const {
  const RxNode& n = nodes_[id];
  kids_scratch_.assign(kids_.begin() + n.kids_begin, kids_.begin() + n.kids_begin + n.kids_count);
  return kids_scratch_;
}

bool RegexBuilder::IsFiniteLiteralSet(RxId id, int depth) const {
  if (depth > 100) return false;
  if (id < finite_memo_.size() && finite_memo_[id] >= 0) return finite_memo_[id] == 1;
  bool finite = IsFiniteLiteralSetRec(id, depth);
  if (depth == 0) {  // deeper answers may be cut short by the depth bound: remember whole answers only
    if (finite_memo_.size() <= id) finite_memo_.resize(nodes_.size() + 1024, -1);
    finite_memo_[id] = finite ? 1 : 0;
  }
  return finite;
}

bool RegexBuilder::IsFiniteLiteralSetRec(RxId id, int depth) const {
  // Literals are right-nested Concat chains: follow the chain in a loop, not by recursion.
  while (nodes_[id].kind == RxKind::kConcat) {
    if (!IsFiniteLiteralSet(nodes_[id].a, depth + 1)) return false;
    id = nodes_[id].b;
    if (id < finite_memo_.size() && finite_memo_[id] >= 0) return finite_memo_[id] == 1;
  }
  const RxNode& n = nodes_[id];
  switch (n.kind) {
    case RxKind::kEmpty:
    case RxKind::kEps:
    case RxKind::kBytes:
      return true;
    case RxKind::kOr:
      for (uint32_t i = 0; i < n.kids_count; ++i)
        if (!IsFiniteLiteralSet(kids_[n.kids_begin + i], depth + 1)) return false;
      return true;
    case RxKind::kRepeat:
      return n.hi != kRxInf && IsFiniteLiteralSet(n.a, depth + 1);
    default:
      return false;
  }
}

bool RegexBuilder::Matches(RxId id, std::string_view s) {
  for (char c : s) {
    id = Deriv(id, static_cast<uint8_t>(c));
    if (id == Empty()) return false;
  }
  return nodes_[id].nullable;
}

std::string RegexBuilder::ToString(RxId id) const {
  const RxNode& n = nodes_[id];
  switch (n.kind) {
    case RxKind::kEmpty: return "∅";
    case RxKind::kEps: return "ε";
    case RxKind::kBytes: {
      const ByteSet& s = bytesets_[n.a];
      std::string out = "[";
      int count = 0;
      for (int b = 0; b < 256; ++b) {
        if (!s.Has(static_cast<uint8_t>(b))) continue;
        ++count;
        if (b >= 0x21 && b < 0x7F) out.push_back(static_cast<char>(b));
        else out += "\\x" + std::to_string(b);
      }
      if (count == 1) return out.substr(1);
      return out + "]";
    }
    case RxKind::kConcat: return ToString(n.a) + ToString(n.b);
    case RxKind::kOr:
    case RxKind::kAnd: {
      std::string out = "(";
      for (uint32_t i = 0; i < n.kids_count; ++i) {
        if (i) out += n.kind == RxKind::kOr ? "|" : "&";
        out += ToString(kids_[n.kids_begin + i]);
      }
      return out + ")";
    }
    case RxKind::kNot: return "~(" + ToString(n.a) + ")";
    case RxKind::kRepeat:
      return "(" + ToString(n.a) + "){" + std::to_string(n.lo) + "," +
             (n.hi == kRxInf ? std::string() : std::to_string(n.hi)) + "}";
    case RxKind::kMod: return "mod" + std::to_string(n.lo) + "r" + std::to_string(n.hi);
  }
  return "?";
}

}  // namespace lfm::grammar
