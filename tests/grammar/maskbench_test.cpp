// JSONSchemaBench / MaskBench acceptance: compile each schema, replay valid and invalid instances token by
// token through the LFM2 synthetic vocabulary. The CI test runs every 20th record; the full run is
//   ./build/test_grammar --gtest_also_run_disabled_tests --gtest_filter='*MaskBenchFull*'
// (set LFM_MASKBENCH_VERBOSE=1 to list failing records).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "maskbench_runner.h"
#include "test_util.h"
#include "test_vocab.h"

namespace lfm {
namespace {

void RunMaskBench(size_t stride, bool check_masks, double min_pass_rate) {
  auto trie = testing::Lfm2SyntheticTrie();
  ASSERT_NE(trie, nullptr);
  std::string dir = testing::TestData("jsonschemabench");
  auto files = testing::MaskbenchFiles(dir);
  ASSERT_GT(files.size(), 9000u);
  bool verbose = std::getenv("LFM_MASKBENCH_VERBOSE") != nullptr;
  std::map<std::string, testing::SubsetCounts> counts;
  testing::SubsetCounts total;
  for (size_t i = 0; i < files.size(); i += stride) {
    auto& [subset, file] = files[i];
    std::ifstream in(dir + "/maskbench-data/" + file);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::ordered_json rec = nlohmann::ordered_json::parse(ss.str());
    testing::SubsetCounts& c = counts[subset];
    testing::SubsetCounts before = c;
    auto out = testing::RunRecord(rec, trie, &c, check_masks);
    total.records++;
    total.compiled += c.compiled - before.compiled;
    total.unsupported += c.unsupported - before.unsupported;
    total.compile_errors += c.compile_errors - before.compile_errors;
    total.passing += c.passing - before.passing;
    total.valid += c.valid - before.valid;
    total.invalid += c.invalid - before.invalid;
    total.valid_rejected += c.valid_rejected - before.valid_rejected;
    total.invalid_accepted += c.invalid_accepted - before.invalid_accepted;
    if (verbose && !out.passing) {
      std::cout << file << ": " << out.compile_error << "\n";
      for (auto& f : out.failures) std::cout << "    " << f << "\n";
    }
  }
  for (auto& [name, c] : counts) std::cout << testing::SummaryLine(name, c) << "\n";
  std::cout << testing::SummaryLine("TOTAL", total) << "\n";
  EXPECT_GE(total.passing, min_pass_rate * total.records);
}

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kStride = 100;  // sanitizer builds: a smaller sample keeps CI fast
#else
constexpr size_t kStride = 20;
#endif

TEST(MaskBench, EveryTwentiethRecord) { RunMaskBench(std::getenv("LFM_MASKBENCH_STRIDE") ? std::atoi(std::getenv("LFM_MASKBENCH_STRIDE")) : kStride, /*check_masks=*/false, 0.79); }

TEST(MaskBench, DISABLED_MaskBenchFull) { RunMaskBench(1, /*check_masks=*/false, 0.79); }

}  // namespace
}  // namespace lfm
