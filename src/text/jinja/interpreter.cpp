#include "text/jinja/interpreter.h"

#include <cmath>
#include <limits>

namespace lfm::jinja {

const Value* Scope::Lookup(const std::string& name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent.get()) {
    auto it = s->vars.find(name);
    if (it != s->vars.end()) return &it->second;
  }
  return nullptr;
}

[[noreturn]] void FailUndefined(const Value& v, size_t pos) {
  throw Error(v.str().empty() ? std::string("value is undefined") : v.str(), pos);
}

struct DepthScope {
  DepthScope(Interpreter* in, size_t pos) : in_(in) {
    if (++in_->depth_ > in_->options_.limits.max_recursion_depth) {
      throw Error("maximum recursion depth exceeded (" + std::to_string(in_->options_.limits.max_recursion_depth) +
                      ")",
                  pos, StatusCode::kResourceExhausted);
    }
  }
  ~DepthScope() { --in_->depth_; }
  Interpreter* in_;
};

Interpreter::Interpreter(const RenderOptions& options) : options_(options) {
  globals_ = std::make_shared<Scope>();  // holds builtins only: no cycles
  InstallGlobals(*globals_, options_);
}

Interpreter::~Interpreter() {
  // Macros keep the scope they were defined in, and that scope holds the macro: a reference cycle
  // that shared_ptr alone never frees. Every scope dies with the render, so empty them all here.
  for (auto& weak : scopes_) {
    if (auto scope = weak.lock()) {
      scope->vars.clear();
      scope->parent.reset();
    }
  }
  for (auto& weak : namespaces_) {
    if (auto ns = weak.lock()) ns->items.clear();
  }
}

Interpreter::ScopePtr Interpreter::NewScope() {
  auto scope = std::make_shared<Scope>();
  if (scopes_.size() >= prune_at_) {  // forget scopes that are already gone (loop bodies, calls)
    std::erase_if(scopes_, [](const std::weak_ptr<Scope>& w) { return w.expired(); });
    prune_at_ = 2 * scopes_.size() + 64;
  }
  scopes_.push_back(scope);
  return scope;
}

void Interpreter::Step(int64_t n) {
  steps_ += n;
  if (steps_ > options_.limits.max_steps) {
    throw Error("template exceeded the step limit (" + std::to_string(options_.limits.max_steps) + ")", kNoPos,
                StatusCode::kResourceExhausted);
  }
}

void Interpreter::CheckSize(size_t bytes, size_t pos) {
  if (bytes > options_.limits.max_output_bytes) {
    throw Error("value of " + std::to_string(bytes) + " bytes exceeds the output limit (" +
                    std::to_string(options_.limits.max_output_bytes) + " bytes)",
                pos, StatusCode::kResourceExhausted);
  }
  Step(static_cast<int64_t>(bytes / 64));
}

void Interpreter::Append(std::string& out, std::string_view s) {
  if (out.size() + s.size() > options_.limits.max_output_bytes) {
    throw Error("rendered output exceeds the limit (" + std::to_string(options_.limits.max_output_bytes) + " bytes)",
                kNoPos, StatusCode::kResourceExhausted);
  }
  Step(static_cast<int64_t>(s.size() / 64));
  out.append(s);
}

std::string Interpreter::Run(const Body& body, const Value& context) {
  auto top = NewScope();
  top->parent = globals_;
  if (context.is_dict()) {
    for (const auto& kv : context.dict().items) {
      if (kv.first.is_string()) top->vars[kv.first.str()] = kv.second;
    }
  }
  std::string out;
  ExecBody(body, top, out);
  return out;
}

Interpreter::Flow Interpreter::ExecBody(const Body& body, const ScopePtr& scope, std::string& out) {
  for (const auto& s : body) {
    Flow f = Exec(*s, scope, out);
    if (f != Flow::kNormal) return f;
  }
  return Flow::kNormal;
}

Value Interpreter::ApplyFilters(const std::vector<FilterCall>& filters, Value v, const ScopePtr& scope) {
  for (const auto& f : filters) {
    CallArgs args;
    EvalArgs(f.args, 0, f.kwargs, scope, args);
    v = ApplyFilter(f.name, std::move(v), args, f.pos);
  }
  return v;
}

