#include "model/hybrid_cache.h"

#include <algorithm>

namespace lfm {

const char* KvTypeName(KvType t) { return t == KvType::kBF16 ? "bf16" : "f32"; }

std::optional<KvType> ParseKvType(std::string_view name) {
  if (name == "f32") return KvType::kF32;
  if (name == "bf16") return KvType::kBF16;
  return std::nullopt;
}

HybridCache::HybridCache(const Lfm2Config& c, int max_context, KvType kv_type)
    : max_context_(max_context),
      kv_dim_(c.num_key_value_heads * c.head_dim),
      hidden_(c.hidden_size),
      kv_type_(kv_type) {
  layers_.resize(c.num_hidden_layers);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    layers_[l].attention = c.is_attention(l);
    if (!layers_[l].attention) layers_[l].conv.assign(static_cast<size_t>(c.conv_L_cache - 1) * hidden_, 0.0f);
  }
}

void HybridCache::Clear() {
  n_past_ = 0;
  for (auto& l : layers_) std::fill(l.conv.begin(), l.conv.end(), 0.0f);
}

void HybridCache::Reserve(int n_total) {
  if (n_total <= capacity_) return;
  // Grow geometrically (amortised O(1) per token), never past the configured context.
  int cap = std::max({n_total, 2 * capacity_, 64});
  cap = std::min(cap, std::max(n_total, max_context_));
  const size_t n = static_cast<size_t>(cap) * kv_dim_;
  for (auto& l : layers_) {
    if (!l.attention) continue;
    if (kv_type_ == KvType::kBF16) {
      l.kb.resize(n);
      l.vb.resize(n);
    } else {
      l.k.resize(n);
      l.v.resize(n);
    }
  }
  capacity_ = cap;
}

std::unique_ptr<HybridCache> HybridCache::Clone() const {
  // Built field by field rather than copy-constructed: a copy would first duplicate the whole KV
  // capacity and the scratch, which a snapshot kept in a prefix cache must not pay for.
  std::unique_ptr<HybridCache> c(new HybridCache());
  c->n_past_ = n_past_;
  c->capacity_ = n_past_;
  c->max_context_ = max_context_;
  c->kv_dim_ = kv_dim_;
  c->hidden_ = hidden_;
  c->kv_type_ = kv_type_;
  c->layers_.resize(layers_.size());
  const size_t used = static_cast<size_t>(n_past_) * kv_dim_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& d = c->layers_[i];
    const Layer& s = layers_[i];
    d.attention = s.attention;
    d.conv = s.conv;
    if (!s.attention || used == 0) continue;
    if (kv_type_ == KvType::kBF16) {
      d.kb.assign(s.kb.begin(), s.kb.begin() + static_cast<std::ptrdiff_t>(used));
      d.vb.assign(s.vb.begin(), s.vb.begin() + static_cast<std::ptrdiff_t>(used));
    } else {
      d.k.assign(s.k.begin(), s.k.begin() + static_cast<std::ptrdiff_t>(used));
      d.v.assign(s.v.begin(), s.v.begin() + static_cast<std::ptrdiff_t>(used));
    }
  }
  return c;
}

size_t HybridCache::state_bytes() const {
  size_t n = 0;
  for (const auto& l : layers_) {
    n += (l.conv.capacity() + l.k.capacity() + l.v.capacity()) * sizeof(float);
    n += (l.kb.capacity() + l.vb.capacity()) * sizeof(uint16_t);
  }
  return n;
}

Status HybridCache::RestoreFrom(const HybridCache& s) {
  if (s.layers_.size() != layers_.size() || s.kv_dim_ != kv_dim_ || s.hidden_ != hidden_) {
    return InvalidArgument("HybridCache::RestoreFrom: snapshot belongs to a different model");
  }
  if (s.kv_type_ != kv_type_) {
    return InvalidArgument(std::string("HybridCache::RestoreFrom: snapshot holds ") + KvTypeName(s.kv_type_) +
                           " keys/values but this cache stores " + KvTypeName(kv_type_));
  }
  Reserve(s.n_past_);
  const auto used = static_cast<std::ptrdiff_t>(s.n_past_) * kv_dim_;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i].conv = s.layers_[i].conv;
    if (!layers_[i].attention || used == 0) continue;
    const Layer& src = s.layers_[i];
    Layer& dst = layers_[i];
    if (kv_type_ == KvType::kBF16) {
      std::copy(src.kb.begin(), src.kb.begin() + used, dst.kb.begin());
      std::copy(src.vb.begin(), src.vb.begin() + used, dst.vb.begin());
    } else {
      std::copy(src.k.begin(), src.k.begin() + used, dst.k.begin());
      std::copy(src.v.begin(), src.v.begin() + used, dst.v.begin());
    }
  }
  n_past_ = s.n_past_;
  return Status::Ok();
}

Status HybridCache::Truncate(int n) {
  if (n < 0 || n > n_past_) {
    return OutOfRange("HybridCache::Truncate(" + std::to_string(n) + "): cache holds " + std::to_string(n_past_) +
                      " positions");
  }
  if (n == n_past_) return Status::Ok();
  for (const auto& l : layers_) {
    if (!l.attention) {
      return Unsupported("HybridCache::Truncate: conv layers cannot be rewound; restore a snapshot instead");
    }
  }
  n_past_ = n;
  return Status::Ok();
}

size_t HybridCache::scratch_bytes() const {
  size_t n = 0;
  for (const auto& s : scratch_) n += s.capacity() * sizeof(float);
  return n;
}

}  // namespace lfm
