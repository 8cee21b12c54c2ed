// The kernel path (ISA) through the real `lfm` binary: `lfm bench` reports it, LFM_ISA lowers it (and a
// bad value is reported, never silently ignored), and the tiny model's reference greedy ids come out the
// same on every path.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "base/cpu_features.h"
#include "cli_util.h"
#include "ref_files.h"
#include "test_util.h"

namespace lfm {
namespace {

// Sets LFM_ISA for the child processes of one test.
class ScopedIsaEnv {
 public:
  explicit ScopedIsaEnv(const char* value) { ::setenv("LFM_ISA", value, 1); }
  ~ScopedIsaEnv() { ::unsetenv("LFM_ISA"); }
};

nlohmann::json Bench(const std::string& model) {
  auto r = testing::RunLfm("bench -m " + testing::Quote(model) + " -p 4 -n 2 -r 1 -t 1 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

TEST(CliKernelIsa, BenchReportsTheActivePath) {
  const std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  const std::string cpu = IsaName(DetectCpuIsa());
  {
    ::unsetenv("LFM_ISA");
    auto j = Bench(model);
    EXPECT_EQ(j.value("kernel_isa", ""), cpu);
    EXPECT_EQ(j.value("cpu_isa", ""), cpu);
  }
  {
    ScopedIsaEnv env("scalar");
    auto j = Bench(model);
    EXPECT_EQ(j.value("kernel_isa", ""), "scalar");
    EXPECT_EQ(j.value("cpu_isa", ""), cpu);
  }
  {
    ScopedIsaEnv env("scalar");
    auto r = testing::RunLfm("bench -m " + testing::Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")) +
                             " -p 4 -n 2 -r 1 -t 1");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("kernels      scalar"), std::string::npos) << r.out;
  }
}

TEST(CliKernelIsa, UnknownLfmIsaIsReportedAndKeepsTheCpuPath) {
  ScopedIsaEnv env("avx1024");
  auto r = testing::RunLfm("bench -m " + testing::Quote(testing::TestData("lfm2-synthetic/tiny-lfm2")) +
                           " -p 4 -n 2 -r 1 -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("LFM_ISA=avx1024: unknown value (expected scalar, avx2, avx512, avx512bf16 or avx512fp16)"), std::string::npos)
      << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).value("kernel_isa", ""), IsaName(DetectCpuIsa()));
}

// Greedy decoding of the tiny model reproduces the reference ids on every path the CPU runs.
TEST(CliKernelIsa, ReferenceGreedyIdsOnEveryPath) {
  const std::string model = testing::TestData("lfm2-synthetic/tiny-lfm2");
  auto ref = testing::ReadIdLines(model + "/ref-plain.ids.txt");
  ASSERT_EQ(ref.size(), 2u);
  for (const char* isa : {"avx512", "avx2", "scalar"}) {
    ScopedIsaEnv env(isa);
    auto r = testing::RunLfm("generate -m " + testing::Quote(model) +
                             " -p 'Hello world, this is a test' -n 16 --temp 0 --ignore-eos --json");
    ASSERT_EQ(r.exit_code, 0) << isa << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), ref[0]) << isa;
    EXPECT_EQ(j["ids"].get<std::vector<int>>(), ref[1]) << isa;
  }
}

}  // namespace
}  // namespace lfm
