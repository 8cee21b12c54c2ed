// Every example command that README.md and `lfm ... --help` print is run against the tiny random
// models, so an example that stops working fails here. The examples are read from the README's
// fenced code blocks and from each --help's "Examples:" section, not copied into this file: a new
// example is tested as soon as it is written. Model directories, images and the schema, grammar,
// messages and tools files are replaced by test data and small scratch files.
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/mapped_file.h"
#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

struct Example {
  std::string source;   // "README.md" or "lfm run --help"
  std::string command;  // as printed
};

// Commands that are not run, each with the reason. Every entry must match an example (no stale entries).
struct Exclusion {
  std::string prefix_or_part;
  std::string reason;
  bool prefix;  // true: the command starts with it; false: the command contains it
};
const std::vector<Exclusion>& Exclusions() {
  static const std::vector<Exclusion> list = {
      {"huggingface-cli ", "downloads a real model: needs the network", true},
      {"--shape lfm2-350m", "writes and benchmarks a full-size (700 MB) random model", false},
      {"lfm2-350m-q4_0.gguf", "benchmarks a full-size GGUF file that bench/compare.sh makes", false},
      {"bash scripts/", "builds the whole project (demo.sh, test.sh), not an lfm example", true},
      {"bash bench/compare.sh", "needs a llama.cpp build and converts full-size models, not an lfm example", true},
      {"./build/kernels_bench", "a benchmark binary, not the lfm command", true},
      {"./build/tokenizer_bench", "a benchmark binary, not the lfm command", true},
      {"./build/grammar_bench", "a benchmark binary, not the lfm command", true},
      {"./build/image_preprocess", "a benchmark binary, not the lfm command", true},
      {"./build/test_", "a test binary, not the lfm command", true},
      {"./build/fuzz_", "a fuzz target, not the lfm command", true},
      {"lfm serve ", "serves until stopped; tests/server/clients/openai_python_test.py starts and drives it", true},
  };
  return list;
}

bool IsLfmCommand(const std::string& c) {
  return c.rfind("lfm ", 0) == 0 || c.rfind("./build/lfm ", 0) == 0 || c.find("| lfm ") != std::string::npos;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// Commands in the README's fenced code blocks: continuation lines joined, trailing "# ..." comments
// dropped (a '#' after two spaces, as the README writes them), and a line that holds two commands
// side by side ("./build/a   # ...   ./build/b   # ...") keeps its first.
std::vector<Example> ReadmeExamples() {
  auto text = ReadFileToString(testing::SourceDir() + "/README.md");
  EXPECT_TRUE(text.ok());
  std::vector<Example> out;
  std::istringstream in(*text);
  std::string line, pending;
  bool in_block = false;
  while (std::getline(in, line)) {
    if (line.rfind("```", 0) == 0) {
      in_block = !in_block;
      continue;
    }
    if (!in_block) continue;
    if (size_t hash = line.find("  #"); hash != std::string::npos) line = line.substr(0, hash);
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    if (line.back() == '\\') {
      pending += line.substr(0, line.size() - 1) + " ";
      continue;
    }
    std::string cmd = Trim(pending + line);
    pending.clear();
    // Only lines that start with a command word (the layout block is a tree, not commands).
    if (IsLfmCommand(cmd) || cmd.rfind("./build/", 0) == 0 || cmd.rfind("bash ", 0) == 0 ||
        cmd.rfind("huggingface-cli ", 0) == 0)
      out.push_back({"README.md", cmd});
  }
  return out;
}

std::string RunShell(const std::string& shell_command, int* exit_code) {
  FILE* p = ::popen(shell_command.c_str(), "r");
  std::string out;
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// The "Examples:" section of one --help text: the indented lines after it.
std::vector<std::string> HelpExampleLines(const std::string& help) {
  std::vector<std::string> out;
  std::istringstream in(help);
  std::string line;
  bool in_examples = false;
  while (std::getline(in, line)) {
    if (Trim(line) == "Examples:") {
      in_examples = true;
      continue;
    }
    if (!in_examples) continue;
    if (line.rfind("  ", 0) != 0 || Trim(line).empty()) break;
    out.push_back(Trim(line));
  }
  return out;
}

// The subcommand names listed by `lfm --help`.
std::vector<std::string> Subcommands(const std::string& root_help) {
  std::vector<std::string> out;
  std::istringstream in(root_help);
  std::string line;
  bool in_list = false;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t == "Subcommands:" || t == "SUBCOMMANDS:") {
      in_list = true;
      continue;
    }
    if (!in_list) continue;
    if (t.empty()) break;
    if (line.rfind("  ", 0) == 0 && line.size() > 2 && line[2] != ' ') out.push_back(t.substr(0, t.find(' ')));
  }
  return out;
}

