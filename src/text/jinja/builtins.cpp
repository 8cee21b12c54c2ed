// Jinja2's filters and tests, the globals transformers adds (raise_exception, strftime_now), and the
// Python methods of str/dict/list that chat templates call. Mutating methods are refused like
// jinja2's ImmutableSandboxedEnvironment does.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <functional>
#include <unordered_map>

#include "base/utf8.h"
#include "text/jinja/interpreter.h"
#include "text/jinja/strings.h"

namespace lfm::jinja {
namespace {

using FilterFn = std::function<Value(Interpreter&, Value&, CallArgs&)>;
using TestFn = std::function<bool(Interpreter&, const Value&, CallArgs&)>;

// Binds call arguments to named parameters (positional first, then keywords, then defaults).
std::vector<Value> Bind(CallArgs& a, const std::string& fname, const std::vector<std::pair<const char*, Value>>& spec,
                        size_t required = 0) {
  std::vector<Value> out(spec.size());
  std::vector<bool> set(spec.size(), false);
  if (a.positional.size() > spec.size()) {
    throw Error(fname + "() takes at most " + std::to_string(spec.size()) + " arguments (" +
                std::to_string(a.positional.size()) + " given)");
  }
  for (size_t i = 0; i < a.positional.size(); ++i) {
    out[i] = a.positional[i];
    set[i] = true;
  }
  for (auto& [k, v] : a.keyword) {
    bool found = false;
    for (size_t i = 0; i < spec.size(); ++i) {
      if (k == spec[i].first) {
        if (set[i]) throw Error(fname + "() got multiple values for argument '" + k + "'");
        out[i] = v;
        set[i] = true;
        found = true;
      }
    }
    if (!found) throw Error(fname + "() got an unexpected keyword argument '" + k + "'");
  }
  for (size_t i = 0; i < spec.size(); ++i) {
    if (!set[i]) {
      if (i < required) throw Error(fname + "() missing required argument '" + std::string(spec[i].first) + "'");
      out[i] = spec[i].second;
    }
  }
  return out;
}

const std::string& RequireString(const Value& v, const char* what) {
  if (!v.is_string()) throw Error(std::string(what) + " must be str, not " + v.TypeName());
  return v.str();
}

std::optional<std::string> OptString(const Value& v, const char* what) {
  if (v.is_none() || v.is_undefined()) return std::nullopt;
  return RequireString(v, what);
}

int64_t RequireInt(const Value& v, const char* what) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  throw Error(std::string("'") + v.TypeName() + "' object cannot be interpreted as an integer (" + what + ")");
}

// Items of an iterable, as Python's iter() yields them.
std::vector<Value> Iterate(const Value& v) {
  std::vector<Value> out;
  switch (v.kind()) {
    case Value::Kind::kList: return v.list();
    case Value::Kind::kDict:
      for (const auto& kv : v.dict().items) out.push_back(kv.first);
      return out;
    case Value::Kind::kString:
      for (auto cp : SplitCodePoints(v.str())) out.push_back(Value::String(std::string(cp)));
      return out;
    case Value::Kind::kUndefined: return out;
    default: throw Error(std::string("'") + v.TypeName() + "' object is not iterable");
  }
}

int64_t Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString: return static_cast<int64_t>(CodePointCount(v.str()));
    case Value::Kind::kList: return static_cast<int64_t>(v.list().size());
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: return static_cast<int64_t>(v.dict().items.size());
    case Value::Kind::kUndefined: return 0;
    default: throw Error(std::string("object of type '") + v.TypeName() + "' has no len()");
  }
}

// Jinja2's environment.getattr for dotted attribute paths ("a.b" or "0").
Value GetAttrPath(Interpreter& in, const Value& v, const std::string& path) {
  Value cur = v;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = numeric ? in.GetItem(cur, Value::Int(std::stoll(part)), in.current_pos()) : in.GetItem(cur, Value::String(part), in.current_pos());
    if (dot == std::string::npos) return cur;
    start = dot + 1;
  }
}

Value LowerIfString(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::String(PyLower(v.str()));
  return v;
}

double RoundHalfEven(double v, int64_t precision) {
  double m = std::pow(10.0, static_cast<double>(precision));
  double x = v * m;
  double r = std::nearbyint(x);  // default rounding mode: to nearest, ties to even
  return r / m;
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string JoinValues(const std::vector<Value>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += ToPyStr(items[i]);
  }
  return out;
}

// str.format with {} / {0} / {name} fields (no format specs).
std::string PyStrFormat(const std::string& fmt, CallArgs& a) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    char c = fmt[i];
    if (c == '{') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
        out += '{';
        ++i;
        continue;
      }
      size_t close = fmt.find('}', i);
      if (close == std::string::npos) throw Error("Single '{' encountered in format string");
      std::string field = fmt.substr(i + 1, close - i - 1);
      if (field.find_first_of(":!") != std::string::npos) throw Error("format specs are not supported: {" + field + "}");
      Value v;
      if (field.empty()) {
        if (auto_index >= a.positional.size()) throw Error("Replacement index out of range for positional args tuple");
        v = a.positional[auto_index++];
      } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
        size_t k = std::stoul(field);
        if (k >= a.positional.size()) throw Error("Replacement index out of range for positional args tuple");
        v = a.positional[k];
      } else {
        bool found = false;
        for (auto& [k, val] : a.keyword) {
          if (k == field) {
            v = val;
            found = true;
          }
        }
        if (!found) throw Error("KeyError: '" + field + "'");
      }
      out += ToPyStr(v);
      i = close;
    } else if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      out += '}';
    } else {
      out += c;
    }
  }
  return out;
}

const std::unordered_map<std::string, TestFn>& Tests();

