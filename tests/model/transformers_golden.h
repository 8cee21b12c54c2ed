// transformers' logits goldens (golden.txt, written by tools/refs/make_lfm2_transformers_refs.py and
// make_fullsize_refs.py) and the comparison of an Lfm2Model against them; shared by
// tests/model/lfm2_transformers_test.cpp and tests/e2e/fullsize_transformers_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "lfm2_test_util.h"
#include "model/lfm2_model.h"

namespace lfm::testing {

struct GoldenRow {
  int pos = 0;
  double absmax = 0;
  std::vector<std::pair<int, float>> top;
  std::vector<float> sample;  // logits of ids 0, stride, 2*stride, ...
};

struct GoldenPrompt {
  std::string name;
  std::vector<int32_t> ids, greedy;
  std::vector<GoldenRow> rows;
};

constexpr int kSampleStride = 1024;

inline std::vector<GoldenPrompt> ReadGolden(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing golden: " << path;
  std::vector<GoldenPrompt> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string tag;
    ss >> tag;
    if (tag == "prompt") {
      out.emplace_back();
      ss >> out.back().name;
    } else if (tag == "ids" || tag == "greedy") {
      auto& v = tag == "ids" ? out.back().ids : out.back().greedy;
      for (int32_t id; ss >> id;) v.push_back(id);
    } else if (tag == "row") {
      GoldenRow r;
      std::string word;
      ss >> r.pos >> r.absmax >> word;
      while (ss >> word && word != "sample") {
        const size_t colon = word.find(':');
        r.top.emplace_back(std::stoi(word.substr(0, colon)), std::stof(word.substr(colon + 1)));
      }
      for (float v; ss >> v;) r.sample.push_back(v);
      out.back().rows.push_back(std::move(r));
    }
  }
  return out;
}

// Compares one checkpoint directory with its golden.txt; *worst gets the largest relative difference.
// bf16_activations: our bf16 matrices round their activations to bf16 (AVX512_BF16), so the logits
// may differ from transformers' (f32 activations) by up to `tol` of the row max; then near-ties may
// flip: the greedy ids are not compared (the rows are still computed on transformers' greedy ids),
// and our pick per row must be one of its top 8 within `tol` of its top logit.
// `golden` defaults to dir/golden.txt.
inline void CompareWithTransformers(const std::string& dir, int expect_prompt_count, double* worst,
                                    DType weight_dtype = DType::kAuto, double tol = 1e-4,
                                    bool bf16_activations = false, const std::string& golden_path = "") {
  *worst = 1e9;
  ModelLoadOptions options;
  options.weight_dtype = weight_dtype;
  options.embedding_dtype = weight_dtype;
  auto loaded = Lfm2Model::Load(dir, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Lfm2Model& m = **loaded;
  const int V = m.config().vocab_size;
  const auto golden = ReadGolden(golden_path.empty() ? dir + "/golden.txt" : golden_path);
  ASSERT_EQ(static_cast<int>(golden.size()), expect_prompt_count);
  *worst = 0;
  for (const GoldenPrompt& g : golden) {
    SCOPED_TRACE("prompt " + g.name);
    ASSERT_FALSE(g.greedy.empty());
    if (!bf16_activations) EXPECT_EQ(GreedyIds(m, g.ids, static_cast<int>(g.greedy.size())), g.greedy);
    const std::vector<int32_t> fed(g.greedy.begin(), g.greedy.end() - 1);
    const std::vector<float> rows = RunSequence(m, g.ids, fed);
    const int n_rows = static_cast<int>(g.ids.size() + fed.size());
    ASSERT_EQ(rows.size(), static_cast<size_t>(n_rows) * V);
    double prompt_worst = 0;
    for (const GoldenRow& r : g.rows) {
      ASSERT_LT(r.pos, n_rows);
      ASSERT_EQ(r.top.size(), 8u);
      ASSERT_EQ(r.sample.size(), static_cast<size_t>((V + kSampleStride - 1) / kSampleStride));
      const float* ours = rows.data() + static_cast<size_t>(r.pos) * V;
      const int pick = Argmax(ours, V);
      if (bf16_activations) {
        auto it = std::find_if(r.top.begin(), r.top.end(), [&](const auto& e) { return e.first == pick; });
        ASSERT_NE(it, r.top.end()) << "row " << r.pos << ": pick " << pick << " not in transformers' top 8";
        EXPECT_LE((r.top[0].second - it->second) / r.absmax, tol) << "row " << r.pos;
      } else {
        EXPECT_EQ(pick, r.top[0].first) << "row " << r.pos;
      }
      double d = 0;
      for (const auto& [id, val] : r.top) d = std::max(d, std::fabs(static_cast<double>(ours[id]) - val));
      for (size_t i = 0; i < r.sample.size(); ++i) {
        d = std::max(d, std::fabs(static_cast<double>(ours[i * kSampleStride]) - r.sample[i]));
      }
      EXPECT_LE(d / r.absmax, tol) << "row " << r.pos;
      prompt_worst = std::max(prompt_worst, d / r.absmax);
    }
    std::printf("[ transformers ] %s: %zu prompt ids, %zu checked rows, max |ours - transformers| = %.3g of the row max\n",
                g.name.c_str(), g.ids.size(), g.rows.size(), prompt_worst);
    *worst = std::max(*worst, prompt_worst);
  }
}

}  // namespace lfm::testing
