#include "grammar/json_schema_compiler.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "base/json_input.h"
#include "grammar/regex_compiler.h"
#include "grammar/schema_formats.h"
#include "grammar/schema_numeric.h"

namespace lfm::grammar {

namespace {

using Json = nlohmann::ordered_json;

// One schema object taking part in an intersection. skip: keywords already expanded by the caller.
struct SRef {
  const Json* node;
  std::string ptr;
  uint8_t skip = 0;  // bit 0: anyOf, bit 1: oneOf
};

constexpr uint8_t kSkipAnyOf = 1, kSkipOneOf = 2;

enum TypeBits : uint8_t { kNull = 1, kBool = 2, kObj = 4, kArr = 8, kStr = 16, kNum = 32, kInt = 64 };
constexpr uint8_t kAllTypes = 127;

std::string EscapePtr(const std::string& key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

int CompareDecimal(const Decimal& a, const Decimal& b) {
  if (a.negative != b.negative) return a.negative ? -1 : 1;
  int sign = a.negative ? -1 : 1;
  if (a.int_digits.size() != b.int_digits.size())
    return a.int_digits.size() < b.int_digits.size() ? -sign : sign;
  int c = a.int_digits.compare(b.int_digits);
  if (c != 0) return c < 0 ? -sign : sign;
  c = a.frac_digits.compare(b.frac_digits);
  if (c != 0) return c < 0 ? -sign : sign;
  return 0;
}

class Compiler {
 public:
  Compiler(const Json& root, const JsonSchemaOptions& opt, const GrammarLimits& limits, Cfg* cfg, RegexBuilder* rx)
      : root_(root), opt_(opt), limits_(limits), cfg_(cfg), rx_(rx), rc_(rx) {}

  Result<uint32_t> Run() {
    LFM_RETURN_IF_ERROR(Index(root_, "", 0));
    LFM_RETURN_IF_ERROR(SetupLexemes());
    return CompileParts({SRef{&root_, ""}}, 0);
  }

 private:
  // ---- references --------------------------------------------------------------------------
  Status Index(const Json& node, const std::string& ptr, int depth) {
    if (depth > 1000) return ResourceExhausted("schema nesting deeper than 1000 at " + ptr);
    if (node.is_object()) {
      auto id = node.find("$id");
      if (id != node.end() && id->is_string()) {
        std::string s = id->get<std::string>();
        while (!s.empty() && s.back() == '#') s.pop_back();
        ids_.emplace(s, ptr);
        if (ptr.empty()) root_id_ = s;
      }
      auto anchor = node.find("$anchor");
      if (anchor != node.end() && anchor->is_string()) anchors_.emplace(anchor->get<std::string>(), ptr);
      // Drafts 4-7 name a location with a fragment-only id: "id" (draft-04) or "$id": "#name".
      for (const char* kw : {"$id", "id"}) {
        auto frag = node.find(kw);
        if (frag != node.end() && frag->is_string()) {
          const std::string& f = frag->get_ref<const std::string&>();
          if (f.size() > 1 && f[0] == '#' && f[1] != '/') anchors_.emplace(f.substr(1), ptr);
        }
      }
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it.value().is_structured()) LFM_RETURN_IF_ERROR(Index(it.value(), ptr + "/" + EscapePtr(it.key()), depth + 1));
      }
    } else if (node.is_array()) {
      for (size_t i = 0; i < node.size(); ++i)
        if (node[i].is_structured()) LFM_RETURN_IF_ERROR(Index(node[i], ptr + "/" + std::to_string(i), depth + 1));
    }
    return Status();
  }

  Result<SRef> Pointer(const std::string& base_ptr, const std::string& frag, const std::string& ref) {
    // frag: "" or "/a/b" (already percent-decoded).
    const Json* node = &root_;
    std::string ptr;
    if (!base_ptr.empty()) {
      LFM_ASSIGN_OR_RETURN(SRef b, Pointer("", base_ptr, ref));
      node = b.node;
      ptr = b.ptr;
    }
    size_t i = 0;
    while (i < frag.size()) {
      if (frag[i] != '/') return InvalidArgument("$ref '" + ref + "': bad JSON pointer");
      size_t j = frag.find('/', i + 1);
      if (j == std::string::npos) j = frag.size();
      std::string tok = frag.substr(i + 1, j - i - 1);
      std::string key;
      for (size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size()) {
          key.push_back(tok[k + 1] == '1' ? '/' : '~');
          ++k;
        } else {
          key.push_back(tok[k]);
        }
      }
      if (node->is_object()) {
        auto it = node->find(key);
        if (it == node->end()) return NotFound("$ref '" + ref + "': no '" + key + "' at " + (ptr.empty() ? "/" : ptr));
        node = &*it;
      } else if (node->is_array()) {
        char* end = nullptr;
        unsigned long idx = std::strtoul(key.c_str(), &end, 10);
        if (key.empty() || *end != 0 || idx >= node->size())
          return NotFound("$ref '" + ref + "': bad array index '" + key + "'");
        node = &(*node)[idx];
      } else {
        return NotFound("$ref '" + ref + "': cannot descend into a scalar at " + ptr);
      }
      ptr += "/" + EscapePtr(key);
      i = j;
    }
    return SRef{node, ptr};
  }

