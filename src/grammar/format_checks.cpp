#include "grammar/format_checks.h"

#include <cstdint>
#include <string>

#include "base/utf8.h"
#include "grammar/json_schema_validator_regex.h"

namespace lfm {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Parses exactly n ASCII digits at s[i]; advances i.
bool Digits(std::string_view s, size_t& i, int n, int* out) {
  if (i + n > s.size()) return false;
  int v = 0;
  for (int k = 0; k < n; ++k) {
    if (!IsDigit(s[i + k])) return false;
    v = v * 10 + (s[i + k] - '0');
  }
  i += n;
  *out = v;
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysIn(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool ParseDate(std::string_view s, size_t& i) {
  int y, m, d;
  if (!Digits(s, i, 4, &y) || i >= s.size() || s[i++] != '-') return false;
  if (!Digits(s, i, 2, &m) || i >= s.size() || s[i++] != '-') return false;
  if (!Digits(s, i, 2, &d)) return false;
  return m >= 1 && m <= 12 && d >= 1 && d <= DaysIn(y, m);
}

bool ParseTime(std::string_view s, size_t& i) {
  int h, m, sec;
  if (!Digits(s, i, 2, &h) || i >= s.size() || s[i++] != ':') return false;
  if (!Digits(s, i, 2, &m) || i >= s.size() || s[i++] != ':') return false;
  if (!Digits(s, i, 2, &sec)) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i >= s.size()) return false;
  int off_sign = 0, oh = 0, om = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    off_sign = s[i] == '+' ? 1 : -1;
    ++i;
    if (!Digits(s, i, 2, &oh) || i >= s.size() || s[i++] != ':' || !Digits(s, i, 2, &om)) return false;
    if (oh > 23 || om > 59) return false;
  } else {
    return false;
  }
  if (h > 23 || m > 59 || sec > 60) return false;
  if (sec == 60) {
    // A leap second is only valid at 23:59:60 UTC.
    int utc_minutes = h * 60 + m - off_sign * (oh * 60 + om);
    utc_minutes = ((utc_minutes % 1440) + 1440) % 1440;
    if (utc_minutes != 23 * 60 + 59) return false;
  }
  return true;
}

bool AllAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace

bool IsValidDate(std::string_view s) {
  size_t i = 0;
  return ParseDate(s, i) && i == s.size();
}

bool IsValidTime(std::string_view s) {
  size_t i = 0;
  return ParseTime(s, i) && i == s.size();
}

bool IsValidDateTime(std::string_view s) {
  size_t i = 0;
  if (!ParseDate(s, i) || i >= s.size() || (s[i] != 'T' && s[i] != 't')) return false;
  ++i;
  return ParseTime(s, i) && i == s.size();
}

bool IsValidDuration(std::string_view s) {
  if (s.size() < 2 || s[0] != 'P') return false;
  size_t i = 1;
  // Reads "<digits><unit>" groups; returns the units in order.
  auto read = [&](std::string& units) -> bool {
    while (i < s.size() && s[i] != 'T') {
      size_t start = i;
      while (i < s.size() && IsDigit(s[i])) ++i;
      if (i == start || i >= s.size()) return false;
      units += s[i++];
    }
    return true;
  };
  std::string date_units, time_units;
  if (!read(date_units)) return false;
  bool has_t = false;
  if (i < s.size() && s[i] == 'T') {
    has_t = true;
    ++i;
    if (!read(time_units)) return false;
    if (i != s.size()) return false;
    if (time_units.empty()) return false;
  }
  if (date_units.empty() && time_units.empty()) return false;
  if (date_units == "W") return !has_t;
  // The ABNF only allows contiguous runs: Y[M[D]], M[D], D and H[M[S]], M[S], S.
  static const std::string_view kDate[] = {"Y", "YM", "YMD", "M", "MD", "D", ""};
  static const std::string_view kTime[] = {"H", "HM", "HMS", "M", "MS", "S", ""};
  bool ok_date = false, ok_time = false;
  for (auto u : kDate) ok_date |= date_units == u;
  for (auto u : kTime) ok_time |= time_units == u;
  return ok_date && ok_time;
}

bool IsValidIpv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && IsDigit(s[i]) && i - start < 4) v = v * 10 + (s[i++] - '0');
    size_t len = i - start;
    if (len == 0 || len > 3 || v > 255 || (len > 1 && s[start] == '0')) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.' || parts == 4) return false;
    ++i;
  }
  return parts == 4;
}

