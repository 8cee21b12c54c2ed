// Regexes for JSON numbers within bounds, built digit by digit on decimal strings (no floating
// point, so big and fractional bounds are exact), and for multipleOf.
#pragma once

#include <optional>
#include <string>

#include "grammar/regex.h"
#include "lfm/status.h"

namespace lfm::grammar {

struct Decimal {
  bool negative = false;
  std::string int_digits;   // canonical: no leading zeros, "0" for zero
  std::string frac_digits;  // no trailing zeros
  bool IsZero() const { return int_digits == "0" && frac_digits.empty(); }
};

// Parses a JSON number text (as nlohmann dumps it, exponents included) into a Decimal.
Result<Decimal> ParseDecimal(const std::string& text);

struct NumberBounds {
  std::optional<Decimal> lo, hi;
  bool lo_exclusive = false, hi_exclusive = false;
};

// JSON number syntax restricted to [lo, hi]. integer_only: no fraction and no exponent. Bounded numbers
// are written without exponent (documented restriction); unbounded ones allow it.
RxId NumberRangeRegex(RegexBuilder* rx, const NumberBounds& b, bool integer_only);
// -?(0|[1-9][0-9]*) whose value is a multiple of k.
RxId IntegerMultipleOfRegex(RegexBuilder* rx, uint32_t k);

}  // namespace lfm::grammar
