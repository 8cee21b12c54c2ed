// End to end: the tiny random model, constrained by a grammar, produces output that matches it, every
// time. Random weights make this a real test: unconstrained, the model writes gibberish.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

class ConstrainedGeneration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    engine_ = std::move(e).value().release();
  }
  static void TearDownTestSuite() {
    delete engine_;
    engine_ = nullptr;
  }
  static Generation Run(const std::shared_ptr<const CompiledGrammar>& g, uint64_t seed, const std::string& prompt,
                        int max_tokens = 400) {
    GenerateOptions o;
    o.max_tokens = max_tokens;
    o.grammar = g;
    o.sampling = SamplingParams{.temperature = 1.5f, .seed = seed};
    auto r = engine_->Complete(prompt, o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Generation{};
  }
  static Engine* engine_;
};
Engine* ConstrainedGeneration::engine_ = nullptr;

// Twenty schemas covering the common keywords. Strings, arrays and objects are bounded (maxLength,
// maxItems, additionalProperties: false) so that a random model reaches the end within the token
// budget: left open, it happily writes property names forever.
const char* kSchemas[] = {
    R"({"type": "object", "properties": {"name": {"type": "string", "maxLength": 10}}, "required": ["name"],
        "additionalProperties": false})",
    R"({"type": "integer", "minimum": -50, "maximum": 50})",
    R"({"type": "boolean"})",
    R"({"enum": ["red", "green", "blue", 42, null]})",
    R"({"const": {"a": [1, 2, {"b": "c"}]}})",
    R"({"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9}, "minItems": 2, "maxItems": 4})",
    R"({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}, "required": ["id"],
        "additionalProperties": false})",
    R"({"type": "object", "properties": {"day": {"type": "string", "format": "date"}}, "required": ["day"],
        "additionalProperties": false})",
    R"({"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"})",
    R"({"type": "object", "properties": {"x": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["x"], "additionalProperties": false})",
    R"({"anyOf": [{"type": "integer", "minimum": 0, "maximum": 5}, {"type": "string", "enum": ["none"]}]})",
    R"({"type": "array", "prefixItems": [{"type": "string", "maxLength": 3}, {"type": "boolean"}],
        "items": false})",
    R"({"$defs": {"leaf": {"type": "integer", "minimum": 1, "maximum": 3}},
        "type": "object", "properties": {"l": {"$ref": "#/$defs/leaf"}}, "required": ["l"],
        "additionalProperties": false})",
    R"({"type": "object", "properties": {"a": {"type": "integer", "minimum": 0, "maximum": 9},
        "b": {"type": "string", "maxLength": 4}}, "required": ["a", "b"], "additionalProperties": false})",
    R"({"type": "string", "minLength": 3, "maxLength": 6})",
    R"({"type": ["integer", "null"], "minimum": 10, "maximum": 20})",
    R"({"type": "object", "properties": {"tags": {"type": "array", "items": {"enum": ["x", "y"]},
        "maxItems": 3}}, "required": ["tags"], "additionalProperties": false})",
    R"({"type": "object", "properties": {"ip": {"type": "string", "format": "ipv4"}}, "required": ["ip"],
        "additionalProperties": false})",
    R"({"oneOf": [{"type": "object", "properties": {"kind": {"const": "a"}}, "required": ["kind"],
        "additionalProperties": false}, {"type": "object", "properties": {"kind": {"const": "b"},
        "n": {"type": "integer", "minimum": 0, "maximum": 3}}, "required": ["kind", "n"],
        "additionalProperties": false}]})",
    R"({"type": "object", "properties": {"caption": {"type": "string", "maxLength": 16},
        "objects": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1}},
        "required": ["caption", "objects", "confidence"], "additionalProperties": false})",
};

TEST_F(ConstrainedGeneration, JsonSchemaOutputsAlwaysValidate) {
  int runs = 0;
  for (const char* schema : kSchemas) {
    auto g = engine_->CompileGrammar(GrammarKind::kJsonSchema, schema);
    ASSERT_TRUE(g.ok()) << g.status().ToString() << "\n" << schema;
    for (uint64_t seed : {1u, 2u}) {
      Generation out = Run(*g, seed, "Output:", 200);
      ++runs;
      EXPECT_EQ(out.finish_reason, "eos") << schema << " seed " << seed << " text " << out.text.substr(0, 200);
      EXPECT_TRUE(out.grammar_complete) << schema;
      // Checked by the independent JSON Schema validator (tested on the official suite).
      EXPECT_EQ(out.schema_validation, "valid") << schema << " seed " << seed << " text " << out.text.substr(0, 200);
    }
  }
  EXPECT_EQ(runs, 40);
}

TEST_F(ConstrainedGeneration, RegexOutputsFullyMatch) {
  const std::string pattern = "(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])";
  auto g = engine_->CompileGrammar(GrammarKind::kRegex, pattern);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const std::regex check(pattern);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Generation out = Run(*g, seed, "Date:");
    EXPECT_EQ(out.finish_reason, "eos");
    EXPECT_TRUE(std::regex_match(out.text, check)) << out.text;
  }
}

TEST_F(ConstrainedGeneration, LarkOutputsParse) {
  // Sums of small numbers, e.g. "3+14+(2+7)".
  const std::string lark = R"LARK(
start: expr
expr: term ("+" term){0,3}
term: NUMBER | "(" expr ")"
NUMBER: /[0-9]{1,2}/
)LARK";
  auto g = engine_->CompileGrammar(GrammarKind::kLark, lark);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  // An independent recogniser: balanced parentheses, numbers of 1-2 digits joined by '+'.
  auto well_formed = [](const std::string& s) {
    int depth = 0;
    bool expect_term = true;
    size_t i = 0;
    while (i < s.size()) {
      char c = s[i];
      if (expect_term) {
        if (c == '(') { ++depth; ++i; continue; }
        size_t j = i;
        while (j < s.size() && j - i < 2 && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
        if (j == i) return false;
        i = j;
        expect_term = false;
      } else if (c == '+') {
        expect_term = true; ++i;
      } else if (c == ')') {
        if (--depth < 0) return false;
        ++i;
      } else {
        return false;
      }
    }
    return depth == 0 && !expect_term;
  };
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Generation out = Run(*g, seed, "Sum:");
    EXPECT_EQ(out.finish_reason, "eos") << out.text;
    EXPECT_TRUE(well_formed(out.text)) << out.text;
  }
}

TEST_F(ConstrainedGeneration, UnsupportedKeywordIsRefusedWithItsPointer) {
  auto g = engine_->CompileGrammar(GrammarKind::kJsonSchema,
                                   R"({"type": "object", "properties": {"a": {"not": {"type": "string"}}}})");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("'not'"), std::string::npos) << g.status().message();
  EXPECT_NE(g.status().message().find("/properties/a"), std::string::npos) << g.status().message();
  auto bad_json = engine_->CompileGrammar(GrammarKind::kJsonSchema, "{not json");
  EXPECT_FALSE(bad_json.ok());
}

}  // namespace
}  // namespace lfm
