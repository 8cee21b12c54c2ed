// Checks for the JSON Schema "format" values (RFC 3339 dates and times, RFC 5321 e-mail, RFC 1123
// hostnames, IP addresses, RFC 3986 URIs, UUIDs, JSON pointers, ECMA-262 regexes). Used by the
// validator when format assertion is on; the grammar compiler can reuse them as post-checks.
#pragma once

#include <string_view>

namespace lfm {

// True if `format` is one this file knows how to check.
bool IsKnownStringFormat(std::string_view format);
// True if `value` conforms to `format`. Unknown formats always conform (they are annotations).
// Known limits: idn-hostname / idn-email / iri check structure only, not the IDNA2008 tables.
bool CheckStringFormat(std::string_view format, std::string_view value);

bool IsValidDate(std::string_view s);       // full-date
bool IsValidTime(std::string_view s);       // full-time (offset required, leap seconds at 23:59:60Z)
bool IsValidDateTime(std::string_view s);   // date-time
bool IsValidDuration(std::string_view s);   // RFC 3339 appendix A duration
bool IsValidIpv4(std::string_view s);
bool IsValidIpv6(std::string_view s);
bool IsValidHostname(std::string_view s, bool allow_unicode = false);
bool IsValidEmail(std::string_view s, bool allow_unicode = false);
bool IsValidUri(std::string_view s, bool require_scheme, bool allow_unicode = false);
bool IsValidUriTemplate(std::string_view s);
bool IsValidUuid(std::string_view s);
bool IsValidJsonPointer(std::string_view s);
bool IsValidRelativeJsonPointer(std::string_view s);

}  // namespace lfm
