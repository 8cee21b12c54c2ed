// The results file of `lfm batch`: one JSON object a line, appended whole, so a batch can be killed
// at any moment and resumed. On open, the ids already present are collected (they are skipped), and
// a torn last line (no newline: a crash mid-write on a file system that does not make appends
// atomic) is cut off with a warning.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "lfm/status.h"

namespace lfm::cli {

class BatchResults {
 public:
  ~BatchResults();
  // Opens (creates) `path` for appending. `done_ids` receives the id (its JSON text) of every
  // complete line already in the file; `warnings` gets one line per repaired or unreadable line.
  static Result<std::unique_ptr<BatchResults>> Open(const std::string& path, std::unordered_set<std::string>* done_ids,
                                                    std::string* warnings);
  // Appends one line (a newline is added) with a single write() under a lock; fsync'd every
  // kSyncLines lines or kSyncInterval, whichever comes first, and by Close().
  Status Append(const std::string& line);
  Status Close();

  static constexpr int kSyncLines = 16;
  static constexpr std::chrono::seconds kSyncInterval{2};

 private:
  BatchResults(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
  std::mutex mu_;
  int unsynced_ = 0;
  std::chrono::steady_clock::time_point last_sync_ = std::chrono::steady_clock::now();
};

}  // namespace lfm::cli
