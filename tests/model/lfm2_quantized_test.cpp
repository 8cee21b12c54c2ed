// Quantized decoder paths (q8_0, q4_0) against an f32 run on the very same weight values.
//
// Quantization error itself is not what these tests measure: a q8_0 matrix holds exactly the f32
// numbers d * q (an f16 scale times a small integer: exact in f32), so a decoder that reads the
// blocks must give the logits of the f32 decoder on the dequantized matrices, up to how the
// activations are treated. Two paths (ModelLoadOptions::int8_matmul):
// - widening (int8_matmul = false): blocks are widened to f32 in registers, activations stay f32, so
//   the only differences are f32 rounding in different summation orders: ~1e-7 relative per sum, grown
//   through the layers. Tolerance 1e-5 of the row's max |logit|, and every greedy id equal. A wrong
//   scale, nibble order or block stride moves logits by 1e-2..1.
// - int8 (the default where the CPU has AVX-512 VNNI): activations are also rounded to int8 per
//   32-block (|error| <= amax / 254 per element, bounded per matmul in tests/kernels/
//   quant_matmul_test.cpp, where the kernel matches its reference exactly). Through the layers of a
//   random model that grows to a few % of the max |logit|: measured worst rows 0.15 (tiny model:
//   hidden 64, 6 layers, near-flat random logits) and 0.022 (LFM2-350M shapes, 16 layers).
//   Tolerances kInt8TinyTol / kInt8Tol350m leave ~1.5-2x margin; greedy ids may flip at near-ties,
//   so the criterion is checked at full size instead: top-1 agreement with f32 >= 99% (q8_0)
//   over 256 positions (Lfm2_350mQ8_0Top1AgreesWithF32).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "image/sha256.h"
#include "kernels/linear.h"
#include "model/lfm2_config.h"
#include "model/lfm2_gguf.h"
#include "model/lfm2_test_util.h"
#include "test_util.h"
#include "weights/gguf.h"

