#include "engine/gguf_tokenizer.h"

#include <array>
#include <nlohmann/json.hpp>

namespace lfm {

namespace {

// llama.cpp's token types (llama_token_type in its vocab code): 3 = control, 4 = user-defined.
constexpr int64_t kTokenTypeControl = 3;
constexpr int64_t kTokenTypeUserDefined = 4;

// The pre-tokenizers llama.cpp runs with the LLaMA-3 split regex; LFM2's converter writes "lfm2".
constexpr std::array<const char*, 4> kLlama3Pre = {"lfm2", "llama3", "llama-v3", "llama-bpe"};
constexpr const char* kLlama3Regex =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

const GgufValue* FindArray(const GgufHeader& h, const std::string& key) {
  const GgufValue* v = h.Find(key);
  return v != nullptr && v->kind == GgufValue::kArray ? v : nullptr;
}

}  // namespace

Result<std::string> TokenizerJsonFromGguf(const GgufHeader& h, const std::string& path) {
  const GgufValue* model = h.Find("tokenizer.ggml.model");
  if (model == nullptr || model->kind != GgufValue::kString || model->s != "gpt2")
    return Unsupported(path + ": only byte-level BPE GGUF tokenizers (tokenizer.ggml.model \"gpt2\") are supported");
  const GgufValue* pre = h.Find("tokenizer.ggml.pre");
  const std::string pre_name = pre != nullptr && pre->kind == GgufValue::kString ? pre->s : "";
  bool known_pre = false;
  for (const char* p : kLlama3Pre) known_pre = known_pre || pre_name == p;
  if (!known_pre)
    return Unsupported(path + ": GGUF pre-tokenizer '" + pre_name + "' is not supported (LFM2 uses 'lfm2')");
  const GgufValue* tokens = FindArray(h, "tokenizer.ggml.tokens");
  const GgufValue* types = FindArray(h, "tokenizer.ggml.token_type");
  const GgufValue* merges = FindArray(h, "tokenizer.ggml.merges");
  if (tokens == nullptr || tokens->elem != GgufValue::kString || merges == nullptr ||
      merges->elem != GgufValue::kString)
    return InvalidArgument(path + ": GGUF tokenizer needs string arrays tokenizer.ggml.tokens and tokenizer.ggml.merges");
  if (types != nullptr && (types->elem != GgufValue::kInt || types->size() != tokens->size()))
    return InvalidArgument(path + ": tokenizer.ggml.token_type must hold one number per token");

  // A std::map-backed object: ordered_json's lookup is linear, which made 65k insertions O(n^2)
  // (6 s for a real vocabulary). Key order does not matter in a vocab: ids are the values.
  nlohmann::json vocab = nlohmann::json::object();
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (size_t i = 0; i < tokens->strings.size(); ++i) {
    const std::string& t = tokens->strings[i];
    vocab[t] = i;
    const int64_t type = types != nullptr ? types->ints[i] : 1;
    if (type == kTokenTypeControl || type == kTokenTypeUserDefined)
      added.push_back({{"id", i}, {"content", t}, {"single_word", false}, {"lstrip", false}, {"rstrip", false},
                       {"normalized", false}, {"special", type == kTokenTypeControl}});
  }
  nlohmann::ordered_json merge_pairs = nlohmann::ordered_json::array();
  for (const std::string& m : merges->strings) {
    // Byte-level tokens hold no plain space (it is written as U+0120), so the first space splits the pair.
    const size_t sp = m.find(' ');
    if (sp == std::string::npos) return InvalidArgument(path + ": GGUF merge '" + m + "' is not two tokens");
    merge_pairs.push_back({m.substr(0, sp), m.substr(sp + 1)});
  }

  nlohmann::ordered_json tj;
  tj["version"] = "1.0";
  tj["truncation"] = nullptr;
  tj["padding"] = nullptr;
  tj["added_tokens"] = added;
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"}, {"pattern", {{"Regex", kLlama3Regex}}}, {"behavior", "Isolated"}, {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  // llama.cpp adds BOS for these pre-tokenizers unless the file says otherwise.
  const GgufValue* add_bos = h.Find("tokenizer.ggml.add_bos_token");
  const GgufValue* bos = h.Find("tokenizer.ggml.bos_token_id");
  const bool with_bos = (add_bos == nullptr || add_bos->kind != GgufValue::kBool || add_bos->b) && bos != nullptr &&
                        bos->kind == GgufValue::kInt && bos->i >= 0 &&
                        static_cast<size_t>(bos->i) < tokens->strings.size();
  if (with_bos) {
    const std::string& b = tokens->strings[static_cast<size_t>(bos->i)];
    tj["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single", {{{"SpecialToken", {{"id", b}, {"type_id", 0}}}}, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair",
         {{{"SpecialToken", {{"id", b}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
          {{"SpecialToken", {{"id", b}, {"type_id", 1}}}},
          {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{b, {{"id", b}, {"ids", {bos->i}}, {"tokens", {b}}}}}}};
  } else {
    tj["post_processor"] = nullptr;
  }
  tj["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  tj["model"] = {{"type", "BPE"},
                 {"dropout", nullptr},
                 {"unk_token", nullptr},
                 {"continuing_subword_prefix", nullptr},
                 {"end_of_word_suffix", nullptr},
                 {"fuse_unk", false},
                 {"byte_fallback", false},
                 {"ignore_merges", true},
                 {"vocab", nlohmann::ordered_json(vocab)},
                 {"merges", merge_pairs}};
  return tj.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace lfm
