#include "engine/synthetic_tokenizer.h"

#include <algorithm>
#include <map>
#include <random>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/utf8.h"

namespace lfm {

namespace {

// A little English, code and JSON so that common words become single tokens.
constexpr const char* kTrainingText = R"TXT(
The quick brown fox jumps over the lazy dog. This is a small random model made by lfm.cpp for tests
and benchmarks. Its weights are random numbers, so the text it writes has no meaning at all. To run a
real model, download a Hugging Face directory such as LiquidAI/LFM2.5-VL-450M and point the -m option at
it. The model reads the image, describes what it sees, and answers the question in the prompt.
Hello world, this is a test of the tokenizer. What is in this image? A photo of a cat sitting on a
table next to a window, with a cup of coffee and a book. The weather today is sunny and warm.
{"name": "value", "count": 42, "items": [1, 2, 3], "ok": true, "data": null, "caption": "a dog"}
def main(args):
    for i in range(10):
        print("hello", i)
    return 0
int main(int argc, char** argv) { return 0; }
Please describe the image in detail. List the objects you can see, the colours and the text in it.
The user asked the assistant to write a short story about a robot that learns to paint pictures.
Numbers: 0 1 2 3 4 5 6 7 8 9 10 100 1000 2024 2025 2026 3.14 -1 +1 1e-5 0.5
)TXT";

bool IsLetter(unsigned char c) { return std::isalpha(c) || c >= 0x80; }

// Splits text roughly as the LLaMA-3 pre-tokenizer regex does (letters with one optional leading
// space, digit runs, punctuation runs, whitespace); good enough to learn plausible merges.
std::vector<std::string> RoughWords(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    auto c = static_cast<unsigned char>(s[i]);
    if (c == ' ' && i + 1 < s.size() && IsLetter(static_cast<unsigned char>(s[i + 1]))) ++j;
    if (j < s.size() && IsLetter(static_cast<unsigned char>(s[j]))) {
      while (j < s.size() && IsLetter(static_cast<unsigned char>(s[j]))) ++j;
    } else if (std::isdigit(c)) {
      while (j < s.size() && j - i < 3 && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
    } else if (std::isspace(c)) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
    } else {
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) &&
             !IsLetter(static_cast<unsigned char>(s[j])) && !std::isdigit(static_cast<unsigned char>(s[j])))
        ++j;
    }
    out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::vector<std::string> SpecialTokens() {
  std::vector<std::string> t(501);
  const char* first[] = {"<|pad|>", "<|startoftext|>", "<|endoftext|>", "<|fim_pre|>", "<|fim_mid|>",
                         "<|fim_suf|>", "<|im_start|>", "<|im_end|>", "<|tool_list_start|>",
                         "<|tool_list_end|>", "<|tool_call_start|>", "<|tool_call_end|>",
                         "<|tool_response_start|>", "<|tool_response_end|>"};
  for (int i = 0; i < 14; ++i) t[i] = first[i];
  for (int i = 14; i < 396; ++i) t[i] = "<|reserved_" + std::to_string(i - 10) + "|>";
  t[396] = "<image>";
  for (int r = 1; r <= 10; ++r)
    for (int c = 1; c <= 10; ++c)
      t[397 + (r - 1) * 10 + (c - 1)] = "<|img_row_" + std::to_string(r) + "_col_" + std::to_string(c) + "|>";
  t[497] = "<|img_thumbnail|>";
  t[498] = "<|image_start|>";
  t[499] = "<|image_end|>";
  t[500] = "<|image_split|>";
  return t;
}

