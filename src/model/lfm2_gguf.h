// LFM2 text models from a llama.cpp GGUF file (general.architecture = "lfm2"): the config comes
// from the lfm2.* metadata, tensors are renamed to their HF names and shapes (facts §2.6) so the
// decoder loads them exactly like a safetensors checkpoint.
#pragma once

#include <memory>
#include <string>

#include "lfm/status.h"
#include "model/lfm2_config.h"
#include "weights/gguf.h"
#include "weights/weight_store.h"

namespace lfm {

Result<Lfm2Config> Lfm2ConfigFromGguf(const GgufHeader& h, const std::string& path);

// Maps GGUF tensor names to HF names ("blk.3.ffn_gate.weight" -> "model.layers.3.feed_forward.w1.weight");
// empty for names LFM2 does not have.
std::string Lfm2HfNameFromGguf(const std::string& gguf_name);
// The other way ("model.layers.3.feed_forward.w1.weight" -> "blk.3.ffn_gate.weight"); empty for
// names llama.cpp's LFM2 does not have.
std::string Lfm2GgufNameFromHf(const std::string& hf_name);

struct Lfm2Gguf {
  Lfm2Config config;
  std::shared_ptr<const WeightStore> weights;
};
Result<Lfm2Gguf> OpenLfm2Gguf(const std::string& path);

}  // namespace lfm
