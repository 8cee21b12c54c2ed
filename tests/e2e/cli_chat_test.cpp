// `lfm run`, `lfm render` and `lfm chat` on the tiny reference model (its tokenizer_config.json
// carries the real LFM2.5 chat template).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

std::vector<int> ReadAllIds(const std::string& path) {
  std::ifstream in(path);
  std::vector<int> ids;
  int v;
  while (in >> v) ids.push_back(v);
  return ids;
}

std::string Model() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

// ref-chat: llama.cpp's 22 prompt ids for the rendered user turn "What is C. elegans?" + 16 greedy ids.
TEST(CliChat, RunThroughTemplateReproducesReferenceIds) {
  auto all = ReadAllIds(Model() + "/ref-chat.ids.txt");
  ASSERT_EQ(all.size(), 38u);
  auto r = testing::RunLfm("run -m " + testing::Quote(Model()) +
                           " -p 'What is C. elegans?' -n 16 --temp 0 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), std::vector<int>(all.begin(), all.begin() + 22));
  EXPECT_EQ(j["ids"].get<std::vector<int>>(), std::vector<int>(all.begin() + 22, all.end()));
  // The rendered prompt is byte-identical to the reference prompt (BOS comes from the template).
  auto ref_prompt = ReadFileToString(Model() + "/prompt-chat.txt");
  ASSERT_OK(ref_prompt);
  EXPECT_EQ(j["prompt"].get<std::string>(), "<|startoftext|>" + *ref_prompt);
  EXPECT_TRUE(j["tool_calls"].is_array());
}

TEST(CliChat, RenderJsonGivesPromptAndIds) {
  std::string dir = testing::ScratchDir("cli_render");
  std::ofstream(dir + "/messages.json") << R"({"messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "What is C. elegans?"}], "add_generation_prompt": true})";
  auto r = testing::RunLfm("render -m " + testing::Quote(Model()) + " --messages " +
                           testing::Quote(dir + "/messages.json") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["prompt"].get<std::string>(),
            "<|startoftext|><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is C. elegans?"
            "<|im_end|>\n<|im_start|>assistant\n");
  ASSERT_TRUE(j["ids"].is_array());
  EXPECT_EQ(j["ids"][0], 1);
  EXPECT_EQ(j["ids"][1], 6);
  // A plain JSON array of messages works too.
  std::ofstream(dir + "/array.json") << R"([{"role": "user", "content": "hi"}])";
  auto a = testing::RunLfm("render -m " + testing::Quote(Model()) + " --messages " +
                           testing::Quote(dir + "/array.json"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("<|im_start|>user\nhi<|im_end|>"), std::string::npos) << a.out;
}

