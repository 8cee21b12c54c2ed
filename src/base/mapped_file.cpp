#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <map>
#include <utility>
#include <vector>

namespace lfm {
namespace {

const char* FileTypeName(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a file";
}

// "2.1 GB", "512 bytes": how big the refused file is, in words a user reads at a glance.
std::string HumanBytes(uint64_t n) {
  char buf[32];
  if (n < 1000) {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  } else if (n < 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(n) / 1e3);
  } else if (n < 1000ull * 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(n) / 1e9);
  }
  return buf;
}

std::string LimitText(uint64_t max_bytes) {
  if (max_bytes % file_limits::kMiB == 0) return std::to_string(max_bytes / file_limits::kMiB) + " MiB";
  return std::to_string(max_bytes) + " byte";
}

Status NotRegular(const std::string& path, mode_t mode) {
  return InvalidArgument(path + ": not a regular file (" + FileTypeName(mode) + ")");
}

Status TooLarge(const std::string& path, uint64_t size, const FileSizeLimit& limit) {
  return ResourceExhausted(path + ": " + HumanBytes(size) + " exceeds the " + LimitText(limit.max_bytes) +
                           " limit for " + std::string(limit.kind));
}

// stat() follows symlinks, so a link to /dev/zero is seen as the device it is. Never open()s:
// opening a FIFO for reading blocks until a writer appears.
Result<struct stat> StatRegular(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return IoError("cannot open '" + path + "': " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return NotRegular(path, st.st_mode);
  return st;
}

// Opens a file that stat() said is regular. O_NONBLOCK so that a FIFO swapped in since the
// stat() cannot block us; fstat() then checks what was really opened.
Result<int> OpenRegular(const std::string& path, struct stat* st) {
  LFM_RETURN_IF_ERROR(StatRegular(path).status());
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return IoError("cannot open '" + path + "': " + std::strerror(errno));
  if (fstat(fd, st) != 0) {
    int e = errno;
    ::close(fd);
    return IoError("cannot stat '" + path + "': " + std::strerror(e));
  }
  if (!S_ISREG(st->st_mode)) {
    ::close(fd);
    return NotRegular(path, st->st_mode);
  }
  return fd;
}

// The live read-only file mappings (start -> extent), so ReleaseResidentPages can tell file pages,
// which it may simply unmap, from anonymous memory, which it must not; and, per mapping, the page
// ranges it released, for ReleaseResidentPagesAgain.
struct Mapping {
  size_t size = 0;
  std::vector<std::pair<uintptr_t, uintptr_t>> released;  // [begin, end) page ranges, in call order
};
std::mutex& MappingsMu() {
  static std::mutex mu;
  return mu;
}
std::map<uintptr_t, Mapping>& Mappings() {
  static std::map<uintptr_t, Mapping> m;
  return m;
}
void Register(const uint8_t* p, size_t n) {
  std::lock_guard<std::mutex> lock(MappingsMu());
  Mappings()[reinterpret_cast<uintptr_t>(p)] = Mapping{n, {}};
}
void Unregister(const uint8_t* p) {
  std::lock_guard<std::mutex> lock(MappingsMu());
  Mappings().erase(reinterpret_cast<uintptr_t>(p));
}

// Unmaps the pages [begin, end) of the file mapping holding [first, last) widened to whole pages,
// and notes them; false (nothing done) if no live file mapping holds [first, last).
bool ReleaseMappedPages(uintptr_t first, uintptr_t last, uintptr_t page) {
  std::lock_guard<std::mutex> lock(MappingsMu());
  auto it = Mappings().upper_bound(first);
  if (it == Mappings().begin()) return false;
  --it;
  if (!(it->first <= first && last <= it->first + it->second.size)) return false;
  // mmap returns page-aligned addresses and maps whole pages.
  const uintptr_t map_end = (it->first + it->second.size + page - 1) / page * page;
  const uintptr_t begin = std::max(it->first, first / page * page);
  const uintptr_t end = std::min(map_end, (last + page - 1) / page * page);
  if (end <= begin) return true;
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
  auto& r = it->second.released;
  if (!r.empty() && r.back().second >= begin && r.back().first <= end) {  // extends the last range
    r.back() = {std::min(r.back().first, begin), std::max(r.back().second, end)};
  } else {
    r.emplace_back(begin, end);
  }
  return true;
}

}  // namespace