bool RunTest(Interpreter& in, const std::string& name, const Value& v, CallArgs& args) {
  return in.ApplyTest(name, v, args, in.current_pos());
}

Value Select(Interpreter& in, Value& v, CallArgs& a, bool by_attr, bool keep) {
  std::vector<Value> items = Iterate(v);
  size_t first = 0;
  std::string attr;
  if (by_attr) {
    if (a.positional.empty()) throw Error("missing attribute name");
    attr = RequireString(a.positional[0], "attribute");
    first = 1;
  }
  std::string test;
  CallArgs targs;
  if (a.positional.size() > first) {
    test = RequireString(a.positional[first], "test name");
    targs.positional.assign(a.positional.begin() + static_cast<long>(first) + 1, a.positional.end());
  }
  targs.keyword = a.keyword;
  Value::List out;
  for (auto& item : items) {
    in.Step();
    Value subject = by_attr ? GetAttrPath(in, item, attr) : item;
    CallArgs ta = targs;
    bool r = test.empty() ? subject.Truthy() : RunTest(in, test, subject, ta);
    if (r == keep) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

std::string StrftimeNow(const RenderOptions& opt, const std::string& fmt) {
  std::tm tm{};
  if (opt.now_unix_seconds) {
    std::time_t t = static_cast<std::time_t>(*opt.now_unix_seconds);
    gmtime_r(&t, &tm);
  } else {
    std::time_t t = std::time(nullptr);
    localtime_r(&t, &tm);
  }
  if (fmt.empty()) return "";
  std::string buf(fmt.size() * 8 + 64, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
  if (n == 0) throw Error("strftime_now: format produced no output or is too long: " + fmt);
  buf.resize(n);
  return buf;
}

const std::unordered_map<std::string, FilterFn>& Filters() {
  static const auto* filters = new std::unordered_map<std::string, FilterFn>{
      {"trim",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "trim", {{"chars", Value::None()}});
         return Value::String(PyStrip(ToPyStr(v), OptString(p[0], "chars"), true, true));
       }},
      {"upper", [](Interpreter&, Value& v, CallArgs&) { return Value::String(PyUpper(ToPyStr(v))); }},
      {"lower", [](Interpreter&, Value& v, CallArgs&) { return Value::String(PyLower(ToPyStr(v))); }},
      {"capitalize", [](Interpreter&, Value& v, CallArgs&) { return Value::String(PyCapitalize(ToPyStr(v))); }},
      {"title",
       [](Interpreter&, Value& v, CallArgs&) {
         // Jinja2: words start after runs of '-', whitespace, '(', '{', '[', '<'.
         std::string s = ToPyStr(v), out;
         size_t i = 0;
         bool at_start = true;
         while (i < s.size()) {
           uint32_t cp = DecodeUtf8(s, i);
           bool sep = cp == '-' || PyIsSpace(cp) || cp == '(' || cp == '{' || cp == '[' || cp == '<';
           if (sep) {
             AppendUtf8(cp, out);
             at_start = true;
           } else {
             AppendUtf8(at_start ? PyToUpper(cp) : PyToLower(cp), out);
             at_start = false;
           }
         }
         return Value::String(out);
       }},
      {"length", [](Interpreter&, Value& v, CallArgs&) { return Value::Int(Length(v)); }},
      {"count", [](Interpreter&, Value& v, CallArgs&) { return Value::Int(Length(v)); }},
      {"tojson",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "tojson",
                       {{"ensure_ascii", Value::Bool(false)},
                        {"indent", Value::None()},
                        {"separators", Value::None()},
                        {"sort_keys", Value::Bool(false)}});
         std::string ind;
         const std::string* indent = nullptr;
         if (p[1].is_int() || p[1].is_bool()) {
           ind = std::string(static_cast<size_t>(std::max<int64_t>(0, p[1].as_int())), ' ');
           indent = &ind;
         } else if (p[1].is_string()) {
           ind = p[1].str();
           indent = &ind;
         } else if (!p[1].is_none()) {
           throw Error("tojson: indent must be an int or a string");
         }
         std::string item_sep = indent ? "," : ", ", key_sep = ": ";
         if (p[2].is_list() && p[2].list().size() == 2) {
           item_sep = RequireString(p[2].list()[0], "separator");
           key_sep = RequireString(p[2].list()[1], "separator");
         }
         return Value::String(JsonDumpsAscii(v, indent, item_sep, key_sep, p[3].Truthy(), p[0].Truthy()));
       }},
      {"join",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "join", {{"d", Value::String("")}, {"attribute", Value::None()}});
         std::vector<Value> items = Iterate(v);
         if (!p[1].is_none()) {
           for (auto& x : items) x = GetAttrPath(in, x, ToPyStr(p[1]));
         }
         std::string s = JoinValues(items, ToPyStr(p[0]));
         in.CheckSize(s.size(), in.current_pos());
         return Value::String(std::move(s));
       }},
      {"default",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "default", {{"default_value", Value::String("")}, {"boolean", Value::Bool(false)}});
         if (v.is_undefined() || (p[1].Truthy() && !v.Truthy())) return p[0];
         return v;
       }},
      {"d",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "default", {{"default_value", Value::String("")}, {"boolean", Value::Bool(false)}});
         if (v.is_undefined() || (p[1].Truthy() && !v.Truthy())) return p[0];
         return v;
       }},
      {"first",
       [](Interpreter&, Value& v, CallArgs&) {
         auto items = Iterate(v);
         return items.empty() ? Value::Undefined("No first item, sequence was empty.") : items.front();
       }},
      {"last",
       [](Interpreter&, Value& v, CallArgs&) {
         auto items = Iterate(v);
         return items.empty() ? Value::Undefined("No last item, sequence was empty.") : items.back();
       }},
      {"list", [](Interpreter&, Value& v, CallArgs&) { return Value::MakeList(Iterate(v)); }},
      {"safe", [](Interpreter&, Value& v, CallArgs&) { return v; }},
      {"string", [](Interpreter&, Value& v, CallArgs&) { return Value::String(ToPyStr(v)); }},
      {"escape", [](Interpreter&, Value& v, CallArgs&) { return Value::String(HtmlEscape(ToPyStr(v))); }},
      {"e", [](Interpreter&, Value& v, CallArgs&) { return Value::String(HtmlEscape(ToPyStr(v))); }},
      {"int",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "int", {{"default", Value::Int(0)}, {"base", Value::Int(10)}});
         if (v.is_int()) return v;
         if (v.is_bool()) return Value::Int(v.as_int());
         if (v.is_float()) {
           double d = v.as_float();
           if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return p[0];
           return Value::Int(static_cast<int64_t>(d));
         }
         if (v.is_string()) {
           std::string s = PyStrip(v.str(), std::nullopt, true, true);
           std::string digits;
           for (char c : s) {
             if (c != '_') digits += c;
           }
           char* end = nullptr;
           errno = 0;
           long long r = std::strtoll(digits.c_str(), &end, static_cast<int>(RequireInt(p[1], "base")));
           if (!digits.empty() && end && *end == '\0' && errno == 0) return Value::Int(r);
           errno = 0;
           double d = std::strtod(digits.c_str(), &end);
           if (!digits.empty() && end && *end == '\0' && errno == 0 && std::isfinite(d) && std::fabs(d) < 9.2e18)
             return Value::Int(static_cast<int64_t>(d));
         }
         return p[0];
       }},
      {"float",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "float", {{"default", Value::Float(0.0)}});
         if (v.is_number()) return Value::Float(v.as_float());
         if (v.is_string()) {
           std::string s = PyStrip(v.str(), std::nullopt, true, true);
           char* end = nullptr;
           double d = std::strtod(s.c_str(), &end);
           if (!s.empty() && end && *end == '\0') return Value::Float(d);
         }
         return p[0];
       }},
      {"abs",
       [](Interpreter&, Value& v, CallArgs&) {
         if (v.is_float()) return Value::Float(std::fabs(v.as_float()));
         if (v.is_int() || v.is_bool()) {
           if (v.as_int() == INT64_MIN) throw Error("integer overflow");
           return Value::Int(std::llabs(v.as_int()));
         }
         throw Error(std::string("bad operand type for abs(): '") + v.TypeName() + "'");
       }},
      {"round",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "round", {{"precision", Value::Int(0)}, {"method", Value::String("common")}});
         if (!v.is_number()) throw Error(std::string("type ") + v.TypeName() + " doesn't define __round__ method");
         int64_t prec = RequireInt(p[0], "precision");
         const std::string& method = RequireString(p[1], "method");
         if (method == "common") {
           if (!v.is_float()) return Value::Int(v.as_int());
           return Value::Float(RoundHalfEven(v.as_float(), prec));
         }
         double m = std::pow(10.0, static_cast<double>(prec));
         if (method == "ceil") return Value::Float(std::ceil(v.as_float() * m) / m);
         if (method == "floor") return Value::Float(std::floor(v.as_float() * m) / m);
         throw Error("method must be 'common', 'ceil' or 'floor'");
       }},
      {"reverse",
       [](Interpreter&, Value& v, CallArgs&) {
         if (v.is_string()) {
           auto cps = SplitCodePoints(v.str());
           std::string out;
           for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
           return Value::String(out);
         }
         auto items = Iterate(v);
         std::reverse(items.begin(), items.end());
         return Value::MakeList(std::move(items));
       }},
      {"sort",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "sort",
                       {{"reverse", Value::Bool(false)}, {"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}});
         auto items = Iterate(v);
         bool cs = p[1].Truthy();
         std::vector<std::pair<Value, Value>> keyed;
         for (auto& x : items) {
           Value key = p[2].is_none() ? x : GetAttrPath(in, x, ToPyStr(p[2]));
           keyed.emplace_back(LowerIfString(key, cs), x);
         }
         in.Step(static_cast<int64_t>(keyed.size()));
         bool rev = p[0].Truthy();
         std::stable_sort(keyed.begin(), keyed.end(), [rev](const auto& x, const auto& y) {
           return rev ? PyLess(y.first, x.first) : PyLess(x.first, y.first);
         });
         Value::List out;
         for (auto& k : keyed) out.push_back(k.second);
         return Value::MakeList(std::move(out));
       }},
      {"unique",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "unique", {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}});
         Value::List out, seen;
         for (auto& x : Iterate(v)) {
           in.Step(static_cast<int64_t>(seen.size() / 16 + 1));
           Value key = LowerIfString(p[1].is_none() ? x : GetAttrPath(in, x, ToPyStr(p[1])), p[0].Truthy());
           bool dup = false;
           for (auto& s : seen) {
             if (PyEquals(s, key)) {
               dup = true;
               break;
             }
           }
           if (!dup) {
             seen.push_back(key);
             out.push_back(x);
           }
         }
         return Value::MakeList(std::move(out));
       }},
      {"map",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto items = Iterate(v);
         Value::List out;
         std::string attribute;
         Value def;
         bool has_attr = false;
         for (auto& [k, val] : a.keyword) {
           if (k == "attribute") {
             attribute = ToPyStr(val);
             has_attr = true;
           } else if (k == "default") {
             def = val;
           }
         }
         if (has_attr) {
           for (auto& x : items) {
             Value r = GetAttrPath(in, x, attribute);
             out.push_back(r.is_undefined() && !def.is_undefined() ? def : r);
           }
           return Value::MakeList(std::move(out));
         }
         if (a.positional.empty()) throw Error("map requires a filter argument");
         std::string fname = RequireString(a.positional[0], "filter name");
         CallArgs fa;
         fa.positional.assign(a.positional.begin() + 1, a.positional.end());
         fa.keyword = a.keyword;
         for (auto& x : items) {
           CallArgs c = fa;
           out.push_back(in.ApplyFilter(fname, x, c, in.current_pos()));
         }
         return Value::MakeList(std::move(out));
       }},
      {"select", [](Interpreter& in, Value& v, CallArgs& a) { return Select(in, v, a, false, true); }},
      {"reject", [](Interpreter& in, Value& v, CallArgs& a) { return Select(in, v, a, false, false); }},
      {"selectattr", [](Interpreter& in, Value& v, CallArgs& a) { return Select(in, v, a, true, true); }},
      {"rejectattr", [](Interpreter& in, Value& v, CallArgs& a) { return Select(in, v, a, true, false); }},
      {"items",
       [](Interpreter&, Value& v, CallArgs&) {
         Value::List out;
         if (v.is_undefined()) return Value::MakeList();
         if (!v.is_dict()) throw Error("Can only get item pairs from a mapping.");
         for (auto& kv : v.dict().items) out.push_back(Value::MakeList({kv.first, kv.second}, true));
         return Value::MakeList(std::move(out));
       }},
      {"dictsort",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "dictsort",
                       {{"case_sensitive", Value::Bool(false)}, {"by", Value::String("key")}, {"reverse", Value::Bool(false)}});
         if (!v.is_dict()) throw Error("dictsort: value must be a dict");
         std::vector<std::pair<Value, Value>> items = v.dict().items;
         bool by_value = ToPyStr(p[1]) == "value";
         if (!by_value && ToPyStr(p[1]) != "key") throw Error("You can only sort by either 'key' or 'value'");
         bool cs = p[0].Truthy(), rev = p[2].Truthy();
         std::stable_sort(items.begin(), items.end(), [&](const auto& x, const auto& y) {
           Value kx = LowerIfString(by_value ? x.second : x.first, cs);
           Value ky = LowerIfString(by_value ? y.second : y.first, cs);
           return rev ? PyLess(ky, kx) : PyLess(kx, ky);
         });
         Value::List out;
         for (auto& kv : items) out.push_back(Value::MakeList({kv.first, kv.second}, true));
         return Value::MakeList(std::move(out));
       }},
      {"batch",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "batch", {{"linecount", Value()}, {"fill_with", Value::None()}}, 1);
         int64_t n = RequireInt(p[0], "linecount");
         if (n <= 0) throw Error("batch: linecount must be positive");
         Value::List out, cur;
         for (auto& x : Iterate(v)) {
           cur.push_back(x);
           if (static_cast<int64_t>(cur.size()) == n) {
             out.push_back(Value::MakeList(std::move(cur)));
             cur.clear();
           }
         }
         if (!cur.empty()) {
           if (!p[1].is_none()) {
             while (static_cast<int64_t>(cur.size()) < n) cur.push_back(p[1]);
           }
           out.push_back(Value::MakeList(std::move(cur)));
         }
         return Value::MakeList(std::move(out));
       }},
      {"indent",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "indent", {{"width", Value::Int(4)}, {"first", Value::Bool(false)}, {"blank", Value::Bool(false)}});
         std::string ind = p[0].is_string() ? p[0].str() : std::string(static_cast<size_t>(std::clamp<int64_t>(RequireInt(p[0], "width"), 0, 1 << 20)), ' ');
         std::string s = ToPyStr(v) + "\n";
         auto lines = PySplitLines(s, false);
         std::string rv;
         if (p[2].Truthy()) {
           for (size_t i = 0; i < lines.size(); ++i) {
             if (i) rv += "\n" + ind;
             rv += lines[i];
           }
         } else {
           for (size_t i = 0; i < lines.size(); ++i) {
             if (i == 0) {
               rv += lines[i];
             } else {
               rv += "\n";
               if (!lines[i].empty()) rv += ind;
               rv += lines[i];
             }
           }
         }
         if (p[1].Truthy()) rv = ind + rv;
         in.CheckSize(rv.size(), in.current_pos());
         return Value::String(rv);
       }},
      {"replace",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "replace", {{"old", Value()}, {"new", Value()}, {"count", Value::None()}}, 2);
         int64_t count = p[2].is_none() ? -1 : RequireInt(p[2], "count");
         std::string r = PyReplace(ToPyStr(v), ToPyStr(p[0]), ToPyStr(p[1]), count);
         in.CheckSize(r.size(), in.current_pos());
         return Value::String(r);
       }},
      {"wordcount",
       [](Interpreter&, Value& v, CallArgs&) {
         std::string s = ToPyStr(v);
         int64_t n = 0;
         bool in_word = false;
         size_t i = 0;
         while (i < s.size()) {
           uint32_t cp = DecodeUtf8(s, i);
           bool w = cp == '_' || (cp >= '0' && cp <= '9') || PyIsAlpha(cp);
           if (w && !in_word) ++n;
           in_word = w;
         }
         return Value::Int(n);
       }},
      {"center",
       [](Interpreter&, Value& v, CallArgs& a) {
         auto p = Bind(a, "center", {{"width", Value::Int(80)}});
         std::string s = ToPyStr(v);
         int64_t width = std::min<int64_t>(RequireInt(p[0], "width"), 1 << 20);
         int64_t len = static_cast<int64_t>(CodePointCount(s));
         if (width <= len) return Value::String(s);
         int64_t marg = width - len;
         int64_t left = marg / 2 + (marg & width & 1);
         return Value::String(std::string(static_cast<size_t>(left), ' ') + s +
                              std::string(static_cast<size_t>(marg - left), ' '));
       }},
      {"sum",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "sum", {{"attribute", Value::None()}, {"start", Value::Int(0)}});
         Value total = p[1];
         for (auto& x : Iterate(v)) {
           Value item = p[0].is_none() ? x : GetAttrPath(in, x, ToPyStr(p[0]));
           if (!item.is_number() || !total.is_number()) throw Error("sum: unsupported operand types");
           if (item.is_float() || total.is_float()) {
             total = Value::Float(total.as_float() + item.as_float());
           } else {
             int64_t r;
             if (__builtin_add_overflow(total.as_int(), item.as_int(), &r)) throw Error("integer overflow");
             total = Value::Int(r);
           }
         }
         return total;
       }},
      {"min",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "min", {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}});
         auto items = Iterate(v);
         if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
         size_t best = 0;
         auto key = [&](const Value& x) {
           return LowerIfString(p[1].is_none() ? x : GetAttrPath(in, x, ToPyStr(p[1])), p[0].Truthy());
         };
         for (size_t i = 1; i < items.size(); ++i) {
           if (PyLess(key(items[i]), key(items[best]))) best = i;
         }
         return items[best];
       }},
      {"max",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "max", {{"case_sensitive", Value::Bool(false)}, {"attribute", Value::None()}});
         auto items = Iterate(v);
         if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
         size_t best = 0;
         auto key = [&](const Value& x) {
           return LowerIfString(p[1].is_none() ? x : GetAttrPath(in, x, ToPyStr(p[1])), p[0].Truthy());
         };
         for (size_t i = 1; i < items.size(); ++i) {
           if (PyLess(key(items[best]), key(items[i]))) best = i;
         }
         return items[best];
       }},
      {"attr",
       [](Interpreter& in, Value& v, CallArgs& a) {
         auto p = Bind(a, "attr", {{"name", Value()}}, 1);
         return in.GetAttr(v, ToPyStr(p[0]), in.current_pos());
       }},
      {"format",
       [](Interpreter& in, Value& v, CallArgs& a) {
         Value args = Value::MakeList(a.positional, true);
         return Value::String(PyPercentFormat(in, ToPyStr(v), args));
       }},
  };
  return *filters;
}

