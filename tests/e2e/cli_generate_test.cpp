// `lfm generate --json` reproduces llama.cpp's greedy ids on the tiny reference model.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_util.h"
#include "ref_files.h"
#include "test_util.h"

namespace lfm {
namespace {

std::vector<int> ConcatTail(const std::vector<std::vector<int>>& lines, size_t from) {
  std::vector<int> out;
  for (size_t i = from; i < lines.size(); ++i) out.insert(out.end(), lines[i].begin(), lines[i].end());
  return out;
}

TEST(CliGenerate, JsonReproducesReferenceGreedyIdsPlain) {
  std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto ref = testing::ReadIdLines(model + "/ref-plain.ids.txt");
  ASSERT_EQ(ref.size(), 2u);
  auto r = testing::RunLfm("generate -m " + testing::Quote(model) +
                           " -p 'Hello world, this is a test' -n 16 --temp 0 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), ref[0]);
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), ref[1]);
  EXPECT_EQ(j["timings"]["prompt_tokens"], 11);
  EXPECT_EQ(j["timings"]["generated_tokens"], 16);
  EXPECT_TRUE(j["text"].is_string());
}

TEST(CliGenerate, JsonReproducesReferenceGreedyIdsChat) {
  std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto lines = testing::ReadIdLines(model + "/ref-chat.ids.txt");
  auto all = ConcatTail(lines, 0);
  ASSERT_EQ(all.size(), 22u + 16u);
  std::vector<int> prompt(all.begin(), all.begin() + 22), gen(all.begin() + 22, all.end());
  auto r = testing::RunLfm("generate -m " + testing::Quote(model) + " -f " +
                           testing::Quote(model + "/prompt-chat.txt") + " -n 16 --temp 0 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), prompt);
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), gen);
}

TEST(CliGenerate, SameSeedSameTextDifferentSeedDifferentText) {
  std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto run = [&](int seed) {
    auto r = testing::RunLfm("generate -m " + testing::Quote(model) + " -p 'Once upon a time' -n 24 --temp 1.0 " +
                             "--top-k 40 --top-p 0.95 --min-p 0.02 --repeat-penalty 1.05 --ignore-eos --json --seed " +
                             std::to_string(seed));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return nlohmann::json::parse(r.out)["ids"].get<std::vector<int>>();
  };
  auto a = run(1), b = run(1), c = run(2);
  EXPECT_EQ(a.size(), 24u);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

TEST(CliGenerate, StreamsTextAndReportsTimingsOnStderr) {
  std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto r = testing::RunLfm("generate -m " + testing::Quote(model) + " -p 'Hello' -n 8 --temp 0 --ignore-eos");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_NE(r.err.find("prefill:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
  // --show-tokens prints [id 'piece'] per token; 64856 is the first greedy id of ref-plain.
  auto shown = testing::RunLfm("generate -m " + testing::Quote(model) +
                               " -p 'Hello world, this is a test' -n 2 --temp 0 --show-tokens");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(shown.out.rfind("[64856 '", 0), 0u) << shown.out;
}

TEST(CliGenerate, BadInputGivesClearErrors) {
  auto missing = testing::RunLfm("generate -m /nonexistent/model -p hi");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("/nonexistent/model"), std::string::npos) << missing.err;
  std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto bad_top_p = testing::RunLfm("generate -m " + testing::Quote(model) + " -p hi --top-p 3");
  EXPECT_NE(bad_top_p.exit_code, 0);
  EXPECT_NE(bad_top_p.err.find("--top-p"), std::string::npos) << bad_top_p.err;
  auto no_prompt = testing::RunLfm("generate -m " + testing::Quote(model));
  EXPECT_NE(no_prompt.exit_code, 0);
  auto ctx = testing::RunLfm("generate -m " + testing::Quote(model) + " -c 8 -p 'Hello world, this is a test' -n 4");
  EXPECT_NE(ctx.exit_code, 0);
  EXPECT_NE(ctx.err.find("context"), std::string::npos) << ctx.err;
}

}  // namespace
}  // namespace lfm
