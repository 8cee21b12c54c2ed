// Sampling defaults from an HF generation_config.json. Absent fields stay unset, so the caller can
// tell "the model says greedy" from "the model says nothing".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm {

struct GenerationConfig {
  std::optional<bool> do_sample;
  std::optional<float> temperature;
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<int> max_new_tokens;
  std::vector<int> eos_token_ids;  // eos_token_id: an int or a list
  std::optional<int> bos_token_id;
  std::optional<int> pad_token_id;
};

Result<GenerationConfig> ParseGenerationConfig(const std::string& json_text, const std::string& path);
Result<GenerationConfig> LoadGenerationConfig(const std::string& path);

}  // namespace lfm
