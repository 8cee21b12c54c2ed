// Grammar size: large enums compile in time linear in their bytes, their first mask does not rebuild
// the literal trie, and what exceeds the documented limits (GrammarLimits::max_enum_*, a regex's
// RegexCompiler::kMaxPatternBytes) is refused fast with the JSON pointer and the limit.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/timer.h"
#include "grammar/grammar.h"
#include "grammar/regex_compiler.h"
#include "test_util.h"

namespace lfm {
namespace {

std::shared_ptr<const TokenTrie> ByteTrie() {
  TokenVocab v;
  for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
  v.token_bytes.push_back("<eos>");
  v.is_special.assign(v.token_bytes.size(), false);
  v.is_special.back() = true;
  v.eos_ids = {static_cast<int32_t>(v.token_bytes.size() - 1)};
  return TokenTrie::Build(v).value();
}

// Distinct pseudo-random words of 5..30 characters (few shared prefixes: the worst case for a trie).
std::vector<std::string> Words(size_t n) {
  std::vector<std::string> out;
  uint64_t s = 88172645463325252ull;
  for (size_t i = 0; i < n; ++i) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    std::string w = std::to_string(i) + "_";
    const size_t len = 5 + s % 26;
    for (size_t k = w.size(); k < len; ++k) {
      s ^= s << 13, s ^= s >> 7, s ^= s << 17;
      w.push_back("abcdefghijklmnopqrstuvwxyz0123456789"[s % 36]);
    }
    out.push_back(std::move(w));
  }
  return out;
}

bool Allowed(const std::vector<uint32_t>& mask, uint8_t b) { return (mask[b >> 5] >> (b & 31)) & 1; }

// The first mask used to rebuild the whole literal trie (Horizon) at every position: 20 s and
// 1.4 GB for 200k members; compilation itself is one pass over the sorted literals.
TEST(GrammarLimits, LargeEnumCompilesAndMasksFast) {
  const auto words = Words(100000);
  nlohmann::ordered_json schema = {{"type", "string"}, {"enum", words}};
  Timer t;
  auto g = Grammar::FromJsonSchema(schema);
  ASSERT_OK(g);
  const double compile_s = t.Seconds();
  GrammarMatcher m(g.value(), ByteTrie());
  std::vector<uint32_t> mask;
  Timer first;
  ASSERT_TRUE(m.ComputeMask(&mask).ok());
  EXPECT_TRUE(Allowed(mask, '"'));
  EXPECT_FALSE(Allowed(mask, 'x'));
  ASSERT_TRUE(m.AcceptBytes("\"" + words[777].substr(0, 3)));
  ASSERT_TRUE(m.ComputeMask(&mask).ok());
  const double mask_s = first.Seconds();
  ASSERT_TRUE(m.AcceptBytes(words[777].substr(3) + "\""));
  EXPECT_TRUE(m.IsAccepting());
  std::printf("100k-value enum: compile %.2f s, first masks %.3f s\n", compile_s, mask_s);
  // Generous bounds for a loaded 2-core machine; the old code took ~10 s for the first mask alone.
  EXPECT_LT(compile_s, 15.0);
  EXPECT_LT(mask_s, 1.0);
}

TEST(GrammarLimits, EnumOverTheValueLimitIsRefusedWithItsPointer) {
  nlohmann::ordered_json schema = {
      {"type", "object"},
      {"properties", {{"color", {{"enum", Words(GrammarLimits{}.max_enum_values + 1)}}}}}};
  Timer t;
  auto g = Grammar::FromJsonSchema(schema);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kResourceExhausted);
  const std::string msg = g.status().message();
  EXPECT_NE(msg.find("/properties/color/enum"), std::string::npos) << msg;
  EXPECT_NE(msg.find("100001 values"), std::string::npos) << msg;
  EXPECT_NE(msg.find("limit of 100000"), std::string::npos) << msg;
  EXPECT_LT(t.Seconds(), 2.0);
}

