// `lfm quantize` (engine/gguf_export.h) round-tripped through our own GGUF loader on the tiny random
// LFM2 (shared testdata lfm2-synthetic/tiny-lfm2): tensors bit-exact (f32) or exactly the asked
// rounding (bf16, q8_0, q4_0 = what `--dtype` does at load), the tokenizer identical, the chat template
// kept, and the same greedy ids as the directory (f32; q8_0/q4_0 against the directory quantized at
// load). llama.cpp loading these files is checked by bench/check_quantize_llamacpp.sh (not in CI).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "engine/gguf_export.h"
#include "engine/gguf_tokenizer.h"
#include "lfm/engine.h"
#include "model/lfm2_gguf.h"
#include "tensor/convert.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "weights/gguf.h"
#include "weights/weight_store.h"

namespace lfm {
namespace {

const char* kDir = "lfm2-synthetic/tiny-lfm2";

std::string Export(DType t, const std::string& name) {
  const std::string out = testing::ScratchDir("gguf_export_" + name) + "/model.gguf";
  Status st = ExportLfm2TextGguf(testing::TestData(kDir), t, out);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::vector<int32_t> Greedy(const std::string& model, const std::string& dtype) {
  LoadOptions lo;
  lo.threads = 1;
  lo.weight_dtype = dtype;
  auto e = Engine::Load(model, lo);
  EXPECT_TRUE(e.ok()) << e.status().ToString();
  if (!e.ok()) return {};
  GenerateOptions go;
  go.max_tokens = 12;
  go.sampling = SamplingParams{};
  go.sampling->temperature = 0;
  go.ignore_eos = true;
  auto g = (*e)->Complete("The capital of France is", go, nullptr);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  return g.ok() ? g->ids : std::vector<int32_t>{};
}

// Every source tensor against the file's: the source rounded per row to the type the export gives it.
void CompareTensors(const std::string& gguf, DType matrix_type) {
  auto dir = WeightStore::OpenDirectory(testing::TestData(kDir));
  ASSERT_OK(dir);
  auto file = OpenLfm2Gguf(gguf);
  ASSERT_OK(file);
  EXPECT_EQ(file->weights->size(), (*dir)->size());
  for (const std::string& name : (*dir)->Names()) {
    auto src = (*dir)->Get(name);
    auto got = file->weights->Get(name);
    ASSERT_OK(src);
    ASSERT_OK(got);
    EXPECT_EQ(got->numel(), src->numel()) << name;
    const bool matrix = name.find("feed_forward") != std::string::npos || name.find("_proj.weight") != std::string::npos;
    const bool embedding = name.find("embed_tokens") != std::string::npos;
    DType want = src->dtype;
    if (matrix) want = matrix_type;
    if (embedding && (matrix_type == DType::kBF16 || matrix_type == DType::kF16)) want = matrix_type;
    ASSERT_EQ(got->dtype, want) << name;
    const int64_t cols = src->shape.back(), rows = src->numel() / cols;
    std::vector<uint8_t> expect(static_cast<size_t>(DTypeBytes(want, cols) * rows));
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      DequantizeRow(src->dtype, static_cast<const uint8_t*>(src->data) + r * DTypeBytes(src->dtype, cols), row.data(),
                    cols);
      QuantizeRow(want, row.data(), expect.data() + r * DTypeBytes(want, cols), cols);
    }
    ASSERT_EQ(static_cast<size_t>(got->nbytes()), expect.size()) << name;
    EXPECT_EQ(std::memcmp(got->data, expect.data(), expect.size()), 0) << name;
  }
}

TEST(GgufExport, F32TensorsTokenizerTemplateAndGreedyIds) {
  const std::string out = Export(DType::kF32, "f32");
  CompareTensors(out, DType::kF32);
  // Config.
  auto file = OpenLfm2Gguf(out);
  ASSERT_OK(file);
  auto g = GgufFile::Open(out);
  ASSERT_OK(g);
  const GgufValue* tmpl = (*g)->header().Find("tokenizer.chat_template");
  ASSERT_NE(tmpl, nullptr);
  EXPECT_NE(tmpl->s.find("<|im_start|>"), std::string::npos);
  // Tokenizer: every id's string and the encoding of mixed text equal the directory's.
  auto json = TokenizerJsonFromGguf((*g)->header(), out);
  ASSERT_OK(json);
  auto a = Tokenizer::FromJson(*json, out);
  ASSERT_OK(a);
  auto b = Tokenizer::FromFile(testing::TestData(kDir) + "/tokenizer.json");
  ASSERT_OK(b);
  ASSERT_EQ(a->vocab_size(), b->vocab_size());
  for (int32_t id = 0; id < b->vocab_size(); ++id) ASSERT_EQ(a->IdToToken(id), b->IdToToken(id)) << id;
  for (const char* text : {"Hello world", "<|im_start|>user\nHi 123 ça va?<|im_end|>", "  spaces\tand\nlines  ",
                           "日本語のテキスト", "don't won't 1234567"}) {
    for (bool special : {true, false}) {
      auto ea = a->Encode(text, special);
      auto eb = b->Encode(text, special);
      ASSERT_OK(ea);
      ASSERT_OK(eb);
      EXPECT_EQ(*ea, *eb) << text;
    }
  }
  const auto want = Greedy(testing::TestData(kDir), "auto");
  EXPECT_EQ(want.size(), 12u);
  EXPECT_EQ(Greedy(out, "auto"), want);
}

TEST(GgufExport, Bf16IsTheRoundedTensors) { CompareTensors(Export(DType::kBF16, "bf16"), DType::kBF16); }

TEST(GgufExport, Q8_0AndQ4_0EqualTheLoadTimeQuantization) {
  for (auto [t, name] : {std::pair{DType::kQ8_0, "q8_0"}, std::pair{DType::kQ4_0, "q4_0"}}) {
    const std::string out = Export(t, name);
    CompareTensors(out, t);
    const auto want = Greedy(testing::TestData(kDir), name);
    EXPECT_EQ(want.size(), 12u);
    EXPECT_EQ(Greedy(out, "auto"), want) << name;
  }
}

TEST(GgufExport, RefusesBadInput) {
  const std::string scratch = testing::ScratchDir("gguf_export_bad");
  EXPECT_FALSE(ExportLfm2TextGguf(testing::TestData(kDir), DType::kQ6_K, scratch + "/x.gguf").ok());
  Status st = ExportLfm2TextGguf(scratch + "/no-such-dir", DType::kF32, scratch + "/x.gguf");
  EXPECT_FALSE(st.ok());
  st = ExportLfm2TextGguf(testing::TestData(kDir), DType::kF32, scratch + "/no-such-dir/x.gguf");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no-such-dir/x.gguf"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace lfm