bool IsSequenceLike(const Value& v) {
  return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined();
}

const std::unordered_map<std::string, TestFn>& Tests() {
  auto cmp = [](const char* op) {
    std::string o = op;
    return TestFn([o](Interpreter& in, const Value& v, CallArgs& a) {
      auto p = Bind(a, o, {{"other", Value()}}, 1);
      if (o == "==") return PyEquals(v, p[0]);
      if (o == "!=") return !PyEquals(v, p[0]);
      if (v.is_undefined()) FailUndefined(v, in.current_pos());
      if (o == "<") return PyLess(v, p[0]);
      if (o == ">") return PyLess(p[0], v);
      if (o == "<=") return !PyLess(p[0], v);
      return !PyLess(v, p[0]);
    });
  };
  static const auto* tests = new std::unordered_map<std::string, TestFn>{
      {"defined", [](Interpreter&, const Value& v, CallArgs&) { return !v.is_undefined(); }},
      {"undefined", [](Interpreter&, const Value& v, CallArgs&) { return v.is_undefined(); }},
      {"none", [](Interpreter&, const Value& v, CallArgs&) { return v.is_none(); }},
      {"boolean", [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool(); }},
      {"true", [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); }},
      {"false", [](Interpreter&, const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); }},
      {"integer", [](Interpreter&, const Value& v, CallArgs&) { return v.is_int(); }},
      {"float", [](Interpreter&, const Value& v, CallArgs&) { return v.is_float(); }},
      {"number", [](Interpreter&, const Value& v, CallArgs&) { return v.is_number(); }},
      {"string", [](Interpreter&, const Value& v, CallArgs&) { return v.is_string(); }},
      {"mapping", [](Interpreter&, const Value& v, CallArgs&) { return v.is_dict(); }},
      {"iterable", [](Interpreter&, const Value& v, CallArgs&) { return IsSequenceLike(v); }},
      {"sequence", [](Interpreter&, const Value& v, CallArgs&) { return IsSequenceLike(v); }},
      {"callable", [](Interpreter&, const Value& v, CallArgs&) { return v.is_function(); }},
      {"escaped", [](Interpreter&, const Value&, CallArgs&) { return false; }},
      {"sameas",
       [](Interpreter&, const Value& v, CallArgs& a) {
         auto p = Bind(a, "sameas", {{"other", Value()}}, 1);
         const Value& o = p[0];
         if (v.kind() != o.kind()) return false;
         switch (v.kind()) {
           case Value::Kind::kNone: return true;
           case Value::Kind::kBool: return v.as_bool() == o.as_bool();
           case Value::Kind::kList: return &v.list() == &o.list();
           case Value::Kind::kDict:
           case Value::Kind::kNamespace: return &v.dict() == &o.dict();
           default: return PyEquals(v, o);
         }
       }},
      {"lower",
       [](Interpreter&, const Value& v, CallArgs&) {
         std::string s = ToPyStr(v);
         bool cased = false;
         size_t i = 0;
         while (i < s.size()) {
           uint32_t cp = DecodeUtf8(s, i);
           if (PyIsUpperCase(cp)) return false;
           if (PyIsLowerCase(cp)) cased = true;
         }
         return cased;
       }},
      {"upper",
       [](Interpreter&, const Value& v, CallArgs&) {
         std::string s = ToPyStr(v);
         bool cased = false;
         size_t i = 0;
         while (i < s.size()) {
           uint32_t cp = DecodeUtf8(s, i);
           if (PyIsLowerCase(cp)) return false;
           if (PyIsUpperCase(cp)) cased = true;
         }
         return cased;
       }},
      {"odd",
       [](Interpreter& in, const Value& v, CallArgs&) {
         if (v.is_undefined()) FailUndefined(v, in.current_pos());
         return (RequireInt(v, "odd") & 1) != 0;
       }},
      {"even",
       [](Interpreter& in, const Value& v, CallArgs&) {
         if (v.is_undefined()) FailUndefined(v, in.current_pos());
         return (RequireInt(v, "even") & 1) == 0;
       }},
      {"divisibleby",
       [](Interpreter&, const Value& v, CallArgs& a) {
         auto p = Bind(a, "divisibleby", {{"num", Value()}}, 1);
         int64_t d = RequireInt(p[0], "num");
         if (d == 0) throw Error("integer division or modulo by zero");
         if (d == -1) return true;
         return RequireInt(v, "value") % d == 0;
       }},
      {"eq", cmp("==")},
      {"equalto", cmp("==")},
      {"==", cmp("==")},
      {"ne", cmp("!=")},
      {"!=", cmp("!=")},
      {"lt", cmp("<")},
      {"lessthan", cmp("<")},
      {"<", cmp("<")},
      {"le", cmp("<=")},
      {"<=", cmp("<=")},
      {"gt", cmp(">")},
      {"greaterthan", cmp(">")},
      {">", cmp(">")},
      {"ge", cmp(">=")},
      {">=", cmp(">=")},
      {"in",
       [](Interpreter&, const Value& v, CallArgs& a) {
         auto p = Bind(a, "in", {{"seq", Value()}}, 1);
         const Value& s = p[0];
         if (s.is_string()) return v.is_string() && s.str().find(v.str()) != std::string::npos;
         if (s.is_list()) {
           for (const auto& x : s.list()) {
             if (PyEquals(v, x)) return true;
           }
           return false;
         }
         if (s.is_dict()) return s.dict().Find(v) != nullptr;
         if (s.is_undefined()) return false;
         throw Error(std::string("argument of type '") + s.TypeName() + "' is not iterable");
       }},
      {"filter", [](Interpreter&, const Value& v, CallArgs&) { return v.is_string() && HasFilter(v.str()); }},
      {"test", [](Interpreter&, const Value& v, CallArgs&) { return v.is_string() && HasTest(v.str()); }},
  };
  return *tests;
}