TEST(GrammarLimits, EnumOverTheByteLimitsIsRefused) {
  // One huge value (this recursed once per byte building the trie and overflowed the stack).
  auto one = Grammar::FromJsonSchema(nlohmann::ordered_json{{"enum", {std::string(2000000, 'a')}}});
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("enum value at /enum/0 is 2000002 bytes, over the limit of 16384"),
            std::string::npos)
      << one.status().ToString();
  auto c = Grammar::FromJsonSchema(nlohmann::ordered_json{{"const", std::string(20000, 'b')}});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("/const/0"), std::string::npos) << c.status().ToString();
  // Many mid-sized values: 400 x 12 KB = 4.8 MB.
  std::vector<std::string> big(400, std::string(12000, 'c'));
  for (size_t i = 0; i < big.size(); ++i) big[i] += std::to_string(i);
  auto total = Grammar::FromJsonSchema(nlohmann::ordered_json{{"enum", big}});
  ASSERT_FALSE(total.ok());
  EXPECT_NE(total.status().message().find("bytes of values (the limit)"), std::string::npos)
      << total.status().ToString();
}

// allOf of two large enums used to intersect them with a linear search per value (quadratic).
TEST(GrammarLimits, IntersectingLargeEnumsIsNotQuadratic) {
  auto words = Words(60000);
  std::vector<std::string> odd;
  for (size_t i = 1; i < words.size(); i += 2) odd.push_back(words[i]);
  nlohmann::ordered_json schema = {{"allOf", {{{"enum", words}}, {{"enum", odd}}}}};
  Timer t;
  auto g = Grammar::FromJsonSchema(schema);
  ASSERT_OK(g);
  GrammarMatcher m(g.value(), ByteTrie());
  EXPECT_FALSE(m.AcceptBytes("\"" + words[0] + "\""));
  GrammarMatcher m2(g.value(), ByteTrie());
  EXPECT_TRUE(m2.AcceptBytes("\"" + words[1] + "\""));
  EXPECT_LT(t.Seconds(), 15.0);
}

TEST(GrammarLimits, RegexOverThePatternLimitIsRefused) {
  std::string alts;
  for (int i = 0; i < 200000; ++i) alts += (i ? "|w" : "w") + std::to_string(i);
  Timer t;
  auto r = Grammar::FromRegex(alts);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("over the limit of 32768 bytes"), std::string::npos) << r.status().ToString();
  auto s = Grammar::FromJsonSchema(
      nlohmann::ordered_json{{"properties", {{"id", {{"type", "string"}, {"pattern", "^(" + alts + ")$"}}}}}});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/properties/id"), std::string::npos) << s.status().ToString();
  EXPECT_LT(t.Seconds(), 2.0);
  // Just under the limit still compiles.
  std::string ok(grammar::RegexCompiler::kMaxPatternBytes, 'a');
  EXPECT_TRUE(Grammar::FromRegex(ok).ok());
}

// A chain of 100k rules, each referring to the next, recursed once per rule and overflowed the stack.
TEST(GrammarLimits, LongLarkRuleChainDoesNotOverflowTheStack) {
  std::string lark = "start: r0\n";
  const int n = 100000;
  for (int i = 0; i < n; ++i)
    lark += "r" + std::to_string(i) + ": \"t\" r" + std::to_string(i + 1) + " | \"e\"\n";
  lark += "r" + std::to_string(n) + ": \"z\"\n";
  auto g = Grammar::FromLark(lark);
  // Either compiled or refused by a limit; never a crash.
  if (g.ok()) {
    GrammarMatcher m(g.value(), ByteTrie());
    EXPECT_TRUE(m.AcceptBytes("tte"));
    EXPECT_TRUE(m.IsAccepting());
  } else {
    EXPECT_EQ(g.status().code(), StatusCode::kResourceExhausted) << g.status().ToString();
  }
}

}  // namespace
}  // namespace lfm
