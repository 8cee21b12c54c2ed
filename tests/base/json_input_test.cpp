#include "base/json_input.h"

#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

namespace lfm {
namespace {

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonInput, ParsesOrdinaryDocumentsKeepingKeyOrderWhenAsked) {
  auto j = ParseOrderedJson(R"({"b": [1, {"c": "x]}"}], "a": null})", "req.json");
  ASSERT_OK(j);
  EXPECT_EQ(j->begin().key(), "b");
  EXPECT_EQ((*j)["b"][1]["c"], "x]}");
  auto plain = ParseJson("[true]", "x");
  ASSERT_OK(plain);
  EXPECT_TRUE((*plain)[0].get<bool>());
}

TEST(JsonInput, DepthAtTheLimitParsesOneDeeperIsRefusedWithNameAndOffset) {
  ASSERT_OK(ParseJson(Nested(128), "ok.json"));
  auto deep = ParseJson(Nested(129), "messages.json");
  ASSERT_FALSE(deep.ok());
  EXPECT_EQ(deep.status().message(), "messages.json: JSON nesting deeper than 128 at byte 128");
  EXPECT_FALSE(ParseJson(Nested(5), "x", /*max_depth=*/4).ok());
  EXPECT_TRUE(ParseJson(Nested(5), "x", /*max_depth=*/5).ok());
}

// The old code handed such text straight to nlohmann, and the readers then recursed per level.
TEST(JsonInput, FiftyThousandLevelsAreRefusedBeforeAnyTreeIsBuilt) {
  std::string deep = std::string(50000, '[') + "1" + std::string(50000, ']');
  auto r = ParseOrderedJson(deep, "tools.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tools.json: JSON nesting deeper than 128"), std::string::npos);
  // Unterminated and object nesting count too.
  std::string objects;
  for (int i = 0; i < 50000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(ParseJson(objects, "o").ok());
}

TEST(JsonInput, BracketsInsideStringsAndEscapesDoNotCount) {
  std::string s = "[\"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\\\\\"]";
  auto r = ParseJson(s, "s.json", 2);
  ASSERT_OK(r);
  EXPECT_EQ((*r)[0].get<std::string>().size(), 2002u);
  // An escaped quote must not end the string early and hide real brackets from the scan...
  // ...nor may a backslash outside a string make the scan skip a bracket.
  EXPECT_FALSE(CheckJsonDepth("\\[[[", "x", 2).ok());
  // Unmatched closers never lower the count below zero.
  EXPECT_FALSE(CheckJsonDepth("]]]][[[", "x", 2).ok());
}

TEST(JsonInput, SyntaxAndUtf8ErrorsNameInputAndByte) {
  auto bad = ParseJson("{\"a\": tru}", "config.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("config.json: invalid JSON at byte "), std::string::npos)
      << bad.status().message();
  auto utf8 = ParseJson("[\"\xff\"]", "m.json");
  ASSERT_FALSE(utf8.ok());
  EXPECT_NE(utf8.status().message().find("m.json: invalid JSON at byte 2"), std::string::npos)
      << utf8.status().message();
  auto empty = ParseJson("", "e.json");
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("e.json"), std::string::npos);
  // Trailing garbage and embedded NUL bytes are errors, not silently truncated input.
  auto nul = ParseJson(std::string("[1]\0[2]", 7), "n");
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.status().message(), "n: invalid JSON at byte 3: a NUL byte");
}

}  // namespace
}  // namespace lfm
