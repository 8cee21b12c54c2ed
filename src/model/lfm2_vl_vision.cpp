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
  return EncodeCrops({Siglip2VisionTower::Crop{pixel_values, patches_h, patches_w}}, image_embeddings);
}

Status Lfm2VlVision::EncodeCrops(const std::vector<Siglip2VisionTower::Crop>& crops,
                                 std::vector<float>* image_embeddings) const {
  const int f = downsample_factor();
  for (const auto& c : crops) {
    if (c.patches_h <= 0 || c.patches_w <= 0 || c.patches_h % f != 0 || c.patches_w % f != 0) {
      return InvalidArgument("EncodeCrop: patch grid " + std::to_string(c.patches_h) + "x" +
                             std::to_string(c.patches_w) + " is not a positive multiple of downsample_factor " +
                             std::to_string(f));
    }
  }
  if (image_embeddings == nullptr) return InvalidArgument("EncodeCrop: null output");
  std::vector<float> hidden, rows;
  LFM_RETURN_IF_ERROR(tower_->ForwardBatch(crops, &hidden));
  image_embeddings->clear();
  const int64_t D = config_.vision.hidden_size;
  int64_t row = 0;
  for (const auto& c : crops) {
    LFM_RETURN_IF_ERROR(projector_->Forward(hidden.data() + row * D, c.patches_h, c.patches_w,
                                            crops.size() == 1 ? image_embeddings : &rows));
    if (crops.size() > 1) image_embeddings->insert(image_embeddings->end(), rows.begin(), rows.end());
    row += static_cast<int64_t>(c.patches_h) * c.patches_w;
  }
  peak_rows_.Raise(CapacityBytes(rows) + CapacityBytes(*image_embeddings));
  return Status::Ok();
}

}  // namespace lfm
