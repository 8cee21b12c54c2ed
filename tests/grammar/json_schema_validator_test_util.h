// Test helper: loads JSON Schema metaschemas from the ajv package under tools/refs (a reference tool
// installed with the repo), so "$schema"/"$ref" to json-schema.org resolve without any network.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "lfm/status.h"
#include "test_util.h"

namespace lfm::testing {

inline Result<nlohmann::json> LoadMetaschema(const std::string& uri) {
  std::string refs = SourceDir() + "/tools/refs/node_modules/ajv/lib/refs/";
  std::string path;
  auto starts = [&](const char* p) { return uri.rfind(p, 0) == 0; };
  if (uri == "https://json-schema.org/draft/2020-12/schema") {
    path = refs + "json-schema-2020-12/schema.json";
  } else if (starts("https://json-schema.org/draft/2020-12/meta/")) {
    path = refs + "json-schema-2020-12/meta/" + uri.substr(43) + ".json";
  } else if (uri == "https://json-schema.org/draft/2019-09/schema") {
    path = refs + "json-schema-2019-09/schema.json";
  } else if (starts("https://json-schema.org/draft/2019-09/meta/")) {
    path = refs + "json-schema-2019-09/meta/" + uri.substr(43) + ".json";
  } else if (uri == "http://json-schema.org/draft-07/schema") {
    path = refs + "json-schema-draft-07.json";
  } else if (uri == "http://json-schema.org/draft-06/schema") {
    path = refs + "json-schema-draft-06.json";
  } else {
    return NotFound("no local copy of " + uri);
  }
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("bad JSON in " + path);
  return j;
}

}  // namespace lfm::testing
