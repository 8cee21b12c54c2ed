// The SigLIP2 NaFlex vision tower as LFM2-VL uses it (HF Siglip2VisionTransformer, facts §3):
// linear patch embedding + the learned position grid resized to the crop, pre-LN encoder layers
// (bidirectional attention over the crop's real patches, tanh-GELU MLP), post_layernorm; no pooling
// head. Weights: "<prefix>embeddings.*", "<prefix>encoder.layers.N.*", "<prefix>post_layernorm.*"
// with prefix "model.vision_tower.vision_model." (or without the inner "vision_model.", or without
// the leading "model.").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/peak_bytes.h"
#include "kernels/vision_gemm.h"
#include "lfm/status.h"
#include "model/lfm2_vl_config.h"
#include "model/vision_weights.h"
#include "tensor/tensor_view.h"
#include "weights/weight_store.h"

namespace lfm {

class Siglip2VisionTower {
 public:
  static Result<std::unique_ptr<Siglip2VisionTower>> FromWeights(const Siglip2VisionConfig& config,
                                                                 std::shared_ptr<const WeightStore> weights,
                                                                 const VisionLoadOptions& options = {});

  const Siglip2VisionConfig& config() const { return config_; }
  const std::string& weight_prefix() const { return prefix_; }
  // Bytes of matrix weights (as used), for figures.
  int64_t weight_bytes() const { return weight_bytes_; }
  // Everything held in memory: the matrices plus biases, norms and the position table (f32).
  int64_t resident_weight_bytes() const;
  // Whether attention is asked to run in bf16 (VisionLoadOptions::bf16_attention and 16-bit matrices;
  // the kernel still keeps f32 where the CPU lacks AVX512_BF16).
  bool bf16_attention() const { return bf16_attention_; }

  // One crop of patches_h x patches_w patches. pixel_values: the crop's h*w real patch rows of
  // patch_dim() floats, row-major over the patch grid, each row in (dy, dx, channel) order. Rows
  // past h*w (HF's zero padding) are not read: padded patches are masked as keys, so they cannot
  // change the real rows, and LFM2-VL drops their outputs. out: [h*w, hidden] last_hidden_state.
  // Thread-safe (const; scratch is per call).
  Status Forward(const float* pixel_values, int patches_h, int patches_w, std::vector<float>* out) const;

  // One crop's input to ForwardBatch (pixel_values as in Forward).
  struct Crop {
    const float* pixel_values = nullptr;
    int patches_h = 0, patches_w = 0;
  };
  // Several crops (the tiles and thumbnail of one image) through the tower together: every layer
  // runs its matrix products once over all crops' patches (each weight is read once per layer for
  // the batch instead of once per crop), while attention stays within each crop. out: the crops'
  // last_hidden_state rows one after another, [sum h*w, hidden]; equal to Forward per crop up to
  // float rounding. At most kMaxBatchPatches patches in all.
  static constexpr int64_t kMaxBatchPatches = 65536;
  Status ForwardBatch(const std::vector<Crop>& crops, std::vector<float>* out) const;
  // The most bytes of activation buffers one Forward / ForwardBatch call has held so far (out
  // included; the GEMM's per-thread buffers are kernel workspace, counted apart).
  int64_t peak_scratch_bytes() const { return peak_scratch_.value(); }

 private:
  struct Layer {
    std::vector<float> ln1_w, ln1_b, ln2_w, ln2_b;
    PackedGemmMatrix qkv, o, fc1, fc2;  // q, k, v stacked: one [3D, D] product
    std::vector<float> qkv_b, o_b, fc1_b, fc2_b;
  };

  explicit Siglip2VisionTower(std::shared_ptr<const WeightStore> w, const VisionLoadOptions& o)
      : weights_(std::move(w), o.weight_dtype), bf16_attention_option_(o.bf16_attention) {}
  Status Init(const Siglip2VisionConfig& config);

  Siglip2VisionConfig config_;
  VisionWeights weights_;
  std::string prefix_;
  int grid_ = 16;  // the position table is grid_ x grid_
  PackedGemmMatrix patch_w_;
  std::vector<float> patch_b_, position_, post_w_, post_b_;
  std::vector<Layer> layers_;
  mutable PeakBytes peak_scratch_;
  int64_t weight_bytes_ = 0;
  bool bf16_attention_option_ = true;
  bool bf16_attention_ = false;  // the option, and the matrices are bf16
};

}  // namespace lfm
