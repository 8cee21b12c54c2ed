#include "text/post_processor.h"

#include <map>
#include <string>

namespace lfm {
namespace {

using tokenizer_json::Json;
using tokenizer_json::Where;

// Single-sequence template: ids before the sequence, ids after it.
class FixedProcessor : public PostProcessor {
 public:
  std::vector<int32_t> before, after;
  void Process(std::vector<int32_t>& ids) const override {
    ids.insert(ids.begin(), before.begin(), before.end());
    ids.insert(ids.end(), after.begin(), after.end());
  }
  std::optional<int32_t> bos_id() const override {
    if (before.size() == 1) return before[0];
    return std::nullopt;
  }
};

class SequenceProcessor : public PostProcessor {
 public:
  std::vector<std::unique_ptr<PostProcessor>> steps;
  void Process(std::vector<int32_t>& ids) const override {
    for (const auto& p : steps) p->Process(ids);
  }
  std::optional<int32_t> bos_id() const override {
    for (const auto& p : steps)
      if (auto b = p->bos_id()) return b;
    return std::nullopt;
  }
};

// Parses one template list ("single" or "pair"), resolving special tokens; with `fixed` set, also splits
// it around the $A sequence.
Status ParseTemplate(const Json& list, const Where& w, const std::map<std::string, std::vector<int32_t>>& specials,
                     FixedProcessor* fixed) {
  if (!list.is_array()) return w.Invalid("expected a template list (the string form is not supported)");
  bool seen_a = false;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    Where wi = w.Index(i);
    LFM_RETURN_IF_ERROR(tokenizer_json::ExpectObject(item, wi));
    if (item.size() != 1) return wi.Invalid("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
    if (const Json* st = tokenizer_json::Find(item, "SpecialToken")) {
      Where ws = wi.Key("SpecialToken");
      LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(*st, ws, {"id", "type_id"}));
      LFM_ASSIGN_OR_RETURN(std::string name, tokenizer_json::GetString(*st, ws, "id"));
      auto it = specials.find(name);
      if (it == specials.end()) return ws.Key("id").Invalid("'" + name + "' is not in special_tokens");
      if (fixed != nullptr) {
        auto& dst = seen_a ? fixed->after : fixed->before;
        dst.insert(dst.end(), it->second.begin(), it->second.end());
      }
    } else if (const Json* seq = tokenizer_json::Find(item, "Sequence")) {
      Where ws = wi.Key("Sequence");
      LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(*seq, ws, {"id", "type_id"}));
      LFM_ASSIGN_OR_RETURN(std::string id, tokenizer_json::GetString(*seq, ws, "id"));
      if (id != "A" && id != "B") return ws.Key("id").Invalid("expected \"A\" or \"B\"");
      if (fixed != nullptr) {
        if (id != "A" || seen_a) return ws.Key("id").Unsupported("single template must use $A exactly once");
        seen_a = true;
      }
    } else {
      return wi.Key(item.begin().key()).Invalid("expected SpecialToken or Sequence");
    }
  }
  if (fixed != nullptr && !seen_a) return w.Invalid("single template has no $A sequence");
  return Status::Ok();
}

Result<std::pair<std::string, int32_t>> TokenPair(const Json& j, const Where& w, std::string_view key) {
  const Json* v = tokenizer_json::Find(j, key);
  if (v == nullptr || !v->is_array() || v->size() != 2 || !(*v)[0].is_string() ||
      !(*v)[1].is_number_integer() || (*v)[1].get<int64_t>() < 0 || (*v)[1].get<int64_t>() > INT32_MAX)
    return w.Key(key).Invalid("expected [\"token\", id]");
  return std::make_pair((*v)[0].get<std::string>(), static_cast<int32_t>((*v)[1].get<int64_t>()));
}

}  // namespace

Result<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const Json& j, const Where& w) {
  LFM_ASSIGN_OR_RETURN(std::string type, tokenizer_json::TypeOf(j, w));
  if (type == "TemplateProcessing") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "single", "pair", "special_tokens"}));
    std::map<std::string, std::vector<int32_t>> specials;
    const Json* st = tokenizer_json::Find(j, "special_tokens");
    Where wst = w.Key("special_tokens");
    if (st == nullptr || !st->is_object()) return wst.Invalid("missing or not an object");
    for (auto it = st->begin(); it != st->end(); ++it) {
      Where wt = wst.Key(it.key());
      LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(it.value(), wt, {"id", "ids", "tokens"}));
      const Json* ids = tokenizer_json::Find(it.value(), "ids");
      if (ids == nullptr || !ids->is_array()) return wt.Key("ids").Invalid("missing or not an array");
      std::vector<int32_t> v;
      for (const Json& id : *ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
          return wt.Key("ids").Invalid("ids must be non-negative integers");
        v.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
      specials[it.key()] = std::move(v);
    }
    auto p = std::make_unique<FixedProcessor>();
    const Json* single = tokenizer_json::Find(j, "single");
    if (single == nullptr) return w.Key("single").Invalid("missing");
    LFM_RETURN_IF_ERROR(ParseTemplate(*single, w.Key("single"), specials, p.get()));
    if (const Json* pair = tokenizer_json::Find(j, "pair"); pair != nullptr && !pair->is_null())
      LFM_RETURN_IF_ERROR(ParseTemplate(*pair, w.Key("pair"), specials, nullptr));
    return std::unique_ptr<PostProcessor>(std::move(p));
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    if (type == "RobertaProcessing") {
      LFM_RETURN_IF_ERROR(
          tokenizer_json::CheckKeys(j, w, {"type", "sep", "cls", "trim_offsets", "add_prefix_space"}));
    } else {
      LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "sep", "cls"}));
    }
    LFM_ASSIGN_OR_RETURN(auto sep, TokenPair(j, w, "sep"));
    LFM_ASSIGN_OR_RETURN(auto cls, TokenPair(j, w, "cls"));
    auto p = std::make_unique<FixedProcessor>();
    p->before = {cls.second};
    p->after = {sep.second};
    return std::unique_ptr<PostProcessor>(std::move(p));
  }
  if (type == "ByteLevel") {
    // Only adjusts offsets: the ids are unchanged.
    LFM_RETURN_IF_ERROR(
        tokenizer_json::CheckKeys(j, w, {"type", "add_prefix_space", "trim_offsets", "use_regex"}));
    return std::unique_ptr<PostProcessor>(std::make_unique<FixedProcessor>());
  }
  if (type == "Sequence") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "processors"}));
    const Json* list = tokenizer_json::Find(j, "processors");
    if (list == nullptr || !list->is_array()) return w.Key("processors").Invalid("missing or not an array");
    auto seq = std::make_unique<SequenceProcessor>();
    for (size_t i = 0; i < list->size(); ++i) {
      LFM_ASSIGN_OR_RETURN(auto step, PostProcessorFromJson((*list)[i], w.Key("processors").Index(i)));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<PostProcessor>(std::move(seq));
  }
  return w.Key("type").Invalid("unknown post-processor type '" + type + "'");
}

}  // namespace lfm
