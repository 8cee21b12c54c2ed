// Fuzzes Encode/Decode/streaming on arbitrary bytes with two small built-in tokenizers (byte-level BPE with
// the Llama-3 split regex and added tokens; Metaspace-style BPE with byte_fallback and unk). The first byte
// picks the tokenizer. For the byte-level one, decode(encode(s)) must give s back (after UTF-8 repair).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/utf8.h"
#include "text/detokenizer.h"
#include "text/tokenizer.h"
#include "text/utf8_lossy.h"

namespace {

std::string ByteLevelJson() {
  // Vocab: the 256 byte-level characters plus a few merges.
  std::string vocab, sep;
  int id = 0, next = 0;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    uint32_t cp = printable ? static_cast<uint32_t>(b) : static_cast<uint32_t>(256 + next++);
    std::string ch;
    lfm::AppendUtf8(cp, ch);
    std::string esc = ch == "\"" ? "\\\"" : ch == "\\" ? "\\\\" : ch;
    vocab += sep + "\"" + esc + "\": " + std::to_string(id++);
    sep = ", ";
  }
  vocab += ", \"he\": 256, \"ll\": 257, \"hell\": 258, \"hello\": 259, \"Ġh\": 260, \"Ġhe\": 261";
  return std::string(R"({"version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [
      {"id": 262, "content": "<|im_end|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
      {"id": 263, "content": "<|s|>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
      {"id": 264, "content": "py", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false}],
    "normalizer": null,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
      {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<|s|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": null, "special_tokens": {"<|s|>": {"id": "<|s|>", "ids": [263], "tokens": ["<|s|>"]}}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": true,
      "vocab": {)") + vocab + R"(},
      "merges": [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["Ġ", "h"], ["Ġh", "e"]]}})";
}

std::string MetaspaceJson() {
  std::string vocab = "\"<unk>\": 0, \"<s>\": 1, \"▁\": 2, \"a\": 3, \"b\": 4, \"▁a\": 5, \"ab\": 6, \"▁ab\": 7";
  for (int b = 0; b < 256; ++b) {
    char name[16];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    vocab += ", \"" + std::string(name) + "\": " + std::to_string(8 + b);
  }
  return std::string(R"({"version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 1, "content": "<s>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
    "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
    "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
    "post_processor": {"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
      "end_of_word_suffix": null, "fuse_unk": true, "byte_fallback": true, "ignore_merges": false,
      "vocab": {)") + vocab + R"(}, "merges": [["▁", "a"], ["a", "b"], ["▁", "ab"]]}})";
}

const lfm::Tokenizer& Get(int which) {
  static const lfm::Tokenizer* toks[2] = {nullptr, nullptr};
  if (toks[which] == nullptr) {
    auto r = lfm::Tokenizer::FromJson(which == 0 ? ByteLevelJson() : MetaspaceJson(), "built-in");
    if (!r.ok()) {
      std::fprintf(stderr, "built-in tokenizer %d failed to load: %s\n", which, r.status().ToString().c_str());
      std::abort();
    }
    toks[which] = new lfm::Tokenizer(std::move(r).value());
  }
  return *toks[which];
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int which = data[0] & 1;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const lfm::Tokenizer& tok = Get(which);
  auto encoded = tok.Encode(text, (data[0] & 2) != 0);
  if (!encoded.ok()) return 0;  // a regex resource limit, reported as an error
  const std::vector<int32_t>& ids = *encoded;
  for (int32_t id : ids) {
    if (id < 0 || id >= tok.vocab_size()) {
      std::fprintf(stderr, "id %d out of range\n", id);
      std::abort();
    }
  }
  std::string decoded = tok.Decode(ids, false);
  if (!lfm::IsValidUtf8(decoded)) {
    std::fprintf(stderr, "Decode gave invalid UTF-8\n");
    std::abort();
  }
  lfm::StreamingDetokenizer stream(tok, false);
  std::string streamed;
  for (int32_t id : ids) {
    std::string piece = stream.Push(id);
    if (!lfm::IsValidUtf8(piece)) {
      std::fprintf(stderr, "streamed piece is invalid UTF-8\n");
      std::abort();
    }
    streamed += piece;
  }
  streamed += stream.Flush();
  if (which == 0) {
    // Byte-level, no normalizer: the round trip is exact on the repaired text, with or without BOS.
    std::string expected = ((data[0] & 2) != 0 ? "<|s|>" : "") + lfm::Utf8Lossy(text);
    if (decoded != expected || streamed != expected) {
      std::fprintf(stderr, "round trip mismatch\n");
      std::abort();
    }
  }
  (void)tok.Decode(ids, true);
  return 0;
}