Interpreter::Flow Interpreter::Exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Step();
  pos_ = s.pos;
  try {
    switch (s.kind) {
      case Stmt::Kind::kData: Append(out, s.text); break;
      case Stmt::Kind::kOutput: {
        Value v = Eval(*s.expr, scope);
        Append(out, ToPyStr(v));
        break;
      }
      case Stmt::Kind::kIf: {
        for (size_t i = 0; i < s.conds.size(); ++i) {
          if (Eval(*s.conds[i], scope).Truthy()) return ExecBody(s.bodies[i], scope, out);
        }
        return ExecBody(s.else_body, scope, out);
      }
      case Stmt::Kind::kFor: ExecFor(s, scope, out); break;
      case Stmt::Kind::kSet: {
        Value v = Eval(*s.expr, scope);
        if (!s.attr.empty()) {
          const Value* ns = scope->Lookup(s.targets[0]);
          if (ns == nullptr || !ns->is_namespace()) {
            throw Error("cannot assign attribute on non-namespace object", s.pos);
          }
          ns->dict().Set(Value::String(s.attr), std::move(v));
        } else {
          Assign(s, scope, std::move(v));
        }
        break;
      }
      case Stmt::Kind::kSetBlock: {
        std::string buf;
        auto inner = NewScope();
        inner->parent = scope;
        ExecBody(s.body, inner, buf);
        Value v = ApplyFilters(s.filters, Value::String(std::move(buf)), scope);
        scope->vars[s.targets[0]] = std::move(v);
        break;
      }
      case Stmt::Kind::kMacro: scope->vars[s.name] = MakeMacro(s, scope); break;
      case Stmt::Kind::kCallBlock: {
        const Expr& call = *s.expr;
        Value callee = Eval(*call.args[0], scope);
        CallArgs args;
        EvalArgs(call.args, 1, call.kwargs, scope, args);
        args.keyword.emplace_back("caller", MakeMacro(s, scope));
        Value v = Call(callee, args, call.pos);
        Append(out, ToPyStr(v));
        break;
      }
      case Stmt::Kind::kFilterBlock: {
        std::string buf;
        auto inner = NewScope();
        inner->parent = scope;
        ExecBody(s.body, inner, buf);
        Value v = ApplyFilters(s.filters, Value::String(std::move(buf)), scope);
        Append(out, ToPyStr(v));
        break;
      }
      case Stmt::Kind::kBreak: return Flow::kBreak;
      case Stmt::Kind::kContinue: return Flow::kContinue;
      case Stmt::Kind::kScope: {
        auto inner = NewScope();
        inner->parent = scope;
        for (const auto& [name, expr] : s.assignments) inner->vars[name] = Eval(*expr, scope);
        return ExecBody(s.body, inner, out);
      }
    }
  } catch (Error& e) {
    if (e.pos == kNoPos) e.pos = s.pos;
    throw;
  }
  return Flow::kNormal;
}

void Interpreter::Assign(const Stmt& s, const ScopePtr& scope, Value v) {
  if (!s.unpack) {
    scope->vars[s.targets[0]] = std::move(v);
    return;
  }
  std::vector<Value> items;
  if (v.is_list()) {
    items = v.list();
  } else if (v.is_string()) {
    for (auto cp : SplitCodePoints(v.str())) items.push_back(Value::String(std::string(cp)));
  } else if (v.is_dict()) {
    for (const auto& kv : v.dict().items) items.push_back(kv.first);
  } else {
    throw Error(std::string("cannot unpack non-iterable ") + v.TypeName() + " object", s.pos);
  }
  if (items.size() != s.targets.size()) {
    throw Error(items.size() > s.targets.size()
                    ? "too many values to unpack (expected " + std::to_string(s.targets.size()) + ")"
                    : "not enough values to unpack (expected " + std::to_string(s.targets.size()) + ", got " +
                          std::to_string(items.size()) + ")",
                s.pos);
  }
  for (size_t i = 0; i < items.size(); ++i) scope->vars[s.targets[i]] = items[i];
}

