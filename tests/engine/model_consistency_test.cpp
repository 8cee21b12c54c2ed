// Cross-file checks of a model directory (engine/model_consistency.h and the processor-file
// agreement in Lfm2VlProcessorConfig::FromModelDir): the published configs pass, and each kind of
// disagreement is refused naming both files and fields.
#include "engine/model_consistency.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "base/mapped_file.h"
#include "test_util.h"

namespace lfm {
namespace {

namespace fs = std::filesystem;

TEST(ModelConsistency, PublishedVlConfigsPass) {
  for (const char* name : {"lfm2/LFM2-VL-450M", "lfm2/LFM2.5-VL-450M", "lfm2-vl-synthetic/tiny-lfm2-vl"}) {
    const std::string dir = testing::TestData(name);
    auto processor = Lfm2VlProcessorConfig::FromModelDir(dir);
    ASSERT_OK(processor);
    auto vision = LoadLfm2VlVisionConfig(dir + "/config.json");
    ASSERT_OK(vision);
    auto text = LoadLfm2Config(dir + "/config.json");
    ASSERT_OK(text);
    EXPECT_TRUE(CheckProcessorMatchesVision(dir, *processor, *vision).ok()) << name;
    auto generation = LoadGenerationConfig(dir + "/generation_config.json");
    ASSERT_OK(generation);
    EXPECT_TRUE(CheckSpecialIdsInVocab(dir, *generation, *text).ok()) << name;
    EXPECT_EQ(processor->field_sources.count("encoder_patch_size"), 1u) << name;
  }
}

// A copy of the tiny VL directory's small files with one of them rewritten.
std::string VlCopyWith(const std::string& name, const std::string& file, const std::string& from,
                       const std::string& to) {
  const std::string src = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl");
  const std::string dir = testing::ScratchDir("model_consistency_" + name);
  for (const char* f : {"config.json", "preprocessor_config.json", "processor_config.json", "generation_config.json",
                        "special_tokens_map.json", "tokenizer_config.json"}) {
    fs::copy_file(src + "/" + f, dir + "/" + f);
  }
  std::string text = *ReadFileToString(dir + "/" + file);
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  EXPECT_TRUE(WriteStringToFile(dir + "/" + file, text).ok());
  return dir;
}

TEST(ModelConsistency, ProcessorFilesThatDisagreeAreRefusedNamingBoth) {
  const std::string dir = VlCopyWith("disagree", "processor_config.json", "\"tile_size\": 512", "\"tile_size\": 384");
  auto p = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), dir + "/processor_config.json: tile_size is 384 but " + dir +
                                      "/preprocessor_config.json: tile_size is 512 (the processor files disagree "
                                      "on tile_size)");
}

TEST(ModelConsistency, PatchSizeAgainstVisionConfig) {
  // Both processor files agree on 32, so only the cross-file check with config.json can catch it.
  std::string dir = VlCopyWith("patch", "processor_config.json", "\"encoder_patch_size\": 16",
                               "\"encoder_patch_size\": 32");
  {
    std::string pre = *ReadFileToString(dir + "/preprocessor_config.json");
    pre.replace(pre.find("\"encoder_patch_size\": 16"), 24, "\"encoder_patch_size\": 32");
    ASSERT_TRUE(WriteStringToFile(dir + "/preprocessor_config.json", pre).ok());
  }
  auto p = Lfm2VlProcessorConfig::FromModelDir(dir);
  ASSERT_OK(p);
  auto v = LoadLfm2VlVisionConfig(dir + "/config.json");
  ASSERT_OK(v);
  Status s = CheckProcessorMatchesVision(dir, *p, *v);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("processor_config.json: encoder_patch_size is 32 but " + dir +
                             "/config.json: vision_config.patch_size is 16"),
            std::string::npos)
      << s.message();
}

TEST(ModelConsistency, DownsampleFactorAndChannels) {
  Lfm2VlProcessorConfig p;
  Lfm2VlVisionConfig v;
  v.downsample_factor = 4;
  Status s = CheckProcessorMatchesVision("m", p, v);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("downsample_factor is 2 but m/config.json: downsample_factor is 4"), std::string::npos)
      << s.message();
  v.downsample_factor = 2;
  v.vision.num_channels = 4;
  EXPECT_FALSE(CheckProcessorMatchesVision("m", p, v).ok());
}

TEST(ModelConsistency, ConfigStatingTwoPatchSizes) {
  const std::string dir = VlCopyWith("two_patch", "config.json", "\"encoder_patch_size\": 16",
                                     "\"encoder_patch_size\": 14");
  auto v = LoadLfm2VlVisionConfig(dir + "/config.json");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("encoder_patch_size is 14 but vision_config.patch_size is 16"),
            std::string::npos)
      << v.status().message();
}

TEST(ModelConsistency, SpecialIdsOutsideTheVocabulary) {
  Lfm2Config c;
  c.vocab_size = 100;
  GenerationConfig g;
  g.eos_token_ids = {7, 100};
  Status s = CheckSpecialIdsInVocab("m", g, c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "m/generation_config.json: eos_token_id 100 is outside the vocabulary "
                         "(config.json vocab_size 100)");
  g.eos_token_ids = {7};
  c.bos_token_id = -1;
  c.pad_token_id = 250;
  EXPECT_FALSE(CheckSpecialIdsInVocab("m", g, c).ok());
  c.pad_token_id = 0;
  EXPECT_TRUE(CheckSpecialIdsInVocab("m", g, c).ok());
}

}  // namespace
}  // namespace lfm
