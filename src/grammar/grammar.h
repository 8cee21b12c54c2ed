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

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
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

// A flattened depth-first byte trie of the vocabulary's text tokens, plus the precomputation that
// keeps masks cheap inside strings.
//
// "Plain" characters are those that may appear raw inside a JSON string: printable ASCII except '"'
// and '\\' (DEL included) and complete, well-formed non-ASCII UTF-8 characters. Every token splits
// into a plain prefix (counted in characters) and a suffix starting at its first non-plain byte
// (empty for plain tokens). When the lexer treats every plain character alike (a JSON string body,
// free or length-bounded), a token's fate depends only on its prefix length and its suffix, and
// vocabularies have far fewer distinct suffixes than tokens: the matcher then walks the small trie of
// distinct suffixes once and classifies tokens by (prefix length, suffix id) instead of walking the
// big trie byte by byte.
class TokenTrie {
 public:
  struct Node {
    uint32_t tok_begin;  // payloads ending here: payload[tok_begin, tok_begin + tok_count);
                         // the whole subtree's payloads are [tok_begin, tok_begin of the next sibling)
    uint32_t subtree;    // nodes in this subtree including this one
    uint16_t tok_count;
    uint8_t byte;
    uint8_t height = 0;  // how much deeper the subtree's deepest node lies (saturates at 255)
    uint32_t depth;      // 1 for children of the root
  };
  static constexpr uint16_t kNotPlainPath = 0xFFFF;
  static Result<std::shared_ptr<const TokenTrie>> Build(const TokenVocab& vocab);

  size_t vocab_size() const { return token_bytes_.size(); }
  size_t mask_words() const { return (vocab_size() + 31) / 32; }
  const std::string& token_bytes(int32_t id) const { return token_bytes_[id]; }
  bool is_special(int32_t id) const { return is_special_[id]; }
  const std::vector<int32_t>& eos_ids() const { return eos_ids_; }
  bool is_eos(int32_t id) const;

  // The trie of all text tokens; payloads are token ids (token_ids()[...]).
  const std::vector<Node>& nodes() const { return all_; }
  const std::vector<int32_t>& token_ids() const { return token_ids_; }
  // Per node of nodes(): plain characters on its path, or kNotPlainPath if the path is not a whole
  // number of plain characters.
  const std::vector<uint16_t>& node_plain_chars() const { return node_plain_chars_; }
  // Token ids in the subtree of nodes()[i], including the node's own tokens.
  std::pair<uint32_t, uint32_t> SubtreeTokens(size_t i) const {
    size_t next = i + all_[i].subtree;
    return {all_[i].tok_begin, next < all_.size() ? all_[next].tok_begin : static_cast<uint32_t>(token_ids_.size())};
  }

  // Per token: plain prefix length in characters and suffix id; plain tokens (no suffix) get the
  // extra id num_suffixes(), which every accepted-suffix set contains.
  struct TokenClass {
    int32_t id;
    uint16_t plain_chars;
    uint32_t suffix_id;
  };
  // The ASCII characters (bit c) a token's plain prefix uses, and whether it uses non-ASCII ones.
  struct PrefixChars {
    std::array<uint64_t, 2> ascii;
    bool non_ascii;
  };
  // token_classes() is laid out like token_ids() (classifying a subtree reads memory in order).
  const std::vector<TokenClass>& token_classes() const { return token_classes_; }
  // token_classes() split into its plain and its suffixed tokens (each in DFS order); the entries of
  // DFS positions [a, b) are plain_dfs()[plain_before(a), plain_before(b)) and likewise for suffixed.
  const std::vector<int32_t>& plain_dfs() const { return plain_dfs_; }
  const std::vector<TokenClass>& suffixed_dfs() const { return suffixed_dfs_; }
  uint32_t plain_before(uint32_t pos) const { return plain_before_[pos]; }
  uint32_t suffixed_before(uint32_t pos) const { return pos - plain_before_[pos]; }
  // Tokens by suffix id, sorted by plain_chars within one suffix: entries [begin, end) of
  // by_suffix() (with by_suffix_chars() beside them). The plain tokens are the last group.
  std::pair<uint32_t, uint32_t> SuffixTokens(uint32_t sid) const { return {by_suffix_begin_[sid], by_suffix_begin_[sid + 1]}; }
  const std::vector<TokenClass>& by_suffix() const { return by_suffix_; }
  const std::vector<PrefixChars>& by_suffix_chars() const { return by_suffix_chars_; }
  // The suffixed tokens sorted by plain_chars, with their prefix characters beside them.
  const std::vector<TokenClass>& suffixed_by_len() const { return suffixed_by_len_; }
  const std::vector<PrefixChars>& suffixed_by_len_chars() const { return suffixed_by_len_chars_; }
  uint16_t max_plain_chars() const { return max_plain_chars_; }
  size_t max_token_bytes() const { return max_token_bytes_; }
  // 99.5% of the text tokens are at most this long (a few runs of '*' or spaces are much longer).
  size_t short_token_bytes() const { return short_token_bytes_; }
  // The trie of distinct non-empty suffixes; payloads are suffix ids (suffix_ids()[...]).
  const std::vector<Node>& suffix_nodes() const { return suffix_nodes_; }
  const std::vector<int32_t>& suffix_ids() const { return suffix_payload_; }
  size_t num_suffixes() const { return num_suffixes_; }
  // Plain tokens, and plain tokens of at most k characters (k is clamped to the longest plain token).
  const std::vector<uint32_t>& plain_mask() const { return plain_mask_; }
  const std::vector<uint32_t>& plain_mask_upto(int64_t k) const {
    return k >= static_cast<int64_t>(plain_upto_.size()) ? plain_mask_ : plain_upto_[k];
  }
  // Longest vocabulary token (text only) that is a prefix of s; 0 if none. For tests and forcing.
  size_t LongestPrefixToken(std::string_view s, int32_t* id) const;

