// The vision tower's output rows of recently seen images, keyed by a hash of the preprocessed
// image (every crop's pixels, patch grid and mask): the same picture sent again in the next turn of
// a conversation is not encoded again. The key is what the tower reads, so a change of the image
// token budget or of tiling (which changes the crops) is a different entry. Bounded by bytes, least
// recently used first out. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/byte_lru.h"
#include "base/content_hash.h"
#include "image/lfm2vl_processor.h"

namespace lfm {

class ImageEmbeddingCache {
 public:
  explicit ImageEmbeddingCache(size_t max_bytes = 0) : lru_(max_bytes) {}

  // 0 disables the cache (and drops what it holds).
  void SetMaxBytes(size_t max_bytes);
  bool enabled() const;

  static ContentHash KeyOf(const PreprocessedImage& image);
  // The rows of the image, or null (a miss). Counts a hit or a miss.
  std::shared_ptr<const std::vector<float>> Find(const ContentHash& key);
  void Insert(const ContentHash& key, std::vector<float> rows);

  struct Stats {
    uint64_t hits = 0, misses = 0, evictions = 0;
    size_t entries = 0, bytes = 0, max_bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    ContentHash key;
    std::shared_ptr<const std::vector<float>> rows;
  };

  mutable std::mutex mu_;
  ByteLru<Entry> lru_;  // guarded by mu_
  Stats stats_;         // hits and misses; the rest comes from lru_
};

}  // namespace lfm
