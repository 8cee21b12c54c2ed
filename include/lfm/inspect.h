// What a model directory or GGUF file holds, read without loading the weights: the config, every
// tensor's name, shape, dtype and size (from the safetensors / GGUF headers, mmap'd), the tokenizer
// and its special tokens, the chat template source, the LFM2-VL processor settings, the generation
// defaults and the request limits that apply. Backs `lfm inspect`; fast on a full-size model.
//
//   auto m = lfm::InspectModel("/models/LFM2.5-VL-450M");
//   for (const auto& t : m->tensors) printf("%s %s\n", t.name.c_str(), t.dtype.c_str());
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lfm/admission.h"
#include "lfm/sampling.h"
#include "lfm/status.h"

namespace lfm {

struct TensorInspection {
  std::string name;            // as stored (HF name, or GGUF name in a .gguf file)
  std::vector<int64_t> shape;  // outermost first (torch order; GGUF's ne[] reversed)
  std::string dtype;           // "bf16", "f32", "q8_0", "q4_k", ...
  int64_t bytes = 0;
  std::string file;            // the file (or shard) holding it
};

struct SpecialTokenInspection {
  std::string content;  // "<|im_end|>"
  int32_t id = -1;
};

// LFM2-VL image processor settings (preprocessor_config.json / processor_config.json).
struct ProcessorInspection {
  bool do_image_splitting = true;
  int tile_size = 0, min_tiles = 0, max_tiles = 0;
  bool use_thumbnail = false;
  int min_image_tokens = 0, max_image_tokens = 0;
  int encoder_patch_size = 0, downsample_factor = 0;
  double max_pixels_tolerance = 0;
  std::string image_token;
};

struct ModelInspection {
  std::string path;
  std::string format;  // "hf-directory" or "gguf"
  // Config ("" / 0 when the file is not an LFM2 model, e.g. a GGUF mmproj; config_error says why).
  std::string model_type, architecture;  // architecture: GGUF general.architecture
  std::string config_error;
  int vocab_size = 0, hidden_size = 0, intermediate_size = 0, num_layers = 0;
  int num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, conv_kernel = 0;
  std::vector<std::string> layer_types;  // per layer: "conv" or "attention"
  int max_position_embeddings = 0;
  double rope_theta = 0;
  double norm_eps = 0;
  bool tie_word_embeddings = false;
  bool is_vl = false;
  bool random_weights = false;  // written by `lfm make-test-model`
  std::vector<TensorInspection> tensors;  // in name order
  // Tokenizer ("" / empty when it cannot be read; tokenizer_error says why).
  std::string tokenizer_source;  // "tokenizer.json" or "gguf tokenizer.ggml.*"
  std::string tokenizer_error;
  int tokenizer_vocab_size = 0;
  std::vector<SpecialTokenInspection> special_tokens;  // by id
  std::optional<int32_t> bos_id;
  std::vector<int32_t> eos_ids;  // generation_config.json, else config.json
  // Chat template source as written ("" when there is none; chat_template_file names where it was).
  std::string chat_template, chat_template_file;
  std::optional<ProcessorInspection> processor;  // VL models
  // generation_config.json defaults as the engine applies them (greedy unless do_sample).
  SamplingParams default_sampling;
  std::optional<int> max_new_tokens;
  AdmissionLimits admission;  // the library defaults (lfm/admission.h); the CLI flags change them
};

// Errors: a path that is neither a model directory nor a .gguf file, or an unreadable / malformed
// header. Problems with optional parts (tokenizer, template, config of a non-LFM2 GGUF) are reported
// in the *_error fields instead, so the rest can still be inspected.
Result<ModelInspection> InspectModel(const std::string& path);

}  // namespace lfm
