// Anonymous memory straight from mmap, for large load-time buffers (weights converted before they
// are packed). Freeing one returns all its pages at once; the same block from the heap would leave
// a resident hole between the longer-lived blocks allocated after it (malloc keeps blocks of up to
// 32 MiB in its heap once larger ones were freed, and gives back only the heap's top).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lfm {

class PageBuffer {
 public:
  PageBuffer() = default;
  // n zero bytes (none for n == 0). Throws std::bad_alloc if the memory cannot be mapped.
  explicit PageBuffer(size_t n);
  ~PageBuffer();
  PageBuffer(PageBuffer&& other) noexcept;
  PageBuffer& operator=(PageBuffer&& other) noexcept;
  PageBuffer(const PageBuffer&) = delete;
  PageBuffer& operator=(const PageBuffer&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace lfm
