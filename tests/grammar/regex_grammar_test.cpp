#include <gtest/gtest.h>

#include "grammar/grammar.h"
#include "grammar/regex.h"
#include "grammar/regex_compiler.h"
#include "test_util.h"

namespace lfm {
namespace {

bool FullMatch(const std::string& re, const std::string& s) {
  auto g = Grammar::FromRegex(re);
  EXPECT_TRUE(g.ok()) << re << ": " << g.status().ToString();
  if (!g.ok()) return false;
  TokenVocab v;
  v.token_bytes = {"x"};
  auto trie = TokenTrie::Build(v);
  GrammarMatcher m(g.value(), trie.value());
  return m.AcceptBytes(s) && m.IsAccepting();
}

TEST(RegexGrammar, Basics) {
  EXPECT_TRUE(FullMatch("abc", "abc"));
  EXPECT_FALSE(FullMatch("abc", "ab"));
  EXPECT_FALSE(FullMatch("abc", "abcd"));
  EXPECT_TRUE(FullMatch("a|bc", "bc"));
  EXPECT_TRUE(FullMatch("(ab)*", ""));
  EXPECT_TRUE(FullMatch("(ab)*", "ababab"));
  EXPECT_FALSE(FullMatch("(ab)*", "aba"));
  EXPECT_TRUE(FullMatch("a{2,3}", "aaa"));
  EXPECT_FALSE(FullMatch("a{2,3}", "aaaa"));
  EXPECT_FALSE(FullMatch("a{2,3}", "a"));
  EXPECT_TRUE(FullMatch("a{2,}", "aaaaaaa"));
  EXPECT_TRUE(FullMatch("\\d+\\.\\d{2}", "12.50"));
  EXPECT_FALSE(FullMatch("\\d+", "12a"));
  EXPECT_TRUE(FullMatch("\\w+\\s\\w+", "hello world"));
  EXPECT_TRUE(FullMatch("[^a-c]x", "dx"));
  EXPECT_FALSE(FullMatch("[^a-c]x", "bx"));
  EXPECT_TRUE(FullMatch("^abc$", "abc"));
  EXPECT_TRUE(FullMatch("[\\u00e9-\\u00ff]+", "\xC3\xA9\xC3\xBF"));
  EXPECT_TRUE(FullMatch(".", "\xE2\x82\xAC"));            // one 3-byte char
  EXPECT_FALSE(FullMatch(".", "\xE2\x82"));               // incomplete
  EXPECT_TRUE(FullMatch("[😀-🙏]", "\xF0\x9F\x98\x80"));
  EXPECT_TRUE(FullMatch("(?:a|b)+?c", "abac"));
  EXPECT_TRUE(FullMatch("(?<name>x)y", "xy"));
}

TEST(RegexGrammar, Unsupported) {
  EXPECT_EQ(Grammar::FromRegex("(?=a)b").status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(Grammar::FromRegex("(a)\\1").status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(Grammar::FromRegex("a\\bb").status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(Grammar::FromRegex("a^b").status().code(), StatusCode::kUnsupported);
  EXPECT_EQ(Grammar::FromRegex("(ab").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Grammar::FromRegex("*a").status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(Grammar::FromRegex("[").status().message().find("byte"), std::string::npos);
}

TEST(RegexGrammar, IntersectionAndComplement) {
  grammar::RegexBuilder rx;
  grammar::RegexCompiler rc(&rx);
  auto a = rc.Compile("[a-z]{1,5}", grammar::CharEncoding::kUtf8);
  auto b = rc.Compile("ab.*", grammar::CharEncoding::kUtf8);
  ASSERT_OK(a);
  ASSERT_OK(b);
  grammar::RxId both = rx.And(*a, *b);
  EXPECT_TRUE(rx.Matches(both, "abcde"));
  EXPECT_FALSE(rx.Matches(both, "abcdef"));
  EXPECT_FALSE(rx.Matches(both, "bcd"));
  grammar::RxId not_ab = rx.And(*a, rx.Not(rx.Literal("ab")));
  EXPECT_TRUE(rx.Matches(not_ab, "abc"));
  EXPECT_FALSE(rx.Matches(not_ab, "ab"));
  EXPECT_TRUE(rx.IsEmpty(rx.And(*a, rx.Literal("ABC"))));
  EXPECT_FALSE(rx.IsEmpty(not_ab));
  grammar::RxId m7 = rx.MultipleOfDigits(7);
  EXPECT_TRUE(rx.Matches(m7, "49"));
  EXPECT_TRUE(rx.Matches(m7, "700"));
  EXPECT_FALSE(rx.Matches(m7, "50"));
}

TEST(RegexGrammar, JsonStringEncoding) {
  grammar::RegexBuilder rx;
  grammar::RegexCompiler rc(&rx);
  auto r = rc.Compile("^a.c$", grammar::CharEncoding::kJsonString, {.search = true});
  ASSERT_OK(r);
  EXPECT_TRUE(rx.Matches(*r, "abc"));
  EXPECT_TRUE(rx.Matches(*r, "a\\\"c"));
  EXPECT_TRUE(rx.Matches(*r, "a\\u001fc"));
  EXPECT_FALSE(rx.Matches(*r, "a\"c"));
  auto s = rc.Compile("b", grammar::CharEncoding::kJsonString, {.search = true});
  ASSERT_OK(s);
  EXPECT_TRUE(rx.Matches(*s, "abc"));
  EXPECT_FALSE(rx.Matches(*s, "ac"));
}

// Intersections are checked for emptiness first by a shortest string of one side (a witness), then
// by a search of the whole; both must agree with the languages.
TEST(RegexGrammar, IntersectionEmptiness) {
  grammar::RegexBuilder rx;
  grammar::RegexCompiler rc(&rx);
  auto compile = [&](const char* re, grammar::CharEncoding enc = grammar::CharEncoding::kUtf8, bool search = false) {
    auto r = rc.Compile(re, enc, {.search = search});
    EXPECT_TRUE(r.ok()) << re;
    return r.ok() ? *r : rx.Empty();
  };
  // A bounded email-like string (JSONSchemaBench Github_easy o21456): the witness of the pattern.
  grammar::RxId email = rx.And(compile(".{5,254}", grammar::CharEncoding::kJsonString),
                               compile("^[^@^\\s]+@[^@^\\.^\\s]+(\\.[^@^\\.^\\s]*)*.gov.uk",
                                       grammar::CharEncoding::kJsonString, true));
  EXPECT_FALSE(rx.IsEmpty(email));
  EXPECT_FALSE(rx.IsEmpty(rx.Concat(rx.Literal("\""), rx.Concat(email, rx.Literal("\"")))));
  EXPECT_TRUE(rx.Matches(email, "a@b.gov.uk"));
  EXPECT_FALSE(rx.Matches(email, "a@b.gov.u"));
  // Neither side's shortest string is in the other, yet "bbb" is in both: the search decides.
  EXPECT_FALSE(rx.IsEmpty(rx.And(compile("a|bbb"), compile("b|aaa|bbb"))));
  // Too short for the literal: empty.
  EXPECT_TRUE(rx.IsEmpty(rx.And(compile(".{0,3}"), compile("abcd.*"))));
  EXPECT_TRUE(rx.IsEmpty(rx.Concat(rx.Literal("x"), rx.And(compile("a|bbb"), compile("b|aaa")))));
}

}  // namespace
}  // namespace lfm
