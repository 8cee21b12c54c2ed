// The LFM2-VL multi-modal projector (HF Lfm2VlMultiModalProjector, facts §3.5): pixel-unshuffle of
// the tower's patch grid by downsample_factor f, an optional LayerNorm (present iff the checkpoint
// has "multi_modal_projector.layer_norm.weight"; eps 1e-5), then linear_1 -> GELU -> linear_2
// (biases when stored). Sizes come from the weight shapes: linear_1 [P, hidden*f*f], linear_2 [D_text, P].
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

// in: grid [h][w] of `channels` floats (row-major); out: grid [h/f][w/f] of channels*f*f floats with
//   out[i][j][(m*f + k)*channels + c] = in[f*i + m][f*j + k][c]
// (row offset outer, column offset inner, whole vectors). h and w must be multiples of f.
void PixelUnshuffle(const float* in, int h, int w, int channels, int factor, float* out);

class Lfm2VlProjector {
 public:
  static Result<std::unique_ptr<Lfm2VlProjector>> FromWeights(const Lfm2VlVisionConfig& config,
                                                              std::shared_ptr<const WeightStore> weights,
                                                              const VisionLoadOptions& options = {});

  int in_features() const { return in_features_; }    // vision hidden * f * f
  int hidden_size() const { return hidden_; }         // linear_1 rows
  int out_features() const { return out_features_; }  // = text hidden size
  bool has_layer_norm() const { return !ln_w_.empty(); }
  const std::string& weight_prefix() const { return prefix_; }
  int64_t weight_bytes() const { return linear_1_.nbytes() + linear_2_.nbytes(); }
  int64_t resident_weight_bytes() const {
    return weight_bytes() +
           static_cast<int64_t>((ln_w_.size() + ln_b_.size() + b1_.size() + b2_.size()) * sizeof(float));
  }

  // tower_out: [h*w, vision hidden] for one crop; out: [(h/f)*(w/f), out_features()].
  Status Forward(const float* tower_out, int patches_h, int patches_w, std::vector<float>* out) const;
  // The most bytes of buffers one Forward call has held so far (out included).
  int64_t peak_scratch_bytes() const { return peak_scratch_.value(); }

 private:
  explicit Lfm2VlProjector(std::shared_ptr<const WeightStore> w, DType want) : weights_(std::move(w), want) {}
  Status Init(const Lfm2VlVisionConfig& config);

  Lfm2VlVisionConfig config_;
  VisionWeights weights_;
  std::string prefix_;
  int in_features_ = 0, hidden_ = 0, out_features_ = 0;
  std::vector<float> ln_w_, ln_b_, b1_, b2_;
  PackedGemmMatrix linear_1_, linear_2_;
  mutable PeakBytes peak_scratch_;
};

}  // namespace lfm
