// Tree-walking evaluator for a parsed template (internal to the engine).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "text/jinja/ast.h"
#include "text/jinja/error.h"
#include "text/jinja/template.h"
#include "text/jinja/value.h"

namespace lfm::jinja {

struct Scope {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;
  const Value* Lookup(const std::string& name) const;
};

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options);
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Renders `body` with `context` (a dict) as the template's variables.
  std::string Run(const Body& body, const Value& context);

  // --- used by builtins ---
  // A namespace made by this render; emptied when the render ends (`{% set ns.me = ns %}` is a
  // reference cycle, and namespaces never outlive the render that made them).
  void AdoptNamespace(const Value& ns) { namespaces_.push_back(ns.WeakDict()); }
  const RenderOptions& options() const { return options_; }
  // Counts work; throws ResourceExhausted past max_steps.
  void Step(int64_t n = 1);
  // Throws ResourceExhausted if a string or list of this size would pass the limit.
  void CheckSize(size_t bytes, size_t pos);
  size_t current_pos() const { return pos_; }
  // Calls a callable value (macro, global function, bound method).
  Value Call(const Value& callee, CallArgs& args, size_t pos);
  Value ApplyFilter(const std::string& name, Value input, CallArgs& args, size_t pos);
  bool ApplyTest(const std::string& name, const Value& input, CallArgs& args, size_t pos);
  Value GetAttr(const Value& obj, const std::string& name, size_t pos);
  Value GetItem(const Value& obj, const Value& key, size_t pos);

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using ScopePtr = std::shared_ptr<Scope>;

  Flow ExecBody(const Body& body, const ScopePtr& scope, std::string& out);
  Flow Exec(const Stmt& s, const ScopePtr& scope, std::string& out);
  void ExecFor(const Stmt& s, const ScopePtr& scope, std::string& out);
  void Assign(const Stmt& s, const ScopePtr& scope, Value v);
  Value MakeMacro(const Stmt& s, const ScopePtr& scope);
  Value Eval(const Expr& e, const ScopePtr& scope);
  Value EvalBinary(const Expr& e, const Value& a, const Value& b);
  bool EvalCompare(const std::string& op, const Value& a, const Value& b, size_t pos);
  Value EvalSlice(const Value& obj, const Value& start, const Value& stop, const Value& step, size_t pos);
  void EvalArgs(const std::vector<ExprPtr>& args, size_t first, const KwArgs& kwargs, const ScopePtr& scope,
                CallArgs& out);
  Value ApplyFilters(const std::vector<FilterCall>& filters, Value v, const ScopePtr& scope);
  void Append(std::string& out, std::string_view s);

  RenderOptions options_;
  int64_t steps_ = 0;
  int depth_ = 0;
  size_t pos_ = 0;
  ScopePtr globals_;
  // Every scope of this render (see ~Interpreter).
  ScopePtr NewScope();
  std::vector<std::weak_ptr<Scope>> scopes_;
  std::vector<std::weak_ptr<Value::Dict>> namespaces_;
  size_t prune_at_ = 64;

  friend struct DepthScope;
};

// Throws an error about using an undefined value (its hint says which name or attribute).
[[noreturn]] void FailUndefined(const Value& v, size_t pos);

// Builtins (builtins.cpp).
void InstallGlobals(Scope& globals, const RenderOptions& options);
bool HasFilter(const std::string& name);
bool HasTest(const std::string& name);
// Python's %-formatting of `fmt % args` for %s/%d/%r/%f basics.
std::string PyPercentFormat(Interpreter& in, const std::string& fmt, const Value& args);
// JSON dump with Python's options (builtins / json_dump.cpp).
std::string JsonDumps(const Value& v, const std::string* indent, const std::string& item_sep,
                      const std::string& key_sep, bool sort_keys);
std::string JsonDumpsAscii(const Value& v, const std::string* indent, const std::string& item_sep,
                           const std::string& key_sep, bool sort_keys, bool ensure_ascii);

}  // namespace lfm::jinja
