// Grammar::FromLark: the llguidance Lark dialect (a subset of Python Lark).
//   rule: a b | "lit" /re/i TERM (x)? [y] z* w+ v{2,3} u~1..4 -> alias
//   TERM: terminals compile to one regex (no recursion); "a".."z" ranges; /regex/flags
//   %ignore X   %import common.NAME [-> ALIAS]   %import common (A, B)   // and # comments
// Start symbol: `start`. Lexing is greedy with contextual (per Earley row) lexeme sets.
// Not supported (refused with line:column): special tokens <|...|> / <[id]>, templates, %declare,
// %override, %json, %llguidance, lexeme attributes, regex lookarounds. Rule and terminal priorities
// (name.N) are accepted and ignored: they do not change the language.
#include <cctype>
#include <map>
#include <memory>
#include <set>

#include "grammar/cfg.h"
#include "grammar/grammar.h"
#include "grammar/regex_compiler.h"

namespace lfm {

namespace {

using grammar::Cfg;
using grammar::NtSym;
using grammar::RxId;

// Lark's `common` library (names from lark/grammars/common.lark; definitions written for our regex engine).
constexpr const char* kCommonLark = R"LARK(
DIGIT: "0".."9"
HEXDIGIT: "a".."f"|"A".."F"|DIGIT
INT: DIGIT+
SIGNED_INT: ["+"|"-"] INT
DECIMAL: INT "." INT? | "." INT
_EXP: ("e"|"E") SIGNED_INT
FLOAT: INT _EXP | DECIMAL _EXP?
SIGNED_FLOAT: ["+"|"-"] FLOAT
NUMBER: FLOAT | INT
SIGNED_NUMBER: ["+"|"-"] NUMBER
ESCAPED_STRING: /"([^"\\\n]|\\.)*"/
LCASE_LETTER: "a".."z"
UCASE_LETTER: "A".."Z"
LETTER: UCASE_LETTER | LCASE_LETTER
WORD: LETTER+
CNAME: ("_"|LETTER) ("_"|LETTER|DIGIT)*
WS_INLINE: (" "|/\t/)+
WS: /[ \t\f\r\n]/+
CR: /\r/
LF: /\n/
NEWLINE: (CR? LF)+
SH_COMMENT: /#[^\n]*/
CPP_COMMENT: /\/\/[^\n]*/
C_COMMENT: /\/\*([^*]|\*+[^*\/])*\*+\//
SQL_COMMENT: /--[^\n]*/
)LARK";

struct Tok {
  enum Kind { kName, kString, kRegex, kOp, kNumber, kNewline, kDirective, kEnd } kind;
  std::string text;   // name / op / decoded string / regex body / directive name
  std::string flags;  // string "i" / regex flags
  int line, col;
};

