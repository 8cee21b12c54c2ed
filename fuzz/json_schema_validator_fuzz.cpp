// Fuzzes JsonSchemaValidator on (schema, instance) pairs. Input layout: schema JSON, a NUL byte, then the
// instance JSON (no NUL: the same bytes are used as schema and instance). Any crash, sanitizer report
// or hang is a bug; invalid JSON or a schema the compiler rejects is fine.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "grammar/json_schema_validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  size_t nul = all.find('\0');
  std::string_view schema_text = nul == std::string_view::npos ? all : all.substr(0, nul);
  std::string_view instance_text = nul == std::string_view::npos ? all : all.substr(nul + 1);
  nlohmann::json schema = nlohmann::json::parse(schema_text, nullptr, false);
  if (schema.is_discarded()) return 0;
  nlohmann::json instance = nlohmann::json::parse(instance_text, nullptr, false);
  if (instance.is_discarded()) instance = nullptr;
  lfm::JsonSchemaValidator::Options opts;
  opts.assert_formats = (size & 1) != 0;
  auto v = lfm::JsonSchemaValidator::Compile(schema, opts);
  if (!v.ok()) return 0;
  std::vector<lfm::ValidationError> errors;
  bool a = v->Validate(instance, &errors);
  bool b = v->Validate(instance);
  if (a != b) __builtin_trap();  // the reporting and short-circuit paths must agree
  if (!a && errors.empty()) __builtin_trap();
  return 0;
}
