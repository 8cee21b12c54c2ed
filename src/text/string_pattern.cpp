#include "text/string_pattern.h"

namespace lfm {

using tokenizer_json::Json;
using tokenizer_json::Where;

Result<StringPattern> StringPattern::FromJson(const Json& j, const Where& w) {
  LFM_RETURN_IF_ERROR(tokenizer_json::ExpectObject(j, w));
  if (j.size() != 1) return w.Invalid("expected exactly one of \"String\" or \"Regex\"");
  StringPattern p;
  if (const Json* s = tokenizer_json::Find(j, "String")) {
    LFM_ASSIGN_OR_RETURN(p.literal_, tokenizer_json::GetString(j, w, "String"));
    (void)s;
    return p;
  }
  if (tokenizer_json::Find(j, "Regex") != nullptr) {
    LFM_ASSIGN_OR_RETURN(std::string re, tokenizer_json::GetString(j, w, "Regex"));
    std::string where = *w.origin + ": " + w.Key("Regex").path;
    LFM_ASSIGN_OR_RETURN(Regex compiled, Regex::Compile(re, where));
    p.regex_ = std::move(compiled);
    return p;
  }
  return w.Key(j.begin().key()).Unsupported("unknown pattern kind (expected \"String\" or \"Regex\")");
}

StringPattern StringPattern::Literal(std::string s) {
  StringPattern p;
  p.literal_ = std::move(s);
  return p;
}

Status StringPattern::FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  if (regex_) return regex_->FindAll(text, out);
  if (literal_.empty()) return Status::Ok();  // HF: an empty literal never matches
  size_t pos = 0;
  while ((pos = text.find(literal_, pos)) != std::string_view::npos) {
    out.emplace_back(pos, pos + literal_.size());
    pos += literal_.size();
  }
  return Status::Ok();
}

}  // namespace lfm
