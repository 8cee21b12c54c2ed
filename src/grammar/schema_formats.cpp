#include "grammar/schema_formats.h"

#include <map>

namespace lfm::grammar {

namespace {
#define DATE "\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])"
#define TIME "([01]\\d|2[0-3]):[0-5]\\d:([0-5]\\d|60)(\\.\\d+)?([Zz]|[+-]([01]\\d|2[0-3]):[0-5]\\d)"
#define DNS_LABEL "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#define HOSTNAME DNS_LABEL "(\\." DNS_LABEL ")*"
#define OCTET "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
#define IPV4 OCTET "\\." OCTET "\\." OCTET "\\." OCTET
#define H16 "[0-9A-Fa-f]{1,4}"
#define LS32 "(" H16 ":" H16 "|" IPV4 ")"
#define IPV6                                                                                              \
  "((" H16 ":){6}" LS32 "|::(" H16 ":){5}" LS32 "|(" H16 ")?::(" H16 ":){4}" LS32 "|((" H16 ":){0,1}" H16 \
  ")?::(" H16 ":){3}" LS32 "|((" H16 ":){0,2}" H16 ")?::(" H16 ":){2}" LS32 "|((" H16 ":){0,3}" H16        \
  ")?::" H16 ":" LS32 "|((" H16 ":){0,4}" H16 ")?::" LS32 "|((" H16 ":){0,5}" H16 ")?::" H16 "|((" H16     \
  ":){0,6}" H16 ")?::)"
#define URI_CHAR "([A-Za-z0-9\\-._~:/?#\\[\\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})"
#define SCHEME "[A-Za-z][A-Za-z0-9+\\-.]*"
}  // namespace

const char* FormatRegex(const std::string& format) {
  static const std::map<std::string, const char*> kFormats = {
      {"date", DATE},
      {"time", TIME},
      {"date-time", DATE "[Tt ]" TIME},
      {"duration",
       "P(\\d+W|(\\d+Y(\\d+M)?(\\d+D)?|\\d+M(\\d+D)?|\\d+D)(T(\\d+H(\\d+M)?(\\d+S)?|\\d+M(\\d+S)?|\\d+S))?|"
       "T(\\d+H(\\d+M)?(\\d+S)?|\\d+M(\\d+S)?|\\d+S))"},
      {"email", "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@" HOSTNAME},
      {"hostname", HOSTNAME},
      {"ipv4", IPV4},
      {"ipv6", IPV6},
      {"uuid", "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"},
      {"uri", SCHEME ":" URI_CHAR "*"},
      {"uri-reference", "(" SCHEME ":)?" URI_CHAR "*"},
  };
  auto it = kFormats.find(format);
  return it == kFormats.end() ? nullptr : it->second;
}

}  // namespace lfm::grammar
