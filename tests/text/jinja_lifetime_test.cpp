// Values that refer back to their own scope (macros, caller blocks, namespaces set inside loops)
// must be freed with the render. The sanitizer pass of the suite runs this under LeakSanitizer with
// no suppressions, so a reference cycle that survives a render fails it. Outputs are checked too,
// so that breaking the cycles cannot change what templates print.
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/jinja/template.h"

namespace lfm::jinja {
namespace {

std::string Render(const std::string& src, const nlohmann::ordered_json& ctx = nlohmann::ordered_json::object()) {
  auto t = Template::Parse(src);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  if (!t.ok()) return {};
  auto r = t->Render(ctx);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

TEST(JinjaLifetime, RecursiveMacroCallerAndNamespaceRenderManyTimes) {
  const std::string src =
      "{% macro count(n) %}{% if n > 0 %}{{ n }}{{ count(n - 1) }}{% endif %}{% endmacro %}"
      "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}"
      "{% set ns = namespace(total=0) %}"
      "{% for m in messages %}{% set ns.total = ns.total + m | length %}"
      "{% call wrap('b') %}{{ count(loop.index) }}{% endcall %}{% endfor %}"
      "={{ ns.total }}";
  nlohmann::ordered_json ctx = {{"messages", {"ab", "cde", "f"}}};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Render(src, ctx), "<b>1</b><b>21</b><b>321</b>=6");
}

TEST(JinjaLifetime, MacroStoredInContainersAndErrorsMidRender) {
  // A macro kept in a list and a dict of its own scope, and a render that fails after defining one.
  EXPECT_EQ(Render("{% macro m(x) %}[{{ x }}]{% endmacro %}{% set l = [m] %}{% set d = {'f': m} %}"
                   "{{ l[0](1) }}{{ d.f(2) }}"),
            "[1][2]");
  auto t = Template::Parse("{% macro m() %}x{% endmacro %}{{ m() }}{{ raise_exception('stop') }}");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->Render(nlohmann::ordered_json::object()).ok());
}

}  // namespace
}  // namespace lfm::jinja