Value Method(std::string name, NativeFunction fn) { return Value::MakeFunction(std::move(name), std::move(fn)); }

Value Unsafe(const std::string& attr, const Value& obj) {
  return Value::Undefined("access to attribute '" + attr + "' of '" + obj.TypeName() + "' object is unsafe.");
}

Value StringMethod(const Value& obj, const std::string& name) {
  const std::string s = obj.str();
  auto strip = [s](bool l, bool r, const char* n) {
    return Method(n, [s, l, r, n](Interpreter&, CallArgs& a) {
      auto p = Bind(a, n, {{"chars", Value::None()}});
      return Value::String(PyStrip(s, OptString(p[0], "chars"), l, r));
    });
  };
  if (name == "strip") return strip(true, true, "strip");
  if (name == "lstrip") return strip(true, false, "lstrip");
  if (name == "rstrip") return strip(false, true, "rstrip");
  if (name == "upper") return Method(name, [s](Interpreter&, CallArgs&) { return Value::String(PyUpper(s)); });
  if (name == "lower") return Method(name, [s](Interpreter&, CallArgs&) { return Value::String(PyLower(s)); });
  if (name == "title") return Method(name, [s](Interpreter&, CallArgs&) { return Value::String(PyTitle(s)); });
  if (name == "capitalize") {
    return Method(name, [s](Interpreter&, CallArgs&) { return Value::String(PyCapitalize(s)); });
  }
  if (name == "split" || name == "rsplit") {
    bool right = name == "rsplit";
    return Method(name, [s, right, name](Interpreter&, CallArgs& a) {
      auto p = Bind(a, name, {{"sep", Value::None()}, {"maxsplit", Value::Int(-1)}});
      Value::List out;
      for (auto& part : PySplit(s, OptString(p[0], "sep"), RequireInt(p[1], "maxsplit"), right)) {
        out.push_back(Value::String(std::move(part)));
      }
      return Value::MakeList(std::move(out));
    });
  }
  if (name == "splitlines") {
    return Method(name, [s](Interpreter&, CallArgs& a) {
      auto p = Bind(a, "splitlines", {{"keepends", Value::Bool(false)}});
      Value::List out;
      for (auto& l : PySplitLines(s, p[0].Truthy())) out.push_back(Value::String(std::move(l)));
      return Value::MakeList(std::move(out));
    });
  }
  if (name == "startswith" || name == "endswith") {
    bool ends = name == "endswith";
    return Method(name, [s, ends, name](Interpreter&, CallArgs& a) {
      auto p = Bind(a, name, {{"prefix", Value()}}, 1);
      std::vector<std::string> cands;
      if (p[0].is_list() && p[0].is_tuple()) {
        for (auto& x : p[0].list()) cands.push_back(RequireString(x, name.c_str()));
      } else {
        cands.push_back(RequireString(p[0], name.c_str()));
      }
      for (auto& c : cands) {
        if (c.size() > s.size()) continue;
        if (ends ? s.compare(s.size() - c.size(), c.size(), c) == 0 : s.compare(0, c.size(), c) == 0) return Value::Bool(true);
      }
      return Value::Bool(false);
    });
  }
  if (name == "replace") {
    return Method(name, [s](Interpreter& in, CallArgs& a) {
      auto p = Bind(a, "replace", {{"old", Value()}, {"new", Value()}, {"count", Value::Int(-1)}}, 2);
      std::string r = PyReplace(s, RequireString(p[0], "old"), RequireString(p[1], "new"), RequireInt(p[2], "count"));
      in.CheckSize(r.size(), in.current_pos());
      return Value::String(r);
    });
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    return Method(name, [s, name](Interpreter&, CallArgs& a) {
      auto p = Bind(a, name, {{"sub", Value()}}, 1);
      const std::string& sub = RequireString(p[0], "sub");
      if (name == "count") {
        if (sub.empty()) return Value::Int(static_cast<int64_t>(CodePointCount(s)) + 1);
        int64_t n = 0;
        for (size_t pos = s.find(sub); pos != std::string::npos; pos = s.find(sub, pos + sub.size())) ++n;
        return Value::Int(n);
      }
      size_t pos = (name == "find" || name == "index") ? s.find(sub) : s.rfind(sub);
      if (pos == std::string::npos) {
        if (name == "index" || name == "rindex") throw Error("substring not found");
        return Value::Int(-1);
      }
      return Value::Int(static_cast<int64_t>(CodePointCount(std::string_view(s).substr(0, pos))));
    });
  }
  if (name == "join") {
    return Method(name, [s](Interpreter& in, CallArgs& a) {
      auto p = Bind(a, "join", {{"iterable", Value()}}, 1);
      auto items = Iterate(p[0]);
      for (auto& x : items) RequireString(x, "sequence item");
      std::string r = JoinValues(items, s);
      in.CheckSize(r.size(), in.current_pos());
      return Value::String(r);
    });
  }
  if (name == "format") {
    return Method(name, [s](Interpreter&, CallArgs& a) { return Value::String(PyStrFormat(s, a)); });
  }
  auto pred = [s](const char* n, std::function<bool(uint32_t)> f) {
    return Method(n, [s, f](Interpreter&, CallArgs&) {
      if (s.empty()) return Value::Bool(false);
      size_t i = 0;
      while (i < s.size()) {
        if (!f(DecodeUtf8(s, i))) return Value::Bool(false);
      }
      return Value::Bool(true);
    });
  };
  if (name == "isdigit" || name == "isnumeric" || name == "isdecimal") {
    return pred("isdigit", [](uint32_t c) { return c >= '0' && c <= '9'; });
  }
  if (name == "isalpha") return pred("isalpha", PyIsAlpha);
  if (name == "isalnum") return pred("isalnum", [](uint32_t c) { return (c >= '0' && c <= '9') || PyIsAlpha(c); });
  if (name == "isspace") return pred("isspace", PyIsSpace);
  return Value::Undefined("'str object' has no attribute '" + name + "'");
}

}  // namespace

