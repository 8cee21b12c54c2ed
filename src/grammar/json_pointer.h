// RFC 6901 JSON Pointer helpers shared by the JSON Schema validator and the grammar compiler.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

// Escapes one reference token ("~" -> "~0", "/" -> "~1").
std::string JsonPointerEscape(std::string_view token);
// Splits "/a/b~1c" into {"a", "b/c"}. "" is the whole document. Fails on a pointer that does not
// start with "/" or has a bad "~" escape.
Result<std::vector<std::string>> ParseJsonPointer(std::string_view pointer);
// Resolves a pointer against `doc`; nullptr if some token does not name an existing member/element.
const nlohmann::json* ResolveJsonPointer(const nlohmann::json& doc, const std::vector<std::string>& tokens);
// Decodes %XX escapes (used for pointers carried in URI fragments). Fails on a malformed escape.
Result<std::string> PercentDecode(std::string_view s);

}  // namespace lfm
