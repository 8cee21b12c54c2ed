#include "text/tokenizer.h"

#include <unordered_map>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "base/utf8.h"
#include "text/added_vocabulary.h"
#include "text/bpe_model.h"
#include "text/decoder.h"
#include "text/json_fields.h"
#include "text/normalizer.h"
#include "text/post_processor.h"
#include "text/pre_tokenizer.h"
#include "text/utf8_lossy.h"

namespace lfm {

using tokenizer_json::Json;
using tokenizer_json::Where;

struct Tokenizer::Impl {
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<BpeModel> model;
  std::unique_ptr<PostProcessor> post_processor;
  std::unique_ptr<Decoder> decoder;
  AddedVocabulary added;
  std::unordered_map<int32_t, size_t> added_by_id;  // id -> index in added.tokens()
  std::unordered_map<std::string, int32_t> added_by_content;
  int32_t vocab_size = 0;

  const AddedToken* Added(int32_t id) const {
    auto it = added_by_id.find(id);
    return it == added_by_id.end() ? nullptr : &added.tokens()[it->second];
  }
  // The token string of id (added tokens first, as HF), or nullopt.
  std::optional<std::string_view> TokenString(int32_t id) const {
    if (const AddedToken* a = Added(id)) return std::string_view(a->content);
    return model->IdToToken(id);
  }
};

namespace {

Result<std::vector<AddedToken>> ParseAddedTokens(const Json& list, const Where& w) {
  if (!list.is_array()) return w.Invalid("expected an array");
  std::vector<AddedToken> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& t = list[i];
    Where wt = w.Index(i);
    LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(
        t, wt, {"id", "content", "single_word", "lstrip", "rstrip", "normalized", "special"}));
    AddedToken a;
    LFM_ASSIGN_OR_RETURN(int64_t id, tokenizer_json::GetInt(t, wt, "id"));
    if (id < 0 || id >= (int64_t{1} << 30)) return wt.Key("id").Invalid("id out of range");
    a.id = static_cast<int32_t>(id);
    LFM_ASSIGN_OR_RETURN(a.content, tokenizer_json::GetString(t, wt, "content"));
    LFM_ASSIGN_OR_RETURN(a.single_word, tokenizer_json::GetBool(t, wt, "single_word", false));
    LFM_ASSIGN_OR_RETURN(a.lstrip, tokenizer_json::GetBool(t, wt, "lstrip", false));
    LFM_ASSIGN_OR_RETURN(a.rstrip, tokenizer_json::GetBool(t, wt, "rstrip", false));
    LFM_ASSIGN_OR_RETURN(a.special, tokenizer_json::GetBool(t, wt, "special", false));
    // HF default: normalized = !special.
    LFM_ASSIGN_OR_RETURN(a.normalized, tokenizer_json::GetBool(t, wt, "normalized", !a.special));
    out.push_back(std::move(a));
  }
  return out;
}

// HF's AddedVocabulary::add_tokens decides the ids, not the "id" fields of the file (it only warns when they
// differ): a content already added or in the model vocab keeps that id; a new one gets the next id after the
// model's vocab (entry count) or after the largest added id. Exact duplicates and empty contents are skipped.
std::vector<AddedToken> AssignAddedIds(std::vector<AddedToken> in, const BpeModel& model) {
  std::vector<AddedToken> out;
  std::unordered_map<std::string, size_t> by_content;  // content -> index in out
  const int64_t model_count = model.entry_count();
  int64_t max_added = -1;
  for (AddedToken& a : in) {
    if (a.content.empty()) continue;
    bool duplicate = false;
    for (const AddedToken& o : out)
      duplicate = duplicate || (o.content == a.content && o.single_word == a.single_word && o.lstrip == a.lstrip &&
                                o.rstrip == a.rstrip && o.normalized == a.normalized && o.special == a.special);
    if (duplicate) continue;
    int64_t id;
    if (auto it = by_content.find(a.content); it != by_content.end()) {
      id = out[it->second].id;
    } else if (auto vid = model.TokenToId(a.content)) {
      id = *vid;
    } else if (max_added < 0) {
      id = model_count;
    } else {
      id = (max_added >= model_count || model_count == 0) ? max_added + 1 : model_count;
    }
    a.id = static_cast<int32_t>(id);
    max_added = std::max(max_added, id);
    if (auto it = by_content.find(a.content); it != by_content.end()) {
      out[it->second] = a;  // a re-added content replaces the earlier entry
    } else {
      by_content.emplace(a.content, out.size());
      out.push_back(a);
    }
  }
  return out;
}