bool HasFilter(const std::string& name) { return Filters().count(name) != 0; }
bool HasTest(const std::string& name) { return Tests().count(name) != 0; }

Value Interpreter::ApplyFilter(const std::string& name, Value input, CallArgs& args, size_t pos) {
  auto it = Filters().find(name);
  if (it == Filters().end()) throw Error("No filter named '" + name + "'.", pos);
  size_t saved = pos_;
  pos_ = pos;
  Value r = it->second(*this, input, args);
  pos_ = saved;
  return r;
}

bool Interpreter::ApplyTest(const std::string& name, const Value& input, CallArgs& args, size_t pos) {
  auto it = Tests().find(name);
  if (it == Tests().end()) throw Error("No test named '" + name + "'.", pos);
  return it->second(*this, input, args);
}

Value Interpreter::GetAttr(const Value& obj, const std::string& name, size_t pos) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined: FailUndefined(obj, pos);
    case Value::Kind::kString: return StringMethod(obj, name);
    case Value::Kind::kDict: {
      Value self = obj;
      if (name == "items") {
        return Method(name, [self](Interpreter&, CallArgs&) {
          Value::List out;
          for (auto& kv : self.dict().items) out.push_back(Value::MakeList({kv.first, kv.second}, true));
          return Value::MakeList(std::move(out));
        });
      }
      if (name == "keys" || name == "values") {
        bool keys = name == "keys";
        return Method(name, [self, keys](Interpreter&, CallArgs&) {
          Value::List out;
          for (auto& kv : self.dict().items) out.push_back(keys ? kv.first : kv.second);
          return Value::MakeList(std::move(out));
        });
      }
      if (name == "get") {
        return Method(name, [self](Interpreter&, CallArgs& a) {
          auto p = Bind(a, "get", {{"key", Value()}, {"default", Value::None()}}, 1);
          const Value* v = self.dict().Find(p[0]);
          return v ? *v : p[1];
        });
      }
      if (name == "copy") {
        return Method(name, [self](Interpreter&, CallArgs&) {
          Value d = Value::MakeDict();
          d.dict().items = self.dict().items;
          return d;
        });
      }
      if (name == "update" || name == "pop" || name == "popitem" || name == "setdefault" || name == "clear") {
        return Unsafe(name, obj);
      }
      if (const Value* v = obj.dict().Find(Value::String(name))) return *v;
      return Value::Undefined("'dict object' has no attribute '" + name + "'");
    }
    case Value::Kind::kNamespace: {
      if (const Value* v = obj.dict().Find(Value::String(name))) return *v;
      return Value::Undefined("'Namespace object' has no attribute '" + name + "'");
    }
    case Value::Kind::kList: {
      Value self = obj;
      if (name == "index" || name == "count") {
        bool count = name == "count";
        return Method(name, [self, count](Interpreter&, CallArgs& a) {
          auto p = Bind(a, count ? "count" : "index", {{"value", Value()}}, 1);
          int64_t n = 0;
          for (size_t i = 0; i < self.list().size(); ++i) {
            if (PyEquals(self.list()[i], p[0])) {
              if (!count) return Value::Int(static_cast<int64_t>(i));
              ++n;
            }
          }
          if (!count) throw Error(ToPyRepr(p[0]) + " is not in list");
          return Value::Int(n);
        });
      }
      if (name == "append" || name == "extend" || name == "insert" || name == "pop" || name == "remove" ||
          name == "reverse" || name == "sort" || name == "clear") {
        return Unsafe(name, obj);
      }
      return Value::Undefined(std::string("'") + obj.TypeName() + " object' has no attribute '" + name + "'");
    }
    default:
      return Value::Undefined(std::string("'") + ToPyRepr(obj) + "' has no attribute '" + name + "'");
  }
}

