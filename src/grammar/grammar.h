// Constrained decoding: grammars (JSON Schema, Lark, regex) compiled to a CFG over regex lexemes,
// and per-request matchers that compute the set of allowed tokens (a bitmask over the vocabulary).
//
//   auto trie = TokenTrie::Build(vocab);                 // once per vocabulary
//   auto g = Grammar::FromJsonSchema(schema);            // once per schema; immutable, thread-safe
//   GrammarMatcher m(*g, *trie);                         // once per request
//   loop: m.ComputeMask(&bits); sample a token whose bit is set; m.AcceptToken(id);
//
// Semantics: the whole output must match the grammar (full match). EOS ids are allowed exactly when
// the output so far is a complete sentence; special tokens are never reachable through text.
// Lexing is greedy (maximal munch, no backtracking), as in llguidance: a lexeme that can be
// extended by the next byte is extended.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lfm/status.h"

namespace lfm {

namespace grammar {
class Lexer;
class RegexBuilder;
struct Cfg;
struct ParserTables;
class Recognizer;
}  // namespace grammar

// The vocabulary as data (the grammar module does not depend on the tokenizer).
struct TokenVocab {
  std::vector<std::string> token_bytes;  // raw bytes of each token id (GPT-2 byte map already undone)
  std::vector<bool> is_special;          // special/added control tokens: never produced by text
  std::vector<int32_t> eos_ids;          // allowed exactly when the grammar accepts
};

// A flattened depth-first byte trie of the vocabulary's text tokens, plus precomputed slices.
class TokenTrie {
 public:
  struct Node {
    uint32_t tok_begin;  // tokens ending here: token_ids_[tok_begin, tok_begin + tok_count)
    uint32_t subtree;    // nodes in this subtree including this one
    uint16_t tok_count;
    uint8_t byte;
    uint8_t pad = 0;
    uint32_t depth;      // 1 for children of the root
  };
  static Result<std::shared_ptr<const TokenTrie>> Build(const TokenVocab& vocab);

  size_t vocab_size() const { return token_bytes_.size(); }
  size_t mask_words() const { return (vocab_size() + 31) / 32; }
  const std::string& token_bytes(int32_t id) const { return token_bytes_[id]; }
  bool is_special(int32_t id) const { return is_special_[id]; }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  bool is_eos(int32_t id) const;
  const std::vector<Node>& nodes() const { return all_; }
  // Tokens made only of plain JSON-string characters (see Lexer::PlainLoop), and the trie of the rest.
  const std::vector<uint32_t>& plain_mask() const { return plain_mask_; }
  // Plain tokens of at most k characters (k is clamped to the longest plain token).
  const std::vector<uint32_t>& plain_mask_upto(int64_t k) const {
    return k >= static_cast<int64_t>(plain_upto_.size()) ? plain_mask_ : plain_upto_[k];
  }
  const std::vector<Node>& rest_nodes() const { return rest_; }
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  // Longest vocabulary token (text only) that is a prefix of s; 0 if none. For tests and forcing.
  size_t LongestPrefixToken(std::string_view s, int32_t* id) const;

 private:
  static void Flatten(const std::vector<int32_t>& ids, const std::vector<std::string>& bytes,
                      std::vector<Node>* nodes, std::vector<int32_t>* token_ids);
  std::vector<std::string> token_bytes_;
  std::vector<bool> is_special_;
  std::vector<int32_t> eos_ids_;
  std::vector<Node> all_, rest_;
  std::vector<int32_t> token_ids_;
  std::vector<uint32_t> plain_mask_;
  std::vector<std::vector<uint32_t>> plain_upto_;  // [k]: plain tokens with <= k characters
};

struct JsonSchemaOptions {
  // false (default): compact JSON, no whitespace anywhere outside strings (llguidance's
  // whitespace_flexible=false). true: JSON whitespace allowed between tokens (bounded by
  // whitespace_pattern if set), never before the first or after the last byte of the value.
  bool whitespace_flexible = false;
  std::string whitespace_pattern;  // regex for one gap, e.g. "[ \\n]{0,8}"; empty: [ \t\n\r]*
  // Unknown or unsupported keywords: false (default) refuses the schema naming keyword and JSON
  // pointer; true ignores them (the output may then violate the schema).
  bool lenient = false;
};

struct GrammarLimits {
  uint32_t max_lexer_states = 100000;
  uint32_t max_items_in_row = 20000;
  uint64_t max_steps_per_row = 500000;  // Earley completion work per row (ambiguity guard)
  size_t max_grammar_symbols = 2000000;
  uint32_t max_schema_depth = 200;  // nesting of schemas / $ref expansion during compilation
};

class Grammar {
 public:
  static Result<std::shared_ptr<const Grammar>> FromJsonSchema(const nlohmann::ordered_json& schema,
                                                               const JsonSchemaOptions& options = {});
  static Result<std::shared_ptr<const Grammar>> FromJsonSchema(std::string_view schema_text,
                                                               const JsonSchemaOptions& options = {});
  static Result<std::shared_ptr<const Grammar>> FromLark(std::string_view lark);
  static Result<std::shared_ptr<const Grammar>> FromRegex(std::string_view regex);
  // For front ends: freezes a CFG built over `rx`.
  static Result<std::shared_ptr<const Grammar>> FromCfg(grammar::Cfg cfg, std::unique_ptr<grammar::RegexBuilder> rx,
                                                        const GrammarLimits& limits = {});

  ~Grammar();
  Grammar(const Grammar&) = delete;
  Grammar& operator=(const Grammar&) = delete;

  size_t num_lexemes() const;
  size_t num_rules() const;
  const GrammarLimits& limits() const { return limits_; }

 private:
  friend class GrammarMatcher;
  friend class grammar::Recognizer;
  Grammar();
  std::unique_ptr<grammar::ParserTables> tables_;
  std::unique_ptr<grammar::Lexer> lexer_;  // lazily extended, internally synchronised
  GrammarLimits limits_;
};

class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> trie);
  ~GrammarMatcher();

  // bitmask gets mask_words() words; bit i set = token i allowed. Error if the grammar hit a limit,
  // or (a bug) if nothing at all is allowed.
  Status ComputeMask(std::vector<uint32_t>* bitmask);
  // Advances by one token. Error (and no state change) if the token is not allowed.
  Status AcceptToken(int32_t id);
  // Advances by raw bytes (tests, validation, forced text). False (and no state change) if rejected.
  bool AcceptBytes(std::string_view bytes);
  bool IsAccepting();
  bool IsTerminated() const { return terminated_; }
  // Rollback support (speculative decoding, tests): a checkpoint is the byte depth of the state.
  size_t Checkpoint() const;
  void RollbackTo(size_t checkpoint);
  // Why the last AcceptBytes/ComputeMask failed, if a limit was hit (else ok).
  Status LimitStatus() const;

 private:
  void Walk(const std::vector<TokenTrie::Node>& nodes, uint32_t* bits);
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenTrie> trie_;
  std::unique_ptr<grammar::Recognizer> rec_;
  bool terminated_ = false;
  // One-entry mask cache: inside a long lexeme the lexer state and the row repeat.
  uint64_t cache_key_ = UINT64_MAX;
  std::vector<uint32_t> cache_mask_;
};

}  // namespace lfm
