// Hostile inputs of the "bounded work" area through the real CLI: grammars too large to compile in
// bounded time and memory, prompts larger than the context, absurd micro-batch sizes. Each must be
// refused quickly with a message naming the input, the size and the limit (ExpectFailsClosed).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hostile_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::ExpectFailsClosed;
using testing::HostileScratch;
using testing::WriteBytes;

std::string Tiny() { return testing::TestData("lfm2-synthetic/tiny-lfm2"); }

std::vector<std::string> Words(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("member_" + std::to_string(i * 7919 % 1000003) + "_x");
  return out;
}

std::string Alternation(size_t n) {
  std::string alts;
  for (size_t i = 0; i < n; ++i) alts += (i ? "|w" : "w") + std::to_string(i);
  return alts;
}

// The case: 200k members took 19.5 s and 1.4 GB.
TEST(HostileBounded, Enum200kMembers) {
  const std::string path = HostileScratch("enum200k") + "/schema.json";
  WriteBytes(path, nlohmann::json{{"type", "object"},
                                  {"properties", {{"color", {{"enum", Words(200000)}}}}},
                                  {"required", {"color"}}}
                       .dump());
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--json-schema", path},
                    "enum at /properties/color/enum has 200000 values, over the limit of 100000");
}

TEST(HostileBounded, EnumValueOfTwoMegabytes) {
  const std::string path = HostileScratch("enum-long-value") + "/schema.json";
  WriteBytes(path, nlohmann::json{{"enum", {std::string(2000000, 'a')}}}.dump());
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--json-schema", path},
                    "enum value at /enum/0 is 2000002 bytes, over the limit of 16384");
}

TEST(HostileBounded, ConstOfHundredKilobytes) {
  const std::string path = HostileScratch("const-long") + "/schema.json";
  WriteBytes(path, nlohmann::json{{"properties", {{"k", {{"const", std::string(100000, 'q')}}}}}}.dump());
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--json-schema", path},
                    "/properties/k/const/0 is 100002 bytes");
}

TEST(HostileBounded, EnumOfManyMidSizedValues) {
  const std::string path = HostileScratch("enum-bytes") + "/schema.json";
  std::vector<std::string> vals;
  for (int i = 0; i < 500; ++i) vals.push_back(std::string(10000, 'v') + std::to_string(i));
  WriteBytes(path, nlohmann::json{{"enum", vals}}.dump());
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--json-schema", path},
                    "enum at /enum holds over 4194304 bytes of values (the limit)");
}

TEST(HostileBounded, PatternWith200kAlternatives) {
  const std::string path = HostileScratch("pattern-1m") + "/schema.json";
  WriteBytes(path, nlohmann::json{{"type", "object"},
                                  {"properties", {{"id", {{"type", "string"}, {"pattern", "^(" + Alternation(200000) + ")$"}}}}}}
                       .dump());
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--json-schema", path},
                    "pattern at /properties/id");
}

// As large as one argv string may be (128 KiB): ~20k alternatives.
TEST(HostileBounded, RegexFlagWithTwentyThousandAlternatives) {
  const std::string re = "(" + Alternation(20000) + ")";
  ASSERT_LT(re.size(), 131072u);
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--regex", re},
                    "regex of " + std::to_string(re.size()) + " bytes is over the limit of 32768 bytes");
}

TEST(HostileBounded, LarkGrammarWithAHugeRegexTerminal) {
  const std::string path = HostileScratch("lark-huge") + "/g.lark";
  WriteBytes(path, "start: WORD+\nWORD: /(" + Alternation(100000) + ")/\n");
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "4", "--grammar", path}, "over the limit of 32768 bytes");
}

TEST(HostileBounded, PromptLargerThanTheContextInRun) {
  std::string prompt;
  for (int i = 0; i < 400; ++i) prompt += "word" + std::to_string(i) + " ";
  ExpectFailsClosed({"run", "-m", Tiny(), "-c", "64", "-p", prompt, "-n", "4"}, "but the context holds 64 tokens");
}

TEST(HostileBounded, PromptLargerThanTheContextInGenerate) {
  std::string prompt;
  for (int i = 0; i < 400; ++i) prompt += "word" + std::to_string(i) + " ";
  ExpectFailsClosed({"generate", "-m", Tiny(), "-c", "64", "-p", prompt, "-n", "4"}, "but the context length is 64");
}

TEST(HostileBounded, UbatchZero) {
  ExpectFailsClosed({"run", "-m", Tiny(), "-p", "hi", "-n", "1", "-ub", "0"}, "ubatch 0 is outside [1, 65536]");
}

TEST(HostileBounded, UbatchHuge) {
  ExpectFailsClosed({"generate", "-m", Tiny(), "-p", "hi", "-n", "1", "--ubatch", "2000000000"},
                    "ubatch 2000000000 is outside [1, 65536]");
}

}  // namespace
}  // namespace lfm
