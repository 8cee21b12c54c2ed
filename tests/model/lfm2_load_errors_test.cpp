// Broken model directories (written into ScratchDir) must fail to load with a message naming the
// file, tensor or field — never crash.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <nlohmann/json.hpp>

#include "model/lfm2_model.h"
#include "test_util.h"
#include "weights/safetensors.h"

namespace lfm {
namespace {

struct T {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

std::vector<T> TinyTensors() {
  auto f = SafetensorsFile::Open(testing::TestData("lfm2-synthetic/tiny-lfm2/model.safetensors"));
  EXPECT_TRUE(f.ok());
  std::vector<T> out;
  for (const auto& e : (*f)->header().tensors) {
    TensorView v = (*f)->View(e);
    out.push_back({e.name, "F32", e.shape, std::string(static_cast<const char*>(v.data), v.nbytes())});
  }
  return out;
}

std::string Serialize(const std::vector<T>& ts) {
  nlohmann::json h = nlohmann::json::object();
  std::string data;
  for (const auto& t : ts) {
    h[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data += t.bytes;
  }
  std::string hs = h.dump();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((hs.size() >> (8 * i)) & 0xff);
  return out + hs + data;
}

// Writes a model dir with the tiny config (edited by cfg) and tensors (edited by edit).
std::string WriteModel(const std::string& name, const std::function<void(nlohmann::json&)>& cfg,
                       const std::function<void(std::vector<T>&)>& edit) {
  const std::string dir = testing::ScratchDir(name);
  auto text = ReadFileToString(testing::TestData("lfm2-synthetic/tiny-lfm2/config.json"));
  auto j = nlohmann::json::parse(text.value());
  if (cfg) cfg(j);
  EXPECT_TRUE(WriteStringToFile(dir + "/config.json", j.dump()).ok());
  auto ts = TinyTensors();
  if (edit) edit(ts);
  EXPECT_TRUE(WriteStringToFile(dir + "/model.safetensors", Serialize(ts)).ok());
  return dir;
}

void ExpectLoadError(const std::string& dir, std::initializer_list<std::string> needles) {
  auto m = Lfm2Model::Load(dir);
  ASSERT_FALSE(m.ok()) << dir;
  for (const auto& n : needles) {
    EXPECT_NE(m.status().message().find(n), std::string::npos) << m.status().ToString() << " lacks " << n;
  }
}

T* Find(std::vector<T>& ts, const std::string& name) {
  for (auto& t : ts)
    if (t.name == name) return &t;
  ADD_FAILURE() << "no tensor " << name;
  static T dummy;
  return &dummy;
}

TEST(Lfm2Load, RewrittenTinyModelStillLoads) {
  auto dir = WriteModel("load_ok", nullptr, nullptr);
  auto m = Lfm2Model::Load(dir);
  ASSERT_OK(m);
}

TEST(Lfm2Load, MissingTensor) {
  auto dir = WriteModel("load_missing", nullptr, [](std::vector<T>& ts) {
    std::erase_if(ts, [](const T& t) { return t.name == "model.layers.2.self_attn.k_layernorm.weight"; });
  });
  ExpectLoadError(dir, {"model.safetensors", "model.layers.2.self_attn.k_layernorm.weight", "missing"});
}

TEST(Lfm2Load, WrongShape) {
  auto dir = WriteModel("load_shape", nullptr, [](std::vector<T>& ts) {
    T* t = Find(ts, "model.layers.3.conv.out_proj.weight");
    t->shape = {32, 128};  // same bytes, wrong shape
  });
  ExpectLoadError(dir, {"model.safetensors", "model.layers.3.conv.out_proj.weight", "[32, 128]", "expected [64, 64]"});
}

TEST(Lfm2Load, FfWidthDisagreesWithConfig) {
  auto dir = WriteModel("load_ff", [](nlohmann::json& j) { j["block_auto_adjust_ff_dim"] = true; }, nullptr);
  ExpectLoadError(dir, {"feed_forward.w1.weight", "256", "128"});
}

TEST(Lfm2Load, UnsupportedDtype) {
  auto dir = WriteModel("load_dtype", nullptr, [](std::vector<T>& ts) {
    T* t = Find(ts, "model.embedding_norm.weight");
    t->dtype = "F64";
    t->shape = {32};
  });
  ExpectLoadError(dir, {"model.safetensors", "model.embedding_norm.weight", "F64"});
}

TEST(Lfm2Load, InconsistentConfigs) {
  ExpectLoadError(WriteModel("load_heads", [](nlohmann::json& j) { j["num_attention_heads"] = 5; }, nullptr),
                  {"config.json", "num_key_value_heads"});
  ExpectLoadError(WriteModel("load_layers", [](nlohmann::json& j) { j["num_hidden_layers"] = 7; }, nullptr),
                  {"config.json", "layer_types"});
  ExpectLoadError(WriteModel("load_bias", [](nlohmann::json& j) { j["conv_bias"] = true; }, nullptr),
                  {"conv_bias", "conv.in_proj.bias"});
  ExpectLoadError(WriteModel("load_untied", [](nlohmann::json& j) { j["tie_word_embeddings"] = false; }, nullptr),
                  {"lm_head.weight"});
  ExpectLoadError(WriteModel("load_vocab", [](nlohmann::json& j) { j["vocab_size"] = 1000; }, nullptr),
                  {"model.embed_tokens.weight", "[65536, 64]", "expected [1000, 64]"});
}

TEST(Lfm2Load, CorruptWeightsFile) {
  const std::string dir = WriteModel("load_corrupt", nullptr, nullptr);
  auto bytes = ReadFileToString(dir + "/model.safetensors");
  ASSERT_TRUE(WriteStringToFile(dir + "/model.safetensors", bytes->substr(0, bytes->size() / 2)).ok());
  ExpectLoadError(dir, {"model.safetensors", "past the data area"});
  ASSERT_TRUE(WriteStringToFile(dir + "/config.json", "{\"model_type\": ").ok());
  ExpectLoadError(dir, {"config.json", "JSON"});
  ExpectLoadError(testing::ScratchDir("load_empty"), {"config.json"});
}

}  // namespace
}  // namespace lfm
