// TokenTrie layout facts the matcher relies on: subtree heights (which horizon a walk-memo key may
// use) and the short token length.
#include <gtest/gtest.h>

#include "grammar/grammar.h"
#include "test_util.h"

namespace lfm {
namespace {

TEST(TokenTrie, HeightsAndShortTokenLength) {
  TokenVocab v;
  v.token_bytes = {"a", "ab", "abcd", "b", "ba", std::string(300, '*'), "<eos>"};
  for (int i = 0; i < 400; ++i) v.token_bytes.push_back("c" + std::to_string(i % 10) + std::to_string(i));
  v.is_special.assign(v.token_bytes.size(), false);
  v.is_special[6] = true;
  v.eos_ids = {6};
  auto trie = TokenTrie::Build(v).value();
  // Brute force: for every node, the deepest node inside its subtree, relative to it.
  const auto& nodes = trie->nodes();
  for (size_t i = 0; i < nodes.size(); ++i) {
    uint32_t deepest = nodes[i].depth;
    for (size_t j = i; j < i + nodes[i].subtree; ++j) deepest = std::max(deepest, nodes[j].depth);
    EXPECT_EQ(nodes[i].height, std::min<uint32_t>(255, deepest - nodes[i].depth)) << "node " << i;
  }
  size_t star = 0, a = nodes[0].subtree;  // children of the root in byte order: '*' then 'a'
  EXPECT_EQ(nodes[star].byte, '*');
  EXPECT_EQ(nodes[star].height, 255);  // 299 levels below, saturated
  EXPECT_EQ(nodes[a].byte, 'a');
  EXPECT_EQ(nodes[a].height, 3);  // "abcd"
  EXPECT_EQ(trie->max_token_bytes(), 300u);
  // 99.5% of the 405 text tokens: the 300-byte run is the one outlier; "c<d><i>" tokens are <= 5 bytes.
  EXPECT_EQ(trie->short_token_bytes(), 5u);
}

}  // namespace
}  // namespace lfm
