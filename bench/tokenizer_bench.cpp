// Tokenizer throughput on English text: the files of /usr/share/common-licenses concatenated (about
// 260 KB, repeated to 4 MB), encoded with the tiny-lfm2 tokenizer (LFM2 layout: llama3 split regex,
// byte-level BPE, ignore_merges). Reports bytes/s (Google Benchmark's bytes_per_second).
//   ./build/tokenizer_bench [--benchmark_filter=Encode]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "text/detokenizer.h"
#include "text/tokenizer.h"

namespace {

const std::string& EnglishText() {
  static const std::string text = [] {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator("/usr/share/common-licenses"))
      if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    std::string all;
    for (const auto& f : files)
      if (auto r = lfm::ReadFileToString(f); r.ok()) all += *r;
    std::string out;
    while (!all.empty() && out.size() < (4u << 20)) out += all;
    return out;
  }();
  return text;
}

const lfm::Tokenizer* Lfm2() {
  static const lfm::Tokenizer* tok = [] () -> const lfm::Tokenizer* {
    auto r = lfm::Tokenizer::FromFile(std::string(LFM_TESTDATA_DIR) + "/lfm2-synthetic/tiny-lfm2/tokenizer.json");
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return nullptr;
    }
    return new lfm::Tokenizer(std::move(r).value());
  }();
  return tok;
}

void BM_EncodeEnglish(benchmark::State& state) {
  const lfm::Tokenizer* tok = Lfm2();
  const std::string& text = EnglishText();
  if (tok == nullptr || text.empty()) {
    state.SkipWithError("tokenizer or /usr/share/common-licenses missing");
    return;
  }
  size_t n = 0;
  for (auto _ : state) {
    auto ids = *tok->Encode(text, false);
    n = ids.size();
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
  state.counters["tokens"] = static_cast<double>(n);
  state.counters["MB"] = static_cast<double>(text.size()) / 1e6;
}
BENCHMARK(BM_EncodeEnglish)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// First encode of never-seen words (the word cache is per tokenizer, so load a fresh one).
void BM_EncodeEnglishColdCache(benchmark::State& state) {
  const std::string& text = EnglishText();
  std::string path = std::string(LFM_TESTDATA_DIR) + "/lfm2-synthetic/tiny-lfm2/tokenizer.json";
  std::string once = text.substr(0, 1u << 20);
  for (auto _ : state) {
    state.PauseTiming();
    auto r = lfm::Tokenizer::FromFile(path);
    state.ResumeTiming();
    if (!r.ok()) {
      state.SkipWithError("tokenizer missing");
      return;
    }
    auto ids = *r->Encode(once, false);
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * once.size()));
}
BENCHMARK(BM_EncodeEnglishColdCache)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_DecodeEnglish(benchmark::State& state) {
  const lfm::Tokenizer* tok = Lfm2();
  if (tok == nullptr) {
    state.SkipWithError("tokenizer missing");
    return;
  }
  auto ids = *tok->Encode(EnglishText(), false);
  for (auto _ : state) {
    lfm::StreamingDetokenizer d(*tok, false);
    size_t bytes = 0;
    for (int32_t id : ids) bytes += d.Push(id).size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * EnglishText().size()));
}
BENCHMARK(BM_DecodeEnglish)->Unit(benchmark::kMillisecond);

void BM_LoadTokenizerJson(benchmark::State& state) {
  std::string path = std::string(LFM_TESTDATA_DIR) + "/lfm2-synthetic/tiny-lfm2/tokenizer.json";
  for (auto _ : state) {
    auto r = lfm::Tokenizer::FromFile(path);
    benchmark::DoNotOptimize(r.ok());
  }
}
BENCHMARK(BM_LoadTokenizerJson)->Unit(benchmark::kMillisecond);

// The real LFM2.5-VL-450M tokenizer (tests/text/data/lfm2.5-vl-450m) on its 25k-string test corpus (prose,
// code, JSON, numbers, whitespace runs, CJK, Arabic, Devanagari, emoji, special tokens in text), one Encode
// per string as an application calls it. bench/tokenizer_compare.py runs HF tokenizers on the same strings.
void BM_EncodeRealTokenizerCorpus(benchmark::State& state) {
  const std::string dir = std::string(LFM_SOURCE_DIR) + "/tests/text/data/lfm2.5-vl-450m";
  auto tok = lfm::Tokenizer::FromFile(dir + "/tokenizer.json");
  auto corpus_text = lfm::ReadFileToString(dir + "/corpus.jsonl");
  if (!tok.ok() || !corpus_text.ok()) {
    state.SkipWithError("tests/text/data/lfm2.5-vl-450m missing");
    return;
  }
  std::vector<std::string> corpus;
  size_t bytes = 0;
  size_t start = 0;
  while (start < corpus_text->size()) {
    size_t end = corpus_text->find('\n', start);
    if (end == std::string::npos) end = corpus_text->size();
    if (end > start) {
      corpus.push_back(nlohmann::json::parse(corpus_text->substr(start, end - start)).get<std::string>());
      bytes += corpus.back().size();
    }
    start = end + 1;
  }
  size_t tokens = 0;
  for (auto _ : state) {
    tokens = 0;
    for (const std::string& s : corpus) tokens += tok->Encode(s, false)->size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
  state.counters["strings"] = static_cast<double>(corpus.size());
  state.counters["tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_EncodeRealTokenizerCorpus)->Unit(benchmark::kMillisecond)->MinTime(2.0);

}  // namespace

BENCHMARK_MAIN();
