#include "text/pre_tokenizer.h"

#include <optional>
#include <string>
#include <utility>

#include "base/utf8.h"
#include "text/byte_level.h"
#include "text/regex.h"
#include "text/string_pattern.h"

namespace lfm {
namespace {

using tokenizer_json::Json;
using tokenizer_json::Where;

// Applies fn(text, at_origin, out) to every non-token split, replacing it by what fn appends.
template <typename Fn>
Status ForEachTextSplit(std::vector<TextSplit>& splits, Fn&& fn) {
  std::vector<TextSplit> out;
  out.reserve(splits.size());
  for (TextSplit& s : splits) {
    if (s.token_id >= 0) {
      out.push_back(std::move(s));
      continue;
    }
    LFM_RETURN_IF_ERROR(fn(s, out));
  }
  splits = std::move(out);
  return Status::Ok();
}

// Splits s at the pattern's matches with the given behaviour, appending non-empty pieces to out.
Status SplitWith(const StringPattern& pattern, SplitBehavior behavior, bool invert, const TextSplit& s,
                 std::vector<TextSplit>& out) {
  std::vector<std::pair<size_t, size_t>> matches;
  LFM_RETURN_IF_ERROR(pattern.FindAll(s.text, matches));
  for (auto [b, e] : SplitRanges(s.text.size(), matches, behavior, invert)) {
    TextSplit piece;
    piece.text = s.text.substr(b, e - b);
    piece.at_origin = s.at_origin && b == 0;
    out.push_back(std::move(piece));
  }
  return Status::Ok();
}

Result<SplitBehavior> ParseBehavior(const Json& j, const Where& w, std::string_view key) {
  LFM_ASSIGN_OR_RETURN(std::string b, tokenizer_json::GetString(j, w, key));
  if (b == "Removed") return SplitBehavior::kRemoved;
  if (b == "Isolated") return SplitBehavior::kIsolated;
  if (b == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (b == "Contiguous") return SplitBehavior::kContiguous;
  return w.Key(key).Invalid("unknown split behavior '" + b + "'");
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  StringPattern pattern;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  Status PreTokenize(std::vector<TextSplit>& splits) const override {
    return ForEachTextSplit(splits, [&](TextSplit& s, std::vector<TextSplit>& out) {
      return SplitWith(pattern, behavior, invert, s, out);
    });
  }
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  Status PreTokenize(std::vector<TextSplit>& splits) const override {
    for (const auto& p : steps) LFM_RETURN_IF_ERROR(p->PreTokenize(splits));
    return Status::Ok();
  }
};

// GPT-2's split regex, used by ByteLevel when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  bool add_prefix_space = true;
  std::optional<StringPattern> split;  // set when use_regex
  Status PreTokenize(std::vector<TextSplit>& splits) const override {
    return ForEachTextSplit(splits, [&](TextSplit& s, std::vector<TextSplit>& out) -> Status {
      if (add_prefix_space && (s.text.empty() || s.text[0] != ' ')) s.text.insert(0, " ");
      size_t first = out.size();
      if (split) {
        LFM_RETURN_IF_ERROR(SplitWith(*split, SplitBehavior::kIsolated, false, s, out));
      } else if (!s.text.empty()) {
        out.push_back(std::move(s));
      }
      for (size_t i = first; i < out.size(); ++i) {
        std::string mapped;
        mapped.reserve(out[i].text.size() + 4);
        byte_level::EncodeBytes(out[i].text, mapped);
        out[i].text = std::move(mapped);
      }
      return Status::Ok();
    });
  }
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  std::string replacement;
  PrependScheme prepend = PrependScheme::kAlways;
  bool split = true;
  Status PreTokenize(std::vector<TextSplit>& splits) const override {
    StringPattern rep = StringPattern::Literal(replacement);
    return ForEachTextSplit(splits, [&](TextSplit& s, std::vector<TextSplit>& out) -> Status {
      std::string t;
      t.reserve(s.text.size() + 8);
      for (char c : s.text) {
        if (c == ' ') {
          t += replacement;
        } else {
          t += c;
        }
      }
      bool starts = t.compare(0, replacement.size(), replacement) == 0;
      if (!starts && (prepend == PrependScheme::kAlways || (prepend == PrependScheme::kFirst && s.at_origin)))
        t.insert(0, replacement);
      s.text = std::move(t);
      if (!split) {
        if (!s.text.empty()) out.push_back(std::move(s));
        return Status::Ok();
      }
      return SplitWith(rep, SplitBehavior::kMergedWithNext, false, s, out);
    });
  }
};

Result<std::unique_ptr<PreTokenizer>> RegexSplit(std::string_view pattern, SplitBehavior behavior,
                                                 bool invert, const Where& w) {
  auto p = std::make_unique<SplitPreTokenizer>();
  LFM_ASSIGN_OR_RETURN(p->pattern, StringPattern::FromJson(Json{{"Regex", std::string(pattern)}}, w));
  p->behavior = behavior;
  p->invert = invert;
  return std::unique_ptr<PreTokenizer>(std::move(p));
}

}  // namespace

Result<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const Json& j, const Where& w) {
  LFM_ASSIGN_OR_RETURN(std::string type, tokenizer_json::TypeOf(j, w));
  if (type == "Sequence") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "pretokenizers"}));
    const Json* list = tokenizer_json::Find(j, "pretokenizers");
    if (list == nullptr || !list->is_array()) return w.Key("pretokenizers").Invalid("missing or not an array");
    auto seq = std::make_unique<SequencePreTokenizer>();
    for (size_t i = 0; i < list->size(); ++i) {
      LFM_ASSIGN_OR_RETURN(auto step, PreTokenizerFromJson((*list)[i], w.Key("pretokenizers").Index(i)));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<PreTokenizer>(std::move(seq));
  }
  if (type == "Split") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "pattern", "behavior", "invert"}));
    auto p = std::make_unique<SplitPreTokenizer>();
    const Json* pat = tokenizer_json::Find(j, "pattern");
    if (pat == nullptr) return w.Key("pattern").Invalid("missing");
    LFM_ASSIGN_OR_RETURN(p->pattern, StringPattern::FromJson(*pat, w.Key("pattern")));
    LFM_ASSIGN_OR_RETURN(p->behavior, ParseBehavior(j, w, "behavior"));
    LFM_ASSIGN_OR_RETURN(p->invert, tokenizer_json::GetBool(j, w, "invert", false));
    return std::unique_ptr<PreTokenizer>(std::move(p));
  }
  if (type == "ByteLevel") {
    // trim_offsets only affects offsets, which lfm.cpp does not produce.
    LFM_RETURN_IF_ERROR(
        tokenizer_json::CheckKeys(j, w, {"type", "add_prefix_space", "trim_offsets", "use_regex"}));
    auto p = std::make_unique<ByteLevelPreTokenizer>();
    LFM_ASSIGN_OR_RETURN(p->add_prefix_space, tokenizer_json::GetBool(j, w, "add_prefix_space", true));
    LFM_ASSIGN_OR_RETURN(bool use_regex, tokenizer_json::GetBool(j, w, "use_regex", true));
    if (use_regex) {
      LFM_ASSIGN_OR_RETURN(StringPattern pat,
                           StringPattern::FromJson(Json{{"Regex", std::string(kGpt2Pattern)}}, w));
      p->split = std::move(pat);
    }
    return std::unique_ptr<PreTokenizer>(std::move(p));
  }
  if (type == "Metaspace") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(
        j, w, {"type", "replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"}));
    auto p = std::make_unique<MetaspacePreTokenizer>();
    LFM_ASSIGN_OR_RETURN(p->replacement, tokenizer_json::GetString(j, w, "replacement"));
    size_t i = 0;
    if (p->replacement.empty() || (DecodeUtf8(p->replacement, i), i != p->replacement.size()))
      return w.Key("replacement").Invalid("must be exactly one character");
    LFM_ASSIGN_OR_RETURN(auto scheme, tokenizer_json::GetOptString(j, w, "prepend_scheme"));
    if (scheme) {
      if (*scheme == "always") p->prepend = PrependScheme::kAlways;
      else if (*scheme == "first") p->prepend = PrependScheme::kFirst;
      else if (*scheme == "never") p->prepend = PrependScheme::kNever;
      else return w.Key("prepend_scheme").Invalid("unknown value '" + *scheme + "'");
    } else {
      // Older files: add_prefix_space (default true) instead of prepend_scheme.
      LFM_ASSIGN_OR_RETURN(bool aps, tokenizer_json::GetBool(j, w, "add_prefix_space", true));
      p->prepend = aps ? PrependScheme::kAlways : PrependScheme::kNever;
    }
    LFM_ASSIGN_OR_RETURN(p->split, tokenizer_json::GetBool(j, w, "split", true));
    return std::unique_ptr<PreTokenizer>(std::move(p));
  }
  if (type == "Whitespace") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return RegexSplit(R"(\w+|[^\w\s]+)", SplitBehavior::kRemoved, true, w);
  }
  if (type == "WhitespaceSplit") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return RegexSplit(R"(\s)", SplitBehavior::kRemoved, false, w);
  }
  if (type == "Digits") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "individual_digits"}));
    LFM_ASSIGN_OR_RETURN(bool individual, tokenizer_json::GetBool(j, w, "individual_digits", false));
    return RegexSplit(R"(\p{N})", individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false,
                      w);
  }
  if (type == "Punctuation") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "behavior"}));
    SplitBehavior b = SplitBehavior::kIsolated;
    if (tokenizer_json::Find(j, "behavior") != nullptr) {
      LFM_ASSIGN_OR_RETURN(b, ParseBehavior(j, w, "behavior"));
    }
    return RegexSplit(R"([\p{P}!-/:-@\[-`{-~])", b, false, w);
  }
  if (type == "BertPreTokenizer" || type == "CharDelimiterSplit" || type == "UnicodeScripts" ||
      type == "FixedLength") {
    return w.Key("type").Unsupported("pre-tokenizer '" + type + "' is not implemented");
  }
  return w.Key("type").Invalid("unknown pre-tokenizer type '" + type + "'");
}

}  // namespace lfm