  static std::string PercentDecode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  }

  Result<SRef> ResolveRef(const std::string& ref, const std::string& at) {
    size_t hash = ref.find('#');
    std::string uri = hash == std::string::npos ? ref : ref.substr(0, hash);
    std::string frag = hash == std::string::npos ? "" : PercentDecode(ref.substr(hash + 1));
    std::string base;
    if (!uri.empty() && uri != root_id_) {
      auto it = ids_.find(uri);
      if (it == ids_.end() && !root_id_.empty()) {
        // Relative to the root's $id.
        size_t slash = root_id_.rfind('/');
        if (slash != std::string::npos) it = ids_.find(root_id_.substr(0, slash + 1) + uri);
      }
      if (it == ids_.end()) {
        // Match by the last path component of a registered $id.
        for (auto& [id, p] : ids_) {
          if (id.size() >= uri.size() && id.compare(id.size() - uri.size(), uri.size(), uri) == 0 &&
              (id.size() == uri.size() || id[id.size() - uri.size() - 1] == '/')) {
            it = ids_.find(id);
            break;
          }
        }
      }
      if (it == ids_.end()) return Unsupported("remote $ref '" + ref + "' at " + Where(at) + " (only local references)");
      base = it->second;
    }
    if (!frag.empty() && frag[0] != '/') {
      auto it = anchors_.find(frag);
      if (it == anchors_.end()) return NotFound("$ref '" + ref + "' at " + Where(at) + ": unknown anchor");
      return Pointer("", it->second, ref);
    }
    return Pointer(base, frag, ref);
  }

  static std::string Where(const std::string& ptr) { return ptr.empty() ? "/" : ptr; }

  // ---- intersections -------------------------------------------------------------------------
  // Collects the schema objects whose intersection `s` is ($ref and allOf expanded).
  Status Flatten(const SRef& s, std::vector<SRef>* leaves, bool* is_false, int depth) {
    if (depth > static_cast<int>(limits_.max_schema_depth))
      return ResourceExhausted("schema $ref/allOf expansion deeper than " + std::to_string(limits_.max_schema_depth) +
                               " at " + Where(s.ptr));
    const Json& n = *s.node;
    if (n.is_boolean()) {
      if (!n.get<bool>()) *is_false = true;
      return Status();
    }
    if (!n.is_object()) return InvalidArgument("schema at " + Where(s.ptr) + " is not an object or boolean");
    leaves->push_back(s);
    auto ref = n.find("$ref");
    if (ref != n.end()) {
      if (!ref->is_string()) return InvalidArgument("$ref at " + Where(s.ptr) + " is not a string");
      LFM_ASSIGN_OR_RETURN(SRef target, ResolveRef(ref->get<std::string>(), s.ptr));
      LFM_RETURN_IF_ERROR(Flatten(target, leaves, is_false, depth + 1));
    }
    auto all = n.find("allOf");
    if (all != n.end()) {
      if (!all->is_array()) return InvalidArgument("allOf at " + Where(s.ptr) + " is not an array");
      for (size_t i = 0; i < all->size(); ++i)
        LFM_RETURN_IF_ERROR(Flatten(SRef{&(*all)[i], s.ptr + "/allOf/" + std::to_string(i)}, leaves, is_false, depth + 1));
    }
    return Status();
  }

  // {"$ref": ...} with nothing beside it but annotations.
  static bool OnlyReference(const Json& n) {
    if (!n.is_object() || !n.contains("$ref")) return false;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string& k = it.key();
      if (k != "$ref" && k != "description" && k != "title" && k != "$comment" && k != "examples" &&
          k != "default" && k != "deprecated" && k != "readOnly" && k != "writeOnly")
        return false;
    }
    return true;
  }

  static void Canonicalize(std::vector<SRef>* leaves) {
    // The same node with different skip sets: a skip bit means one of the node's anyOf/oneOf
    // branches is already in the intersection, so expanding them again (when the node is also
    // reached unexpanded, through a $ref) adds nothing: X & B & (B | B') = X & B. Keeping the
    // larger skip set stops recursive oneOf schemas from multiplying into every combination of
    // branches (tree-sitter's grammar schema: 12,301 intersections and 1.4 s before, ~100 now).
    std::map<std::string, SRef> by_ptr;
    for (auto& l : *leaves) {
      // A leaf that only refers elsewhere adds no constraint (its target is a leaf too). Leaving it
      // out of the key lets the 165 properties that each say {"$ref": "#/definitions/record"} share
      // one compiled record instead of compiling it 165 times.
      if (OnlyReference(*l.node)) continue;
      auto [it, inserted] = by_ptr.emplace(l.ptr, l);
      if (!inserted) it->second.skip |= l.skip;
    }
    leaves->clear();
    for (auto& [p, l] : by_ptr) leaves->push_back(l);
  }

  static std::string Key(const std::vector<SRef>& leaves) {
    std::string k;
    for (auto& l : leaves) {
      k += l.ptr;
      k.push_back('#');
      k.push_back(static_cast<char>('0' + l.skip));
      k.push_back('\n');
    }
    return k;
  }

  Result<uint32_t> CompileParts(std::vector<SRef> parts, int depth) {
    if (depth > static_cast<int>(limits_.max_schema_depth))
      return ResourceExhausted("schema nesting deeper than " + std::to_string(limits_.max_schema_depth) + " at " +
                               (parts.empty() ? "/" : Where(parts[0].ptr)));
    std::vector<SRef> leaves;
    bool is_false = false;
    for (auto& p : parts) {
      size_t before = leaves.size();
      LFM_RETURN_IF_ERROR(Flatten(SRef{p.node, p.ptr}, &leaves, &is_false, depth));
      if (leaves.size() > before) leaves[before].skip = p.skip;
    }
    Canonicalize(&leaves);
    std::string key = is_false ? std::string("false") : Key(leaves);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    uint32_t nt = cfg_->AddNt(leaves.empty() ? "any" : Where(leaves[0].ptr));
    cache_.emplace(key, nt);
    if (is_false) return nt;  // no rules: unsatisfiable
    if (cfg_->rules.size() > limits_.max_grammar_symbols / 4)
      return ResourceExhausted("JSON schema grammar too large (over " + std::to_string(cfg_->rules.size()) + " rules)");
    // anyOf / oneOf: union over the branches of the first leaf that has one.
    for (size_t i = 0; i < leaves.size(); ++i) {
      const Json& n = *leaves[i].node;
      for (auto [kw, bit] : {std::pair<const char*, uint8_t>{"anyOf", kSkipAnyOf}, {"oneOf", kSkipOneOf}}) {
        if (leaves[i].skip & bit) continue;
        auto a = n.find(kw);
        if (a == n.end()) continue;
        if (!a->is_array() || a->empty()) return InvalidArgument(std::string(kw) + " at " + Where(leaves[i].ptr) + " must be a non-empty array");
        for (size_t b = 0; b < a->size(); ++b) {
          std::vector<SRef> alt = leaves;
          alt[i].skip |= bit;
          alt.push_back(SRef{&(*a)[b], leaves[i].ptr + "/" + kw + "/" + std::to_string(b)});
          LFM_ASSIGN_OR_RETURN(uint32_t sub, CompileParts(std::move(alt), depth + 1));
          cfg_->AddRule(nt, {NtSym(sub)});
        }
        return nt;
      }
    }
    LFM_RETURN_IF_ERROR(CompileLeaves(leaves, nt, depth));
    return nt;
  }

  // ---- keywords ------------------------------------------------------------------------------
  Status CheckKeywords(const SRef& l) {
    for (auto it = l.node->begin(); it != l.node->end(); ++it) {
      const std::string& k = it.key();
      const Json& v = it.value();
      bool bad = false;
      if (k == "not" || k == "if" || k == "contains" || k == "minContains" || k == "maxContains" ||
          k == "dependentSchemas" || k == "$dynamicRef" || k == "$recursiveRef") {
        bad = true;
      } else if (k == "uniqueItems") {
        bad = !(v.is_boolean() && !v.get<bool>());
      } else if (k == "unevaluatedProperties" || k == "unevaluatedItems" || k == "propertyNames") {
        bad = !(v.is_boolean() && v.get<bool>()) && !(v.is_object() && v.empty());
      } else if (k == "dependentRequired" || k == "dependencies") {
        bad = !(v.is_object() && v.empty());
      }
      if (bad && !opt_.lenient)
        return Unsupported("JSON Schema keyword '" + k + "' at " + Where(l.ptr) + " is not supported");
    }
    return Status();
  }

  Result<uint8_t> TypeMask(const Json& t, const std::string& ptr) {
    auto one = [&](const Json& s) -> Result<uint8_t> {
      if (!s.is_string()) return InvalidArgument("type at " + Where(ptr) + " is not a string");
      std::string n = s.get<std::string>();
      if (n == "null") return uint8_t{kNull};
      if (n == "boolean") return uint8_t{kBool};
      if (n == "object") return uint8_t{kObj};
      if (n == "array") return uint8_t{kArr};
      if (n == "string") return uint8_t{kStr};
      if (n == "number") return uint8_t{kNum | kInt};
      if (n == "integer") return uint8_t{kInt};
      return InvalidArgument("unknown type '" + n + "' at " + Where(ptr));
    };
    if (t.is_array()) {
      uint8_t m = 0;
      for (auto& s : t) {
        LFM_ASSIGN_OR_RETURN(uint8_t x, one(s));
        m |= x;
      }
      return m;
    }
    return one(t);
  }

  static uint8_t ValueType(const Json& v) {
    if (v.is_null()) return kNull;
    if (v.is_boolean()) return kBool;
    if (v.is_object()) return kObj;
    if (v.is_array()) return kArr;
    if (v.is_string()) return kStr;
    if (v.is_number_integer() || v.is_number_unsigned()) return kInt;
    if (v.is_number_float()) {
      double d = v.get<double>();
      return d == static_cast<double>(static_cast<long long>(d)) ? static_cast<uint8_t>(kInt | kNum) : kNum;
    }
    return 0;
  }

  Status CompileLeaves(const std::vector<SRef>& leaves, uint32_t nt, int depth) {
    uint8_t types = kAllTypes;
    const Json* enum_vals = nullptr;
    std::vector<Json> enum_storage;
    std::vector<std::vector<Json>> other_enums;
    for (auto& l : leaves) {
      LFM_RETURN_IF_ERROR(CheckKeywords(l));
      const Json& n = *l.node;
      if (auto t = n.find("type"); t != n.end()) {
        LFM_ASSIGN_OR_RETURN(uint8_t m, TypeMask(*t, l.ptr));
        types &= m;
      }
      std::vector<Json> vals;
      bool has = false;
      if (auto e = n.find("enum"); e != n.end()) {
        if (!e->is_array()) return InvalidArgument("enum at " + Where(l.ptr) + " is not an array");
        LFM_RETURN_IF_ERROR(CheckEnumSize(*e, l.ptr + "/enum"));
        vals.assign(e->begin(), e->end());
        has = true;
      }
      if (auto c = n.find("const"); c != n.end()) {
        LFM_RETURN_IF_ERROR(CheckEnumSize(Json::array({*c}), l.ptr + "/const"));
        if (has) {
          std::vector<Json> keep;
          for (auto& v : vals)
            if (v == *c) keep.push_back(v);
          vals = keep;
        } else {
          vals = {*c};
        }
        has = true;
      }
      if (has) other_enums.push_back(std::move(vals));
    }
    (void)enum_vals;
    if (!other_enums.empty()) {
      std::vector<Json> vals = other_enums[0];
      for (size_t i = 1; i < other_enums.size(); ++i) {
        // Sorted lookups: two 100k-value enums under allOf must not cost 10^10 comparisons.
        std::vector<Json>& other = other_enums[i];
        std::sort(other.begin(), other.end());
        std::vector<Json> keep;
        for (auto& v : vals)
          if (std::binary_search(other.begin(), other.end(), v)) keep.push_back(v);
        vals = keep;
      }
      return CompileEnum(leaves, vals, types, nt);
    }
    if (types & kNull) cfg_->AddRule(nt, {cfg_->Lexeme(rx_->Literal("null"))});
    if (types & kBool) cfg_->AddRule(nt, {cfg_->Lexeme(rx_->Or(rx_->Literal("true"), rx_->Literal("false")))});
    if (types & (kNum | kInt)) {
      LFM_ASSIGN_OR_RETURN(RxId r, NumberRegex(leaves, (types & kNum) == 0));
      cfg_->AddRule(nt, {cfg_->Lexeme(r)});
    }
    if (types & kStr) {
      LFM_ASSIGN_OR_RETURN(RxId r, StringContent(leaves));
      cfg_->AddRule(nt, {cfg_->Lexeme(rc_.JsonQuoted(r))});
    }
    if (types & kArr) LFM_RETURN_IF_ERROR(CompileArray(leaves, nt, depth));
    if (types & kObj) LFM_RETURN_IF_ERROR(CompileObject(leaves, nt, depth));
    return Status();
  }

  // The size limits of an enum (or const) at `where` (GrammarLimits::max_enum_*), checked before any
  // work on its values.
  Status CheckEnumSize(const Json& values, const std::string& where) const {
    if (values.size() > limits_.max_enum_values)
      return ResourceExhausted("enum at " + where + " has " + std::to_string(values.size()) +
                               " values, over the limit of " + std::to_string(limits_.max_enum_values));
    size_t total = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      const Json& v = values[i];
      const size_t bytes = v.is_string() ? v.get_ref<const std::string&>().size() + 2
                                         : v.dump(-1, ' ', false, Json::error_handler_t::replace).size();
      if (bytes > limits_.max_enum_value_bytes)
        return ResourceExhausted("enum value at " + where + "/" + std::to_string(i) + " is " + std::to_string(bytes) +
                                 " bytes, over the limit of " + std::to_string(limits_.max_enum_value_bytes));
      total += bytes;
      if (total > limits_.max_enum_bytes)
        return ResourceExhausted("enum at " + where + " holds over " + std::to_string(limits_.max_enum_bytes) +
                                 " bytes of values (the limit)");
    }
    return Status();
  }

  // Enum values that satisfy the type and string constraints, as one lexeme of literals.
  Status CompileEnum(const std::vector<SRef>& leaves, const std::vector<Json>& vals, uint8_t types, uint32_t nt) {
    std::vector<std::string> lits;
    RxId str_content = UINT32_MAX;
    for (auto& v : vals) {
      uint8_t vt = ValueType(v);
      if ((vt & types) == 0) continue;
      if (v.is_string()) {
        if (str_content == UINT32_MAX) {
          LFM_ASSIGN_OR_RETURN(str_content, StringContent(leaves));
        }
        if (!rx_->Matches(str_content, RegexCompiler::JsonEscape(v.get<std::string>()))) continue;
      }
      std::string s;
      try {
        s = v.dump(-1, ' ', false, Json::error_handler_t::strict);
      } catch (const std::exception& e) {
        return InvalidArgument(std::string("enum value not serialisable: ") + e.what());
      }
      lits.push_back(std::move(s));
    }
    if (lits.empty()) return Status();  // unsatisfiable: nt has no rules
    cfg_->AddRule(nt, {cfg_->Lexeme(LiteralTrie(lits))});
    return Status();
  }

  // Alternation of literals factored into a byte trie, so derivatives touch one branch.
  RxId LiteralTrie(std::vector<std::string> lits) {
    std::sort(lits.begin(), lits.end());
    lits.erase(std::unique(lits.begin(), lits.end()), lits.end());
    return TrieRange(lits, 0, lits.size(), 0);
  }
  RxId TrieRange(const std::vector<std::string>& lits, size_t b, size_t e, size_t depth) {
    std::vector<RxId> alts;
    size_t i = b;
    if (i < e && lits[i].size() == depth) {
      alts.push_back(rx_->Eps());
      ++i;
    }
    while (i < e) {
      char c = lits[i][depth];
      size_t j = i;
      while (j < e && lits[j][depth] == c) ++j;
      alts.push_back(rx_->Concat(rx_->Byte(static_cast<uint8_t>(c)), TrieRange(lits, i, j, depth + 1)));
      i = j;
    }
    return rx_->Or(alts);
  }

  // ---- strings -------------------------------------------------------------------------------
  Result<RxId> StringContent(const std::vector<SRef>& leaves) {
    uint64_t min_len = 0, max_len = kRxInf;
    std::vector<RxId> parts;
    for (auto& l : leaves) {
      const Json& n = *l.node;
      if (auto v = n.find("minLength"); v != n.end() && v->is_number()) min_len = std::max<uint64_t>(min_len, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
      if (auto v = n.find("maxLength"); v != n.end() && v->is_number()) max_len = std::min<uint64_t>(max_len, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
      if (auto v = n.find("pattern"); v != n.end()) {
        if (!v->is_string()) return InvalidArgument("pattern at " + Where(l.ptr) + " is not a string");
        auto r = rc_.Compile(v->get<std::string>(), CharEncoding::kJsonString, {.search = true});
        if (!r.ok()) return r.status().WithContext("pattern at " + Where(l.ptr));
        parts.push_back(*r);
      }
      if (auto v = n.find("format"); v != n.end() && v->is_string()) {
        const char* f = FormatRegex(v->get<std::string>());
        if (!f) {
          if (!opt_.lenient)
            return Unsupported("format '" + v->get<std::string>() + "' at " + Where(l.ptr) + " is not supported");
        } else {
          LFM_ASSIGN_OR_RETURN(RxId r, rc_.Compile(f, CharEncoding::kJsonString));
          parts.push_back(r);
        }
      }
    }
    if (min_len > 1000000) min_len = 1000000;
    parts.push_back(rx_->Repeat(rc_.AnyChar(CharEncoding::kJsonString), static_cast<uint32_t>(min_len),
                                max_len >= kRxInf ? kRxInf : static_cast<uint32_t>(max_len)));
    return rx_->And(parts);
  }

  // ---- numbers -------------------------------------------------------------------------------
  Result<RxId> NumberRegex(const std::vector<SRef>& leaves, bool integer_only) {
    NumberBounds b;
    std::vector<RxId> extra;
    auto dec = [&](const Json& v, const std::string& ptr) -> Result<Decimal> {
      if (!v.is_number()) return InvalidArgument("numeric bound at " + Where(ptr) + " is not a number");
      return ParseDecimal(v.dump());
    };
    auto tighten_lo = [&](const Decimal& d, bool excl) {
      int c = b.lo ? CompareDecimal(d, *b.lo) : 1;
      if (c > 0 || (c == 0 && excl)) b.lo = d, b.lo_exclusive = excl;
    };
    auto tighten_hi = [&](const Decimal& d, bool excl) {
      int c = b.hi ? CompareDecimal(d, *b.hi) : -1;
      if (c < 0 || (c == 0 && excl)) b.hi = d, b.hi_exclusive = excl;
    };
    for (auto& l : leaves) {
      const Json& n = *l.node;
      bool excl_min_bool = false, excl_max_bool = false;
      if (auto v = n.find("exclusiveMinimum"); v != n.end()) {
        if (v->is_boolean()) excl_min_bool = v->get<bool>();
        else {
          LFM_ASSIGN_OR_RETURN(Decimal d, dec(*v, l.ptr));
          tighten_lo(d, true);
        }
      }
      if (auto v = n.find("exclusiveMaximum"); v != n.end()) {
        if (v->is_boolean()) excl_max_bool = v->get<bool>();
        else {
          LFM_ASSIGN_OR_RETURN(Decimal d, dec(*v, l.ptr));
          tighten_hi(d, true);
        }
      }
      if (auto v = n.find("minimum"); v != n.end()) {
        LFM_ASSIGN_OR_RETURN(Decimal d, dec(*v, l.ptr));
        tighten_lo(d, excl_min_bool);
      }
      if (auto v = n.find("maximum"); v != n.end()) {
        LFM_ASSIGN_OR_RETURN(Decimal d, dec(*v, l.ptr));
        tighten_hi(d, excl_max_bool);
      }
      if (auto v = n.find("multipleOf"); v != n.end()) {
        LFM_ASSIGN_OR_RETURN(Decimal d, dec(*v, l.ptr));
        if (d.negative || d.IsZero()) return InvalidArgument("multipleOf at " + Where(l.ptr) + " must be positive");
        if (d.frac_digits.empty()) {
          if (d.int_digits.size() > 9) return Unsupported("multipleOf " + v->dump() + " at " + Where(l.ptr) + " is too large");
          uint32_t k = static_cast<uint32_t>(std::stoul(d.int_digits));
          integer_only = true;
          if (k > 1) extra.push_back(IntegerMultipleOfRegex(rx_, k));
        } else if (d.int_digits == "0" && d.frac_digits.back() == '1' &&
                   d.frac_digits.find_first_not_of('0') == d.frac_digits.size() - 1) {
          // 10^-e: at most e fraction digits.
          uint32_t e = static_cast<uint32_t>(d.frac_digits.size());
          RxId digit = rx_->Bytes([] { ByteSet s; s.SetRange('0', '9'); return s; }());
          RxId intpart = rx_->Or(rx_->Byte('0'), rx_->Concat(rx_->Bytes([] { ByteSet s; s.SetRange('1', '9'); return s; }()),
                                                             rx_->Repeat(digit, 0, kRxInf)));
          extra.push_back(rx_->Concat({rx_->Optional(rx_->Byte('-')), intpart,
                                       rx_->Optional(rx_->Concat(rx_->Byte('.'), rx_->Repeat(digit, 1, e)))}));
        } else {
          if (!opt_.lenient) return Unsupported("multipleOf " + v->dump() + " at " + Where(l.ptr) + " is not supported");
        }
      }
    }
    extra.push_back(NumberRangeRegex(rx_, b, integer_only));
    return rx_->And(extra);
  }

  // ---- shared lexemes ------------------------------------------------------------------------
  Status SetupLexemes() {
    if (opt_.whitespace_flexible) {
      if (opt_.whitespace_pattern.empty()) {
        ByteSet ws;
        for (char c : {' ', '\t', '\n', '\r'}) ws.Set(static_cast<uint8_t>(c));
        ws_ = rx_->Repeat(rx_->Bytes(ws), 0, kRxInf);
      } else {
        auto r = rc_.Compile(opt_.whitespace_pattern, CharEncoding::kUtf8);
        if (!r.ok()) return r.status().WithContext("whitespace_pattern");
        ws_ = rx_->Optional(*r);
      }
    } else {
      ws_ = rx_->Eps();
    }
    lbrace_ = cfg_->Lexeme(rx_->Concat(rx_->Byte('{'), ws_));
    rbrace_ = cfg_->Lexeme(rx_->Concat(ws_, rx_->Byte('}')));
    lbrack_ = cfg_->Lexeme(rx_->Concat(rx_->Byte('['), ws_));
    rbrack_ = cfg_->Lexeme(rx_->Concat(ws_, rx_->Byte(']')));
    comma_ = cfg_->Lexeme(rx_->Concat({ws_, rx_->Byte(','), ws_}));
    return Status();
  }

  uint32_t KeyLexeme(RxId quoted) { return cfg_->Lexeme(rx_->Concat({quoted, ws_, rx_->Byte(':'), ws_})); }

  uint32_t AnyValue() {
    if (any_value_ != UINT32_MAX) return any_value_;
    any_value_ = cfg_->AddNt("any_value");
    uint32_t obj = cfg_->AddNt("any_object"), members = cfg_->AddNt("any_members");
    uint32_t arr = cfg_->AddNt("any_array"), elems = cfg_->AddNt("any_elements");
    RxId str = rc_.JsonQuoted(rx_->Repeat(rc_.AnyChar(CharEncoding::kJsonString), 0, kRxInf));
    uint32_t key = KeyLexeme(str);
    NumberBounds none;
    RxId scalars = rx_->Or({str, NumberRangeRegex(rx_, none, false), rx_->Literal("true"), rx_->Literal("false"),
                            rx_->Literal("null")});
    uint32_t v = any_value_;
    cfg_->AddRule(v, {cfg_->Lexeme(scalars)});
    cfg_->AddRule(v, {NtSym(obj)});
    cfg_->AddRule(v, {NtSym(arr)});
    cfg_->AddRule(obj, {lbrace_, rbrace_});
    cfg_->AddRule(obj, {lbrace_, NtSym(members), rbrace_});
    cfg_->AddRule(members, {key, NtSym(v)});
    cfg_->AddRule(members, {NtSym(members), comma_, key, NtSym(v)});
    cfg_->AddRule(arr, {lbrack_, rbrack_});
    cfg_->AddRule(arr, {lbrack_, NtSym(elems), rbrack_});
    cfg_->AddRule(elems, {NtSym(v)});
    cfg_->AddRule(elems, {NtSym(elems), comma_, NtSym(v)});
    return any_value_;
  }

  // Value nonterminal for the intersection of `parts` (none: any JSON value).
  Result<uint32_t> ValueNt(const std::vector<SRef>& parts, int depth) {
    bool trivial = true;
    for (auto& p : parts) trivial &= p.node->is_boolean() ? p.node->get<bool>() : (p.node->is_object() && p.node->empty());
    if (trivial) return AnyValue();
    return CompileParts(parts, depth + 1);
  }

  // ---- repetition helpers --------------------------------------------------------------------
  // Nonterminals for X repeated exactly k / between 0 and k times, with O(log k) rules.
  uint32_t Exactly(uint32_t x, uint64_t k) {
    auto key = std::make_pair(x, k);
    if (auto it = exactly_.find(key); it != exactly_.end()) return it->second;
    uint32_t nt = cfg_->AddNt("exactly");
    exactly_.emplace(key, nt);
    if (k == 0) cfg_->AddRule(nt, {});
    else if (k == 1) cfg_->AddRule(nt, {x});
    else cfg_->AddRule(nt, {NtSym(Exactly(x, k / 2)), NtSym(Exactly(x, k - k / 2))});
    return nt;
  }
  uint32_t Upto(uint32_t x, uint64_t k) {
    auto key = std::make_pair(x, k);
    if (auto it = upto_.find(key); it != upto_.end()) return it->second;
    uint32_t nt = cfg_->AddNt("upto");
    upto_.emplace(key, nt);
    if (k == 0) {
      cfg_->AddRule(nt, {});
    } else if (k == 1) {
      cfg_->AddRule(nt, {});
      cfg_->AddRule(nt, {x});
    } else if (k == kRxInf) {
      cfg_->AddRule(nt, {});
      cfg_->AddRule(nt, {NtSym(nt), x});
    } else {
      // X^{0..k} = X^{0..k/2} X^{0..k-k/2}: ambiguous but O(log k) rules.
      cfg_->AddRule(nt, {NtSym(Upto(x, k / 2)), NtSym(Upto(x, k - k / 2))});
    }
    return nt;
  }
  // X repeated lo..hi times (hi may be kRxInf).
  uint32_t RepeatNt(uint32_t x, uint64_t lo, uint64_t hi) {
    uint32_t nt = cfg_->AddNt("repeat");
    uint32_t tail = hi == kRxInf ? Upto(x, kRxInf) : Upto(x, hi - lo);
    cfg_->AddRule(nt, {NtSym(Exactly(x, lo)), NtSym(tail)});
    return nt;
  }

  // ---- arrays --------------------------------------------------------------------------------
  Status CompileArray(const std::vector<SRef>& leaves, uint32_t nt, int depth) {
    uint64_t min_items = 0, max_items = kRxInf;
    struct Shape {
      std::vector<SRef> prefix;
      bool has_tail = false;
      SRef tail{nullptr, ""};
    };
    std::vector<Shape> shapes;
    size_t k = 0;
    for (auto& l : leaves) {
      const Json& n = *l.node;
      if (auto v = n.find("minItems"); v != n.end() && v->is_number()) min_items = std::max<uint64_t>(min_items, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
      if (auto v = n.find("maxItems"); v != n.end() && v->is_number()) max_items = std::min<uint64_t>(max_items, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
      Shape s;
      auto items = n.find("items");
      auto prefix = n.find("prefixItems");
      const Json* pre = nullptr;
      std::string pre_ptr;
      if (prefix != n.end() && prefix->is_array()) pre = &*prefix, pre_ptr = l.ptr + "/prefixItems";
      if (items != n.end() && items->is_array()) {
        pre = &*items, pre_ptr = l.ptr + "/items";
        if (auto add = n.find("additionalItems"); add != n.end())
          s.has_tail = true, s.tail = SRef{&*add, l.ptr + "/additionalItems"};
      } else if (items != n.end()) {
        s.has_tail = true, s.tail = SRef{&*items, l.ptr + "/items"};
      }
      if (pre)
        for (size_t i = 0; i < pre->size(); ++i) s.prefix.push_back(SRef{&(*pre)[i], pre_ptr + "/" + std::to_string(i)});
      k = std::max(k, s.prefix.size());
      shapes.push_back(std::move(s));
    }
    if (min_items > max_items) return Status();
    if (k > 10000) return ResourceExhausted("prefixItems longer than 10000");
    auto elem = [&](size_t j) -> Result<uint32_t> {
      std::vector<SRef> parts;
      for (auto& s : shapes) {
        if (j < s.prefix.size()) parts.push_back(s.prefix[j]);
        else if (s.has_tail) parts.push_back(s.tail);
      }
      return ValueNt(parts, depth);
    };
    // Content: ε | E0 A1;  A_j: ε (j >= min) | "," E_j A_{j+1};  A_L: ("," E_tail){lo..hi}.
    size_t L = std::max<size_t>(k, 1);
    std::vector<uint32_t> a(L + 1);
    for (size_t j = 1; j <= L; ++j) a[j] = cfg_->AddNt("items");
    for (size_t j = 1; j < L; ++j) {
      if (j >= min_items) cfg_->AddRule(a[j], {});
      if (j < max_items) {
        LFM_ASSIGN_OR_RETURN(uint32_t e, elem(j));
        cfg_->AddRule(a[j], {comma_, NtSym(e), NtSym(a[j + 1])});
      }
    }
    if (L <= max_items) {
      LFM_ASSIGN_OR_RETURN(uint32_t e, elem(L));
      uint32_t x = cfg_->AddNt("comma_item");
      cfg_->AddRule(x, {comma_, NtSym(e)});
      uint64_t lo = min_items > L ? min_items - L : 0;
      uint64_t hi = max_items == kRxInf ? kRxInf : max_items - L;
      cfg_->AddRule(a[L], {NtSym(RepeatNt(NtSym(x), lo, hi))});
    } else if (L >= min_items) {
      cfg_->AddRule(a[L], {});
    }
    if (min_items == 0) cfg_->AddRule(nt, {lbrack_, rbrack_});
    if (max_items >= 1) {
      LFM_ASSIGN_OR_RETURN(uint32_t e0, elem(0));
      cfg_->AddRule(nt, {lbrack_, NtSym(e0), NtSym(a[1]), rbrack_});
    }
    return Status();
  }

  // ---- objects -------------------------------------------------------------------------------
  struct PatternProp {
    RxId rx;
    SRef schema;
  };

  Status CompileObject(const std::vector<SRef>& leaves, uint32_t nt, int depth) {
    std::vector<std::string> order;
    std::map<std::string, std::vector<SRef>> props;
    std::vector<std::string> required;
    std::set<std::string> required_set;
    uint64_t min_props = 0, max_props = kRxInf;
    // Per leaf: its property names, patterns, additionalProperties.
    struct LeafInfo {
      std::set<std::string> names;
      std::vector<PatternProp> patterns;
      bool has_additional = false;
      SRef additional{nullptr, ""};
    };
    std::vector<LeafInfo> info(leaves.size());
    for (size_t i = 0; i < leaves.size(); ++i) {
      const SRef& l = leaves[i];
      const Json& n = *l.node;
      if (auto v = n.find("properties"); v != n.end()) {
        if (!v->is_object()) return InvalidArgument("properties at " + Where(l.ptr) + " is not an object");
        for (auto it = v->begin(); it != v->end(); ++it) {
          if (!props.count(it.key())) order.push_back(it.key());
          props[it.key()].push_back(SRef{&it.value(), l.ptr + "/properties/" + EscapePtr(it.key())});
          info[i].names.insert(it.key());
        }
      }
      if (auto v = n.find("required"); v != n.end() && v->is_array()) {
        for (auto& r : *v) {
          if (!r.is_string()) return InvalidArgument("required at " + Where(l.ptr) + " holds a non-string");
          if (required_set.insert(r.get<std::string>()).second) required.push_back(r.get<std::string>());
        }
      }
      if (auto v = n.find("patternProperties"); v != n.end() && v->is_object()) {
        for (auto it = v->begin(); it != v->end(); ++it) {
          auto r = rc_.Compile(it.key(), CharEncoding::kJsonString, {.search = true});
          if (!r.ok()) return r.status().WithContext("patternProperties at " + Where(l.ptr));
          info[i].patterns.push_back({*r, SRef{&it.value(), l.ptr + "/patternProperties/" + EscapePtr(it.key())}});
        }
      }
      if (auto v = n.find("additionalProperties"); v != n.end())
        info[i].has_additional = true, info[i].additional = SRef{&*v, l.ptr + "/additionalProperties"};
      if (auto v = n.find("minProperties"); v != n.end() && v->is_number()) min_props = std::max<uint64_t>(min_props, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
      if (auto v = n.find("maxProperties"); v != n.end() && v->is_number()) max_props = std::min<uint64_t>(max_props, v->get<double>() > 0 ? static_cast<uint64_t>(v->get<double>()) : 0);
    }
    for (auto& r : required)
      if (!props.count(r)) order.push_back(r), props[r];
    // The schema of each listed property: its own schemas, matching patterns, and the
    // additionalProperties of leaves that do not list it.
    auto key_schemas = [&](const std::string& name, std::vector<SRef> parts) {
      std::string enc = RegexCompiler::JsonEscape(name);
      for (size_t i = 0; i < leaves.size(); ++i) {
        if (info[i].names.count(name)) continue;
        bool matched = false;
        for (auto& p : info[i].patterns) {
          if (rx_->Matches(p.rx, enc)) parts.push_back(p.schema), matched = true;
        }
        if (!matched && info[i].has_additional) parts.push_back(info[i].additional);
      }
      // Patterns of leaves that do list the name apply too.
      for (size_t i = 0; i < leaves.size(); ++i) {
        if (!info[i].names.count(name)) continue;
        for (auto& p : info[i].patterns)
          if (rx_->Matches(p.rx, enc)) parts.push_back(p.schema);
      }
      return parts;
    };
    struct Prop {
      uint32_t key, value;
      bool required;
    };
    std::vector<Prop> list;
    for (auto& name : order) {
      std::vector<SRef> parts = key_schemas(name, props[name]);
      LFM_ASSIGN_OR_RETURN(uint32_t v, ValueNt(parts, depth));
      RxId quoted = rc_.JsonQuoted(rx_->Literal(RegexCompiler::JsonEscape(name)));
      list.push_back({KeyLexeme(quoted), v, required_set.count(name) > 0});
    }
    // Additional members: keys not listed, by pattern or additionalProperties.
    std::vector<RxId> names_rx;
    for (auto& name : order) names_rx.push_back(rx_->Literal(RegexCompiler::JsonEscape(name)));
    RxId not_listed = rx_->Not(rx_->Or(names_rx));
    RxId any_content = rx_->Repeat(rc_.AnyChar(CharEncoding::kJsonString), 0, kRxInf);
    int pattern_leaves = 0;
    for (auto& in : info) pattern_leaves += !in.patterns.empty();
    if (pattern_leaves > 1 && !opt_.lenient)
      return Unsupported("patternProperties in more than one allOf branch at " + Where(leaves[0].ptr));
    uint32_t member = cfg_->AddNt("additional_member");
    bool any_member = false;
    std::vector<RxId> all_patterns;
    for (size_t i = 0; i < leaves.size(); ++i) {
      for (auto& p : info[i].patterns) {
        all_patterns.push_back(p.rx);
        // A key matching this pattern: this pattern's schema plus additionalProperties of other leaves.
        std::vector<SRef> parts{p.schema};
        for (size_t j = 0; j < leaves.size(); ++j)
          if (j != i && info[j].has_additional) parts.push_back(info[j].additional);
        RxId content = rx_->And(p.rx, not_listed);
        if (rx_->IsEmpty(content)) continue;
        LFM_ASSIGN_OR_RETURN(uint32_t v, ValueNt(parts, depth));
        cfg_->AddRule(member, {KeyLexeme(rc_.JsonQuoted(content)), NtSym(v)});
        any_member = true;
      }
    }
    {
      std::vector<SRef> parts;
      bool forbidden = false;
      for (auto& in : info) {
        if (in.has_additional) {
          if (in.additional.node->is_boolean() && !in.additional.node->get<bool>()) forbidden = true;
          parts.push_back(in.additional);
        }
      }
      if (!forbidden) {
        RxId content = rx_->And(any_content, not_listed);
        if (!all_patterns.empty()) content = rx_->And(content, rx_->Not(rx_->Or(all_patterns)));
        LFM_ASSIGN_OR_RETURN(uint32_t v, ValueNt(parts, depth));
        cfg_->AddRule(member, {KeyLexeme(rc_.JsonQuoted(content)), NtSym(v)});
        any_member = true;
      }
    }
    // min/maxProperties: supported when the listed/required structure already guarantees them.
    size_t n_required = 0;
    for (auto& p : list) n_required += p.required;
    uint64_t max_possible = any_member ? kRxInf : list.size();
    if (min_props > max_possible || (max_props < n_required)) return Status();  // unsatisfiable
    bool min_ok = min_props <= n_required;
    bool max_ok = max_props >= max_possible;
    if (!min_ok || !max_ok) {
      if (!min_ok && min_props == 1 && max_ok) {
        return ObjectRules(list, member, any_member, nt, /*nonempty=*/true);
      }
      if (!opt_.lenient)
        return Unsupported("minProperties/maxProperties at " + Where(leaves[0].ptr) +
                           " beyond what required/additionalProperties imply");
    }
    return ObjectRules(list, member, any_member, nt, false);
  }

  // "{" First_0 "}" with First_i / Rest_i chains: O(n) nonterminals, fixed property order, commas only
  // between emitted members. nonempty: at least one member.
  template <typename PropList>
  Status ObjectRules(const PropList& list, uint32_t member, bool any_member, uint32_t nt, bool nonempty) {
    size_t n = list.size();
    uint32_t tail = cfg_->AddNt("members_tail");  // after >= 1 member: ("," member)*
    cfg_->AddRule(tail, {});
    if (any_member) cfg_->AddRule(tail, {NtSym(tail), comma_, NtSym(member)});
    std::vector<uint32_t> rest(n + 1), first(n + 1);
    rest[n] = tail;
    first[n] = cfg_->AddNt("members_first");
    if (!nonempty) cfg_->AddRule(first[n], {});
    if (any_member) cfg_->AddRule(first[n], {NtSym(member), NtSym(tail)});
    for (size_t i = n; i-- > 0;) {
      rest[i] = cfg_->AddNt("members_rest");
      first[i] = cfg_->AddNt("members_first");
      const auto& p = list[i];
      cfg_->AddRule(rest[i], {comma_, p.key, NtSym(p.value), NtSym(rest[i + 1])});
      if (!p.required) cfg_->AddRule(rest[i], {NtSym(rest[i + 1])});
      cfg_->AddRule(first[i], {p.key, NtSym(p.value), NtSym(rest[i + 1])});
      if (!p.required) cfg_->AddRule(first[i], {NtSym(first[i + 1])});
    }
    cfg_->AddRule(nt, {lbrace_, NtSym(first[0]), rbrace_});
    return Status();
  }

  const Json& root_;
  const JsonSchemaOptions& opt_;
  const GrammarLimits& limits_;
  Cfg* cfg_;
  RegexBuilder* rx_;
  RegexCompiler rc_;
  std::unordered_map<std::string, std::string> ids_, anchors_;
  std::string root_id_;
  std::unordered_map<std::string, uint32_t> cache_;
  std::map<std::pair<uint32_t, uint64_t>, uint32_t> exactly_, upto_;
  RxId ws_ = 0;
  uint32_t lbrace_ = 0, rbrace_ = 0, lbrack_ = 0, rbrack_ = 0, comma_ = 0;
  uint32_t any_value_ = UINT32_MAX;
};

}  // namespace

Result<uint32_t> CompileJsonSchema(const nlohmann::ordered_json& schema, const JsonSchemaOptions& options,
                                   const GrammarLimits& limits, Cfg* cfg, RegexBuilder* rx) {
  try {
    Compiler c(schema, options, limits, cfg, rx);
    return c.Run();
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("JSON schema: ") + e.what());
  }
}

}  // namespace lfm::grammar

namespace lfm {

Result<std::shared_ptr<const Grammar>> Grammar::FromJsonSchema(const nlohmann::ordered_json& schema,
                                                               const JsonSchemaOptions& options) {
  auto rx = std::make_unique<grammar::RegexBuilder>();
  grammar::Cfg cfg;
  GrammarLimits limits;
  LFM_ASSIGN_OR_RETURN(uint32_t start, grammar::CompileJsonSchema(schema, options, limits, &cfg, rx.get()));
  cfg.start = start;
  auto g = FromCfg(std::move(cfg), std::move(rx), limits);
  if (!g.ok() && g.status().code() == StatusCode::kInvalidArgument &&
      g.status().message().find("unsatisfiable") != std::string::npos)
    return InvalidArgument("JSON schema is unsatisfiable (no instance can match it)");
  return g;
}

Result<std::shared_ptr<const Grammar>> Grammar::FromJsonSchema(std::string_view schema_text,
                                                               const JsonSchemaOptions& options) {
  LFM_ASSIGN_OR_RETURN(nlohmann::ordered_json j, ParseOrderedJson(schema_text, "JSON schema text"));
  return FromJsonSchema(j, options);
}

}  // namespace lfm
