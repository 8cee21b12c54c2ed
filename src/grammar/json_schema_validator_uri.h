// RFC 3986 reference resolution, just enough for JSON Schema $id / $ref handling (base URIs, URNs,
// file: URIs, dot segments). No network access is ever implied.
#pragma once

#include <string>
#include <string_view>

namespace lfm {

struct UriParts {
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
  std::string scheme, authority, path, query, fragment;
};

UriParts SplitUri(std::string_view uri);
std::string JoinUri(const UriParts& p);
// Resolves `ref` against absolute-or-empty `base` (RFC 3986 section 5.2).
std::string ResolveUri(std::string_view base, std::string_view ref);
// Splits "abs#frag" into ("abs", "frag"); has_fragment tells whether a '#' was present.
void SplitFragment(std::string_view uri, std::string* without, std::string* fragment,
                   bool* has_fragment = nullptr);

}  // namespace lfm
