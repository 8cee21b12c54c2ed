// Pathological inputs stay within time and memory limits, and fail with a clear error past them.
#include <gtest/gtest.h>

#include "base/timer.h"
#include "grammar/grammar.h"
#include "test_util.h"
#include "test_vocab.h"

namespace lfm {
namespace {

std::shared_ptr<const TokenTrie> SmallTrie() {
  TokenVocab v;
  for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
  v.token_bytes.push_back("[[[[");
  v.token_bytes.push_back("]]]]");
  v.token_bytes.push_back("<eos>");
  v.is_special.assign(v.token_bytes.size(), false);
  v.is_special.back() = true;
  v.eos_ids = {static_cast<int32_t>(v.token_bytes.size() - 1)};
  return TokenTrie::Build(v).value();
}

TEST(Pathological, NestingDepth10000InstanceIsAccepted) {
  auto g = Grammar::FromJsonSchema(std::string_view("true"));
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), SmallTrie());
  Timer t;
  std::string open(10000, '['), close(10000, ']');
  ASSERT_TRUE(m.AcceptBytes(open));
  std::vector<uint32_t> mask;
  ASSERT_TRUE(m.ComputeMask(&mask).ok());
  EXPECT_TRUE((mask[']' >> 5] >> (']' & 31)) & 1);
  ASSERT_TRUE(m.AcceptBytes(close));
  EXPECT_TRUE(m.IsAccepting());
  EXPECT_LT(t.Seconds(), 20.0);
}

TEST(Pathological, SchemaNestedTooDeepIsRefused) {
  std::string s;
  for (int i = 0; i < 10000; ++i) s += R"({"type":"array","items":)";
  s += "{}";
  for (int i = 0; i < 10000; ++i) s += "}";
  auto g = Grammar::FromJsonSchema(std::string_view(s));
  ASSERT_FALSE(g.ok());
  // The JSON reader's depth scan (base/json_input) refuses it before a tree is built.
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument) << g.status().ToString();
  EXPECT_NE(g.status().message().find("deeper"), std::string::npos) << g.status().ToString();
}

TEST(Pathological, RecursiveRefLoopIsRefused) {
  auto g = Grammar::FromJsonSchema(std::string_view(R"({"$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})"));
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kResourceExhausted) << g.status().ToString();
}

TEST(Pathological, HundredThousandMemberEnum) {
  nlohmann::ordered_json schema;
  schema["enum"] = nlohmann::ordered_json::array();
  for (int i = 0; i < 100000; ++i) schema["enum"].push_back("member_" + std::to_string(i * 7919 % 1000003));
  Timer t;
  auto g = Grammar::FromJsonSchema(schema);
  ASSERT_OK(g);
  auto trie = testing::Lfm2SyntheticTrie();
  GrammarMatcher m(g.value(), trie);
  std::vector<uint32_t> mask;
  ASSERT_TRUE(m.ComputeMask(&mask).ok());
  std::string member = "\"member_" + std::to_string(4242 * 7919 % 1000003) + "\"";
  for (int32_t id : testing::GreedyTokens(*trie, member)) {
    ASSERT_TRUE(m.ComputeMask(&mask).ok());
    ASSERT_TRUE((mask[id >> 5] >> (id & 31)) & 1);
    ASSERT_TRUE(m.AcceptToken(id).ok());
  }
  EXPECT_TRUE(m.IsAccepting());
  GrammarMatcher m2(g.value(), trie);
  EXPECT_FALSE(m2.AcceptBytes("\"member_x\"") && m2.IsAccepting());
  EXPECT_LT(t.Seconds(), 30.0);
}

TEST(Pathological, CatastrophicRegexIsLinear) {
  auto g = Grammar::FromRegex("(a*)*b");
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), SmallTrie());
  Timer t;
  ASSERT_TRUE(m.AcceptBytes(std::string(20000, 'a')));
  EXPECT_FALSE(m.IsAccepting());
  EXPECT_FALSE(m.AcceptBytes("c"));
  ASSERT_TRUE(m.AcceptBytes("b"));
  EXPECT_TRUE(m.IsAccepting());
  auto g2 = Grammar::FromRegex("(x+x+)+y");
  ASSERT_OK(g2);
  GrammarMatcher m2(g2.value(), SmallTrie());
  EXPECT_TRUE(m2.AcceptBytes(std::string(5000, 'x')));
  EXPECT_FALSE(m2.IsAccepting());
  EXPECT_LT(t.Seconds(), 10.0);
}

TEST(Pathological, DfaBlowUpHitsTheStateLimit) {
  // (a|b)*a(a|b){20} needs 2^20 DFA states; the lexer budget stops it with a clear error.
  auto g = Grammar::FromRegex("(a|b)*a(a|b){20}");
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), SmallTrie());
  std::string s;
  uint64_t x = 12345;
  bool failed = false;
  for (int i = 0; i < 300000 && !failed; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    char c = (x >> 40) & 1 ? 'a' : 'b';
    if (!m.AcceptBytes(std::string(1, c))) failed = true;
  }
  ASSERT_TRUE(failed);
  Status lim = m.LimitStatus();
  EXPECT_EQ(lim.code(), StatusCode::kResourceExhausted) << lim.ToString();
  EXPECT_NE(lim.message().find("lexer"), std::string::npos);
}

TEST(Pathological, RepetitionCountsAreNotUnrolled) {
  auto g = Grammar::FromJsonSchema(std::string_view(
      R"({"type":"object","properties":{"s":{"type":"string","maxLength":100000},
          "a":{"type":"array","items":{"type":"integer"},"minItems":3,"maxItems":1000000}}})"));
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), SmallTrie());
  EXPECT_TRUE(m.AcceptBytes("{\"s\":\"" + std::string(5000, 'z') + "\",\"a\":[1,2,3,4]}"));
  EXPECT_TRUE(m.IsAccepting());
  GrammarMatcher m2(g.value(), SmallTrie());
  EXPECT_TRUE(m2.AcceptBytes("{\"a\":[1,2"));
  EXPECT_FALSE(m2.AcceptBytes("]"));
}

}  // namespace
}  // namespace lfm
