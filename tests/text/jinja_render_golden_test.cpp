// Byte-exact renders of real chat templates against references no one here wrote:
// Python Jinja2 with transformers' settings (tests/text/data/chat_renders, written by
// tools/refs/make_chat_renders.py) and @huggingface/jinja (shared testdata chat_template_renders).
// Templates are re-read from where they live (shared testdata, npm packages) at test time.
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/jinja/template.h"

namespace lfm::jinja {
namespace {

using Json = nlohmann::ordered_json;

Json ReadJson(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return Json();
  return Json::parse(*text);
}

std::string TemplateFrom(const Json& where) {
  std::string base = where["base"];
  std::string rel = where["path"];
  std::string path = base == "testdata" ? lfm::testing::TestData(rel)
                                        : lfm::testing::SourceDir() + "/tools/refs/node_modules/" + rel;
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << "missing template " << path << " (run scripts/setup.sh to install npm refs)";
  if (!text.ok()) return "";
  if (where["kind"] == "jinja") return *text;
  Json cfg = Json::parse(*text);
  const Json& t = cfg["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  for (const auto& e : t) {
    if (e["name"] == "default") return e["template"].get<std::string>();
  }
  return "";
}

TEST(JinjaGolden, HuggingFaceJinjaRendersOfLfm2Templates) {
  struct Case {
    const char* golden;
    const char* tmpl;
  } cases[] = {
      {"lfm2-synthetic/chat_template_renders/LFM2-VL-450M.rendered.json", "lfm2/LFM2-VL-450M/chat_template.jinja"},
      {"lfm2-synthetic/chat_template_renders/LFM2.5-Instruct.rendered.json",
       "lfm2/chat_templates/LFM2.5-Instruct.jinja"},
  };
  int checked = 0;
  for (const auto& c : cases) {
    Json golden = ReadJson(lfm::testing::TestData(c.golden));
    auto src = ReadFileToString(lfm::testing::TestData(c.tmpl));
    ASSERT_OK(src);
    auto tmpl = Template::Parse(*src);
    ASSERT_OK(tmpl);
    for (const auto& g : golden) {
      Json ctx = g["context"];
      ctx["bos_token"] = "<|startoftext|>";
      auto out = tmpl->Render(ctx);
      ASSERT_OK(out);
      EXPECT_EQ(*out, g["rendered"].get<std::string>()) << c.golden << " case " << g["name"];
      ++checked;
    }
  }
  EXPECT_EQ(checked, 5);
}

TEST(JinjaGolden, PythonJinja2RendersOfRealChatTemplates) {
  std::string dir = lfm::testing::SourceDir() + "/tests/text/data/chat_renders";
  int files = 0, renders = 0, errors = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    Json doc = ReadJson(entry.path().string());
    std::string name = entry.path().stem().string();
    auto tmpl = Template::Parse(TemplateFrom(doc["template"]));
    ASSERT_OK(tmpl);
    RenderOptions opt;
    opt.now_unix_seconds = doc["now_unix_seconds"].get<int64_t>();
    for (const auto& c : doc["cases"]) {
      // continue_final_message post-processes the render; chat_template_test covers it.
      if (c["context"].value("continue_final_message", false)) continue;
      auto out = tmpl->Render(c["context"], opt);
      std::string where = name + " / " + c["name"].get<std::string>();
      if (c.contains("rendered")) {
        ASSERT_TRUE(out.ok()) << where << ": " << out.status().ToString();
        EXPECT_EQ(*out, c["rendered"].get<std::string>()) << where;
        ++renders;
      } else {
        EXPECT_FALSE(out.ok()) << where << " should fail like Jinja2: " << c["error"];
        std::string err = c["error"];
        const std::string prefix = "TemplateError: ";
        if (!out.ok() && err.rfind(prefix, 0) == 0) {
          // raise_exception: the template's own message must come through.
          EXPECT_NE(out.status().message().find(err.substr(prefix.size())), std::string::npos)
              << where << ": " << out.status().message();
        }
        ++errors;
      }
    }
  }
  EXPECT_GE(files, 10);
  EXPECT_GE(renders, 100);
  RecordProperty("renders", renders);
  RecordProperty("errors", errors);
}

}  // namespace
}  // namespace lfm::jinja
