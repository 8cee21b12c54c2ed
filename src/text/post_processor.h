// HF post-processors for a single sequence: TemplateProcessing, RobertaProcessing, BertProcessing,
// ByteLevel (ids unchanged) and Sequence.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "lfm/status.h"
#include "text/json_fields.h"

namespace lfm {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens around one encoded sequence (add_special_tokens = true).
  virtual void Process(std::vector<int32_t>& ids) const = 0;
  // The token placed before the sequence, if exactly one is (the BOS).
  virtual std::optional<int32_t> bos_id() const = 0;
};

Result<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const tokenizer_json::Json& j,
                                                             const tokenizer_json::Where& w);

}  // namespace lfm
