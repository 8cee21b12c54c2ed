#include "grammar/regex_compiler.h"

#include <algorithm>
#include <memory>

#include "base/utf8.h"

namespace lfm::grammar {

namespace {

constexpr uint32_t kMaxCp = 0x10FFFF;
constexpr int kMaxDepth = 200;
constexpr uint32_t kMaxRepeat = 100000;

CodepointRanges Normalize(CodepointRanges r) {
  std::sort(r.begin(), r.end());
  CodepointRanges out;
  for (auto [lo, hi] : r) {
    if (lo > hi) continue;
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

CodepointRanges Negate(const CodepointRanges& r) {
  CodepointRanges out;
  uint32_t next = 0;
  for (auto [lo, hi] : r) {
    if (lo > next) out.emplace_back(next, lo - 1);
    next = hi + 1;
  }
  if (next <= kMaxCp) out.emplace_back(next, kMaxCp);
  return out;
}

void AddCaseFold(CodepointRanges* r) {
  CodepointRanges extra;
  for (auto [lo, hi] : *r) {
    for (uint32_t c = std::max<uint32_t>(lo, 'A'); c <= std::min<uint32_t>(hi, 'Z'); ++c)
      extra.emplace_back(c + 32, c + 32);
    for (uint32_t c = std::max<uint32_t>(lo, 'a'); c <= std::min<uint32_t>(hi, 'z'); ++c)
      extra.emplace_back(c - 32, c - 32);
  }
  r->insert(r->end(), extra.begin(), extra.end());
  *r = Normalize(*r);
}

const CodepointRanges& DigitRanges() {
  static const CodepointRanges r{{'0', '9'}};
  return r;
}
const CodepointRanges& WordRanges() {
  static const CodepointRanges r{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
  return r;
}
const CodepointRanges& SpaceRanges() {
  static const CodepointRanges r = Normalize({{9, 13}, {32, 32}, {0xA0, 0xA0}, {0x1680, 0x1680},
                                              {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F},
                                              {0x205F, 0x205F}, {0x3000, 0x3000}, {0xFEFF, 0xFEFF}});
  return r;
}

struct Ast {
  enum Kind { kClass, kSeq, kAlt, kRepeat, kStart, kEnd } kind = kSeq;
  CodepointRanges ranges;
  std::vector<std::unique_ptr<Ast>> kids;
  uint32_t lo = 0, hi = 0;
};

class Parser {
 public:
  Parser(std::string_view s, const RegexSyntax& syn) : s_(s), syn_(syn) {}

  Result<std::unique_ptr<Ast>> Parse() {
    auto r = ParseAlt(0);
    if (!r.ok()) return r;
    if (pos_ < s_.size()) return Err("unmatched ')'");
    return r;
  }

 private:
  Status Err(const std::string& what) const {
    return InvalidArgument("regex /" + std::string(s_.substr(0, 200)) + "/ at byte " + std::to_string(pos_) +
                           ": " + what);
  }
  Status Unsup(const std::string& what) const {
    return Unsupported("regex /" + std::string(s_.substr(0, 200)) + "/ at byte " + std::to_string(pos_) +
                       ": " + what);
  }
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return s_[pos_]; }

  Result<std::unique_ptr<Ast>> ParseAlt(int depth) {
    if (depth > kMaxDepth) return Err("nesting too deep");
    auto alt = std::make_unique<Ast>();
    alt->kind = Ast::kAlt;
    while (true) {
      auto seq = ParseSeq(depth);
      if (!seq.ok()) return seq.status();
      alt->kids.push_back(std::move(seq).value());
      if (!AtEnd() && Peek() == '|') {
        ++pos_;
        continue;
      }
      break;
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  Result<std::unique_ptr<Ast>> ParseSeq(int depth) {
    auto seq = std::make_unique<Ast>();
    seq->kind = Ast::kSeq;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      auto atom = ParseAtom(depth);
      if (!atom.ok()) return atom.status();
      std::unique_ptr<Ast> a = std::move(atom).value();
      while (!AtEnd()) {
        uint32_t lo, hi;
        char c = Peek();
        size_t save = pos_;
        if (c == '*') {
          lo = 0, hi = kRxInf, ++pos_;
        } else if (c == '+') {
          lo = 1, hi = kRxInf, ++pos_;
        } else if (c == '?') {
          lo = 0, hi = 1, ++pos_;
        } else if (c == '{' && ParseBraces(&lo, &hi)) {
        } else {
          pos_ = save;
          break;
        }
        if (lo > kMaxRepeat || (hi != kRxInf && hi > kMaxRepeat)) return Unsup("repetition count too large");
        if (hi < lo) return Err("repetition {m,n} with n < m");
        if (a->kind == Ast::kStart || a->kind == Ast::kEnd) return Err("quantifier on an anchor");
        if (!AtEnd() && Peek() == '?') ++pos_;  // lazy: same language for full matching
        else if (!AtEnd() && Peek() == '+') return Unsup("possessive quantifier");
        auto rep = std::make_unique<Ast>();
        rep->kind = Ast::kRepeat;
        rep->lo = lo;
        rep->hi = hi;
        rep->kids.push_back(std::move(a));
        a = std::move(rep);
      }
      seq->kids.push_back(std::move(a));
    }
    return seq;
  }

  bool ParseNumber(uint32_t* v) {
    size_t start = pos_;
    uint64_t x = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9') {
      x = x * 10 + (Peek() - '0');
      if (x > 100000000) x = 100000000;
      ++pos_;
    }
    *v = static_cast<uint32_t>(x);
    return pos_ > start;
  }

  // {n} {n,} {n,m}; on failure restores pos and returns false ('{' is then a literal).
  bool ParseBraces(uint32_t* lo, uint32_t* hi) {
    size_t save = pos_;
    ++pos_;
    if (!ParseNumber(lo)) {
      pos_ = save;
      return false;
    }
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      *hi = *lo;
      return true;
    }
    if (AtEnd() || Peek() != ',') {
      pos_ = save;
      return false;
    }
    ++pos_;
    if (!AtEnd() && Peek() == '}') {
      ++pos_;
      *hi = kRxInf;
      return true;
    }
    if (!ParseNumber(hi) || AtEnd() || Peek() != '}') {
      pos_ = save;
      return false;
    }
    ++pos_;
    return true;
  }

  static std::unique_ptr<Ast> ClassAst(CodepointRanges r) {
    auto a = std::make_unique<Ast>();
    a->kind = Ast::kClass;
    a->ranges = std::move(r);
    return a;
  }

  uint32_t NextCodepoint() {
    size_t i = pos_;
    uint32_t cp = DecodeUtf8(s_, i);
    pos_ = i;
    return cp;
  }

  Result<uint32_t> Hex(int n) {
    uint32_t v = 0;
    for (int k = 0; k < n; ++k) {
      if (AtEnd()) return Err("truncated hex escape");
      char c = Peek();
      int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
      if (d < 0) return Err("bad hex digit");
      v = v * 16 + d;
      ++pos_;
    }
    return v;
  }

  // After a backslash. Returns a class (single char or class escape). in_class: \b is backspace.
  Result<CodepointRanges> ParseEscape(bool in_class) {
    if (AtEnd()) return Err("trailing backslash");
    char c = Peek();
    ++pos_;
    switch (c) {
      case 'd': return DigitRanges();
      case 'D': return Negate(DigitRanges());
      case 'w': return WordRanges();
      case 'W': return Negate(WordRanges());
      case 's': return SpaceRanges();
      case 'S': return Negate(SpaceRanges());
      case 'n': return CodepointRanges{{10, 10}};
      case 'r': return CodepointRanges{{13, 13}};
      case 't': return CodepointRanges{{9, 9}};
      case 'f': return CodepointRanges{{12, 12}};
      case 'v': return CodepointRanges{{11, 11}};
      case '0': return CodepointRanges{{0, 0}};
      case 'x': {
        LFM_ASSIGN_OR_RETURN(uint32_t v, Hex(2));
        return CodepointRanges{{v, v}};
      }
      case 'u': {
        if (!AtEnd() && Peek() == '{') {
          ++pos_;
          uint32_t v = 0;
          int n = 0;
          while (!AtEnd() && Peek() != '}') {
            LFM_ASSIGN_OR_RETURN(uint32_t d, Hex(1));
            v = v * 16 + d;
            if (++n > 6) return Err("bad \\u{...}");
          }
          if (AtEnd() || n == 0 || v > kMaxCp) return Err("bad \\u{...}");
          ++pos_;
          return CodepointRanges{{v, v}};
        }
        LFM_ASSIGN_OR_RETURN(uint32_t v, Hex(4));
        if (v >= 0xD800 && v <= 0xDBFF && pos_ + 6 <= s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == 'u') {
          size_t save = pos_;
          pos_ += 2;
          auto lo = Hex(4);
          if (lo.ok() && *lo >= 0xDC00 && *lo <= 0xDFFF) {
            uint32_t cp = 0x10000 + ((v - 0xD800) << 10) + (*lo - 0xDC00);
            return CodepointRanges{{cp, cp}};
          }
          pos_ = save;
        }
        return CodepointRanges{{v, v}};
      }
      case 'b':
        if (in_class) return CodepointRanges{{8, 8}};
        return Unsup("word boundary \\b");
      case 'B': return Unsup("\\B");
      case 'p':
      case 'P': return Unsup("Unicode property classes \\p{...}");
      case 'c': return Unsup("control escape \\c");
      case 'k': return Unsup("named backreference");
      default:
        if (c >= '1' && c <= '9') return Unsup("backreference");
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return Unsup(std::string("escape \\") + c);
        --pos_;
        uint32_t cp = NextCodepoint();
        return CodepointRanges{{cp, cp}};
    }
  }

  Result<std::unique_ptr<Ast>> ParseClass() {
    // pos_ is after '['.
    bool negate = false;
    if (!AtEnd() && Peek() == '^') {
      negate = true;
      ++pos_;
    }
    CodepointRanges ranges;
    bool first = true;
    while (true) {
      if (AtEnd()) return Err("unterminated character class");
      if (Peek() == ']' && !first) break;
      if (Peek() == ']' && first) {  // ECMA: [] is the empty class; []] in other dialects. Take ECMA.
        break;
      }
      first = false;
      if (Peek() == '[' && pos_ + 1 < s_.size() && s_[pos_ + 1] == ':') return Unsup("POSIX class [:...:]");
      CodepointRanges item;
      bool single = false;
      uint32_t lo_cp = 0;
      if (Peek() == '\\') {
        ++pos_;
        LFM_ASSIGN_OR_RETURN(item, ParseEscape(true));
        single = item.size() == 1 && item[0].first == item[0].second;
        lo_cp = item[0].first;
      } else {
        lo_cp = NextCodepoint();
        item = {{lo_cp, lo_cp}};
        single = true;
      }
      if (single && pos_ + 1 < s_.size() && Peek() == '-' && s_[pos_ + 1] != ']') {
        ++pos_;
        uint32_t hi_cp;
        if (Peek() == '\\') {
          ++pos_;
          LFM_ASSIGN_OR_RETURN(CodepointRanges hi_item, ParseEscape(true));
          if (hi_item.size() != 1 || hi_item[0].first != hi_item[0].second) return Err("bad class range");
          hi_cp = hi_item[0].first;
        } else {
          hi_cp = NextCodepoint();
        }
        if (hi_cp < lo_cp) return Err("class range out of order");
        item = {{lo_cp, hi_cp}};
      }
      ranges.insert(ranges.end(), item.begin(), item.end());
    }
    ++pos_;  // ']'
    ranges = Normalize(std::move(ranges));
    if (syn_.case_insensitive) AddCaseFold(&ranges);
    if (negate) ranges = Negate(ranges);
    return ClassAst(std::move(ranges));
  }

  Result<std::unique_ptr<Ast>> ParseAtom(int depth) {
    char c = Peek();
    if (c == '(') {
      ++pos_;
      if (!AtEnd() && Peek() == '?') {
        ++pos_;
        if (AtEnd()) return Err("bad group");
        char g = Peek();
        if (g == ':') {
          ++pos_;
        } else if (g == '<' || g == 'P') {
          if (g == 'P') ++pos_;
          if (AtEnd() || Peek() != '<') return Err("bad group");
          if (pos_ + 1 < s_.size() && (s_[pos_ + 1] == '=' || s_[pos_ + 1] == '!'))
            return Unsup("lookbehind");
          size_t end = s_.find('>', pos_);
          if (end == std::string_view::npos) return Err("bad group name");
          pos_ = end + 1;
        } else if (g == '=' || g == '!') {
          return Unsup("lookahead");
        } else {
          return Unsup("group flags (?...)");
        }
      }
      auto inner = ParseAlt(depth + 1);
      if (!inner.ok()) return inner.status();
      if (AtEnd() || Peek() != ')') return Err("missing ')'");
      ++pos_;
      return inner;
    }
    if (c == '[') {
      ++pos_;
      return ParseClass();
    }
    if (c == '.') {
      ++pos_;
      if (syn_.dot_all) return ClassAst({{0, kMaxCp}});
      if (syn_.ecma_dot) return ClassAst(Negate(Normalize({{10, 10}, {13, 13}, {0x2028, 0x2029}})));
      return ClassAst(Negate({{10, 10}}));
    }
    if (c == '^' || c == '$') {
      ++pos_;
      auto a = std::make_unique<Ast>();
      a->kind = c == '^' ? Ast::kStart : Ast::kEnd;
      return a;
    }
    if (c == '*' || c == '+' || c == '?') return Err("nothing to repeat");
    if (c == '\\') {
      ++pos_;
      LFM_ASSIGN_OR_RETURN(CodepointRanges r, ParseEscape(false));
      if (syn_.case_insensitive) AddCaseFold(&r);
      return ClassAst(std::move(r));
    }
    uint32_t cp = NextCodepoint();
    CodepointRanges r{{cp, cp}};
    if (syn_.case_insensitive) AddCaseFold(&r);
    return ClassAst(std::move(r));
  }

  std::string_view s_;
  RegexSyntax syn_;
  size_t pos_ = 0;
};

class Lowerer {
 public:
  Lowerer(RegexCompiler* rc, CharEncoding enc, std::string_view pattern)
      : rc_(rc), rx_(rc->builder()), enc_(enc), pattern_(pattern) {}

  // Top level: strips edge anchors; search mode pads unanchored ends with any-char*.
  Result<RxId> Top(const Ast& a, bool search) {
    if (a.kind == Ast::kAlt) {
      std::vector<RxId> alts;
      for (auto& k : a.kids) {
        LFM_ASSIGN_OR_RETURN(RxId r, Top(*k, search));
        alts.push_back(r);
      }
      return rx_->Or(std::move(alts));
    }
    std::vector<const Ast*> items;
    if (a.kind == Ast::kSeq) {
      for (auto& k : a.kids) items.push_back(k.get());
    } else {
      items.push_back(&a);
    }
    bool start = false, end = false;
    while (!items.empty() && items.front()->kind == Ast::kStart) start = true, items.erase(items.begin());
    while (!items.empty() && items.back()->kind == Ast::kEnd) end = true, items.pop_back();
    // (^a|^b) style: a single group in the middle of the anchors carries its own anchors.
    if (!start && !end && items.size() == 1 && (items[0]->kind == Ast::kAlt || items[0]->kind == Ast::kSeq))
      return Top(*items[0], search);
    std::vector<RxId> parts;
    RxId star = rx_->Repeat(rc_->AnyChar(enc_), 0, kRxInf);
    if (search && !start) parts.push_back(star);
    for (const Ast* it : items) {
      LFM_ASSIGN_OR_RETURN(RxId r, Lower(*it));
      parts.push_back(r);
    }
    if (search && !end) parts.push_back(star);
    return rx_->Concat(parts);
  }

 private:
  Result<RxId> Lower(const Ast& a) {
    switch (a.kind) {
      case Ast::kClass:
        return rc_->Class(a.ranges, enc_);
      case Ast::kSeq: {
        std::vector<RxId> parts;
        for (auto& k : a.kids) {
          LFM_ASSIGN_OR_RETURN(RxId r, Lower(*k));
          parts.push_back(r);
        }
        return rx_->Concat(parts);
      }
      case Ast::kAlt: {
        std::vector<RxId> alts;
        for (auto& k : a.kids) {
          LFM_ASSIGN_OR_RETURN(RxId r, Lower(*k));
          alts.push_back(r);
        }
        return rx_->Or(std::move(alts));
      }
      case Ast::kRepeat: {
        LFM_ASSIGN_OR_RETURN(RxId r, Lower(*a.kids[0]));
        return rx_->Repeat(r, a.lo, a.hi);
      }
      case Ast::kStart:
      case Ast::kEnd:
        return Unsupported("regex /" + std::string(pattern_.substr(0, 200)) +
                           "/: anchors ^ and $ are supported only at the start and end");
    }
    return Internal("regex lowering");
  }

  RegexCompiler* rc_;
  RegexBuilder* rx_;
  CharEncoding enc_;
  std::string_view pattern_;
};

}  // namespace

RxId RegexCompiler::Utf8Range(uint32_t lo, uint32_t hi) {
  // Split into ranges of equal encoded length, then into ranges where every byte position is a
  // contiguous byte range (the classic utf8-ranges construction).
  static const uint32_t kBounds[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  std::vector<RxId> alts;
  auto enc_len = [](uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; };
  auto encode = [](uint32_t c, uint8_t* out) {
    std::string s;
    AppendUtf8(c, s);
    for (size_t i = 0; i < s.size(); ++i) out[i] = static_cast<uint8_t>(s[i]);
  };
  std::vector<std::pair<uint32_t, uint32_t>> work;
  uint32_t start = lo;
  for (uint32_t b : kBounds) {
    if (start > hi) break;
    if (start <= b) {
      work.emplace_back(start, std::min(hi, b));
      start = b + 1;
    }
  }
  while (!work.empty()) {
    auto [l, h] = work.back();
    work.pop_back();
    int n = enc_len(l);
    bool split = false;
    for (int i = 1; i < n; ++i) {
      uint32_t m = (1u << (6 * i)) - 1;
      if ((l & ~m) != (h & ~m)) {
        if ((l & m) != 0) {
          work.emplace_back((l | m) + 1, h);
          work.emplace_back(l, l | m);
          split = true;
          break;
        }
        if ((h & m) != m) {
          work.emplace_back(h & ~m, h);
          work.emplace_back(l, (h & ~m) - 1);
          split = true;
          break;
        }
      }
    }
    if (split) continue;
    uint8_t el[4], eh[4];
    encode(l, el);
    encode(h, eh);
    std::vector<RxId> seq;
    for (int i = 0; i < n; ++i) {
      ByteSet s;
      s.SetRange(el[i], eh[i]);
      seq.push_back(rx_->Bytes(s));
    }
    alts.push_back(rx_->Concat(seq));
  }
  return rx_->Or(std::move(alts));
}

RxId RegexCompiler::Class(const CodepointRanges& ranges_in, CharEncoding enc) {
  // Surrogates are not scalar values: never encodable.
  CodepointRanges ranges;
  for (auto [lo, hi] : ranges_in) {
    if (lo <= 0xDFFF && hi >= 0xD800) {
      if (lo < 0xD800) ranges.emplace_back(lo, 0xD7FF);
      if (hi > 0xDFFF) ranges.emplace_back(0xE000, hi);
    } else {
      ranges.emplace_back(lo, hi);
    }
  }
  std::vector<RxId> alts;
  if (enc == CharEncoding::kUtf8) {
    for (auto [lo, hi] : ranges) alts.push_back(Utf8Range(lo, std::min(hi, kMaxCp)));
    return rx_->Or(std::move(alts));
  }
  for (auto [lo, hi] : ranges) {
    hi = std::min(hi, kMaxCp);
    // Control characters: escapes.
    for (uint32_t c = lo; c <= std::min<uint32_t>(hi, 0x1F); ++c) {
      static const char* kShort[32] = {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                       "\\b", "\\t", "\\n", nullptr, "\\f", "\\r"};
      if (c < 14 && kShort[c]) {
        alts.push_back(rx_->Literal(kShort[c]));
      } else {
        static const char* kHex = "0123456789abcdef";
        ByteSet d1, d2;
        d1.Set(static_cast<uint8_t>(kHex[c >> 4]));
        d2.Set(static_cast<uint8_t>(kHex[c & 15]));
        if ((c & 15) >= 10) d2.Set(static_cast<uint8_t>(kHex[c & 15] - 32));
        alts.push_back(rx_->Concat({rx_->Literal("\\u00"), rx_->Bytes(d1), rx_->Bytes(d2)}));
      }
    }
    uint32_t l = std::max<uint32_t>(lo, 0x20);
    // Raw runs, excluding '"' and '\\'.
    uint32_t cur = l;
    for (uint32_t special : {0x22u, 0x5Cu}) {
      if (special >= cur && special <= hi) {
        if (special > cur) alts.push_back(Utf8Range(cur, special - 1));
        alts.push_back(rx_->Literal(special == 0x22 ? "\\\"" : "\\\\"));
        cur = special + 1;
      }
    }
    if (cur <= hi && cur >= 0x20) alts.push_back(Utf8Range(cur, hi));
  }
  return rx_->Or(std::move(alts));
}

RxId RegexCompiler::AnyChar(CharEncoding enc) {
  RxId& slot = enc == CharEncoding::kUtf8 ? any_utf8_ : any_json_;
  if (slot == UINT32_MAX) slot = Class({{0, kMaxCp}}, enc);
  return slot;
}

RxId RegexCompiler::JsonQuoted(RxId content) {
  RxId q = rx_->Byte('"');
  return rx_->Concat({q, content, q});
}

std::string RegexCompiler::JsonEscape(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static const char* kHex = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

Result<RxId> RegexCompiler::Compile(std::string_view pattern, CharEncoding enc, const RegexSyntax& syntax) {
  if (pattern.size() > kMaxPatternBytes)
    return ResourceExhausted("regex of " + std::to_string(pattern.size()) + " bytes is over the limit of " +
                             std::to_string(kMaxPatternBytes) + " bytes per pattern");
  Parser p(pattern, syntax);
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<Ast> ast, p.Parse());
  Lowerer l(this, enc, pattern);
  return l.Top(*ast, syntax.search);
}

}  // namespace lfm::grammar