class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}

  Result<std::vector<Tok>> Run() {
    std::vector<Tok> out;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\n') {
        out.push_back({Tok::kNewline, "", "", line_, col()});
        Adv();
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        Adv();
        continue;
      }
      if (c == '#' || (c == '/' && i_ + 1 < s_.size() && s_[i_ + 1] == '/')) {
        while (i_ < s_.size() && s_[i_] != '\n') Adv();
        continue;
      }
      int l = line_, cl = col();
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        std::string n;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_' || s_[i_] == '-'))
          n.push_back(s_[i_]), Adv();
        out.push_back({Tok::kName, n, "", l, cl});
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c))) {
        std::string n;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) n.push_back(s_[i_]), Adv();
        out.push_back({Tok::kNumber, n, "", l, cl});
        continue;
      }
      if (c == '"') {
        LFM_ASSIGN_OR_RETURN(std::string v, String());
        std::string flags;
        if (i_ < s_.size() && s_[i_] == 'i') flags = "i", Adv();
        out.push_back({Tok::kString, v, flags, l, cl});
        continue;
      }
      if (c == '/') {
        Adv();
        std::string body;
        bool in_class = false;
        while (true) {
          if (i_ >= s_.size() || s_[i_] == '\n') return Err(l, cl, "unterminated regex literal");
          char d = s_[i_];
          if (d == '\\' && i_ + 1 < s_.size()) {
            // \/ is a literal slash in the regex.
            if (s_[i_ + 1] == '/') body.push_back('/');
            else body.push_back('\\'), body.push_back(s_[i_ + 1]);
            Adv();
            Adv();
            continue;
          }
          if (d == '[') in_class = true;
          else if (d == ']') in_class = false;
          else if (d == '/' && !in_class) break;
          body.push_back(d);
          Adv();
        }
        Adv();
        std::string flags;
        while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) flags.push_back(s_[i_]), Adv();
        out.push_back({Tok::kRegex, body, flags, l, cl});
        continue;
      }
      if (c == '%') {
        Adv();
        std::string n;
        while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) n.push_back(s_[i_]), Adv();
        out.push_back({Tok::kDirective, n, "", l, cl});
        continue;
      }
      if (c == '.' && i_ + 1 < s_.size() && s_[i_ + 1] == '.') {
        Adv(), Adv();
        out.push_back({Tok::kOp, "..", "", l, cl});
        continue;
      }
      if (c == '-' && i_ + 1 < s_.size() && s_[i_ + 1] == '>') {
        Adv(), Adv();
        out.push_back({Tok::kOp, "->", "", l, cl});
        continue;
      }
      if (std::string(":|()[]?*+{},~!.<&").find(c) != std::string::npos) {
        Adv();
        out.push_back({Tok::kOp, std::string(1, c), "", l, cl});
        continue;
      }
      return Err(l, cl, std::string("unexpected character '") + c + "'");
    }
    out.push_back({Tok::kNewline, "", "", line_, col()});
    out.push_back({Tok::kEnd, "", "", line_, col()});
    return out;
  }

 private:
  int col() const { return static_cast<int>(i_ - line_start_) + 1; }
  void Adv() {
    if (s_[i_] == '\n') ++line_, line_start_ = i_ + 1;
    ++i_;
  }
  static Status Err(int l, int c, const std::string& m) {
    return InvalidArgument("lark:" + std::to_string(l) + ":" + std::to_string(c) + ": " + m);
  }
  Result<std::string> String() {
    int l = line_, cl = col();
    Adv();
    std::string v;
    while (true) {
      if (i_ >= s_.size() || s_[i_] == '\n') return Err(l, cl, "unterminated string literal");
      char c = s_[i_];
      if (c == '"') break;
      if (c == '\\' && i_ + 1 < s_.size()) {
        char e = s_[i_ + 1];
        Adv(), Adv();
        switch (e) {
          case 'n': v.push_back('\n'); break;
          case 't': v.push_back('\t'); break;
          case 'r': v.push_back('\r'); break;
          case 'f': v.push_back('\f'); break;
          case '0': v.push_back('\0'); break;
          case 'x': {
            if (i_ + 2 > s_.size()) return Err(l, cl, "bad \\x escape");
            std::string h(s_.substr(i_, 2));
            if (!std::isxdigit(static_cast<unsigned char>(h[0])) || !std::isxdigit(static_cast<unsigned char>(h[1])))
              return Err(l, cl, "bad \\x escape");
            v.push_back(static_cast<char>(std::stoi(h, nullptr, 16)));
            Adv(), Adv();
            break;
          }
          case 'u': {
            if (i_ + 4 > s_.size()) return Err(l, cl, "bad \\u escape");
            std::string h(s_.substr(i_, 4));
            for (char x : h)
              if (!std::isxdigit(static_cast<unsigned char>(x))) return Err(l, cl, "bad \\u escape");
            uint32_t cp = static_cast<uint32_t>(std::stoul(h, nullptr, 16));
            if (cp >= 0xD800 && cp <= 0xDFFF) return Err(l, cl, "surrogate in \\u escape");
            AppendUtf8(cp, v);
            for (int k = 0; k < 4; ++k) Adv();
            break;
          }
          default: v.push_back(e);
        }
        continue;
      }
      v.push_back(c);
      Adv();
    }
    Adv();
    return v;
  }
  static void AppendUtf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
    else if (cp < 0x800) out.push_back(static_cast<char>(0xC0 | (cp >> 6))), out.push_back(static_cast<char>(0x80 | (cp & 63)));
    else
      out.push_back(static_cast<char>(0xE0 | (cp >> 12))), out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 63))),
          out.push_back(static_cast<char>(0x80 | (cp & 63)));
  }

  std::string_view s_;
  size_t i_ = 0, line_start_ = 0;
  int line_ = 1;
};

