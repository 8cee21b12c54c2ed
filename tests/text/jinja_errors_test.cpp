// Template errors name line and column; runaway templates stop at the configured limits.
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/jinja/template.h"

namespace lfm::jinja {
namespace {

using Json = nlohmann::ordered_json;

Status RenderStatus(const std::string& src, const Limits& limits = {}, const Json& ctx = Json::object()) {
  auto t = Template::Parse(src, limits);
  if (!t.ok()) return t.status();
  RenderOptions opt;
  opt.limits = limits;
  auto r = t->Render(ctx, opt);
  return r.ok() ? Status::Ok() : r.status();
}

void ExpectError(const std::string& src, const std::string& where, const std::string& what,
                 StatusCode code = StatusCode::kInvalidArgument, const Limits& limits = {}) {
  auto start = std::chrono::steady_clock::now();
  Status s = RenderStatus(src, limits);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(s.ok()) << src;
  EXPECT_EQ(s.code(), code) << s.ToString();
  EXPECT_NE(s.message().find(where), std::string::npos) << "want '" << where << "' in: " << s.message();
  EXPECT_NE(s.message().find(what), std::string::npos) << "want '" << what << "' in: " << s.message();
  EXPECT_LT(secs, 10.0) << src;
}

TEST(JinjaErrors, SyntaxErrorsNameLineAndColumn) {
  ExpectError("line1\n{% if x %}\n{{ 1 + }}", "line 3, column 8", "unexpected end of print statement");
  ExpectError("{% for x in y %}\nbody", "line 2, column 5", "expected 'endfor' or 'else'");
  ExpectError("ok\n  {% frobnicate %}", "line 2, column 6", "unknown tag 'frobnicate'");
  ExpectError("{{ 'unterminated }}", "line 1, column 4", "unexpected end of string");
  ExpectError("{# open comment", "line 1, column 1", "missing end of comment");
  ExpectError("{{ x | nosuchfilter }}", "line 1, column 8", "No filter named 'nosuchfilter'");
  ExpectError("{{ x is nosuchtest }}", "line 1, column 6", "No test named 'nosuchtest'");
  ExpectError("{% if x %}{% endfor %}", "line 1, column", "unknown tag 'endfor'; expected 'elif' or 'else' or 'endif'");
  ExpectError("{{ (1 }}", "line 1, column", "");
  ExpectError("{% break %}", "line 1, column 4", "outside of a loop");
}

TEST(JinjaErrors, RuntimeErrorsNameLineAndColumn) {
  ExpectError("a\n  {{ 1 // 0 }}", "line 2, column 8", "division or modulo by zero");
  ExpectError("{% if true %}\n{{ raise_exception('Roles must alternate') }}{% endif %}", "line 2, column",
              "Roles must alternate");
  ExpectError("\n\n   {{ missing.attr }}", "line 3, column", "'missing' is undefined");
  ExpectError("{{ 'a' + 1 }}", "line 1, column 8", "can only concatenate str");
  ExpectError("{% set x = [] %}{{ x.append(1) }}", "line 1, column", "unsafe");
  ExpectError("{% for a, b in [1] %}{% endfor %}", "line 1, column", "cannot unpack");
}

TEST(JinjaErrors, RunawayRecursionStops) {
  Limits lim;
  lim.max_recursion_depth = 50;
  ExpectError("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "line 1", "recursion depth",
              StatusCode::kResourceExhausted, lim);
  ExpectError("{% macro a() %}{{ b() }}{% endmacro %}{% macro b() %}{{ a() }}{% endmacro %}{{ a() }}", "line 1",
              "recursion depth", StatusCode::kResourceExhausted, lim);
}

TEST(JinjaErrors, GiantLoopsStop) {
  Limits lim;
  lim.max_steps = 200'000;
  ExpectError("{% for i in range(10**9) %}x{% endfor %}", "line 1", "Range too big", StatusCode::kResourceExhausted,
              lim);
  ExpectError("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "line 1",
              "step limit", StatusCode::kResourceExhausted, lim);
  ExpectError(
      "{% set ns = namespace(l=[1]) %}{% for i in range(100000) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
      "line 1", "", StatusCode::kResourceExhausted, lim);
}

TEST(JinjaErrors, HugeOutputStops) {
  Limits lim;
  lim.max_output_bytes = 1 << 20;
  ExpectError("{{ 'x' * 100000000 }}", "line 1", "exceeds the output limit", StatusCode::kResourceExhausted, lim);
  ExpectError("{{ 'x' * 9223372036854775807 }}", "line 1", "", StatusCode::kResourceExhausted, lim);
  ExpectError("{% for i in range(100000) %}{{ 'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy' }}{% endfor %}", "line 1",
              "rendered output exceeds", StatusCode::kResourceExhausted, lim);
  ExpectError("{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
              "line 1", "", StatusCode::kResourceExhausted, lim);
  // Under the limit, the same kind of template renders.
  EXPECT_TRUE(RenderStatus("{% for i in range(1000) %}{{ 'y' * 100 }}{% endfor %}", lim).ok());
}

TEST(JinjaErrors, DeepNestingIsRefusedNotACrash) {
  Status s = RenderStatus("{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("nesting too deep"), std::string::npos) << s.message();
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_FALSE(RenderStatus(ifs).ok());
  // A namespace holding itself cannot be printed forever.
  Status cyc = RenderStatus("{% set ns = namespace() %}{% set ns.me = ns %}{{ ns }}");
  EXPECT_FALSE(cyc.ok());
}

TEST(JinjaErrors, ContextMustBeAnObject) {
  auto t = Template::Parse("x");
  ASSERT_OK(t);
  EXPECT_FALSE(t->Render(Json::array()).ok());
}

}  // namespace
}  // namespace lfm::jinja
