#include "base/content_hash.h"

#include <cstring>

namespace lfm {

namespace {

// splitmix64's finaliser: every input bit affects every output bit.
uint64_t Fmix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

}  // namespace

ContentHasher::ContentHasher() : a_(0x9e3779b97f4a7c15ull), b_(0xc2b2ae3d27d4eb4full) {}

// Two lanes with different multipliers and rotations, so the 128 bits are two nearly independent
// 64-bit hashes of the same word stream.
void ContentHasher::Mix(uint64_t w) {
  a_ = Rotl(a_ ^ (w * 0x87c37b91114253d5ull), 31) * 0x4cf5ad432745937full + 0x52dce729;
  b_ = Rotl(b_ ^ (w * 0x4cf5ad432745937full), 27) * 0x87c37b91114253d5ull + 0x38495ab5;
}

void ContentHasher::Update(const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  total_ += n;
  // Finish the pending partial word byte by byte, then whole words, then keep the tail.
  while (n > 0 && pending_n_ != 0) {
    pending_ |= static_cast<uint64_t>(*p++) << (8 * pending_n_);
    --n;
    if (++pending_n_ == 8) {
      Mix(pending_);
      pending_ = 0;
      pending_n_ = 0;
    }
  }
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    Mix(w);
  }
  for (; n > 0; --n) pending_ |= static_cast<uint64_t>(*p++) << (8 * pending_n_++);
}

ContentHash ContentHasher::Finish() const {
  uint64_t a = a_, b = b_;
  // The tail and the length, so "ab" + "" and "a" + "b\0" differ.
  a ^= Fmix(pending_ ^ (total_ * 0x9e3779b97f4a7c15ull));
  b ^= Fmix(pending_ + total_ + 0x632be59bd9b4e019ull);
  a = Fmix(a + b);
  b = Fmix(b ^ a);
  return ContentHash{a, b};
}

ContentHash HashBytes(const void* data, size_t n) {
  ContentHasher h;
  h.Update(data, n);
  return h.Finish();
}

}  // namespace lfm
