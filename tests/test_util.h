// Shared helpers for the GoogleTest suites.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

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

}  // namespace lfm::testing

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    const auto& lfm_s_ = (expr);                          \
    ASSERT_TRUE(lfm_s_.ok()) << lfm_s_.status().ToString(); \
  } while (0)
