// Added tokens (tokenizer.json "added_tokens"): found in the raw text before any pre-tokenization,
// leftmost-longest, like HF's AddedVocabulary. Tokens with normalized=false are matched in the raw text;
// the remaining text is normalized and then searched for the normalized=true tokens.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lfm/status.h"
#include "text/normalizer.h"
#include "text/text_split.h"

namespace lfm {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
  bool special = false;
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null) normalizes the content of normalized=true tokens for matching.
  static Result<AddedVocabulary> Build(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // HF extract_and_normalize: splits text into added-token splits and normalized text splits.
  Status ExtractAndNormalize(std::string_view text, const Normalizer* normalizer,
                             std::vector<TextSplit>& out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over token contents for leftmost-longest matching.
  struct Trie {
    struct Node {
      std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
      int32_t token = -1;                                  // index into tokens_
    };
    std::vector<Node> nodes{Node{}};
    std::array<bool, 256> first_byte{};
    void Insert(std::string_view s, int32_t token);
    // Longest token starting at text[pos]: returns its index and sets *len, or -1.
    int32_t LongestAt(std::string_view text, size_t pos, size_t* len) const;
  };

  // Appends the splits of `text` (which starts at original offset 0 iff at_origin) cut at trie matches.
  void SplitOn(const Trie& trie, std::string text, bool at_origin, std::vector<TextSplit>& out) const;

  std::vector<AddedToken> tokens_;
  Trie raw_;         // normalized == false
  Trie normalized_;  // normalized == true (contents normalized)
  bool has_normalized_ = false;
};

}  // namespace lfm
