#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <vector>

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

// After its bytes were copied (packed weights), a mapped file's pages leave memory but stay readable
// with the same contents; the pages at the ends, shared with bytes outside the range, are kept. (The
// kernel may keep a large page-cache folio that straddles the range's ends, so the check asks for
// most interior pages to go, not all.)
TEST(MappedFile, ReleaseResidentPagesDropsWholePagesAndKeepsContents) {
  std::string dir = testing::ScratchDir("mapped_file_release");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE)), pages = 2048, n = pages * page;
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(WriteStringToFile(dir + "/w.bin", bytes).ok());
  {  // dirty page-cache pages cannot be dropped until written back
    const int fd = open((dir + "/w.bin").c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(fsync(fd), 0);
    close(fd);
  }
  auto f = MappedFile::Open(dir + "/w.bin");
  ASSERT_OK(f);
  volatile uint32_t sink = 0;
  for (size_t i = 0; i < n; i += page) sink += f->data()[i];  // fault every page in
  auto resident = [&](size_t first, size_t count) {
    std::vector<unsigned char> v(count);
    EXPECT_EQ(mincore(const_cast<uint8_t*>(f->data()) + first * page, count * page, v.data()), 0);
    size_t r = 0;
    for (unsigned char c : v) r += c & 1;
    return r;
  };
  ASSERT_EQ(resident(0, pages), pages);
  // From inside page 0 to inside the last page: pages 1 .. pages-2 are wholly inside.
  ReleaseResidentPages(f->data() + 100, n - 200);
#if defined(MADV_PAGEOUT)
  EXPECT_LT(resident(1, pages - 2), (pages - 2) / 2) << "MADV_PAGEOUT left most pages resident";
#endif
  EXPECT_EQ(resident(0, 1), 1u);
  EXPECT_EQ(resident(pages - 1, 1), 1u);
  EXPECT_EQ(std::memcmp(f->data(), bytes.data(), n), 0);
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