bool IsValidIpv6(std::string_view s) {
  if (s.empty()) return false;
  // Split on ':' keeping empties; a trailing dotted IPv4 counts as two groups.
  int groups = 0;
  bool double_colon = false;
  size_t i = 0;
  if (s.size() >= 2 && s[0] == ':' && s[1] == ':') {
    double_colon = true;
    i = 2;
    if (i == s.size()) return true;
  } else if (s[0] == ':') {
    return false;
  }
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && s[i] != ':') ++i;
    std::string_view g = s.substr(start, i - start);
    if (g.empty()) return false;
    if (g.find('.') != std::string_view::npos) {
      if (i != s.size() || !IsValidIpv4(g)) return false;
      groups += 2;
      break;
    }
    if (g.size() > 4) return false;
    for (char c : g) {
      if (!IsHex(c)) return false;
    }
    ++groups;
    if (i == s.size()) break;
    ++i;  // ':'
    if (i < s.size() && s[i] == ':') {
      if (double_colon) return false;
      double_colon = true;
      ++i;
      if (i == s.size()) break;
    } else if (i == s.size()) {
      return false;  // trailing single ':'
    }
  }
  return double_colon ? groups < 8 : groups == 8;
}

bool IsValidHostname(std::string_view s, bool allow_unicode) {
  if (s.empty()) return false;
  if (!allow_unicode && !AllAscii(s)) return false;
  if (s.size() > 253) return false;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && s[i] != '.') ++i;
    std::string_view label = s.substr(start, i - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u >= 0x80) continue;  // only reachable with allow_unicode
      if (!IsAlpha(c) && !IsDigit(c) && c != '-') return false;
    }
    // "--" in positions 3-4 is reserved for A-labels ("xn--").
    if (label.size() >= 4 && label[2] == '-' && label[3] == '-') {
      if (!((label[0] == 'x' || label[0] == 'X') && (label[1] == 'n' || label[1] == 'N'))) return false;
      if (label.size() == 4) return false;
    }
    if (i == s.size()) break;
    ++i;
  }
  return true;
}

bool IsValidEmail(std::string_view s, bool allow_unicode) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) return false;
  std::string_view local = s.substr(0, at), domain = s.substr(at + 1);
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    for (size_t k = 1; k + 1 < local.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(local[k]);
      if (c == '\\') {
        ++k;
        continue;
      }
      if (c == '"' || c < 0x20 || (c >= 0x80 && !allow_unicode)) return false;
    }
  } else {
    static const std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~";
    if (local.front() == '.' || local.back() == '.') return false;
    for (size_t k = 0; k < local.size(); ++k) {
      char c = local[k];
      unsigned char u = static_cast<unsigned char>(c);
      if (c == '.') {
        if (k + 1 < local.size() && local[k + 1] == '.') return false;
        continue;
      }
      if (u >= 0x80) {
        if (!allow_unicode) return false;
        continue;
      }
      if (!IsAlpha(c) && !IsDigit(c) && kAtext.find(c) == std::string_view::npos) return false;
    }
  }
  if (domain.front() == '[' && domain.back() == ']') {
    std::string_view lit = domain.substr(1, domain.size() - 2);
    if (lit.substr(0, 5) == "IPv6:") return IsValidIpv6(lit.substr(5));
    return IsValidIpv4(lit);
  }
  return IsValidHostname(domain, allow_unicode);
}

