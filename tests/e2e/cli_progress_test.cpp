// `--ubatch/-ub` and `--progress` through the real CLI: chunked prefill gives the same output, and
// progress lines name the step, the counts and the rate.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string TinyArgs() { return "-m " + testing::Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")); }

std::string LongPrompt() {
  std::string p;
  for (int i = 0; i < 60; ++i) p += "word" + std::to_string(i) + " ";
  return testing::Quote(p);
}

TEST(CliProgress, UbatchGivesTheSameIdsAndProgressLinesCountChunks) {
  auto one = testing::RunLfm("generate " + TinyArgs() + " -p " + LongPrompt() + " -n 6 --temp 0 --json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  auto chunked =
      testing::RunLfm("generate " + TinyArgs() + " -p " + LongPrompt() + " -n 6 --temp 0 --json -ub 16 --progress");
  ASSERT_EQ(chunked.exit_code, 0) << chunked.err;
  auto a = nlohmann::json::parse(one.out), b = nlohmann::json::parse(chunked.out);
  EXPECT_EQ(a["ids"], b["ids"]);
  const int n = static_cast<int>(b["prompt_ids"].size());
  ASSERT_GT(n, 32);
  // One line per chunk: "prefill 16/N tokens, R tok/s", ..., "prefill N/N tokens, ...".
  EXPECT_NE(chunked.err.find("prefill 16/" + std::to_string(n) + " tokens, "), std::string::npos) << chunked.err;
  EXPECT_NE(chunked.err.find("prefill 32/" + std::to_string(n) + " tokens, "), std::string::npos) << chunked.err;
  EXPECT_NE(chunked.err.find("prefill " + std::to_string(n) + "/" + std::to_string(n) + " tokens, "),
            std::string::npos)
      << chunked.err;
  EXPECT_NE(chunked.err.find(" tok/s"), std::string::npos) << chunked.err;
  // Without --progress and with stderr not a terminal: no progress lines.
  EXPECT_EQ(one.err.find("prefill 0/"), std::string::npos) << one.err;
  EXPECT_EQ(one.err.find(" tokens, "), std::string::npos) << one.err;
}

TEST(CliProgress, GrammarCompilationSaysWhatItIsDoing) {
  auto r = testing::RunLfm("generate " + TinyArgs() + " -p hi -n 3 --regex '[a-z]{1,8}' --progress");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("compiling the regex"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("compiling the regex: done in "), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lfm