constexpr const char* kChatTemplate =
    "{{- bos_token -}}\n"
    "{%- set ns = namespace(system_prompt='') -%}\n"
    "{%- if messages and messages[0]['role'] == 'system' -%}\n"
    "  {%- set ns.system_prompt = messages[0]['content'] -%}\n"
    "  {%- set messages = messages[1:] -%}\n"
    "{%- endif -%}\n"
    "{%- if tools -%}\n"
    "  {%- if ns.system_prompt -%}{%- set ns.system_prompt = ns.system_prompt + '\\n\\n' -%}{%- endif -%}\n"
    "  {%- set ns.system_prompt = ns.system_prompt + 'List of tools: ' + (tools | tojson) -%}\n"
    "{%- endif -%}\n"
    "{%- if ns.system_prompt -%}\n"
    "  {{- '<|im_start|>system\\n' + ns.system_prompt + '<|im_end|>\\n' -}}\n"
    "{%- endif -%}\n"
    "{%- for message in messages -%}\n"
    "  {{- '<|im_start|>' + message['role'] + '\\n' -}}\n"
    "  {%- if message['content'] is string -%}\n"
    "    {{- message['content'] -}}\n"
    "  {%- elif message['content'] is not none -%}\n"
    "    {%- for item in message['content'] -%}\n"
    "      {%- if item['type'] == 'image' -%}{{- '<image>' -}}\n"
    "      {%- elif item['type'] == 'text' -%}{{- item['text'] -}}{%- endif -%}\n"
    "    {%- endfor -%}\n"
    "  {%- endif -%}\n"
    "  {{- '<|im_end|>\\n' -}}\n"
    "{%- endfor -%}\n"
    "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

}  // namespace

std::string ByteLevelEncode(const std::string& bytes) {
  static const std::vector<uint32_t> table = [] {
    std::vector<uint32_t> t(256);
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? b : 256 + n++;
    }
    return t;
  }();
  std::string out;
  for (unsigned char c : bytes) AppendUtf8(table[c], out);
  return out;
}

