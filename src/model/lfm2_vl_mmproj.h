// The image side of LFM2-VL from a llama.cpp mmproj GGUF (convert_hf_to_gguf.py --mmproj:
// general.architecture "clip", clip.projector_type "lfm2"). Every hyper-parameter the file states
// is read from its clip.* metadata; tensors are renamed to their HF names and shapes so that
// Lfm2VlVision loads them exactly like a safetensors checkpoint.
//
// What the file does not state comes from the HF defaults of the published models, documented here:
// - the projector activation: exact-erf GELU (HF config "projector_hidden_act": "gelu");
// - the image processor settings other than patch size, downsample factor and mean/std
//   (tiling, min/max tiles and image tokens, thumbnail, ...): Lfm2VlProcessorConfig's defaults,
//   which equal the published preprocessor_config.json.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "lfm/status.h"
#include "model/lfm2_vl_config.h"
#include "weights/gguf.h"
#include "weights/weight_store.h"

namespace lfm {

struct Lfm2VlMmproj {
  Lfm2VlVisionConfig config;  // text_hidden_size = clip.vision.projection_dim
  std::array<double, 3> image_mean = {0.5, 0.5, 0.5};
  std::array<double, 3> image_std = {0.5, 0.5, 0.5};
  std::shared_ptr<const WeightStore> weights;  // HF names (model.vision_tower..., model.multi_modal_projector...)
};

// The config from the clip.* metadata; `path` names the file in errors.
Result<Lfm2VlVisionConfig> Lfm2VlVisionConfigFromMmproj(const GgufHeader& h, const std::string& path);

// "v.blk.3.attn_q.weight" -> "model.vision_tower.vision_model.encoder.layers.3.self_attn.q_proj.weight",
// "mm.1.bias" -> "model.multi_modal_projector.linear_1.bias"; empty for names LFM2-VL does not have.
std::string Lfm2VlHfNameFromMmproj(const std::string& gguf_name);

Result<Lfm2VlMmproj> OpenLfm2VlMmproj(const std::string& path);

}  // namespace lfm