Result<Tokenizer::Impl*> Build(const Json& root, const std::string& origin, Tokenizer::Impl* impl) {
  Where w{&origin, ""};
  LFM_RETURN_IF_ERROR(tokenizer_json::CheckKeys(root, w,
                                                {"version", "truncation", "padding", "added_tokens",
                                                 "normalizer", "pre_tokenizer", "model", "post_processor",
                                                 "decoder"}));
  for (const char* key : {"truncation", "padding"}) {
    const Json* v = tokenizer_json::Find(root, key);
    if (v != nullptr && !v->is_null())
      return w.Key(key).Unsupported("must be null (lfm.cpp does not truncate or pad inside the tokenizer)");
  }
  const Json* model = tokenizer_json::Find(root, "model");
  if (model == nullptr || model->is_null()) return w.Key("model").Invalid("missing");
  LFM_RETURN_IF_ERROR(tokenizer_json::ExpectObject(*model, w.Key("model")));
  // Files written by HF always carry model.type; very old BPE files may omit it.
  std::string model_type = "BPE";
  if (tokenizer_json::Find(*model, "type") != nullptr) {
    LFM_ASSIGN_OR_RETURN(model_type, tokenizer_json::GetString(*model, w.Key("model"), "type"));
  }
  if (model_type == "WordPiece" || model_type == "Unigram" || model_type == "WordLevel")
    return w.Key("model").Key("type").Unsupported("model type '" + model_type + "' is not implemented");
  if (model_type != "BPE") return w.Key("model").Key("type").Invalid("unknown model type '" + model_type + "'");
  LFM_ASSIGN_OR_RETURN(impl->model, BpeModel::FromJson(*model, w.Key("model")));

  if (const Json* n = tokenizer_json::Find(root, "normalizer"); n != nullptr && !n->is_null()) {
    LFM_ASSIGN_OR_RETURN(impl->normalizer, NormalizerFromJson(*n, w.Key("normalizer")));
  }
  if (const Json* p = tokenizer_json::Find(root, "pre_tokenizer"); p != nullptr && !p->is_null()) {
    LFM_ASSIGN_OR_RETURN(impl->pre_tokenizer, PreTokenizerFromJson(*p, w.Key("pre_tokenizer")));
  }
  if (const Json* p = tokenizer_json::Find(root, "post_processor"); p != nullptr && !p->is_null()) {
    LFM_ASSIGN_OR_RETURN(impl->post_processor, PostProcessorFromJson(*p, w.Key("post_processor")));
  }
  if (const Json* d = tokenizer_json::Find(root, "decoder"); d != nullptr && !d->is_null()) {
    LFM_ASSIGN_OR_RETURN(impl->decoder, DecoderFromJson(*d, w.Key("decoder")));
  }

  std::vector<AddedToken> added;
  if (const Json* a = tokenizer_json::Find(root, "added_tokens"); a != nullptr && !a->is_null()) {
    LFM_ASSIGN_OR_RETURN(added, ParseAddedTokens(*a, w.Key("added_tokens")));
  }
  LFM_ASSIGN_OR_RETURN(impl->added,
                       AddedVocabulary::Build(AssignAddedIds(std::move(added), *impl->model), impl->normalizer.get()));
  impl->vocab_size = impl->model->size();
  const auto& toks = impl->added.tokens();
  for (size_t i = 0; i < toks.size(); ++i) {
    impl->added_by_id.emplace(toks[i].id, i);  // the first entry for an id wins
    impl->added_by_content.emplace(toks[i].content, toks[i].id);
    impl->vocab_size = std::max(impl->vocab_size, toks[i].id + 1);
  }
  return impl;
}

}  // namespace

