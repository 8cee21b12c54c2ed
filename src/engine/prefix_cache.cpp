#include "engine/prefix_cache.h"

#include <algorithm>

namespace lfm {

void PrefixCache::SetMaxBytes(size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  lru_.SetMaxBytes(max_bytes);
}

bool PrefixCache::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.max_bytes() > 0;
}

PrefixCache::Hit PrefixCache::Lookup(const std::vector<uint64_t>& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (lru_.max_bytes() == 0) return {};
  auto best = lru_.end();
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    const Entry& e = it->value;
    const size_t n = e.key.size();
    const bool usable = n < key.size() || (n == key.size() && e.logits);
    if (!usable || (best != lru_.end() && n <= best->value.key.size())) continue;
    if (std::equal(e.key.begin(), e.key.end(), key.begin())) best = it;
  }
  if (best == lru_.end() || best->value.key.empty()) {
    stats_.misses++;
    return {};
  }
  lru_.Touch(best);
  const Entry& e = best->value;
  stats_.hits++;
  stats_.tokens_reused += e.key.size();
  return Hit{e.snapshot, e.key.size(), e.logits};
}

void PrefixCache::Insert(const std::vector<uint64_t>& key, size_t length, const HybridCache& cache,
                         const std::vector<float>* logits) {
  if (length == 0 || length > key.size() || static_cast<size_t>(cache.n_past()) != length) return;
  auto same_prefix = [&](const Entry& e) {
    return e.key.size() == length && std::equal(e.key.begin(), e.key.end(), key.begin());
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lru_.max_bytes() == 0) return;
    if (auto it = lru_.FindIf(same_prefix); it != lru_.end()) {
      lru_.Touch(it);
      if (it->value.logits || logits == nullptr) return;
      lru_.Erase(it);  // replaced below by the same snapshot with its logits
    }
  }
  // Copied outside the lock: a snapshot of a long prompt is megabytes.
  std::shared_ptr<const HybridCache> snap = cache.Clone();
  std::shared_ptr<const std::vector<float>> kept_logits;
  if (logits != nullptr) kept_logits = std::make_shared<const std::vector<float>>(*logits);
  const size_t bytes = snap->state_bytes() + length * sizeof(uint64_t) +
                       (kept_logits ? kept_logits->size() * sizeof(float) : 0);
  std::lock_guard<std::mutex> lock(mu_);
  // Another thread may have stored the same prefix meanwhile.
  if (lru_.FindIf(same_prefix) != lru_.end()) return;
  Entry e{std::vector<uint64_t>(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(length)), std::move(snap),
          std::move(kept_logits)};
  if (lru_.Insert(std::move(e), bytes)) stats_.insertions++;  // not kept when larger than the whole budget
}

PrefixCache::Stats PrefixCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  lru_.FillStats(&s);
  return s;
}

}  // namespace lfm
