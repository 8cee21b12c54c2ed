// Lark front end: arbitrary grammar text compiles or fails with a Status (line:column), never crashes.
#include <cstdint>
#include <string>

#include "grammar/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 2048) return 0;
  std::string s(reinterpret_cast<const char*>(data), size);
  auto g = lfm::Grammar::FromLark(s);
  if (!g.ok()) return 0;
  static std::shared_ptr<const lfm::TokenTrie> trie = [] {
    lfm::TokenVocab v;
    for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
    return lfm::TokenTrie::Build(v).value();
  }();
  lfm::GrammarMatcher m(g.value(), trie);
  std::vector<uint32_t> mask;
  (void)m.ComputeMask(&mask);
  m.AcceptBytes("a1 (x)");
  (void)m.IsAccepting();
  return 0;
}