std::string PyPercentFormat(Interpreter& in, const std::string& fmt, const Value& args) {
  std::vector<Value> vals;
  const Value* mapping = nullptr;
  if (args.is_tuple()) {
    vals = args.list();
  } else if (args.is_dict()) {
    mapping = &args;
  } else {
    vals.push_back(args);
  }
  std::string out;
  size_t k = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) throw Error("incomplete format");
    if (fmt[i] == '%') {
      out += '%';
      continue;
    }
    Value v;
    if (fmt[i] == '(' && mapping) {
      size_t close = fmt.find(')', i);
      if (close == std::string::npos) throw Error("incomplete format key");
      const Value* x = mapping->dict().Find(Value::String(fmt.substr(i + 1, close - i - 1)));
      if (!x) throw Error("KeyError in format");
      v = *x;
      i = close + 1;
      if (i >= fmt.size()) throw Error("incomplete format");
    } else {
      if (k >= vals.size()) throw Error("not enough arguments for format string");
      v = vals[k++];
    }
    char conv = fmt[i];
    switch (conv) {
      case 's': out += ToPyStr(v); break;
      case 'r': out += ToPyRepr(v); break;
      case 'd':
      case 'i':
        if (!v.is_number()) throw Error(std::string("%d format: a real number is required, not ") + v.TypeName());
        out += std::to_string(v.is_float() ? static_cast<int64_t>(v.as_float()) : v.as_int());
        break;
      case 'f': {
        if (!v.is_number()) throw Error("must be real number");
        char buf[64];
        std::snprintf(buf, sizeof(buf), "%f", v.as_float());
        out += buf;
        break;
      }
      default: throw Error(std::string("unsupported format character '") + conv + "'");
    }
  }
  if (!mapping && k < vals.size()) throw Error("not all arguments converted during string formatting");
  in.CheckSize(out.size(), in.current_pos());
  return out;
}

