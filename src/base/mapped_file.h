// Read-only memory-mapped files: weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "lfm/status.h"

namespace lfm {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Maps the whole file. An empty file maps to size() == 0 with a null data().
  static Result<MappedFile> Open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Reads a whole (small) file into a string: configs, tokenizer.json, templates.
Result<std::string> ReadFileToString(const std::string& path);
// Writes bytes to path, replacing it.
Status WriteStringToFile(const std::string& path, const std::string& bytes);
bool FileExists(const std::string& path);

}  // namespace lfm
