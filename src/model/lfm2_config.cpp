#include "model/lfm2_config.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/mapped_file.h"

namespace lfm {

using nlohmann::json;

int Lfm2Config::num_attention_layers() const {
  int n = 0;
  for (auto t : layer_types) n += t == Lfm2LayerType::kAttention;
  return n;
}

int64_t Lfm2EffectiveFfDim(int64_t ff, bool auto_adjust, bool has_multiplier, double multiplier,
                           int64_t multiple_of) {
  if (!auto_adjust) return ff;
  ff = static_cast<int64_t>(2.0 * static_cast<double>(ff) / 3.0);
  if (has_multiplier) ff = static_cast<int64_t>(multiplier * static_cast<double>(ff));
  if (multiple_of > 0) ff = multiple_of * ((ff + multiple_of - 1) / multiple_of);
  return ff;
}

namespace {

// Reads fields of one JSON object, with error messages "<file>: <prefix><field>: ...".
class Reader {
 public:
  Reader(const json& obj, std::string file, std::string prefix)
      : obj_(obj), file_(std::move(file)), prefix_(std::move(prefix)) {}

  bool Has(const char* key) const { return obj_.contains(key) && !obj_.at(key).is_null(); }
  const json& At(const char* key) const { return obj_.at(key); }
  Status Error(const std::string& field, const std::string& what) const {
    return InvalidArgument(file_ + ": " + prefix_ + field + ": " + what);
  }
  Status Unsup(const std::string& field, const std::string& what) const {
    return Unsupported(file_ + ": " + prefix_ + field + ": " + what);
  }

