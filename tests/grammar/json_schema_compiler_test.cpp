// JSON Schema → grammar: shapes of schema the benchmark records exercise only in bulk. The matcher's
// verdict on each instance is checked against JsonSchemaValidator (itself checked against the
// official test suite), so the expectations are not hand-written.
#include <gtest/gtest.h>

#include "grammar/grammar.h"
#include "grammar/json_schema_validator.h"
#include "test_util.h"
#include "test_vocab.h"

namespace lfm {
namespace {

using nlohmann::json;

std::shared_ptr<const TokenTrie> ByteTrie() {
  TokenVocab v;
  for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
  v.token_bytes.push_back("<eos>");
  v.is_special.assign(v.token_bytes.size(), false);
  v.is_special.back() = true;
  v.eos_ids = {256};
  return TokenTrie::Build(v).value();
}

// The matcher accepts `text` as a complete instance.
bool Matches(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  GrammarMatcher m(g, ByteTrie());
  return m.AcceptBytes(text) && m.IsAccepting();
}

void ExpectAgreesWithValidator(const std::string& schema_text, const std::vector<std::string>& instances,
                               int want_valid) {
  json schema = json::parse(schema_text);
  auto g = Grammar::FromJsonSchema(std::string_view(schema_text));
  ASSERT_OK(g);
  auto v = JsonSchemaValidator::Compile(schema);
  ASSERT_OK(v);
  int valid = 0;
  for (const auto& text : instances) {
    bool expect = v.value().Validate(json::parse(text));
    valid += expect;
    EXPECT_EQ(Matches(g.value(), text), expect) << text;
  }
  EXPECT_EQ(valid, want_valid) << "the instance list no longer covers both verdicts";
}

// A $ref to a definition holding anyOf/oneOf: the branch intersections meet the definition twice
// (once through the $ref, once with its branches expanded). This once compiled to an empty language.
TEST(JsonSchemaCompiler, RefToAnyOfDefinitionAcceptsEachBranch) {
  ExpectAgreesWithValidator(
      R"({"$defs":{"X":{"anyOf":[{"type":"string","maxLength":5},{"type":"integer"}]}},
          "type":"object","properties":{"a":{"$ref":"#/$defs/X"}},"required":["a"],"additionalProperties":false})",
      {R"({"a":"abc"})", R"({"a":12})", R"({"a":"abcdefg"})", R"({"a":true})", R"({"a":1.5})", R"({})"}, 2);
  ExpectAgreesWithValidator(
      R"({"$defs":{"X":{"oneOf":[{"const":"x"},{"type":"array","items":{"$ref":"#/$defs/X"}}]}},"$ref":"#/$defs/X"})",
      {R"("x")", R"(["x",["x"]])", R"([])", R"("y")", R"([["y"]])", R"(1)"}, 3);
}

// A recursive oneOf reached from many places (tree-sitter's grammar schema): each (site, branch)
// pair compiles once, not every combination of branches.
TEST(JsonSchemaCompiler, RecursiveOneOfStaysLinear) {
  std::string defs, branches;
  for (int i = 0; i < 12; ++i) {
    std::string name = "r" + std::to_string(i);
    defs += "\"" + name + "\":{\"type\":\"object\",\"properties\":{\"type\":{\"const\":\"" + name +
            "\"},\"content\":{\"$ref\":\"#/$defs/rule\"}},\"required\":[\"type\"]},";
    branches += std::string(i ? "," : "") + "{\"$ref\":\"#/$defs/" + name + "\"}";
  }
  std::string schema = "{\"$defs\":{" + defs + "\"rule\":{\"oneOf\":[" + branches +
                       "]}},\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/rule\"}}";
  auto g = Grammar::FromJsonSchema(std::string_view(schema));
  ASSERT_OK(g);
  // 13 reference sites x 12 branches, a few rules each; the combinations would be thousands.
  EXPECT_LT(g.value()->num_rules(), 2000u);
  EXPECT_TRUE(Matches(g.value(), R"([{"type":"r3","content":{"type":"r7"}},{"type":"r0"}])"));
  EXPECT_FALSE(Matches(g.value(), R"([{"type":"r3","content":{"type":"r12"}}])"));
}

// Drafts 4-7 name a subschema with a fragment-only id; $ref "#name" points at it.
TEST(JsonSchemaCompiler, FragmentIdIsAnAnchor) {
  ExpectAgreesWithValidator(
      R"({"$schema":"http://json-schema.org/draft-07/schema#",
          "definitions":{"n":{"$id":"#num","type":"integer","minimum":3}},
          "type":"array","items":{"$ref":"#num"}})",
      {"[3,4]", "[]", "[2]", R"(["3"])"}, 2);
  auto g = Grammar::FromJsonSchema(std::string_view(
      R"({"definitions":{"n":{"id":"#num","type":"integer"}},"properties":{"a":{"$ref":"#num"}}})"));
  ASSERT_OK(g);
  EXPECT_TRUE(Matches(g.value(), R"({"a":1})"));
  EXPECT_FALSE(Matches(g.value(), R"({"a":"1"})"));
}

// Many properties that each only say {"$ref": X} share one compiled X.
TEST(JsonSchemaCompiler, PureReferencesShareTheirTarget) {
  std::string record, props;
  for (int i = 0; i < 100; ++i) {
    record += std::string(i ? "," : "") + "\"f" + std::to_string(i) + "\":{\"type\":\"string\"}";
    props += std::string(i ? "," : "") + "\"p" + std::to_string(i) + "\":{\"$ref\":\"#/$defs/rec\",\"description\":\"d\"}";
  }
  std::string schema = "{\"$defs\":{\"rec\":{\"type\":\"object\",\"properties\":{" + record +
                       "}}},\"type\":\"object\",\"properties\":{" + props + "}}";
  auto g = Grammar::FromJsonSchema(std::string_view(schema));
  ASSERT_OK(g);
  EXPECT_LT(g.value()->num_rules(), 2000u);  // 100 copies of the record would be ~40,000
  EXPECT_TRUE(Matches(g.value(), R"({"p3":{"f7":"x"},"p9":{}})"));
  EXPECT_FALSE(Matches(g.value(), R"({"p3":{"f7":1}})"));
}

}  // namespace
}  // namespace lfm
