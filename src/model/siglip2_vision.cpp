#include "model/siglip2_vision.h"

#include <algorithm>
#include <cmath>

#include "kernels/vision_ops.h"
#include "model/siglip2_position.h"

namespace lfm {

namespace {

// Exports differ in how they nest the tower (facts §8); the first prefix that holds the patch
// embedding wins.
const char* const kTowerPrefixes[] = {"model.vision_tower.vision_model.", "model.vision_tower.",
                                      "vision_tower.vision_model.", "vision_tower."};

// x += y over [rows, d] (the residual add after a projection).
void AddInPlaceRows(const float* y, int64_t rows, int64_t d, float* x) {
  const int64_t total = rows * d;
  for (int64_t i = 0; i < total; ++i) x[i] += y[i];
}

}  // namespace

Result<std::unique_ptr<Siglip2VisionTower>> Siglip2VisionTower::FromWeights(const Siglip2VisionConfig& config,
                                                                            std::shared_ptr<const WeightStore> w,
                                                                            const VisionLoadOptions& options) {
  std::unique_ptr<Siglip2VisionTower> t(new Siglip2VisionTower(std::move(w), options));
  LFM_RETURN_IF_ERROR(t->Init(config));
  return t;
}

Status Siglip2VisionTower::Init(const Siglip2VisionConfig& c) {
  config_ = c;
  for (const char* p : kTowerPrefixes) {
    if (weights_.Has(std::string(p) + "embeddings.patch_embedding.weight")) {
      prefix_ = p;
      break;
    }
  }
  if (prefix_.empty()) {
    return NotFound(weights_.store().description() +
                    ": no vision tower: tensor 'model.vision_tower.vision_model.embeddings.patch_embedding.weight' "
                    "(or a variant without 'model.' / 'vision_model.') is missing");
  }
  const std::string& p = prefix_;
  const int64_t D = c.hidden_size, F = c.intermediate_size;
  grid_ = static_cast<int>(std::lround(std::sqrt(static_cast<double>(c.num_patches))));

  LFM_ASSIGN_OR_RETURN(patch_w_, weights_.Packed({p + "embeddings.patch_embedding.weight"}, {D}, c.patch_dim()));
  LFM_ASSIGN_OR_RETURN(patch_b_, weights_.Vector(p + "embeddings.patch_embedding.bias", {D}));
  LFM_ASSIGN_OR_RETURN(position_, weights_.Vector(p + "embeddings.position_embedding.weight", {c.num_patches, D}));
  LFM_ASSIGN_OR_RETURN(post_w_, weights_.Vector(p + "post_layernorm.weight", {D}));
  LFM_ASSIGN_OR_RETURN(post_b_, weights_.Vector(p + "post_layernorm.bias", {D}));
  weight_bytes_ = patch_w_.nbytes();

  layers_.resize(c.num_hidden_layers);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    Layer& L = layers_[l];
    const std::string lp = p + "encoder.layers." + std::to_string(l) + ".";
    LFM_ASSIGN_OR_RETURN(L.ln1_w, weights_.Vector(lp + "layer_norm1.weight", {D}));
    LFM_ASSIGN_OR_RETURN(L.ln1_b, weights_.Vector(lp + "layer_norm1.bias", {D}));
    LFM_ASSIGN_OR_RETURN(L.ln2_w, weights_.Vector(lp + "layer_norm2.weight", {D}));
    LFM_ASSIGN_OR_RETURN(L.ln2_b, weights_.Vector(lp + "layer_norm2.bias", {D}));
    const std::string ap = lp + "self_attn.";
    LFM_ASSIGN_OR_RETURN(L.qkv, weights_.Packed({ap + "q_proj.weight", ap + "k_proj.weight", ap + "v_proj.weight"},
                                                {D, D, D}, D));
    LFM_ASSIGN_OR_RETURN(L.o, weights_.Packed({ap + "out_proj.weight"}, {D}, D));
    for (const char* name : {"q_proj.bias", "k_proj.bias", "v_proj.bias"}) {
      LFM_ASSIGN_OR_RETURN(std::vector<float> b, weights_.Vector(ap + name, {D}));
      L.qkv_b.insert(L.qkv_b.end(), b.begin(), b.end());
    }
    LFM_ASSIGN_OR_RETURN(L.o_b, weights_.Vector(ap + "out_proj.bias", {D}));
    LFM_ASSIGN_OR_RETURN(L.fc1, weights_.Packed({lp + "mlp.fc1.weight"}, {F}, D));
    LFM_ASSIGN_OR_RETURN(L.fc2, weights_.Packed({lp + "mlp.fc2.weight"}, {D}, F));
    LFM_ASSIGN_OR_RETURN(L.fc1_b, weights_.Vector(lp + "mlp.fc1.bias", {F}));
    LFM_ASSIGN_OR_RETURN(L.fc2_b, weights_.Vector(lp + "mlp.fc2.bias", {D}));
    weight_bytes_ += L.qkv.nbytes() + L.o.nbytes() + L.fc1.nbytes() + L.fc2.nbytes();
  }
  // 16-bit matrices (bf16 panels, or fp16 ones under PackedMath::kFp16) already cost more accuracy
  // than bf16 attention adds (vision_embed_test); f32 weights ask for f32 math throughout.
  bf16_attention_ = bf16_attention_option_ && patch_w_.dtype() != DType::kF32 &&
                    (layers_.empty() || layers_[0].qkv.dtype() != DType::kF32);
  return Status::Ok();
}

