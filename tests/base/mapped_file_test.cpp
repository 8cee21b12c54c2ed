#include "base/mapped_file.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace lfm {
namespace {

TEST(MappedFile, MapsAndReportsMissingFiles) {
  std::string dir = testing::ScratchDir("mapped_file");
  ASSERT_TRUE(WriteStringToFile(dir + "/a.bin", "hello").ok());
  auto f = MappedFile::Open(dir + "/a.bin");
  ASSERT_OK(f);
  EXPECT_EQ(f->size(), 5u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(f->data()), 5), "hello");
  auto missing = MappedFile::Open(dir + "/nope.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.bin"), std::string::npos);
  auto is_dir = MappedFile::Open(dir);
  EXPECT_FALSE(is_dir.ok());
}

}  // namespace
}  // namespace lfm
