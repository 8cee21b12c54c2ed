#include "engine/prefix_cache.h"

#include <algorithm>

namespace lfm {

void PrefixCache::SetMaxBytes(size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  max_bytes_ = max_bytes;
  EvictToFit(max_bytes_);
}

bool PrefixCache::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_bytes_ > 0;
}

PrefixCache::Hit PrefixCache::Lookup(const std::vector<uint64_t>& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (max_bytes_ == 0) return {};
  auto best = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    const size_t n = it->key.size();
    const bool usable = n < key.size() || (n == key.size() && it->logits);
    if (!usable || (best != entries_.end() && n <= best->key.size())) continue;
    if (std::equal(it->key.begin(), it->key.end(), key.begin())) best = it;
  }
  if (best == entries_.end() || best->key.empty()) {
    stats_.misses++;
    return {};
  }
  entries_.splice(entries_.begin(), entries_, best);  // most recently used
  stats_.hits++;
  stats_.tokens_reused += best->key.size();
  return Hit{best->snapshot, best->key.size(), best->logits};
}

void PrefixCache::Insert(const std::vector<uint64_t>& key, size_t length, const HybridCache& cache,
                         const std::vector<float>* logits) {
  if (length == 0 || length > key.size() || static_cast<size_t>(cache.n_past()) != length) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (max_bytes_ == 0) return;
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key.size() == length && std::equal(it->key.begin(), it->key.end(), key.begin())) {
        entries_.splice(entries_.begin(), entries_, it);
        if (it->logits || logits == nullptr) return;
        stats_.bytes -= it->bytes;  // replaced below by the same snapshot with its logits
        entries_.erase(it);
        break;
      }
    }
  }
  // Copied outside the lock: a snapshot of a long prompt is megabytes.
  std::shared_ptr<const HybridCache> snap = cache.Clone();
  std::shared_ptr<const std::vector<float>> kept_logits;
  if (logits != nullptr) kept_logits = std::make_shared<const std::vector<float>>(*logits);
  const size_t bytes = snap->state_bytes() + length * sizeof(uint64_t) +
                       (kept_logits ? kept_logits->size() * sizeof(float) : 0);
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > max_bytes_) return;
  for (const auto& e : entries_)  // another thread may have stored the same prefix meanwhile
    if (e.key.size() == length && std::equal(e.key.begin(), e.key.end(), key.begin())) return;
  EvictToFit(max_bytes_ - bytes);
  entries_.push_front(Entry{std::vector<uint64_t>(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(length)),
                            std::move(snap), std::move(kept_logits), bytes});
  stats_.bytes += bytes;
  stats_.insertions++;
}

void PrefixCache::EvictToFit(size_t budget) {
  while (!entries_.empty() && stats_.bytes > budget) {
    stats_.bytes -= entries_.back().bytes;
    entries_.pop_back();
    stats_.evictions++;
  }
}

PrefixCache::Stats PrefixCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.entries = entries_.size();
  s.max_bytes = max_bytes_;
  return s;
}

}  // namespace lfm
