// HF pre-tokenizers: Split (regex or literal, every SplitDelimiterBehavior, invert), ByteLevel, Metaspace,
// Sequence, Whitespace, WhitespaceSplit, Digits, Punctuation. They cut the text splits that are not
// yet tokens into smaller ones (and ByteLevel/Metaspace also rewrite the characters).
#pragma once

#include <memory>
#include <vector>

#include "lfm/status.h"
#include "text/json_fields.h"
#include "text/text_split.h"

namespace lfm {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each split with token_id < 0 by its pieces; splits that are tokens pass through.
  virtual Status PreTokenize(std::vector<TextSplit>& splits) const = 0;
};

Result<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const tokenizer_json::Json& j,
                                                           const tokenizer_json::Where& w);

}  // namespace lfm
