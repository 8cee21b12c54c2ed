// HF normalizers: Sequence, NFC, Prepend, Replace, Lowercase, Strip. Others (NFD, NFKC, Precompiled, ...)
// are refused at load time with Unsupported naming the JSON path.
#pragma once

#include <memory>
#include <string>

#include "lfm/status.h"
#include "text/json_fields.h"

namespace lfm {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites s (valid UTF-8 in, valid UTF-8 out).
  virtual Status Normalize(std::string& s) const = 0;
};

// Builds the normalizer described by `j` (a non-null JSON object) at path `w`.
Result<std::unique_ptr<Normalizer>> NormalizerFromJson(const tokenizer_json::Json& j,
                                                       const tokenizer_json::Where& w);

}  // namespace lfm
