// Syntax tree of a parsed template. Every node keeps the byte offset it came from, so errors at
// render time name a line and column.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace lfm::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;
using KwArgs = std::vector<std::pair<std::string, ExprPtr>>;

struct FilterCall {
  std::string name;
  std::vector<ExprPtr> args;
  KwArgs kwargs;
  size_t pos = 0;
};

struct Expr {
  enum class Kind {
    kLiteral,   // literal
    kName,      // name
    kList,      // args
    kTuple,     // args
    kDict,      // args = k0, v0, k1, v1, ...
    kGetAttr,   // args[0] . name
    kGetItem,   // args[0] [ args[1] ]
    kSlice,     // args[0] [ args[1] : args[2] : args[3] ] (null parts allowed)
    kCall,      // args[0] ( args[1..] , kwargs )
    kFilter,    // args[0] | filter
    kTest,      // args[0] is [not] name(args[1..], kwargs)
    kNeg,       // - args[0]
    kPos,       // + args[0]
    kNot,       // not args[0]
    kBinary,    // args[0] name args[1]: + - * / // % ** ~
    kAnd,
    kOr,
    kCompare,   // args[0] ops[0] args[1] ops[1] args[2] ...
    kCondExpr,  // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind;
  size_t pos = 0;
  Value literal;
  std::string name;
  std::vector<ExprPtr> args;
  KwArgs kwargs;
  std::vector<std::string> ops;
  FilterCall filter;
  bool negated = false;
};

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  enum class Kind {
    kData,         // text
    kOutput,       // expr
    kIf,           // conds[i] -> bodies[i]; else_body
    kFor,          // targets in expr [if cond]; body; else_body
    kSet,          // targets = expr   (or name.attr = expr when attr is set)
    kSetBlock,     // targets[0] = filters(body)
    kMacro,        // name(params) body
    kCallBlock,    // expr (a call) with caller(params) = body
    kFilterBlock,  // filters(body)
    kBreak,
    kContinue,
    kScope,        // body in a new scope (with, generation)
  };
  Kind kind;
  size_t pos = 0;
  std::string text;
  std::string name;
  std::string attr;
  std::vector<std::string> targets;
  bool unpack = false;  // targets written as a tuple: a, b
  ExprPtr expr;
  ExprPtr cond;
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  Body body;
  Body else_body;
  std::vector<MacroParam> params;
  std::vector<FilterCall> filters;
  // kScope from `with`: assignments made when entering the scope.
  std::vector<std::pair<std::string, ExprPtr>> assignments;
};

}  // namespace lfm::jinja