void InstallGlobals(Scope& g, const RenderOptions& options) {
  g.vars["range"] = Method("range", [](Interpreter& in, CallArgs& a) {
    if (!a.keyword.empty()) throw Error("range() takes no keyword arguments");
    int64_t start = 0, stop = 0, step = 1;
    if (a.positional.size() == 1) {
      stop = RequireInt(a.positional[0], "range");
    } else if (a.positional.size() == 2 || a.positional.size() == 3) {
      start = RequireInt(a.positional[0], "range");
      stop = RequireInt(a.positional[1], "range");
      if (a.positional.size() == 3) step = RequireInt(a.positional[2], "range");
    } else {
      throw Error("range expected 1 to 3 arguments");
    }
    if (step == 0) throw Error("range() arg 3 must not be zero");
    // jinja2's sandbox refuses ranges longer than MAX_RANGE (100000).
    long double n = step > 0 ? std::ceil((static_cast<long double>(stop) - start) / step)
                             : std::ceil((static_cast<long double>(start) - stop) / -step);
    if (n > 100000) {
      throw Error("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).", kNoPos,
                  StatusCode::kResourceExhausted);
    }
    Value::List out;
    in.Step(static_cast<int64_t>(std::max<long double>(0, n)) / 4);
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value::Int(i));
    return Value::MakeList(std::move(out));
  });
  g.vars["dict"] = Method("dict", [](Interpreter&, CallArgs& a) {
    Value d = Value::MakeDict();
    for (auto& x : a.positional) {
      if (x.is_dict()) {
        for (auto& kv : x.dict().items) d.dict().Set(kv.first, kv.second);
      } else {
        throw Error("dict() positional argument must be a mapping");
      }
    }
    for (auto& [k, v] : a.keyword) d.dict().Set(Value::String(k), v);
    return d;
  });
  g.vars["namespace"] = Method("namespace", [](Interpreter& in, CallArgs& a) {
    Value ns = Value::MakeNamespace();
    in.AdoptNamespace(ns);
    for (auto& x : a.positional) {
      if (!x.is_dict()) throw Error("namespace() positional argument must be a mapping");
      for (auto& kv : x.dict().items) ns.dict().Set(kv.first, kv.second);
    }
    for (auto& [k, v] : a.keyword) ns.dict().Set(Value::String(k), v);
    return ns;
  });
  g.vars["raise_exception"] = Method("raise_exception", [](Interpreter&, CallArgs& a) -> Value {
    std::string msg = a.positional.empty() ? std::string() : ToPyStr(a.positional[0]);
    throw Error("raise_exception: " + msg);
  });
  RenderOptions opt = options;
  g.vars["strftime_now"] = Method("strftime_now", [opt](Interpreter&, CallArgs& a) {
    auto p = Bind(a, "strftime_now", {{"format", Value()}}, 1);
    return Value::String(StrftimeNow(opt, RequireString(p[0], "format")));
  });
}

}  // namespace lfm::jinja
