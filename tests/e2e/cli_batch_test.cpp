// `lfm batch`: mixed good and bad jobs, resume after a kill and after a torn last line, duplicate
// ids refused up front, --parallel 2 gives the outputs of --parallel 1.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cli_util.h"
#include "test_util.h"

namespace lfm {
namespace {

using testing::Quote;
using testing::RunLfm;

std::string VlModel() { return Quote(testing::TestData("lfm2-vl-synthetic/tiny-lfm2-vl")); }

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Result lines by id (as JSON text); fails the test on a line that does not parse or an id seen twice.
std::map<std::string, nlohmann::json> ById(const std::string& path) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& line : Lines(path)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "torn or invalid line: " << line;
    if (j.is_discarded()) continue;
    EXPECT_TRUE(out.emplace(j["id"].dump(), j).second) << "duplicate id " << j["id"];
  }
  return out;
}

std::string Batch(const std::string& jobs, const std::string& out, const std::string& extra = "") {
  return "batch -m " + VlModel() + " --in " + Quote(jobs) + " --out " + Quote(out) + " " + extra;
}

TEST(CliBatch, MixedJobsRecordErrorsAndGoOn) {
  const std::string dir = testing::ScratchDir("cli_batch_mixed");
  std::system(("cp " + Quote(testing::TestData("images/rocket.jpg")) + " " + Quote(dir + "/rocket.jpg")).c_str());
  std::ofstream(dir + "/broken.jpg") << "not an image";
  std::ofstream(dir + "/jobs.jsonl")
      << R"({"id": "img", "images": ["rocket.jpg"], "prompt": "Describe it.", "max_tokens": 4})" << "\n"
      << R"({"id": 7, "prompt": "Hi", "max_tokens": 3, "temperature": 0.8, "seed": 11})" << "\n"
      << "\n"  // blank lines are skipped
      << R"({"id": "bad-image", "images": ["broken.jpg"], "prompt": "x"})" << "\n"
      << R"({"id": "schema", "prompt": "yes or no?", "schema": {"enum": ["yes", "no"]}, "max_tokens": 8})" << "\n"
      << R"({"id": "typo", "prompt": "x", "max_token": 3})" << "\n"
      << R"({"id": "bad-schema", "prompt": "x", "schema": {"type": "string", "$dynamicRef": "#a"}})" << "\n"
      << R"({"id": "msgs", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2})" << "\n";
  const std::string out = dir + "/results.jsonl";
  std::remove(out.c_str());
  auto r = RunLfm(Batch(dir + "/jobs.jsonl", out));
  EXPECT_EQ(r.exit_code, 1) << r.err;  // some jobs failed
  EXPECT_NE(r.err.find("4 ok, 3 failed"), std::string::npos) << r.err;
  auto res = ById(out);
  ASSERT_EQ(res.size(), 7u);
  EXPECT_TRUE(res["\"img\""].contains("content")) << res["\"img\""];
  EXPECT_EQ(res["\"img\""]["usage"]["completion_tokens"], 4);
  EXPECT_GT(res["\"img\""]["usage"]["prompt_tokens"], 100);  // the image's tokens
  EXPECT_EQ(res["7"]["seed"], 11);
  EXPECT_NE(res["\"bad-image\""]["error"]["message"].get<std::string>().find("broken.jpg"), std::string::npos);
  EXPECT_TRUE(res["\"schema\""]["json"] == "yes" || res["\"schema\""]["json"] == "no") << res["\"schema\""];
  EXPECT_NE(res["\"typo\""]["error"]["message"].get<std::string>().find("max_token"), std::string::npos);
  EXPECT_NE(res["\"bad-schema\""]["error"]["message"].get<std::string>().find("$dynamicRef"), std::string::npos);
  EXPECT_EQ(res["\"msgs\""]["usage"]["completion_tokens"], 2);

  // A rerun finds every id done.
  auto again = RunLfm(Batch(dir + "/jobs.jsonl", out));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("7 of 7 jobs already in"), std::string::npos) << again.err;
  EXPECT_EQ(Lines(out).size(), 7u);
}

TEST(CliBatch, DuplicateAndMissingIdsRefusedUpFront) {
  const std::string dir = testing::ScratchDir("cli_batch_dup");
  std::ofstream(dir + "/jobs.jsonl") << R"({"id": "a", "prompt": "x"})" << "\n"
                                     << R"({"id": "b", "prompt": "x"})" << "\n"
                                     << R"({"id": "a", "prompt": "y"})" << "\n"
                                     << R"({"prompt": "no id"})" << "\n";
  const std::string out = dir + "/results.jsonl";
  std::remove(out.c_str());
  auto r = RunLfm(Batch(dir + "/jobs.jsonl", out));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("duplicate id \"a\" on lines 1, 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 4: no \"id\""), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(out).good()) << "nothing may run";
  EXPECT_EQ(RunLfm(Batch(dir + "/jobs.jsonl", out, "--parallel 0")).exit_code, 2);
  auto big = RunLfm(Batch(dir + "/jobs.jsonl", out, "--max-request-bytes 20"));
  EXPECT_EQ(big.exit_code, 2);
  EXPECT_NE(big.err.find("over the request limit of 20"), std::string::npos) << big.err;
  EXPECT_EQ(RunLfm(Batch(dir + "/missing.jsonl", out)).exit_code, 2);
}

