// Engine::Load on a llama.cpp .gguf file: the tokenizer built from its tokenizer.ggml.* metadata
// tokenizes as llama.cpp does (llama.cpp's own expected ids for its vocab test file), and the
// engine gives the same prompt ids and greedy ids as the model directory the file was converted from.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/gguf_tokenizer.h"
#include "lfm/chat.h"
#include "lfm/engine.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "weights/gguf.h"

namespace lfm {
namespace {

std::vector<std::string> SplitOn(const std::string& text, const std::string& sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t at; (at = text.find(sep, start)) != std::string::npos; start = at + sep.size())
    parts.push_back(text.substr(start, at - start));
  parts.push_back(text.substr(start));
  return parts;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// llama.cpp's test-tokenizer-0 format: .inp holds texts separated by "\n__ggml_vocab_test__\n",
// .out one line of ids per text (no BOS).
TEST(GgufTokenizer, MatchesLlamaCppExpectedIds) {
  const std::string base = testing::TestData("lfm2-synthetic/tokenizer/ggml-vocab-lfm2-synthetic.gguf");
  auto file = GgufFile::Open(base);
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  auto json = TokenizerJsonFromGguf((*file)->header(), base);
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  auto tok = Tokenizer::FromJson(*json, base);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::vector<std::string> texts = SplitOn(ReadAll(base + ".inp"), "\n__ggml_vocab_test__\n");
  if (!texts.empty() && texts.back().empty()) texts.pop_back();
  std::vector<std::string> lines = SplitOn(ReadAll(base + ".out"), "\n");
  ASSERT_GE(lines.size(), texts.size());
  ASSERT_GT(texts.size(), 10u);
  for (size_t i = 0; i < texts.size(); ++i) {
    std::vector<int32_t> want;
    std::istringstream ss(lines[i]);
    for (int32_t id; ss >> id;) want.push_back(id);
    auto got = tok->Encode(texts[i], /*add_special_tokens=*/false);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want) << "text " << i << ": '" << texts[i] << "'";
  }
}

TEST(GgufTokenizer, RefusesOtherTokenizerKinds) {
  GgufHeader h;
  GgufValue model;
  model.kind = GgufValue::kString;
  model.s = "llama";  // SentencePiece
  h.metadata["tokenizer.ggml.model"] = model;
  auto json = TokenizerJsonFromGguf(h, "x.gguf");
  ASSERT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("byte-level BPE"), std::string::npos) << json.status().message();
}

TEST(GgufEngine, SameIdsAsTheModelDirectory) {
  const std::string dir = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto from_dir = Engine::Load(dir);
  auto from_gguf = Engine::Load(dir + "/model-f32.gguf");
  ASSERT_TRUE(from_dir.ok()) << from_dir.status().ToString();
  ASSERT_TRUE(from_gguf.ok()) << from_gguf.status().ToString();
  EXPECT_EQ((*from_gguf)->info().weight_dtype, "f32");
  EXPECT_GT((*from_gguf)->info().decode_weight_bytes, 0);
  EXPECT_EQ((*from_gguf)->info().decode_weight_bytes, (*from_dir)->info().decode_weight_bytes);
  EXPECT_GT((*from_gguf)->info().kv_bytes_per_position, 0);
  GenerateOptions go;
  go.max_tokens = 16;
  go.ignore_eos = true;
  go.sampling = SamplingParams{.temperature = 0};
  auto a = (*from_dir)->Complete("Hello world, this is a test", go);
  auto b = (*from_gguf)->Complete("Hello world, this is a test", go);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->prompt_ids, a->prompt_ids);
  EXPECT_EQ(b->ids, a->ids);
  EXPECT_EQ(b->text, a->text);
}

TEST(GgufEngine, ConvertsToTheAskedDtypeAndRefusesUnknownOnes) {
  const std::string gguf = testing::TestData("lfm2-synthetic/tiny-lfm2/model-f32.gguf");
  LoadOptions lo;
  lo.weight_dtype = "q8_0";
  auto q = Engine::Load(gguf, lo);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ((*q)->info().weight_dtype, "q8_0");
  lo.weight_dtype = "q3_k";
  auto bad = Engine::Load(gguf, lo);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("q3_k"), std::string::npos);
}

// The chat template comes from the file's tokenizer.chat_template (the converter copied it from the
// directory's tokenizer_config.json): chat renders and generates as on the directory.
TEST(GgufEngine, ChatUsesTheFilesChatTemplate) {
  auto g = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2/model-f32.gguf"));
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto d = Engine::Load(testing::TestData("lfm2-synthetic/tiny-lfm2"));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ChatOptions co;
  co.generate.max_tokens = 6;
  co.generate.sampling = SamplingParams{};
  co.generate.sampling->temperature = 0;
  const std::string req = R"({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]})";
  auto rg = (*g)->Chat(req, co);
  ASSERT_TRUE(rg.ok()) << rg.status().ToString();
  auto rd = (*d)->Chat(req, co);
  ASSERT_TRUE(rd.ok()) << rd.status().ToString();
  EXPECT_EQ(rg->prompt, rd->prompt);
  EXPECT_NE(rg->prompt.find("<|im_start|>system\nBe brief.<|im_end|>"), std::string::npos) << rg->prompt;
  EXPECT_EQ(rg->generation.prompt_ids, rd->generation.prompt_ids);
  EXPECT_EQ(rg->generation.ids, rd->generation.ids);
  EXPECT_EQ(rg->generation.ids.size(), 6u);
}

}  // namespace
}  // namespace lfm