void Interpreter::ExecFor(const Stmt& s, const ScopePtr& scope, std::string& out) {
  Value iterable = Eval(*s.expr, scope);
  std::vector<Value> items;
  switch (iterable.kind()) {
    case Value::Kind::kList: items = iterable.list(); break;
    case Value::Kind::kDict:
      for (const auto& kv : iterable.dict().items) items.push_back(kv.first);
      break;
    case Value::Kind::kString:
      for (auto cp : SplitCodePoints(iterable.str())) items.push_back(Value::String(std::string(cp)));
      break;
    case Value::Kind::kUndefined: break;
    default: throw Error(std::string("'") + iterable.TypeName() + "' object is not iterable", s.expr->pos);
  }
  if (s.cond) {
    std::vector<Value> kept;
    for (auto& item : items) {
      Step();
      auto fs = NewScope();
      fs->parent = scope;
      Assign(s, fs, item);
      if (Eval(*s.cond, fs).Truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const size_t n = items.size();
  if (n == 0) {
    ExecBody(s.else_body, scope, out);
    return;
  }
  // loop.cycle is one function per loop; it reads the current index through a shared cell.
  auto cycle_index = std::make_shared<size_t>(0);
  Value cycle = Value::MakeFunction("cycle", [cycle_index](Interpreter&, CallArgs& a) -> Value {
    if (a.positional.empty()) throw Error("no items for cycling given");
    return a.positional[*cycle_index % a.positional.size()];
  });
  for (size_t i = 0; i < n; ++i) {
    Step();
    auto it_scope = NewScope();
    it_scope->parent = scope;
    Value loop = Value::MakeDict();
    auto& li = loop.dict().items;
    li.reserve(12);
    auto put = [&li](const char* k, Value v) { li.emplace_back(Value::String(k), std::move(v)); };
    put("index", Value::Int(static_cast<int64_t>(i + 1)));
    put("index0", Value::Int(static_cast<int64_t>(i)));
    put("revindex", Value::Int(static_cast<int64_t>(n - i)));
    put("revindex0", Value::Int(static_cast<int64_t>(n - i - 1)));
    put("first", Value::Bool(i == 0));
    put("last", Value::Bool(i + 1 == n));
    put("length", Value::Int(static_cast<int64_t>(n)));
    put("depth", Value::Int(1));
    put("depth0", Value::Int(0));
    put("previtem", i > 0 ? items[i - 1] : Value::Undefined("there is no previous item"));
    put("nextitem", i + 1 < n ? items[i + 1] : Value::Undefined("there is no next item"));
    *cycle_index = i;
    put("cycle", cycle);
    it_scope->vars["loop"] = loop;
    Assign(s, it_scope, items[i]);
    Flow f = ExecBody(s.body, it_scope, out);
    if (f == Flow::kBreak) break;
  }
}

Value Interpreter::MakeMacro(const Stmt& s, const ScopePtr& scope) {
  const Stmt* stmt = &s;
  ScopePtr closure = scope;
  std::string name = s.kind == Stmt::Kind::kMacro ? s.name : "caller";
  return Value::MakeFunction(name, [this, stmt, closure, name](Interpreter&, CallArgs& args) -> Value {
    DepthScope depth(this, stmt->pos);
    auto ms = NewScope();
    ms->parent = closure;
    const auto& params = stmt->params;
    std::vector<Value> extra_pos;
    for (size_t i = 0; i < args.positional.size(); ++i) {
      if (i < params.size()) {
        ms->vars[params[i].name] = args.positional[i];
      } else {
        extra_pos.push_back(args.positional[i]);
      }
    }
    Value kwargs = Value::MakeDict();
    for (auto& [k, v] : args.keyword) {
      bool is_param = false;
      for (size_t i = 0; i < params.size(); ++i) {
        if (params[i].name == k) {
          if (i < args.positional.size()) {
            throw Error("macro '" + name + "' got multiple values for argument '" + k + "'");
          }
          is_param = true;
          ms->vars[k] = v;
        }
      }
      if (!is_param) {
        if (k == "caller") {
          ms->vars["caller"] = v;
        } else {
          kwargs.dict().Set(Value::String(k), v);
        }
      }
    }
    for (size_t i = args.positional.size(); i < params.size(); ++i) {
      if (ms->vars.count(params[i].name)) continue;
      if (params[i].default_value) {
        ms->vars[params[i].name] = Eval(*params[i].default_value, ms);
      } else {
        ms->vars[params[i].name] = Value::Undefined("parameter '" + params[i].name + "' was not provided");
      }
    }
    ms->vars["varargs"] = Value::MakeList(std::move(extra_pos), true);
    ms->vars["kwargs"] = kwargs;
    std::string buf;
    ExecBody(stmt->body, ms, buf);
    return Value::String(std::move(buf));
  });
}

void Interpreter::EvalArgs(const std::vector<ExprPtr>& args, size_t first, const KwArgs& kwargs,
                           const ScopePtr& scope, CallArgs& out) {
  for (size_t i = first; i < args.size(); ++i) out.positional.push_back(Eval(*args[i], scope));
  for (const auto& [k, v] : kwargs) out.keyword.emplace_back(k, Eval(*v, scope));
}

Value Interpreter::Call(const Value& callee, CallArgs& args, size_t pos) {
  if (callee.is_undefined()) FailUndefined(callee, pos);
  if (!callee.is_function()) throw Error(std::string("'") + callee.TypeName() + "' object is not callable", pos);
  DepthScope depth(this, pos);
  return callee.function().call(*this, args);
}

Value Interpreter::Eval(const Expr& e, const ScopePtr& scope) {
  Step();
  try {
    switch (e.kind) {
      case Expr::Kind::kLiteral: return e.literal;
      case Expr::Kind::kName: {
        const Value* v = scope->Lookup(e.name);
        if (v == nullptr) return Value::Undefined("'" + e.name + "' is undefined");
        return *v;
      }
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        Value::List items;
        for (const auto& a : e.args) items.push_back(Eval(*a, scope));
        return Value::MakeList(std::move(items), e.kind == Expr::Kind::kTuple);
      }
      case Expr::Kind::kDict: {
        Value d = Value::MakeDict();
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value k = Eval(*e.args[i], scope);
          if (k.is_list() && !k.is_tuple()) throw Error("unhashable type: 'list'", e.args[i]->pos);
          if (k.is_dict()) throw Error("unhashable type: 'dict'", e.args[i]->pos);
          d.dict().Set(k, Eval(*e.args[i + 1], scope));
        }
        return d;
      }
      case Expr::Kind::kGetAttr: return GetAttr(Eval(*e.args[0], scope), e.name, e.pos);
      case Expr::Kind::kGetItem: return GetItem(Eval(*e.args[0], scope), Eval(*e.args[1], scope), e.pos);
      case Expr::Kind::kSlice: {
        Value obj = Eval(*e.args[0], scope);
        Value parts[3];
        for (int i = 0; i < 3; ++i) parts[i] = e.args[1 + i] ? Eval(*e.args[1 + i], scope) : Value::None();
        return EvalSlice(obj, parts[0], parts[1], parts[2], e.pos);
      }
      case Expr::Kind::kCall: {
        Value callee = Eval(*e.args[0], scope);
        CallArgs args;
        EvalArgs(e.args, 1, e.kwargs, scope, args);
        return Call(callee, args, e.pos);
      }
      case Expr::Kind::kFilter: {
        Value input = Eval(*e.args[0], scope);
        CallArgs args;
        EvalArgs(e.filter.args, 0, e.filter.kwargs, scope, args);
        return ApplyFilter(e.filter.name, std::move(input), args, e.filter.pos);
      }
      case Expr::Kind::kTest: {
        Value input = Eval(*e.args[0], scope);
        CallArgs args;
        EvalArgs(e.args, 1, e.kwargs, scope, args);
        bool r = ApplyTest(e.name, input, args, e.pos);
        return Value::Bool(e.negated ? !r : r);
      }
      case Expr::Kind::kNeg:
      case Expr::Kind::kPos: {
        Value v = Eval(*e.args[0], scope);
        if (v.is_undefined()) FailUndefined(v, e.pos);
        if (!v.is_number()) {
          throw Error(std::string("bad operand type for unary ") + (e.kind == Expr::Kind::kNeg ? "-" : "+") + ": '" +
                          v.TypeName() + "'",
                      e.pos);
        }
        if (e.kind == Expr::Kind::kPos) return v.is_bool() ? Value::Int(v.as_int()) : v;
        if (v.is_float()) return Value::Float(-v.as_float());
        if (v.as_int() == std::numeric_limits<int64_t>::min()) throw Error("integer overflow", e.pos);
        return Value::Int(-v.as_int());
      }
      case Expr::Kind::kNot: return Value::Bool(!Eval(*e.args[0], scope).Truthy());
      case Expr::Kind::kAnd: {
        Value a = Eval(*e.args[0], scope);
        if (!a.Truthy()) return a;
        return Eval(*e.args[1], scope);
      }
      case Expr::Kind::kOr: {
        Value a = Eval(*e.args[0], scope);
        if (a.Truthy()) return a;
        return Eval(*e.args[1], scope);
      }
      case Expr::Kind::kBinary: {
        Value a = Eval(*e.args[0], scope);
        Value b = Eval(*e.args[1], scope);
        return EvalBinary(e, a, b);
      }
      case Expr::Kind::kCompare: {
        Value left = Eval(*e.args[0], scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = Eval(*e.args[i + 1], scope);
          if (!EvalCompare(e.ops[i], left, right, e.pos)) return Value::Bool(false);
          left = std::move(right);
        }
        return Value::Bool(true);
      }
      case Expr::Kind::kCondExpr: {
        if (Eval(*e.args[0], scope).Truthy()) return Eval(*e.args[1], scope);
        if (e.args[2]) return Eval(*e.args[2], scope);
        return Value::Undefined("the inline if-expression evaluated to false and no else section was defined");
      }
    }
  } catch (Error& err) {
    if (err.pos == kNoPos) err.pos = e.pos;
    throw;
  }
  return Value();
}

namespace {

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t PyMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

[[noreturn]] void FailOperands(const std::string& op, const Value& a, const Value& b, size_t pos) {
  throw Error("unsupported operand type(s) for " + op + ": '" + a.TypeName() + "' and '" + b.TypeName() + "'", pos);
}

}  // namespace

Value Interpreter::EvalBinary(const Expr& e, const Value& a, const Value& b) {
  const std::string& op = e.name;
  if (op == "~") {
    std::string s = ToPyStr(a);
    s += ToPyStr(b);
    CheckSize(s.size(), e.pos);
    return Value::String(std::move(s));
  }
  if (a.is_undefined()) FailUndefined(a, e.pos);
  if (b.is_undefined()) FailUndefined(b, e.pos);
  bool nums = a.is_number() && b.is_number();
  bool floats = nums && (a.is_float() || b.is_float());
  if (op == "+") {
    if (nums) {
      if (floats) return Value::Float(a.as_float() + b.as_float());
      int64_t r;
      if (__builtin_add_overflow(a.as_int(), b.as_int(), &r)) throw Error("integer overflow", e.pos);
      return Value::Int(r);
    }
    if (a.is_string() && b.is_string()) {
      CheckSize(a.str().size() + b.str().size(), e.pos);
      return Value::String(a.str() + b.str());
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      CheckSize((a.list().size() + b.list().size()) * sizeof(Value), e.pos);
      Value::List items = a.list();
      items.insert(items.end(), b.list().begin(), b.list().end());
      return Value::MakeList(std::move(items), a.is_tuple());
    }
    if (a.is_string() || b.is_string()) {
      if (a.is_string()) {
        throw Error(std::string("can only concatenate str (not \"") + b.TypeName() + "\") to str", e.pos);
      }
    }
    FailOperands("+", a, b, e.pos);
  }
  if (op == "-") {
    if (!nums) FailOperands("-", a, b, e.pos);
    if (floats) return Value::Float(a.as_float() - b.as_float());
    int64_t r;
    if (__builtin_sub_overflow(a.as_int(), b.as_int(), &r)) throw Error("integer overflow", e.pos);
    return Value::Int(r);
  }
  if (op == "*") {
    if (nums) {
      if (floats) return Value::Float(a.as_float() * b.as_float());
      int64_t r;
      if (__builtin_mul_overflow(a.as_int(), b.as_int(), &r)) throw Error("integer overflow", e.pos);
      return Value::Int(r);
    }
    const Value* seq = nullptr;
    const Value* count = nullptr;
    if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
      seq = &a;
      count = &b;
    } else if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) {
      seq = &b;
      count = &a;
    }
    if (seq == nullptr) FailOperands("*", a, b, e.pos);
    int64_t n = std::max<int64_t>(0, count->as_int());
    if (seq->is_string()) {
      size_t unit = seq->str().size();
      if (unit != 0 && static_cast<uint64_t>(n) > options_.limits.max_output_bytes / unit + 1) {
        CheckSize(options_.limits.max_output_bytes + 1, e.pos);
      }
      CheckSize(unit * static_cast<size_t>(n), e.pos);
      std::string s;
      s.reserve(unit * static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) s += seq->str();
      return Value::String(std::move(s));
    }
    size_t unit = seq->list().size() * sizeof(Value);
    if (unit != 0 && static_cast<uint64_t>(n) > options_.limits.max_output_bytes / unit + 1) {
      CheckSize(options_.limits.max_output_bytes + 1, e.pos);
    }
    CheckSize(unit * static_cast<size_t>(n), e.pos);
    Value::List items;
    for (int64_t i = 0; i < n; ++i) items.insert(items.end(), seq->list().begin(), seq->list().end());
    return Value::MakeList(std::move(items), seq->is_tuple());
  }
  if (op == "/") {
    if (!nums) FailOperands("/", a, b, e.pos);
    if (b.as_float() == 0.0) throw Error("division by zero", e.pos);
    return Value::Float(a.as_float() / b.as_float());
  }
  if (op == "//") {
    if (!nums) FailOperands("//", a, b, e.pos);
    if (floats) {
      if (b.as_float() == 0.0) throw Error("float floor division by zero", e.pos);
      return Value::Float(std::floor(a.as_float() / b.as_float()));
    }
    if (b.as_int() == 0) throw Error("integer division or modulo by zero", e.pos);
    if (a.as_int() == std::numeric_limits<int64_t>::min() && b.as_int() == -1) throw Error("integer overflow", e.pos);
    return Value::Int(FloorDiv(a.as_int(), b.as_int()));
  }
  if (op == "%") {
    if (a.is_string()) return Value::String(PyPercentFormat(*this, a.str(), b));
    if (!nums) FailOperands("%", a, b, e.pos);
    if (floats) {
      double y = b.as_float();
      if (y == 0.0) throw Error("float modulo", e.pos);
      double r = std::fmod(a.as_float(), y);
      if (r != 0 && ((r < 0) != (y < 0))) r += y;
      return Value::Float(r);
    }
    if (b.as_int() == 0) throw Error("integer division or modulo by zero", e.pos);
    if (b.as_int() == -1) return Value::Int(0);
    return Value::Int(PyMod(a.as_int(), b.as_int()));
  }
  if (op == "**") {
    if (!nums) FailOperands("** or pow()", a, b, e.pos);
    if (!floats && b.as_int() >= 0) {
      int64_t base = a.as_int(), exp = b.as_int(), r = 1;
      while (exp > 0) {
        if (exp & 1) {
          if (__builtin_mul_overflow(r, base, &r)) throw Error("integer overflow", e.pos);
        }
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base)) throw Error("integer overflow", e.pos);
      }
      return Value::Int(r);
    }
    if (a.as_float() == 0.0 && b.as_float() < 0) throw Error("0.0 cannot be raised to a negative power", e.pos);
    return Value::Float(std::pow(a.as_float(), b.as_float()));
  }
  throw Error("unknown operator " + op, e.pos);
}

