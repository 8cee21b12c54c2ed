// A list of values, each with a size in bytes, held under a total byte budget: the least recently used
// go first when a new value needs room. The bookkeeping of the serving caches (engine/prefix_cache.h,
// engine/image_embedding_cache.h), which differ only in what they store and how they look it up.
// Not thread-safe: each cache holds its own mutex around every call (a lookup and the Touch of what it
// found must be one step).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <utility>

namespace lfm {

template <class V>
class ByteLru {
 public:
  struct Item {
    V value;
    size_t bytes = 0;
  };
  using iterator = typename std::list<Item>::iterator;
  using const_iterator = typename std::list<Item>::const_iterator;

  explicit ByteLru(size_t max_bytes = 0) : max_bytes_(max_bytes) {}

  // A smaller budget evicts at once; 0 drops everything (and Insert then keeps nothing).
  void SetMaxBytes(size_t max_bytes) {
    max_bytes_ = max_bytes;
    EvictToFit(max_bytes_);
  }
  size_t max_bytes() const { return max_bytes_; }
  size_t bytes() const { return bytes_; }  // sum of the held items' bytes, never above max_bytes()
  size_t size() const { return items_.size(); }
  uint64_t evictions() const { return evictions_; }  // items dropped to make room or to fit a budget

  // Copies the bookkeeping into a cache's stats struct (any with fields evictions, entries, bytes and
  // max_bytes), so each cache reports its own counters beside it.
  template <class Stats>
  void FillStats(Stats* s) const {
    s->evictions = evictions_;
    s->entries = items_.size();
    s->bytes = bytes_;
    s->max_bytes = max_bytes_;
  }

  // Most recently used first.
  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }

  // The first item (most recently used first) whose value satisfies pred, or end(). Does not Touch it.
  template <class Pred>
  iterator FindIf(Pred pred) {
    for (auto it = items_.begin(); it != items_.end(); ++it)
      if (pred(it->value)) return it;
    return items_.end();
  }

  // Makes it the most recently used; iterators stay valid.
  void Touch(iterator it) { items_.splice(items_.begin(), items_, it); }

  void Erase(iterator it) {
    bytes_ -= it->bytes;
    items_.erase(it);
  }

  // Adds value as the most recently used, first evicting the least recently used until it fits. A value
  // larger than the whole budget is not kept and evicts nothing: returns false.
  bool Insert(V value, size_t bytes) {
    if (bytes > max_bytes_) return false;
    EvictToFit(max_bytes_ - bytes);
    items_.push_front(Item{std::move(value), bytes});
    bytes_ += bytes;
    return true;
  }

 private:
  void EvictToFit(size_t budget) {
    while (!items_.empty() && bytes_ > budget) {
      bytes_ -= items_.back().bytes;
      items_.pop_back();
      evictions_++;
    }
  }

  size_t max_bytes_;
  size_t bytes_ = 0;
  uint64_t evictions_ = 0;
  std::list<Item> items_;
};

}  // namespace lfm
