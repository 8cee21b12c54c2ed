// Parsing JSON that comes from outside the program (files, requests, model output).
//
// nlohmann builds a tree as deep as the text is nested, and everything that later walks the tree
// (our readers, dump(), the destructor in older releases) recurses once per level: 50k nested '['
// overflow the stack. So the text is first scanned, without building anything, and refused if it
// nests deeper than a limit. Every nlohmann exception (syntax, invalid UTF-8, bad_alloc while
// building) becomes a Status whose message names the input and the byte offset.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

// Deep enough for any real config, tokenizer.json, chat request or JSON Schema (they nest < 20),
// shallow enough that a recursive walk of the tree cannot exhaust an 8 MiB (or a 512 KiB
// thread) stack.
inline constexpr size_t kDefaultMaxJsonDepth = 128;

// Returns OK if no array/object in `text` is nested deeper than `max_depth` (a top-level array is
// depth 1). Brackets inside strings (escapes included) do not count. Linear, no allocation.
// `input_name` names the input in the message: "<input_name>: JSON nesting deeper than 128 at byte 4012".
Status CheckJsonDepth(std::string_view text, std::string_view input_name,
                      size_t max_depth = kDefaultMaxJsonDepth);

// CheckJsonDepth, then parse. Errors: "<input_name>: invalid JSON at byte N: <reason>".
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view input_name,
                                 size_t max_depth = kDefaultMaxJsonDepth);
// The same, keeping object keys in document order (chat requests, JSON Schemas, tokenizer.json).
Result<nlohmann::ordered_json> ParseOrderedJson(std::string_view text, std::string_view input_name,
                                                size_t max_depth = kDefaultMaxJsonDepth);

}  // namespace lfm
