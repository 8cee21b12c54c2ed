// Compiles a JSON Schema document (plus any referenced remote documents) into jsv::Node graphs.
#include <cmath>
#include <fstream>
#include <sstream>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "grammar/json_pointer.h"
#include "grammar/json_schema_validator.h"
#include "grammar/json_schema_validator_internal.h"
#include "grammar/json_schema_validator_uri.h"

namespace lfm {
namespace jsv {
namespace {

constexpr const char* kLocalRemotes = "http://localhost:1234/";

struct Vocab {
  bool validation = true;
  bool applicator = true;
  bool format_assertion = false;
  // Within the draft-07 rule set: 4 for draft-03/04 ("id", no const/contains/propertyNames/if),
  // 6 for draft-06 (no if/then/else), 7 otherwise.
  int legacy = 7;
};

// Draft-07 and older share one rule set here; 2019-09 is 2020-12 without prefixItems/$dynamicRef.
bool DialectFromUri(const std::string& uri, Dialect* d) {
  std::string u, frag;
  SplitFragment(uri, &u, &frag);
  if (u.rfind("http://", 0) == 0) u = "https://" + u.substr(7);
  if (u == "https://json-schema.org/draft-07/schema" || u == "https://json-schema.org/draft-06/schema" ||
      u == "https://json-schema.org/draft-04/schema" || u == "https://json-schema.org/draft-03/schema") {
    *d = Dialect::kDraft7;
    return true;
  }
  if (u == "https://json-schema.org/draft/2019-09/schema") {
    *d = Dialect::kDraft2019;
    return true;
  }
  if (u == "https://json-schema.org/draft/2020-12/schema") {
    *d = Dialect::kDraft2020;
    return true;
  }
  return false;
}

Result<int64_t> NonNegativeInt(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    return static_cast<int64_t>(std::min<uint64_t>(u, INT64_MAX));
  }
  if (v.is_number_integer()) {
    if (v.get<int64_t>() < 0) return InvalidArgument(where + " must be a non-negative integer");
    return v.get<int64_t>();
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!(d >= 0) || std::floor(d) != d) return InvalidArgument(where + " must be a non-negative integer");
    return d > 9.2e18 ? INT64_MAX : static_cast<int64_t>(d);
  }
  return InvalidArgument(where + " must be a non-negative integer");
}

Result<std::string> ReadText(const std::string& path) {
  if (!FileExists(path)) return NotFound("cannot open " + path);
  return ReadFileToString(path, file_limits::kRequest);
}

class Compiler {
 public:
  Compiler(CompiledSchema& cs, const JsonSchemaValidator::Options& opts) : cs_(cs), opts_(opts) {}

  // Compiles a whole document whose retrieval URI is `uri` ("" for the caller's root schema).
  Result<Node*> AddDocument(std::unique_ptr<json> doc, const std::string& uri, Dialect dialect) {
    const json* d = doc.get();
    cs_.documents.push_back(std::move(doc));
    Resource* res = NewResource(uri);
    Vocab vocab;
    LFM_ASSIGN_OR_RETURN(Node * n, CompileNode(*d, uri, res, dialect, vocab, uri, "", 0));
    if (res->root == nullptr) res->root = n;
    return n;
  }

  Status ResolvePending() {
    while (!pending_.empty()) {
      Node* n = pending_.back();
      pending_.pop_back();
      if (!n->ref_uri.empty()) {
        LFM_ASSIGN_OR_RETURN(n->ref, Resolve(n->ref_uri, n->location + "/$ref", n->dialect));
      }
      if (!n->dynamic_ref_uri.empty()) {
        LFM_ASSIGN_OR_RETURN(Node * t, Resolve(n->dynamic_ref_uri, n->location + "/$dynamicRef", n->dialect));
        n->dynamic_ref = t;
        // Only a $dynamicRef whose static target carries the same $dynamicAnchor is dynamic.
        std::string without, frag;
        SplitFragment(n->dynamic_ref_uri, &without, &frag);
        n->dynamic_name.clear();
        if (!frag.empty() && frag[0] != '/' && t->src && t->src->is_object()) {
          auto it = t->src->find("$dynamicAnchor");
          if (it != t->src->end() && it->is_string() && it->get<std::string>() == frag) n->dynamic_name = frag;
        }
      }
    }
    return Status::Ok();
  }

