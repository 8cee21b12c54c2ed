// Glue between the engine and src/grammar: the vocabulary as the grammar engine sees it, and the
// per-request matcher state.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "grammar/grammar.h"
#include "grammar/json_schema_validator.h"
#include "lfm/grammar.h"
#include "text/tokenizer.h"

namespace lfm {

struct CompiledGrammar::Impl {
  std::shared_ptr<const Grammar> grammar;
  std::shared_ptr<const TokenTrie> trie;
  // JSON Schema only: the independent validator that double-checks finished outputs.
  std::shared_ptr<const JsonSchemaValidator> validator;
};

// The vocabulary's byte strings for the token trie: ids past the tokenizer's vocabulary (padding
// rows of the embedding) and special tokens never come from text.
TokenVocab MakeTokenVocab(const Tokenizer& tokenizer, int model_vocab, const std::vector<int32_t>& eos_ids);

}  // namespace lfm
