// Small synthetic tokenizer.json configurations, one per component behaviour (Split behaviours and invert,
// Metaspace schemes, added-token lstrip/rstrip/single_word/normalized, unk/fuse_unk/byte_fallback, subword
// prefix/suffix, normalizers, post-processors, decoders), against the Hugging Face tokenizers library
// (tools/refs/make_tokenizer_synthetic_refs.mjs wrote the configs and the expected ids).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "text/detokenizer.h"
#include "text/tokenizer.h"

namespace lfm {
namespace {

TEST(TokenizerSyntheticTest, EveryComponentMatchesHuggingFace) {
  auto text = ReadFileToString(testing::SourceDir() + "/tests/text/data/synthetic.expected.json");
  ASSERT_OK(text);
  auto expected = nlohmann::json::parse(*text);
  ASSERT_GE(expected["configs"].size(), 30u);
  for (const auto& config : expected["configs"]) {
    std::string name = config["name"];
    SCOPED_TRACE(name);
    auto tok = Tokenizer::FromJson(config["tokenizer"].dump(), name);
    ASSERT_OK(tok);
    for (const auto& c : config["cases"]) {
      std::string s = c["text"];
      std::string q = nlohmann::json(s).dump();
      auto ids = c["ids"].get<std::vector<int32_t>>();
      auto ids_special = c["ids_with_special"].get<std::vector<int32_t>>();
      EXPECT_EQ(*tok->Encode(s, false), ids) << name << " encode " << q;
      EXPECT_EQ(*tok->Encode(s, true), ids_special) << name << " encode+special " << q;
      EXPECT_EQ(tok->Decode(ids, false), c["decoded"].get<std::string>()) << name << " decode " << q;
      EXPECT_EQ(tok->Decode(ids_special, true), c["decoded_skip_special"].get<std::string>())
          << name << " decode(skip_special) " << q;
      // Streaming gives the same text as the reference decode (U+FFFD counts may differ for broken bytes).
      std::string want = c["decoded_skip_special"];
      if (want.find("\xEF\xBF\xBD") == std::string::npos) {
        StreamingDetokenizer stream(*tok, true);
        std::string got;
        for (int32_t id : ids_special) got += stream.Push(id);
        got += stream.Flush();
        EXPECT_EQ(got, want) << name << " streamed decode(skip_special) " << q;
      }
    }
  }
}

}  // namespace
}  // namespace lfm
