// Runs the official JSON-Schema-Test-Suite (shared testdata) through JsonSchemaValidator.
// Required tests must all pass; optional and optional/format results are printed and held to a floor
// so that regressions show up.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "base/mapped_file.h"
#include "grammar/json_schema_validator.h"
#include "json_schema_validator_test_util.h"
#include "test_util.h"

namespace lfm {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string SuiteDir() { return testing::TestData("json-schema-test-suite"); }

struct Tally {
  int pass = 0, fail = 0;
  std::vector<std::string> failures;
};

void RunFile(const fs::path& file, bool draft7, bool assert_formats, Tally* tally) {
  auto text = ReadFileToString(file.string());
  ASSERT_TRUE(text.ok()) << file;
  json cases = json::parse(*text, nullptr, false);
  ASSERT_TRUE(cases.is_array()) << file;
  JsonSchemaValidator::Options opts;
  opts.default_draft = draft7 ? JsonSchemaValidator::Options::Draft::kDraft7
                              : JsonSchemaValidator::Options::Draft::kDraft2020_12;
  opts.assert_formats = assert_formats;
  opts.remotes_dir = SuiteDir() + "/remotes";
  opts.load_document = testing::LoadMetaschema;
  for (const json& c : cases) {
    std::string where = file.filename().string() + " | " + c.value("description", "");
    auto v = JsonSchemaValidator::Compile(c["schema"], opts);
    for (const json& t : c["tests"]) {
      bool expected = t["valid"].get<bool>();
      std::string what = where + " | " + t.value("description", "");
      if (!v.ok()) {
        ++tally->fail;
        tally->failures.push_back(what + " (compile error: " + v.status().ToString() + ")");
        continue;
      }
      std::vector<ValidationError> errors;
      bool got = v->Validate(t["data"], &errors);
      bool fast = v->Validate(t["data"]);  // the short-circuit path must agree
      if (got == expected && fast == expected) {
        ++tally->pass;
      } else {
        ++tally->fail;
        tally->failures.push_back(what + " (expected " + (expected ? "valid" : "invalid") + ")");
      }
      if (!got) {
        EXPECT_FALSE(errors.empty()) << what;
      }
    }
  }
}

std::vector<fs::path> JsonFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Tally RunDir(const std::string& rel, bool draft7, bool assert_formats) {
  Tally t;
  fs::path dir = fs::path(SuiteDir()) / rel;
  EXPECT_TRUE(fs::is_directory(dir)) << dir;
  if (!fs::is_directory(dir)) return t;
  for (const auto& f : JsonFiles(dir)) RunFile(f, draft7, assert_formats, &t);
  std::printf("[suite] %-28s pass %4d / %4d\n", rel.c_str(), t.pass, t.pass + t.fail);
  return t;
}

void PrintFailures(const Tally& t, size_t max = 400) {
  for (size_t i = 0; i < t.failures.size() && i < max; ++i) std::printf("    FAIL %s\n", t.failures[i].c_str());
}

TEST(JsonSchemaSuite, Draft2020RequiredAllPass) {
  Tally t = RunDir("draft2020-12", false, false);
  PrintFailures(t);
  EXPECT_EQ(t.fail, 0);
  EXPECT_GE(t.pass, 1299);  // PROVENANCE.md: 1,299 required tests
}

TEST(JsonSchemaSuite, Draft7RequiredAllPass) {
  Tally t = RunDir("draft7", true, false);
  PrintFailures(t);
  EXPECT_EQ(t.fail, 0);
  EXPECT_GE(t.pass, 927);  // PROVENANCE.md: 927 required tests
}

// Floors are the counts this implementation reached when they were set; raise them when it improves.
TEST(JsonSchemaSuite, Draft2020Optional) {
  Tally t = RunDir("draft2020-12/optional", false, false);
  PrintFailures(t);
  EXPECT_GE(t.pass, 162);
}

TEST(JsonSchemaSuite, Draft2020OptionalFormat) {
  Tally t = RunDir("draft2020-12/optional/format", false, true);
  PrintFailures(t);
  EXPECT_GE(t.pass, 683);
}

TEST(JsonSchemaSuite, Draft7Optional) {
  Tally t = RunDir("draft7/optional", true, false);
  PrintFailures(t);
  EXPECT_GE(t.pass, 114);
}

TEST(JsonSchemaSuite, Draft7OptionalFormat) {
  Tally t = RunDir("draft7/optional/format", true, true);
  PrintFailures(t);
  EXPECT_GE(t.pass, 595);
}

}  // namespace
}  // namespace lfm
