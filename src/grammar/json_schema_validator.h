// JSON Schema validator (draft 2020-12 and draft-07; draft-04/06 schemas run with draft-07 rules and
// 2019-09 with 2020-12 rules plus array-form "items"). It is the project's oracle for the grammar
// engine: it follows the spec, so unknown keywords are ignored as annotations (the grammar compiler,
// unlike this, must refuse what it does not understand).
//
// The dialect comes from "$schema" (default 2020-12); embedded resources may switch dialect.
// References resolve by base URI, $id, $anchor, $dynamicAnchor and JSON pointer. Remote documents are
// never fetched over the network: http://localhost:1234/<path> loads from Options::remotes_dir, and any
// other absolute URI goes to Options::load_document when given.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

struct ValidationError {
  std::string instance_pointer;  // JSON pointer into the instance, e.g. "/items/3/name"
  std::string schema_pointer;    // absolute keyword location, e.g. "#/properties/items/minItems"
  std::string message;
};

namespace jsv {
struct CompiledSchema;
}

class JsonSchemaValidator {
 public:
  struct Options {
    enum class Draft { kDraft2020_12, kDraft7 };
    // Dialect for schemas without "$schema".
    Draft default_draft = Draft::kDraft2020_12;
    // Assert "format" (2020-12 and draft-07 treat it as an annotation by default).
    bool assert_formats = false;
    // Directory that holds the documents of http://localhost:1234/ (the test-suite remotes).
    std::string remotes_dir;
    // Optional loader for other absolute URIs (no fragment), e.g. metaschemas stored on disk.
    std::function<Result<nlohmann::json>(const std::string& uri)> load_document;
    // Limits: nesting of schema keywords at compile time, evaluation depth at validation time.
    int max_schema_depth = 200;  // real schemas stay under ~40 (JSONSchemaBench max)
    int max_eval_depth = 768;
  };

  static Result<JsonSchemaValidator> Compile(const nlohmann::json& schema, const Options& options);
  static Result<JsonSchemaValidator> Compile(const nlohmann::json& schema) { return Compile(schema, Options()); }

  // True if `instance` is valid. When `errors` is given, evaluation continues after a failure and every
  // failing keyword that is not inside a passing/failing branch of anyOf/oneOf/not/if/contains is
  // recorded (so errors->front() is the first failure in evaluation order).
  bool Validate(const nlohmann::json& instance, std::vector<ValidationError>* errors = nullptr) const;

 private:
  std::shared_ptr<const jsv::CompiledSchema> compiled_;
};

}  // namespace lfm
