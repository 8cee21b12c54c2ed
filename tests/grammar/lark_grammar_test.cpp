#include <gtest/gtest.h>

#include "base/timer.h"
#include "grammar/grammar.h"
#include "test_util.h"
#include "test_vocab.h"

namespace lfm {
namespace {

std::shared_ptr<const TokenTrie> ByteTrie() {
  TokenVocab v;
  for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
  v.is_special.assign(256, false);
  return TokenTrie::Build(v).value();
}

bool Accepts(const std::shared_ptr<const Grammar>& g, const std::string& s) {
  GrammarMatcher m(g, ByteTrie());
  return m.AcceptBytes(s) && m.IsAccepting();
}

TEST(LarkGrammar, Arithmetic) {
  auto g = Grammar::FromLark(R"LARK(
    // left-recursive expression grammar
    start: expr
    expr: expr "+" term | expr "-" term | term
    term: term "*" factor | factor
    factor: NUMBER | "(" expr ")" | "-" factor
    %import common.NUMBER
    %ignore " "
  )LARK");
  ASSERT_OK(g);
  EXPECT_TRUE(Accepts(g.value(), "1+2*3"));
  EXPECT_TRUE(Accepts(g.value(), "(1 + 2) * -3.5e2"));
  EXPECT_FALSE(Accepts(g.value(), "1+"));
  EXPECT_FALSE(Accepts(g.value(), "(1"));
  EXPECT_FALSE(Accepts(g.value(), "1 2"));
}

TEST(LarkGrammar, OperatorsAndTerminals) {
  auto g = Grammar::FromLark(R"LARK(
    start: greeting name? ("," name)* "!"~1..3 [tail]
    greeting: "hello"i | "hi"
    name: WORD
    tail: /[0-9]{2}/ | DIGITS{2,3}
    DIGITS: "a".."c"+
    %import common.WORD
    %ignore WS
    %import common.WS
  )LARK");
  ASSERT_OK(g);
  EXPECT_TRUE(Accepts(g.value(), "HeLLo bob, alice!!"));
  EXPECT_TRUE(Accepts(g.value(), "hi!42"));
  EXPECT_TRUE(Accepts(g.value(), "hi! ab cc"));
  EXPECT_FALSE(Accepts(g.value(), "hi!!!!"));
  EXPECT_FALSE(Accepts(g.value(), "hey!"));
}

TEST(LarkGrammar, JsonLikeGrammarMatchesTokens) {
  auto g = Grammar::FromLark(R"LARK(
    ?start: value
    ?value: object | array | ESCAPED_STRING | SIGNED_NUMBER -> number | "true" | "false" | "null"
    array  : "[" [value ("," value)*] "]"
    object : "{" [pair ("," pair)*] "}"
    pair   : ESCAPED_STRING ":" value
    %import common.ESCAPED_STRING
    %import common.SIGNED_NUMBER
    %import common.WS
    %ignore WS
  )LARK");
  ASSERT_OK(g);
  auto trie = testing::Lfm2SyntheticTrie();
  std::string doc = R"({"a": [1, 2.5, {"b": null}], "c": "x\"y"})";
  GrammarMatcher m(g.value(), trie);
  std::vector<uint32_t> mask;
  for (int32_t id : testing::GreedyTokens(*trie, doc)) {
    ASSERT_TRUE(m.ComputeMask(&mask).ok());
    ASSERT_TRUE((mask[id >> 5] >> (id & 31)) & 1) << trie->token_bytes(id);
    ASSERT_TRUE(m.AcceptToken(id).ok());
  }
  EXPECT_TRUE(m.IsAccepting());
  ASSERT_TRUE(m.ComputeMask(&mask).ok());
  EXPECT_TRUE((mask[7 >> 5] >> (7 & 31)) & 1);  // EOS
}

TEST(LarkGrammar, ErrorsNameLineAndColumn) {
  auto bad = Grammar::FromLark("start: a\n a: \"x\" )");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("lark:2:"), std::string::npos) << bad.status().ToString();
  EXPECT_FALSE(Grammar::FromLark("start: b").ok());
  EXPECT_FALSE(Grammar::FromLark("x: \"a\"").ok());  // no start
  EXPECT_EQ(Grammar::FromLark("start: <|im_end|>").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Grammar::FromLark("start: A\nA: A \"x\"").ok());  // recursive terminal
  EXPECT_FALSE(Grammar::FromLark("start: /(?=a)a/").ok());
  EXPECT_FALSE(Grammar::FromLark("%import other.X\nstart: \"a\"").ok());
}

TEST(LarkGrammar, AmbiguousAndLeftRecursiveGrammarsStayBounded) {
  // Highly ambiguous: s -> s s | "a". Earley handles it in polynomial time; rows stay bounded.
  auto g = Grammar::FromLark("start: s\ns: s s | \"a\"");
  ASSERT_OK(g);
  Timer t;
  GrammarMatcher m(g.value(), ByteTrie());
  EXPECT_TRUE(m.AcceptBytes(std::string(300, 'a')));
  EXPECT_TRUE(m.IsAccepting());
  EXPECT_LT(t.Seconds(), 20.0);
  // Left recursion through several rules and nullable rules.
  auto g2 = Grammar::FromLark("start: a\na: b \"x\" | \"y\"\nb: a | c\nc: ");
  ASSERT_OK(g2);
  EXPECT_TRUE(Accepts(g2.value(), "yxxx"));
  EXPECT_TRUE(Accepts(g2.value(), "x"));
  // Unproductive grammar: refused.
  auto g3 = Grammar::FromLark("start: a\na: a \"x\"");
  EXPECT_FALSE(g3.ok());
}

TEST(LarkGrammar, ItemLimitGivesAClearError) {
  // Every prefix of a^n is ambiguous in many ways; with a tiny item budget the limit trips.
  auto g = Grammar::FromLark("start: s\ns: s s s | s s | \"a\" | ");
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), ByteTrie());
  Timer t;
  bool ok = true;
  for (int i = 0; i < 3000 && ok; ++i) ok = m.AcceptBytes("a");
  ASSERT_FALSE(ok);
  EXPECT_EQ(m.LimitStatus().code(), StatusCode::kResourceExhausted) << m.LimitStatus().ToString();
  EXPECT_NE(m.LimitStatus().message().find("ambiguous"), std::string::npos);
  EXPECT_LT(t.Seconds(), 20.0);
}

}  // namespace
}  // namespace lfm
