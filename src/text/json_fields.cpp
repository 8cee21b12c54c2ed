#include "text/json_fields.h"

namespace lfm::tokenizer_json {

Where Where::Key(std::string_view key) const {
  return Where{origin, path.empty() ? std::string(key) : path + "." + std::string(key)};
}

Where Where::Index(size_t i) const { return Where{origin, path + "[" + std::to_string(i) + "]"}; }

Status Where::Invalid(const std::string& message) const {
  return InvalidArgument(*origin + ": " + (path.empty() ? "(root)" : path) + ": " + message);
}

Status Where::Unsupported(const std::string& message) const {
  return lfm::Unsupported(*origin + ": " + (path.empty() ? "(root)" : path) + ": " + message);
}

const Json* Find(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

Status ExpectObject(const Json& v, const Where& w) {
  if (!v.is_object()) return w.Invalid(std::string("expected an object, got ") + v.type_name());
  return Status::Ok();
}

Status CheckKeys(const Json& obj, const Where& w, std::initializer_list<std::string_view> known) {
  LFM_RETURN_IF_ERROR(ExpectObject(obj, w));
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) return w.Key(it.key()).Unsupported("unknown or unimplemented field");
  }
  return Status::Ok();
}

Result<std::string> TypeOf(const Json& obj, const Where& w) {
  LFM_RETURN_IF_ERROR(ExpectObject(obj, w));
  const Json* t = Find(obj, "type");
  if (t == nullptr || !t->is_string()) return w.Key("type").Invalid("missing or not a string");
  return t->get<std::string>();
}

Result<std::string> GetString(const Json& obj, const Where& w, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return w.Key(key).Invalid("missing");
  if (!v->is_string()) return w.Key(key).Invalid(std::string("expected a string, got ") + v->type_name());
  return v->get<std::string>();
}

Result<std::optional<std::string>> GetOptString(const Json& obj, const Where& w, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return w.Key(key).Invalid(std::string("expected a string, got ") + v->type_name());
  return std::optional<std::string>(v->get<std::string>());
}

Result<bool> GetBool(const Json& obj, const Where& w, std::string_view key, bool default_value) {
  const Json* v = Find(obj, key);
  if (v == nullptr || v->is_null()) return default_value;
  if (!v->is_boolean()) return w.Key(key).Invalid(std::string("expected a boolean, got ") + v->type_name());
  return v->get<bool>();
}

Result<int64_t> GetInt(const Json& obj, const Where& w, std::string_view key) {
  const Json* v = Find(obj, key);
  if (v == nullptr) return w.Key(key).Invalid("missing");
  if (!v->is_number_integer()) return w.Key(key).Invalid(std::string("expected an integer, got ") + v->type_name());
  return v->get<int64_t>();
}

}  // namespace lfm::tokenizer_json