bool Interpreter::EvalCompare(const std::string& op, const Value& a, const Value& b, size_t pos) {
  if (op == "==") return PyEquals(a, b);
  if (op == "!=") return !PyEquals(a, b);
  if (op == "in" || op == "notin") {
    bool found = false;
    if (b.is_string()) {
      if (a.is_undefined()) FailUndefined(a, pos);
      if (!a.is_string()) {
        throw Error(std::string("'in <string>' requires string as left operand, not ") + a.TypeName(), pos);
      }
      found = b.str().find(a.str()) != std::string::npos;
    } else if (b.is_list()) {
      for (const auto& x : b.list()) {
        if (PyEquals(a, x)) {
          found = true;
          break;
        }
      }
    } else if (b.is_dict()) {
      found = b.dict().Find(a) != nullptr;
    } else if (b.is_undefined()) {
      found = false;
    } else {
      throw Error(std::string("argument of type '") + b.TypeName() + "' is not iterable", pos);
    }
    return op == "in" ? found : !found;
  }
  if (a.is_undefined()) FailUndefined(a, pos);
  if (b.is_undefined()) FailUndefined(b, pos);
  auto check = [&](const Value& x, const Value& y) {
    bool ok = (x.is_number() && y.is_number()) || (x.is_string() && y.is_string()) ||
              (x.is_list() && y.is_list() && x.is_tuple() == y.is_tuple());
    if (!ok) {
      throw Error("'" + op + "' not supported between instances of '" + x.TypeName() + "' and '" + y.TypeName() + "'",
                  pos);
    }
  };
  check(a, b);
  if (op == "<") return PyLess(a, b);
  if (op == ">") return PyLess(b, a);
  if (op == "<=") return !PyLess(b, a);
  if (op == ">=") return !PyLess(a, b);
  throw Error("unknown comparison " + op, pos);
}