bool IsValidUri(std::string_view s, bool require_scheme, bool allow_unicode) {
  if (!allow_unicode && !AllAscii(s)) return false;
  static const std::string_view kAllowed = "-._~:/?#[]@!$&'()*+,;=%";
  for (size_t k = 0; k < s.size(); ++k) {
    char c = s[k];
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;
    if (c == '%') {
      if (k + 2 >= s.size() || !IsHex(s[k + 1]) || !IsHex(s[k + 2])) return false;
      continue;
    }
    if (!IsAlpha(c) && !IsDigit(c) && kAllowed.find(c) == std::string_view::npos) return false;
  }
  size_t colon = s.find(':');
  size_t first_delim = s.find_first_of("/?#");
  bool has_scheme = false;
  size_t rest = 0;
  if (colon != std::string_view::npos && (first_delim == std::string_view::npos || colon < first_delim) &&
      colon > 0) {
    has_scheme = IsAlpha(s[0]);
    for (size_t k = 1; k < colon && has_scheme; ++k) {
      char c = s[k];
      has_scheme = IsAlpha(c) || IsDigit(c) || c == '+' || c == '-' || c == '.';
    }
    if (!has_scheme) return false;
    rest = colon + 1;
  } else if (colon != std::string_view::npos && (first_delim == std::string_view::npos || colon < first_delim)) {
    return false;  // ":" in the first segment of a relative reference
  }
  if (require_scheme && !has_scheme) return false;
  std::string_view r = s.substr(rest);
  size_t hash = r.find('#');
  if (hash != std::string_view::npos && r.find('#', hash + 1) != std::string_view::npos) return false;
  std::string_view before_frag = r.substr(0, hash);
  if (before_frag.find_first_of("[]") != std::string_view::npos && before_frag.substr(0, 2) != "//") return false;
  if (before_frag.substr(0, 2) == "//") {
    size_t end = before_frag.find_first_of("/?", 2);
    std::string_view auth = before_frag.substr(2, end == std::string_view::npos ? std::string_view::npos : end - 2);
    size_t at = auth.rfind('@');
    std::string_view hostport = at == std::string_view::npos ? auth : auth.substr(at + 1);
    if (at != std::string_view::npos && auth.substr(0, at).find_first_of("[]@") != std::string_view::npos) {
      return false;
    }
    std::string_view host = hostport, port;
    if (!hostport.empty() && hostport.front() == '[') {
      size_t close = hostport.find(']');
      if (close == std::string_view::npos) return false;
      host = hostport.substr(1, close - 1);
      if (!IsValidIpv6(host) && !(host.size() > 1 && (host[0] == 'v' || host[0] == 'V'))) return false;
      std::string_view after = hostport.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':') return false;
        port = after.substr(1);
      }
    } else {
      if (hostport.find_first_of("[]") != std::string_view::npos) return false;
      size_t pc = hostport.rfind(':');
      if (pc != std::string_view::npos) port = hostport.substr(pc + 1);
    }
    for (char c : port) {
      if (!IsDigit(c)) return false;
    }
    if (end != std::string_view::npos &&
        before_frag.substr(end).find_first_of("[]") != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

bool IsValidUriTemplate(std::string_view s) {
  bool open = false;
  for (char c : s) {
    if (c == '{') {
      if (open) return false;
      open = true;
    } else if (c == '}') {
      if (!open) return false;
      open = false;
    }
  }
  return !open;
}

bool IsValidUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t k = 0; k < 36; ++k) {
    bool dash = k == 8 || k == 13 || k == 18 || k == 23;
    if (dash ? s[k] != '-' : !IsHex(s[k])) return false;
  }
  return true;
}

bool IsValidJsonPointer(std::string_view s) {
  if (s.empty()) return true;
  if (s[0] != '/') return false;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '~' && (k + 1 >= s.size() || (s[k + 1] != '0' && s[k + 1] != '1'))) return false;
  }
  return true;
}

bool IsValidRelativeJsonPointer(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (i == 0 || (i > 1 && s[0] == '0')) return false;
  std::string_view rest = s.substr(i);
  if (rest == "#") return true;
  return IsValidJsonPointer(rest);
}

bool IsKnownStringFormat(std::string_view f) {
  static const std::string_view kKnown[] = {
      "date-time", "date", "time", "duration", "email", "idn-email", "hostname", "idn-hostname", "ipv4", "ipv6",
      "uri", "uri-reference", "iri", "iri-reference", "uri-template", "uuid", "regex", "json-pointer",
      "relative-json-pointer"};
  for (auto k : kKnown) {
    if (f == k) return true;
  }
  return false;
}

bool CheckStringFormat(std::string_view f, std::string_view v) {
  if (f == "date-time") return IsValidDateTime(v);
  if (f == "date") return IsValidDate(v);
  if (f == "time") return IsValidTime(v);
  if (f == "duration") return IsValidDuration(v);
  if (f == "email") return IsValidEmail(v, false);
  if (f == "idn-email") return IsValidEmail(v, true);
  if (f == "hostname") return IsValidHostname(v, false);
  if (f == "idn-hostname") return IsValidHostname(v, true);
  if (f == "ipv4") return IsValidIpv4(v);
  if (f == "ipv6") return IsValidIpv6(v);
  if (f == "uri") return IsValidUri(v, true, false);
  if (f == "uri-reference") return IsValidUri(v, false, false);
  if (f == "iri") return IsValidUri(v, true, true);
  if (f == "iri-reference") return IsValidUri(v, false, true);
  if (f == "uri-template") return IsValidUriTemplate(v);
  if (f == "uuid") return IsValidUuid(v);
  if (f == "regex") return IsEcmaRegexSyntax(v);
  if (f == "json-pointer") return IsValidJsonPointer(v);
  if (f == "relative-json-pointer") return IsValidRelativeJsonPointer(v);
  return true;
}

}  // namespace lfm
