// `lfm run` on a checkpoint directory written by transformers' save_pretrained (bf16 safetensors,
// transformers' config.json, the real LFM2.5-VL tokenizer and chat template), loaded unchanged:
// the chat template + tokenizer give transformers' apply_chat_template ids, and greedy decoding gives
// transformers' greedy ids (tests/model/data/lfm2-tiny-hf/golden.txt, prompt "chat"; made by
// tools/refs/make_lfm2_transformers_refs.py, which holds the same two messages).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

// The "ids" and "greedy" lines of one prompt in golden.txt.
void ReadGoldenPrompt(const std::string& path, const std::string& name, std::vector<int>* ids,
                      std::vector<int>* greedy) {
  std::ifstream in(path);
  ASSERT_TRUE(in.good()) << path;
  std::string line, current;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string tag;
    ss >> tag;
    if (tag == "prompt") ss >> current;
    if (current != name || (tag != "ids" && tag != "greedy")) continue;
    auto* out = tag == "ids" ? ids : greedy;
    for (int id; ss >> id;) out->push_back(id);
  }
}

TEST(CliTransformers, ChatOnTransformersWrittenCheckpointGivesTransformersIds) {
  const std::string dir = testing::SourceDir() + "/tests/model/data/lfm2-tiny-hf";
  std::vector<int> want_prompt, want_greedy;
  ReadGoldenPrompt(dir + "/golden.txt", "chat", &want_prompt, &want_greedy);
  ASSERT_EQ(want_greedy.size(), 8u);
  auto r = testing::RunLfm("run -m " + testing::Quote(dir) +
                           " --system 'You are a helpful assistant.'"
                           " -p 'Describe a lighthouse at night in two sentences.'"
                           " --temp 0 -n 8 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), want_prompt);
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), want_greedy);
}

}  // namespace
}  // namespace lfm

namespace lfm {
namespace {

// A tiny LFM2-VL checkpoint written by transformers' save_pretrained (Lfm2VlForConditionalGeneration,
// bf16; tools/refs/make_lfm2vl_transformers_refs.py): `lfm run --image` gives the processor's input_ids
// and generate()'s greedy ids, so preprocessing, the SigLIP2 tower, the projector and the decoder agree
// with transformers end to end (one tile and a 3x3 grid + thumbnail).
TEST(CliTransformers, VlImageChatOnTransformersWrittenCheckpointGivesTransformersIds) {
  const std::string dir = testing::SourceDir() + "/tests/model/data/lfm2-vl-tiny-hf";
  auto text = ReadFileToString(dir + "/golden.json");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const auto golden = nlohmann::json::parse(*text);
  ASSERT_EQ(golden.size(), 2u);
  for (const auto& [name, g] : golden.items()) {
    auto r = testing::RunLfm("run -m " + testing::Quote(dir) + " --image " +
                             testing::Quote(testing::TestData("images/" + name)) +
                             " -p 'Describe this image.' --temp 0 -n 8 --ignore-eos --json");
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), g["prompt_ids"].get<std::vector<int>>()) << name;
    EXPECT_EQ(j["ids"].get<std::vector<int>>(), g["greedy"].get<std::vector<int>>()) << name;
  }
}

}  // namespace
}  // namespace lfm
