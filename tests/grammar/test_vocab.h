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
#include "test_util.h"

namespace lfm::testing {

inline TokenVocab LoadLfm2SyntheticVocab() {
  std::ifstream in(TestData("lfm2-synthetic/tiny-lfm2/tokenizer.json"));
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(ss.str());
  // GPT-2 bytes_to_unicode, inverted.
  int unicode_to_byte[512];
  for (int& v : unicode_to_byte) v = -1;
  int n = 0;
  for (int b = 0; b < 256; ++b) {
    bool direct = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    if (direct) unicode_to_byte[b] = b;
    else unicode_to_byte[256 + n++] = b;
  }
  const auto& vocab = j["model"]["vocab"];
  size_t size = vocab.size();
  for (const auto& a : j["added_tokens"]) size = std::max<size_t>(size, a["id"].get<size_t>() + 1);
  TokenVocab v;
  v.token_bytes.assign(size, "");
  v.is_special.assign(size, false);
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    const std::string s = it.key();
    std::string bytes;
    size_t i = 0;
    while (i < s.size()) {
      uint32_t cp = DecodeUtf8(s, i);
      if (cp < 512 && unicode_to_byte[cp] >= 0) bytes.push_back(static_cast<char>(unicode_to_byte[cp]));
      else ADD_FAILURE() << "vocab string outside the GPT-2 byte map: " << s;
    }
    v.token_bytes[it.value().get<size_t>()] = bytes;
  }
  for (const auto& a : j["added_tokens"]) {
    size_t id = a["id"].get<size_t>();
    if (a["special"].get<bool>()) {
      v.is_special[id] = true;
      v.token_bytes[id] = a["content"].get<std::string>();
    } else {
      v.token_bytes[id] = a["content"].get<std::string>();  // plain text token (e.g. "python")
    }
  }
  v.eos_ids = {7};  // <|im_end|>
  return v;
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
