// config.json / generation_config.json parsing against the real LFM2-VL configs and the facts sheet.
#include "model/lfm2_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/generation_config.h"
#include "test_util.h"

namespace lfm {
namespace {

void ExpectVl450M(const Lfm2Config& c) {
  EXPECT_TRUE(c.is_vl);
  EXPECT_EQ(c.weight_prefix, "model.language_model.");
  EXPECT_EQ(c.hidden_size, 1024);
  EXPECT_EQ(c.num_hidden_layers, 16);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.raw_ff_dim, 6656);
  EXPECT_EQ(c.intermediate_size, 4608);  // 6656 -> 4437 -> 4608 (facts §1.1)
  EXPECT_EQ(c.vocab_size, 65536);
  EXPECT_EQ(c.max_position_embeddings, 128000);
  EXPECT_DOUBLE_EQ(c.rope_theta, 1e6);
  EXPECT_FLOAT_EQ(c.norm_eps, 1e-5f);
  EXPECT_EQ(c.conv_L_cache, 3);
  EXPECT_FALSE(c.conv_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, std::vector<int>{7});
  std::vector<int> attn;
  for (int l = 0; l < c.num_hidden_layers; ++l)
    if (c.is_attention(l)) attn.push_back(l);
  EXPECT_EQ(attn, (std::vector<int>{2, 5, 8, 10, 12, 14}));
  EXPECT_FALSE(c.vl_config_json.empty());
}

TEST(Lfm2Config, RealVlConfigsParseToFactSheetNumbers) {
  for (const char* p : {"lfm2/LFM2.5-VL-450M/config.json", "lfm2/LFM2-VL-450M/config.json"}) {
    auto c = LoadLfm2Config(testing::TestData(p));
    ASSERT_OK(c);
    SCOPED_TRACE(p);
    ExpectVl450M(*c);
  }
}

TEST(Lfm2Config, TinyConfig) {
  auto c = LoadLfm2Config(testing::TestData("lfm2-synthetic/tiny-lfm2/config.json"));
  ASSERT_OK(c);
  EXPECT_FALSE(c->is_vl);
  EXPECT_EQ(c->weight_prefix, "model.");
  EXPECT_EQ(c->intermediate_size, 128);  // block_auto_adjust_ff_dim=false keeps block_ff_dim
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->num_attention_layers(), 2);
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->pad_token_id, 0);
}

TEST(Lfm2Config, FfRule) {
  EXPECT_EQ(Lfm2EffectiveFfDim(6656, true, true, 1.0, 256), 4608);
  EXPECT_EQ(Lfm2EffectiveFfDim(12288, true, true, 1.0, 256), 8192);
  EXPECT_EQ(Lfm2EffectiveFfDim(12288, true, false, 1.0, 256), 8192);
  EXPECT_EQ(Lfm2EffectiveFfDim(128, false, true, 1.0, 256), 128);
}

nlohmann::json Tiny() {
  auto s = ReadFileToString(testing::TestData("lfm2-synthetic/tiny-lfm2/config.json"));
  return nlohmann::json::parse(s.value());
}

// Parsing `j` fails with `code` and a message naming file and field.
void ExpectBad(const nlohmann::json& j, const char* field, StatusCode code = StatusCode::kInvalidArgument) {
  auto r = ParseLfm2Config(j.dump(), "cfg/config.json");
  ASSERT_FALSE(r.ok()) << j.dump();
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cfg/config.json"), std::string::npos) << r.status().ToString();
  EXPECT_NE(r.status().message().find(field), std::string::npos) << r.status().ToString();
}

TEST(Lfm2Config, AlternativeKeys) {
  auto j = Tiny();
  j.erase("layer_types");
  j["full_attn_idxs"] = {2, 5};
  j.erase("rope_theta");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}};
  j["tie_embedding"] = false;
  j.erase("tie_word_embeddings");
  j["eos_token_id"] = {7, 2};
  auto c = ParseLfm2Config(j.dump(), "c.json");
  ASSERT_OK(c);
  EXPECT_TRUE(c->is_attention(2));
  EXPECT_TRUE(c->is_attention(5));
  EXPECT_FALSE(c->is_attention(3));
  EXPECT_DOUBLE_EQ(c->rope_theta, 5e5);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->eos_token_ids, (std::vector<int>{7, 2}));
}

