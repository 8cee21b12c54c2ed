// Typed access to tokenizer.json fields. Every error names the file and the JSON path
// ("tokenizer.json: pre_tokenizer.pretokenizers[1].behavior: ..."), and unknown keys are refused so that
// nothing in the file is silently ignored.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm::tokenizer_json {

using Json = nlohmann::json;

// Where a JSON value sits: file name for errors plus the dotted path inside it.
struct Where {
  const std::string* origin;
  std::string path;

  Where Key(std::string_view key) const;
  Where Index(size_t i) const;
  Status Invalid(const std::string& message) const;      // InvalidArgument naming origin + path
  Status Unsupported(const std::string& message) const;  // Unsupported naming origin + path
};

// The value at obj[key]; nullptr if absent. obj must be an object.
const Json* Find(const Json& obj, std::string_view key);
Status ExpectObject(const Json& v, const Where& w);
// Refuses keys outside `known` (loudly: an unimplemented option must never be ignored).
Status CheckKeys(const Json& obj, const Where& w, std::initializer_list<std::string_view> known);
// The "type" string of a component object.
Result<std::string> TypeOf(const Json& obj, const Where& w);

Result<std::string> GetString(const Json& obj, const Where& w, std::string_view key);
// Optional string: absent or null -> nullopt.
Result<std::optional<std::string>> GetOptString(const Json& obj, const Where& w, std::string_view key);
Result<bool> GetBool(const Json& obj, const Where& w, std::string_view key, bool default_value);
Result<int64_t> GetInt(const Json& obj, const Where& w, std::string_view key);

}  // namespace lfm::tokenizer_json
