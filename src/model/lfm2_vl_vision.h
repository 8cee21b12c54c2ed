// The image side of LFM2-VL: SigLIP2 NaFlex tower + multi-modal projector. One call turns one crop
// (tile, thumbnail or single image) of preprocessed patches into the rows that replace that crop's
// <image> tokens in the text embedding sequence (facts §3.6: crops in processor order).
//
// Sharing weights with the text model (one mapping of model.safetensors):
//   Lfm2Config text = LoadLfm2Config(dir + "/config.json");
//   std::shared_ptr<const WeightStore> store = WeightStore::OpenDirectory(dir);
//   Lfm2Model::FromWeights(text, store);
//   Lfm2VlVision::FromWeights(ParseLfm2VlVisionConfig(text.vl_config_json, dir + "/config.json"), store);
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lfm/status.h"
#include "model/lfm2_vl_config.h"
#include "model/lfm2_vl_projector.h"
#include "model/siglip2_vision.h"
#include "model/vision_weights.h"
#include "weights/weight_store.h"

namespace lfm {

class Lfm2VlVision {
 public:
  // model_dir holds config.json (with vision_config) and model.safetensors (or a sharded index).
  static Result<std::unique_ptr<Lfm2VlVision>> Load(const std::string& model_dir,
                                                    const VisionLoadOptions& options = {});
  static Result<std::unique_ptr<Lfm2VlVision>> FromWeights(const Lfm2VlVisionConfig& config,
                                                           std::shared_ptr<const WeightStore> weights,
                                                           const VisionLoadOptions& options = {});

  const Lfm2VlVisionConfig& config() const { return config_; }
  int text_hidden() const { return projector_->out_features(); }
  int patch_size() const { return config_.vision.patch_size; }
  int patch_dim() const { return config_.vision.patch_dim(); }  // 3 * patch_size^2 = 768
  int downsample_factor() const { return config_.downsample_factor; }
  // Image tokens (= embedding rows) one crop of patches_h x patches_w patches produces.
  int TokensForCrop(int patches_h, int patches_w) const {
    return (patches_h / downsample_factor()) * (patches_w / downsample_factor());
  }
  const Siglip2VisionTower& tower() const { return *tower_; }
  const Lfm2VlProjector& projector() const { return *projector_; }
  int64_t weight_bytes() const { return tower_->weight_bytes() + projector_->weight_bytes(); }
  int64_t resident_weight_bytes() const {
    return tower_->resident_weight_bytes() + projector_->resident_weight_bytes();
  }

  // One crop. pixel_values: at least patches_h*patches_w rows of patch_dim() floats (HF's padded
  // [max_num_patches, 768] tensor works as is: only the first patches_h*patches_w rows are read),
  // patch order row-major, each row (dy, dx, channel). patches_h and patches_w must be multiples of
  // downsample_factor(). image_embeddings: [TokensForCrop(h, w), text_hidden()], row-major.
  // Const and thread-safe; uses DefaultThreadPool() internally.
  Status EncodeCrop(const float* pixel_values, int patches_h, int patches_w,
                    std::vector<float>* image_embeddings) const;
  // Several crops at once (e.g. the tiles and thumbnail of one image): the tower runs them as one
  // batch (Siglip2VisionTower::ForwardBatch: each weight read once per layer for all of them),
  // the projector crop by crop. image_embeddings: the crops' rows one after another, equal to
  // EncodeCrop per crop up to float rounding.
  Status EncodeCrops(const std::vector<Siglip2VisionTower::Crop>& crops, std::vector<float>* image_embeddings) const;
  // The most scratch bytes encoding has held so far: the tower's and the projector's peaks plus the
  // embeddings gathered here (their peaks need not coincide, so this errs high by the projector's few MB).
  int64_t peak_scratch_bytes() const {
    return tower_->peak_scratch_bytes() + projector_->peak_scratch_bytes() + peak_rows_.value();
  }

 private:
  Lfm2VlVision() = default;

  Lfm2VlVisionConfig config_;
  std::unique_ptr<Siglip2VisionTower> tower_;
  std::unique_ptr<Lfm2VlProjector> projector_;
  mutable PeakBytes peak_rows_;
};

}  // namespace lfm