std::string WriteTextJobs(const std::string& dir, int n) {
  std::ofstream jobs(dir + "/jobs.jsonl");
  for (int i = 0; i < n; ++i)
    jobs << R"({"id": "j)" << i << R"(", "prompt": "Count to )" << i << R"(", "max_tokens": 3, "temperature": 0.9, "seed": )"
         << i << "}\n";
  return dir + "/jobs.jsonl";
}

TEST(CliBatch, ResumesAfterTornLastLine) {
  const std::string dir = testing::ScratchDir("cli_batch_torn");
  const std::string jobs = WriteTextJobs(dir, 6);
  const std::string out = dir + "/results.jsonl";
  // Two jobs done by an earlier run (their lines must be kept as they are), then a torn line.
  std::ofstream(out) << R"({"id":"j1","content":"EARLIER"})" << "\n"
                     << R"({"id":"j4","content":"EARLIER"})" << "\n"
                     << R"({"id":"j2","cont)";
  auto r = RunLfm(Batch(jobs, out, "--progress"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("line 3 is incomplete"), std::string::npos) << r.err;
  // --progress: a line per finished job (done/total, throughput, ETA) even into a pipe.
  EXPECT_NE(r.err.find("batch 1/4 jobs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("batch 4/4 jobs (0 failed)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ETA"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 of 6 jobs already in"), std::string::npos) << r.err;
  auto res = ById(out);
  ASSERT_EQ(res.size(), 6u);
  EXPECT_EQ(res["\"j1\""]["content"], "EARLIER");
  EXPECT_EQ(res["\"j4\""]["content"], "EARLIER");
  EXPECT_NE(res["\"j2\""]["content"], "EARLIER");
  EXPECT_EQ(Lines(out).size(), 6u);
}

TEST(CliBatch, KilledHalfWayThenRestartedEndsWithEveryResultOnce) {
  const std::string dir = testing::ScratchDir("cli_batch_kill");
  const std::string jobs = WriteTextJobs(dir, 50);
  const std::string out = dir + "/results.jsonl";
  std::remove(out.c_str());
  const std::string pid_file = dir + "/pid";
  std::system(("'" + std::string(LFM_CLI_PATH) + "' " + Batch(jobs, out, "--parallel 2") +
               " >/dev/null 2>&1 & echo $! > " + Quote(pid_file))
                  .c_str());
  int pid = 0;
  std::ifstream(pid_file) >> pid;
  ASSERT_GT(pid, 0);
  // Kill it (SIGKILL: no chance to tidy up) once some but not all results are in.
  size_t seen = 0;
  for (int i = 0; i < 6000 && seen < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = Lines(out).size();
  }
  ::kill(pid, SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const size_t before = Lines(out).size();
  ASSERT_GE(before, 10u);
  ASSERT_LT(before, 50u) << "the batch finished before it was killed: the test proves nothing";
  auto r = RunLfm(Batch(jobs, out, "--parallel 2"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto res = ById(out);
  EXPECT_EQ(res.size(), 50u);
  EXPECT_EQ(Lines(out).size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(res.count("\"j" + std::to_string(i) + "\""), 1u) << i;
}

TEST(CliBatch, ParallelTwoEqualsParallelOne) {
  const std::string dir = testing::ScratchDir("cli_batch_parallel");
  std::system(("cp " + Quote(testing::TestData("images/rocket.jpg")) + " " + Quote(dir + "/rocket.jpg")).c_str());
  {
    std::ofstream jobs(dir + "/jobs.jsonl");
    for (int i = 0; i < 6; ++i) {
      jobs << R"({"id": )" << i << R"(, "prompt": "Say something )" << i << R"(", "max_tokens": 6, "temperature": 1, "seed": )"
           << 100 + i << (i % 3 == 0 ? R"(, "images": ["rocket.jpg"])" : "") << "}\n";
    }
  }
  const std::string one = dir + "/one.jsonl", two = dir + "/two.jsonl";
  std::remove(one.c_str());
  std::remove(two.c_str());
  auto a = RunLfm(Batch(dir + "/jobs.jsonl", one, "--parallel 1"));
  auto b = RunLfm(Batch(dir + "/jobs.jsonl", two, "--parallel 2"));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto ra = ById(one), rb = ById(two);
  ASSERT_EQ(ra.size(), 6u);
  EXPECT_EQ(ra, rb);  // the same content, finish reasons, usage and seeds, whatever the order of the lines
}

}  // namespace
}  // namespace lfm
