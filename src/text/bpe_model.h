// The BPE model of tokenizer.json: vocab, ranked merges, ignore_merges, byte_fallback, unk_token (+fuse_unk),
// continuing_subword_prefix / end_of_word_suffix. Words are merged lowest rank first (leftmost on ties),
// with a merge-rank hash map, and finished words are cached.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "lfm/status.h"
#include "text/json_fields.h"

namespace lfm {

class BpeModel {
 public:
  static Result<std::unique_ptr<BpeModel>> FromJson(const tokenizer_json::Json& j,
                                                    const tokenizer_json::Where& w);

  // Appends the ids of one pre-tokenized word. Thread-safe.
  void Tokenize(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  // nullopt if id is not in the vocab. The view lives as long as the model.
  std::optional<std::string_view> IdToToken(int32_t id) const;
  // max id + 1 over the vocab.
  int32_t size() const { return static_cast<int32_t>(id_present_.size()); }
  // Number of vocab entries (HF's get_vocab_size, which places new added tokens).
  int64_t entry_count() const { return vocab_count_; }

 private:
  struct MergeTable {
    // Open addressing over (left id, right id) -> (rank, merged id).
    std::vector<uint64_t> keys;
    std::vector<int32_t> ranks, results;
    uint64_t mask = 0;
    void Reserve(size_t n);
    bool Insert(uint64_t key, int32_t rank, int32_t result);  // false if already present
    bool Find(uint64_t key, int32_t* rank, int32_t* result) const;
  };
  void MergeWord(std::string_view word, std::vector<int32_t>& out) const;
  std::optional<int32_t> Lookup(std::string_view s) const;
  std::string_view TokenAt(size_t id) const {
    return std::string_view(token_bytes_).substr(token_begin_[id], token_begin_[id + 1] - token_begin_[id]);
  }

  // The vocab, compact: a 65k-token vocab as one std::string per token plus a node-based hash map
  // held ~6 MB for the model's life; as one byte string and two int arrays it is ~1.5 MB.
  std::string token_bytes_;             // every token's bytes, by id
  std::vector<uint32_t> token_begin_;   // id -> offset into token_bytes_; [max id + 1] = its size
  std::vector<bool> id_present_;        // false for ids that are holes in the vocab
  std::vector<int32_t> vocab_slots_;    // open addressing on the token's hash: id, or -1 if empty
  uint64_t vocab_mask_ = 0;
  int64_t vocab_count_ = 0;
  MergeTable merges_;
  std::optional<std::string> unk_token_;
  int32_t unk_id_ = -1;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  std::vector<int32_t> byte_tokens_;  // <0xXX> ids for byte_fallback, -1 if absent
  // Fast path for the first lookup of a word's characters: id of each single-character token below
  // U+0800 (covers the ByteLevel alphabet), -1 if none. Only used without prefix/suffix.
  std::vector<int32_t> small_char_ids_;

  // Word cache. Guarded by cache_mutex_: const methods may be called from many threads.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace lfm
