// --kv-type on the generating commands, serve and bench: bf16 runs and is reported, an unknown value
// is a usage error naming the flag (before any model is loaded).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::Quote;
using testing::RunLfm;

std::string Tiny() { return Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")); }

TEST(CliKvType, GenerateWithBf16CacheMatchesF32GreedyIds) {
  const std::string args = "generate -m " + Tiny() + " -p 'a b a b' -n 12 --temp 0 --ignore-eos --json";
  auto f = RunLfm(args + " --kv-type f32");
  auto b = RunLfm(args + " --kv-type bf16");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  // The tiny model's greedy ids agree over this short run (tests/model/kv_bf16_test.cpp).
  EXPECT_EQ(nlohmann::json::parse(f.out)["ids"], nlohmann::json::parse(b.out)["ids"]);
}

TEST(CliKvType, UnknownValueIsAUsageErrorNamingTheFlag) {
  // chat reads stdin: /dev/null, though the flag is refused before any input is read.
  for (const std::string cmd : {"generate -p Q -n 2", "run -p Q -n 2", "chat -n 2", "serve --port 0"}) {
    auto r = RunLfm(cmd + " -m " + Tiny() + " --kv-type f16 < /dev/null");
    EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find("--kv-type must be f32 or bf16, got 'f16'"), std::string::npos) << cmd << ": " << r.err;
  }
  auto bench = RunLfm("bench -m " + Tiny() + " -p 4 -n 2 -r 1 --kv-type f32,fp8 --no-bandwidth-probe");
  EXPECT_EQ(bench.exit_code, 2) << bench.err;
  EXPECT_NE(bench.err.find("--kv-type must be f32 or bf16, got 'fp8'"), std::string::npos) << bench.err;
}

TEST(CliKvType, BenchReportsKvTypePerRow) {
  auto r = RunLfm("bench -m " + Tiny() + " -p 4 -n 2 -d 8 -r 1 -t 1 --kv-type f32,bf16 -o json --no-bandwidth-probe");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["results"].size(), 4u);  // (pp4, tg2 @ d8) x (f32, bf16)
  EXPECT_EQ(j["results"][0]["kv_type"], "f32");
  EXPECT_EQ(j["results"][2]["kv_type"], "bf16");
  // The bf16 decode row reads half the KV bytes: fewer bytes per token at the same depth.
  EXPECT_EQ(j["results"][1]["test"], "tg2 @ d8");
  EXPECT_LT(j["results"][3]["bytes_per_token"].get<double>(), j["results"][1]["bytes_per_token"].get<double>());
  auto md = RunLfm("bench -m " + Tiny() + " -p 4 -n 2 -r 1 -t 1 --kv-type bf16 --no-bandwidth-probe");
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| f32 | bf16 | 1 | tg2 |"), std::string::npos) << md.out;
}

}  // namespace
}  // namespace lfm
