// The Task contract with the built-in ImageAnalysisTask: on the tiny random LFM2-VL the constrained
// output always parses into the typed result; the parser is resilient to untidy but valid output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "lfm/task.h"
#include "test_util.h"

namespace lfm {
namespace {

TEST(ImageAnalysisTask, RandomModelOutputAlwaysParses) {
  auto engine = Engine::Load(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl"));
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  ImageAnalysisTask task({testing::TestData("images/chelsea.png")});
  auto code_points = [](const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  };
  for (uint64_t seed : {1u}) {  // each run writes hundreds of tokens: one seed keeps the suite fast
    ChatOptions co;
    co.generate.max_tokens = 1024;
    co.generate.sampling = SamplingParams{.temperature = 1.0f, .seed = seed};
    auto a = RunTask(**engine, task, co);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_LE(code_points(a->caption), 300u);  // maxLength counts code points
    EXPECT_LE(a->objects.size(), 20u);
    EXPECT_LE(a->tags.size(), 15u);
  }
  // The grammar is compiled once and reused.
  auto g1 = (*engine)->CompileGrammar(task.grammar_kind(), task.grammar_source());
  auto g2 = (*engine)->CompileGrammar(task.grammar_kind(), task.grammar_source());
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_EQ(g1->get(), g2->get());
}

TEST(ImageAnalysisTask, ParserIsResilient) {
  ImageAnalysisTask task({});
  auto a = task.Parse(R"({"caption": "  A cat.  ", "objects": ["cat", "", "cat", "sofa"],
                          "visible_text": "", "tags": ["Cat", "cat", " indoor "]})");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->caption, "A cat.");
  EXPECT_EQ(a->objects, (std::vector<std::string>{"cat", "sofa"}));
  EXPECT_EQ(a->tags, (std::vector<std::string>{"Cat", "indoor"}));
  auto missing_lists = task.Parse(R"({"caption": "x"})");
  ASSERT_TRUE(missing_lists.ok());
  EXPECT_TRUE(missing_lists->objects.empty());
  EXPECT_FALSE(task.Parse("not json").ok());
  EXPECT_FALSE(task.Parse(R"({"objects": []})").ok());
  // The schema is valid JSON and what the README documents.
  auto schema = nlohmann::json::parse(ImageAnalysisTask::Schema());
  EXPECT_EQ(schema["required"].size(), 4u);
  EXPECT_EQ(schema["additionalProperties"], false);
}

TEST(ImageAnalysisTask, CliRunsTheTaskAndReportsCutOutput) {
  // A budget too small for the schema: the task reports the cut instead of returning half a result.
  auto r = testing::RunLfm("run -m " + testing::Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")) +
                           " --task image-analysis --image " + testing::Quote(testing::TestData("images/camera.png")) +
                           " --seed 4 --temp 0.7 -n 6 --json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("max_tokens"), std::string::npos) << r.err;
  auto no_image = testing::RunLfm("run -m " + testing::Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")) +
                                  " --task image-analysis -p hi");
  EXPECT_NE(no_image.exit_code, 0);
  EXPECT_NE(no_image.err.find("--image"), std::string::npos);
}

}  // namespace
}  // namespace lfm
