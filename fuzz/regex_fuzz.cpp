// Regex front end: arbitrary pattern bytes must compile or fail with a Status, never crash or hang;
// a compiled regex then matches a few derived inputs.
#include <cstdint>
#include <string>

#include "grammar/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  std::string s(reinterpret_cast<const char*>(data), size);
  size_t split = s.find('\n');
  std::string pattern = s.substr(0, split), input = split == std::string::npos ? "" : s.substr(split + 1);
  auto g = lfm::Grammar::FromRegex(pattern);
  if (!g.ok()) return 0;
  static std::shared_ptr<const lfm::TokenTrie> trie = [] {
    lfm::TokenVocab v;
    for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
    v.token_bytes.push_back("ab");
    v.token_bytes.push_back("\xC3\xA9");
    return lfm::TokenTrie::Build(v).value();
  }();
  lfm::GrammarMatcher m(g.value(), trie);
  std::vector<uint32_t> mask;
  (void)m.ComputeMask(&mask);
  m.AcceptBytes(input);
  (void)m.IsAccepting();
  (void)m.ComputeMask(&mask);
  return 0;
}
