// Per-sequence decoder state of the LFM2 hybrid: for each conv layer the last L_cache-1 gated
// inputs (B*x) of its short convolution, for each attention layer the keys and values of every
// position so far. Layers keep their real (sparse) indices. Also holds the forward pass's scratch
// buffers so decoding allocates nothing per token once warmed up.
// Keys and values are stored as f32 or, with KvType::kBF16, as bf16 bits rounded to nearest even on
// write (half the memory and half the bytes decode attention reads per position).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lfm/status.h"
#include "model/lfm2_config.h"

namespace lfm {

enum class KvType { kF32, kBF16 };
const char* KvTypeName(KvType t);  // "f32", "bf16"
std::optional<KvType> ParseKvType(std::string_view name);
inline int KvTypeBytes(KvType t) { return t == KvType::kBF16 ? 2 : 4; }

class HybridCache {
 public:
  HybridCache(const Lfm2Config& config, int max_context, KvType kv_type = KvType::kF32);

  // Positions already processed; the next token goes at position n_past().
  int n_past() const { return n_past_; }
  int max_context() const { return max_context_; }
  // Forget the sequence (positions restart at 0); keeps allocated memory.
  void Clear();
  // A deep copy of the state (a snapshot to return to later, e.g. after a shared prompt prefix).
  // Compact: keys and values only for the n_past() positions held, no scratch.
  std::unique_ptr<HybridCache> Clone() const;
  // Bytes of state held (conv states and the allocated keys/values), without the scratch.
  size_t state_bytes() const;
  // Restores a snapshot taken with Clone() from a cache of the same model and KV type.
  Status RestoreFrom(const HybridCache& snapshot);
  // Drops positions >= n from the attention layers. The conv state cannot be rewound, so this only
  // succeeds when the model has no conv layers or n == n_past(); otherwise Unsupported.
  Status Truncate(int n);

  // --- used by Lfm2Model ---
  int num_layers() const { return static_cast<int>(layers_.size()); }
  bool is_attention(int layer) const { return layers_[layer].attention; }
  // [L_cache - 1, hidden], oldest first.
  float* conv_state(int layer) { return layers_[layer].conv.data(); }
  KvType kv_type() const { return kv_type_; }
  // [capacity, kv_dim], row = position: f32 when kv_type() is kF32 (else null) ...
  float* keys(int layer) { return layers_[layer].k.data(); }
  float* values(int layer) { return layers_[layer].v.data(); }
  // ... and bf16 bits when it is kBF16 (else null).
  uint16_t* keys_bf16(int layer) { return layers_[layer].kb.data(); }
  uint16_t* values_bf16(int layer) { return layers_[layer].vb.data(); }
  int kv_dim() const { return kv_dim_; }
  int hidden() const { return hidden_; }
  // Makes room for positions [0, n_total); n_total must be <= max_context().
  void Reserve(int n_total);
  void Advance(int n) { n_past_ += n; }

  // Scratch, grown on demand and reused across calls.
  std::vector<float>& scratch(int i) { return scratch_[i]; }
  static constexpr int kNumScratch = 10;
  // Bytes the scratch buffers hold now (bounded by the model's ubatch, not by the prompt length).
  size_t scratch_bytes() const;

 private:
  HybridCache() = default;  // for Clone()
  struct Layer {
    bool attention = false;
    std::vector<float> conv;
    std::vector<float> k, v;          // KvType::kF32
    std::vector<uint16_t> kb, vb;     // KvType::kBF16
  };
  std::vector<Layer> layers_;
  int n_past_ = 0;
  int capacity_ = 0;
  int max_context_ = 0;
  int kv_dim_ = 0;
  int hidden_ = 0;
  KvType kv_type_ = KvType::kF32;
  std::vector<float> scratch_[kNumScratch];
};

}  // namespace lfm