namespace {

// Python slice.indices(): normalises start/stop/step for a sequence of length n.
void SliceIndices(int64_t n, const Value& start, const Value& stop, const Value& step, int64_t& lo, int64_t& hi,
                  int64_t& st, size_t pos) {
  auto as_index = [&](const Value& v) -> int64_t {
    if (v.is_int() || v.is_bool()) return v.as_int();
    throw Error("slice indices must be integers or None", pos);
  };
  st = step.is_none() ? 1 : as_index(step);
  if (st == 0) throw Error("slice step cannot be zero", pos);
  if (st > 0) {
    lo = start.is_none() ? 0 : as_index(start);
    hi = stop.is_none() ? n : as_index(stop);
    if (lo < 0) lo = std::max<int64_t>(0, lo + n);
    if (hi < 0) hi = std::max<int64_t>(0, hi + n);
    lo = std::min(lo, n);
    hi = std::min(hi, n);
  } else {
    lo = start.is_none() ? n - 1 : as_index(start);
    hi = stop.is_none() ? -1 : as_index(stop);
    if (!start.is_none()) {
      if (lo < 0) lo = std::max<int64_t>(-1, lo + n);
      lo = std::min(lo, n - 1);
    }
    if (!stop.is_none()) {
      if (hi < 0) hi = std::max<int64_t>(-1, hi + n);
      hi = std::min(hi, n - 1);
    }
  }
}

}  // namespace

