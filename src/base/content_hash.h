// A fast 128-bit content hash for cache keys (image pixels, embedding rows). Not cryptographic: it
// only has to make accidental collisions between different inputs negligible (2^-128 per pair).
#pragma once

#include <cstddef>
#include <cstdint>

namespace lfm {

struct ContentHash {
  uint64_t lo = 0, hi = 0;
  bool operator==(const ContentHash& o) const { return lo == o.lo && hi == o.hi; }
  bool operator!=(const ContentHash& o) const { return !(*this == o); }
  bool operator<(const ContentHash& o) const { return hi != o.hi ? hi < o.hi : lo < o.lo; }
};

// Incremental: Update() any number of byte ranges, then Finish(). The same bytes in the same order
// (however split) give the same hash.
class ContentHasher {
 public:
  ContentHasher();
  void Update(const void* data, size_t n);
  template <typename T>
  void UpdateValue(const T& v) { Update(&v, sizeof(v)); }
  ContentHash Finish() const;

 private:
  void Mix(uint64_t word);
  uint64_t a_, b_;
  uint64_t pending_ = 0;  // bytes not yet mixed (fewer than 8)
  int pending_n_ = 0;
  uint64_t total_ = 0;
};

ContentHash HashBytes(const void* data, size_t n);

}  // namespace lfm
