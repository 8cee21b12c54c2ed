#include "grammar/json_schema_validator_uri.h"

#include <cctype>
#include <vector>

namespace lfm {

UriParts SplitUri(std::string_view u) {
  UriParts p;
  // scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" before any of "/?#".
  size_t i = 0;
  size_t colon = u.find_first_of(":/?#");
  if (colon != std::string_view::npos && colon > 0 && u[colon] == ':') {
    bool ok = std::isalpha(static_cast<unsigned char>(u[0]));
    for (size_t k = 1; k < colon && ok; ++k) {
      char c = u[k];
      ok = std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    }
    if (ok) {
      p.has_scheme = true;
      p.scheme = std::string(u.substr(0, colon));
      i = colon + 1;
    }
  }
  if (u.substr(i, 2) == "//") {
    size_t end = u.find_first_of("/?#", i + 2);
    if (end == std::string_view::npos) end = u.size();
    p.has_authority = true;
    p.authority = std::string(u.substr(i + 2, end - i - 2));
    i = end;
  }
  size_t end = u.find_first_of("?#", i);
  if (end == std::string_view::npos) end = u.size();
  p.path = std::string(u.substr(i, end - i));
  i = end;
  if (i < u.size() && u[i] == '?') {
    end = u.find('#', i);
    if (end == std::string_view::npos) end = u.size();
    p.has_query = true;
    p.query = std::string(u.substr(i + 1, end - i - 1));
    i = end;
  }
  if (i < u.size() && u[i] == '#') {
    p.has_fragment = true;
    p.fragment = std::string(u.substr(i + 1));
  }
  return p;
}

std::string JoinUri(const UriParts& p) {
  std::string out;
  if (p.has_scheme) out += p.scheme + ":";
  if (p.has_authority) out += "//" + p.authority;
  out += p.path;
  if (p.has_query) out += "?" + p.query;
  if (p.has_fragment) out += "#" + p.fragment;
  return out;
}

static std::string RemoveDotSegments(const std::string& path) {
  std::vector<std::string> out;
  bool absolute = !path.empty() && path[0] == '/';
  size_t i = absolute ? 1 : 0;
  bool trailing_slash = false;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string seg = path.substr(i, j - i);
    bool last = j == path.size();
    if (seg == ".") {
      trailing_slash = last;
    } else if (seg == "..") {
      if (!out.empty()) out.pop_back();
      trailing_slash = last;
    } else {
      out.push_back(seg);
      trailing_slash = false;
    }
    i = j + 1;
  }
  std::string r = absolute ? "/" : "";
  for (size_t k = 0; k < out.size(); ++k) {
    if (k) r += "/";
    r += out[k];
  }
  if (trailing_slash && (r.empty() || r.back() != '/')) r += "/";
  return r;
}

static std::string MergePaths(const UriParts& base, const std::string& ref_path) {
  if (base.has_authority && base.path.empty()) return "/" + ref_path;
  size_t slash = base.path.rfind('/');
  if (slash == std::string::npos) return ref_path;
  return base.path.substr(0, slash + 1) + ref_path;
}

std::string ResolveUri(std::string_view base_sv, std::string_view ref_sv) {
  UriParts r = SplitUri(ref_sv);
  UriParts b = SplitUri(base_sv);
  UriParts t;
  if (r.has_scheme) {
    t = r;
    t.path = RemoveDotSegments(r.path);
  } else {
    if (r.has_authority) {
      t.has_authority = true;
      t.authority = r.authority;
      t.path = RemoveDotSegments(r.path);
      t.has_query = r.has_query;
      t.query = r.query;
    } else {
      if (r.path.empty()) {
        t.path = b.path;
        if (r.has_query) {
          t.has_query = true;
          t.query = r.query;
        } else {
          t.has_query = b.has_query;
          t.query = b.query;
        }
      } else {
        if (r.path[0] == '/') {
          t.path = RemoveDotSegments(r.path);
        } else {
          // URNs and other non-hierarchical bases: a relative path cannot merge meaningfully, but
          // RFC 3986 still defines the result; keep it.
          t.path = RemoveDotSegments(MergePaths(b, r.path));
        }
        t.has_query = r.has_query;
        t.query = r.query;
      }
      t.has_authority = b.has_authority;
      t.authority = b.authority;
    }
    t.has_scheme = b.has_scheme;
    t.scheme = b.scheme;
  }
  t.has_fragment = r.has_fragment;
  t.fragment = r.fragment;
  return JoinUri(t);
}

void SplitFragment(std::string_view uri, std::string* without, std::string* fragment, bool* has_fragment) {
  size_t h = uri.find('#');
  if (h == std::string_view::npos) {
    *without = std::string(uri);
    fragment->clear();
    if (has_fragment) *has_fragment = false;
  } else {
    *without = std::string(uri.substr(0, h));
    *fragment = std::string(uri.substr(h + 1));
    if (has_fragment) *has_fragment = true;
  }
}

}  // namespace lfm
