// Engine::memory_use() and ModelInfo::weight_bytes against figures computed here from the files
// themselves (the safetensors header, config.json), not from the loader: the accounting that
// `lfm bench` puts next to the measured peak RSS (the full-size peak check is
// tests/e2e/fullsize_rss_test.cpp and bench/rss_check.sh).
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/mapped_file.h"
#include "engine/random_model.h"
#include "kernels/workspace.h"
#include "lfm/engine.h"
#include "test_util.h"

namespace lfm {
namespace {

nlohmann::json ReadJson(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << path;
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

// Sum of the tensors' byte spans in a safetensors file, from its header alone; with `matrix_bytes`
// set, 2-D tensors other than the embedding table count that many bytes per element instead.
int64_t HeaderBytes(const std::string& path, int matrix_bytes = 0) {
  auto f = MappedFile::Open(path);
  EXPECT_TRUE(f.ok());
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(f->data()[i]) << (8 * i);
  const nlohmann::json h = nlohmann::json::parse(std::string(reinterpret_cast<const char*>(f->data()) + 8, n));
  int64_t total = 0;
  for (auto it = h.begin(); it != h.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const auto& shape = it.value()["shape"];
    const auto& off = it.value()["data_offsets"];
    int64_t bytes = off[1].get<int64_t>() - off[0].get<int64_t>();
    if (matrix_bytes > 0 && shape.size() == 2 && it.key().find("embed_tokens") == std::string::npos)
      bytes = shape[0].get<int64_t>() * shape[1].get<int64_t>() * matrix_bytes;
    total += bytes;
  }
  return total;
}

const char* kTiny = "lfm2-synthetic/tiny-lfm2";

TEST(MemoryUse, WeightBytesAreTheStoredTensorsAtTheirLoadedDtype) {
  const std::string dir = testing::TestData(kTiny);
  const nlohmann::json c = ReadJson(dir + "/config.json");
  // Besides the file's tensors the model holds RoPE's inverse frequencies: head_dim / 2 floats.
  const int64_t inv_freq = c["hidden_size"].get<int64_t>() / c["num_attention_heads"].get<int64_t>() / 2 * 4;
  LoadOptions lo;
  lo.threads = 1;
  lo.weight_dtype = "f32";  // as stored: every tensor is F32
  auto f32 = Engine::Load(dir, lo);
  ASSERT_OK(f32);
  // The tied embedding table counts once, the conv kernel [D, 1, L] as its D*L floats.
  EXPECT_EQ((*f32)->info().weight_bytes, HeaderBytes(dir + "/model.safetensors") + inv_freq);
  EXPECT_EQ((*f32)->memory_use().weight_bytes, (*f32)->info().weight_bytes);

  lo.weight_dtype = "bf16";  // the matrices halve; the embedding table stays f32 as stored
  auto bf16 = Engine::Load(dir, lo);
  ASSERT_OK(bf16);
  // bf16 matrices are repacked into pair-interleaved panels whose last panel is padded to full width:
  // a little more than 2 bytes per weight (0.7% on these 64-wide matrices), never less.
  const int64_t want = HeaderBytes(dir + "/model.safetensors", 2) + inv_freq;
  EXPECT_GE((*bf16)->info().weight_bytes, want);
  EXPECT_LE((*bf16)->info().weight_bytes, want + want / 50);
}

// A VL model asked for q8_0 / q4_0 keeps its vision tower and projector as stored (bf16 here, as
// published): they have no int8 kernel, and converting would round them to q8_0 / q4_0 and then widen
// them to f32 panels for their GEMM (twice the bf16 bytes). So the q8_0 and q4_0 loads hold exactly
// the bf16 load's vision bytes, and each holds less than the bf16 load in all.
TEST(MemoryUse, QuantizedVlLoadKeepsTheVisionTowerAsStored) {
  auto shape = RandomModelShapeByName("tiny-vl");
  ASSERT_OK(shape);
  const std::string dir = testing::ScratchDir("memory_use_tiny_vl_bf16");
  RandomModelOptions ro;
  ro.dtype = "BF16";
  ASSERT_TRUE(WriteRandomModel(*shape, dir, ro).ok());
  auto load = [&](const char* dtype) {
    LoadOptions lo;
    lo.threads = 1;
    lo.weight_dtype = dtype;
    auto e = Engine::Load(dir, lo);
    EXPECT_TRUE(e.ok()) << dtype << ": " << e.status().ToString();
    return e.ok() ? std::move(*e) : nullptr;
  };
  auto bf16 = load("bf16"), q8 = load("q8_0"), f32 = load("f32");
  ASSERT_TRUE(bf16 && q8 && f32);
  const int64_t vision_bf16 = bf16->info().vision_weight_bytes;
  EXPECT_GT(vision_bf16, 0);
  EXPECT_EQ(q8->info().vision_weight_bytes, vision_bf16);
  EXPECT_GT(f32->info().vision_weight_bytes, vision_bf16 * 3 / 2);  // f32 asked: f32 matrices (vectors are f32 anyway)
  EXPECT_LT(q8->info().weight_bytes, bf16->info().weight_bytes);
}

TEST(MemoryUse, KvCacheAndScratchFollowTheRun) {
  const std::string dir = testing::TestData(kTiny);
  const nlohmann::json c = ReadJson(dir + "/config.json");
  int attention_layers = 0;
  for (const auto& t : c["layer_types"]) attention_layers += t == "full_attention" ? 1 : 0;
  const int64_t hidden = c["hidden_size"].get<int64_t>();
  const int64_t kv_per_position = int64_t{attention_layers} * 2 * c["num_key_value_heads"].get<int64_t>() *
                                  (hidden / c["num_attention_heads"].get<int64_t>()) * 4;
  const int64_t conv_state = (c["num_hidden_layers"].get<int64_t>() - attention_layers) *
                             (c["conv_L_cache"].get<int64_t>() - 1) * hidden * 4;

  auto scratch_after = [&](int ubatch, int prompt, int gen, MemoryUse* use) {
    LoadOptions lo;
    lo.threads = 1;
    lo.ubatch = ubatch;
    auto e = Engine::Load(dir, lo);
    ASSERT_OK(e);
    EXPECT_EQ((*e)->memory_use().kv_cache_bytes, 0);  // no session yet
    EXPECT_EQ((*e)->memory_use().scratch_bytes, KernelWorkspaceBytes());  // process-wide, from earlier runs
    std::vector<int32_t> ids;
    for (int i = 0; i < prompt; ++i) ids.push_back(600 + i);
    GenerateOptions go;
    go.max_tokens = gen;
    go.ignore_eos = true;
    go.sampling = SamplingParams{.temperature = 0};
    auto g = (*e)->GenerateFromIds(ids, go);
    ASSERT_OK(g);
    *use = (*e)->memory_use();
  };
  MemoryUse small, large;
  scratch_after(8, 200, 4, &small);
  scratch_after(256, 200, 4, &large);
  // The cache holds every position run (the last generated token is not fed back), growing
  // geometrically: at least the positions' keys and values, at most twice them.
  const int64_t positions = 200 + 4 - 1;
  for (const MemoryUse* u : {&small, &large}) {
    EXPECT_GE(u->kv_cache_bytes, positions * kv_per_position + conv_state);
    EXPECT_LE(u->kv_cache_bytes, 2 * positions * kv_per_position + conv_state);
    EXPECT_EQ(u->total(), u->weight_bytes + u->kv_cache_bytes + u->scratch_bytes);
  }
  // Scratch holds at least the logits row, and is bounded by the micro-batch, not the prompt: 8
  // positions per pass need less than 200 in one.
  EXPECT_GE(small.scratch_bytes, c["vocab_size"].get<int64_t>() * 4);
  EXPECT_LT(small.scratch_bytes, large.scratch_bytes);
}

}  // namespace
}  // namespace lfm