struct Scratch {
  std::string dir, text_model, vl_model, image;
};

Scratch MakeScratch() {
  Scratch s;
  s.dir = testing::ScratchDir("cli_examples");
  s.text_model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  s.vl_model = testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl");
  s.image = testing::TestData("images/rocket.jpg");
  std::ofstream(s.dir + "/chat.json") << R"({"messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "What is the weather in Paris?"}], "add_generation_prompt": true})";
  std::ofstream(s.dir + "/tools.json") << R"([{"type": "function", "function": {"name": "get_weather",
      "description": "Current weather in a city", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])";
  std::ofstream(s.dir + "/objects.schema.json") << R"({"type": "object", "properties": {"objects":
      {"type": "array", "items": {"type": "string", "maxLength": 12}, "maxItems": 3}},
      "required": ["objects"], "additionalProperties": false})";
  std::ofstream(s.dir + "/answer.lark") << "start: \"yes\" | \"no\"\n";
  std::ofstream(s.dir + "/prompt.txt") << "Is the sky blue? Answer:";
  std::ofstream(s.dir + "/stdin.txt") << "Hello\n";
  // lfm batch's examples: a text job and an image job (their results file is written fresh per run).
  std::ofstream(s.dir + "/jobs.jsonl") << R"({"id": "t", "prompt": "Hi", "max_tokens": 4})" << "\n"
                                       << R"({"id": "i", "images": [")" << s.image
                                       << R"("], "prompt": "Describe it.", "max_tokens": 4})" << "\n";
  return s;
}

// The example as a shell command on the test data. Unknown placeholders are left as they are, so
// the run fails and the example gets a concrete path (or a substitution here).
std::string Substitute(std::string c, const Scratch& s) {
  auto q = [](const std::string& p) { return testing::Quote(p); };
  c = std::regex_replace(c, std::regex(R"((^|\|\s*)(\./build/)?lfm )"), "$1" + q(LFM_CLI_PATH) + " ");
  c = std::regex_replace(c, std::regex(R"([\w./-]+\.(jpg|jpeg|png))"), q(s.image));
  c = std::regex_replace(c, std::regex(R"([\w./-]+\.schema\.json)"), q(s.dir + "/objects.schema.json"));
  c = std::regex_replace(c, std::regex(R"([\w./-]+\.lark)"), q(s.dir + "/answer.lark"));
  for (const char* f : {"chat.json", "tools.json", "prompt.txt", "jobs.jsonl", "results.jsonl"})
    c = std::regex_replace(c, std::regex(std::string(R"((^|\s))") + f + R"((\s|$))"), "$1" + q(s.dir + "/" + f) + "$2");
  c = std::regex_replace(c, std::regex(R"(models/[\w.-]*VL[\w.-]*)"), q(s.vl_model));
  c = std::regex_replace(c, std::regex(R"(models/[\w.-]+)"), q(s.text_model));
  c = std::regex_replace(c, std::regex(R"(/tmp/([\w.-]+))"), q(s.dir) + "/$1");
  // Random weights make the text noise; what is tested is that the command runs. So generation is
  // capped at 8 tokens where the example sets no -n (a 256-token decode of every example took
  // minutes); --task keeps its own budget, which its schema needs.
  const bool generates = std::regex_search(c, std::regex(R"(' (run|generate|chat) )"));
  if (generates && c.find(" -n ") == std::string::npos && c.find(" --task ") == std::string::npos) c += " -n 8";
  // Benchmark figures mean nothing on random tiny models: one repetition and no bandwidth probe run the
  // same code (the streams example took 16 s, minutes under ASan). CliKernelIsa tests the probe.
  if (std::regex_search(c, std::regex(R"(' bench )"))) {
    c = std::regex_replace(c, std::regex(R"((^|\s)(-r|--reps) \d+)"), "$1$2 1");
    if (!std::regex_search(c, std::regex(R"(\s(-r|--reps) )"))) c += " -r 1";
    c += " --no-bandwidth-probe";
  }
  // Interactive commands read stdin: give them one line (unless the example pipes its own).
  if (c.find("| ") == std::string::npos) c += " < " + q(s.dir + "/stdin.txt");
  return c + " 2>&1";
}