 private:
  Resource* NewResource(const std::string& uri) {
    cs_.resources.push_back(std::make_unique<Resource>());
    Resource* r = cs_.resources.back().get();
    r->uri = uri;
    cs_.resources_by_uri.emplace(uri, r);
    return r;
  }

  Result<json> LoadRemote(const std::string& uri) {
    std::string prefix = kLocalRemotes;
    if (uri.rfind(prefix, 0) == 0 && !opts_.remotes_dir.empty()) {
      std::string rel = uri.substr(prefix.size());
      if (rel.find("..") != std::string::npos) return NotFound("refusing remote path " + uri);
      LFM_ASSIGN_OR_RETURN(std::string text, ReadText(opts_.remotes_dir + "/" + rel));
      return ParseJson(text, "remote document " + uri);
    }
    if (opts_.load_document) {
      try {
        return opts_.load_document(uri);
      } catch (const std::exception& e) {
        return Internal(std::string("load_document threw: ") + e.what());
      }
    }
    return NotFound("no loader for remote document " + uri + " (the validator never uses the network)");
  }

  // Reads "$schema" of a resource root: a known dialect, or a custom metaschema whose $vocabulary we honour.
  void ApplySchemaKeyword(const std::string& uri, Dialect* d, Vocab* v) {
    if (DialectFromUri(uri, d)) {
      *v = Vocab();
      if (uri.find("draft-04/") != std::string::npos || uri.find("draft-03/") != std::string::npos) v->legacy = 4;
      if (uri.find("draft-06/") != std::string::npos) v->legacy = 6;
      return;
    }
    std::string without, frag;
    SplitFragment(uri, &without, &frag);
    auto cached = meta_cache_.find(without);
    if (cached == meta_cache_.end()) {
      std::pair<Dialect, Vocab> info{*d, Vocab()};
      auto loaded = LoadRemote(without);
      if (loaded.ok() && loaded->is_object()) {
        const json& m = *loaded;
        auto s = m.find("$schema");
        if (s != m.end() && s->is_string()) DialectFromUri(s->get<std::string>(), &info.first);
        auto voc = m.find("$vocabulary");
        if (voc != m.end() && voc->is_object()) {
          Vocab nv;
          nv.validation = voc->contains("https://json-schema.org/draft/2020-12/vocab/validation") ||
                          voc->contains("https://json-schema.org/draft/2019-09/vocab/validation");
          nv.applicator = voc->contains("https://json-schema.org/draft/2020-12/vocab/applicator") ||
                          voc->contains("https://json-schema.org/draft/2019-09/vocab/applicator");
          nv.format_assertion = voc->contains("https://json-schema.org/draft/2020-12/vocab/format-assertion");
          info.second = nv;
        }
      }
      cached = meta_cache_.emplace(without, info).first;
    }
    *d = cached->second.first;
    *v = cached->second.second;
  }

  Result<Node*> Resolve(const std::string& abs, const std::string& where, Dialect referrer) {
    std::string doc_uri, frag;
    SplitFragment(abs, &doc_uri, &frag);
    auto rit = cs_.resources_by_uri.find(doc_uri);
    if (rit == cs_.resources_by_uri.end()) {
      // Some dialect metaschemas are referenced as "…/schema#"; load by URI without fragment.
      auto loaded = LoadRemote(doc_uri);
      if (!loaded.ok()) {
        return Status(loaded.status().code(), where + ": cannot resolve '" + abs + "': " + loaded.status().message());
      }
      Dialect d = referrer;  // a remote without $schema is read with the referring schema's dialect
      if (loaded->is_object()) {
        auto s = loaded->find("$schema");
        if (s != loaded->end() && s->is_string()) DialectFromUri(s->get<std::string>(), &d);
      }
      LFM_ASSIGN_OR_RETURN(Node * root, AddDocument(std::make_unique<json>(std::move(*loaded)), doc_uri, d));
      (void)root;
      rit = cs_.resources_by_uri.find(doc_uri);
      if (rit == cs_.resources_by_uri.end()) return Internal("remote document not registered: " + doc_uri);
    }
    Resource* res = rit->second;
    if (frag.empty()) return res->root;
    if (frag[0] == '/') {
      LFM_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(frag));
      auto tokens = ParseJsonPointer(decoded);
      if (!tokens.ok()) return InvalidArgument(where + ": " + tokens.status().message());
      const json* target = ResolveJsonPointer(*res->root->src, *tokens);
      if (target == nullptr) return NotFound(where + ": '" + abs + "' points to nothing");
      auto nit = cs_.node_by_src.find(target);
      if (nit != cs_.node_by_src.end()) return nit->second;
      // A pointer to a location not compiled yet (e.g. inside an unknown keyword): compile it now with
      // the resource's base URI and dialect.
      Vocab vocab;
      return CompileNode(*target, res->uri, res, res->root->dialect, vocab, res->root->location.substr(
                                                                                  0, res->root->location.find('#')),
                         res->root->location.substr(res->root->location.find('#') + 1) + decoded, 0);
    }
    auto ait = cs_.anchors.find(doc_uri + "#" + frag);
    if (ait == cs_.anchors.end()) return NotFound(where + ": no anchor '" + frag + "' in '" + doc_uri + "'");
    return ait->second;
  }