namespace lfm {
namespace {

using testing::RelDiff;

const char* kTiny = "lfm2-synthetic/tiny-lfm2";
constexpr double kTol = 1e-5;          // widening path
constexpr double kInt8TinyTol = 0.25;   // int8 path, tiny model
constexpr double kInt8Tol350m = 0.05;   // int8 path, LFM2-350M shapes

// The matrices Lfm2Model converts to ModelLoadOptions::weight_dtype (all but the embedding table).
bool IsBlockMatrix(const std::string& name) {
  for (const char* suffix : {"feed_forward.w1.weight", "feed_forward.w2.weight", "feed_forward.w3.weight",
                             "conv.in_proj.weight", "conv.out_proj.weight", "self_attn.q_proj.weight",
                             "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.out_proj.weight"}) {
    const std::string s = suffix;
    if (name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

struct Comparison {
  double worst = 0;
  int rows = 0;
  int greedy_same = 0, steps = 0;
};

// The paths to run: widening always; int8 too where the CPU runs it (else it would be the same run).
std::vector<bool> Int8Paths(DType dt) {
  if (LinearPacks(dt)) return {false, true};
  return {false};
}

// Runs `prompt` + greedy continuation of the reference model through both; every row within kTol,
// and the quantized model's greedy ids equal the reference's.
Comparison CompareRuns(Lfm2Model& quantized, Lfm2Model& reference, const std::vector<int32_t>& prompt, int steps,
                       const std::string& what, double tol = kTol, bool same_greedy = true) {
  const int V = reference.config().vocab_size;
  std::vector<int32_t> ref_ids = testing::GreedyIds(reference, prompt, steps);
  std::vector<int32_t> feed(ref_ids.begin(), ref_ids.end() - 1);
  auto a = testing::RunSequence(quantized, prompt, feed);
  auto b = testing::RunSequence(reference, prompt, feed);
  Comparison c;
  c.rows = static_cast<int>(prompt.size() + feed.size());
  EXPECT_EQ(a.size(), static_cast<size_t>(c.rows) * V);
  if (a.size() != b.size()) return c;
  for (int r = 0; r < c.rows; ++r) {
    const double rel = RelDiff(a.data() + r * V, b.data() + r * V, V);
    c.worst = std::max(c.worst, rel);
    EXPECT_LT(rel, tol) << what << " row " << r;
    // RelDiff is blind to NaN (comparisons with NaN are false), so check finiteness separately.
    EXPECT_TRUE(std::all_of(a.begin() + r * V, a.begin() + (r + 1) * V, [](float x) { return std::isfinite(x); }))
        << what << " row " << r;
  }
  // Fed the reference's greedy ids, the quantized model must pick the same id at every step, so
  // its own greedy loop would produce the same sequence.
  c.steps = steps;
  for (int s = 0; s < steps; ++s) {
    const int row = static_cast<int>(prompt.size()) - 1 + s;
    const bool same = testing::Argmax(a.data() + row * V, V) == ref_ids[s];
    c.greedy_same += same ? 1 : 0;
    if (same_greedy) EXPECT_TRUE(same) << what << " step " << s;
  }
  return c;
}

std::vector<int32_t> PlainPrompt() {
  return testing::ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-plain.ids.txt"))[0];
}

std::vector<int32_t> ChatPrompt() {
  auto lines = testing::ReadIdLines(testing::TestData(std::string(kTiny) + "/ref-chat.ids.txt"));
  std::vector<int32_t> all;
  for (auto& l : lines) all.insert(all.end(), l.begin(), l.end());
  return std::vector<int32_t>(all.begin(), all.begin() + 22);
}

// Load-time quantization of the tiny model (the `--dtype q8_0 / q4_0` path) against f32 on the
// round-tripped weights; once for the block matrices only, once with the embedding table (tied
// lm_head) quantized too.
TEST(Lfm2Quantized, LoadTimeQuantizationMatchesF32OnDequantizedWeights) {
  const std::string dir = testing::TestData(kTiny);
  auto config = LoadLfm2Config(dir + "/config.json");
  ASSERT_OK(config);
  auto src = WeightStore::OpenDirectory(dir);
  ASSERT_OK(src);
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
    for (bool int8 : Int8Paths(dt))
    for (bool embeddings : {false, true}) {
      const std::string what = std::string(DTypeName(dt)) + (embeddings ? " everywhere" : " blocks") +
                               (int8 ? " int8" : " widening");
      ModelLoadOptions o;
      o.weight_dtype = dt;
      o.int8_matmul = int8;
      if (embeddings) o.embedding_dtype = dt;
      auto q = Lfm2Model::Load(dir, o);
      ASSERT_OK(q);
      EXPECT_EQ((*q)->weight_dtype(), dt);
      int replaced = 0;
      auto store = testing::DerivedStore::Build(
          **src,
          [&](const std::string& name, const TensorView&) {
            return IsBlockMatrix(name) || (embeddings && name == config->weight_prefix + "embed_tokens.weight");
          },
          [&](const TensorView& v, std::vector<float>* out) { testing::RoundTrip(dt, v, out); }, &replaced);
      EXPECT_EQ(replaced, 4 * 5 + 2 * 7 + (embeddings ? 1 : 0));  // 4 conv layers, 2 attention layers
      auto f = Lfm2Model::FromWeights(*config, store);
      ASSERT_OK(f);
      ASSERT_EQ((*f)->weight_dtype(), DType::kF32);
      const double tol = int8 ? kInt8TinyTol : kTol;
      Comparison plain = CompareRuns(**q, **f, PlainPrompt(), 16, what + " plain", tol, !int8);
      Comparison chat = CompareRuns(**q, **f, ChatPrompt(), 16, what + " chat", tol, !int8);
      std::printf("%s: worst row rel diff vs f32 on dequantized weights %.3g (plain), %.3g (chat); greedy ids "
                  "same %d/%d\n",
                  what.c_str(), plain.worst, chat.worst, plain.greedy_same + chat.greedy_same, plain.steps + chat.steps);
    }
  }
}

// The same at LFM2-350M shapes (K = 1024 and 4608, 16 layers, seeded bf16 weights for every
// published tensor): load-time q8_0 / q4_0 of the block matrices against f32 on the round-tripped
// values, a 12-token prefill and 4 decodes.
TEST(Lfm2Quantized, Lfm2_350mShapesMatchF32OnDequantizedWeights) {
  auto config = testing::Published350mConfig();
  ASSERT_OK(config);
  auto src = testing::Random350mStore();
  ASSERT_NE(src, nullptr);
  const std::vector<int32_t> prompt = {1, 571, 3743, 610, 2609, 543, 829, 830, 758, 755, 1720, 64011};
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
   for (bool int8 : Int8Paths(dt)) {
    ModelLoadOptions o;
    o.weight_dtype = dt;
    o.int8_matmul = int8;
    auto q = Lfm2Model::FromWeights(*config, src, o);
    ASSERT_OK(q);
    EXPECT_EQ((*q)->weight_dtype(), dt);
    int replaced = 0;
    auto store = testing::DerivedStore::Build(
        *src, [](const std::string& name, const TensorView&) { return IsBlockMatrix(name); },
        [&](const TensorView& v, std::vector<float>* out) { testing::RoundTrip(dt, v, out); }, &replaced);
    EXPECT_EQ(replaced, 10 * 5 + 6 * 7);  // 10 conv layers, 6 attention layers
    auto f = Lfm2Model::FromWeights(*config, store);
    ASSERT_OK(f);
    Comparison c = CompareRuns(**q, **f, prompt, 5, std::string(DTypeName(dt)) + (int8 ? " int8" : " widening") + " 350m",
                               int8 ? kInt8Tol350m : kTol, !int8);
    std::printf("%s %s at LFM2-350M shapes: worst row rel diff vs f32 on dequantized weights %.3g\n", DTypeName(dt),
                int8 ? "int8" : "widening", c.worst);
   }
  }
}

// --- Files quantized by the `gguf` Python package (tests/model/data/gguf_quant/PROVENANCE.md) ---

std::string QuantDir() { return testing::SourceDir() + "/tests/model/data/gguf_quant/"; }

std::string F32Sha(const std::vector<float>& v) { return testing::Sha256Hex(v.data(), v.size() * sizeof(float)); }

// Our dequantization of their blocks is bit-exact, and our quantizer, given the same f32 source
// rows, writes the same blocks.
void CheckBlocksAgainstGgufPackage(const std::string& name, DType dt) {
  auto refs_text = ReadFileToString(QuantDir() + name + ".json");
  ASSERT_OK(refs_text);
  const nlohmann::json refs = nlohmann::json::parse(*refs_text)["tensors"];
  auto qfile = GgufFile::Open(QuantDir() + name + ".gguf");
  ASSERT_OK(qfile);
  auto srcfile = GgufFile::Open(testing::TestData(std::string(kTiny) + "/model-f32.gguf"));
  ASSERT_OK(srcfile);
  std::map<std::string, TensorView> source;
  for (const auto& t : (*srcfile)->header().tensors) source[t.name] = (*srcfile)->View(t);
  int checked = 0;
  for (const auto& t : (*qfile)->header().tensors) {
    if (t.dtype == DType::kF32) continue;
    ASSERT_EQ(t.dtype, dt) << t.name;
    ASSERT_TRUE(refs.contains(t.name)) << t.name;
    const TensorView q = (*qfile)->View(t);
    std::vector<float> ours;
    testing::ToF32(q, &ours);
    EXPECT_EQ(F32Sha(ours), refs[t.name]["dequantized_f32_sha256"]) << name << ": " << t.name;

    TensorView s = source.at(t.name);
    s.shape[0] = q.shape[0];  // token_embd keeps its first rows only
    std::vector<float> src_rows;
    testing::ToF32(s, &src_rows);
    ASSERT_EQ(F32Sha(src_rows), refs[t.name]["source_f32_sha256"]) << t.name;
    std::vector<uint8_t> requantized(static_cast<size_t>(q.nbytes()));
    for (int64_t r = 0; r < q.rows(); ++r)
      QuantizeRow(dt, src_rows.data() + r * q.cols(), requantized.data() + r * q.row_bytes(), q.cols());
    const size_t block_bytes = static_cast<size_t>(DTypeBytes(dt, 32));
    int differing_blocks = 0;
    for (size_t at = 0; at < requantized.size(); at += block_bytes)
      differing_blocks += std::memcmp(requantized.data() + at, static_cast<const uint8_t*>(q.data) + at, block_bytes) != 0;
    EXPECT_EQ(differing_blocks, 0) << name << ": our quantizer, " << t.name << " (of "
                                   << requantized.size() / block_bytes << " blocks)";
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(refs.size()));
  EXPECT_EQ(checked, 1 + 4 * 5 + 2 * 7);
}

// The decoder on their file (quantized embeddings and blocks read as stored) against f32 on the
// same weights dequantized (bit-exact to gguf.quants.dequantize, checked above).
void CheckDecoderOnGgufPackageFile(const std::string& name, DType dt) {
 for (bool int8 : Int8Paths(dt)) {
  const std::string path = QuantDir() + name + ".gguf";
  ModelLoadOptions o;
  o.int8_matmul = int8;
  auto q = Lfm2Model::Load(path, o);
  ASSERT_OK(q);
  EXPECT_EQ((*q)->config().vocab_size, 8192);
  auto g = OpenLfm2Gguf(path);
  ASSERT_OK(g);
  int replaced = 0;
  auto store = testing::DerivedStore::Build(
      *g->weights, [](const std::string&, const TensorView& v) { return v.dtype != DType::kF32; }, testing::ToF32,
      &replaced);
  EXPECT_EQ(replaced, 35);
  auto f = Lfm2Model::FromWeights(g->config, store);
  ASSERT_OK(f);
  const std::string what = name + (int8 ? " int8" : " widening");
  const double tol = int8 ? kInt8TinyTol : kTol;
  Comparison plain = CompareRuns(**q, **f, PlainPrompt(), 16, what + " plain", tol, !int8);
  Comparison chat = CompareRuns(**q, **f, ChatPrompt(), 16, what + " chat", tol, !int8);
  std::printf("%s: worst row rel diff vs f32 on gguf-dequantized weights %.3g (plain), %.3g (chat); greedy ids same "
              "%d/%d\n",
              what.c_str(), plain.worst, chat.worst, plain.greedy_same + chat.greedy_same, plain.steps + chat.steps);
 }
}

TEST(Lfm2Quantized, GgufPackageQ8_0BlocksAreBitExact) { CheckBlocksAgainstGgufPackage("tiny-lfm2-v8192-q8_0", DType::kQ8_0); }
TEST(Lfm2Quantized, GgufPackageQ4_0BlocksAreBitExact) { CheckBlocksAgainstGgufPackage("tiny-lfm2-v8192-q4_0", DType::kQ4_0); }
TEST(Lfm2Quantized, GgufPackageQ8_0FileMatchesF32OnDequantizedWeights) { CheckDecoderOnGgufPackageFile("tiny-lfm2-v8192-q8_0", DType::kQ8_0); }
TEST(Lfm2Quantized, GgufPackageQ4_0FileMatchesF32OnDequantizedWeights) { CheckDecoderOnGgufPackageFile("tiny-lfm2-v8192-q4_0", DType::kQ4_0); }

// The criterion: a full-size random LFM2-350M (seeded bf16 weights, run in f32) against the
// same model quantized to q8_0 at load (int8 kernel where the CPU has it), 256 positions: a 192-token
// prefill (GEMM path) then 64 decodes (GEMV path) fed the same ids; top-1 must agree at >= 99% of
// them. q4_0 is reported, not held to it (4-bit weights alone flip more near-ties).
TEST(Lfm2Quantized, Lfm2_350mQ8_0Top1AgreesWithF32) {
  auto config = testing::Published350mConfig();
  ASSERT_OK(config);
  auto src = testing::Random350mStore();
  ASSERT_NE(src, nullptr);
  ModelLoadOptions fo;
  fo.weight_dtype = DType::kF32;
  auto f = Lfm2Model::FromWeights(*config, src, fo);
  ASSERT_OK(f);
  uint32_t state = 12345;
  std::vector<int32_t> ids(256);
  for (auto& id : ids) {
    state = state * 1664525u + 1013904223u;
    id = static_cast<int32_t>((state >> 8) % static_cast<uint32_t>(config->vocab_size));
  }
  const std::vector<int32_t> prompt(ids.begin(), ids.begin() + 192), rest(ids.begin() + 192, ids.end());
  const int V = config->vocab_size;
  const auto ref = testing::RunSequence(**f, prompt, rest);
  ASSERT_EQ(ref.size(), static_cast<size_t>(256) * V);
  for (DType dt : {DType::kQ8_0, DType::kQ4_0}) {
    ModelLoadOptions o;
    o.weight_dtype = dt;
    auto q = Lfm2Model::FromWeights(*config, src, o);
    ASSERT_OK(q);
    const auto got = testing::RunSequence(**q, prompt, rest);
    ASSERT_EQ(got.size(), ref.size());
    int same = 0;
    for (int r = 0; r < 256; ++r)
      same += testing::Argmax(got.data() + r * V, V) == testing::Argmax(ref.data() + r * V, V) ? 1 : 0;
    std::printf("%s (%s) vs f32, LFM2-350M shapes: top-1 agreement %d/256\n", DTypeName(dt),
                LinearPacks(dt) ? "int8 kernel" : "widening", same);
    if (dt == DType::kQ8_0) EXPECT_GE(same, 254) << "q8_0 top-1 agreement below 99% (253.44 of 256)";
  }
}

}  // namespace
}  // namespace lfm
