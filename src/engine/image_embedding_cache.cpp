#include "engine/image_embedding_cache.h"

namespace lfm {

void ImageEmbeddingCache::SetMaxBytes(size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  lru_.SetMaxBytes(max_bytes);
}

bool ImageEmbeddingCache::enabled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lru_.max_bytes() > 0;
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
  if (lru_.max_bytes() == 0) return nullptr;
  const auto it = lru_.FindIf([&](const Entry& e) { return e.key == key; });
  if (it == lru_.end()) {
    stats_.misses++;
    return nullptr;
  }
  lru_.Touch(it);
  stats_.hits++;
  return it->value.rows;
}

void ImageEmbeddingCache::Insert(const ContentHash& key, std::vector<float> rows) {
  const size_t bytes = rows.size() * sizeof(float);
  auto shared = std::make_shared<const std::vector<float>>(std::move(rows));
  std::lock_guard<std::mutex> lock(mu_);
  // Another request may have encoded the same image meanwhile.
  if (lru_.FindIf([&](const Entry& e) { return e.key == key; }) != lru_.end()) return;
  lru_.Insert(Entry{key, std::move(shared)}, bytes);  // not kept when larger than the whole budget
}

ImageEmbeddingCache::Stats ImageEmbeddingCache::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  lru_.FillStats(&s);
  return s;
}

}  // namespace lfm