Tokenizer::Tokenizer() = default;

Result<Tokenizer> Tokenizer::FromFile(const std::string& tokenizer_json_path) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(tokenizer_json_path, file_limits::kTokenizer));
  return FromJson(text, tokenizer_json_path);
}

Result<Tokenizer> Tokenizer::FromJson(std::string_view json_text, const std::string& origin_for_errors) {
  LFM_ASSIGN_OR_RETURN(Json root, ParseJson(json_text, origin_for_errors));
  auto impl = std::make_shared<Impl>();
  try {
    LFM_ASSIGN_OR_RETURN(Impl * built, Build(root, origin_for_errors, impl.get()));
    (void)built;
  } catch (const std::exception& e) {
    // nlohmann accessors throw on type mismatches the checks above missed; never let that escape.
    return InvalidArgument(origin_for_errors + ": malformed tokenizer.json: " + e.what());
  }
  return Tokenizer(std::shared_ptr<const Impl>(std::move(impl)));
}

Result<std::vector<int32_t>> Tokenizer::Encode(std::string_view text, bool add_special_tokens) const {
  std::vector<int32_t> ids;
  if (!impl_) return ids;
  std::string repaired;
  if (!IsValidUtf8(text)) {
    repaired = Utf8Lossy(text);
    text = repaired;
  }
  std::vector<TextSplit> splits;
  LFM_RETURN_IF_ERROR(impl_->added.ExtractAndNormalize(text, impl_->normalizer.get(), splits));
  if (impl_->pre_tokenizer) LFM_RETURN_IF_ERROR(impl_->pre_tokenizer->PreTokenize(splits));
  ids.reserve(text.size() / 3 + 4);
  for (const TextSplit& s : splits) {
    if (s.token_id >= 0) {
      ids.push_back(s.token_id);
    } else {
      impl_->model->Tokenize(s.text, ids);
    }
  }
  if (add_special_tokens && impl_->post_processor) impl_->post_processor->Process(ids);
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  if (!impl_) return "";
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const AddedToken* a = impl_->Added(id);
    if (a != nullptr && skip_special_tokens && a->special) continue;
    if (const auto s = impl_->TokenString(id)) tokens.emplace_back(*s);
  }
  std::string out;
  if (impl_->decoder) {
    impl_->decoder->DecodeChain(tokens);
    for (const auto& t : tokens) out += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) out += ' ';
      out += tokens[i];
    }
  }
  return Utf8Lossy(out);
}

std::string Tokenizer::TokenBytes(int32_t id) const { return TokenBytes(id, false); }

std::string Tokenizer::TokenBytes(int32_t id, bool first) const {
  if (!impl_) return "";
  const auto s = impl_->TokenString(id);
  if (!s) return "";
  std::string t(*s);
  if (impl_->decoder) {
    impl_->decoder->DecodeToken(t, first);
  } else if (!first) {
    t.insert(0, " ");  // HF joins decoder-less tokens with spaces
  }
  return t;
}

std::string Tokenizer::IdToToken(int32_t id) const {
  if (!impl_) return "";
  const auto s = impl_->TokenString(id);
  return s ? std::string(*s) : std::string();
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (!impl_) return std::nullopt;
  if (auto it = impl_->added_by_content.find(std::string(token)); it != impl_->added_by_content.end())
    return it->second;
  return impl_->model->TokenToId(token);
}

bool Tokenizer::IsSpecial(int32_t id) const {
  if (!impl_) return false;
  const AddedToken* a = impl_->Added(id);
  return a != nullptr && a->special;
}

int32_t Tokenizer::vocab_size() const { return impl_ ? impl_->vocab_size : 0; }

std::vector<std::string> Tokenizer::SpecialTokenStrings() const {
  std::vector<std::string> out;
  if (!impl_) return out;
  for (const AddedToken& a : impl_->added.tokens())
    if (a.special) out.push_back(a.content);
  return out;
}

std::optional<int32_t> Tokenizer::bos_id() const {
  if (!impl_ || !impl_->post_processor) return std::nullopt;
  return impl_->post_processor->bos_id();
}

}  // namespace lfm