 private:
  // entries: (bytes, payload). Appends nodes and payloads; node_chars (optional) gets the plain
  // character count of each new node's path.
  static void Flatten(std::vector<std::pair<std::string_view, int32_t>> entries, std::vector<Node>* nodes,
                      std::vector<int32_t>* payload, std::vector<uint16_t>* node_chars);
  std::vector<std::string> token_bytes_;
  std::vector<bool> is_special_;
  std::vector<int32_t> eos_ids_;
  std::vector<Node> all_;
  std::vector<int32_t> token_ids_;
  std::vector<uint16_t> node_plain_chars_;
  uint16_t max_plain_chars_ = 0;
  size_t max_token_bytes_ = 0;
  size_t short_token_bytes_ = 0;
  std::vector<Node> suffix_nodes_;
  std::vector<int32_t> suffix_payload_;
  size_t num_suffixes_ = 0;
  std::vector<TokenClass> token_classes_, suffixed_dfs_, by_suffix_;
  std::vector<PrefixChars> by_suffix_chars_, suffixed_by_len_chars_;
  std::vector<TokenClass> suffixed_by_len_;
  std::vector<uint32_t> by_suffix_begin_;  // num_suffixes() + 2 entries
  std::vector<int32_t> plain_dfs_;
  std::vector<uint32_t> plain_before_;  // per DFS position, plus one past the end
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
  // JSON Schema enum/const sets. Their literals become one byte trie (linear in their bytes), but a
  // set that large is almost surely a mistake or an attack: refused, naming the JSON pointer.
  uint32_t max_enum_values = 100000;        // values of one enum
  size_t max_enum_bytes = size_t{4} << 20;  // serialized bytes of one enum's values together
  size_t max_enum_value_bytes = 16384;      // serialized bytes of one value
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
  // What the last ComputeMask did (benchmarks and diagnostics: which states make slow masks).
  struct MaskStats {
    bool cached = false;           // answered from the mask cache
    bool classified_root = false;  // classified by suffix from the root, else a trie walk
    uint32_t new_lexer_states = 0;  // lexer states this mask built (shared with other matchers)
    uint32_t new_transitions = 0;   // lexer transitions this mask computed (one per byte class)
    uint32_t lexer_nodes = 0;       // trie nodes the walk followed on the lexer alone
    uint32_t recognizer_nodes = 0;  // trie nodes pushed through the recognizer
    uint32_t jumps = 0;             // subtrees classified below the root
    uint32_t classified_tokens = 0;
    uint32_t suffix_sets = 0;       // accepted-suffix sets computed (suffix-trie walks)
    uint32_t suffix_nodes = 0;      // suffix-trie nodes accepted in them
    uint32_t walk_memo_hits = 0;    // trie subtrees answered from the walk memo
  };
  const MaskStats& last_mask_stats() const { return stats_; }
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
  // The states u_0 = lex, u_1, ... that 0, 1, ... plain characters lead to (see Lexer::PlainStep),
  // known far enough for tokens with `need` plain characters; loops: the last state repeats forever.
  struct PlainChainInfo {
    std::vector<uint32_t> states;
    bool loops = false;
    std::array<uint64_t, 2> ascii{};  // allowed plain characters (the same at every position)
    bool non_ascii = false;
    bool all = false;                 // every plain character allowed
  };
  // Below this many trie nodes a subtree is walked rather than classified.
  static constexpr uint32_t kMinJumpSubtree = 8;
  // At the root, a character class is classified only if it has at least this many ASCII characters.
  static constexpr int kMinClassChars = 16;
  bool PlainChain(uint32_t lex, size_t need, PlainChainInfo* chain);
  // Suffix ids accepted after `plain_steps` plain characters from the current state (cached):
  // as a bitset (with the plain tokens' extra id always set) and as a list.
  struct SuffixSet {
    std::vector<uint64_t> bits;
    std::vector<int32_t> sids;
  };
  const SuffixSet* SuffixOk(size_t plain_steps);
  // The whole mask when the root state is a chain: tokens looked up by accepted suffix.
  void ClassifyRoot(const PlainChainInfo& chain, uint32_t* bits);
  // Sets the bits of the allowed tokens among toks (all in the subtree of a node with node_chars plain
  // characters on its path, whose state starts `chain`, which allows every plain character).
  void Classify(const TokenTrie::TokenClass* toks, size_t count, uint16_t node_chars, const PlainChainInfo& chain,
                uint32_t* bits);
  static uint8_t FillChar(const PlainChainInfo& chain);
  void WalkAll(uint32_t* bits);
  void WalkRec(size_t begin, size_t end, size_t base, uint32_t* bits);
  // Whether the subtree of trie node `node` (reached in lexer state lex) can be classified (sets
  // chain_), and classifying it (the recognizer must stand at the node).
  bool CanJump(size_t node, uint32_t lex);
  void Jump(size_t node, uint32_t* bits);
  void MarkTokens(const TokenTrie::Node& nd, uint32_t* bits);
  void SetPlainRanges(uint32_t* bits);
  std::shared_ptr<const Grammar> grammar_;
  std::shared_ptr<const TokenTrie> trie_;
  std::unique_ptr<grammar::Recognizer> rec_;
  bool terminated_ = false;
  MaskStats stats_;
  // The recognizer state as far as any token can tell (Recognizer::HorizonKey, or the exact
  // StateKey if the lexer's horizon is shorter than this vocabulary's longest token): equal keys give
  // equal masks and equal accepted-suffix sets.
  uint64_t Key() const;
  bool horizon_ok_ = false;
  uint32_t short_horizon_ = 0;  // Lexer::SetShortHorizon's answer (0: none)
  // Masks by Key: inside a long lexeme (a long bounded string, a free string) the key repeats.
  // A small ring (buffers reused: a mask is 8 KiB for a 64k vocabulary).
  static constexpr size_t kCachedMasks = 16;
  std::array<uint64_t, kCachedMasks> mask_cache_keys_;
  std::array<std::vector<uint32_t>, kCachedMasks> mask_cache_;
  size_t mask_cache_next_ = 0;
  // Scratch of one ComputeMask.
  PlainChainInfo chain_;
  // Accepted suffix sets by recognizer state (Key); a deque so that handed-out pointers stay
  // valid while it grows. Cleared (only between masks) past kMaxSuffixSets entries.
  static constexpr size_t kMaxSuffixSets = 256;
  std::deque<SuffixSet> suffix_cache_;
  std::unordered_map<uint64_t, size_t> suffix_index_;
  std::vector<const SuffixSet*> suffix_by_step_;
  std::vector<uint8_t> suffix_done_;
  uint8_t suffix_fill_char_ = 'a';
  std::vector<std::pair<uint32_t, uint32_t>> plain_ranges_;  // plain_dfs() ranges allowed in bulk
  // Accepted suffix ids per (suffix-trie node, recognizer state), kept across masks (see SuffixOk).
  struct MemoKey {
    uint32_t node;
    uint64_t state;
    bool operator==(const MemoKey&) const = default;
  };
  struct MemoKeyHash {
    size_t operator()(const MemoKey& k) const { return std::hash<uint64_t>()(k.state * 0x9E3779B97F4A7C15ull ^ k.node); }
  };
  static constexpr uint32_t kMinMemoSubtree = 16;
  static constexpr size_t kMaxMemoIds = 1 << 20;  // suffix ids stored in the memo (4 MiB)
  size_t memo_ids_ = 0;
  std::unordered_map<MemoKey, std::vector<int32_t>, MemoKeyHash> suffix_memo_;
  std::vector<int32_t> memo_log_;
  // Allowed tokens per (main-trie node, row serial, lexer state there), kept across masks. Inside a
  // searched pattern (an unanchored "pattern") every position has a new lexer state at the root, but
  // most bytes lead back to the same few states, whose subtrees are then known: a full trie walk
  // per position becomes one per distinct state. ranges: the plain_ranges_ the subtree added.
  struct WalkMemo {
    std::vector<int32_t> ids;
    std::vector<std::pair<uint32_t, uint32_t>> ranges;
  };
  static constexpr uint32_t kMinWalkMemoSubtree = 64;
  static constexpr size_t kMaxWalkMemoDepth = 1;
  static constexpr uint32_t kMinWalkMemoNodes = 64;  // subtrees walked node by node past this size
  size_t walk_memo_ids_ = 0;  // bounded by kMaxMemoIds like the suffix memo
  std::unordered_map<MemoKey, WalkMemo, MemoKeyHash> walk_memo_;
  struct WalkOpen {
    size_t node, end;
    MemoKey key;
    size_t ranges_begin;
    uint32_t lexer_nodes_before;
  };
  std::vector<WalkOpen> walk_open_;  // subtrees being recorded
  std::vector<uint32_t> scratch_mask_;
  std::vector<uint32_t> lex_path_;  // WalkAll: lexer state per trie depth
  std::vector<uint8_t> byte_path_;
};

}  // namespace lfm
