// LFM2 text-decoder hyper-parameters, read from an HF config.json: model_type "lfm2", or an LFM2-VL
// config ("lfm2-vl" / "lfm2_vl") whose nested text_config holds them (weights then live under the
// "model.language_model." prefix). Anything that would change the math and that we do not implement
// is a load error naming the file and field; nothing the config states is hard-coded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm {

enum class Lfm2LayerType { kConv, kAttention };

struct Lfm2Config {
  std::string model_type;  // top-level model_type ("lfm2", "lfm2-vl", "lfm2_vl")
  bool is_vl = false;
  std::string weight_prefix = "model.";  // "model.language_model." inside LFM2-VL checkpoints

  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  int intermediate_size = 0;  // effective FFN width after block_auto_adjust_ff_dim etc.
  int raw_ff_dim = 0;         // block_ff_dim / intermediate_size as written
  std::vector<Lfm2LayerType> layer_types;
  int conv_L_cache = 3;
  bool conv_bias = false;
  float norm_eps = 1e-5f;
  double rope_theta = 1e6;
  int max_position_embeddings = 0;
  bool tie_word_embeddings = true;
  int bos_token_id = -1;  // -1: not stated
  std::vector<int> eos_token_ids;
  int pad_token_id = -1;

  // LFM2-VL only: the raw vision_config object and top-level fields, as JSON text, for the vision
  // side to parse (empty for text models).
  std::string vl_config_json;

  bool is_attention(int layer) const { return layer_types[layer] == Lfm2LayerType::kAttention; }
  int num_attention_layers() const;
};

// `path` names the file in errors.
Result<Lfm2Config> ParseLfm2Config(const std::string& json_text, const std::string& path);
Result<Lfm2Config> LoadLfm2Config(const std::string& path);

// The FFN width rule of HF Lfm2MLP (facts §1.1), exposed for tests.
int64_t Lfm2EffectiveFfDim(int64_t ff, bool auto_adjust, bool has_multiplier, double multiplier,
                           int64_t multiple_of);

}  // namespace lfm
