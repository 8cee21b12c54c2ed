// A Jinja2 template engine that renders Hugging Face chat templates the way transformers does:
// jinja2's ImmutableSandboxedEnvironment with trim_blocks=True, lstrip_blocks=True, the
// loopcontrols extension, transformers' `{% generation %}` tag, its `tojson` (json.dumps with
// ensure_ascii=False, no key sorting, no HTML escaping) and the globals `raise_exception` and
// `strftime_now`. Values follow Python semantics (None, True, repr of lists, int vs float).
//
// Runaway templates stop with a ResourceExhausted status at configurable limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lfm/status.h"
#include "text/jinja/value.h"

namespace lfm::jinja {

struct Limits {
  int64_t max_steps = 10'000'000;         // evaluated nodes + loop iterations + bytes copied / 64
  size_t max_output_bytes = 32u << 20;    // rendered output, and any single string or list built
  int max_recursion_depth = 200;          // macro/call nesting at render time
  int max_nesting_depth = 128;            // block and expression nesting at parse time
};

struct RenderOptions {
  Limits limits;
  // strftime_now() uses this UTC time (seconds since the epoch) if set, else the local time now.
  std::optional<int64_t> now_unix_seconds;
};

class Template {
 public:
  // Parses a template. Syntax errors come back as InvalidArgument "line L, column C: ...".
  static Result<Template> Parse(std::string_view source, const Limits& limits = {});

  // Renders with the variables of `context` (a JSON object; key order is kept, so pass
  // nlohmann::ordered_json). Errors (raise_exception, type errors, undefined access, limits)
  // name the line and column.
  Result<std::string> Render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;
  // Same, from a dict Value.
  Result<std::string> Render(const Value& context, const RenderOptions& options = {}) const;

  const std::string& source() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// JSON <-> Value (objects keep their key order; integers stay int, other numbers become float).
Value ValueFromJson(const nlohmann::ordered_json& j);
// Python's json.dumps(v, ensure_ascii=False, indent=indent, separators=default, sort_keys=...):
// separators are (", ", ": ") without indent and (",", ": ") with it. Throws jinja::Error for
// values JSON cannot hold (Undefined, functions).
std::string PyJsonDumps(const Value& v, int indent = -1, bool sort_keys = false);

}  // namespace lfm::jinja