Value Interpreter::EvalSlice(const Value& obj, const Value& start, const Value& stop, const Value& step, size_t pos) {
  if (obj.is_undefined()) FailUndefined(obj, pos);
  std::vector<std::string_view> cps;
  int64_t n;
  if (obj.is_string()) {
    cps = SplitCodePoints(obj.str());
    n = static_cast<int64_t>(cps.size());
  } else if (obj.is_list()) {
    n = static_cast<int64_t>(obj.list().size());
  } else {
    throw Error(std::string("'") + obj.TypeName() + "' object is not subscriptable", pos);
  }
  int64_t lo, hi, st;
  SliceIndices(n, start, stop, step, lo, hi, st, pos);
  std::vector<int64_t> idx;
  if (st > 0) {
    for (int64_t i = lo; i < hi; i += st) idx.push_back(i);
  } else {
    for (int64_t i = lo; i > hi; i += st) idx.push_back(i);
  }
  Step(static_cast<int64_t>(idx.size() / 16));
  if (obj.is_string()) {
    std::string s;
    for (int64_t i : idx) s += cps[static_cast<size_t>(i)];
    return Value::String(std::move(s));
  }
  Value::List items;
  for (int64_t i : idx) items.push_back(obj.list()[static_cast<size_t>(i)]);
  return Value::MakeList(std::move(items), obj.is_tuple());
}

