#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

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

// Every check here ran into a hang (FIFO: open() blocks for a writer) or a multi-GB read
// (/dev/zero) before files were stat()ed first.
TEST(ReadFileToString, RefusesSpecialFilesAtOnceNamingWhatTheyAre) {
  std::string dir = testing::ScratchDir("read_file_special");
  std::string fifo = dir + "/config.json";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  ASSERT_EQ(symlink("/dev/zero", (dir + "/tokenizer.json").c_str()), 0);
  auto t0 = std::chrono::steady_clock::now();
  auto r = ReadFileToString(fifo, file_limits::kConfig);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), fifo + ": not a regular file (a FIFO)");
  auto m = MappedFile::Open(fifo);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), fifo + ": not a regular file (a FIFO)");
  auto z = ReadFileToString(dir + "/tokenizer.json", file_limits::kTokenizer);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().message(), dir + "/tokenizer.json: not a regular file (a character device)");
  EXPECT_FALSE(MappedFile::Open("/dev/zero").ok());
  auto d = ReadFileToString(dir, file_limits::kRequest);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().message(), dir + ": not a regular file (a directory)");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
}

TEST(ReadFileToString, SizeCapIsCheckedBeforeReading) {
  std::string dir = testing::ScratchDir("read_file_cap");
  std::string path = dir + "/big.json";
  ASSERT_TRUE(WriteStringToFile(path, "x").ok());
  // A sparse 2.1 GB file: reading it would take the memory; the stat() check refuses it first.
  ASSERT_EQ(truncate(path.c_str(), 2100LL * 1000 * 1000), 0);
  auto r = ReadFileToString(path, file_limits::kTokenizer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(r.status().message(), path + ": 2.1 GB exceeds the 100 MiB limit for tokenizer.json");
  auto c = CheckRegularFile(path, {"a config file", 10});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), path + ": 2.1 GB exceeds the 10 byte limit for a config file");
  ASSERT_EQ(truncate(path.c_str(), 10), 0);
  auto ok = ReadFileToString(path, {"x", 10});
  ASSERT_OK(ok);
  EXPECT_EQ(ok->size(), 10u);
  EXPECT_FALSE(ReadFileToString(path, {"x", 9}).ok());
  auto empty_dir_file = dir + "/empty";
  ASSERT_TRUE(WriteStringToFile(empty_dir_file, "").ok());
  auto e = ReadFileToString(empty_dir_file);
  ASSERT_OK(e);
  EXPECT_TRUE(e->empty());
  auto missing = ReadFileToString(dir + "/nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.json"), std::string::npos);
}

}  // namespace
}  // namespace lfm
