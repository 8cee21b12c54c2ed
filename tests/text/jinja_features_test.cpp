// One Jinja feature per case, compared byte for byte with Python Jinja2's render
// (tests/text/data/jinja_features.json, written by tools/refs/make_jinja_features.py).
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/jinja/template.h"

namespace lfm::jinja {
namespace {

using Json = nlohmann::ordered_json;

TEST(JinjaFeatures, MatchPythonJinja2) {
  auto text = ReadFileToString(lfm::testing::SourceDir() + "/tests/text/data/jinja_features.json");
  ASSERT_OK(text);
  Json doc = Json::parse(*text);
  RenderOptions opt;
  opt.now_unix_seconds = doc["now_unix_seconds"].get<int64_t>();
  int rendered = 0, errors = 0;
  for (const auto& c : doc["cases"]) {
    std::string name = c["name"];
    auto tmpl = Template::Parse(c["template"].get<std::string>());
    Result<std::string> out = tmpl.ok() ? tmpl->Render(c["context"], opt) : Result<std::string>(tmpl.status());
    if (c.contains("rendered")) {
      EXPECT_TRUE(out.ok()) << name << ": " << out.status().ToString();
      if (out.ok()) EXPECT_EQ(*out, c["rendered"].get<std::string>()) << name;
      ++rendered;
    } else {
      EXPECT_FALSE(out.ok()) << name << " should fail like Jinja2 (" << c["error"] << ") but rendered: " << (out.ok() ? *out : "");
      ++errors;
    }
  }
  EXPECT_GE(rendered, 90);
  EXPECT_GE(errors, 8);
}

}  // namespace
}  // namespace lfm::jinja