  Result<Node*> Sub(const json& s, const std::string& base, Resource* res, Dialect d, const Vocab& v,
                    const std::string& doc, const std::string& ptr, int depth) {
    return CompileNode(s, base, res, d, v, doc, ptr, depth + 1);
  }

  Result<Node*> CompileNode(const json& s, std::string base, Resource* res, Dialect dialect, Vocab vocab,
                            const std::string& doc, const std::string& ptr, int depth);

  CompiledSchema& cs_;
  const JsonSchemaValidator::Options& opts_;
  std::vector<Node*> pending_;
  std::unordered_map<std::string, std::pair<Dialect, Vocab>> meta_cache_;
};

Result<Node*> Compiler::CompileNode(const json& s, std::string base, Resource* res, Dialect dialect, Vocab vocab,
                                    const std::string& doc, const std::string& ptr, int depth) {
  std::string loc = doc + "#" + ptr;
  if (depth > opts_.max_schema_depth) {
    return ResourceExhausted("schema nesting deeper than " + std::to_string(opts_.max_schema_depth) + " at " + loc);
  }
  if (auto it = cs_.node_by_src.find(&s); it != cs_.node_by_src.end()) return it->second;
  cs_.nodes.push_back(std::make_unique<Node>());
  Node* n = cs_.nodes.back().get();
  n->src = &s;
  n->location = loc;
  cs_.node_by_src[&s] = n;
  if (s.is_boolean()) {
    n->is_bool = true;
    n->bool_value = s.get<bool>();
    n->resource = res;
    n->base = base;
    n->dialect = dialect;
    return n;
  }
  if (!s.is_object()) return InvalidArgument("schema at " + loc + " must be an object or a boolean");

  auto has = [&](const char* k) { return s.find(k) != s.end(); };
  auto get = [&](const char* k) -> const json* {
    auto it = s.find(k);
    return it == s.end() ? nullptr : &*it;
  };
  auto where = [&](const std::string& k) { return loc + "/" + JsonPointerEscape(k); };

  // $schema and $id first: they change the dialect and base URI for everything below.
  const json* id = get("$id");
  bool draft7_ref = dialect == Dialect::kDraft7 && has("$ref");
  if (const json* sch = get("$schema"); sch != nullptr) {
    if (!sch->is_string()) return InvalidArgument(where("$schema") + " must be a string");
    if (depth == 0 || id != nullptr) ApplySchemaKeyword(sch->get<std::string>(), &dialect, &vocab);
    draft7_ref = dialect == Dialect::kDraft7 && has("$ref");
  }
  if (dialect == Dialect::kDraft7 && vocab.legacy <= 4) {
    id = get("id");  // draft-04 spells it "id"; a non-string "id" there is a property-like oddity, ignored
    if (id != nullptr && !id->is_string()) id = nullptr;
  }
  const bool legacy4 = dialect == Dialect::kDraft7 && vocab.legacy <= 4;
  const bool legacy6 = dialect == Dialect::kDraft7 && vocab.legacy <= 6;
  if (id != nullptr && !draft7_ref) {
    if (!id->is_string()) return InvalidArgument(where("$id") + " must be a string");
    std::string idv = id->get<std::string>();
    if (dialect == Dialect::kDraft7 && !idv.empty() && idv[0] == '#') {
      cs_.anchors.emplace(base + idv, n);  // draft-07 plain-name fragment identifier
    } else {
      std::string resolved = ResolveUri(base, idv), without, frag;
      SplitFragment(resolved, &without, &frag);
      if (!frag.empty() && dialect != Dialect::kDraft7) {
        return InvalidArgument(where("$id") + " must not have a non-empty fragment: '" + idv + "'");
      }
      if (!frag.empty()) cs_.anchors.emplace(without + "#" + frag, n);
      if (without != base || depth == 0) {
        base = without;
        auto existing = cs_.resources_by_uri.find(base);
        if (existing == cs_.resources_by_uri.end() || existing->second->root != nullptr) {
          if (existing == cs_.resources_by_uri.end()) {
            res = NewResource(base);
          } else if (existing->second != res) {
            res = NewResource(base);  // duplicate $id: the first registration wins for lookups
          }
        } else {
          res = existing->second;
        }
        if (res->root == nullptr) res->root = n;
      }
    }
  }
  n->resource = res;
  n->base = base;
  n->dialect = dialect;
  n->assert_format = opts_.assert_formats || vocab.format_assertion;
  n->draft4_integer = legacy4;

  if (dialect != Dialect::kDraft7) {
    if (const json* a = get("$anchor"); a != nullptr) {
      if (!a->is_string()) return InvalidArgument(where("$anchor") + " must be a string");
      cs_.anchors.emplace(base + "#" + a->get<std::string>(), n);
    }
    if (const json* a = get("$dynamicAnchor"); a != nullptr && dialect == Dialect::kDraft2020) {
      if (!a->is_string()) return InvalidArgument(where("$dynamicAnchor") + " must be a string");
      cs_.anchors.emplace(base + "#" + a->get<std::string>(), n);
      res->dynamic_anchors.emplace(a->get<std::string>(), n);
    }
  }

  auto sub = [&](const json& v, const std::string& k) {
    return Sub(v, base, res, dialect, vocab, doc, ptr + "/" + JsonPointerEscape(k), depth);
  };
  auto sub2 = [&](const json& v, const std::string& k, const std::string& k2) {
    return Sub(v, base, res, dialect, vocab, doc, ptr + "/" + JsonPointerEscape(k) + "/" + JsonPointerEscape(k2),
               depth);
  };
  auto sub_array = [&](const char* k, std::vector<Node*>* out) -> Status {
    const json* a = get(k);
    if (a == nullptr) return Status::Ok();
    if (!a->is_array() || a->empty()) return InvalidArgument(where(k) + " must be a non-empty array of schemas");
    for (size_t i = 0; i < a->size(); ++i) {
      LFM_ASSIGN_OR_RETURN(Node * c, sub2((*a)[i], k, std::to_string(i)));
      out->push_back(c);
    }
    return Status::Ok();
  };
  auto sub_map = [&](const char* k) -> Status {  // $defs / definitions: compiled for their ids and anchors
    const json* m = get(k);
    if (m == nullptr) return Status::Ok();
    if (!m->is_object()) return InvalidArgument(where(k) + " must be an object");
    for (auto it = m->begin(); it != m->end(); ++it) {
      LFM_ASSIGN_OR_RETURN(Node * c, sub2(it.value(), k, it.key()));
      (void)c;
    }
    return Status::Ok();
  };

  LFM_RETURN_IF_ERROR(sub_map("$defs"));
  LFM_RETURN_IF_ERROR(sub_map("definitions"));

  if (const json* r = get("$ref"); r != nullptr) {
    if (!r->is_string()) return InvalidArgument(where("$ref") + " must be a string");
    n->ref_uri = ResolveUri(base, r->get<std::string>());
    if (n->ref_uri.empty() || n->ref_uri == "#") n->ref_uri = base + "#";
    pending_.push_back(n);
  }
  if (draft7_ref) return n;  // draft-07: $ref overrides every sibling keyword

  if (dialect == Dialect::kDraft2020) {
    if (const json* r = get("$dynamicRef"); r != nullptr) {
      if (!r->is_string()) return InvalidArgument(where("$dynamicRef") + " must be a string");
      n->dynamic_ref_uri = ResolveUri(base, r->get<std::string>());
      pending_.push_back(n);
    }
  } else if (dialect == Dialect::kDraft2019) {
    if (const json* r = get("$recursiveRef"); r != nullptr) {  // approximated as a static reference
      if (!r->is_string()) return InvalidArgument(where("$recursiveRef") + " must be a string");
      n->ref_uri = ResolveUri(base, r->get<std::string>());
      pending_.push_back(n);
    }
  }

  if (vocab.applicator) {
    LFM_RETURN_IF_ERROR(sub_array("allOf", &n->all_of));
    LFM_RETURN_IF_ERROR(sub_array("anyOf", &n->any_of));
    LFM_RETURN_IF_ERROR(sub_array("oneOf", &n->one_of));
    if (const json* v = get("not")) {
      LFM_ASSIGN_OR_RETURN(n->not_, sub(*v, "not"));
    }
    // then/else are compiled even without "if" so that $id/$anchor inside them are registered.
    if (const json* v = get("if"); v != nullptr && !legacy6) {
      LFM_ASSIGN_OR_RETURN(n->if_, sub(*v, "if"));
    }
    if (const json* t = get("then")) {
      LFM_ASSIGN_OR_RETURN(n->then_, sub(*t, "then"));
    }
    if (const json* e = get("else")) {
      LFM_ASSIGN_OR_RETURN(n->else_, sub(*e, "else"));
    }
    if (const json* v = get("properties")) {
      if (!v->is_object()) return InvalidArgument(where("properties") + " must be an object");
      for (auto it = v->begin(); it != v->end(); ++it) {
        LFM_ASSIGN_OR_RETURN(Node * c, sub2(it.value(), "properties", it.key()));
        n->properties.emplace(it.key(), c);
      }
    }
    if (const json* v = get("patternProperties")) {
      if (!v->is_object()) return InvalidArgument(where("patternProperties") + " must be an object");
      for (auto it = v->begin(); it != v->end(); ++it) {
        auto re = EcmaRegex::Compile(it.key());
        if (!re.ok()) return InvalidArgument(where("patternProperties") + ": " + re.status().message());
        LFM_ASSIGN_OR_RETURN(Node * c, sub2(it.value(), "patternProperties", it.key()));
        n->pattern_properties.emplace_back(std::move(*re), c);
      }
    }
    if (const json* v = get("additionalProperties")) {
      LFM_ASSIGN_OR_RETURN(n->additional_properties, sub(*v, "additionalProperties"));
    }
    if (const json* v = get("propertyNames"); v != nullptr && !legacy4) {
      LFM_ASSIGN_OR_RETURN(n->property_names, sub(*v, "propertyNames"));
    }
    if (const json* v = get("unevaluatedProperties"); v != nullptr && dialect != Dialect::kDraft7) {
      LFM_ASSIGN_OR_RETURN(n->unevaluated_properties, sub(*v, "unevaluatedProperties"));
      cs_.uses_unevaluated = true;
    }
    if (const json* v = get("unevaluatedItems"); v != nullptr && dialect != Dialect::kDraft7) {
      LFM_ASSIGN_OR_RETURN(n->unevaluated_items, sub(*v, "unevaluatedItems"));
      cs_.uses_unevaluated = true;
    }
    // Array items: draft-07/2019-09 "items" may be an array (tuple form) completed by additionalItems;
    // 2020-12 uses prefixItems + items. An array-valued "items" is accepted in 2020-12 too, as the
    // older tuple form, because real-world schemas without $schema use it.
    const json* items = get("items");
    if (dialect == Dialect::kDraft2020) {
      if (const json* p = get("prefixItems")) {
        if (!p->is_array()) return InvalidArgument(where("prefixItems") + " must be an array");
        for (size_t i = 0; i < p->size(); ++i) {
          LFM_ASSIGN_OR_RETURN(Node * c, sub2((*p)[i], "prefixItems", std::to_string(i)));
          n->prefix_items.push_back(c);
        }
      }
    }
    if (items != nullptr) {
      if (items->is_array()) {
        if (n->prefix_items.empty()) {
          for (size_t i = 0; i < items->size(); ++i) {
            LFM_ASSIGN_OR_RETURN(Node * c, sub2((*items)[i], "items", std::to_string(i)));
            n->prefix_items.push_back(c);
          }
        }
        if (const json* a = get("additionalItems")) {
          LFM_ASSIGN_OR_RETURN(n->items, sub(*a, "additionalItems"));
        }
      } else {
        LFM_ASSIGN_OR_RETURN(n->items, sub(*items, "items"));
      }
    }
    if (const json* v = get("contains"); v != nullptr && !legacy4) {
      LFM_ASSIGN_OR_RETURN(n->contains, sub(*v, "contains"));
      if (dialect != Dialect::kDraft7 && vocab.validation) {
        if (const json* m = get("minContains")) {
          LFM_ASSIGN_OR_RETURN(int64_t mc, NonNegativeInt(*m, where("minContains")));
          n->has_min_contains = true;
          n->min_contains = static_cast<uint64_t>(mc);
        }
        if (const json* m = get("maxContains")) {
          LFM_ASSIGN_OR_RETURN(int64_t mc, NonNegativeInt(*m, where("maxContains")));
          n->has_max_contains = true;
          n->max_contains = static_cast<uint64_t>(mc);
        }
      }
    }
    if (dialect != Dialect::kDraft7) {
      if (const json* v = get("dependentSchemas")) {
        if (!v->is_object()) return InvalidArgument(where("dependentSchemas") + " must be an object");
        for (auto it = v->begin(); it != v->end(); ++it) {
          LFM_ASSIGN_OR_RETURN(Node * c, sub2(it.value(), "dependentSchemas", it.key()));
          n->dependent_schemas.emplace_back(it.key(), c);
        }
      }
    }
    // "dependencies" (draft-07) is also honoured in later dialects for compatibility.
    if (const json* v = get("dependencies")) {
      if (!v->is_object()) return InvalidArgument(where("dependencies") + " must be an object");
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (it->is_array()) {
          std::vector<std::string> names;
          for (const auto& e : *it) {
            if (!e.is_string()) return InvalidArgument(where("dependencies") + " arrays must hold strings");
            names.push_back(e.get<std::string>());
          }
          n->dependent_required.emplace_back(it.key(), std::move(names));
        } else {
          LFM_ASSIGN_OR_RETURN(Node * c, sub2(it.value(), "dependencies", it.key()));
          n->dependent_schemas.emplace_back(it.key(), c);
        }
      }
    }
  }

  if (vocab.validation) {
    if (const json* t = get("type")) {
      n->has_type = true;
      auto bit = [&](const json& e) -> Result<uint8_t> {
        if (!e.is_string()) return InvalidArgument(where("type") + " must be a string or an array of strings");
        const std::string& name = e.get_ref<const std::string&>();
        if (name == "null") return kNull;
        if (name == "boolean") return kBoolean;
        if (name == "object") return kObject;
        if (name == "array") return kArray;
        if (name == "number") return kNumber;
        if (name == "string") return kString;
        if (name == "integer") return kInteger;
        return InvalidArgument(where("type") + ": unknown type '" + name + "'");
      };
      if (t->is_array()) {
        for (const auto& e : *t) {
          LFM_ASSIGN_OR_RETURN(uint8_t b, bit(e));
          n->types |= b;
        }
      } else {
        LFM_ASSIGN_OR_RETURN(uint8_t b, bit(*t));
        n->types = b;
      }
    }
    if (const json* v = get("enum")) {
      if (!v->is_array()) return InvalidArgument(where("enum") + " must be an array");
      n->enum_ = v;
    }
    if (const json* v = get("const"); v != nullptr && !legacy4) n->const_ = v;
    auto number = [&](const char* k, const json** out) -> Status {
      const json* v = get(k);
      if (v == nullptr) return Status::Ok();
      if (!v->is_number()) return InvalidArgument(where(k) + " must be a number");
      *out = v;
      return Status::Ok();
    };
    LFM_RETURN_IF_ERROR(number("minimum", &n->minimum));
    LFM_RETURN_IF_ERROR(number("maximum", &n->maximum));
    for (const char* k : {"exclusiveMinimum", "exclusiveMaximum"}) {
      const json* v = get(k);
      if (v == nullptr) continue;
      bool is_min = k[9] == 'M' && k[10] == 'i';
      if (v->is_boolean()) {  // draft-04 form: modifies minimum/maximum
        (is_min ? n->minimum_exclusive : n->maximum_exclusive) = v->get<bool>();
      } else {
        LFM_RETURN_IF_ERROR(number(k, is_min ? &n->exclusive_minimum : &n->exclusive_maximum));
      }
    }
    LFM_RETURN_IF_ERROR(number("multipleOf", &n->multiple_of));
    if (n->multiple_of != nullptr && !(n->multiple_of->get<double>() > 0)) {
      return InvalidArgument(where("multipleOf") + " must be greater than 0");
    }
    struct IntKw { const char* k; int64_t* out; };
    for (IntKw kw : {IntKw{"minLength", &n->min_length}, IntKw{"maxLength", &n->max_length},
                     IntKw{"minItems", &n->min_items}, IntKw{"maxItems", &n->max_items},
                     IntKw{"minProperties", &n->min_properties}, IntKw{"maxProperties", &n->max_properties}}) {
      if (const json* v = get(kw.k)) {
        LFM_ASSIGN_OR_RETURN(*kw.out, NonNegativeInt(*v, where(kw.k)));
      }
    }
    if (const json* v = get("uniqueItems")) {
      if (!v->is_boolean()) return InvalidArgument(where("uniqueItems") + " must be a boolean");
      n->unique_items = v->get<bool>();
    }
    if (const json* v = get("required")) {
      if (!v->is_array()) {
        // draft-03 style "required": true on a property is not a JSON Schema 4+ keyword; ignore booleans.
        if (!v->is_boolean()) return InvalidArgument(where("required") + " must be an array of strings");
      } else {
        for (const auto& e : *v) {
          if (!e.is_string()) return InvalidArgument(where("required") + " must be an array of strings");
          n->required.push_back(e.get<std::string>());
        }
      }
    }
    if (dialect != Dialect::kDraft7) {
      if (const json* v = get("dependentRequired")) {
        if (!v->is_object()) return InvalidArgument(where("dependentRequired") + " must be an object");
        for (auto it = v->begin(); it != v->end(); ++it) {
          if (!it->is_array()) return InvalidArgument(where("dependentRequired") + " values must be arrays");
          std::vector<std::string> names;
          for (const auto& e : *it) {
            if (!e.is_string()) return InvalidArgument(where("dependentRequired") + " arrays must hold strings");
            names.push_back(e.get<std::string>());
          }
          n->dependent_required.emplace_back(it.key(), std::move(names));
        }
      }
    }
    if (const json* v = get("pattern")) {
      if (!v->is_string()) return InvalidArgument(where("pattern") + " must be a string");
      auto re = EcmaRegex::Compile(v->get<std::string>());
      if (!re.ok()) return InvalidArgument(where("pattern") + ": " + re.status().message());
      n->pattern = std::move(*re);
    }
  }
  if (const json* v = get("format"); v != nullptr && v->is_string()) {
    n->has_format = true;
    n->format = v->get<std::string>();
  }
  return n;
}

}  // namespace

Result<std::shared_ptr<const CompiledSchema>> CompileSchema(const json& schema,
                                                           const JsonSchemaValidator::Options& opts) {
  auto cs = std::make_shared<CompiledSchema>();
  cs->max_eval_depth = opts.max_eval_depth;
  Compiler c(*cs, opts);
  Dialect d = opts.default_draft == JsonSchemaValidator::Options::Draft::kDraft7 ? Dialect::kDraft7
                                                                               : Dialect::kDraft2020;
  try {
    LFM_ASSIGN_OR_RETURN(cs->root, c.AddDocument(std::make_unique<json>(schema), "", d));
    LFM_RETURN_IF_ERROR(c.ResolvePending());
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("JSON Schema compilation failed: ") + e.what());
  }
  return std::shared_ptr<const CompiledSchema>(std::move(cs));
}

}  // namespace jsv
}  // namespace lfm
