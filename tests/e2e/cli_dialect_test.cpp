// The generating commands speak llama.cpp's and the reference CLI's dialect: inline --json-schema,
// --grammar / --grammar-file (and a clear refusal of GBNF), --seed -1, --repeat-last-n, -f and
// --show-tokens on run and chat, --min-new-tokens, --split-image / --no-split-image.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::Quote;
using testing::RunLfm;

std::string TextModel() { return Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")); }
std::string VlModel() { return Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")); }

nlohmann::json Json(const testing::CliResult& r) {
  auto j = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
  return j;
}

// The ids of "[id 'piece']" groups in --show-tokens output.
std::vector<int> ShownIds(const std::string& out) {
  std::vector<int> ids;
  static const std::regex group(R"(\[(\d+) ')");
  for (auto it = std::sregex_iterator(out.begin(), out.end(), group); it != std::sregex_iterator(); ++it)
    ids.push_back(std::stoi((*it)[1]));
  return ids;
}

TEST(CliDialect, JsonSchemaInlineEqualsFile) {
  const std::string schema = R"({"enum": ["yes", "no"]})";
  const std::string dir = testing::ScratchDir("cli_dialect_schema");
  std::ofstream(dir + "/s.json") << schema;
  for (const char* cmd : {"run", "generate"}) {
    auto inline_run = RunLfm(std::string(cmd) + " -m " + TextModel() + " -p 'Yes or no?' -n 8 --json --json-schema " +
                             Quote(schema));
    auto file_run = RunLfm(std::string(cmd) + " -m " + TextModel() + " -p 'Yes or no?' -n 8 --json --json-schema " +
                           Quote(dir + "/s.json"));
    ASSERT_EQ(inline_run.exit_code, 0) << inline_run.err;
    ASSERT_EQ(file_run.exit_code, 0) << file_run.err;
    auto a = Json(inline_run), b = Json(file_run);
    EXPECT_EQ(a["grammar"], "JSON Schema");
    EXPECT_EQ(a["ids"], b["ids"]);
    EXPECT_TRUE(a["text"] == "\"yes\"" || a["text"] == "\"no\"") << a["text"];
  }
  // `true` is an inline schema (anything goes), not a file called "true".
  auto t = RunLfm("run -m " + TextModel() + " -p Hi -n 2 --json --json-schema true");
  EXPECT_EQ(t.exit_code, 0) << t.err;
  // A missing file is named.
  auto missing = RunLfm("run -m " + TextModel() + " -p Hi -n 2 --json-schema /nonexistent/s.json");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("/nonexistent/s.json"), std::string::npos) << missing.err;
}

TEST(CliDialect, GrammarInlineFileAndGbnfRefused) {
  const std::string dir = testing::ScratchDir("cli_dialect_grammar");
  std::ofstream(dir + "/yn.lark") << "start: \"yes\" | \"no\"\n";
  std::ofstream(dir + "/yn.gbnf") << "root ::= \"yes\" | \"no\"\n";
  auto inline_run = RunLfm("run -m " + TextModel() + " -p Q -n 4 --json --grammar " + Quote("start: \"yes\" | \"no\""));
  auto file_run = RunLfm("run -m " + TextModel() + " -p Q -n 4 --json --grammar-file " + Quote(dir + "/yn.lark"));
  auto legacy = RunLfm("run -m " + TextModel() + " -p Q -n 4 --json --grammar " + Quote(dir + "/yn.lark"));
  for (const auto* r : {&inline_run, &file_run, &legacy}) {
    ASSERT_EQ(r->exit_code, 0) << r->err;
    auto j = Json(*r);
    EXPECT_EQ(j["grammar"], "Lark grammar") << r->out;
    EXPECT_TRUE(j["text"] == "yes" || j["text"] == "no") << j["text"];
  }
  EXPECT_EQ(Json(inline_run)["ids"], Json(file_run)["ids"]);
  for (const std::string args : {"--grammar-file " + Quote(dir + "/yn.gbnf"), "--grammar " + Quote(dir + "/yn.gbnf"),
                                  "--grammar " + Quote("root ::= \"yes\"")}) {
    auto r = RunLfm("generate -m " + TextModel() + " -p Q -n 4 " + args);
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_NE(r.err.find("GBNF"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("Lark"), std::string::npos) << r.err;
  }
  // Two constraints at once are a usage error.
  auto both = RunLfm("run -m " + TextModel() + " -p Q --grammar-file " + Quote(dir + "/yn.lark") + " --regex a");
  EXPECT_EQ(both.exit_code, 2);
}

TEST(CliDialect, SeedMinusOneIsRandomAndPrinted) {
  auto a = RunLfm("generate -m " + TextModel() + " -p Hi -n 6 --temp 1 --seed -1 --json");
  auto b = RunLfm("generate -m " + TextModel() + " -p Hi -n 6 --temp 1 --seed -1 --json");
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  const uint64_t seed_a = Json(a)["sampling"]["seed"], seed_b = Json(b)["sampling"]["seed"];
  EXPECT_NE(seed_a, seed_b);  // 64 random bits: equal by chance once in 2^64
  // The printed seed repeats the run.
  auto again = RunLfm("generate -m " + TextModel() + " -p Hi -n 6 --temp 1 --seed " + std::to_string(seed_a) + " --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Json(again)["ids"], Json(a)["ids"]);
  // -v prints it on stderr too.
  auto v = RunLfm("run -m " + TextModel() + " -p Hi -n 2 --seed -1 -v");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_NE(v.err.find("random seed "), std::string::npos) << v.err;
  for (const char* bad : {"-2", "abc", "1.5", "18446744073709551616"}) {
    auto r = RunLfm("run -m " + TextModel() + " -p Hi --seed " + Quote(bad));
    EXPECT_EQ(r.exit_code, 2) << bad;
    EXPECT_NE(r.err.find("--seed"), std::string::npos) << r.err;
  }
}

TEST(CliDialect, RepeatLastNWindowsThePenalty) {
  // A random model never repeats itself greedily, so a penalty > 1 would change nothing here. A
  // penalty < 1 (HF semantics: positive logits divided by it) boosts the penalised ids instead, which
  // shows which ids the window covers: the whole context brings back BOS and the first prompt id, a
  // window of 2 only the last two ids.
  auto run = [](const std::string& extra) {
    auto r = RunLfm("generate -m " + TextModel() + " -p 'a b a b a b a b' -n 12 --temp 0 --ignore-eos --json " + extra);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json(r);
  };
  auto plain = run("");
  auto off = run("--repeat-penalty 0.05 --repeat-last-n 0");
  auto whole = run("--repeat-penalty 0.05 --repeat-last-n -1");
  auto deflt = run("--repeat-penalty 0.05");
  auto window = run("--repeat-penalty 0.05 --repeat-last-n 2");
  EXPECT_EQ(off["ids"], plain["ids"]);     // a window of 0 penalises nothing
  EXPECT_NE(whole["ids"], plain["ids"]);   // the penalty does act on this model
  EXPECT_EQ(deflt["ids"], whole["ids"]);   // default: the whole context, as before the flag existed
  EXPECT_NE(window["ids"], whole["ids"]);  // the window changes which ids are affected
  const auto prompt = plain["prompt_ids"].get<std::vector<int>>();
  const std::vector<int> last_two(prompt.end() - 2, prompt.end());
  for (int id : window["ids"])  // only the last two ids of the context are ever boosted, so they win
    EXPECT_TRUE(id == last_two[0] || id == last_two[1]) << window["ids"];
  EXPECT_EQ(whole["sampling"]["repeat_last_n"], -1);
  EXPECT_EQ(window["sampling"]["repeat_last_n"], 2);
  auto bad = RunLfm("run -m " + TextModel() + " -p Hi --repeat-last-n -5");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--repeat-last-n"), std::string::npos) << bad.err;
}

TEST(CliDialect, FileAndShowTokensOnRunAndChat) {
  const std::string dir = testing::ScratchDir("cli_dialect_file");
  std::ofstream(dir + "/p.txt") << "Hello there";
  auto from_file = RunLfm("run -m " + TextModel() + " -f " + Quote(dir + "/p.txt") + " -n 4 --json");
  auto from_flag = RunLfm("run -m " + TextModel() + " -p 'Hello there' -n 4 --json");
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(Json(from_file)["prompt_ids"], Json(from_flag)["prompt_ids"]);
  EXPECT_EQ(Json(from_file)["ids"], Json(from_flag)["ids"]);
  EXPECT_EQ(RunLfm("run -m " + TextModel() + " -p x -f " + Quote(dir + "/p.txt")).exit_code, 2);
  EXPECT_EQ(RunLfm("run -m " + TextModel() + " -f /nonexistent/p.txt").exit_code, 2);

  // --show-tokens prints [id 'piece'] with the ids --json reports.
  auto shown = RunLfm("run -m " + TextModel() + " -p 'Hello there' -n 4 --ignore-eos --show-tokens");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(ShownIds(shown.out), Json(from_flag)["ids"].get<std::vector<int>>()) << shown.out;

  // chat -f: the file is the first message, then stdin.
  auto chat = RunLfm("chat -m " + TextModel() + " -f " + Quote(dir + "/p.txt") + " -n 3 --json < /dev/null");
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  auto turn = Json(chat);
  EXPECT_EQ(turn["turn"], 1);
  EXPECT_EQ(turn["prompt_ids"], Json(from_flag)["prompt_ids"]);
  auto chat_tokens = RunLfm("chat -m " + TextModel() + " -n 3 --ignore-eos --show-tokens < " + Quote(dir + "/p.txt"));
  ASSERT_EQ(chat_tokens.exit_code, 0) << chat_tokens.err;
  EXPECT_EQ(ShownIds(chat_tokens.out).size(), 3u) << chat_tokens.out;
  // chat takes constraints too.
  auto chat_schema = RunLfm("chat -m " + TextModel() + " -n 8 --json --json-schema " + Quote(R"({"enum": ["a", "b"]})") +
                            " < " + Quote(dir + "/p.txt"));
  ASSERT_EQ(chat_schema.exit_code, 0) << chat_schema.err;
  auto cs = Json(chat_schema);
  EXPECT_TRUE(cs["text"] == "\"a\"" || cs["text"] == "\"b\"") << cs["text"];
}

TEST(CliDialect, MinNewTokensMasksEos) {
  // Under `start: "a"+` this model ends after "aa"; with --min-new-tokens 8 EOS waits.
  const std::string base = "generate -m " + TextModel() + " -p x -n 20 --temp 1 --seed 3 --json --grammar 'start: \"a\"+'";
  auto early = RunLfm(base);
  auto late = RunLfm(base + " --min-new-tokens 8");
  ASSERT_EQ(early.exit_code, 0) << early.err;
  ASSERT_EQ(late.exit_code, 0) << late.err;
  auto e = Json(early), l = Json(late);
  ASSERT_EQ(e["finish_reason"], "eos");
  ASSERT_LT(e["ids"].size(), 8u) << "the premise: without the flag this run ends early";
  EXPECT_GE(l["ids"].size(), 9u);  // 8 tokens, then EOS at the earliest
  EXPECT_EQ(l["sampling"]["min_new_tokens"], 8);
  // run and chat take it as well.
  EXPECT_EQ(RunLfm("run -m " + TextModel() + " -p Hi -n 2 --min-new-tokens 2").exit_code, 0);
  auto bad = RunLfm("chat -m " + TextModel() + " --min-new-tokens -1 < /dev/null");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--min-new-tokens"), std::string::npos) << bad.err;
}

TEST(CliDialect, SplitImageFlags) {
  // retina.jpg (1411x1411) is large enough to be tiled by default (do_image_splitting: true).
  const std::string image = Quote(testing::TestData("images/retina.jpg"));
  auto count = [&](const std::string& flag) {
    auto r = RunLfm("run -m " + VlModel() + " --image " + image + " -p hi -n 1 --json " + flag);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return Json(r)["prompt_ids"].size();
  };
  const size_t deflt = count(""), split = count("--split-image"), single = count("--no-split-image");
  EXPECT_EQ(deflt, split);
  EXPECT_LT(single * 4, split);  // tiles + thumbnail vs one image of at most max_image_tokens
  EXPECT_EQ(RunLfm("run -m " + VlModel() + " -p hi --split-image --no-split-image").exit_code, 2);
}

}  // namespace
}  // namespace lfm
