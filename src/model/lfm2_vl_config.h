// Vision-side hyper-parameters of an LFM2-VL config.json: the SigLIP2 NaFlex tower
// (`vision_config`) and the projector / pixel-unshuffle fields at the top level. Everything that
// would change the math is read from the file; what we do not implement (an unknown activation, a
// missing field without an HF default) is a load error naming the file and the field.
#pragma once

#include <string>

#include "lfm/status.h"

namespace lfm {

enum class VisionActivation { kGeluTanh, kGeluErf };

struct Siglip2VisionConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int head_dim = 0;  // hidden_size / num_attention_heads
  float layer_norm_eps = 1e-6f;
  int patch_size = 16;
  int num_channels = 3;
  int num_patches = 256;  // learned position table size, a square grid
  VisionActivation hidden_act = VisionActivation::kGeluTanh;

  int patch_dim() const { return num_channels * patch_size * patch_size; }
};

struct Lfm2VlVisionConfig {
  Siglip2VisionConfig vision;
  int downsample_factor = 2;
  VisionActivation projector_hidden_act = VisionActivation::kGeluErf;
  bool projector_bias = true;
  int projector_hidden_size = 0;  // 0 = not stated (the weights decide anyway)
  int text_hidden_size = 0;       // text_config.hidden_size when present, else 0
};

// Parses an LFM2-VL config.json, or Lfm2Config::vl_config_json (the same object without text_config).
// `path` names the file in errors.
Result<Lfm2VlVisionConfig> ParseLfm2VlVisionConfig(const std::string& json_text, const std::string& path);
Result<Lfm2VlVisionConfig> LoadLfm2VlVisionConfig(const std::string& path);

// HF activation names: "gelu_pytorch_tanh" / "gelu_new" / "gelu_fast" -> tanh form, "gelu" -> erf.
Result<VisionActivation> ParseVisionActivation(const std::string& name, const std::string& where);

}  // namespace lfm
