#include "grammar/schema_numeric.h"

#include <algorithm>
#include <cctype>

namespace lfm::grammar {

namespace {

RxId DigitRange(RegexBuilder* rx, int lo, int hi) {
  if (lo > hi) return rx->Empty();
  ByteSet s;
  s.SetRange('0' + lo, '0' + hi);
  return rx->Bytes(s);
}
RxId Digits(RegexBuilder* rx) { return DigitRange(rx, 0, 9); }

// Same-length digit strings >= s (lexicographic = numeric for equal length).
RxId GeSame(RegexBuilder* rx, const std::string& s, size_t i) {
  if (i == s.size()) return rx->Eps();
  int d = s[i] - '0';
  size_t rest = s.size() - i - 1;
  return rx->Or(rx->Concat(DigitRange(rx, d + 1, 9), rx->Repeat(Digits(rx), rest, rest)),
                rx->Concat(rx->Byte(static_cast<uint8_t>(s[i])), GeSame(rx, s, i + 1)));
}
RxId LeSame(RegexBuilder* rx, const std::string& s, size_t i) {
  if (i == s.size()) return rx->Eps();
  int d = s[i] - '0';
  size_t rest = s.size() - i - 1;
  return rx->Or(rx->Concat(DigitRange(rx, 0, d - 1), rx->Repeat(Digits(rx), rest, rest)),
                rx->Concat(rx->Byte(static_cast<uint8_t>(s[i])), LeSame(rx, s, i + 1)));
}

RxId CanonInt(RegexBuilder* rx) {
  return rx->Or(rx->Byte('0'), rx->Concat(DigitRange(rx, 1, 9), rx->Repeat(Digits(rx), 0, kRxInf)));
}

// Canonical non-negative integers >= a / <= a.
RxId IntGe(RegexBuilder* rx, const std::string& a) {
  uint32_t n = static_cast<uint32_t>(a.size());
  RxId longer = rx->Concat(DigitRange(rx, 1, 9), rx->Repeat(Digits(rx), n, kRxInf));
  RxId same = rx->And(GeSame(rx, a, 0), CanonInt(rx));
  return rx->Or(longer, same);
}
RxId IntLe(RegexBuilder* rx, const std::string& a) {
  uint32_t n = static_cast<uint32_t>(a.size());
  RxId shorter = n >= 2 ? rx->Or(rx->Byte('0'), rx->Concat(DigitRange(rx, 1, 9), rx->Repeat(Digits(rx), 0, n - 2)))
                        : rx->Empty();
  RxId same = rx->And(LeSame(rx, a, 0), CanonInt(rx));
  return rx->Or(shorter, same);
}

bool AllZero(const std::string& f, size_t i) {
  for (size_t k = i; k < f.size(); ++k)
    if (f[k] != '0') return false;
  return true;
}

// Digit strings D (fraction digits) with 0.D >= 0.f, resp. <= 0.f (D may be empty inside these).
RxId FracGeDigits(RegexBuilder* rx, const std::string& f, size_t i) {
  if (i == f.size()) return rx->Repeat(Digits(rx), 0, kRxInf);
  int d = f[i] - '0';
  std::vector<RxId> alts{rx->Concat(DigitRange(rx, d + 1, 9), rx->Repeat(Digits(rx), 0, kRxInf)),
                         rx->Concat(rx->Byte(static_cast<uint8_t>(f[i])), FracGeDigits(rx, f, i + 1))};
  if (AllZero(f, i)) alts.push_back(rx->Eps());
  return rx->Or(alts);
}
RxId FracLeDigits(RegexBuilder* rx, const std::string& f, size_t i) {
  if (i == f.size()) return rx->Repeat(rx->Byte('0'), 0, kRxInf);
  int d = f[i] - '0';
  return rx->Or({rx->Concat(DigitRange(rx, 0, d - 1), rx->Repeat(Digits(rx), 0, kRxInf)),
                 rx->Concat(rx->Byte(static_cast<uint8_t>(f[i])), FracLeDigits(rx, f, i + 1)), rx->Eps()});
}

// Optional fraction part ("" or ".ddd") constraints; `frac` is the allowed fraction syntax.
RxId FracCmp(RegexBuilder* rx, const std::string& f, bool ge, bool strict, RxId frac) {
  RxId dot_digits = rx->Concat(rx->Byte('.'), rx->Repeat(Digits(rx), 1, kRxInf));
  RxId with = rx->And(dot_digits, rx->Concat(rx->Byte('.'), ge ? FracGeDigits(rx, f, 0) : FracLeDigits(rx, f, 0)));
  // Empty fraction is value 0: >= f only if f is zero; <= f always.
  bool empty_ok = ge ? f.empty() : true;
  RxId r = empty_ok ? rx->Or(with, rx->Eps()) : with;
  if (strict) {
    RxId eq = f.empty() ? rx->Or(rx->Eps(), rx->Concat(rx->Byte('.'), rx->Repeat(rx->Byte('0'), 1, kRxInf)))
                        : rx->Concat({rx->Byte('.'), rx->Literal(f), rx->Repeat(rx->Byte('0'), 0, kRxInf)});
    r = rx->And(r, rx->Not(eq));
  }
  return rx->And(r, frac);
}

// Non-negative numbers y (no sign) with optional bounds on y.
RxId NonNeg(RegexBuilder* rx, const std::optional<Decimal>& lo, bool lo_strict, const std::optional<Decimal>& hi,
            bool hi_strict, RxId frac) {
  RxId any = rx->Concat(CanonInt(rx), frac);
  RxId r = any;
  if (lo) {
    RxId gt = rx->And(IntGe(rx, lo->int_digits), rx->Not(rx->Literal(lo->int_digits)));
    RxId lower = rx->Or(rx->Concat(gt, frac),
                        rx->Concat(rx->Literal(lo->int_digits), FracCmp(rx, lo->frac_digits, true, lo_strict, frac)));
    r = rx->And(r, lower);
  }
  if (hi) {
    RxId lt = rx->And(IntLe(rx, hi->int_digits), rx->Not(rx->Literal(hi->int_digits)));
    RxId upper = rx->Or(rx->Concat(lt, frac),
                        rx->Concat(rx->Literal(hi->int_digits), FracCmp(rx, hi->frac_digits, false, hi_strict, frac)));
    r = rx->And(r, upper);
  }
  return r;
}

}  // namespace

Result<Decimal> ParseDecimal(const std::string& text) {
  Decimal d;
  size_t i = 0;
  if (i < text.size() && text[i] == '-') d.negative = true, ++i;
  std::string digits;
  int point = -1;
  for (; i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'); ++i) {
    if (text[i] == '.') point = static_cast<int>(digits.size());
    else digits.push_back(text[i]);
  }
  if (digits.empty()) return InvalidArgument("bad number '" + text + "'");
  long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool neg = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) neg = text[i] == '-', ++i;
    long e = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      e = e * 10 + (text[i] - '0');
      if (e > 400) return Unsupported("number bound '" + text + "' has an exponent out of range");
    }
    exp = neg ? -e : e;
  }
  if (i != text.size()) return InvalidArgument("bad number '" + text + "'");
  long int_len = (point < 0 ? static_cast<long>(digits.size()) : point) + exp;
  if (int_len > 400) return Unsupported("number bound '" + text + "' out of range");
  std::string ip, fp;
  if (int_len <= 0) {
    ip = "0";
    fp = std::string(static_cast<size_t>(-int_len), '0') + digits;
  } else if (int_len >= static_cast<long>(digits.size())) {
    ip = digits + std::string(int_len - digits.size(), '0');
  } else {
    ip = digits.substr(0, int_len);
    fp = digits.substr(int_len);
  }
  size_t nz = ip.find_first_not_of('0');
  ip = nz == std::string::npos ? "0" : ip.substr(nz);
  while (!fp.empty() && fp.back() == '0') fp.pop_back();
  d.int_digits = ip;
  d.frac_digits = fp;
  if (d.IsZero()) d.negative = false;
  return d;
}

