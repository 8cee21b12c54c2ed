// Read-only memory-mapped files: weights are used in place, never copied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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

  // Maps the whole file. An empty file maps to size() == 0 with a null data(). Only a regular file
  // (after following symlinks) is opened: a FIFO, device, socket or directory is refused before
  // open(), which would block on a FIFO.
  static Result<MappedFile> Open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// The largest file of one kind that is read whole into memory, and the words that name the kind
// in the error ("...: 2.1 GB exceeds the 100 MiB limit for tokenizer.json").
struct FileSizeLimit {
  std::string_view kind;
  uint64_t max_bytes;
};

// Per-kind defaults, each far above any real file of the kind, far below what hurts.
namespace file_limits {
inline constexpr uint64_t kMiB = uint64_t{1} << 20;
// config.json, generation_config.json, (pre)processor configs, tokenizer_config.json (which can
// embed a chat template; real ones are < 100 KiB), chat_template.jinja.
inline constexpr FileSizeLimit kConfig{"a config file", 8 * kMiB};
inline constexpr FileSizeLimit kChatTemplate{"a chat template", 8 * kMiB};
// tokenizer.json: a 256k-token vocabulary with its merges is ~30 MiB.
inline constexpr FileSizeLimit kTokenizer{"tokenizer.json", 100 * kMiB};
// model.safetensors.index.json: one line per tensor.
inline constexpr FileSizeLimit kWeightIndex{"a weight index", 64 * kMiB};
// What a user hands the CLI: --messages, --tools, --json-schema, --grammar, prompt files.
inline constexpr FileSizeLimit kRequest{"a request file", 64 * kMiB};
}  // namespace file_limits

// Checks that path names a regular file (after following symlinks) no larger than limit.max_bytes
// without opening it. Returns its size. Errors name the file and what it is instead:
// "x.json: not a regular file (a FIFO)".
Result<uint64_t> CheckRegularFile(const std::string& path, const FileSizeLimit& limit);

// Reads a whole (small) file into a string: configs, tokenizer.json, templates, request files.
// The file must be a regular file within limit.max_bytes (checked before reading, and again while
// reading in case it grows).
Result<std::string> ReadFileToString(const std::string& path,
                                     const FileSizeLimit& limit = file_limits::kRequest);
// Writes bytes to path, replacing it.
Status WriteStringToFile(const std::string& path, const std::string& bytes);
bool FileExists(const std::string& path);

// Drops this process's resident pages of [p, p + n), keeping the contents: inside a MappedFile every
// page the range touches is unmapped (madvise MADV_DONTNEED; read again from the file if touched, so
// a neighbour sharing an edge page only faults it back), elsewhere the kernel is only asked to page
// out the pages wholly inside (MADV_PAGEOUT: anonymous memory goes to swap if there is any, else
// stays). A hint: errors are ignored. Used once weights were copied elsewhere (converted, packed,
// read into a vector), so the mapped source does not stay resident next to its copy.
void ReleaseResidentPages(const void* p, size_t n);
// Unmaps again every page of a live MappedFile that ReleaseResidentPages unmapped before. Reading a
// tensor maps more than its own pages (the kernel maps up to 64 KiB around a faulting page, or a
// whole large folio of up to 2 MiB), so the reads after a release bring some released pages back:
// called once a load has read everything it copies.
void ReleaseResidentPagesAgain();

}  // namespace lfm
