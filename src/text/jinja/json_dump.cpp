// Python json.dumps semantics for template values, and JSON -> Value conversion.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/utf8.h"
#include "text/jinja/interpreter.h"

namespace lfm::jinja {
namespace {

void DumpString(const std::string& s, bool ensure_ascii, std::string& out) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out += buf;
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    size_t st = i;
    uint32_t cp = DecodeUtf8(s, i);
    if (!ensure_ascii) {
      out.append(s, st, i - st);
      continue;
    }
    char buf[16];
    if (cp >= 0x10000) {
      uint32_t v = cp - 0x10000;
      std::snprintf(buf, sizeof(buf), "\\u%04x\\u%04x", 0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      std::snprintf(buf, sizeof(buf), "\\u%04x", cp);
    }
    out += buf;
  }
  out += '"';
}

struct Dumper {
  const std::string* indent;
  std::string item_sep, key_sep;
  bool sort_keys;
  bool ensure_ascii;
  std::string out;

  void Newline(int level) {
    out += '\n';
    for (int i = 0; i < level; ++i) out += *indent;
  }

  std::string KeyString(const Value& k) {
    switch (k.kind()) {
      case Value::Kind::kString: return k.str();
      case Value::Kind::kBool: return k.as_bool() ? "true" : "false";
      case Value::Kind::kNone: return "null";
      case Value::Kind::kInt: return std::to_string(k.as_int());
      case Value::Kind::kFloat: return PyFloatRepr(k.as_float());
      default: throw Error(std::string("keys must be str, int, float, bool or None, not ") + k.TypeName());
    }
  }

  void Dump(const Value& v, int level) {
    if (level > 512) throw Error("maximum recursion depth exceeded while encoding a JSON object");
    switch (v.kind()) {
      case Value::Kind::kNone: out += "null"; return;
      case Value::Kind::kBool: out += v.as_bool() ? "true" : "false"; return;
      case Value::Kind::kInt: out += std::to_string(v.as_int()); return;
      case Value::Kind::kFloat: {
        double d = v.as_float();
        if (std::isnan(d)) {
          out += "NaN";
        } else if (std::isinf(d)) {
          out += d > 0 ? "Infinity" : "-Infinity";
        } else {
          out += PyFloatRepr(d);
        }
        return;
      }
      case Value::Kind::kString: DumpString(v.str(), ensure_ascii, out); return;
      case Value::Kind::kList: {
        const auto& l = v.list();
        if (l.empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < l.size(); ++i) {
          if (i) out += item_sep;
          if (indent) Newline(level + 1);
          Dump(l[i], level + 1);
        }
        if (indent) Newline(level);
        out += ']';
        return;
      }
      case Value::Kind::kDict: {
        std::vector<std::pair<std::string, const Value*>> items;
        for (const auto& kv : v.dict().items) items.emplace_back(KeyString(kv.first), &kv.second);
        if (sort_keys) {
          std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        }
        if (items.empty()) {
          out += "{}";
          return;
        }
        out += '{';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += item_sep;
          if (indent) Newline(level + 1);
          DumpString(items[i].first, ensure_ascii, out);
          out += key_sep;
          Dump(*items[i].second, level + 1);
        }
        if (indent) Newline(level);
        out += '}';
        return;
      }
      case Value::Kind::kUndefined: throw Error("Object of type Undefined is not JSON serializable");
      default: throw Error(std::string("Object of type ") + v.TypeName() + " is not JSON serializable");
    }
  }
};

}  // namespace

std::string JsonDumps(const Value& v, const std::string* indent, const std::string& item_sep,
                      const std::string& key_sep, bool sort_keys) {
  Dumper d{indent, item_sep, key_sep, sort_keys, false, {}};
  d.Dump(v, 0);
  return std::move(d.out);
}

std::string JsonDumpsAscii(const Value& v, const std::string* indent, const std::string& item_sep,
                           const std::string& key_sep, bool sort_keys, bool ensure_ascii) {
  Dumper d{indent, item_sep, key_sep, sort_keys, ensure_ascii, {}};
  d.Dump(v, 0);
  return std::move(d.out);
}

std::string PyJsonDumps(const Value& v, int indent, bool sort_keys) {
  if (indent < 0) return JsonDumps(v, nullptr, ", ", ": ", sort_keys);
  std::string ind(static_cast<size_t>(indent), ' ');
  return JsonDumps(v, &ind, ",", ": ", sort_keys);
}

Value ValueFromJson(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::None();
    case nlohmann::ordered_json::value_t::boolean: return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::Int(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::Float(static_cast<double>(u));
      return Value::Int(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::Float(j.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Value::List items;
      items.reserve(j.size());
      for (const auto& x : j) items.push_back(ValueFromJson(x));
      return Value::MakeList(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value d = Value::MakeDict();
      auto& items = d.dict().items;
      items.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) items.emplace_back(Value::String(it.key()), ValueFromJson(it.value()));
      return d;
    }
    default: return Value::None();
  }
}

}  // namespace lfm::jinja
