#include "engine/random_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "test_util.h"

namespace lfm {
namespace {

// Reads the safetensors header (independently of the loader) and returns it as JSON.
nlohmann::json SafetensorsHeader(const std::string& path) {
  auto f = MappedFile::Open(path);
  EXPECT_TRUE(f.ok());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(f->data()[i]) << (8 * i);
  return nlohmann::json::parse(std::string(reinterpret_cast<const char*>(f->data()) + 8, n));
}

TEST(RandomModel, TinyVlHasTheHfLayoutAndShapes) {
  std::string dir = testing::ScratchDir("random_tiny_vl");
  auto shape = RandomModelShapeByName("tiny-vl");
  ASSERT_OK(shape);
  ASSERT_TRUE(WriteRandomModel(*shape, dir, {}).ok());
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json", "chat_template.jinja", "preprocessor_config.json",
                        "processor_config.json"})
    EXPECT_TRUE(FileExists(dir + "/" + f)) << f;
  auto h = SafetensorsHeader(dir + "/model.safetensors");
  EXPECT_EQ(h["model.language_model.embed_tokens.weight"]["shape"], nlohmann::json({65536, 64}));
  EXPECT_EQ(h["model.language_model.layers.2.self_attn.q_layernorm.weight"]["shape"], nlohmann::json({16}));
  EXPECT_EQ(h["model.language_model.layers.0.conv.conv.weight"]["shape"], nlohmann::json({64, 1, 3}));
  EXPECT_EQ(h["model.multi_modal_projector.linear_1.weight"]["shape"], nlohmann::json({64, 128}));
  EXPECT_EQ(h["model.language_model.layers.0.conv.in_proj.weight"]["dtype"], "F32");
  auto tok = nlohmann::json::parse(*ReadFileToString(dir + "/tokenizer.json"));
  EXPECT_EQ(tok["model"]["vocab"].size(), 65536u);  // special tokens are in the vocab too, as in HF files
  EXPECT_EQ(tok["added_tokens"][396]["content"], "<image>");
  EXPECT_EQ(tok["added_tokens"][7]["content"], "<|im_end|>");
}

// The full-size shapes against the tensor lists of the published checkpoints. The lists
// (tests/engine/data/checkpoint_tensors/, see PROVENANCE.md there) come from transformers' own model
// classes built from the published config.json files, not from this generator. Writes the whole
// model (~0.7-0.9 GB of bf16) to a scratch directory, reads back the file's header, and compares
// every tensor name and shape; the data offsets must tile the data area exactly.
void CheckAgainstPublishedList(const std::string& shape_name) {
  auto shape = RandomModelShapeByName(shape_name);
  ASSERT_OK(shape);
  const std::string list_path = testing::SourceDir() + "/tests/engine/data/checkpoint_tensors/" + shape_name + ".json";
  auto list_text = ReadFileToString(list_path);
  ASSERT_OK(list_text);
  const nlohmann::json published = nlohmann::json::parse(*list_text)["tensors"];
  ASSERT_GT(published.size(), 100u);

  const std::string dir = testing::ScratchDir("random_full_" + shape_name);
  ASSERT_TRUE(WriteRandomModel(*shape, dir, {}).ok());
  const std::string file = dir + "/model.safetensors";
  nlohmann::json header = SafetensorsHeader(file);
  header.erase("__metadata__");

  std::map<std::string, nlohmann::json> expected;
  for (const auto& t : published) expected[t[0].get<std::string>()] = t[1];
  EXPECT_EQ(header.size(), expected.size()) << shape_name << ": tensor count";
  for (const auto& [name, dims] : expected) {
    auto it = header.find(name);
    if (it == header.end()) {
      ADD_FAILURE() << shape_name << ": the generator does not write " << name;
      continue;
    }
    EXPECT_EQ((*it)["shape"], dims) << shape_name << ": " << name;
    // The published configs say "dtype": "bfloat16"; the generator's default for full sizes.
    EXPECT_EQ((*it)["dtype"], "BF16") << name;
  }
  std::vector<std::pair<uint64_t, uint64_t>> spans;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (!expected.count(it.key())) ADD_FAILURE() << shape_name << ": the generator writes an extra tensor " << it.key();
    uint64_t elems = 1;
    for (const auto& d : (*it)["shape"]) elems *= d.get<uint64_t>();
    const uint64_t begin = (*it)["data_offsets"][0], end = (*it)["data_offsets"][1];
    EXPECT_EQ(end - begin, elems * 2) << it.key();
    spans.emplace_back(begin, end);
  }
  std::sort(spans.begin(), spans.end());
  uint64_t at = 0;
  for (const auto& [b, e] : spans) {
    EXPECT_EQ(b, at);
    at = e;
  }
  auto f = MappedFile::Open(file);
  ASSERT_OK(f);
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= static_cast<uint64_t>(f->data()[i]) << (8 * i);
  EXPECT_EQ(f->size(), 8 + header_len + at);
  std::filesystem::remove_all(dir);  // ~1 GB: do not leave it in the build tree
}

TEST(RandomModel, Lfm2_350mWritesEveryPublishedTensor) { CheckAgainstPublishedList("lfm2-350m"); }

TEST(RandomModel, Lfm25Vl450mWritesEveryPublishedTensor) { CheckAgainstPublishedList("lfm2.5-vl-450m"); }

TEST(RandomModel, UnknownShapeIsRefused) { EXPECT_FALSE(RandomModelShapeByName("gpt-5").ok()); }

}  // namespace
}  // namespace lfm
