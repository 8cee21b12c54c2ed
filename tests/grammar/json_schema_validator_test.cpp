// Focused checks of JsonSchemaValidator behaviour the official suite does not pin down: error locations,
// malformed schemas as Status errors, recursion limits and API details.
#include <gtest/gtest.h>

#include "grammar/format_checks.h"
#include "grammar/json_schema_validator.h"
#include "test_util.h"

namespace lfm {
namespace {

using nlohmann::json;

JsonSchemaValidator MustCompile(const json& schema, const JsonSchemaValidator::Options& o = {}) {
  auto v = JsonSchemaValidator::Compile(schema, o);
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return std::move(v).value();
}

TEST(JsonSchemaValidator, ErrorCarriesInstanceAndKeywordLocation) {
  auto v = MustCompile(json::parse(R"({"properties":{"items":{"type":"array","items":{"properties":
      {"name~/x":{"type":"string","minLength":3}}}}}})"));
  std::vector<ValidationError> errors;
  EXPECT_FALSE(v.Validate(json::parse(R"({"items":[{"name~/x":"abcd"},{"name~/x":"ab"}]})"), &errors));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].instance_pointer, "/items/1/name~0~1x");
  EXPECT_EQ(errors[0].schema_pointer, "#/properties/items/items/properties/name~0~1x/minLength");
  EXPECT_NE(errors[0].message.find("shorter"), std::string::npos) << errors[0].message;
}

TEST(JsonSchemaValidator, CollectsAllErrorsInOrder) {
  auto v = MustCompile(json::parse(R"({"required":["a","b"],"properties":{"c":{"type":"integer"}}})"));
  std::vector<ValidationError> errors;
  EXPECT_FALSE(v.Validate(json::parse(R"({"c":1.5})"), &errors));
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_EQ(errors[0].schema_pointer, "#/required");
  EXPECT_EQ(errors[2].instance_pointer, "/c");
  EXPECT_TRUE(v.Validate(json::parse(R"({"a":0,"b":0,"c":2.0})"), &errors));
  EXPECT_TRUE(errors.empty());
}

TEST(JsonSchemaValidator, IntegerAndFloatEqualForEnumConstUnique) {
  auto v = MustCompile(json::parse(R"({"enum":[1,[2],{"a":3}]})"));
  EXPECT_TRUE(v.Validate(json::parse("1.0")));
  EXPECT_TRUE(v.Validate(json::parse("[2.0]")));
  EXPECT_TRUE(v.Validate(json::parse(R"({"a":3.0})")));
  EXPECT_FALSE(v.Validate(json::parse("true")));
  auto u = MustCompile(json::parse(R"({"uniqueItems":true})"));
  EXPECT_FALSE(u.Validate(json::parse("[1, 1.0]")));
  EXPECT_TRUE(u.Validate(json::parse("[1, true]")));
  EXPECT_TRUE(u.Validate(json::parse("[0, false]")));
}

TEST(JsonSchemaValidator, MultipleOfAndBigIntegers) {
  auto v = MustCompile(json::parse(R"({"multipleOf":0.01})"));
  EXPECT_TRUE(v.Validate(json::parse("19.99")));
  EXPECT_TRUE(v.Validate(json::parse("0.07")));
  EXPECT_FALSE(v.Validate(json::parse("0.075")));
  auto m = MustCompile(json::parse(R"({"maximum":18446744073709551615,"minimum":-9223372036854775808})"));
  EXPECT_TRUE(m.Validate(json::parse("18446744073709551615")));
  EXPECT_FALSE(m.Validate(json::parse("1e20")));
  auto e = MustCompile(json::parse(R"({"exclusiveMaximum":9007199254740993})"));
  EXPECT_FALSE(e.Validate(json::parse("9007199254740993")));
  EXPECT_TRUE(e.Validate(json::parse("9007199254740992")));
}

TEST(JsonSchemaValidator, LengthCountsCodePoints) {
  auto v = MustCompile(json::parse(R"({"maxLength":2,"minLength":2})"));
  EXPECT_TRUE(v.Validate(json("\xF0\x9F\x98\x80\xC3\xA9")));  // U+1F600 U+00E9
  EXPECT_FALSE(v.Validate(json("abc")));
}

