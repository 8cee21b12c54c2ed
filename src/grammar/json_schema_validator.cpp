// Evaluation of compiled JSON Schemas: keyword semantics, annotation tracking for unevaluated*,
// dynamic scope for $dynamicRef, and error reporting with instance/keyword locations.
#include "grammar/json_schema_validator.h"

#include <cmath>
#include <limits>
#include <unordered_set>

#include "grammar/format_checks.h"
#include "grammar/json_pointer.h"
#include "grammar/json_schema_validator_internal.h"

namespace lfm {
namespace jsv {

Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const json& schema,
                                                           const JsonSchemaValidator::Options& opts);

namespace {

// Which members (by iteration position) or items of the current instance have been evaluated.
struct Evaluated {
  std::vector<bool> marks;
  void Mark(size_t i, size_t n) {
    if (marks.size() != n) marks.assign(n, false);
    marks[i] = true;
  }
  bool Has(size_t i) const { return i < marks.size() && marks[i]; }
  void Merge(const Evaluated& o) {
    if (o.marks.empty()) return;
    if (marks.size() != o.marks.size()) marks.assign(o.marks.size(), false);
    for (size_t i = 0; i < o.marks.size(); ++i) {
      if (o.marks[i]) marks[i] = true;
    }
  }
};

struct PathSeg {
  const std::string* key;  // nullptr for array index
  size_t index;
};

struct Ctx {
  const CompiledSchema* cs;
  std::vector<ValidationError>* errors;
  std::vector<const Resource*> scope;
  struct RefFrame {
    const Node* target;
    const json* inst;
  };
  std::vector<RefFrame> refs;
  std::vector<PathSeg> path;
  int depth = 0;
};

std::string InstancePointer(const Ctx& c) {
  std::string out;
  for (const PathSeg& s : c.path) {
    out += '/';
    out += s.key ? JsonPointerEscape(*s.key) : std::to_string(s.index);
  }
  return out;
}

std::string Short(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

bool IsInteger(const json& v) {
  if (v.is_number_integer()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  return false;
}

uint8_t TypeOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return kNull;
    case json::value_t::boolean: return kBoolean;
    case json::value_t::object: return kObject;
    case json::value_t::array: return kArray;
    case json::value_t::string: return kString;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return kNumber | kInteger;
    case json::value_t::number_float: return IsInteger(v) ? (kNumber | kInteger) : kNumber;
    default: return 0;
  }
}

// Exact for integer pairs (int64/uint64 mixes included), double otherwise. Returns <0, 0, >0.
int CompareNumbers(const json& a, const json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    bool au = a.is_number_unsigned(), bu = b.is_number_unsigned();
    if (au && bu) {
      uint64_t x = a.get<uint64_t>(), y = b.get<uint64_t>();
      return x < y ? -1 : x > y;
    }
    if (!au && !bu) {
      int64_t x = a.get<int64_t>(), y = b.get<int64_t>();
      return x < y ? -1 : x > y;
    }
    if (au) {  // a unsigned (> INT64_MAX or stored unsigned), b signed
      int64_t y = b.get<int64_t>();
      if (y < 0) return 1;
      uint64_t x = a.get<uint64_t>();
      return x < static_cast<uint64_t>(y) ? -1 : x > static_cast<uint64_t>(y);
    }
    int64_t x = a.get<int64_t>();
    if (x < 0) return -1;
    uint64_t y = b.get<uint64_t>();
    return static_cast<uint64_t>(x) < y ? -1 : static_cast<uint64_t>(x) > y;
  }
  double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y;
}

bool IsMultipleOf(const json& v, const json& m) {
  if (v.is_number_integer() && m.is_number_integer()) {
    if (m.is_number_unsigned() || v.is_number_unsigned()) {
      uint64_t mm = m.get<uint64_t>();
      uint64_t vv = v.is_number_unsigned() ? v.get<uint64_t>()
                                           : static_cast<uint64_t>(std::llabs(v.get<int64_t>()));
      return mm != 0 && vv % mm == 0;
    }
    int64_t mm = m.get<int64_t>();
    return mm != 0 && v.get<int64_t>() % mm == 0;
  }
  double x = v.get<double>(), d = m.get<double>();
  if (!std::isfinite(x)) return false;
  // Integral divisors, and huge quotients, are decided exactly by the remainder.
  if (std::floor(d) == d) return std::fmod(x, d) == 0.0;
  double q = x / d;
  if (!std::isfinite(q)) return std::fmod(x, d) == 0.0;
  double r = std::round(q);
  // Decimal divisors such as 0.01 are not exact in binary (19.99 / 0.01 = 1998.9999999999998), so accept
  // quotients within a few ulps of an integer.
  return std::fabs(q - r) <= 8 * std::numeric_limits<double>::epsilon() * std::max(1.0, std::fabs(q));
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

class Evaluator {
 public:
  explicit Evaluator(Ctx& c) : c_(c) {}

  bool Eval(const Node* n, const json& inst, Evaluated* ev, bool report);

 private:
  void Error(const Node* n, const char* kw, std::string msg, bool report) {
    if (!report || c_.errors == nullptr) return;
    c_.errors->push_back({InstancePointer(c_), n->location + (*kw ? "/" : "") + kw, std::move(msg)});
  }
  bool EvalRef(const Node* n, const Node* target, const char* kw, const json& inst, Evaluated* ev, bool report);
  bool EvalBody(const Node* n, const json& inst, Evaluated* ev, bool report);
  bool EvalObject(const Node* n, const json& inst, Evaluated* ev, bool report);
  bool EvalArray(const Node* n, const json& inst, Evaluated* ev, bool report);

  Ctx& c_;
};

bool Evaluator::Eval(const Node* n, const json& inst, Evaluated* ev, bool report) {
  if (n->is_bool) {
    if (!n->bool_value) Error(n, "", "the schema 'false' accepts nothing", report);
    return n->bool_value;
  }
  if (c_.depth >= c_.cs->max_eval_depth) {
    Error(n, "", "evaluation deeper than " + std::to_string(c_.cs->max_eval_depth) + " levels", report);
    return false;
  }
  ++c_.depth;
  bool pushed = c_.scope.empty() || c_.scope.back() != n->resource;
  if (pushed) c_.scope.push_back(n->resource);
  bool ok;
  bool local = (n->unevaluated_properties != nullptr && inst.is_object()) ||
               (n->unevaluated_items != nullptr && inst.is_array());
  if (local) {
    Evaluated mine;
    ok = EvalBody(n, inst, &mine, report);
    if (ok && ev != nullptr) ev->Merge(mine);
  } else {
    ok = EvalBody(n, inst, ev, report);
  }
  if (pushed) c_.scope.pop_back();
  --c_.depth;
  return ok;
}

bool Evaluator::EvalRef(const Node* n, const Node* target, const char* kw, const json& inst, Evaluated* ev,
                        bool report) {
  // The same schema reached again through references at the same instance location can never
  // terminate: report it instead of recursing until the depth limit.
  for (size_t i = c_.refs.size(); i-- > 0;) {
    if (c_.refs[i].inst != &inst) break;
    if (c_.refs[i].target == target) {
      Error(n, kw, "infinite reference recursion (the same schema applied again to the same location)", report);
      return false;
    }
  }
  c_.refs.push_back({target, &inst});
  bool ok = Eval(target, inst, ev, report);
  c_.refs.pop_back();
  return ok;
}

#define LFM_JSV_FAIL(kw, msg)      \
  do {                             \
    valid = false;                 \
    if (!report) return false;     \
    Error(n, kw, msg, report);     \
  } while (0)

bool Evaluator::EvalBody(const Node* n, const json& inst, Evaluated* ev, bool report) {
  bool valid = true;
  if (n->ref != nullptr) {
    if (!EvalRef(n, n->ref, "$ref", inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  }
  if (n->dynamic_ref != nullptr) {
    const Node* target = n->dynamic_ref;
    if (!n->dynamic_name.empty()) {
      for (const Resource* r : c_.scope) {  // outermost first
        auto it = r->dynamic_anchors.find(n->dynamic_name);
        if (it != r->dynamic_anchors.end()) {
          target = it->second;
          break;
        }
      }
    }
    if (!EvalRef(n, target, "$dynamicRef", inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  }
  uint8_t t = TypeOf(inst);
  if (n->draft4_integer && inst.is_number_float()) t &= static_cast<uint8_t>(~kInteger);
  if (n->has_type && (n->types & t) == 0) {
    LFM_JSV_FAIL("type", "expected type " + Short(n->src->at("type")) + ", got " + Short(inst));
  }
  if (n->enum_ != nullptr) {
    bool found = false;
    for (const auto& e : *n->enum_) {
      if (e == inst) {
        found = true;
        break;
      }
    }
    if (!found) LFM_JSV_FAIL("enum", Short(inst) + " is not one of " + Short(*n->enum_));
  }
  if (n->const_ != nullptr && !(*n->const_ == inst)) {
    LFM_JSV_FAIL("const", Short(inst) + " is not " + Short(*n->const_));
  }
  if (t & kNumber) {
    if (n->minimum != nullptr) {
      int c = CompareNumbers(inst, *n->minimum);
      if (c < 0 || (n->minimum_exclusive && c == 0)) {
        LFM_JSV_FAIL("minimum", Short(inst) + " is less than " + (n->minimum_exclusive ? "or equal to " : "") +
                                    Short(*n->minimum));
      }
    }
    if (n->maximum != nullptr) {
      int c = CompareNumbers(inst, *n->maximum);
      if (c > 0 || (n->maximum_exclusive && c == 0)) {
        LFM_JSV_FAIL("maximum", Short(inst) + " is greater than " + (n->maximum_exclusive ? "or equal to " : "") +
                                    Short(*n->maximum));
      }
    }
    if (n->exclusive_minimum != nullptr && CompareNumbers(inst, *n->exclusive_minimum) <= 0) {
      LFM_JSV_FAIL("exclusiveMinimum", Short(inst) + " is not greater than " + Short(*n->exclusive_minimum));
    }
    if (n->exclusive_maximum != nullptr && CompareNumbers(inst, *n->exclusive_maximum) >= 0) {
      LFM_JSV_FAIL("exclusiveMaximum", Short(inst) + " is not less than " + Short(*n->exclusive_maximum));
    }
    if (n->multiple_of != nullptr && !IsMultipleOf(inst, *n->multiple_of)) {
      LFM_JSV_FAIL("multipleOf", Short(inst) + " is not a multiple of " + Short(*n->multiple_of));
    }
  } else if (t == kString) {
    const std::string& s = inst.get_ref<const std::string&>();
    if (n->min_length >= 0 || n->max_length >= 0) {
      int64_t len = static_cast<int64_t>(CodePoints(s));
      if (n->min_length >= 0 && len < n->min_length) {
        LFM_JSV_FAIL("minLength", "string of " + std::to_string(len) + " characters is shorter than " +
                                      std::to_string(n->min_length));
      }
      if (n->max_length >= 0 && len > n->max_length) {
        LFM_JSV_FAIL("maxLength", "string of " + std::to_string(len) + " characters is longer than " +
                                      std::to_string(n->max_length));
      }
    }
    if (n->pattern && !n->pattern->Search(s)) {
      LFM_JSV_FAIL("pattern", Short(inst) + " does not match /" + n->pattern->pattern() + "/");
    }
    if (n->has_format && n->assert_format && !CheckStringFormat(n->format, s)) {
      LFM_JSV_FAIL("format", Short(inst) + " is not a valid '" + n->format + "'");
    }
  } else if (t == kObject) {
    if (!EvalObject(n, inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  } else if (t == kArray) {
    if (!EvalArray(n, inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  }

  for (const Node* s : n->all_of) {
    if (!Eval(s, inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  }
  if (!n->any_of.empty()) {
    bool any = false;
    for (const Node* s : n->any_of) {
      if (ev == nullptr) {
        if (Eval(s, inst, nullptr, false)) {
          any = true;
          break;
        }
      } else {
        Evaluated branch;
        if (Eval(s, inst, &branch, false)) {
          any = true;
          ev->Merge(branch);  // every passing branch contributes annotations
        }
      }
    }
    if (!any) LFM_JSV_FAIL("anyOf", Short(inst) + " matches none of the anyOf schemas");
  }
  if (!n->one_of.empty()) {
    int passes = 0;
    Evaluated kept;
    for (const Node* s : n->one_of) {
      Evaluated branch;
      if (Eval(s, inst, ev ? &branch : nullptr, false)) {
        if (++passes > 1) break;
        kept = std::move(branch);
      }
    }
    if (passes != 1) {
      LFM_JSV_FAIL("oneOf", Short(inst) + (passes == 0 ? " matches none of" : " matches more than one of") +
                                " the oneOf schemas");
    } else if (ev) {
      ev->Merge(kept);
    }
  }
  if (n->not_ != nullptr && Eval(n->not_, inst, nullptr, false)) {
    LFM_JSV_FAIL("not", Short(inst) + " must not match the 'not' schema");
  }
  if (n->if_ != nullptr) {
    Evaluated cond;
    if (Eval(n->if_, inst, ev ? &cond : nullptr, false)) {
      if (ev) ev->Merge(cond);
      if (n->then_ != nullptr && !Eval(n->then_, inst, ev, report)) {
        valid = false;
        if (!report) return false;
      }
    } else if (n->else_ != nullptr && !Eval(n->else_, inst, ev, report)) {
      valid = false;
      if (!report) return false;
    }
  }
  if (t == kObject && !n->dependent_schemas.empty()) {
    for (const auto& [name, s] : n->dependent_schemas) {
      if (inst.contains(name) && !Eval(s, inst, ev, report)) {
        valid = false;
        if (!report) return false;
      }
    }
  }

  // unevaluated* run last: they see the annotations of every other keyword of this schema.
  if (n->unevaluated_properties != nullptr && t == kObject) {
    size_t i = 0, size = inst.size();
    for (auto it = inst.begin(); it != inst.end(); ++it, ++i) {
      if (ev->Has(i)) continue;
      c_.path.push_back({&it.key(), 0});
      bool ok = Eval(n->unevaluated_properties, it.value(), nullptr, report);
      c_.path.pop_back();
      if (!ok) LFM_JSV_FAIL("unevaluatedProperties", "property '" + it.key() + "' is not allowed here");
      ev->Mark(i, size);
    }
  }
  if (n->unevaluated_items != nullptr && t == kArray) {
    size_t size = inst.size();
    for (size_t i = 0; i < size; ++i) {
      if (ev->Has(i)) continue;
      c_.path.push_back({nullptr, i});
      bool ok = Eval(n->unevaluated_items, inst[i], nullptr, report);
      c_.path.pop_back();
      if (!ok) LFM_JSV_FAIL("unevaluatedItems", "item " + std::to_string(i) + " is not allowed here");
      ev->Mark(i, size);
    }
  }
  return valid;
}

bool Evaluator::EvalObject(const Node* n, const json& inst, Evaluated* ev, bool report) {
  bool valid = true;
  size_t size = inst.size();
  if (n->min_properties >= 0 && static_cast<int64_t>(size) < n->min_properties) {
    LFM_JSV_FAIL("minProperties", "object has " + std::to_string(size) + " properties, fewer than " +
                                      std::to_string(n->min_properties));
  }
  if (n->max_properties >= 0 && static_cast<int64_t>(size) > n->max_properties) {
    LFM_JSV_FAIL("maxProperties", "object has " + std::to_string(size) + " properties, more than " +
                                      std::to_string(n->max_properties));
  }
  for (const std::string& r : n->required) {
    if (!inst.contains(r)) LFM_JSV_FAIL("required", "missing required property '" + r + "'");
  }
  for (const auto& [name, deps] : n->dependent_required) {
    if (!inst.contains(name)) continue;
    for (const std::string& d : deps) {
      if (!inst.contains(d)) {
        LFM_JSV_FAIL("dependentRequired", "property '" + name + "' requires property '" + d + "'");
      }
    }
  }
  bool walk = !n->properties.empty() || !n->pattern_properties.empty() || n->additional_properties != nullptr ||
              n->property_names != nullptr;
  if (!walk) return valid;
  size_t i = 0;
  for (auto it = inst.begin(); it != inst.end(); ++it, ++i) {
    const std::string& key = it.key();
    c_.path.push_back({&key, 0});
    bool matched = false;
    if (n->property_names != nullptr) {
      json name(key);
      if (!Eval(n->property_names, name, nullptr, report)) {
        c_.path.pop_back();
        LFM_JSV_FAIL("propertyNames", "property name '" + key + "' is not allowed");
        c_.path.push_back({&key, 0});
      }
    }
    if (!n->properties.empty()) {
      auto p = n->properties.find(key);
      if (p != n->properties.end()) {
        matched = true;
        if (!Eval(p->second, it.value(), nullptr, report)) {
          valid = false;
          if (!report) {
            c_.path.pop_back();
            return false;
          }
        }
      }
    }
    for (const auto& [re, s] : n->pattern_properties) {
      if (!re.Search(key)) continue;
      matched = true;
      if (!Eval(s, it.value(), nullptr, report)) {
        valid = false;
        if (!report) {
          c_.path.pop_back();
          return false;
        }
      }
    }
    if (!matched && n->additional_properties != nullptr) {
      matched = true;
      if (!Eval(n->additional_properties, it.value(), nullptr, report)) {
        c_.path.pop_back();
        LFM_JSV_FAIL("additionalProperties", "additional property '" + key + "' is not allowed");
        c_.path.push_back({&key, 0});
      }
    }
    c_.path.pop_back();
    if (matched && ev != nullptr) ev->Mark(i, size);
  }
  return valid;
}

bool Evaluator::EvalArray(const Node* n, const json& inst, Evaluated* ev, bool report) {
  bool valid = true;
  size_t size = inst.size();
  if (n->min_items >= 0 && static_cast<int64_t>(size) < n->min_items) {
    LFM_JSV_FAIL("minItems", "array has " + std::to_string(size) + " items, fewer than " +
                                 std::to_string(n->min_items));
  }
  if (n->max_items >= 0 && static_cast<int64_t>(size) > n->max_items) {
    LFM_JSV_FAIL("maxItems", "array has " + std::to_string(size) + " items, more than " +
                                 std::to_string(n->max_items));
  }
  if (n->unique_items && size > 1) {
    bool dup = false;
    size_t di = 0, dj = 0;
    for (size_t i = 0; i < size && !dup; ++i) {
      for (size_t j = i + 1; j < size; ++j) {
        if (inst[i] == inst[j]) {
          dup = true;
          di = i;
          dj = j;
          break;
        }
      }
    }
    if (dup) {
      LFM_JSV_FAIL("uniqueItems", "items " + std::to_string(di) + " and " + std::to_string(dj) + " are equal");
    }
  }
  size_t prefix = std::min(size, n->prefix_items.size());
  for (size_t i = 0; i < prefix; ++i) {
    c_.path.push_back({nullptr, i});
    bool ok = Eval(n->prefix_items[i], inst[i], nullptr, report);
    c_.path.pop_back();
    if (!ok) {
      valid = false;
      if (!report) return false;
    }
    if (ev) ev->Mark(i, size);
  }
  if (n->items != nullptr) {
    for (size_t i = prefix; i < size; ++i) {
      c_.path.push_back({nullptr, i});
      bool ok = Eval(n->items, inst[i], nullptr, report);
      c_.path.pop_back();
      if (!ok) {
        valid = false;
        if (!report) return false;
      }
      if (ev) ev->Mark(i, size);
    }
  }
  if (n->contains != nullptr) {
    uint64_t matches = 0;
    for (size_t i = 0; i < size; ++i) {
      if (Eval(n->contains, inst[i], nullptr, false)) {
        ++matches;
        if (ev) ev->Mark(i, size);
      }
    }
    uint64_t min = n->has_min_contains ? n->min_contains : 1;
    if (matches < min) {
      LFM_JSV_FAIL("contains", "array has " + std::to_string(matches) + " items matching 'contains', fewer than " +
                                   std::to_string(min));
    }
    if (n->has_max_contains && matches > n->max_contains) {
      LFM_JSV_FAIL("maxContains", "array has " + std::to_string(matches) +
                                      " items matching 'contains', more than " + std::to_string(n->max_contains));
    }
  }
  return valid;
}

#undef LFM_JSV_FAIL

// Depth of nesting, computed without recursion so absurd inputs cannot overflow the stack.
size_t InstanceDepth(const json& root, size_t limit) {
  std::vector<std::pair<const json*, size_t>> stack{{&root, 1}};
  size_t max_depth = 0;
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    max_depth = std::max(max_depth, d);
    if (max_depth > limit) return max_depth;
    if (v->is_structured()) {
      for (const auto& c : *v) stack.push_back({&c, d + 1});
    }
  }
  return max_depth;
}

}  // namespace
}  // namespace jsv

Result<JsonSchemaValidator> JsonSchemaValidator::Compile(const nlohmann::json& schema, const Options& options) {
  auto cs = jsv::CompileSchema(schema, options);
  if (!cs.ok()) return cs.status();
  JsonSchemaValidator v;
  v.compiled_ = std::move(*cs);
  return v;
}

bool JsonSchemaValidator::Validate(const nlohmann::json& instance, std::vector<ValidationError>* errors) const {
  if (errors) errors->clear();
  if (!compiled_) {
    if (errors) errors->push_back({"", "", "validator was not compiled"});
    return false;
  }
  // Equality (enum/const/uniqueItems) recurses over the instance; bound its nesting.
  constexpr size_t kMaxInstanceDepth = 10000;
  if (jsv::InstanceDepth(instance, kMaxInstanceDepth) > kMaxInstanceDepth) {
    if (errors) errors->push_back({"", "", "instance nested deeper than 10000 levels"});
    return false;
  }
  jsv::Ctx ctx;
  ctx.cs = compiled_.get();
  ctx.errors = errors;
  jsv::Evaluator ev(ctx);
  bool ok;
  try {
    ok = ev.Eval(compiled_->root, instance, nullptr, errors != nullptr);
  } catch (const std::exception& e) {
    if (errors) errors->push_back({"", "", std::string("internal error during validation: ") + e.what()});
    return false;
  }
  if (!ok && errors && errors->empty()) errors->push_back({"", "#", "instance is not valid"});
  return ok;
}

}  // namespace lfm
