// The Hugging Face tokenizer.json tokenizer (as LFM2 and most current LLMs ship it): added tokens,
// normalizer, pre-tokenizer, BPE model, post-processor and decoder, all read from the file. Anything in
// the file lfm.cpp does not implement is a load error naming its JSON path, never silently ignored.
//
// Semantics follow the HF `tokenizers` library (Rust): Encode always matches added tokens (special or not)
// found in the raw text; add_special_tokens applies the post-processor (e.g. the BOS of LFM2).
// Decode is tokenizers' decode (no transformers-level clean_up_tokenization_spaces).
// Input that is not valid UTF-8 is repaired (ill-formed bytes -> U+FFFD) before encoding, since HF only
// ever sees Unicode strings.
//
// Tokenizer is cheap to copy and move (shared immutable state), and all const methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lfm/status.h"

namespace lfm {

class Tokenizer {
 public:
  // An empty tokenizer: encodes to nothing, decodes to "". Assign one from FromFile/FromJson.
  Tokenizer();

  static Result<Tokenizer> FromFile(const std::string& tokenizer_json_path);
  static Result<Tokenizer> FromJson(std::string_view json_text, const std::string& origin_for_errors);

  // HF semantics: added tokens in the text are matched; add_special_tokens applies the post-processor (BOS).
  // Fails only when a normalizer or pre-tokenizer regex hits a PCRE2 resource limit (pathological
  // backtracking): never an empty or partial encoding in its place.
  Result<std::vector<int32_t>> Encode(std::string_view text, bool add_special_tokens) const;
  // HF decode: unknown ids are skipped; special added tokens too if skip_special_tokens.
  std::string Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

  // Exact bytes the token contributes when decoded in the middle of a sequence (may be part of a UTF-8
  // character, e.g. a byte-level or <0xE2> token). "" for an unknown id.
  std::string TokenBytes(int32_t id) const;
  // The same, for the first token of a decode (Metaspace decoders drop its leading space).
  std::string TokenBytes(int32_t id, bool first) const;
  std::string IdToToken(int32_t id) const;  // the vocab string ("Ġhello", "<|im_end|>"); "" if unknown
  std::optional<int32_t> TokenToId(std::string_view token) const;
  bool IsSpecial(int32_t id) const;  // an added token with special=true
  int32_t vocab_size() const;        // max id + 1 over vocab and added tokens
  std::vector<std::string> SpecialTokenStrings() const;
  std::optional<int32_t> bos_id() const;  // from the post-processor template, if any

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lfm