const Exclusion* ExclusionFor(const std::string& c) {
  for (const auto& e : Exclusions())
    if (e.prefix ? c.rfind(e.prefix_or_part, 0) == 0 : c.find(e.prefix_or_part) != std::string::npos) return &e;
  return nullptr;
}

TEST(CliExamples, EveryReadmeAndHelpExampleRuns) {
  const Scratch scratch = MakeScratch();
  std::vector<Example> examples = ReadmeExamples();
  const size_t readme_count = examples.size();
  EXPECT_GE(readme_count, 4u) << "README.md examples not found";

  int code = -1;
  const std::string root_help = RunShell(testing::Quote(LFM_CLI_PATH) + " --help", &code);
  ASSERT_EQ(code, 0);
  for (const auto& line : HelpExampleLines(root_help)) examples.push_back({"lfm --help", line});
  const std::vector<std::string> subs = Subcommands(root_help);
  EXPECT_GE(subs.size(), 8u) << root_help;
  for (const auto& sub : subs) {
    const std::string help = RunShell(testing::Quote(LFM_CLI_PATH) + " " + sub + " --help", &code);
    ASSERT_EQ(code, 0) << sub;
    const auto lines = HelpExampleLines(help);
    // The --help should teach: every subcommand shows at least one example.
    EXPECT_FALSE(lines.empty()) << "`lfm " << sub << " --help` has no Examples: section";
    for (const auto& line : lines) examples.push_back({"lfm " + sub + " --help", line});
  }

  std::vector<bool> exclusion_used(Exclusions().size(), false);
  int ran = 0;
  for (const Example& ex : examples) {
    SCOPED_TRACE(ex.source + ": " + ex.command);
    if (const Exclusion* e = ExclusionFor(ex.command)) {
      exclusion_used[static_cast<size_t>(e - Exclusions().data())] = true;
      continue;
    }
    ASSERT_TRUE(IsLfmCommand(ex.command)) << "not an lfm command and not excluded with a reason";
    const std::string cmd = Substitute(ex.command, scratch);
    const auto t0 = std::chrono::steady_clock::now();
    const std::string out = RunShell("cd " + testing::Quote(scratch.dir) + " && " + cmd, &code);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_EQ(code, 0) << cmd << "\n" << out.substr(0, 3000);
    // The slow ones, so a slow CI run shows which example took the time.
    if (seconds >= 1.0) std::printf("%6.1f s  %s\n", seconds, ex.command.c_str());
    ++ran;
  }
  for (size_t i = 0; i < exclusion_used.size(); ++i)
    EXPECT_TRUE(exclusion_used[i]) << "stale exclusion: " << Exclusions()[i].prefix_or_part;
  EXPECT_GE(ran, 20) << "examples run";
  std::printf("ran %d examples (%zu from README.md); excluded %zu\n", ran, readme_count,
              examples.size() - static_cast<size_t>(ran));
}

}  // namespace
}  // namespace lfm
