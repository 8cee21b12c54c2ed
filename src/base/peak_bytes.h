// A high-water mark of bytes that several threads may raise at once: the memory accounting behind
// Engine::memory_use() (the largest session state and scratch, the vision encoder's buffers).
#pragma once

#include <atomic>
#include <cstdint>

namespace lfm {

class PeakBytes {
 public:
  void Raise(int64_t bytes) {
    int64_t cur = v_.load(std::memory_order_relaxed);
    while (bytes > cur && !v_.compare_exchange_weak(cur, bytes, std::memory_order_relaxed)) {
    }
  }
  int64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Bytes held by a vector's allocation.
template <class V>
int64_t CapacityBytes(const V& v) {
  return static_cast<int64_t>(v.capacity() * sizeof(typename V::value_type));
}

}  // namespace lfm
