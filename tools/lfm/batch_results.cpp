#include "batch_results.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

namespace lfm::cli {

namespace {

Status Errno(const std::string& what, const std::string& path) {
  return IoError(what + " " + path + ": " + std::strerror(errno));
}

// Reads the whole file through `fd` (results files are small: one line a job).
Result<std::string> ReadAll(int fd, const std::string& path) {
  std::string data;
  char buf[1 << 16];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", path);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

}  // namespace

Result<std::unique_ptr<BatchResults>> BatchResults::Open(const std::string& path,
                                                         std::unordered_set<std::string>* done_ids,
                                                         std::string* warnings) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot open", path);
  std::unique_ptr<BatchResults> out(new BatchResults(fd, path));
  LFM_ASSIGN_OR_RETURN(std::string data, ReadAll(fd, path));
  size_t begin = 0;
  int line_number = 0;
  while (begin < data.size()) {
    const size_t nl = data.find('\n', begin);
    ++line_number;
    if (nl == std::string::npos) {
      // A torn last line: cut it off, so the next append starts on a line of its own.
      *warnings += path + ": line " + std::to_string(line_number) + " is incomplete (" +
                   std::to_string(data.size() - begin) + " bytes, an earlier run was interrupted mid-write); "
                   "removed, its job runs again\n";
      if (::ftruncate(fd, static_cast<off_t>(begin)) != 0) return Errno("cannot truncate", path);
      break;
    }
    const std::string_view line(data.data() + begin, nl - begin);
    begin = nl + 1;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id")) {
      *warnings += path + ": line " + std::to_string(line_number) + " is not a result object; ignored\n";
      continue;
    }
    done_ids->insert(j["id"].dump());
  }
  return out;
}

Status BatchResults::Append(const std::string& line) {
  const std::string text = line + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  // One write() for the whole line: with O_APPEND a concurrent or killed writer cannot interleave
  // inside it. A short write (disk full) is finished by further writes; a crash in between leaves a
  // torn last line, which Open() repairs.
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot write", path_);
    done += static_cast<size_t>(n);
  }
  const auto now = std::chrono::steady_clock::now();
  if (++unsynced_ >= kSyncLines || now - last_sync_ >= kSyncInterval) {
    if (::fsync(fd_) != 0) return Errno("cannot fsync", path_);
    unsynced_ = 0;
    last_sync_ = now;
  }
  return Status::Ok();
}

Status BatchResults::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (fd_ < 0) return Status::Ok();
  const bool synced = ::fsync(fd_) == 0;
  const int fd = fd_;
  fd_ = -1;
  if (!synced) {
    ::close(fd);
    return Errno("cannot fsync", path_);
  }
  if (::close(fd) != 0) return Errno("cannot close", path_);
  return Status::Ok();
}

BatchResults::~BatchResults() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace lfm::cli
