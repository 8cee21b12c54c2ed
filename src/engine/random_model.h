// `lfm make-test-model`: writes a seeded random-weight Hugging Face model directory with the real
// file layout (config.json, generation_config.json, model.safetensors, tokenizer.json,
// tokenizer_config.json, chat_template.jinja, and for VL models preprocessor_config.json and
// processor_config.json). Tests use the tiny shapes; benchmarks use the full-size ones, whose
// tensor shapes equal the published checkpoints'.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm {

struct RandomModelShape {
  std::string name;
  // Text decoder (LFM2).
  int hidden = 0, layers = 0, heads = 0, kv_heads = 0, block_ff_dim = 0;
  bool auto_adjust_ff = true;
  std::vector<std::string> layer_types;
  int vocab = 65536;
  // Vision tower + projector (0 = text-only model).
  int vision_hidden = 0, vision_layers = 0, vision_heads = 0, vision_intermediate = 0;
  int projector_hidden = 0;
};

// Known shapes: tiny, tiny-vl, lfm2-350m, lfm2-1.2b, lfm2.5-vl-450m, lfm2.5-vl-1.6b.
std::vector<std::string> RandomModelShapeNames();
Result<RandomModelShape> RandomModelShapeByName(const std::string& name);

struct RandomModelOptions {
  std::string dtype = "auto";  // "F32", "BF16", or "auto" (F32 for tiny shapes, BF16 as published otherwise)
  uint64_t seed = 20251122;
  // Called with (bytes written so far, total bytes) while the weights are written.
  std::function<void(size_t, size_t)> progress;
};

Status WriteRandomModel(const RandomModelShape& shape, const std::string& out_dir, const RandomModelOptions& opts);

}  // namespace lfm
