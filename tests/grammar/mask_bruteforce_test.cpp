// The trie-walk mask (with its slice fast paths and cache) must equal a brute-force check of every
// vocabulary token (feed its bytes, roll back) at random reachable states of several grammars.
#include <gtest/gtest.h>

#include <random>

#include "grammar/grammar.h"
#include "test_util.h"
#include "test_vocab.h"

namespace lfm {
namespace {

// Under ASan/UBSan (CI) the oracle is ~20x slower: check fewer states there; the Release run checks >= 500.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kWalkScale = 1, kMinStates = 100;
#else
constexpr int kWalkScale = 4, kMinStates = 500;
#endif

int walk_memo_hits = 0;  // masks must be right when answered from the walk memo too

int CheckRandomStates(const std::shared_ptr<const Grammar>& g, const std::shared_ptr<const TokenTrie>& trie,
                      int walks, int steps, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint32_t> mask;
  int checked = 0;
  for (int w = 0; w < walks; ++w) {
    GrammarMatcher m(g, trie);
    for (int s = 0; s < steps; ++s) {
      Status st = m.ComputeMask(&mask);
      EXPECT_TRUE(st.ok()) << st.ToString();
      if (!st.ok()) return checked;
      walk_memo_hits += m.last_mask_stats().walk_memo_hits;
      std::vector<int32_t> allowed;
      for (size_t id = 0; id < trie->vocab_size(); ++id) {
        bool brute;
        if (trie->is_eos(static_cast<int32_t>(id))) {
          brute = m.IsAccepting();
        } else if (trie->is_special(static_cast<int32_t>(id)) || trie->token_bytes(id).empty()) {
          brute = false;
        } else {
          size_t cp = m.Checkpoint();
          brute = m.AcceptBytes(trie->token_bytes(id));
          if (brute) m.RollbackTo(cp);
        }
        bool bit = (mask[id >> 5] >> (id & 31)) & 1;
        if (bit != brute) {
          ADD_FAILURE() << "token " << id << " '" << trie->token_bytes(id) << "': mask " << bit << " brute " << brute
                        << " (walk " << w << " step " << s << ")";
          return checked;
        }
        if (brute && !trie->is_eos(static_cast<int32_t>(id))) allowed.push_back(static_cast<int32_t>(id));
      }
      ++checked;
      if (allowed.empty()) break;
      // Bias towards short tokens sometimes so that walks reach structure, not only long strings.
      int32_t pick = allowed[rng() % allowed.size()];
      if (rng() % 2) {
        for (int k = 0; k < 8; ++k) {
          int32_t c = allowed[rng() % allowed.size()];
          if (trie->token_bytes(c).size() < trie->token_bytes(pick).size()) pick = c;
        }
      }
      EXPECT_TRUE(m.AcceptToken(pick).ok());
    }
  }
  return checked;
}

TEST(MaskBruteForce, RandomReachableStates) {
  auto trie = testing::Lfm2SyntheticTrie();
  ASSERT_NE(trie, nullptr);
  const char* schemas[] = {
      R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},
          "tags":{"type":"array","items":{"type":"string","maxLength":8},"maxItems":3}},"required":["name"]})",
      R"({"type":"object","properties":{"id":{"type":"string","format":"uuid"},"score":{"type":"number","exclusiveMinimum":-1.5,"maximum":2}},
          "additionalProperties":{"type":"boolean"}})",
      R"({"anyOf":[{"type":"string","pattern":"^[a-z]+-\\d{2}$"},{"enum":["red","green",{"x":1},null,12]}]})",
      R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","multipleOf":3},"next":{"$ref":"#/$defs/node"}},"required":["v"]}},"$ref":"#/$defs/node"})",
      R"({"type":"array","prefixItems":[{"const":"head"},{"type":"number"}],"items":{"type":"string","minLength":2},"minItems":1})",
      R"({"type":"object","patternProperties":{"^x-":{"type":"integer"}},"properties":{"a":{"type":"string","format":"date-time"}},"additionalProperties":false})",
      R"(true)",
      // Key states mixing literal names with "any other name" (classified below the root), bounded
      // strings (a chain of counter states), and character-class patterns (classified at the root).
      R"({"type":"object","properties":{"conntrack":{"type":"boolean"},"forward":{"type":"string"},"input":{"type":"integer"},
          "masq":{"type":"string","maxLength":40},"masq_src":{"type":"string","minLength":3,"maxLength":12}},
          "additionalProperties":{"type":"string","pattern":"^[A-Za-z0-9+/=]{2,30}$"}})",
      R"({"type":"array","items":{"anyOf":[{"type":"string","pattern":"^[a-z_]+$"},{"type":"string","format":"date"}]}})",
      // Unanchored patterns (searched): every position a new lexer state at the root, most subtrees
      // answered from the walk memo of earlier positions; one bounded, so horizons take part.
      R"({"type":"array","items":{"type":"object","properties":{"ref":{"type":"string","pattern":"srn:(ab|c)/[0-9]+","maxLength":24},
          "n":{"type":"string","pattern":"e"}},"required":["ref","n"]}})",
  };
  int total = 0;
  uint64_t seed = 1;
  for (const char* s : schemas) {
    auto g = Grammar::FromJsonSchema(std::string_view(s));
    ASSERT_OK(g);
    total += CheckRandomStates(g.value(), trie, kWalkScale, 14, seed++);
  }
  const char* regexes[] = {"[^\\n]*(foo|ba)[^\\n]*", "[a-z]{2,5}(,[0-9]+)*", "(ab|a)*c?", "\\w+@\\w+\\.(com|org)", "[^\"]{0,20}\"", "é+ü?",
                           "[a-zA-Z é]{0,30}!( [^\\n]*)?"};
  for (const char* r : regexes) {
    auto g = Grammar::FromRegex(r);
    ASSERT_OK(g);
    total += CheckRandomStates(g.value(), trie, kWalkScale + kWalkScale / 4, 12, seed++);
  }
  // Lark: lexemes that end where a plain character could follow (words, numbers) and %ignore.
  auto lark = Grammar::FromLark(R"LARK(
start: item ("," item)*
item: WORD | NUMBER | ESCAPED_STRING | "{" WORD "}"
WORD: /[a-z]+/
%import common.NUMBER
%import common.ESCAPED_STRING
%ignore " "
)LARK");
  ASSERT_OK(lark);
  total += CheckRandomStates(lark.value(), trie, kWalkScale, 12, seed++);
  EXPECT_GE(total, kMinStates);
  EXPECT_GT(walk_memo_hits, 0);
  std::cout << "states checked: " << total << ", trie subtrees from the walk memo: " << walk_memo_hits << "\n";
}

}  // namespace
}  // namespace lfm