// Parsed expression tree (shared by rules and terminals).
struct Expr {
  enum Kind { kAlt, kSeq, kString, kRegex, kName, kRepeat, kRange } kind;
  std::vector<std::unique_ptr<Expr>> kids;
  std::string text, flags, text2;
  uint32_t lo = 0, hi = 0;
  int line = 0, col = 0;
};

struct Def {
  std::string name;
  bool terminal;
  std::unique_ptr<Expr> body;
  int line, col;
};

class Parser {
 public:
  explicit Parser(std::vector<Tok> toks) : t_(std::move(toks)) {}

  Status Run(std::vector<Def>* defs, std::vector<std::unique_ptr<Expr>>* ignores,
             std::vector<std::pair<std::string, std::string>>* imports) {
    while (Peek().kind != Tok::kEnd) {
      if (Peek().kind == Tok::kNewline) {
        ++p_;
        continue;
      }
      if (Peek().kind == Tok::kDirective) {
        Tok d = Next();
        if (d.text == "ignore") {
          LFM_ASSIGN_OR_RETURN(auto e, Alternatives());
          ignores->push_back(std::move(e));
        } else if (d.text == "import") {
          LFM_RETURN_IF_ERROR(Import(d, imports));
        } else {
          return Err(d, "directive %" + d.text + " is not supported");
        }
        LFM_RETURN_IF_ERROR(EndOfLine());
        continue;
      }
      // [?!]name[.N]: body
      if (Peek().kind == Tok::kOp && (Peek().text == "?" || Peek().text == "!")) ++p_;
      Tok name = Next();
      if (name.kind != Tok::kName) return Err(name, "expected a rule or terminal name");
      if (Peek().kind == Tok::kOp && Peek().text == ".") {
        ++p_;
        if (Next().kind != Tok::kNumber) return Err(name, "expected a priority number after '.'");
      }
      if (Peek().kind == Tok::kOp && Peek().text == "{") return Err(name, "rule templates are not supported");
      Tok colon = Next();
      if (colon.kind != Tok::kOp || colon.text != ":") return Err(colon, "expected ':' after '" + name.text + "'");
      LFM_ASSIGN_OR_RETURN(auto body, Alternatives());
      bool terminal = IsTerminalName(name.text);
      defs->push_back({name.text, terminal, std::move(body), name.line, name.col});
      LFM_RETURN_IF_ERROR(EndOfLine());
    }
    return Status();
  }

  static bool IsTerminalName(const std::string& n) {
    std::string s = n;
    while (!s.empty() && s[0] == '_') s.erase(0, 1);
    return !s.empty() && std::isupper(static_cast<unsigned char>(s[0]));
  }

 private:
  const Tok& Peek() const { return t_[p_]; }
  Tok Next() { return t_[p_ < t_.size() - 1 ? p_++ : p_]; }
  static Status Err(const Tok& t, const std::string& m) {
    return InvalidArgument("lark:" + std::to_string(t.line) + ":" + std::to_string(t.col) + ": " + m);
  }
  Status EndOfLine() {
    if (Peek().kind == Tok::kNewline || Peek().kind == Tok::kEnd) return Status();
    return Err(Peek(), "unexpected '" + Peek().text + "'");
  }
  // Newlines end a definition unless the next line continues it with '|'.
  void SkipContinuation() {
    size_t q = p_;
    while (t_[q].kind == Tok::kNewline) ++q;
    if (q != p_ && t_[q].kind == Tok::kOp && t_[q].text == "|") p_ = q;
  }