TEST(CliChat, SpecialTokensInUserTextAreRefusedUnlessEscaped) {
  auto r = testing::RunLfm("run -m " + testing::Quote(Model()) + " -p 'hi <|im_end|> there' -n 2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("<|im_end|>"), std::string::npos) << r.err;
  auto e = testing::RunLfm("render -m " + testing::Quote(Model()) + " -p 'hi <|im_end|> there' --escape-special --json");
  ASSERT_EQ(e.exit_code, 0) << e.err;
  auto j = nlohmann::json::parse(e.out);
  // The escaped text no longer tokenizes to <|im_end|> (7) inside the user turn: only the template's own.
  int count7 = 0;
  for (int id : j["ids"].get<std::vector<int>>()) count7 += id == 7;
  EXPECT_EQ(count7, 1);
}

TEST(CliChat, SecondTurnDoesNotPrefillTheFirstAgain) {
  std::string dir = testing::ScratchDir("cli_chat");
  std::ofstream(dir + "/in.txt") << "Hello there\nAnd a second question\n";
  auto r = testing::RunLfm("chat -m " + testing::Quote(Model()) + " -n 6 --temp 0 --json < " +
                           testing::Quote(dir + "/in.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string l1, l2;
  ASSERT_TRUE(std::getline(lines, l1));
  ASSERT_TRUE(std::getline(lines, l2));
  auto t1 = nlohmann::json::parse(l1), t2 = nlohmann::json::parse(l2);
  const int first_prompt = t1["timings"]["prompt_tokens"];
  const int second_new = t2["timings"]["prompt_tokens"];
  // Turn 2's prompt is the whole conversation, but only its new part went through prefill.
  EXPECT_EQ(t1["prefilled_tokens_total"], first_prompt);
  EXPECT_EQ(t2["prefilled_tokens_total"].get<int>(), first_prompt + second_new);
  EXPECT_EQ(t2["history_reprefills"], 0);
  std::string p2 = t2["prompt"];
  EXPECT_EQ(p2.rfind(t1["prompt"].get<std::string>(), 0), 0u) << "turn 2's prompt extends turn 1's";
  // Re-running turn 2 from scratch would prefill its whole prompt; the kept cache means only the new
  // tail (the last reply token, the turn markers and the new question) was run.
  auto tok = testing::RunLfm("tokenize -m " + testing::Quote(Model()) + " --no-special --json " + testing::Quote(p2));
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  const int full_second = static_cast<int>(nlohmann::json::parse(tok.out)["ids"].size());
  EXPECT_LE(second_new + first_prompt, full_second) << "turn 1's prompt must not be prefilled again";
  EXPECT_LT(second_new, full_second - first_prompt + 1);
}

// --system used to build its message from a bare braced list, which nlohmann reads as an array of
// two pairs: "messages[0]: a message must be a JSON object" in run, render and chat.
TEST(CliChat, SystemPromptWorksInRunRenderAndChat) {
  const std::string expected = "<|im_start|>system\nYou are a poet.<|im_end|>\n<|im_start|>user\nHi<|im_end|>";
  auto render = testing::RunLfm("render -m " + testing::Quote(Model()) + " -p Hi --system 'You are a poet.' --json");
  ASSERT_EQ(render.exit_code, 0) << render.err;
  EXPECT_NE(nlohmann::json::parse(render.out)["prompt"].get<std::string>().find(expected), std::string::npos)
      << render.out;
  auto run = testing::RunLfm("run -m " + testing::Quote(Model()) + " -p Hi --system 'You are a poet.' -n 2 --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(nlohmann::json::parse(run.out)["prompt"].get<std::string>().find(expected), std::string::npos)
      << run.out;
  std::string dir = testing::ScratchDir("cli_chat_system");
  std::ofstream(dir + "/in.txt") << "Hi\n";
  auto chat = testing::RunLfm("chat -m " + testing::Quote(Model()) + " --system 'You are a poet.' -n 2 --json < " +
                              testing::Quote(dir + "/in.txt"));
  ASSERT_EQ(chat.exit_code, 0) << chat.err;
  auto j = nlohmann::json::parse(chat.out.substr(0, chat.out.find('\n')));
  EXPECT_NE(j["prompt"].get<std::string>().find(expected), std::string::npos) << chat.out;
  // With --messages that already open with a system message, --system is a conflict, not a second one.
  std::ofstream(dir + "/m.json") << R"([{"role": "system", "content": "A"}, {"role": "user", "content": "B"}])";
  auto both = testing::RunLfm("render -m " + testing::Quote(Model()) + " --messages " +
                              testing::Quote(dir + "/m.json") + " --system X");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("already start with a system message"), std::string::npos) << both.err;
}

// A line that is not UTF-8 used to terminate `lfm chat` (an nlohmann exception): now that turn is
// refused by line number, the turns around it run, and the exit code says one failed.
TEST(CliChat, InvalidUtf8LineIsRefusedAndTheChatGoesOn) {
  std::string dir = testing::ScratchDir("cli_chat_utf8");
  std::ofstream(dir + "/in.txt") << "Hello\nbad \xFF line\nAgain\n";
  auto r = testing::RunLfm("chat -m " + testing::Quote(Model()) + " -n 2 --temp 0 --json < " +
                           testing::Quote(dir + "/in.txt"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("lfm chat: stdin line 2: invalid UTF-8 at byte 4"), std::string::npos) << r.err;
  std::istringstream lines(r.out);
  std::string l1, l2;
  ASSERT_TRUE(std::getline(lines, l1));
  ASSERT_TRUE(std::getline(lines, l2));
  EXPECT_EQ(nlohmann::json::parse(l2)["turn"], 2);
}

}  // namespace
}  // namespace lfm
