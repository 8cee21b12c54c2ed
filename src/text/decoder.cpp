#include "text/decoder.h"

#include "base/utf8.h"
#include "text/byte_level.h"
#include "text/string_pattern.h"
#include "text/utf8_lossy.h"

namespace lfm {
namespace {

using tokenizer_json::Json;
using tokenizer_json::Where;

class SequenceDecoder : public Decoder {
 public:
  std::vector<std::unique_ptr<Decoder>> steps;
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (const auto& d : steps) d->DecodeChain(tokens);
  }
  void DecodeToken(std::string& token, bool first) const override {
    for (const auto& d : steps) d->DecodeToken(token, first);
  }
};

class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& t : tokens) byte_level::DecodeToken(t, bytes);
    tokens.assign(1, Utf8Lossy(bytes));  // HF: String::from_utf8_lossy over the whole sequence
  }
  void DecodeToken(std::string& token, bool) const override {
    std::string bytes;
    byte_level::DecodeToken(token, bytes);
    token = std::move(bytes);
  }
};

class MetaspaceDecoder : public Decoder {
 public:
  std::string replacement;
  bool strip_first = true;  // prepend_scheme != never
  void Apply(std::string& token, bool first) const {
    std::string out;
    out.reserve(token.size());
    size_t pos = 0;
    while (pos < token.size()) {
      if (token.compare(pos, replacement.size(), replacement) == 0) {
        out += ' ';
        pos += replacement.size();
      } else {
        out += token[pos++];
      }
    }
    if (first && strip_first && !out.empty() && out[0] == ' ') out.erase(0, 1);
    token = std::move(out);
  }
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) Apply(tokens[i], i == 0);
  }
  void DecodeToken(std::string& token, bool first) const override { Apply(token, first); }
};

class ReplaceDecoder : public Decoder {
 public:
  StringPattern pattern;
  std::string content;
  void Apply(std::string& t) const {
    std::vector<std::pair<size_t, size_t>> matches;
    // Token strings here are valid UTF-8 (vocab strings); a failed match leaves the token as it is.
    if (!pattern.FindAll(t, matches).ok() || matches.empty()) return;
    std::string out;
    size_t prev = 0;
    for (auto [b, e] : matches) {
      out.append(t, prev, b - prev);
      out += content;
      prev = e;
    }
    out.append(t, prev, std::string::npos);
    t = std::move(out);
  }
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) Apply(t);
  }
  void DecodeToken(std::string& token, bool) const override { Apply(token); }
};

