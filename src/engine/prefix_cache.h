// Prefix reuse across requests: snapshots of a sequence's decoder state (model/hybrid_cache.h) at
// token boundaries, so a request that starts with a cached sequence (the same system prompt, the
// history of a multi-turn chat) restores the snapshot and prefills only the rest.
//
// LFM2 is a hybrid: the attention layers' keys/values could be cut to any length, but each short-conv
// layer keeps a rolling window of its last inputs that cannot be rewound. So the cache holds whole
// snapshots taken at chosen positions (the end of a prompt, the end of a reply, the start of the last
// user turn), and reuse happens only at exactly such a position.
//
// A key is one 64-bit value per position: the token id, or, for an image placeholder token, a hash
// of the image feature row that replaces its embedding (top bit set), so the same text with another
// image never matches. Bounded by bytes; least recently used snapshots are evicted first.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "base/byte_lru.h"
#include "model/hybrid_cache.h"

namespace lfm {

class PrefixCache {
 public:
  explicit PrefixCache(size_t max_bytes = 0) : lru_(max_bytes) {}

  // 0 disables the cache (and drops what it holds).
  void SetMaxBytes(size_t max_bytes);
  bool enabled() const;

  struct Hit {
    std::shared_ptr<const HybridCache> snapshot;
    size_t length = 0;  // positions the snapshot holds (key[0, length))
    std::shared_ptr<const std::vector<float>> logits;  // of the last position, when kept
  };
  // The longest snapshot that can start the prompt `key`: its key a proper prefix of `key`, or all of
  // `key` when the snapshot kept its last logits (the same prompt again then prefills nothing).
  // Counts a hit (and the positions it saves) or a miss.
  Hit Lookup(const std::vector<uint64_t>& key);
  // Keeps a snapshot of `cache` (which holds exactly key[0, length)) unless one is already there,
  // with the last position's logits if given. A snapshot larger than the whole budget is not kept.
  void Insert(const std::vector<uint64_t>& key, size_t length, const HybridCache& cache,
              const std::vector<float>* logits = nullptr);

  struct Stats {
    uint64_t hits = 0, misses = 0;
    uint64_t tokens_reused = 0;  // positions restored instead of prefilled
    uint64_t insertions = 0, evictions = 0;
    size_t entries = 0, bytes = 0, max_bytes = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    std::vector<uint64_t> key;
    std::shared_ptr<const HybridCache> snapshot;
    std::shared_ptr<const std::vector<float>> logits;
  };

  mutable std::mutex mu_;
  ByteLru<Entry> lru_;  // guarded by mu_
  Stats stats_;         // hits, misses, reuse and insertions; the rest comes from lru_
};

// Marks image placeholder positions in a prefix key (PrefixCache above).
constexpr uint64_t kPrefixKeyImageBit = 1ull << 63;

}  // namespace lfm
