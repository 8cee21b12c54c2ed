#include "base/mapped_file.h"

#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
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

// Resident pages of this process (the second field of /proc/self/statm).
size_t ResidentPages() {
  std::ifstream f("/proc/self/statm");
  size_t size = 0, resident = 0;
  f >> size >> resident;
  return resident;
}

// After its bytes were copied (packed weights), a mapped file's pages leave this process's memory
// but read back with the same contents; anonymous memory keeps its contents too.
TEST(MappedFile, ReleaseResidentPagesDropsWholePagesAndKeepsContents) {
  std::string dir = testing::ScratchDir("mapped_file_release");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE)), pages = 2048, n = pages * page;
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 7 + i / 4096);
  ASSERT_TRUE(WriteStringToFile(dir + "/w.bin", bytes).ok());
  auto f = MappedFile::Open(dir + "/w.bin");
  ASSERT_OK(f);
  volatile uint32_t sink = 0;
  for (size_t i = 0; i < n; i += page) sink = sink + f->data()[i];  // fault every page in
  const size_t before = ResidentPages();
  // From inside page 0 to inside the last page: pages 1 .. pages-2 are wholly inside.
  ReleaseResidentPages(f->data() + 100, n - 200);
  const size_t after = ResidentPages();
  // The process's other memory may move by a page or two meanwhile (ASan's allocator does): ask for
  // 90% of the 2046 released pages to be gone from the resident count.
  const int64_t dropped = static_cast<int64_t>(before) - static_cast<int64_t>(after);
  EXPECT_GE(dropped, static_cast<int64_t>(pages - 2) * 9 / 10) << "resident pages before " << before << ", after " << after;
  EXPECT_EQ(std::memcmp(f->data(), bytes.data(), n), 0);
  // Heap memory: only the contents-preserving hint.
  std::vector<char> heap(bytes.begin(), bytes.end());
  ReleaseResidentPages(heap.data(), heap.size());
  EXPECT_EQ(std::memcmp(heap.data(), bytes.data(), n), 0);
}

// Whether the page holding p is mapped into this process now (/proc/self/pagemap's "present" bit,
// which needs no privilege); nullopt if pagemap cannot be read.
std::optional<bool> PagePresent(const void* p) {
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  uint64_t entry = 0;
  const ssize_t got =
      ::pread(fd, &entry, sizeof entry, static_cast<off_t>(reinterpret_cast<uintptr_t>(p) / page * sizeof entry));
  ::close(fd);
  if (got != static_cast<ssize_t>(sizeof entry)) return std::nullopt;
  return (entry >> 63) != 0;
}

// A tensor smaller than a page (a norm, a bias) still gets the pages it touches dropped from a file
// mapping: reading it may have mapped far more around it. Contents read back the same, and pages
// mapped back by later reads go again with ReleaseResidentPagesAgain, while untouched ones stay.
TEST(MappedFile, ReleaseResidentPagesWidensToTouchedPagesAndReleasesAgain) {
  std::string dir = testing::ScratchDir("mapped_file_release_small");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE)), n = 8 * page;
  std::string bytes(n, '\0');
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>(i * 13 + i / 4096);
  ASSERT_TRUE(WriteStringToFile(dir + "/w.bin", bytes).ok());
  auto f = MappedFile::Open(dir + "/w.bin");
  ASSERT_OK(f);
  volatile uint32_t sink = 0;
  for (size_t i = 0; i < n; i += page) sink = sink + f->data()[i];
  const uint8_t* small = f->data() + 3 * page + 100;  // 20 bytes inside page 3
  if (!PagePresent(small).has_value()) GTEST_SKIP() << "/proc/self/pagemap is not readable";
  ASSERT_TRUE(*PagePresent(small));
  ASSERT_TRUE(*PagePresent(f->data() + 5 * page));
  ReleaseResidentPages(small, 20);
  EXPECT_FALSE(*PagePresent(small));
  EXPECT_TRUE(*PagePresent(f->data() + 5 * page));  // not part of the range
  EXPECT_EQ(std::memcmp(f->data(), bytes.data(), n), 0);  // faults every page back in
  EXPECT_TRUE(*PagePresent(small));
  ReleaseResidentPagesAgain();
  EXPECT_FALSE(*PagePresent(small));
  EXPECT_TRUE(*PagePresent(f->data() + 5 * page));
  EXPECT_EQ(std::memcmp(f->data() + 3 * page, bytes.data() + 3 * page, page), 0);
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