// "<0xAB>" -> 0xAB, or -1.
int ByteToken(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (int k = 3; k < 5; ++k) {
    char c = t[k];
    int d = (c >= '0' && c <= '9') ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10
          : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    auto flush = [&] {
      if (bytes.empty()) return;
      if (IsValidUtf8(bytes)) {
        out.push_back(bytes);
      } else {
        for (size_t k = 0; k < bytes.size(); ++k) out.push_back("\xEF\xBF\xBD");  // HF: one U+FFFD per byte
      }
      bytes.clear();
    };
    for (std::string& t : tokens) {
      int b = ByteToken(t);
      if (b >= 0) {
        bytes += static_cast<char>(b);
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
  void DecodeToken(std::string& token, bool) const override {
    int b = ByteToken(token);
    if (b >= 0) token.assign(1, static_cast<char>(b));
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
  void DecodeToken(std::string&, bool) const override {}
};

class StripDecoder : public Decoder {
 public:
  uint32_t content = ' ';
  size_t start = 0, stop = 0;
  void DecodeChain(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) Apply(t, start, stop);
  }
  // Files put Strip after Fuse, so it trims the start of the whole text: in a stream that is the first
  // token only, and the end (stop) is never known, so it is not trimmed there.
  void DecodeToken(std::string& token, bool first) const override { Apply(token, first ? start : 0, 0); }

 private:
  void Apply(std::string& token, size_t n_start, size_t n_stop) const {
    // Cut on character boundaries but keep the bytes as they are (they may be raw <0xXX> bytes).
    std::vector<std::pair<size_t, uint32_t>> chars;  // (byte offset, code point)
    for (size_t i = 0; i < token.size();) {
      size_t at = i;
      chars.emplace_back(at, DecodeUtf8(token, i));
    }
    size_t b = 0;
    for (size_t i = 0; i < n_start && i < chars.size() && chars[i].second == content; ++i) b = i + 1;
    size_t e = chars.size();
    for (size_t i = 0; i < n_stop && i < chars.size(); ++i) {
      size_t idx = chars.size() - i - 1;
      if (chars[idx].second != content || idx < b) break;
      e = idx;
    }
    size_t from = b < chars.size() ? chars[b].first : token.size();
    size_t to = e < chars.size() ? chars[e].first : token.size();
    token = to > from ? token.substr(from, to - from) : std::string();
  }
};

}  // namespace

Result<std::unique_ptr<Decoder>> DecoderFromJson(const Json& j, const Where& w) {
  LFM_ASSIGN_OR_RETURN(std::string type, tokenizer_json::TypeOf(j, w));
  if (type == "Sequence") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "decoders"}));
    const Json* list = tokenizer_json::Find(j, "decoders");
    if (list == nullptr || !list->is_array()) return w.Key("decoders").Invalid("missing or not an array");
    auto seq = std::make_unique<SequenceDecoder>();
    for (size_t i = 0; i < list->size(); ++i) {
      LFM_ASSIGN_OR_RETURN(auto step, DecoderFromJson((*list)[i], w.Key("decoders").Index(i)));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<Decoder>(std::move(seq));
  }
  if (type == "ByteLevel") {
    // The options only matter for offsets; decoding is the plain byte table.
    LFM_RETURN_IF_ERROR(
        tokenizer_json::CheckKeys(j, w, {"type", "add_prefix_space", "trim_offsets", "use_regex"}));
    return std::unique_ptr<Decoder>(std::make_unique<ByteLevelDecoder>());
  }
  if (type == "Metaspace") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(
        j, w, {"type", "replacement", "prepend_scheme", "split", "add_prefix_space", "str_rep"}));
    auto d = std::make_unique<MetaspaceDecoder>();
    LFM_ASSIGN_OR_RETURN(d->replacement, tokenizer_json::GetString(j, w, "replacement"));
    if (d->replacement.empty()) return w.Key("replacement").Invalid("must not be empty");
    LFM_ASSIGN_OR_RETURN(auto scheme, tokenizer_json::GetOptString(j, w, "prepend_scheme"));
    if (scheme) {
      if (*scheme != "always" && *scheme != "first" && *scheme != "never")
        return w.Key("prepend_scheme").Invalid("unknown value '" + *scheme + "'");
      d->strip_first = *scheme != "never";
    } else {
      LFM_ASSIGN_OR_RETURN(d->strip_first, tokenizer_json::GetBool(j, w, "add_prefix_space", true));
    }
    return std::unique_ptr<Decoder>(std::move(d));
  }
  if (type == "Replace") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "pattern", "content"}));
    auto d = std::make_unique<ReplaceDecoder>();
    const Json* p = tokenizer_json::Find(j, "pattern");
    if (p == nullptr) return w.Key("pattern").Invalid("missing");
    LFM_ASSIGN_OR_RETURN(d->pattern, StringPattern::FromJson(*p, w.Key("pattern")));
    LFM_ASSIGN_OR_RETURN(d->content, tokenizer_json::GetString(j, w, "content"));
    return std::unique_ptr<Decoder>(std::move(d));
  }
  if (type == "ByteFallback") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return std::unique_ptr<Decoder>(std::make_unique<ByteFallbackDecoder>());
  }
  if (type == "Fuse") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type"}));
    return std::unique_ptr<Decoder>(std::make_unique<FuseDecoder>());
  }
  if (type == "Strip") {
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(j, w, {"type", "content", "start", "stop"}));
    auto d = std::make_unique<StripDecoder>();
    LFM_ASSIGN_OR_RETURN(std::string c, tokenizer_json::GetString(j, w, "content"));
    size_t i = 0;
    if (c.empty() || (d->content = DecodeUtf8(c, i), i != c.size()))
      return w.Key("content").Invalid("must be exactly one character");
    LFM_ASSIGN_OR_RETURN(int64_t start, tokenizer_json::GetInt(j, w, "start"));
    LFM_ASSIGN_OR_RETURN(int64_t stop, tokenizer_json::GetInt(j, w, "stop"));
    if (start < 0 || stop < 0) return w.Invalid("start/stop must be >= 0");
    d->start = static_cast<size_t>(start);
    d->stop = static_cast<size_t>(stop);
    return std::unique_ptr<Decoder>(std::move(d));
  }
  if (type == "WordPiece" || type == "BPEDecoder" || type == "CTC") {
    return w.Key("type").Unsupported("decoder '" + type + "' is not implemented");
  }
  return w.Key("type").Invalid("unknown decoder type '" + type + "'");
}

}  // namespace lfm
