// `lfm bench` as llama-bench measures: every combination of the lists, median and stddev of -r
// samples, decode rows with the bytes one token reads, md / json / csv output, GGUF input, and the
// vision rows of a VL model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

std::string Tiny() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

nlohmann::json BenchJson(const std::string& args) {
  auto r = testing::RunLfm("bench " + args + " -o json --no-bandwidth-probe");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

const nlohmann::json* FindTest(const nlohmann::json& j, const std::string& test, int threads) {
  for (const auto& row : j["results"])
    if (row["test"] == test && row["threads"] == threads) return &row;
  return nullptr;
}

TEST(CliBench, EveryCombinationOfTheListsWithMedianAndStddev) {
  auto j = BenchJson("-m " + testing::Quote(Tiny()) + " -p 4,8 -n 2,5 -d 0,6 -t 1,2 -r 3");
  ASSERT_TRUE(j.contains("results"));
  EXPECT_EQ(j["results"].size(), 2u * 8u);  // 2 thread counts x 2 depths x (2 pp + 2 tg)
  for (int t : {1, 2}) {
    for (const char* test : {"pp4", "pp8", "tg2", "tg5", "pp4 @ d6", "pp8 @ d6", "tg2 @ d6", "tg5 @ d6"}) {
      const nlohmann::json* row = FindTest(j, test, t);
      ASSERT_NE(row, nullptr) << test << " -t " << t;
      ASSERT_EQ((*row)["samples"].size(), 3u) << test;
      EXPECT_GT((*row)["median"].get<double>(), 0) << test;
      EXPECT_GE((*row)["stddev"].get<double>(), 0) << test;
      EXPECT_EQ((*row)["dtype"], "f32") << test;
    }
  }
  // Decode rows: weights + KV cache at the depth; deeper means more bytes per token.
  const double b0 = (*FindTest(j, "tg5", 1))["bytes_per_token"].get<double>();
  const double b6 = (*FindTest(j, "tg5 @ d6", 1))["bytes_per_token"].get<double>();
  EXPECT_GT(b0, 0);
  EXPECT_GT(b6, b0);
  EXPECT_FALSE(FindTest(j, "pp4", 1)->contains("bytes_per_token"));
}

TEST(CliBench, MarkdownAndCsv) {
  auto md = testing::RunLfm("bench -m " + testing::Quote(Tiny()) + " -p 4 -n 2 -r 1 -t 1");
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| f32 | f32 | 1 | pp4 |"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| f32 | f32 | 1 | tg2 |"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("memory read"), std::string::npos) << md.out;
  auto csv = testing::RunLfm("bench -m " + testing::Quote(Tiny()) + " -p 4 -n 2 -r 1 -t 1 -o csv --no-bandwidth-probe");
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("model,kernel_isa,dtype,threads,test,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find(",f32,1,tg2,0,2,0,tok/s,"), std::string::npos) << csv.out;
}

TEST(CliBench, GgufFileAndConvertedDtypes) {
  auto j = BenchJson("-m " + testing::Quote(Tiny() + "/model-f32.gguf") + " -p 4 -n 2 -r 1 -t 1 --dtype auto,q8_0");
  ASSERT_EQ(j["results"].size(), 4u);
  EXPECT_EQ(j["results"][0]["dtype"], "f32");
  EXPECT_EQ(j["results"][2]["dtype"], "q8_0");
  // q8_0 block matrices read fewer bytes per decoded token (the tiny model's bytes are mostly its
  // embedding table, which stays as stored).
  EXPECT_LT(j["results"][3]["bytes_per_token"].get<double>(), j["results"][1]["bytes_per_token"].get<double>());
}

TEST(CliBench, VisionRowsOfAVlModel) {
  const std::string image = testing::TestData("images/camera.png");  // 512x512: one tile
  auto j = BenchJson("-m " + testing::Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")) +
                     " -p 4 -n 2 -r 1 -t 1 --image-tokens 2 --image " + testing::Quote(image));
  const nlohmann::json* crop = FindTest(j, "vision ms/crop: " + image, 1);
  const nlohmann::json* whole = FindTest(j, "vision ms/image: " + image, 1);
  ASSERT_NE(crop, nullptr) << j.dump();
  ASSERT_NE(whole, nullptr) << j.dump();
  EXPECT_GT((*crop)["median"].get<double>(), 0);
  EXPECT_GE((*crop)["n_prompt"].get<int>(), 1);  // the crop count
  EXPECT_GE((*whole)["median"].get<double>(), (*crop)["median"].get<double>());
  bool e2e = false;
  for (const auto& row : j["results"]) e2e = e2e || row["test"].get<std::string>().rfind("image analysis", 0) == 0;
  EXPECT_TRUE(e2e) << j.dump();
}

TEST(CliBench, ImageNeedsAVlModel) {
  auto r = testing::RunLfm("bench -m " + testing::Quote(Tiny()) + " -p 4 -n 2 -r 1 --image x.png");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("vision-language"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lfm
