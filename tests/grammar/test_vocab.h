// Test helper: the LFM2 synthetic vocabulary as raw byte strings (GPT-2 byte-level map undone),
// read straight from tokenizer.json so the grammar tests do not depend on the tokenizer module.
#pragma once

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "grammar/grammar.h"
#include "maskbench_runner.h"
#include "test_util.h"

namespace lfm::testing {

inline TokenVocab LoadLfm2SyntheticVocab() {
  auto v = LoadHfVocabBytes(TestData("lfm2-synthetic/tiny-lfm2/tokenizer.json"), {7});  // EOS <|im_end|>
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? v.value() : TokenVocab{};
}

inline std::shared_ptr<const TokenTrie> Lfm2SyntheticTrie() {
  static std::shared_ptr<const TokenTrie> trie = [] {
    auto r = TokenTrie::Build(LoadLfm2SyntheticVocab());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r.value() : nullptr;
  }();
  return trie;
}

// Greedy longest-match split of text into vocabulary tokens (exercises multi-lexeme tokens).
inline std::vector<int32_t> GreedyTokens(const TokenTrie& trie, std::string_view s) {
  std::vector<int32_t> out;
  size_t i = 0;
  while (i < s.size()) {
    int32_t id;
    size_t n = trie.LongestPrefixToken(s.substr(i), &id);
    if (n == 0) return {};  // every single byte is a token in a byte-level vocab; cannot happen
    out.push_back(id);
    i += n;
  }
  return out;
}

}  // namespace lfm::testing
