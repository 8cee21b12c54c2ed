// A GGUF quantized by llama.cpp's llama-quantize with every GGUF-only block type in it (Q4_1, Q5_0,
// Q5_1, Q4_K, Q5_K, Q6_K; tests/model/data/gguf_mixed/PROVENANCE.md): our dequantization of each
// tensor is bit-exact to the gguf Python package's, and the decoder reading the file as stored gives
// the logits of an f32 decoder on those dequantized weights.
//
// Paths: with int8_matmul off everything is widened to f32 in registers (f32 activations: differences
// are f32 summation order only, tolerance 1e-5 of the row's max |logit| as for q8_0/q4_0 widening).
// With it on (where the CPU has AVX-512 VNNI), the K-quants run the int8 kernel on their exact repack
// and Q5_0 is repacked exactly to q8_0 (Q4_1 / Q5_1 stay widened): activations rounded to int8 per
// block in 12 of the 13 matrices, measured worst row 0.028 of the max |logit| on this random model
// (tests/model/lfm2_quantized_test.cpp explains the growth); tolerance 0.05.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "image/sha256.h"
#include "kernels/linear.h"
#include "model/lfm2_gguf.h"
#include "model/lfm2_test_util.h"
#include "test_util.h"
#include "weights/gguf.h"

namespace lfm {
namespace {

std::string MixedPath(const char* ext) {
  return testing::SourceDir() + "/tests/model/data/gguf_mixed/lfm2-mixed-kquants" + ext;
}

TEST(Lfm2GgufMixed, EveryTypeDequantizesBitExactToGgufPackage) {
  auto refs_text = ReadFileToString(MixedPath(".json"));
  ASSERT_OK(refs_text);
  const nlohmann::json refs = nlohmann::json::parse(*refs_text)["tensors"];
  auto file = GgufFile::Open(MixedPath(".gguf"));
  ASSERT_OK(file);
  std::map<std::string, int> types;
  int checked = 0;
  for (const auto& t : (*file)->header().tensors) {
    if (t.dtype == DType::kF32) continue;
    ASSERT_TRUE(refs.contains(t.name)) << t.name;
    std::string want = refs[t.name]["type"];
    for (char& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(DTypeName(t.dtype), want) << t.name;
    ++types[DTypeName(t.dtype)];
    std::vector<float> ours;
    testing::ToF32((*file)->View(t), &ours);
    EXPECT_EQ(testing::Sha256Hex(ours.data(), ours.size() * sizeof(float)), refs[t.name]["dequantized_f32_sha256"])
        << t.name << " (" << DTypeName(t.dtype) << ")";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(refs.size()));
  for (const char* t : {"q4_1", "q5_0", "q5_1", "q4_k", "q5_k", "q6_k"}) EXPECT_GT(types[t], 0) << t;
}

TEST(Lfm2GgufMixed, DecoderMatchesF32OnDequantizedWeights) {
  auto g = OpenLfm2Gguf(MixedPath(".gguf"));
  ASSERT_OK(g);
  int replaced = 0;
  auto store = testing::DerivedStore::Build(
      *g->weights, [](const std::string&, const TensorView& v) { return v.dtype != DType::kF32; }, testing::ToF32,
      &replaced);
  EXPECT_EQ(replaced, 13);
  auto f = Lfm2Model::FromWeights(g->config, store);
  ASSERT_OK(f);
  const int V = g->config.vocab_size;
  ASSERT_EQ(V, 512);
  const std::vector<int32_t> prompt = {1, 57, 311, 42, 260, 99, 8, 401, 13, 77, 505, 230};
  const std::vector<int32_t> ref_ids = testing::GreedyIds(**f, prompt, 8);
  const std::vector<int32_t> feed(ref_ids.begin(), ref_ids.end() - 1);
  const auto ref = testing::RunSequence(**f, prompt, feed);
  for (bool int8 : {false, true}) {
    ModelLoadOptions o;
    o.int8_matmul = int8;
    auto q = Lfm2Model::Load(MixedPath(".gguf"), o);
    ASSERT_OK(q);
    const auto got = testing::RunSequence(**q, prompt, feed);
    ASSERT_EQ(got.size(), ref.size());
    const bool int8_ran = int8 && LinearPacks(DType::kQ8_0);
    const double tol = int8_ran ? (LinearPacks(DType::kQ4_K) ? 0.05 : 0.02) : 1e-5;
    double worst = 0;
    int same = 0;
    const int rows = static_cast<int>(got.size() / V);
    for (int r = 0; r < rows; ++r) {
      const double rel = testing::RelDiff(got.data() + r * V, ref.data() + r * V, V);
      worst = std::max(worst, rel);
      EXPECT_LT(rel, tol) << (int8_ran ? "int8" : "widening") << " row " << r;
      EXPECT_TRUE(std::all_of(got.begin() + r * V, got.begin() + (r + 1) * V, [](float x) { return std::isfinite(x); }));
      same += testing::Argmax(got.data() + r * V, V) == testing::Argmax(ref.data() + r * V, V);
    }
    if (!int8_ran) EXPECT_EQ(same, rows);
    std::printf("mixed K-quant GGUF, %s: worst row rel diff vs f32 on gguf-dequantized weights %.3g, top-1 same %d/%d\n",
                int8_ran ? "int8" : "widening", worst, same, rows);
  }
}

}  // namespace
}  // namespace lfm
