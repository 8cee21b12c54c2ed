// JSON Schema front end: arbitrary schema text compiles or fails with a Status; a compiled grammar then
// takes a mask and a few bytes without crashing.
#include <cstdint>
#include <string>

#include "grammar/grammar.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string s(reinterpret_cast<const char*>(data), size);
  auto g = lfm::Grammar::FromJsonSchema(std::string_view(s));
  if (!g.ok()) return 0;
  static std::shared_ptr<const lfm::TokenTrie> trie = [] {
    lfm::TokenVocab v;
    for (int b = 0; b < 256; ++b) v.token_bytes.push_back(std::string(1, static_cast<char>(b)));
    for (const char* t : {"{\"", "\":", "\",\"", "true", "null", "12", "\"}", "]}"}) v.token_bytes.push_back(t);
    return lfm::TokenTrie::Build(v).value();
  }();
  lfm::GrammarMatcher m(g.value(), trie);
  std::vector<uint32_t> mask;
  (void)m.ComputeMask(&mask);
  m.AcceptBytes("{\"a\":[1,\"x\",null]}");
  (void)m.IsAccepting();
  return 0;
}