SyntheticTokenizerFiles MakeSyntheticTokenizer(int vocab_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::string> specials = SpecialTokens();
  const int first_regular = static_cast<int>(specials.size());

  std::vector<std::string> vocab;  // regular tokens, byte-level encoded
  std::unordered_set<std::string> known;
  for (int b = 0; b < 256; ++b) {
    vocab.push_back(ByteLevelEncode(std::string(1, static_cast<char>(b))));
    known.insert(vocab.back());
  }
  std::vector<std::pair<std::string, std::string>> merges;
  const size_t target = static_cast<size_t>(vocab_size - first_regular);

  // 1) Learn merges on the built-in text (classic BPE: merge the most frequent adjacent pair).
  std::map<std::string, int> word_counts;
  for (const auto& w : RoughWords(kTrainingText)) word_counts[ByteLevelEncode(w)]++;
  std::vector<std::pair<std::vector<std::string>, int>> words;
  for (const auto& [w, c] : word_counts) {
    std::vector<std::string> syms;
    size_t i = 0;
    while (i < w.size()) {
      size_t start = i;
      DecodeUtf8(w, i);
      syms.push_back(w.substr(start, i - start));
    }
    words.emplace_back(std::move(syms), c);
  }
  while (vocab.size() < target) {
    std::map<std::pair<std::string, std::string>, int> pairs;
    for (const auto& [syms, c] : words)
      for (size_t i = 0; i + 1 < syms.size(); ++i) pairs[{syms[i], syms[i + 1]}] += c;
    auto best = pairs.end();
    for (auto it = pairs.begin(); it != pairs.end(); ++it)
      if (best == pairs.end() || it->second > best->second) best = it;
    if (best == pairs.end() || best->second < 2) break;
    auto [a, b] = best->first;
    std::string ab = a + b;
    if (known.insert(ab).second) vocab.push_back(ab);
    merges.emplace_back(a, b);
    for (auto& [syms, c] : words) {
      std::vector<std::string> next;
      for (size_t i = 0; i < syms.size(); ++i) {
        if (i + 1 < syms.size() && syms[i] == a && syms[i + 1] == b) {
          next.push_back(ab);
          ++i;
        } else {
          next.push_back(syms[i]);
        }
      }
      syms = std::move(next);
    }
  }
  // 2) Fill the rest with random merges of existing tokens (short ones, so tokens stay plausible).
  while (vocab.size() < target) {
    const std::string& a = vocab[rng() % vocab.size()];
    const std::string& b = vocab[rng() % std::min<size_t>(vocab.size(), 4096)];
    if (a.size() + b.size() > 24) continue;
    std::string ab = a + b;
    if (!known.insert(ab).second) continue;
    merges.emplace_back(a, b);
    vocab.push_back(std::move(ab));
  }

  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  nlohmann::ordered_json vocab_json = nlohmann::ordered_json::object();
  nlohmann::ordered_json added_decoder = nlohmann::ordered_json::object();
  for (int i = 0; i < first_regular; ++i) {
    added.push_back({{"id", i}, {"content", specials[i]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
    vocab_json[specials[i]] = i;
    added_decoder[std::to_string(i)] = {{"content", specials[i]}, {"lstrip", false}, {"normalized", false},
                                        {"rstrip", false}, {"single_word", false}, {"special", true}};
  }
  // ordered_json's operator[] searches its keys linearly: 65k inserts that way took ~2.5 s (half a minute
  // under ASan), in every test that writes a model. The regular tokens are distinct (`known` above), so
  // they are appended without the search, unless one equals a special token (then operator[] keeps that
  // key's first position, as before).
  std::unordered_set<std::string_view> special_keys(specials.begin(), specials.begin() + first_regular);
  auto& vocab_entries = vocab_json.get_ref<nlohmann::ordered_json::object_t&>();
  vocab_entries.reserve(vocab_entries.size() + vocab.size());
  for (size_t i = 0; i < vocab.size(); ++i) {
    const int id = first_regular + static_cast<int>(i);
    if (special_keys.count(vocab[i]) != 0)
      vocab_json[vocab[i]] = id;
    else
      vocab_entries.std::vector<nlohmann::ordered_json::object_t::value_type>::emplace_back(vocab[i], id);
  }
  nlohmann::ordered_json merges_json = nlohmann::ordered_json::array();
  for (const auto& [a, b] : merges) merges_json.push_back({a, b});

  SyntheticTokenizerFiles files;
  auto& tj = files.tokenizer_json;
  tj["version"] = "1.0";
  tj["truncation"] = nullptr;
  tj["padding"] = nullptr;
  tj["added_tokens"] = added;
  tj["normalizer"] = nullptr;
  tj["pre_tokenizer"] = {
      {"type", "Sequence"},
      {"pretokenizers",
       {{{"type", "Split"},
         {"pattern",
          {{"Regex",
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
            "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}}},
         {"behavior", "Isolated"},
         {"invert", false}},
        {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
  tj["post_processor"] = {
      {"type", "TemplateProcessing"},
      {"single", {{{"SpecialToken", {{"id", "<|startoftext|>"}, {"type_id", 0}}}},
                  {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
      {"pair", {{{"SpecialToken", {{"id", "<|startoftext|>"}, {"type_id", 0}}}},
                {{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
                {{"SpecialToken", {{"id", "<|startoftext|>"}, {"type_id", 1}}}},
                {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
      {"special_tokens",
       {{"<|startoftext|>", {{"id", "<|startoftext|>"}, {"ids", {1}}, {"tokens", {"<|startoftext|>"}}}}}}};
  tj["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  tj["model"] = {{"type", "BPE"},           {"dropout", nullptr},     {"unk_token", nullptr},
                 {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                 {"fuse_unk", false},       {"byte_fallback", false}, {"ignore_merges", true},
                 {"vocab", vocab_json},     {"merges", merges_json}};

  files.chat_template = kChatTemplate;
  auto& tc = files.tokenizer_config_json;
  tc["added_tokens_decoder"] = added_decoder;
  tc["bos_token"] = "<|startoftext|>";
  tc["eos_token"] = "<|im_end|>";
  tc["pad_token"] = "<|pad|>";
  tc["image_token"] = "<image>";
  tc["image_start_token"] = "<|image_start|>";
  tc["image_end_token"] = "<|image_end|>";
  tc["image_thumbnail"] = "<|img_thumbnail|>";
  tc["clean_up_tokenization_spaces"] = false;
  tc["legacy"] = false;
  tc["model_max_length"] = 128000;
  tc["tokenizer_class"] = "PreTrainedTokenizerFast";
  return files;
}

}  // namespace lfm