Value Interpreter::GetItem(const Value& obj, const Value& key, size_t pos) {
  switch (obj.kind()) {
    case Value::Kind::kUndefined: FailUndefined(obj, pos);
    case Value::Kind::kList: {
      if (key.is_int() || key.is_bool()) {
        int64_t n = static_cast<int64_t>(obj.list().size());
        int64_t i = key.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::Undefined(std::string(obj.TypeName()) + " object has no element " + ToPyStr(key));
        return obj.list()[static_cast<size_t>(i)];
      }
      break;
    }
    case Value::Kind::kString: {
      if (key.is_int() || key.is_bool()) {
        auto cps = SplitCodePoints(obj.str());
        int64_t n = static_cast<int64_t>(cps.size());
        int64_t i = key.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value::Undefined("str object has no element " + ToPyStr(key));
        return Value::String(std::string(cps[static_cast<size_t>(i)]));
      }
      break;
    }
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      if (const Value* v = obj.dict().Find(key)) return *v;
      break;
    }
    default: break;
  }
  if (key.is_string()) {
    Value attr = GetAttr(obj, key.str(), pos);
    if (!attr.is_undefined()) return attr;
  }
  return Value::Undefined("'" + std::string(obj.TypeName()) + " object' has no attribute " + ToPyRepr(key));
}

}  // namespace lfm::jinja
