#include "text/jinja/template.h"

#include "text/jinja/interpreter.h"
#include "text/jinja/lexer.h"
#include "text/jinja/parser.h"

namespace lfm::jinja {

struct Template::Impl {
  std::string source;
  Body body;
};

namespace {

std::string Where(const std::string& src, size_t pos) {
  if (pos == kNoPos) return "";
  if (pos > src.size()) pos = src.size();
  size_t line = 1, col = 1;
  for (size_t i = 0; i < pos; ++i) {
    if (src[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col) + ": ";
}

Status ToStatus(const Error& e, const std::string& src, const char* what) {
  return Status(e.code, std::string(what) + Where(src, e.pos) + e.message);
}

// jinja2 resolves filter and test names at compile time: unknown names fail the parse.
void CheckNames(const Expr* e);
void CheckFilter(const FilterCall& f) {
  if (!HasFilter(f.name)) throw Error("No filter named '" + f.name + "'.", f.pos);
  for (const auto& a : f.args) CheckNames(a.get());
  for (const auto& kv : f.kwargs) CheckNames(kv.second.get());
}
void CheckNames(const Expr* e) {
  if (e == nullptr) return;
  if (e->kind == Expr::Kind::kFilter) CheckFilter(e->filter);
  if (e->kind == Expr::Kind::kTest && !HasTest(e->name)) throw Error("No test named '" + e->name + "'.", e->pos);
  for (const auto& a : e->args) CheckNames(a.get());
  for (const auto& kv : e->kwargs) CheckNames(kv.second.get());
}
void CheckNames(const Body& body) {
  for (const auto& s : body) {
    CheckNames(s->expr.get());
    CheckNames(s->cond.get());
    for (const auto& c : s->conds) CheckNames(c.get());
    for (const auto& b : s->bodies) CheckNames(b);
    CheckNames(s->body);
    CheckNames(s->else_body);
    for (const auto& p : s->params) CheckNames(p.default_value.get());
    for (const auto& f : s->filters) CheckFilter(f);
    for (const auto& a : s->assignments) CheckNames(a.second.get());
  }
}

}  // namespace

Result<Template> Template::Parse(std::string_view source, const Limits& limits) {
  auto impl = std::make_shared<Impl>();
  impl->source = NormalizeTemplateSource(source);
  try {
    std::vector<Token> tokens = Tokenize(impl->source, LexerOptions{});
    impl->body = ParseTemplate(tokens, limits.max_nesting_depth);
    CheckNames(impl->body);
  } catch (const Error& e) {
    return ToStatus(e, impl->source, "template syntax error at ");
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("template syntax error: ") + e.what());
  }
  Template t;
  t.impl_ = std::move(impl);
  return t;
}

Result<std::string> Template::Render(const Value& context, const RenderOptions& options) const {
  try {
    Interpreter in(options);
    return in.Run(impl_->body, context);
  } catch (const Error& e) {
    return ToStatus(e, impl_->source, "template error at ");
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("template rendering ran out of memory");
  } catch (const std::exception& e) {
    return Internal(std::string("template rendering failed: ") + e.what());
  }
}

Result<std::string> Template::Render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  if (!context.is_object()) return InvalidArgument("template context must be a JSON object");
  return Render(ValueFromJson(context), options);
}

const std::string& Template::source() const { return impl_->source; }

}  // namespace lfm::jinja
