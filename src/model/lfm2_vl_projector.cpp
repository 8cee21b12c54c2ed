#include "model/lfm2_vl_projector.h"

#include <cstring>
#include <tuple>

#include "kernels/vision_ops.h"

namespace lfm {

namespace {

const char* const kProjectorPrefixes[] = {"model.multi_modal_projector.", "multi_modal_projector."};
// nn.LayerNorm's default; HF builds the projector norm without passing eps.
constexpr float kProjectorLayerNormEps = 1e-5f;

}  // namespace

void PixelUnshuffle(const float* in, int h, int w, int channels, int f, float* out) {
  const size_t C = static_cast<size_t>(channels);
  const int oh = h / f, ow = w / f;
  for (int i = 0; i < oh; ++i) {
    for (int j = 0; j < ow; ++j) {
      float* dst = out + (static_cast<size_t>(i) * ow + j) * C * f * f;
      for (int m = 0; m < f; ++m) {
        for (int k = 0; k < f; ++k) {
          const float* src = in + (static_cast<size_t>(f * i + m) * w + (f * j + k)) * C;
          std::memcpy(dst + (static_cast<size_t>(m) * f + k) * C, src, C * sizeof(float));
        }
      }
    }
  }
}

Result<std::unique_ptr<Lfm2VlProjector>> Lfm2VlProjector::FromWeights(const Lfm2VlVisionConfig& config,
                                                                      std::shared_ptr<const WeightStore> w,
                                                                      const VisionLoadOptions& options) {
  std::unique_ptr<Lfm2VlProjector> p(new Lfm2VlProjector(std::move(w), options.weight_dtype));
  LFM_RETURN_IF_ERROR(p->Init(config));
  return p;
}

Status Lfm2VlProjector::Init(const Lfm2VlVisionConfig& c) {
  config_ = c;
  for (const char* p : kProjectorPrefixes) {
    if (weights_.Has(std::string(p) + "linear_1.weight")) {
      prefix_ = p;
      break;
    }
  }
  const std::string where = weights_.store().description();
  if (prefix_.empty()) {
    return NotFound(where + ": no projector: tensor 'model.multi_modal_projector.linear_1.weight' is missing");
  }
  const int f = c.downsample_factor;
  in_features_ = c.vision.hidden_size * f * f;
  const std::string& p = prefix_;
  LFM_ASSIGN_OR_RETURN(TensorView l1, weights_.store().Get(p + "linear_1.weight"));
  LFM_ASSIGN_OR_RETURN(TensorView l2, weights_.store().Get(p + "linear_2.weight"));
  if (l1.rank() != 2 || l2.rank() != 2) {
    return InvalidArgument(where + ": projector linear_1/linear_2 weights must be matrices, got " +
                           ShapeToString(l1.shape) + " and " + ShapeToString(l2.shape));
  }
  hidden_ = static_cast<int>(l1.shape[0]);
  out_features_ = static_cast<int>(l2.shape[0]);
  if (c.projector_hidden_size > 0 && c.projector_hidden_size != hidden_) {
    // The weights are what the model computes with (facts §1.2: some config copies are wrong), but a
    // silent mismatch usually means the wrong config file, so say which is which.
    return InvalidArgument(where + ": tensor '" + p + "linear_1.weight' has " + std::to_string(hidden_) +
                           " rows but config projector_hidden_size is " + std::to_string(c.projector_hidden_size));
  }
  if (c.text_hidden_size > 0 && c.text_hidden_size != out_features_) {
    return InvalidArgument(where + ": tensor '" + p + "linear_2.weight' has " + std::to_string(out_features_) +
                           " rows but text_config.hidden_size is " + std::to_string(c.text_hidden_size));
  }
  LFM_ASSIGN_OR_RETURN(linear_1_, weights_.Packed({p + "linear_1.weight"}, {hidden_}, in_features_));
  LFM_ASSIGN_OR_RETURN(linear_2_, weights_.Packed({p + "linear_2.weight"}, {out_features_}, hidden_));
  // Biases: used when stored (the weights decide, as for the LayerNorm); projector_bias=true makes
  // them mandatory, so a checkpoint that lost them is an error rather than a silent zero.
  const std::tuple<const char*, int, std::vector<float>*> biases[] = {{"linear_1.bias", hidden_, &b1_},
                                                                      {"linear_2.bias", out_features_, &b2_}};
  for (const auto& [name, rows, dst] : biases) {
    if (weights_.Has(p + name)) {
      LFM_ASSIGN_OR_RETURN(*dst, weights_.Vector(p + name, {rows}));
    } else if (c.projector_bias) {
      return NotFound(where + ": tensor '" + p + name + "' is missing but config projector_bias is true");
    } else {
      dst->assign(rows, 0.0f);
    }
  }
  if (weights_.Has(p + "layer_norm.weight")) {
    LFM_ASSIGN_OR_RETURN(ln_w_, weights_.Vector(p + "layer_norm.weight", {in_features_}));
    LFM_ASSIGN_OR_RETURN(ln_b_, weights_.Vector(p + "layer_norm.bias", {in_features_}));
  }
  return Status::Ok();
}

Status Lfm2VlProjector::Forward(const float* tower_out, int patches_h, int patches_w, std::vector<float>* out) const {
  const int f = config_.downsample_factor;
  if (patches_h <= 0 || patches_w <= 0 || patches_h % f != 0 || patches_w % f != 0) {
    return InvalidArgument("projector: patch grid " + std::to_string(patches_h) + "x" + std::to_string(patches_w) +
                           " is not a positive multiple of downsample_factor " + std::to_string(f));
  }
  const int64_t n = static_cast<int64_t>(patches_h / f) * (patches_w / f);
  std::vector<float> z(n * in_features_);
  PixelUnshuffle(tower_out, patches_h, patches_w, config_.vision.hidden_size, f, z.data());
  if (has_layer_norm()) {
    LayerNormRows(z.data(), n, in_features_, ln_w_.data(), ln_b_.data(), kProjectorLayerNormEps, z.data());
  }
  std::vector<float> h(n * hidden_);
  GemmPacked(linear_1_, z.data(), n, in_features_, nullptr, h.data(), hidden_);
  if (config_.projector_hidden_act == VisionActivation::kGeluErf) {
    BiasGeluErfRows(h.data(), n, hidden_, b1_.data());
  } else {
    BiasGeluTanhRows(h.data(), n, hidden_, b1_.data());
  }
  out->resize(n * out_features_);
  GemmPacked(linear_2_, h.data(), n, hidden_, b2_.data(), out->data(), out_features_);
  peak_scratch_.Raise(CapacityBytes(z) + CapacityBytes(h) + CapacityBytes(*out));
  return Status::Ok();
}

}  // namespace lfm