  // Integer in [lo, hi].
  Result<int64_t> Int(const char* key, int64_t lo, int64_t hi) const {
    if (!Has(key)) return NotFound(file_ + ": " + prefix_ + key + ": missing");
    const json& v = obj_.at(key);
    if (!v.is_number_integer()) return Error(key, "expected an integer, got " + v.dump());
    int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) {
      return Error(key, std::to_string(x) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return x;
  }
  Result<double> Num(const char* key) const {
    if (!Has(key)) return NotFound(file_ + ": " + prefix_ + key + ": missing");
    const json& v = obj_.at(key);
    if (!v.is_number()) return Error(key, "expected a number, got " + v.dump());
    return v.get<double>();
  }
  Result<bool> Bool(const char* key) const {
    const json& v = obj_.at(key);
    if (!v.is_boolean()) return Error(key, "expected true or false, got " + v.dump());
    return v.get<bool>();
  }
  // Optional integer, else `def`.
  Result<int64_t> IntOr(const char* key, int64_t lo, int64_t hi, int64_t def) const {
    if (!Has(key)) return def;
    return Int(key, lo, hi);
  }

 private:
  const json& obj_;
  std::string file_;
  std::string prefix_;
};

constexpr int64_t kMaxDim = 1 << 20;

Status ParseTextConfig(const json& tc, const std::string& file, const std::string& prefix, Lfm2Config& c) {
  Reader r(tc, file, prefix);
  if (r.Has("model_type")) {
    if (!r.At("model_type").is_string() || r.At("model_type").get<std::string>() != "lfm2") {
      return r.Unsup("model_type", r.At("model_type").dump() + " is not lfm2");
    }
  }
  // hidden size: hidden_size, or the older block_dim alias; both present must agree.
  if (r.Has("hidden_size")) {
    LFM_ASSIGN_OR_RETURN(int64_t h, r.Int("hidden_size", 1, kMaxDim));
    c.hidden_size = static_cast<int>(h);
    if (r.Has("block_dim")) {
      LFM_ASSIGN_OR_RETURN(int64_t b, r.Int("block_dim", 1, kMaxDim));
      if (b != h) return r.Error("block_dim", std::to_string(b) + " differs from hidden_size " + std::to_string(h));
    }
  } else {
    LFM_ASSIGN_OR_RETURN(int64_t b, r.Int("block_dim", 1, kMaxDim));
    c.hidden_size = static_cast<int>(b);
  }
  LFM_ASSIGN_OR_RETURN(int64_t vocab, r.Int("vocab_size", 1, 1 << 24));
  c.vocab_size = static_cast<int>(vocab);
  LFM_ASSIGN_OR_RETURN(int64_t layers, r.Int("num_hidden_layers", 1, 4096));
  c.num_hidden_layers = static_cast<int>(layers);
  const char* heads_key = r.Has("num_attention_heads") ? "num_attention_heads" : "num_heads";
  LFM_ASSIGN_OR_RETURN(int64_t heads, r.Int(heads_key, 1, 4096));
  if (r.Has("num_attention_heads") && r.Has("num_heads")) {
    LFM_ASSIGN_OR_RETURN(int64_t h2, r.Int("num_heads", 1, 4096));
    if (h2 != heads) return r.Error("num_heads", "differs from num_attention_heads");
  }
  c.num_attention_heads = static_cast<int>(heads);
  LFM_ASSIGN_OR_RETURN(int64_t kv, r.IntOr("num_key_value_heads", 1, 4096, heads));
  c.num_key_value_heads = static_cast<int>(kv);
  if (heads % kv != 0) {
    return r.Error("num_key_value_heads", std::to_string(kv) + " does not divide num_attention_heads " +
                                              std::to_string(heads));
  }
  if (r.Has("head_dim")) {
    LFM_ASSIGN_OR_RETURN(int64_t hd, r.Int("head_dim", 2, 4096));
    c.head_dim = static_cast<int>(hd);
  } else {
    if (c.hidden_size % heads != 0) {
      return r.Error(heads_key, std::to_string(heads) + " does not divide hidden_size " +
                                    std::to_string(c.hidden_size));
    }
    c.head_dim = c.hidden_size / static_cast<int>(heads);
  }
  if (c.head_dim % 2 != 0) return r.Error("head_dim", "must be even for rotary embeddings");

  // Layer kinds: layer_types, or the older full_attn_idxs list.
  if (r.Has("layer_types")) {
    const json& lt = r.At("layer_types");
    if (!lt.is_array()) return r.Error("layer_types", "expected an array");
    if (static_cast<int64_t>(lt.size()) != layers) {
      return r.Error("layer_types", "has " + std::to_string(lt.size()) + " entries but num_hidden_layers is " +
                                        std::to_string(layers));
    }
    for (size_t i = 0; i < lt.size(); ++i) {
      std::string t = lt[i].is_string() ? lt[i].get<std::string>() : lt[i].dump();
      if (t == "conv") {
        c.layer_types.push_back(Lfm2LayerType::kConv);
      } else if (t == "full_attention") {
        c.layer_types.push_back(Lfm2LayerType::kAttention);
      } else {
        return r.Unsup("layer_types[" + std::to_string(i) + "]", "unknown layer type '" + t + "'");
      }
    }
    if (r.Has("full_attn_idxs")) {
      const json& fa = r.At("full_attn_idxs");
      if (!fa.is_array()) return r.Error("full_attn_idxs", "expected an array");
      std::vector<Lfm2LayerType> alt(layers, Lfm2LayerType::kConv);
      for (const auto& v : fa) {
        if (v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() < layers) {
          alt[v.get<int64_t>()] = Lfm2LayerType::kAttention;
        }
      }
      if (alt != c.layer_types) return r.Error("full_attn_idxs", "disagrees with layer_types");
    }
  } else if (r.Has("full_attn_idxs")) {
    const json& fa = r.At("full_attn_idxs");
    if (!fa.is_array()) return r.Error("full_attn_idxs", "expected an array");
    c.layer_types.assign(layers, Lfm2LayerType::kConv);
    for (size_t i = 0; i < fa.size(); ++i) {
      if (!fa[i].is_number_integer() || fa[i].get<int64_t>() < 0 || fa[i].get<int64_t>() >= layers) {
        return r.Error("full_attn_idxs[" + std::to_string(i) + "]",
                       fa[i].dump() + " is not a layer index below num_hidden_layers " + std::to_string(layers));
      }
      c.layer_types[fa[i].get<int64_t>()] = Lfm2LayerType::kAttention;
    }
  } else {
    return NotFound(file + ": " + prefix + "layer_types: missing (and no full_attn_idxs)");
  }

  // FFN width (facts §1.1): block_ff_dim first, else intermediate_size.
  const char* ff_key = r.Has("block_ff_dim") ? "block_ff_dim" : "intermediate_size";
  LFM_ASSIGN_OR_RETURN(int64_t ff, r.Int(ff_key, 1, 1 << 22));
  c.raw_ff_dim = static_cast<int>(ff);
  bool auto_adjust = false;
  if (r.Has("block_auto_adjust_ff_dim")) {
    LFM_ASSIGN_OR_RETURN(auto_adjust, r.Bool("block_auto_adjust_ff_dim"));
  }
  bool has_mult = r.Has("block_ffn_dim_multiplier");
  double mult = 1.0;
  if (has_mult) {
    LFM_ASSIGN_OR_RETURN(mult, r.Num("block_ffn_dim_multiplier"));
    if (!(mult > 0 && mult < 64)) return r.Error("block_ffn_dim_multiplier", "must be in (0, 64)");
  }
  LFM_ASSIGN_OR_RETURN(int64_t multiple_of, r.IntOr("block_multiple_of", 1, 1 << 16, 256));
  c.intermediate_size = static_cast<int>(Lfm2EffectiveFfDim(ff, auto_adjust, has_mult, mult, multiple_of));
  if (r.Has("block_use_swiglu")) {
    LFM_ASSIGN_OR_RETURN(bool swiglu, r.Bool("block_use_swiglu"));
    if (!swiglu) return r.Unsup("block_use_swiglu", "false (non-SwiGLU FFN) is not implemented");
  }

  LFM_ASSIGN_OR_RETURN(int64_t lc, r.IntOr("conv_L_cache", 1, 64, 3));
  c.conv_L_cache = static_cast<int>(lc);
  if (r.Has("conv_bias")) {
    LFM_ASSIGN_OR_RETURN(c.conv_bias, r.Bool("conv_bias"));
  }

  const char* eps_key = r.Has("norm_eps") ? "norm_eps" : "block_norm_eps";
  if (r.Has(eps_key)) {
    LFM_ASSIGN_OR_RETURN(double eps, r.Num(eps_key));
    if (!(eps > 0 && eps < 1)) return r.Error(eps_key, "must be in (0, 1)");
    c.norm_eps = static_cast<float>(eps);
  }

  // RoPE: rope_theta, or rope_parameters {rope_theta, rope_type}; only the default rope is implemented.
  bool have_theta = false;
  if (r.Has("rope_parameters")) {
    const json& rp = r.At("rope_parameters");
    if (!rp.is_object()) return r.Error("rope_parameters", "expected an object");
    Reader rr(rp, file, prefix + "rope_parameters.");
    if (rr.Has("rope_type")) {
      const json& t = rr.At("rope_type");
      if (!t.is_string() || t.get<std::string>() != "default") {
        return rr.Unsup("rope_type", t.dump() + " is not supported (only \"default\")");
      }
    }
    for (auto it = rp.begin(); it != rp.end(); ++it) {
      if (it.key() != "rope_type" && it.key() != "rope_theta" && !it.value().is_null()) {
        return rr.Unsup(it.key(), "RoPE parameter not supported with the default rope");
      }
    }
    if (rr.Has("rope_theta")) {
      LFM_ASSIGN_OR_RETURN(c.rope_theta, rr.Num("rope_theta"));
      have_theta = true;
    }
  }
  if (r.Has("rope_scaling")) {
    const json& rs = r.At("rope_scaling");
    std::string type;
    if (rs.is_object()) {
      if (rs.contains("rope_type") && rs["rope_type"].is_string()) type = rs["rope_type"].get<std::string>();
      if (rs.contains("type") && rs["type"].is_string()) type = rs["type"].get<std::string>();
    }
    if (type != "default") return r.Unsup("rope_scaling", rs.dump() + " is not supported");
  }
  if (r.Has("rope_theta")) {
    LFM_ASSIGN_OR_RETURN(double th, r.Num("rope_theta"));
    if (have_theta && th != c.rope_theta) return r.Error("rope_theta", "differs from rope_parameters.rope_theta");
    c.rope_theta = th;
    have_theta = true;
  }
  if (!(c.rope_theta > 1)) return r.Error("rope_theta", "must be > 1");

  LFM_ASSIGN_OR_RETURN(int64_t mpe, r.IntOr("max_position_embeddings", 1, int64_t{1} << 30, 128000));
  c.max_position_embeddings = static_cast<int>(mpe);

  // Tied embeddings: tie_embedding (original key) or tie_word_embeddings; default true (HF Lfm2Config).
  for (const char* key : {"tie_word_embeddings", "tie_embedding"}) {
    if (r.Has(key)) {
    LFM_ASSIGN_OR_RETURN(c.tie_word_embeddings, r.Bool(key));
  }
  }
  LFM_ASSIGN_OR_RETURN(int64_t bos, r.IntOr("bos_token_id", 0, vocab - 1, c.bos_token_id));
  c.bos_token_id = static_cast<int>(bos);
  LFM_ASSIGN_OR_RETURN(int64_t pad, r.IntOr("pad_token_id", 0, vocab - 1, c.pad_token_id));
  c.pad_token_id = static_cast<int>(pad);
  if (r.Has("eos_token_id")) {
    const json& e = r.At("eos_token_id");
    std::vector<json> ids = e.is_array() ? std::vector<json>(e.begin(), e.end()) : std::vector<json>{e};
    c.eos_token_ids.clear();
    for (const auto& id : ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab) {
        return r.Error("eos_token_id", id.dump() + " is not a token id below vocab_size");
      }
      c.eos_token_ids.push_back(static_cast<int>(id.get<int64_t>()));
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Lfm2Config> ParseLfm2Config(const std::string& json_text, const std::string& path) {
  LFM_ASSIGN_OR_RETURN(json j, ParseJson(json_text, path));
  if (!j.is_object()) return InvalidArgument(path + ": expected a JSON object");
  if (!j.contains("model_type") || !j["model_type"].is_string()) {
    return InvalidArgument(path + ": model_type: missing");
  }
  Lfm2Config c;
  c.model_type = j["model_type"].get<std::string>();
  try {
    if (c.model_type == "lfm2") {
      LFM_RETURN_IF_ERROR(ParseTextConfig(j, path, "", c));
    } else if (c.model_type == "lfm2-vl" || c.model_type == "lfm2_vl") {
      c.is_vl = true;
      c.weight_prefix = "model.language_model.";
      if (!j.contains("text_config") || !j["text_config"].is_object()) {
        return InvalidArgument(path + ": text_config: missing (required for " + c.model_type + ")");
      }
      // The VL wrapper can state the tie for the whole model; the text config's own key wins.
      if (j.contains("tie_word_embeddings") && j["tie_word_embeddings"].is_boolean()) {
        c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
      }
      LFM_RETURN_IF_ERROR(ParseTextConfig(j["text_config"], path, "text_config.", c));
      json vl = j;
      vl.erase("text_config");
      c.vl_config_json = vl.dump();
    } else {
      return Unsupported(path + ": model_type: '" + c.model_type + "' is not lfm2, lfm2-vl or lfm2_vl");
    }
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return c;
}

Result<Lfm2Config> LoadLfm2Config(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kConfig));
  return ParseLfm2Config(text, path);
}

}  // namespace lfm
