// Fuzz target: the model-directory configuration files a user hands us, each parser on the same bytes:
// config.json (text and LFM2-VL), generation_config.json, preprocessor_config.json /
// processor_config.json (merged, validated, then used to lay out images), and the chat template
// field of tokenizer_config.json. Every outcome is a value or a Status naming the file.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "image/lfm2vl_processor.h"
#include "model/generation_config.h"
#include "model/lfm2_config.h"
#include "model/lfm2_vl_config.h"
#include "text/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);

  auto config = lfm::ParseLfm2Config(text, "config.json");
  if (config.ok() && config->is_vl) (void)lfm::ParseLfm2VlVisionConfig(config->vl_config_json, "config.json");
  (void)lfm::ParseLfm2VlVisionConfig(text, "config.json");
  (void)lfm::ParseGenerationConfig(text, "generation_config.json");

  lfm::Lfm2VlProcessorConfig processor;
  if (processor.MergeJson(text, "processor_config.json").ok() && processor.Validate().ok()) {
    // A configuration that validates must lay out any image size without failing badly.
    for (auto [h, w] : {std::pair{1, 1}, {37, 1200}, {512, 512}, {4000, 3000}, {1, 65535}}) {
      auto layout = lfm::ComputeLfm2VlLayout(h, w, processor);
      if (layout.ok() && layout->crop_sizes.size() != layout->crop_tokens.size()) __builtin_trap();
    }
  }

  auto tokenizer_config = nlohmann::ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!tokenizer_config.is_discarded()) (void)lfm::ChatTemplateFromTokenizerConfig(tokenizer_config);
  return 0;
}