RxId NumberRangeRegex(RegexBuilder* rx, const NumberBounds& b, bool integer_only) {
  RxId digits = Digits(rx);
  RxId frac = integer_only ? rx->Eps()
                           : rx->Optional(rx->Concat(rx->Byte('.'), rx->Repeat(digits, 1, kRxInf)));
  RxId minus = rx->Byte('-');
  if (!b.lo && !b.hi) {
    RxId e = integer_only ? rx->Eps()
                          : rx->Optional(rx->Concat({rx->Or(rx->Byte('e'), rx->Byte('E')),
                                                     rx->Optional(rx->Or(rx->Byte('+'), rx->Byte('-'))),
                                                     rx->Repeat(digits, 1, kRxInf)}));
    return rx->Concat({rx->Optional(minus), CanonInt(rx), frac, e});
  }
  std::vector<RxId> alts;
  // Positive side (x >= 0): exists unless hi < 0 or hi == 0 exclusive.
  bool pos = !b.hi || !b.hi->negative;
  if (b.hi && b.hi->IsZero() && b.hi_exclusive) pos = false;
  if (pos) {
    std::optional<Decimal> lo;
    bool lo_strict = false;
    if (b.lo && !b.lo->negative) lo = b.lo, lo_strict = b.lo_exclusive;
    alts.push_back(NonNeg(rx, lo, lo_strict, b.hi, b.hi_exclusive, frac));
  }
  // Negative side (x = -y, y > 0): exists unless lo >= 0.
  bool neg = !b.lo || b.lo->negative;
  if (neg) {
    std::optional<Decimal> ylo, yhi;
    bool ylo_strict = false, yhi_strict = false;
    if (b.lo) {
      yhi = b.lo;
      yhi->negative = false;
      yhi_strict = b.lo_exclusive;
    }
    if (b.hi && b.hi->negative) {
      ylo = b.hi;
      ylo->negative = false;
      ylo_strict = b.hi_exclusive;
    } else {
      ylo = Decimal{false, "0", ""};
      ylo_strict = true;  // y > 0: "-0" is written as 0
    }
    alts.push_back(rx->Concat(minus, NonNeg(rx, ylo, ylo_strict, yhi, yhi_strict, frac)));
  }
  return rx->Or(alts);
}

RxId IntegerMultipleOfRegex(RegexBuilder* rx, uint32_t k) {
  RxId digits = rx->And(CanonInt(rx), rx->MultipleOfDigits(k));
  return rx->Concat(rx->Optional(rx->Byte('-')), digits);
}

}  // namespace lfm::grammar
