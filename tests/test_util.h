// Shared helpers for the GoogleTest suites.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "base/mapped_file.h"

namespace lfm::testing {

// Root of ../shared/testdata (CMake variable LFM_TESTDATA_DIR; the environment variable of the
// same name overrides it at run time). Missing data is a test failure, never a silent skip.
inline std::string TestDataDir() {
  if (const char* env = std::getenv("LFM_TESTDATA_DIR"); env != nullptr && *env) return env;
  return LFM_TESTDATA_DIR;
}

inline std::string TestData(const std::string& relative) {
  std::string path = TestDataDir() + "/" + relative;
  EXPECT_TRUE(FileExists(path)) << "missing test data: " << path
                                << " (set LFM_TESTDATA_DIR to the shared/testdata directory)";
  return path;
}

inline std::string SourceDir() { return LFM_SOURCE_DIR; }
inline std::string BinaryDir() { return LFM_BINARY_DIR; }

// A fresh scratch directory under the build tree for one test.
inline std::string ScratchDir(const std::string& name) {
  std::string dir = BinaryDir() + "/test-scratch/" + name;
  std::string cmd = "rm -rf '" + dir + "' && mkdir -p '" + dir + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  return dir;
}

// A little-endian float32 array file (the reference dumps in testdata). An unreadable file is a test
// failure and gives an empty vector.
inline std::vector<float> ReadF32(const std::string& path) {
  auto bytes = ReadFileToString(path);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  std::vector<float> v(bytes->size() / 4);
  if (!v.empty()) std::memcpy(v.data(), bytes->data(), v.size() * 4);
  return v;
}

// max |a_i - b_i| (in double). Different sizes are a test failure and give infinity.
inline double MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  if (a.size() != b.size()) return INFINITY;
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// n reproducible pseudo-random token ids in [2, vocab) (an LCG, the same on every standard library;
// ids 0 and 1, the pad and start-of-text tokens, are left out).
inline std::vector<int32_t> PseudoRandomIds(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids;
  uint32_t x = seed;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.push_back(static_cast<int32_t>(2 + (x >> 8) % static_cast<uint32_t>(vocab - 2)));
  }
  return ids;
}

// Sanitizer builds (ASan + UBSan, TSan) run the kernels 5-20x slower and the tests' own checking loops
// (built at -O0 there) slower still, and their job is memory and thread errors, not numerics. So the
// real-size kernel tests check a shape under a sanitizer only up to kSanitizerMacBudget multiply-adds;
// the Release run checks every shape, on every ISA path. A shape passed over says so on stdout (never
// a silent skip): the log shows what the sanitizer pass did not cover.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kUnderSanitizer = true;
#else
inline constexpr bool kUnderSanitizer = false;
#endif
inline constexpr double kSanitizerMacBudget = 8e6;

inline bool CheckedAtThisSize(int64_t rows, int64_t cols, int64_t n) {
  if (!kUnderSanitizer || static_cast<double>(rows) * cols * n <= kSanitizerMacBudget) return true;
  std::printf("[ sanitizer] %lldx%lld n=%lld: over the sanitizer budget, checked in the Release run only\n",
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(n));
  return false;
}

}  // namespace lfm::testing

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& lfm_s_ = (expr);                          \
    ASSERT_TRUE(lfm_s_.ok()) << lfm_s_.status().ToString(); \
  } while (0)
