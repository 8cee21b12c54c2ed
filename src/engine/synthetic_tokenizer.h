// Builds a byte-level BPE tokenizer.json in the LFM2 special-token layout for random test models:
// BPE merges learned on a small built-in English text, then random merges of existing tokens until
// the vocabulary is full. Deterministic for a given seed. The text it produces is meaningless; its
// job is to exercise the same code paths as the real LFM2 tokenizer.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace lfm {

struct SyntheticTokenizerFiles {
  nlohmann::ordered_json tokenizer_json;
  nlohmann::ordered_json tokenizer_config_json;
  std::string chat_template;  // Jinja, LFM2-style ChatML
};

// vocab_size >= 1024. Special tokens occupy ids 0..500 as in LFM2 (<|pad|>=0, <|startoftext|>=1,
// <|im_start|>=6, <|im_end|>=7, <image>=396, <|img_row_R_col_C|>=397..496, <|img_thumbnail|>=497,
// <|image_start|>=498, <|image_end|>=499).
SyntheticTokenizerFiles MakeSyntheticTokenizer(int vocab_size, uint64_t seed);

// GPT-2's byte -> printable code point map used by ByteLevel pre-tokenizers.
std::string ByteLevelEncode(const std::string& bytes);

}  // namespace lfm
