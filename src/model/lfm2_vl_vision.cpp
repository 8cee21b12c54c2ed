#include "model/lfm2_vl_vision.h"

namespace lfm {

Result<std::unique_ptr<Lfm2VlVision>> Lfm2VlVision::Load(const std::string& model_dir,
                                                         const VisionLoadOptions& options) {
  LFM_ASSIGN_OR_RETURN(Lfm2VlVisionConfig config, LoadLfm2VlVisionConfig(model_dir + "/config.json"));
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<WeightStore> store, WeightStore::OpenDirectory(model_dir));
  return FromWeights(config, std::shared_ptr<const WeightStore>(std::move(store)), options);
}

Result<std::unique_ptr<Lfm2VlVision>> Lfm2VlVision::FromWeights(const Lfm2VlVisionConfig& config,
                                                                std::shared_ptr<const WeightStore> weights,
                                                                const VisionLoadOptions& options) {
  std::unique_ptr<Lfm2VlVision> v(new Lfm2VlVision());
  v->config_ = config;
  LFM_ASSIGN_OR_RETURN(v->tower_, Siglip2VisionTower::FromWeights(config.vision, weights, options));
  LFM_ASSIGN_OR_RETURN(v->projector_, Lfm2VlProjector::FromWeights(config, weights, options));
  return v;
}

Status Lfm2VlVision::EncodeCrop(const float* pixel_values, int patches_h, int patches_w,
                                std::vector<float>* image_embeddings) const {
  const int f = downsample_factor();
  if (patches_h <= 0 || patches_w <= 0 || patches_h % f != 0 || patches_w % f != 0) {
    return InvalidArgument("EncodeCrop: patch grid " + std::to_string(patches_h) + "x" + std::to_string(patches_w) +
                           " is not a positive multiple of downsample_factor " + std::to_string(f));
  }
  if (image_embeddings == nullptr) return InvalidArgument("EncodeCrop: null output");
  std::vector<float> hidden;
  LFM_RETURN_IF_ERROR(tower_->Forward(pixel_values, patches_h, patches_w, &hidden));
  return projector_->Forward(hidden.data(), patches_h, patches_w, image_embeddings);
}

}  // namespace lfm