int64_t Siglip2VisionTower::resident_weight_bytes() const {
  auto floats = [](const std::vector<float>& v) { return static_cast<int64_t>(v.size() * sizeof(float)); };
  int64_t n = weight_bytes_ + floats(patch_b_) + floats(position_) + floats(post_w_) + floats(post_b_);
  for (const Layer& L : layers_) {
    for (const auto* v : {&L.ln1_w, &L.ln1_b, &L.ln2_w, &L.ln2_b, &L.qkv_b, &L.o_b, &L.fc1_b, &L.fc2_b})
      n += floats(*v);
  }
  return n;
}

Status Siglip2VisionTower::Forward(const float* pixel_values, int patches_h, int patches_w,
                                   std::vector<float>* out) const {
  return ForwardBatch({Crop{pixel_values, patches_h, patches_w}}, out);
}

Status Siglip2VisionTower::ForwardBatch(const std::vector<Crop>& crops, std::vector<float>* out) const {
  const Siglip2VisionConfig& c = config_;
  if (out == nullptr) return InvalidArgument("vision tower: null out");
  if (crops.empty()) return InvalidArgument("vision tower: no crops");
  // Row offset of each crop in the batch; 64K patches = a 4096x4096-pixel crop, far past anything the
  // processor emits (1024 per crop).
  std::vector<int64_t> start(crops.size() + 1, 0);
  for (size_t i = 0; i < crops.size(); ++i) {
    const Crop& cr = crops[i];
    if (cr.patches_h <= 0 || cr.patches_w <= 0 || static_cast<int64_t>(cr.patches_h) * cr.patches_w > 65536) {
      return InvalidArgument("vision tower: patch grid " + std::to_string(cr.patches_h) + "x" +
                             std::to_string(cr.patches_w) + " is empty or larger than 65536 patches");
    }
    if (cr.pixel_values == nullptr) return InvalidArgument("vision tower: null pixel_values");
    start[i + 1] = start[i] + static_cast<int64_t>(cr.patches_h) * cr.patches_w;
    if (start[i + 1] > kMaxBatchPatches) {
      return InvalidArgument("vision tower: a batch of crops holds more than " + std::to_string(kMaxBatchPatches) +
                             " patches");
    }
  }
  const int64_t n = start.back();
  const int64_t D = c.hidden_size, F = c.intermediate_size, P = c.patch_dim();

  std::vector<float>& x = *out;  // the residual stream of all crops
  x.resize(n * D);
  // Embeddings: patch projection + bias + the position grid resized to each crop.
  {
    std::vector<float> pos(n * D);
    const float* pixels = crops[0].pixel_values;
    std::vector<float> gathered;  // the crops' patch rows side by side, unless there is only one
    if (crops.size() > 1) {
      gathered.resize(n * P);
      for (size_t i = 0; i < crops.size(); ++i) {
        std::copy(crops[i].pixel_values, crops[i].pixel_values + (start[i + 1] - start[i]) * P,
                  gathered.begin() + start[i] * P);
      }
      pixels = gathered.data();
    }
    for (size_t i = 0; i < crops.size(); ++i) {
      ResizePositionGrid(position_.data(), grid_, static_cast<int>(D), crops[i].patches_h, crops[i].patches_w,
                         pos.data() + start[i] * D);
    }
    GemmPacked(patch_w_, pixels, n, P, patch_b_.data(), x.data(), D);
    AddInPlaceRows(pos.data(), n, D, x.data());
    peak_scratch_.Raise(CapacityBytes(x) + CapacityBytes(pos) + CapacityBytes(gathered));
  }

  std::vector<float> normed(n * D), qkv(n * 3 * D), attn(n * D), proj(n * D), mlp(n * F);
  peak_scratch_.Raise(CapacityBytes(x) + CapacityBytes(normed) + CapacityBytes(qkv) + CapacityBytes(attn) +
                      CapacityBytes(proj) + CapacityBytes(mlp));
  const BidirectionalAttentionShape shape{c.num_attention_heads, c.head_dim,
                                          1.0f / std::sqrt(static_cast<float>(c.head_dim)), bf16_attention_};
  for (const Layer& L : layers_) {
    // Self-attention block: q, k, v come out side by side from one [n, 3D] product; each crop attends
    // only to itself.
    LayerNormRows(x.data(), n, D, L.ln1_w.data(), L.ln1_b.data(), c.layer_norm_eps, normed.data());
    GemmPacked(L.qkv, normed.data(), n, D, L.qkv_b.data(), qkv.data(), 3 * D);
    for (size_t i = 0; i < crops.size(); ++i) {
      const float* q = qkv.data() + start[i] * 3 * D;
      const int64_t len = start[i + 1] - start[i];
      AttentionBidirectional(q, q + D, q + 2 * D, 3 * D, len, len, shape, attn.data() + start[i] * D, D);
    }
    GemmPacked(L.o, attn.data(), n, D, L.o_b.data(), proj.data(), D);
    AddInPlaceRows(proj.data(), n, D, x.data());
    // MLP block.
    LayerNormRows(x.data(), n, D, L.ln2_w.data(), L.ln2_b.data(), c.layer_norm_eps, normed.data());
    GemmPacked(L.fc1, normed.data(), n, D, nullptr, mlp.data(), F);
    if (c.hidden_act == VisionActivation::kGeluTanh) {
      BiasGeluTanhRows(mlp.data(), n, F, L.fc1_b.data());
    } else {
      BiasGeluErfRows(mlp.data(), n, F, L.fc1_b.data());
    }
    GemmPacked(L.fc2, mlp.data(), n, F, L.fc2_b.data(), proj.data(), D);
    AddInPlaceRows(proj.data(), n, D, x.data());
  }
  LayerNormRows(x.data(), n, D, post_w_.data(), post_b_.data(), c.layer_norm_eps, x.data());
  return Status::Ok();
}

}  // namespace lfm