MappedFile::~MappedFile() {
  if (data_ != nullptr) {
    Unregister(data_);
    munmap(const_cast<uint8_t*>(data_), size_);
  }
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_), size_(other.size_), path_(std::move(other.path_)) {
  other.data_ = nullptr;
  other.size_ = 0;
}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) {
      Unregister(data_);
      munmap(const_cast<uint8_t*>(data_), size_);
    }
    data_ = other.data_;
    size_ = other.size_;
    path_ = std::move(other.path_);
    other.data_ = nullptr;
    other.size_ = 0;
  }
  return *this;
}

Result<MappedFile> MappedFile::Open(const std::string& path) {
  struct stat st {};
  LFM_ASSIGN_OR_RETURN(int fd, OpenRegular(path, &st));
  MappedFile f;
  f.path_ = path;
  f.size_ = static_cast<size_t>(st.st_size);
  if (f.size_ > 0) {
    void* p = mmap(nullptr, f.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int e = errno;
      ::close(fd);
      return IoError("cannot mmap '" + path + "': " + std::strerror(e));
    }
    f.data_ = static_cast<const uint8_t*>(p);
    Register(f.data_, f.size_);
  }
  ::close(fd);
  return f;
}

Result<uint64_t> CheckRegularFile(const std::string& path, const FileSizeLimit& limit) {
  LFM_ASSIGN_OR_RETURN(struct stat st, StatRegular(path));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limit.max_bytes) return TooLarge(path, size, limit);
  return size;
}

Result<std::string> ReadFileToString(const std::string& path, const FileSizeLimit& limit) {
  LFM_RETURN_IF_ERROR(CheckRegularFile(path, limit).status());
  struct stat st {};
  LFM_ASSIGN_OR_RETURN(int fd, OpenRegular(path, &st));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > limit.max_bytes) {
    ::close(fd);
    return TooLarge(path, size, limit);
  }
  std::string out;
  out.resize(static_cast<size_t>(size));
  size_t got = 0;
  // Read one byte past the stated size: a file that grew since fstat() is read on, up to the limit.
  char extra[4096];
  while (true) {
    char* dst = got < out.size() ? out.data() + got : extra;
    size_t want = got < out.size() ? out.size() - got : sizeof extra;
    ssize_t n = ::read(fd, dst, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return IoError("error reading '" + path + "': " + std::strerror(e));
    }
    if (n == 0) break;
    if (dst == extra) {
      out.append(extra, static_cast<size_t>(n));
      got = out.size();
    } else {
      got += static_cast<size_t>(n);
    }
    if (got > limit.max_bytes) {
      ::close(fd);
      return TooLarge(path, got, limit);
    }
  }
  ::close(fd);
  out.resize(got);  // a file that shrank since fstat()
  return out;
}

Status WriteStringToFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return IoError("cannot create '" + path + "': " + std::strerror(errno));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) return IoError("error writing '" + path + "'");
  return Status::Ok();
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

void ReleaseResidentPages(const void* p, size_t n) {
  if (n == 0) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t first = reinterpret_cast<uintptr_t>(p), last = first + n;
  // A read-only private file mapping is never written, so unmapping its pages (MADV_DONTNEED) only
  // means they are read from the file again if touched; that works even when other processes map the
  // same file (MADV_PAGEOUT skips shared pages). So here the range is widened to whole pages: the
  // pages a tensor shares with its neighbours go too (a neighbour still in use faults them back).
  // Small tensors (norms, biases) need this: they cover no whole page, yet reading one can map a
  // large page-cache folio around it (up to 2 MiB in one PMD entry on ext4 with large folios), and a
  // partial unmap of such an entry drops all of it.
  if (ReleaseMappedPages(first, last, page)) return;
  // Anything else gets only the contents-preserving hint, on the pages wholly inside: neighbours stay.
  const uintptr_t begin = (first + page - 1) / page * page;
  const uintptr_t end = last / page * page;
  if (end <= begin) return;
#if defined(MADV_PAGEOUT)
  (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_PAGEOUT);
#endif
}

void ReleaseResidentPagesAgain() {
  std::lock_guard<std::mutex> lock(MappingsMu());
  for (const auto& [start, m] : Mappings())
    for (const auto& [begin, end] : m.released)
      (void)madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace lfm
