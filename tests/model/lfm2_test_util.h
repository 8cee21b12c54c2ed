// Helpers for decoder tests that compare two runs of the LFM2 model: build a variant of a weight
// store in memory, run the same token sequence through two models, measure logit differences.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/lfm2_config.h"
#include "model/lfm2_model.h"
#include "test_util.h"
#include "tensor/convert.h"
#include "weights/weight_store.h"

namespace lfm::testing {

inline std::vector<std::vector<int32_t>> ReadIdLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::vector<int32_t>> lines;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::vector<int32_t> ids;
    int32_t id;
    while (ss >> id) ids.push_back(id);
    if (!ids.empty()) lines.push_back(ids);
  }
  return lines;
}

inline int Argmax(const float* x, int n) { return static_cast<int>(std::max_element(x, x + n) - x); }

// max |a - b| over a row, relative to the row's max |ref|.
inline double RelDiff(const float* a, const float* ref, int n) {
  double mx = 0, diff = 0;
  for (int i = 0; i < n; ++i) {
    mx = std::max(mx, std::fabs(static_cast<double>(ref[i])));
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - ref[i]));
  }
  return diff / mx;
}

// A copy of `src` (views into its memory, so `src` must outlive it) where each tensor for which
// `replace(name, view)` returns true is swapped for the f32 rows that `make(view, rows_out)` writes.
class DerivedStore {
 public:
  using Pick = std::function<bool(const std::string&, const TensorView&)>;
  using Make = std::function<void(const TensorView&, std::vector<float>*)>;

  static std::shared_ptr<WeightStore> Build(const WeightStore& src, const Pick& replace, const Make& make,
                                            int* replaced = nullptr) {
    auto out = std::make_shared<WeightStore>();
    auto buffers = std::make_shared<std::vector<std::vector<float>>>();
    buffers->reserve(src.size());
    int n = 0;
    for (const std::string& name : src.Names()) {
      TensorView v = *src.Get(name);
      if (replace(name, v)) {
        buffers->emplace_back();
        make(v, &buffers->back());
        EXPECT_EQ(static_cast<int64_t>(buffers->back().size()), v.numel()) << name;
        v.dtype = DType::kF32;
        v.data = buffers->back().data();
        ++n;
      }
      EXPECT_TRUE(out->Add(v, src.SourceFile(name)).ok()) << name;
    }
    out->Own(buffers);
    if (replaced) *replaced = n;
    return out;
  }
};

// The f32 values a dtype's blocks hold after quantizing `v` row by row: quantize, then dequantize.
inline void RoundTrip(DType t, const TensorView& v, std::vector<float>* out) {
  const int64_t rows = v.rows(), cols = v.cols();
  out->assign(static_cast<size_t>(rows * cols), 0.0f);
  std::vector<float> row(cols);
  std::vector<uint8_t> q(static_cast<size_t>(DTypeBytes(t, cols)));
  for (int64_t r = 0; r < rows; ++r) {
    DequantizeRow(v.dtype, v.row(r), row.data(), cols);
    QuantizeRow(t, row.data(), q.data(), cols);
    DequantizeRow(t, q.data(), out->data() + r * cols, cols);
  }
}

// Plain dequantization of a tensor to f32.
inline void ToF32(const TensorView& v, std::vector<float>* out) {
  out->assign(static_cast<size_t>(v.numel()), 0.0f);
  for (int64_t r = 0; r < v.rows(); ++r) DequantizeRow(v.dtype, v.row(r), out->data() + r * v.cols(), v.cols());
}

// Runs `prompt` as one prefill (all rows of logits), then feeds `continuation` one token per
// decode. Returns the logits rows: prompt.size() + continuation.size() rows of vocab_size.
inline std::vector<float> RunSequence(Lfm2Model& m, const std::vector<int32_t>& prompt,
                                      const std::vector<int32_t>& continuation) {
  auto cache = m.NewCache();
  std::vector<float> logits, rows;
  Status s = m.Forward(prompt.data(), static_cast<int>(prompt.size()), *cache, &logits, true);
  EXPECT_TRUE(s.ok()) << s.ToString();
  rows = logits;
  for (int32_t id : continuation) {
    s = m.Forward(&id, 1, *cache, &logits);
    EXPECT_TRUE(s.ok()) << s.ToString();
    rows.insert(rows.end(), logits.begin(), logits.end());
  }
  return rows;
}

// Greedy continuation of `prompt` for `steps` tokens (the ids fed back are the model's own picks).
inline std::vector<int32_t> GreedyIds(Lfm2Model& m, const std::vector<int32_t>& prompt, int steps) {
  auto cache = m.NewCache();
  std::vector<float> logits;
  std::vector<int32_t> out;
  EXPECT_TRUE(m.Forward(prompt.data(), static_cast<int>(prompt.size()), *cache, &logits).ok());
  for (int s = 0; s < steps; ++s) {
    int32_t id = Argmax(logits.data(), m.config().vocab_size);
    out.push_back(id);
    if (s + 1 < steps) {
      EXPECT_TRUE(m.Forward(&id, 1, *cache, &logits).ok());
    }
  }
  return out;
}

// Seeded bf16 weights for every tensor of the published LFM2-350M checkpoint (the list in
// tests/engine/data/checkpoint_tensors/lfm2-350m.json), held in memory (~0.7 GB): norms 1 +- 0.1,
// matrices uniform with standard deviation 1/sqrt(cols), embeddings and conv kernels of order 1.
inline std::shared_ptr<WeightStore> Random350mStore() {
  auto text = ReadFileToString(SourceDir() + "/tests/engine/data/checkpoint_tensors/lfm2-350m.json");
  EXPECT_TRUE(text.ok());
  if (!text.ok()) return nullptr;
  const nlohmann::json tensors = nlohmann::json::parse(*text)["tensors"];
  auto store = std::make_shared<WeightStore>();
  auto buffers = std::make_shared<std::vector<std::vector<uint16_t>>>();
  buffers->reserve(tensors.size());
  uint64_t state = 20251203;
  for (const auto& t : tensors) {
    TensorView v;
    v.name = t[0].get<std::string>();
    v.shape = t[1].get<std::vector<int64_t>>();
    v.dtype = DType::kBF16;
    const bool norm = v.shape.size() == 1;
    const double scale = norm ? 0.1 : v.name.find("embed_tokens") != std::string::npos ? 1.0
                                  : v.name.find("conv.conv") != std::string::npos   ? 0.3
                                                                                     : 1.0 / std::sqrt(static_cast<double>(v.cols()));
    buffers->emplace_back(static_cast<size_t>(v.numel()));
    for (auto& h : buffers->back()) {
      state ^= state << 13, state ^= state >> 7, state ^= state << 17;  // xorshift64
      const double u = static_cast<double>(state >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
      h = F32ToBF16(static_cast<float>((norm ? 1.0 : 0.0) + scale * std::sqrt(3.0) * (2.0 * u - 1.0)));
    }
    v.data = buffers->back().data();
    EXPECT_TRUE(store->Add(v, "random-350m").ok()) << v.name;
  }
  store->Own(buffers);
  return store;
}

// The text backbone's config as published (text_config of LFM2.5-VL-450M = LFM2-350M).
inline Result<Lfm2Config> Published350mConfig() {
  auto vl = ReadFileToString(TestData("lfm2/LFM2.5-VL-450M/config.json"));
  if (!vl.ok()) return vl.status();
  return ParseLfm2Config(nlohmann::json::parse(*vl)["text_config"].dump(), "LFM2.5-VL-450M text_config");
}

}  // namespace lfm::testing
