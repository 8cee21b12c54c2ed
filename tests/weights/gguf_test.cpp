#include "weights/gguf.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace lfm {
namespace {

TEST(Gguf, ReadsTinyLfm2) {
  auto f = GgufFile::Open(testing::TestData("lfm2-synthetic/tiny-lfm2/model-f32.gguf"));
  ASSERT_OK(f);
  const GgufHeader& h = (*f)->header();
  EXPECT_EQ(h.version, 3u);
  EXPECT_EQ(h.tensors.size(), 56u);
  ASSERT_NE(h.Find("general.architecture"), nullptr);
  EXPECT_EQ(h.Find("general.architecture")->s, "lfm2");
  EXPECT_EQ(h.Find("lfm2.block_count")->i, 6);
  EXPECT_EQ(h.Find("lfm2.attention.head_count_kv")->ints, (std::vector<int64_t>{0, 0, 2, 0, 0, 2}));
  EXPECT_EQ(h.Find("tokenizer.ggml.tokens")->strings.size(), 65536u);
  EXPECT_FLOAT_EQ(static_cast<float>(h.Find("lfm2.rope.freq_base")->f), 1e6f);
  for (const auto& t : h.tensors) {
    if (t.name == "token_embd.weight") EXPECT_EQ(t.shape, (std::vector<int64_t>{65536, 64}));  // ne reversed
    if (t.name == "blk.0.shortconv.conv.weight") EXPECT_EQ(t.shape, (std::vector<int64_t>{64, 3}));
  }
}

TEST(Gguf, FuzzSeedIsValidAndMutantsFail) {
  auto bytes = ReadFileToString(testing::SourceDir() + "/fuzz/seeds/gguf/tiny.gguf");
  ASSERT_OK(bytes);
  auto parse = [](const std::string& b) {
    return ParseGguf(reinterpret_cast<const uint8_t*>(b.data()), b.size(), "t.gguf");
  };
  auto ok = parse(*bytes);
  ASSERT_OK(ok);
  EXPECT_EQ(ok->tensors.size(), 3u);
  EXPECT_EQ(ok->tensors[2].dtype, DType::kQ8_0);
  std::string huge_count = *bytes;
  huge_count[8] = 0x7f;  // tensor count
  EXPECT_FALSE(parse(huge_count).ok());
  EXPECT_FALSE(parse(bytes->substr(0, bytes->size() - 1)).ok());  // last tensor past the end
  for (size_t cut = 0; cut < 300; cut += 7) EXPECT_FALSE(parse(bytes->substr(0, cut)).ok()) << cut;
}

}  // namespace
}  // namespace lfm
