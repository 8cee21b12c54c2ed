// JSON Schema (draft 2020-12 and draft-07) -> CFG over regex lexemes.
//
// Semantics (llguidance-compatible where it matters):
// - Output is compact JSON by default (no whitespace outside strings); JsonSchemaOptions selects
//   flexible whitespace.
// - Property order is fixed: the keys of `properties` in schema order (merged left to right across
//   allOf/$ref), then `required` keys not listed there, then additional/pattern properties.
// - Strings are written canonically (escapes only where JSON requires them: \" \\ \b \f \n \r \t and
//   \u00XX for other control characters).
// - allOf, $ref and sibling keywords are intersections; anyOf is a union; oneOf is treated as anyOf
//   (exclusivity cannot be enforced by a grammar in general).
// - Known validation keywords that are not implemented (not, if, contains, uniqueItems: true,
//   dependentRequired, propertyNames, unevaluated*, ...) refuse the schema with the keyword and its
//   JSON pointer, unless options.lenient. Unknown keywords are annotations (as the spec says).
// - `format`: date-time, date, time, duration, email, hostname, ipv4, ipv6, uuid, uri, uri-reference
//   are enforced; other formats are refused unless lenient.
// - Bounded numbers are written without exponent; `multipleOf` supports integers and 10^-k.
#pragma once

#include <nlohmann/json.hpp>

#include "grammar/cfg.h"
#include "grammar/grammar.h"
#include "grammar/regex.h"

namespace lfm::grammar {

// Adds the schema's rules to cfg and returns the start nonterminal.
Result<uint32_t> CompileJsonSchema(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options,
                                   const GrammarLimits& limits, Cfg* cfg, RegexBuilder* rx);

}  // namespace lfm::grammar
