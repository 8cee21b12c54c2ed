// `lfm inspect` on the tiny text and VL models and on GGUF files (an LFM2 model and a VL mmproj):
// every tensor of the header is listed with its shape, dtype and size, and the rest of the summary
// agrees with the files it came from.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/mapped_file.h"
#include "engine/random_model.h"
#include "cli_util.h"
#include "test_util.h"
#include "weights/gguf.h"
#include "weights/safetensors.h"

namespace lfm {
namespace {

using testing::Quote;
using testing::RunLfm;

nlohmann::json InspectJson(const std::string& path) {
  auto r = RunLfm("inspect -m " + Quote(path) + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

nlohmann::json ReadJsonFile(const std::string& path) {
  auto text = ReadFileToString(path);
  EXPECT_TRUE(text.ok()) << path;
  return nlohmann::json::parse(*text);
}

// Every tensor of the safetensors header, with the same shape and dtype, and nothing else.
void ExpectTensorsMatchSafetensors(const nlohmann::json& j, const std::string& file) {
  auto st = SafetensorsFile::Open(file);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const auto& tensors = j["tensors"];
  ASSERT_EQ(tensors.size(), (*st)->header().tensors.size());
  std::map<std::string, nlohmann::json> by_name;
  int64_t total = 0;
  for (const auto& t : tensors) {
    by_name[t["name"]] = t;
    total += t["bytes"].get<int64_t>();
  }
  for (const auto& e : (*st)->header().tensors) {
    ASSERT_TRUE(by_name.count(e.name)) << e.name;
    const auto& t = by_name[e.name];
    EXPECT_EQ(t["shape"].get<std::vector<int64_t>>(), e.shape) << e.name;
    EXPECT_EQ(t["bytes"].get<uint64_t>(), e.end - e.begin) << e.name;
    EXPECT_EQ(t["dtype"], DTypeName(e.dtype)) << e.name;
  }
  EXPECT_EQ(j["tensor_totals"]["count"], tensors.size());
  EXPECT_EQ(j["tensor_totals"]["bytes"], total);
  int64_t by_dtype = 0;
  for (const auto& [d, v] : j["tensor_totals"]["by_dtype"].items()) by_dtype += v["bytes"].get<int64_t>();
  EXPECT_EQ(by_dtype, total);
}

TEST(CliInspect, TinyTextModel) {
  const std::string dir = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto j = InspectJson(dir);
  const auto config = ReadJsonFile(dir + "/config.json");
  EXPECT_EQ(j["format"], "hf-directory");
  EXPECT_EQ(j["config"]["model_type"], "lfm2");
  EXPECT_EQ(j["config"]["vocab_size"], config["vocab_size"]);
  EXPECT_EQ(j["config"]["hidden_size"], config["hidden_size"]);
  EXPECT_EQ(j["config"]["num_layers"], config["num_hidden_layers"]);
  EXPECT_EQ(j["config"]["layer_types"].size(), config["num_hidden_layers"].get<size_t>());
  EXPECT_FALSE(j["config"]["is_vl"]);
  EXPECT_TRUE(j["processor"].is_null());
  ExpectTensorsMatchSafetensors(j, dir + "/model.safetensors");
  // Special tokens with their ids, EOS from generation_config.json.
  const auto gen = ReadJsonFile(dir + "/generation_config.json");
  bool im_end = false;
  for (const auto& s : j["tokenizer"]["special_tokens"]) im_end |= s["content"] == "<|im_end|>";
  EXPECT_TRUE(im_end) << j["tokenizer"];
  if (gen.contains("eos_token_id")) {
    auto eos = gen["eos_token_id"].is_array() ? gen["eos_token_id"] : nlohmann::json::array({gen["eos_token_id"]});
    EXPECT_EQ(j["tokenizer"]["eos_ids"], eos);
  }
  EXPECT_FALSE(j["chat_template"].is_null());
  EXPECT_GT(j["chat_template"]["lines"], 0);
  EXPECT_EQ(j["admission_limits"]["max_images"], 32);
  EXPECT_EQ(j["admission_limits"]["max_context"], config["max_position_embeddings"]);

  // Text form: every tensor name appears; the template is cut unless --template.
  auto text = RunLfm("inspect -m " + Quote(dir));
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const auto& t : j["tensors"]) EXPECT_NE(text.out.find(t["name"].get<std::string>()), std::string::npos);
  EXPECT_NE(text.out.find("request limits"), std::string::npos);
  auto full = RunLfm("inspect -m " + Quote(dir) + " --template");
  ASSERT_EQ(full.exit_code, 0);
  std::istringstream source(j["chat_template"]["source"].get<std::string>());
  int lines = 0;
  for (std::string line; std::getline(source, line); ++lines)
    EXPECT_NE(full.out.find("  | " + line + "\n"), std::string::npos) << line;
  EXPECT_EQ(lines, j["chat_template"]["lines"]);
  if (j["chat_template"]["lines"].get<int>() > 8) {
    EXPECT_NE(text.out.find("--template prints it whole"), std::string::npos);
    EXPECT_GT(full.out.size(), text.out.size());
  }
}

TEST(CliInspect, TinyVlModel) {
  const std::string dir = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl");
  auto j = InspectJson(dir);
  EXPECT_TRUE(j["config"]["is_vl"]);
  ExpectTensorsMatchSafetensors(j, dir + "/model.safetensors");
  const auto pre = ReadJsonFile(dir + "/preprocessor_config.json");
  ASSERT_TRUE(j["processor"].is_object());
  for (const char* key : {"do_image_splitting", "tile_size", "min_tiles", "max_tiles", "use_thumbnail",
                          "min_image_tokens", "max_image_tokens", "downsample_factor", "encoder_patch_size"})
    if (pre.contains(key)) {
      EXPECT_EQ(j["processor"][key], pre[key]) << key;
    }
  bool vision = false;
  for (const auto& t : j["tensors"]) vision |= t["name"].get<std::string>().find("vision_tower") != std::string::npos;
  EXPECT_TRUE(vision);
}

// The full-size random models (the published LFM2-350M and LFM2.5-VL-450M shapes, ~0.7-0.9 GB of bf16
// each, written to scratch and removed): every tensor listed with its shape, dtype and size, and the
// config summary read from their config.json.
TEST(CliInspect, FullSizeRandomModels) {
  for (const std::string name : {"lfm2-350m", "lfm2.5-vl-450m"}) {
    SCOPED_TRACE(name);
    auto shape = RandomModelShapeByName(name);
    ASSERT_TRUE(shape.ok());
    const std::string dir = testing::ScratchDir("inspect_full_" + name);
    ASSERT_TRUE(WriteRandomModel(*shape, dir, {}).ok());
    auto j = InspectJson(dir);
    const auto config = ReadJsonFile(dir + "/config.json");
    const auto& text_config = config.contains("text_config") ? config["text_config"] : config;
    EXPECT_EQ(j["config"]["hidden_size"], text_config["hidden_size"]);
    EXPECT_EQ(j["config"]["num_layers"], text_config["num_hidden_layers"]);
    EXPECT_EQ(j["config"]["is_vl"], config.contains("vision_config"));
    ExpectTensorsMatchSafetensors(j, dir + "/model.safetensors");
    EXPECT_GT(j["tensors"].size(), 100u);
    std::filesystem::remove_all(dir);
  }
}

TEST(CliInspect, GgufFiles) {
  for (const std::string& file : {testing::TestData("lfm2-synthetic/tiny-lfm2/model-f32.gguf"),
                                 testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl/mmproj-f32.gguf")}) {
    auto j = InspectJson(file);
    EXPECT_EQ(j["format"], "gguf");
    auto g = GgufFile::Open(file);
    ASSERT_TRUE(g.ok());
    const auto& infos = (*g)->header().tensors;
    ASSERT_EQ(j["tensors"].size(), infos.size()) << file;
    std::map<std::string, nlohmann::json> by_name;
    for (const auto& t : j["tensors"]) by_name[t["name"]] = t;
    for (const auto& t : infos) {
      ASSERT_TRUE(by_name.count(t.name)) << t.name;
      EXPECT_EQ(by_name[t.name]["shape"].get<std::vector<int64_t>>(), t.shape);
      EXPECT_EQ(by_name[t.name]["bytes"].get<uint64_t>(), t.nbytes);
      EXPECT_EQ(by_name[t.name]["dtype"], DTypeName(t.dtype));
    }
  }
  // The LFM2 GGUF has a config and a tokenizer; the mmproj is reported as what it is.
  auto text = InspectJson(testing::TestData("lfm2-synthetic/tiny-lfm2/model-f32.gguf"));
  EXPECT_EQ(text["config"]["architecture"], "lfm2");
  EXPECT_EQ(text["config"]["vocab_size"],
            InspectJson(testing::TestData("lfm2-synthetic/tiny-lfm2"))["config"]["vocab_size"]);
  EXPECT_GT(text["tokenizer"]["vocab_size"], 0);
  auto mmproj = InspectJson(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl/mmproj-f32.gguf"));
  EXPECT_NE(mmproj["config"]["architecture"], "lfm2");
  EXPECT_TRUE(mmproj["config"].contains("error"));
}

TEST(CliInspect, BadPaths) {
  auto missing = RunLfm("inspect -m /nonexistent/model");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/model"), std::string::npos);
  auto not_gguf = RunLfm("inspect -m " + Quote(testing::TestData("lfm2-synthetic/tiny-lfm2/config.json")));
  EXPECT_EQ(not_gguf.exit_code, 1);
  EXPECT_NE(not_gguf.err.find(".gguf"), std::string::npos) << not_gguf.err;
}

}  // namespace
}  // namespace lfm