TEST(JsonSchemaValidator, MalformedSchemasAreStatusErrors) {
  const char* bad[] = {
      R"({"type":"strng"})", R"({"type":5})", R"({"minLength":-1})", R"({"minLength":1.5})",
      R"({"pattern":"(["})", R"({"patternProperties":{"(":{}}})", R"({"properties":[]})", R"({"allOf":[]})",
      R"({"allOf":{}})", R"({"items":5})", R"({"$ref":"#/nowhere"})", R"({"$ref":"#nope"})",
      R"({"$ref":"http://example.com/x.json"})", R"({"multipleOf":0})", R"({"required":[1]})", R"(5)",
      R"({"$ref":"#/a~2"})", R"({"$id":"http://x/y#frag"})", R"({"not":"x"})", R"({"$ref":"%zz"})"};
  for (const char* s : bad) {
    auto v = JsonSchemaValidator::Compile(json::parse(s));
    EXPECT_FALSE(v.ok()) << s;
    if (!v.ok()) {
      EXPECT_FALSE(v.status().message().empty());
    }
  }
}

TEST(JsonSchemaValidator, UnknownKeywordsAreIgnored) {
  auto v = MustCompile(json::parse(R"({"x-frobnicate":{"type":"string"},"minimum":1})"));
  EXPECT_TRUE(v.Validate(json(5)));
  EXPECT_FALSE(v.Validate(json(0)));
}

TEST(JsonSchemaValidator, ReferenceLoopOnSameLocationTerminates) {
  for (const char* s : {R"({"$ref":"#"})", R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"allOf":[{"$ref":"#/$defs/a"}]}},
                        "$ref":"#/$defs/a"})"}) {
    auto v = MustCompile(json::parse(s));
    std::vector<ValidationError> errors;
    EXPECT_FALSE(v.Validate(json::parse(R"({"a":1})"), &errors)) << s;
    ASSERT_FALSE(errors.empty());
    EXPECT_NE(errors.back().message.find("recursion"), std::string::npos) << errors.back().message;
  }
  // Recursion that descends into the instance is fine.
  auto tree = MustCompile(json::parse(R"({"type":"array","items":{"$ref":"#"}})"));
  EXPECT_TRUE(tree.Validate(json::parse("[[],[[[]]]]")));
  EXPECT_FALSE(tree.Validate(json::parse("[[],[[1]]]")));
}

TEST(JsonSchemaValidator, DeepInstancesHitTheLimitNotTheStack) {
  auto tree = MustCompile(json::parse(R"({"type":"array","items":{"$ref":"#"}})"));
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  std::vector<ValidationError> errors;
  EXPECT_FALSE(tree.Validate(json::parse(deep), &errors));
  ASSERT_FALSE(errors.empty());
  std::string deeper(20000, '[');
  deeper += std::string(20000, ']');
  auto e = MustCompile(json::parse(R"({"const":[]})"));
  EXPECT_FALSE(e.Validate(json::parse(deeper)));
}

TEST(JsonSchemaValidator, DeepSchemaIsRefused) {
  std::string s;
  for (int i = 0; i < 3000; ++i) s += R"({"not":)";
  s += "{}";
  s += std::string(3000, '}');
  auto v = JsonSchemaValidator::Compile(json::parse(s));
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kResourceExhausted);
}

TEST(JsonSchemaValidator, FormatIsAnnotationUnlessAsserted) {
  json schema = json::parse(R"({"format":"date-time"})");
  EXPECT_TRUE(MustCompile(schema).Validate(json("yesterday")));
  JsonSchemaValidator::Options o;
  o.assert_formats = true;
  auto v = MustCompile(schema, o);
  EXPECT_FALSE(v.Validate(json("yesterday")));
  EXPECT_TRUE(v.Validate(json("2024-02-29T23:59:60Z")));
  EXPECT_FALSE(v.Validate(json("2023-02-29T10:00:00Z")));
  EXPECT_TRUE(v.Validate(json(12)));  // formats only constrain strings
}

TEST(JsonSchemaValidator, RemotesComeOnlyFromConfiguredPlaces) {
  json schema = json::parse(R"({"$ref":"http://localhost:1234/integer.json"})");
  EXPECT_FALSE(JsonSchemaValidator::Compile(schema).ok());  // no remotes_dir: never the network
  JsonSchemaValidator::Options o;
  o.remotes_dir = testing::TestData("json-schema-test-suite/remotes");
  auto v = MustCompile(schema, o);
  EXPECT_TRUE(v.Validate(json(3)));
  EXPECT_FALSE(v.Validate(json("3")));
  int calls = 0;
  o.load_document = [&](const std::string& uri) -> Result<json> {
    ++calls;
    if (uri == "https://example.com/s.json") return json::parse(R"({"$defs":{"p":{"minimum":10}}})");
    return NotFound(uri);
  };
  auto w = MustCompile(json::parse(R"({"$ref":"https://example.com/s.json#/$defs/p"})"), o);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(w.Validate(json(11)));
  EXPECT_FALSE(w.Validate(json(9)));
}

TEST(JsonSchemaValidator, Draft7SelectedBySchemaKeyword) {
  json s7 = json::parse(R"({"$schema":"http://json-schema.org/draft-07/schema#","items":[{"type":"string"}],
      "additionalItems":false,"$ref":"#/definitions/t","definitions":{"t":{"type":"array"}}})");
  auto v = MustCompile(s7);
  // draft-07: $ref overrides its siblings, so items/additionalItems are ignored.
  EXPECT_TRUE(v.Validate(json::parse("[1, 2]")));
  EXPECT_FALSE(v.Validate(json::parse("{}")));
  json s2020 = json::parse(R"({"prefixItems":[{"type":"string"}],"items":false,"$ref":"#/$defs/t",
      "$defs":{"t":{"type":"array"}}})");
  auto w = MustCompile(s2020);
  EXPECT_FALSE(w.Validate(json::parse("[1]")));
  EXPECT_FALSE(w.Validate(json::parse(R"(["a", "b"])")));
  EXPECT_TRUE(w.Validate(json::parse(R"(["a"])")));
}

TEST(FormatChecks, Basics) {
  EXPECT_TRUE(IsValidIpv6("::ffff:192.168.0.1"));
  EXPECT_FALSE(IsValidIpv6("1:2:3:4:5:6:7:8:9"));
  EXPECT_TRUE(IsValidDuration("P1Y2M3DT4H5M6S"));
  EXPECT_FALSE(IsValidDuration("P1Y2D"));
  EXPECT_TRUE(IsValidEmail("\"joe bloggs\"@example.com"));
  EXPECT_FALSE(IsValidEmail("joe..bloggs@example.com"));
  EXPECT_TRUE(IsValidUri("http://[::1]:80/a?b#c", true));
  EXPECT_FALSE(IsValidUri("//foo.bar/?baz=qux#quux", true));
  EXPECT_TRUE(IsValidUuid("2eb8aa08-aa98-11ea-b4aa-73b441d16380"));
  EXPECT_TRUE(CheckStringFormat("unknown-format", "anything"));
}

}  // namespace
}  // namespace lfm
