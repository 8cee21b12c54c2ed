// Values of the Jinja template engine, with Python's semantics (what Jinja2 runs on): None, bool,
// int, float, str, list/tuple, dict (insertion-ordered), namespace, callables, and Jinja2's
// default Undefined. Lists and dicts are shared by reference, like Python objects.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lfm::jinja {

class Value;
class Interpreter;

// Arguments of a call: positional first, then keyword arguments in call order.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A native function (filter-like global, bound method, macro). Throws jinja::Error on failure.
using NativeFunction = std::function<Value(Interpreter&, CallArgs&)>;

struct Function {
  std::string name;
  NativeFunction call;
};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kNamespace, kFunction };
  using List = std::vector<Value>;
  struct Dict {
    std::vector<std::pair<Value, Value>> items;
    const Value* Find(const Value& key) const;
    Value* Find(const Value& key);
    void Set(const Value& key, Value v);
  };

  Value() = default;  // Undefined
  static Value Undefined(std::string hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value MakeList(List items = {}, bool tuple = false);
  static Value MakeDict();
  static Value MakeNamespace();
  static Value MakeFunction(std::string name, NativeFunction fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? (b_ ? 1 : 0) : i_; }
  double as_float() const;  // int, bool or float as double
  const std::string& str() const { return s_; }  // string contents, or the undefined hint
  List& list() const { return *list_; }
  Dict& dict() const { return *dict_; }  // dict and namespace
  const Function& function() const { return *fn_; }
  // The dict or namespace storage, without keeping it alive (lifetime bookkeeping).
  std::weak_ptr<Dict> WeakDict() const { return dict_; }

  // Python truthiness (Undefined is false).
  bool Truthy() const;
  // Python type name, for error messages ("str", "int", "list", ...).
  const char* TypeName() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool tuple_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// Python str(x) as Jinja prints it ({{ x }}): undefined -> "", None -> "None", lists/dicts as repr.
std::string ToPyStr(const Value& v);
// Python repr(x).
std::string ToPyRepr(const Value& v);
// Python repr of a float ("1.0", "1e-05", "1e+16", "inf", "nan").
std::string PyFloatRepr(double d);
// Python ==.
bool PyEquals(const Value& a, const Value& b);
// Python <, for numbers, strings and sequences; throws jinja::Error for other types.
bool PyLess(const Value& a, const Value& b);

// Code-point helpers: Python strings count code points, Jinja strings here are UTF-8.
std::vector<std::string_view> SplitCodePoints(std::string_view s);
size_t CodePointCount(std::string_view s);

}  // namespace lfm::jinja
