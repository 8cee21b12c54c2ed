#include "text/jinja/parser.h"

#include <initializer_list>

#include "text/jinja/error.h"

namespace lfm::jinja {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& t, int max_depth) : t_(t), max_depth_(max_depth) {}

  Body ParseAll() {
    std::string end;
    Body body = ParseBody({}, &end);
    if (cur().type != TokenType::kEof) Fail("unexpected token", cur().pos);
    return body;
  }

 private:
  // --- token helpers ---
  const Token& cur() const { return t_[i_]; }
  const Token& peek(size_t k = 1) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  void next() {
    if (i_ + 1 < t_.size()) ++i_;
  }
  bool IsOp(const char* op) const { return cur().type == TokenType::kOp && cur().text == op; }
  bool IsName(const char* name) const { return cur().type == TokenType::kName && cur().text == name; }
  bool SkipOp(const char* op) {
    if (!IsOp(op)) return false;
    next();
    return true;
  }
  bool SkipName(const char* name) {
    if (!IsName(name)) return false;
    next();
    return true;
  }
  void ExpectOp(const char* op) {
    if (!SkipOp(op)) Fail(std::string("expected '") + op + "', got " + Describe(cur()), cur().pos);
  }
  std::string ExpectName() {
    if (cur().type != TokenType::kName) Fail("expected a name, got " + Describe(cur()), cur().pos);
    std::string s = cur().text;
    next();
    return s;
  }
  void ExpectBlockEnd() {
    if (cur().type != TokenType::kBlockEnd) Fail("expected end of statement block, got " + Describe(cur()), cur().pos);
    next();
  }
  static std::string Describe(const Token& t) {
    switch (t.type) {
      case TokenType::kEof: return "end of template";
      case TokenType::kBlockEnd: return "end of statement block";
      case TokenType::kVarEnd: return "end of print statement";
      case TokenType::kData: return "template data";
      case TokenType::kString: return "string literal";
      default: return "'" + t.text + "'";
    }
  }

  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) {
      if (++p_->depth_ > p_->max_depth_) Fail("template nesting too deep", p_->cur().pos);
    }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };

  static ExprPtr Make(Expr::Kind k, size_t pos) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->pos = pos;
    return e;
  }

  // --- statements ---
  // Parses statements until a block tag whose first name is in `ends` (left unconsumed past the name).
  Body ParseBody(std::initializer_list<const char*> ends, std::string* which) {
    DepthGuard guard(this);
    Body body;
    while (true) {
      const Token& t = cur();
      if (t.type == TokenType::kEof) {
        if (ends.size() != 0) {
          std::string list;
          for (const char* e : ends) list += std::string(list.empty() ? "" : " or ") + "'" + e + "'";
          Fail("unexpected end of template, expected " + list, t.pos);
        }
        return body;
      }
      if (t.type == TokenType::kData) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kData;
        s->pos = t.pos;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == TokenType::kVarBegin) {
        size_t pos = t.pos;
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->pos = pos;
        s->expr = ParseTuple(true);
        if (cur().type != TokenType::kVarEnd) Fail("expected end of print statement, got " + Describe(cur()), cur().pos);
        next();
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        const Token& name = peek();
        if (name.type != TokenType::kName) Fail("tag name expected", name.pos);
        for (const char* e : ends) {
          if (name.text == e) {
            next();
            next();
            *which = name.text;
            return body;
          }
        }
        if (ends.size() != 0 && (name.text.rfind("end", 0) == 0 || name.text == "elif" || name.text == "else")) {
          std::string list;
          for (const char* e : ends) list += std::string(list.empty() ? "" : " or ") + "'" + e + "'";
          Fail("Encountered unknown tag '" + name.text + "'; expected " + list, name.pos);
        }
        next();
        body.push_back(ParseStatement());
      } else {
        Fail("unexpected " + Describe(t), t.pos);
      }
    }
  }

  StmtPtr ParseStatement() {
    const Token& t = cur();
    std::string kw = t.text;
    size_t pos = t.pos;
    next();
    auto s = std::make_unique<Stmt>();
    s->pos = pos;
    std::string which;
    if (kw == "if") {
      s->kind = Stmt::Kind::kIf;
      s->conds.push_back(ParseExpression(true));
      ExpectBlockEnd();
      while (true) {
        s->bodies.push_back(ParseBody({"elif", "else", "endif"}, &which));
        if (which == "elif") {
          s->conds.push_back(ParseExpression(true));
          ExpectBlockEnd();
          continue;
        }
        if (which == "else") {
          ExpectBlockEnd();
          s->else_body = ParseBody({"endif"}, &which);
        }
        ExpectBlockEnd();
        break;
      }
    } else if (kw == "for") {
      s->kind = Stmt::Kind::kFor;
      ParseTargets(s.get());
      if (!SkipName("in")) Fail("expected 'in', got " + Describe(cur()), cur().pos);
      s->expr = ParseTuple(false);
      if (SkipName("if")) s->cond = ParseExpression(true);
      if (IsName("recursive")) Fail("recursive for loops are not supported", cur().pos);
      ExpectBlockEnd();
      ++loop_depth_;
      s->body = ParseBody({"endfor", "else"}, &which);
      --loop_depth_;
      if (which == "else") {
        ExpectBlockEnd();
        s->else_body = ParseBody({"endfor"}, &which);
      }
      ExpectBlockEnd();
    } else if (kw == "set") {
      // set name = expr | set a, b = expr | set ns.attr = expr | set name [| filters] %}...{% endset
      std::string first = ExpectName();
      if (SkipOp(".")) {
        s->kind = Stmt::Kind::kSet;
        s->targets.push_back(first);
        s->attr = ExpectName();
        ExpectOp("=");
        s->expr = ParseTuple(true);
        ExpectBlockEnd();
      } else {
        s->targets.push_back(first);
        while (SkipOp(",")) {
          s->unpack = true;
          if (cur().type != TokenType::kName) break;
          s->targets.push_back(ExpectName());
        }
        if (SkipOp("=")) {
          s->kind = Stmt::Kind::kSet;
          s->expr = ParseTuple(true);
          ExpectBlockEnd();
        } else {
          if (s->unpack) Fail("expected '='", cur().pos);
          s->kind = Stmt::Kind::kSetBlock;
          while (SkipOp("|")) s->filters.push_back(ParseFilterCall());
          ExpectBlockEnd();
          s->body = ParseBody({"endset"}, &which);
          ExpectBlockEnd();
        }
      }
    } else if (kw == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->name = ExpectName();
      ParseParams(s.get());
      ExpectBlockEnd();
      s->body = ParseBody({"endmacro"}, &which);
      if (cur().type == TokenType::kName) next();  // {% endmacro name %}
      ExpectBlockEnd();
    } else if (kw == "call") {
      s->kind = Stmt::Kind::kCallBlock;
      if (IsOp("(")) ParseParams(s.get());
      s->expr = ParseExpression(true);
      if (s->expr->kind != Expr::Kind::kCall) Fail("expected a call after 'call'", pos);
      ExpectBlockEnd();
      s->body = ParseBody({"endcall"}, &which);
      ExpectBlockEnd();
    } else if (kw == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      s->filters.push_back(ParseFilterCall());
      while (SkipOp("|")) s->filters.push_back(ParseFilterCall());
      ExpectBlockEnd();
      s->body = ParseBody({"endfilter"}, &which);
      ExpectBlockEnd();
    } else if (kw == "break" || kw == "continue") {
      if (loop_depth_ == 0) Fail("'" + kw + "' outside of a loop", pos);
      s->kind = kw == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      ExpectBlockEnd();
    } else if (kw == "generation") {
      // transformers' AssistantTracker extension: marks assistant text, renders its body unchanged.
      s->kind = Stmt::Kind::kScope;
      s->name = "generation";
      ExpectBlockEnd();
      s->body = ParseBody({"endgeneration"}, &which);
      ExpectBlockEnd();
    } else if (kw == "with") {
      s->kind = Stmt::Kind::kScope;
      while (cur().type != TokenType::kBlockEnd) {
        if (!s->assignments.empty()) ExpectOp(",");
        std::string name = ExpectName();
        ExpectOp("=");
        s->assignments.emplace_back(name, ParseExpression(true));
      }
      ExpectBlockEnd();
      s->body = ParseBody({"endwith"}, &which);
      ExpectBlockEnd();
    } else if (kw == "autoescape") {
      s->kind = Stmt::Kind::kScope;
      ParseExpression(true);
      ExpectBlockEnd();
      s->body = ParseBody({"endautoescape"}, &which);
      ExpectBlockEnd();
    } else {
      Fail("Encountered unknown tag '" + kw + "'", pos);
    }
    return s;
  }

  void ParseTargets(Stmt* s) {
    bool paren = SkipOp("(");
    s->targets.push_back(ExpectName());
    while (SkipOp(",")) {
      s->unpack = true;
      if (cur().type != TokenType::kName) break;
      s->targets.push_back(ExpectName());
    }
    if (paren) {
      s->unpack = true;
      ExpectOp(")");
    }
  }

  void ParseParams(Stmt* s) {
    ExpectOp("(");
    while (!IsOp(")")) {
      if (!s->params.empty()) ExpectOp(",");
      if (IsOp(")")) break;
      MacroParam p;
      p.name = ExpectName();
      if (SkipOp("=")) p.default_value = ParseExpression(true);
      s->params.push_back(std::move(p));
    }
    ExpectOp(")");
  }

  FilterCall ParseFilterCall() {
    FilterCall f;
    f.pos = cur().pos;
    f.name = ExpectName();
    while (SkipOp(".")) f.name += "." + ExpectName();
    if (IsOp("(")) ParseCallArgs(&f.args, &f.kwargs);
    return f;
  }

  // --- expressions ---
  ExprPtr ParseTuple(bool with_condexpr) {
    size_t pos = cur().pos;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) {
        if (!SkipOp(",")) break;
        is_tuple = true;
        if (cur().type == TokenType::kBlockEnd || cur().type == TokenType::kVarEnd || IsOp(")")) break;
        if (IsName("if") && !with_condexpr) break;
      }
      items.push_back(with_condexpr ? ParseExpression(true) : ParseOr());
      if (!with_condexpr && IsName("if")) break;
      if (IsName("recursive")) break;
    }
    if (!is_tuple) return std::move(items[0]);
    auto e = Make(Expr::Kind::kTuple, pos);
    e->args = std::move(items);
    return e;
  }

  ExprPtr ParseExpression(bool with_condexpr) {
    DepthGuard guard(this);
    if (!with_condexpr) return ParseOr();
    ExprPtr expr = ParseOr();
    while (IsName("if")) {
      size_t pos = cur().pos;
      next();
      auto c = Make(Expr::Kind::kCondExpr, pos);
      c->args.push_back(ParseOr());
      c->args.push_back(std::move(expr));
      if (SkipName("else")) {
        c->args.push_back(ParseExpression(true));
      } else {
        c->args.push_back(nullptr);
      }
      expr = std::move(c);
    }
    return expr;
  }

  ExprPtr ParseOr() {
    ExprPtr left = ParseAnd();
    while (IsName("or")) {
      size_t pos = cur().pos;
      next();
      auto e = Make(Expr::Kind::kOr, pos);
      e->args.push_back(std::move(left));
      e->args.push_back(ParseAnd());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseAnd() {
    ExprPtr left = ParseNot();
    while (IsName("and")) {
      size_t pos = cur().pos;
      next();
      auto e = Make(Expr::Kind::kAnd, pos);
      e->args.push_back(std::move(left));
      e->args.push_back(ParseNot());
      left = std::move(e);
    }
    return left;
  }

  ExprPtr ParseNot() {
    DepthGuard guard(this);
    if (IsName("not")) {
      size_t pos = cur().pos;
      next();
      auto e = Make(Expr::Kind::kNot, pos);
      e->args.push_back(ParseNot());
      return e;
    }
    return ParseCompare();
  }

  ExprPtr ParseCompare() {
    size_t pos = cur().pos;
    ExprPtr first = ParseMath1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOp &&
          (cur().text == "==" || cur().text == "!=" || cur().text == "<" || cur().text == ">" ||
           cur().text == "<=" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (IsName("in")) {
        op = "in";
        next();
      } else if (IsName("not") && peek().type == TokenType::kName && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(ParseMath1());
    }
    if (ops.empty()) return first;
    auto e = Make(Expr::Kind::kCompare, pos);
    e->args.push_back(std::move(first));
    for (auto& o : operands) e->args.push_back(std::move(o));
    e->ops = std::move(ops);
    return e;
  }

  ExprPtr Binary(const std::string& op, ExprPtr l, ExprPtr r, size_t pos) {
    auto e = Make(Expr::Kind::kBinary, pos);
    e->name = op;
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  ExprPtr ParseMath1() {
    ExprPtr left = ParseConcat();
    while (IsOp("+") || IsOp("-")) {
      std::string op = cur().text;
      size_t pos = cur().pos;
      next();
      left = Binary(op, std::move(left), ParseConcat(), pos);
    }
    return left;
  }

  ExprPtr ParseConcat() {
    ExprPtr left = ParseMath2();
    while (IsOp("~")) {
      size_t pos = cur().pos;
      next();
      left = Binary("~", std::move(left), ParseMath2(), pos);
    }
    return left;
  }

  ExprPtr ParseMath2() {
    ExprPtr left = ParsePow();
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      std::string op = cur().text;
      size_t pos = cur().pos;
      next();
      left = Binary(op, std::move(left), ParsePow(), pos);
    }
    return left;
  }

  ExprPtr ParsePow() {
    ExprPtr left = ParseUnary(true);
    while (IsOp("**")) {
      size_t pos = cur().pos;
      next();
      left = Binary("**", std::move(left), ParseUnary(true), pos);
    }
    return left;
  }

  ExprPtr ParseUnary(bool with_filter) {
    DepthGuard guard(this);
    size_t pos = cur().pos;
    ExprPtr node;
    if (SkipOp("-")) {
      node = Make(Expr::Kind::kNeg, pos);
      node->args.push_back(ParseUnary(false));
    } else if (SkipOp("+")) {
      node = Make(Expr::Kind::kPos, pos);
      node->args.push_back(ParseUnary(false));
    } else {
      node = ParsePrimary();
    }
    node = ParsePostfix(std::move(node));
    if (with_filter) node = ParseFilterExpr(std::move(node));
    return node;
  }

  ExprPtr ParsePrimary() {
    const Token& t = cur();
    size_t pos = t.pos;
    switch (t.type) {
      case TokenType::kName: {
        auto e = Make(Expr::Kind::kLiteral, pos);
        if (t.text == "true" || t.text == "True") {
          e->literal = Value::Bool(true);
        } else if (t.text == "false" || t.text == "False") {
          e->literal = Value::Bool(false);
        } else if (t.text == "none" || t.text == "None") {
          e->literal = Value::None();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = t.text;
        }
        next();
        return e;
      }
      case TokenType::kString: {
        std::string s;
        while (cur().type == TokenType::kString) {
          s += cur().text;
          next();
        }
        auto e = Make(Expr::Kind::kLiteral, pos);
        e->literal = Value::String(std::move(s));
        return e;
      }
      case TokenType::kInt: {
        auto e = Make(Expr::Kind::kLiteral, pos);
        e->literal = Value::Int(t.int_value);
        next();
        return e;
      }
      case TokenType::kFloat: {
        auto e = Make(Expr::Kind::kLiteral, pos);
        e->literal = Value::Float(t.float_value);
        next();
        return e;
      }
      case TokenType::kOp:
        if (t.text == "(") {
          next();
          if (SkipOp(")")) return Make(Expr::Kind::kTuple, pos);
          ExprPtr inner = ParseTuple(true);
          ExpectOp(")");
          return inner;
        }
        if (t.text == "[") {
          next();
          auto e = Make(Expr::Kind::kList, pos);
          while (!IsOp("]")) {
            if (!e->args.empty()) {
              ExpectOp(",");
              if (IsOp("]")) break;
            }
            e->args.push_back(ParseExpression(true));
          }
          ExpectOp("]");
          return e;
        }
        if (t.text == "{") {
          next();
          auto e = Make(Expr::Kind::kDict, pos);
          while (!IsOp("}")) {
            if (!e->args.empty()) {
              ExpectOp(",");
              if (IsOp("}")) break;
            }
            e->args.push_back(ParseExpression(true));
            ExpectOp(":");
            e->args.push_back(ParseExpression(true));
          }
          ExpectOp("}");
          return e;
        }
        break;
      default: break;
    }
    Fail("unexpected " + Describe(t), pos);
  }

  ExprPtr ParsePostfix(ExprPtr node) {
    while (true) {
      size_t pos = cur().pos;
      if (SkipOp(".")) {
        auto e = Make(Expr::Kind::kGetAttr, pos);
        if (cur().type == TokenType::kName) {
          e->name = cur().text;
        } else if (cur().type == TokenType::kInt) {
          e->kind = Expr::Kind::kGetItem;
          auto lit = Make(Expr::Kind::kLiteral, cur().pos);
          lit->literal = Value::Int(cur().int_value);
          e->args.push_back(std::move(node));
          e->args.push_back(std::move(lit));
          next();
          node = std::move(e);
          continue;
        } else {
          Fail("expected name or number after '.'", cur().pos);
        }
        next();
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (SkipOp("[")) {
        node = ParseSubscript(std::move(node), pos);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  ExprPtr ParseSubscript(ExprPtr node, size_t pos) {
    // [expr] or [a:b:c]; a comma makes a tuple index.
    std::vector<ExprPtr> parts(3);
    bool slice = false;
    if (!IsOp(":")) parts[0] = ParseExpression(true);
    if (SkipOp(":")) {
      slice = true;
      if (!IsOp("]") && !IsOp(":")) parts[1] = ParseExpression(true);
      if (SkipOp(":")) {
        if (!IsOp("]")) parts[2] = ParseExpression(true);
      }
    } else if (IsOp(",")) {
      auto tup = Make(Expr::Kind::kTuple, pos);
      tup->args.push_back(std::move(parts[0]));
      while (SkipOp(",")) {
        if (IsOp("]")) break;
        tup->args.push_back(ParseExpression(true));
      }
      parts[0] = std::move(tup);
    }
    ExpectOp("]");
    auto e = Make(slice ? Expr::Kind::kSlice : Expr::Kind::kGetItem, pos);
    e->args.push_back(std::move(node));
    if (slice) {
      for (auto& p : parts) e->args.push_back(std::move(p));
    } else {
      e->args.push_back(std::move(parts[0]));
    }
    return e;
  }

  void ParseCallArgs(std::vector<ExprPtr>* args, KwArgs* kwargs) {
    ExpectOp("(");
    bool first = true;
    while (!IsOp(")")) {
      if (!first) {
        ExpectOp(",");
        if (IsOp(")")) break;
      }
      first = false;
      if (cur().type == TokenType::kName && peek().type == TokenType::kOp && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        kwargs->emplace_back(key, ParseExpression(true));
      } else {
        if (!kwargs->empty()) Fail("positional argument follows keyword argument", cur().pos);
        args->push_back(ParseExpression(true));
      }
    }
    ExpectOp(")");
  }

  ExprPtr ParseCall(ExprPtr callee) {
    auto e = Make(Expr::Kind::kCall, cur().pos);
    e->args.push_back(std::move(callee));
    std::vector<ExprPtr> args;
    ParseCallArgs(&args, &e->kwargs);
    for (auto& a : args) e->args.push_back(std::move(a));
    return e;
  }

  ExprPtr ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (IsOp("|")) {
        size_t pos = cur().pos;
        next();
        auto e = Make(Expr::Kind::kFilter, pos);
        e->filter = ParseFilterCall();
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (IsName("is")) {
        size_t pos = cur().pos;
        next();
        auto e = Make(Expr::Kind::kTest, pos);
        if (SkipName("not")) e->negated = true;
        e->name = ExpectName();
        while (SkipOp(".")) e->name += "." + ExpectName();
        e->args.push_back(std::move(node));
        const Token& c = cur();
        if (IsOp("(")) {
          std::vector<ExprPtr> args;
          ParseCallArgs(&args, &e->kwargs);
          for (auto& a : args) e->args.push_back(std::move(a));
        } else if ((c.type == TokenType::kName || c.type == TokenType::kString || c.type == TokenType::kInt ||
                    c.type == TokenType::kFloat || IsOp("[") || IsOp("{")) &&
                   !(c.type == TokenType::kName && (c.text == "else" || c.text == "or" || c.text == "and"))) {
          if (IsName("is")) Fail("You cannot chain multiple tests with is", c.pos);
          e->args.push_back(ParsePostfix(ParsePrimary()));
        }
        node = std::move(e);
      } else if (IsOp("(")) {
        node = ParseCall(std::move(node));
      } else {
        return node;
      }
    }
  }

  const std::vector<Token>& t_;
  size_t i_ = 0;
  int depth_ = 0;
  int max_depth_;
  int loop_depth_ = 0;
};

}  // namespace

Body ParseTemplate(const std::vector<Token>& tokens, int max_depth) { return Parser(tokens, max_depth).ParseAll(); }

}  // namespace lfm::jinja