TEST(Lfm2Config, InconsistentOrUnsupportedConfigsNameTheField) {
  auto j = Tiny();
  j["num_attention_heads"] = 3;  // does not divide 64 (and 2 kv heads do not divide 3)
  ExpectBad(j, "num_key_value_heads");
  j = Tiny();
  j["num_attention_heads"] = 6;
  j["num_key_value_heads"] = 3;
  ExpectBad(j, "num_attention_heads");
  j = Tiny();
  j["layer_types"].push_back("conv");
  ExpectBad(j, "layer_types");
  j = Tiny();
  j["layer_types"][1] = "sliding_attention";
  ExpectBad(j, "layer_types[1]", StatusCode::kUnsupported);
  j = Tiny();
  j["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  ExpectBad(j, "rope_scaling", StatusCode::kUnsupported);
  j = Tiny();
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  ExpectBad(j, "rope_parameters.rope_type", StatusCode::kUnsupported);
  j = Tiny();
  j["hidden_size"] = "64";
  ExpectBad(j, "hidden_size");
  j = Tiny();
  j.erase("vocab_size");
  ExpectBad(j, "vocab_size", StatusCode::kNotFound);
  j = Tiny();
  j["model_type"] = "llama";
  ExpectBad(j, "model_type", StatusCode::kUnsupported);
  j = Tiny();
  j["block_use_swiglu"] = false;
  ExpectBad(j, "block_use_swiglu", StatusCode::kUnsupported);
  j = Tiny();
  j["eos_token_id"] = 70000;
  ExpectBad(j, "eos_token_id");
  j = {{"model_type", "lfm2-vl"}};
  ExpectBad(j, "text_config");
  j = {{"model_type", "lfm2_vl"}, {"text_config", Tiny()}};
  j["text_config"]["num_hidden_layers"] = 0;
  ExpectBad(j, "text_config.num_hidden_layers");
  auto r = ParseLfm2Config("{not json", "cfg/config.json");
  EXPECT_FALSE(r.ok());
}

TEST(GenerationConfig, ParsesDefaultsAndLists) {
  auto g = LoadGenerationConfig(testing::TestData("lfm2-synthetic/tiny-lfm2/generation_config.json"));
  ASSERT_OK(g);
  EXPECT_EQ(g->bos_token_id, 1);
  EXPECT_EQ(g->pad_token_id, 0);
  EXPECT_EQ(g->eos_token_ids, std::vector<int>{7});
  EXPECT_FALSE(g->temperature.has_value());
  auto g2 = ParseGenerationConfig(
      R"({"do_sample":true,"temperature":0.1,"top_k":50,"top_p":0.9,"min_p":0.15,)"
      R"("repetition_penalty":1.05,"eos_token_id":[7,2],"max_new_tokens":512})",
      "g.json");
  ASSERT_OK(g2);
  EXPECT_TRUE(*g2->do_sample);
  EXPECT_FLOAT_EQ(*g2->temperature, 0.1f);
  EXPECT_EQ(*g2->top_k, 50);
  EXPECT_FLOAT_EQ(*g2->min_p, 0.15f);
  EXPECT_FLOAT_EQ(*g2->repetition_penalty, 1.05f);
  EXPECT_EQ(g2->eos_token_ids, (std::vector<int>{7, 2}));
  auto bad = ParseGenerationConfig(R"({"top_p": 3})", "g.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("top_p"), std::string::npos);
  EXPECT_FALSE(ParseGenerationConfig(R"({"eos_token_id": "x"})", "g.json").ok());
}

}  // namespace
}  // namespace lfm
