#include "engine/image_embedding_cache.h"

namespace lfm {

void ImageEmbeddingCache::SetMaxBytes(size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  max_bytes_ = max_bytes;
  EvictToFit(max_bytes_);
}

bool ImageEmbeddingCache::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_bytes_ > 0;
}

ContentHash ImageEmbeddingCache::KeyOf(const PreprocessedImage& image) {
  ContentHasher h;
  h.UpdateValue(image.rows);
  h.UpdateValue(image.cols);
  h.UpdateValue(static_cast<int>(image.thumbnail));
  h.UpdateValue(image.image_tokens);
  for (const auto& c : image.crops) {
    h.UpdateValue(c.patches_h);
    h.UpdateValue(c.patches_w);
    h.UpdateValue(c.tokens);
    h.UpdateValue(c.pixel_values.size());
    h.Update(c.pixel_values.data(), c.pixel_values.size() * sizeof(float));
    h.UpdateValue(c.attention_mask.size());
    h.Update(c.attention_mask.data(), c.attention_mask.size() * sizeof(int32_t));
  }
  return h.Finish();
}

std::shared_ptr<const std::vector<float>> ImageEmbeddingCache::Find(const ContentHash& key) {
  std::lock_guard<std::mutex> lock(mu_);
  if (max_bytes_ == 0) return nullptr;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key != key) continue;
    entries_.splice(entries_.begin(), entries_, it);
    stats_.hits++;
    return it->rows;
  }
  stats_.misses++;
  return nullptr;
}

void ImageEmbeddingCache::Insert(const ContentHash& key, std::vector<float> rows) {
  const size_t bytes = rows.size() * sizeof(float);
  auto shared = std::make_shared<const std::vector<float>>(std::move(rows));
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > max_bytes_) return;
  for (const auto& e : entries_)
    if (e.key == key) return;  // another request encoded the same image meanwhile
  EvictToFit(max_bytes_ - bytes);
  entries_.push_front(Entry{key, std::move(shared), bytes});
  stats_.bytes += bytes;
}

void ImageEmbeddingCache::EvictToFit(size_t budget) {
  while (!entries_.empty() && stats_.bytes > budget) {
    stats_.bytes -= entries_.back().bytes;
    entries_.pop_back();
    stats_.evictions++;
  }
}

ImageEmbeddingCache::Stats ImageEmbeddingCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.entries = entries_.size();
  s.max_bytes = max_bytes_;
  return s;
}

}  // namespace lfm