  Status Import(const Tok& d, std::vector<std::pair<std::string, std::string>>* imports) {
    Tok mod = Next();
    if (mod.kind != Tok::kName || mod.text != "common")
      return Err(mod, "only %import common.* is supported");
    Tok sep = Next();
    if (sep.kind == Tok::kOp && sep.text == ".") {
      Tok n = Next();
      if (n.kind != Tok::kName) return Err(n, "expected a name after 'common.'");
      std::string alias = n.text;
      if (Peek().kind == Tok::kOp && Peek().text == "->") {
        ++p_;
        Tok a = Next();
        if (a.kind != Tok::kName) return Err(a, "expected an alias");
        alias = a.text;
      }
      imports->emplace_back(n.text, alias);
      return Status();
    }
    if (sep.kind == Tok::kOp && sep.text == "(") {
      while (true) {
        Tok n = Next();
        if (n.kind != Tok::kName) return Err(n, "expected a name in %import list");
        imports->emplace_back(n.text, n.text);
        Tok c = Next();
        if (c.kind == Tok::kOp && c.text == ")") break;
        if (c.kind != Tok::kOp || c.text != ",") return Err(c, "expected ',' or ')'");
      }
      return Status();
    }
    return Err(sep, "bad %import");
  }

  Result<std::unique_ptr<Expr>> Alternatives(int depth = 0) {
    if (depth > 100) return Err(Peek(), "nesting too deep");
    auto alt = std::make_unique<Expr>();
    alt->kind = Expr::kAlt;
    while (true) {
      LFM_ASSIGN_OR_RETURN(auto seq, Sequence(depth));
      alt->kids.push_back(std::move(seq));
      if (Peek().kind == Tok::kOp && Peek().text == "->") {  // alias: ignored
        ++p_;
        if (Next().kind != Tok::kName) return Err(Peek(), "expected an alias name");
      }
      SkipContinuation();
      if (Peek().kind == Tok::kOp && Peek().text == "|") {
        ++p_;
        SkipContinuation();
        continue;
      }
      break;
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  Result<std::unique_ptr<Expr>> Sequence(int depth) {
    auto seq = std::make_unique<Expr>();
    seq->kind = Expr::kSeq;
    while (true) {
      const Tok& t = Peek();
      bool atom_start = t.kind == Tok::kName || t.kind == Tok::kString || t.kind == Tok::kRegex ||
                        (t.kind == Tok::kOp && (t.text == "(" || t.text == "["));
      if (t.kind == Tok::kOp && (t.text == "<" || t.text == "&" || t.text == "~" || t.text == "!"))
        return Err(t, t.text == "<" ? "special tokens <...> are not supported" : "operator '" + t.text + "' is not supported here");
      if (!atom_start) break;
      LFM_ASSIGN_OR_RETURN(auto item, Item(depth));
      seq->kids.push_back(std::move(item));
    }
    return seq;
  }

  Result<std::unique_ptr<Expr>> Item(int depth) {
    LFM_ASSIGN_OR_RETURN(auto atom, Atom(depth));
    while (Peek().kind == Tok::kOp) {
      const std::string& op = Peek().text;
      uint32_t lo, hi;
      Tok at = Peek();
      if (op == "?") lo = 0, hi = 1, ++p_;
      else if (op == "*") lo = 0, hi = grammar::kRxInf, ++p_;
      else if (op == "+") lo = 1, hi = grammar::kRxInf, ++p_;
      else if (op == "{") {
        ++p_;
        Tok a = Next();
        if (a.kind != Tok::kNumber) return Err(a, "expected a number in {m,n}");
        lo = hi = static_cast<uint32_t>(std::min<unsigned long>(std::stoul(a.text.substr(0, 9)), 1000000));
        Tok c = Next();
        if (c.kind == Tok::kOp && c.text == ",") {
          Tok b = Next();
          if (b.kind == Tok::kNumber) {
            hi = static_cast<uint32_t>(std::min<unsigned long>(std::stoul(b.text.substr(0, 9)), 1000000));
            c = Next();
          } else {
            hi = grammar::kRxInf;
            c = b;
          }
        }
        if (c.kind != Tok::kOp || c.text != "}") return Err(c, "expected '}'");
      } else if (op == "~") {
        ++p_;
        Tok a = Next();
        if (a.kind != Tok::kNumber) return Err(a, "expected a number after '~'");
        lo = hi = static_cast<uint32_t>(std::min<unsigned long>(std::stoul(a.text.substr(0, 9)), 1000000));
        if (Peek().kind == Tok::kOp && Peek().text == "..") {
          ++p_;
          Tok b = Next();
          if (b.kind != Tok::kNumber) return Err(b, "expected a number after '..'");
          hi = static_cast<uint32_t>(std::min<unsigned long>(std::stoul(b.text.substr(0, 9)), 1000000));
        }
      } else {
        break;
      }
      if (hi < lo) return Err(at, "repetition with max < min");
      auto rep = std::make_unique<Expr>();
      rep->kind = Expr::kRepeat;
      rep->lo = lo;
      rep->hi = hi;
      rep->line = at.line, rep->col = at.col;
      rep->kids.push_back(std::move(atom));
      atom = std::move(rep);
    }
    return atom;
  }

  Result<std::unique_ptr<Expr>> Atom(int depth) {
    Tok t = Next();
    auto e = std::make_unique<Expr>();
    e->line = t.line, e->col = t.col;
    if (t.kind == Tok::kOp && (t.text == "(" || t.text == "[")) {
      LFM_ASSIGN_OR_RETURN(auto inner, Alternatives(depth + 1));
      Tok c = Next();
      if (c.kind != Tok::kOp || c.text != (t.text == "(" ? ")" : "]")) return Err(c, "expected '" + std::string(t.text == "(" ? ")" : "]") + "'");
      if (t.text == "(") return inner;
      e->kind = Expr::kRepeat;
      e->lo = 0, e->hi = 1;
      e->kids.push_back(std::move(inner));
      return e;
    }
    if (t.kind == Tok::kString) {
      if (Peek().kind == Tok::kOp && Peek().text == "..") {
        ++p_;
        Tok b = Next();
        if (b.kind != Tok::kString) return Err(b, "expected a string after '..'");
        e->kind = Expr::kRange;
        e->text = t.text, e->text2 = b.text;
        return e;
      }
      e->kind = Expr::kString;
      e->text = t.text, e->flags = t.flags;
      return e;
    }
    if (t.kind == Tok::kRegex) {
      e->kind = Expr::kRegex;
      e->text = t.text, e->flags = t.flags;
      return e;
    }
    if (t.kind == Tok::kName) {
      e->kind = Expr::kName;
      e->text = t.text;
      return e;
    }
    return Err(t, "unexpected '" + t.text + "'");
  }

  std::vector<Tok> t_;
  size_t p_ = 0;
};

class LarkCompiler {
 public:
  LarkCompiler(Cfg* cfg, grammar::RegexBuilder* rx) : cfg_(cfg), rx_(rx), rc_(rx) {}

  Result<uint32_t> Run(std::string_view text) {
    std::vector<std::pair<std::string, std::string>> imports;
    LFM_RETURN_IF_ERROR(Load(text, &imports, false));
    // Imports from `common`, with the definitions they depend on.
    if (!imports.empty()) {
      std::vector<Def> common;
      std::vector<std::unique_ptr<Expr>> unused;
      std::vector<std::pair<std::string, std::string>> unused_imports;
      LFM_ASSIGN_OR_RETURN(auto toks, Lexer(kCommonLark).Run());
      LFM_RETURN_IF_ERROR(Parser(std::move(toks)).Run(&common, &unused, &unused_imports));
      for (auto& d : common) common_[d.name] = std::move(d.body);
      for (auto& [name, alias] : imports) {
        if (!common_.count(name)) return InvalidArgument("lark: %import common." + name + ": no such terminal");
        if (defs_.count(alias)) continue;
        terminal_alias_[alias] = name;
      }
    }
    if (!defs_.count("start")) return InvalidArgument("lark: no 'start' rule");
    for (auto& ig : ignores_) {
      LFM_ASSIGN_OR_RETURN(RxId r, TermExpr(*ig, 0));
      ignore_rx_.push_back(r);
    }
    if (!ignore_rx_.empty()) cfg_->IgnoreLexeme(rx_->Or(ignore_rx_));
    LFM_ASSIGN_OR_RETURN(uint32_t s, RuleNt("start", 0, 0));
    LFM_RETURN_IF_ERROR(CompileQueuedRules());
    return s;
  }

 private:
  Status Load(std::string_view text, std::vector<std::pair<std::string, std::string>>* imports, bool) {
    LFM_ASSIGN_OR_RETURN(auto toks, Lexer(text).Run());
    std::vector<Def> defs;
    LFM_RETURN_IF_ERROR(Parser(std::move(toks)).Run(&defs, &ignores_, imports));
    for (auto& d : defs) {
      if (defs_.count(d.name))
        return InvalidArgument("lark:" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": '" + d.name +
                               "' defined twice");
      defs_.emplace(d.name, std::move(d));
    }
    return Status();
  }

  static Status ErrAt(const Expr& e, const std::string& m) {
    return InvalidArgument("lark:" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + m);
  }

  Result<RxId> Literal(const Expr& e) {
    if (e.flags == "i") {
      std::vector<RxId> parts;
      for (unsigned char c : e.text) {
        if (std::isalpha(c)) parts.push_back(rx_->Or(rx_->Byte(static_cast<uint8_t>(std::tolower(c))),
                                                     rx_->Byte(static_cast<uint8_t>(std::toupper(c)))));
        else parts.push_back(rx_->Byte(c));
      }
      return rx_->Concat(parts);
    }
    return rx_->Literal(e.text);
  }

  Result<RxId> RegexLit(const Expr& e) {
    grammar::RegexSyntax syn;
    syn.ecma_dot = false;
    for (char f : e.flags) {
      if (f == 'i') syn.case_insensitive = true;
      else if (f == 's') syn.dot_all = true;
      else if (f == 'm' || f == 'u') continue;
      else return ErrAt(e, std::string("regex flag '") + f + "' is not supported");
    }
    auto r = rc_.Compile(e.text, grammar::CharEncoding::kUtf8, syn);
    if (!r.ok()) return r.status().WithContext("lark:" + std::to_string(e.line) + ":" + std::to_string(e.col));
    return r;
  }

  // A terminal's definition as one regex.
  Result<RxId> TerminalRx(const std::string& name, const Expr& at, int depth) {
    if (auto it = term_rx_.find(name); it != term_rx_.end()) return it->second;
    if (in_progress_.count(name)) return ErrAt(at, "terminal '" + name + "' is recursive");
    const Expr* body = nullptr;
    if (auto d = defs_.find(name); d != defs_.end() && d->second.terminal) body = d->second.body.get();
    else if (auto a = terminal_alias_.find(name); a != terminal_alias_.end()) body = common_[a->second].get();
    else if (auto c = common_.find(name); c != common_.end() && in_common_ > 0) body = c->second.get();
    if (!body) return ErrAt(at, "undefined terminal '" + name + "'");
    bool from_common = !defs_.count(name);
    in_progress_.insert(name);
    if (from_common) ++in_common_;
    auto r = TermExpr(*body, depth + 1);
    if (from_common) --in_common_;
    in_progress_.erase(name);
    if (!r.ok()) return r;
    term_rx_[name] = *r;
    return r;
  }

  Result<RxId> TermExpr(const Expr& e, int depth) {
    if (depth > 200) return ErrAt(e, "terminal nesting too deep");
    switch (e.kind) {
      case Expr::kString: return Literal(e);
      case Expr::kRegex: return RegexLit(e);
      case Expr::kRange: {
        size_t i = 0, j = 0;
        uint32_t a = DecodeOne(e.text, i), b = DecodeOne(e.text2, j);
        if (i != e.text.size() || j != e.text2.size() || a > b) return ErrAt(e, "bad character range");
        return rc_.Class({{a, b}}, grammar::CharEncoding::kUtf8);
      }
      case Expr::kName: {
        if (!Parser::IsTerminalName(e.text)) return ErrAt(e, "rule '" + e.text + "' used inside a terminal");
        return TerminalRx(e.text, e, depth);
      }
      case Expr::kSeq:
      case Expr::kAlt: {
        std::vector<RxId> parts;
        for (auto& k : e.kids) {
          LFM_ASSIGN_OR_RETURN(RxId r, TermExpr(*k, depth + 1));
          parts.push_back(r);
        }
        return e.kind == Expr::kSeq ? rx_->Concat(parts) : rx_->Or(parts);
      }
      case Expr::kRepeat: {
        LFM_ASSIGN_OR_RETURN(RxId r, TermExpr(*e.kids[0], depth + 1));
        return rx_->Repeat(r, e.lo, e.hi);
      }
    }
    return Internal("lark terminal");
  }

  static uint32_t DecodeOne(const std::string& s, size_t& i) {
    if (s.empty()) return 0;
    auto b = static_cast<uint8_t>(s[i]);
    int len = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint32_t cp = len == 1 ? b : b & (0x3F >> (len - 1));
    for (int k = 1; k < len && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 63);
    i += len;
    return cp;
  }

  Result<uint32_t> RuleNt(const std::string& name, int line, int col) {
    if (auto it = rule_nt_.find(name); it != rule_nt_.end()) return it->second;
    auto d = defs_.find(name);
    if (d == defs_.end() || d->second.terminal)
      return InvalidArgument("lark:" + std::to_string(line) + ":" + std::to_string(col) + ": undefined rule '" + name + "'");
    uint32_t nt = cfg_->AddNt(name);
    rule_nt_[name] = nt;
    // Compiled later by CompileQueuedRules, not here: a chain of 100k rules each referring to the
    // next would otherwise recurse 100k deep and overflow the stack.
    queued_rules_.push_back({nt, d->second.body.get()});
    return nt;
  }

  Status CompileQueuedRules() {
    while (!queued_rules_.empty()) {
      auto [nt, body] = queued_rules_.back();
      queued_rules_.pop_back();
      LFM_RETURN_IF_ERROR(AddAlternatives(nt, *body, 0));
    }
    return Status();
  }

  Status AddAlternatives(uint32_t nt, const Expr& e, int depth) {
    if (e.kind == Expr::kAlt) {
      for (auto& k : e.kids) {
        std::vector<uint32_t> seq;
        LFM_RETURN_IF_ERROR(SeqSymbols(*k, &seq, depth + 1));
        cfg_->AddRule(nt, std::move(seq));
      }
      return Status();
    }
    std::vector<uint32_t> seq;
    LFM_RETURN_IF_ERROR(SeqSymbols(e, &seq, depth + 1));
    cfg_->AddRule(nt, std::move(seq));
    return Status();
  }

  Status SeqSymbols(const Expr& e, std::vector<uint32_t>* out, int depth) {
    if (e.kind == Expr::kSeq) {
      for (auto& k : e.kids) {
        LFM_ASSIGN_OR_RETURN(uint32_t s, Symbol(*k, depth + 1));
        out->push_back(s);
      }
      return Status();
    }
    LFM_ASSIGN_OR_RETURN(uint32_t s, Symbol(e, depth + 1));
    out->push_back(s);
    return Status();
  }

  Result<uint32_t> Symbol(const Expr& e, int depth) {
    if (depth > 200) return ErrAt(e, "rule nesting too deep");
    switch (e.kind) {
      case Expr::kString:
      case Expr::kRegex:
      case Expr::kRange: {
        LFM_ASSIGN_OR_RETURN(RxId r, TermExpr(e, depth));
        return cfg_->Lexeme(r);
      }
      case Expr::kName: {
        if (Parser::IsTerminalName(e.text)) {
          LFM_ASSIGN_OR_RETURN(RxId r, TerminalRx(e.text, e, depth));
          return cfg_->Lexeme(r);
        }
        LFM_ASSIGN_OR_RETURN(uint32_t nt, RuleNt(e.text, e.line, e.col));
        return NtSym(nt);
      }
      case Expr::kSeq:
      case Expr::kAlt: {
        uint32_t nt = cfg_->AddNt("group");
        LFM_RETURN_IF_ERROR(AddAlternatives(nt, e, depth + 1));
        return NtSym(nt);
      }
      case Expr::kRepeat: {
        LFM_ASSIGN_OR_RETURN(uint32_t x, Symbol(*e.kids[0], depth + 1));
        return NtSym(RepeatNt(x, e.lo, e.hi));
      }
    }
    return Internal("lark symbol");
  }

  // x{lo,hi} with O(log) rules; x* as left recursion.
  uint32_t Exactly(uint32_t x, uint32_t k) {
    auto key = std::make_pair(x, k);
    if (auto it = exactly_.find(key); it != exactly_.end()) return it->second;
    uint32_t nt = cfg_->AddNt("exactly");
    exactly_[key] = nt;
    if (k == 0) cfg_->AddRule(nt, {});
    else if (k == 1) cfg_->AddRule(nt, {x});
    else cfg_->AddRule(nt, {NtSym(Exactly(x, k / 2)), NtSym(Exactly(x, k - k / 2))});
    return nt;
  }
  uint32_t Upto(uint32_t x, uint32_t k) {
    auto key = std::make_pair(x, k);
    if (auto it = upto_.find(key); it != upto_.end()) return it->second;
    uint32_t nt = cfg_->AddNt("upto");
    upto_[key] = nt;
    if (k == grammar::kRxInf) {
      cfg_->AddRule(nt, {});
      cfg_->AddRule(nt, {NtSym(nt), x});
    } else if (k <= 1) {
      cfg_->AddRule(nt, {});
      if (k == 1) cfg_->AddRule(nt, {x});
    } else {
      cfg_->AddRule(nt, {NtSym(Upto(x, k / 2)), NtSym(Upto(x, k - k / 2))});
    }
    return nt;
  }
  uint32_t RepeatNt(uint32_t x, uint32_t lo, uint32_t hi) {
    if (lo == 0) return Upto(x, hi);
    if (lo == hi) return Exactly(x, lo);
    uint32_t nt = cfg_->AddNt("repeat");
    cfg_->AddRule(nt, {NtSym(Exactly(x, lo)), NtSym(Upto(x, hi == grammar::kRxInf ? hi : hi - lo))});
    return nt;
  }

  Cfg* cfg_;
  grammar::RegexBuilder* rx_;
  grammar::RegexCompiler rc_;
  std::map<std::string, Def> defs_;
  std::map<std::string, std::unique_ptr<Expr>> common_;
  std::map<std::string, std::string> terminal_alias_;
  std::vector<std::unique_ptr<Expr>> ignores_;
  std::vector<RxId> ignore_rx_;
  std::map<std::string, RxId> term_rx_;
  std::set<std::string> in_progress_;
  int in_common_ = 0;
  std::map<std::string, uint32_t> rule_nt_;
  std::vector<std::pair<uint32_t, const Expr*>> queued_rules_;  // rules whose alternatives are still to compile
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> exactly_, upto_;
};

}  // namespace

Result<std::shared_ptr<const Grammar>> Grammar::FromLark(std::string_view lark) {
  if (lark.size() > (1u << 24)) return ResourceExhausted("lark grammar larger than 16 MiB");
  auto rx = std::make_unique<grammar::RegexBuilder>();
  Cfg cfg;
  LarkCompiler c(&cfg, rx.get());
  LFM_ASSIGN_OR_RETURN(uint32_t start, c.Run(lark));
  cfg.start = start;
  return FromCfg(std::move(cfg), std::move(rx));
}

}  // namespace lfm
