#include "model/lfm2_gguf.h"

#include <cmath>

namespace lfm {

std::string Lfm2HfNameFromGguf(const std::string& g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"token_embd.weight", "model.embed_tokens.weight"},
      {"token_embd_norm.weight", "model.embedding_norm.weight"},
      {"output.weight", "lm_head.weight"},
  };
  for (auto [from, to] : kTop)
    if (g == from) return to;
  if (g.rfind("blk.", 0) != 0) return "";
  const size_t dot = g.find('.', 4);
  if (dot == std::string::npos || dot == 4) return "";
  const std::string layer = g.substr(4, dot - 4);
  for (char ch : layer)
    if (ch < '0' || ch > '9') return "";
  static const std::pair<const char*, const char*> kLayer[] = {
      {"attn_norm.weight", "operator_norm.weight"},
      {"ffn_norm.weight", "ffn_norm.weight"},
      {"ffn_gate.weight", "feed_forward.w1.weight"},
      {"ffn_up.weight", "feed_forward.w3.weight"},
      {"ffn_down.weight", "feed_forward.w2.weight"},
      {"attn_q.weight", "self_attn.q_proj.weight"},
      {"attn_k.weight", "self_attn.k_proj.weight"},
      {"attn_v.weight", "self_attn.v_proj.weight"},
      {"attn_output.weight", "self_attn.out_proj.weight"},
      {"attn_q_norm.weight", "self_attn.q_layernorm.weight"},
      {"attn_k_norm.weight", "self_attn.k_layernorm.weight"},
      {"shortconv.in_proj.weight", "conv.in_proj.weight"},
      {"shortconv.out_proj.weight", "conv.out_proj.weight"},
      {"shortconv.conv.weight", "conv.conv.weight"},
  };
  const std::string rest = g.substr(dot + 1);
  for (auto [from, to] : kLayer)
    if (rest == from) return "model.layers." + layer + "." + to;
  return "";
}

std::string Lfm2GgufNameFromHf(const std::string& hf) {
  for (const char* top : {"token_embd.weight", "token_embd_norm.weight", "output.weight"})
    if (Lfm2HfNameFromGguf(top) == hf) return top;
  const std::string prefix = "model.layers.";
  if (hf.rfind(prefix, 0) != 0) return "";
  const size_t dot = hf.find('.', prefix.size());
  if (dot == std::string::npos) return "";
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  for (const char* suffix :
       {"attn_norm.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight", "attn_q.weight",
        "attn_k.weight", "attn_v.weight", "attn_output.weight", "attn_q_norm.weight", "attn_k_norm.weight",
        "shortconv.in_proj.weight", "shortconv.out_proj.weight", "shortconv.conv.weight"}) {
    const std::string g = "blk." + layer + "." + suffix;
    if (Lfm2HfNameFromGguf(g) == hf) return g;
  }
  return "";
}

Result<Lfm2Config> Lfm2ConfigFromGguf(const GgufHeader& h, const std::string& path) {
  auto need = [&](const std::string& key) -> Result<const GgufValue*> {
    const GgufValue* v = h.Find(key);
    if (v == nullptr) return NotFound(path + ": GGUF metadata " + key + ": missing");
    return v;
  };
  auto integer = [&](const std::string& key, int64_t lo, int64_t hi) -> Result<int64_t> {
    LFM_ASSIGN_OR_RETURN(const GgufValue* v, need(key));
    if (v->kind != GgufValue::kInt || v->i < lo || v->i > hi) {
      return InvalidArgument(path + ": GGUF metadata " + key + ": expected an integer in [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "]");
    }
    return v->i;
  };
  LFM_ASSIGN_OR_RETURN(const GgufValue* arch, need("general.architecture"));
  if (arch->kind != GgufValue::kString || arch->s != "lfm2") {
    return Unsupported(path + ": GGUF metadata general.architecture: '" + arch->s + "' is not lfm2");
  }
  Lfm2Config c;
  c.model_type = "lfm2";
  LFM_ASSIGN_OR_RETURN(int64_t D, integer("lfm2.embedding_length", 1, 1 << 20));
  LFM_ASSIGN_OR_RETURN(int64_t L, integer("lfm2.block_count", 1, 4096));
  LFM_ASSIGN_OR_RETURN(int64_t F, integer("lfm2.feed_forward_length", 1, 1 << 22));
  LFM_ASSIGN_OR_RETURN(int64_t H, integer("lfm2.attention.head_count", 1, 4096));
  LFM_ASSIGN_OR_RETURN(int64_t lc, integer("lfm2.shortconv.l_cache", 1, 64));
  c.hidden_size = static_cast<int>(D);
  c.num_hidden_layers = static_cast<int>(L);
  c.intermediate_size = c.raw_ff_dim = static_cast<int>(F);
  c.num_attention_heads = static_cast<int>(H);
  c.conv_L_cache = static_cast<int>(lc);
  // head_count_kv: per-layer array, 0 marks a conv layer (how llama.cpp tells the kinds apart).
  LFM_ASSIGN_OR_RETURN(const GgufValue* kv, need("lfm2.attention.head_count_kv"));
  if (kv->kind != GgufValue::kArray || kv->elem != GgufValue::kInt || static_cast<int64_t>(kv->ints.size()) != L) {
    return InvalidArgument(path + ": GGUF metadata lfm2.attention.head_count_kv: expected one integer per layer (" +
                           std::to_string(L) + ")");
  }
  for (int64_t l = 0; l < L; ++l) {
    const int64_t n = kv->ints[l];
    if (n == 0) {
      c.layer_types.push_back(Lfm2LayerType::kConv);
      continue;
    }
    if (n < 0 || H % n != 0 || (c.num_key_value_heads != 0 && c.num_key_value_heads != n)) {
      return InvalidArgument(path + ": GGUF metadata lfm2.attention.head_count_kv[" + std::to_string(l) +
                             "]: " + std::to_string(n) + " does not fit head_count " + std::to_string(H));
    }
    c.num_key_value_heads = static_cast<int>(n);
    c.layer_types.push_back(Lfm2LayerType::kAttention);
  }
  if (c.num_key_value_heads == 0) c.num_key_value_heads = c.num_attention_heads;
  if (h.Find("lfm2.attention.key_length")) {
    LFM_ASSIGN_OR_RETURN(int64_t hd, integer("lfm2.attention.key_length", 2, 4096));
    c.head_dim = static_cast<int>(hd);
  } else {
    if (D % H != 0) {
      return InvalidArgument(path + ": GGUF metadata lfm2.attention.head_count: " + std::to_string(H) +
                             " does not divide embedding_length " + std::to_string(D));
    }
    c.head_dim = static_cast<int>(D / H);
  }
  if (const GgufValue* e = h.Find("lfm2.attention.layer_norm_rms_epsilon")) {
    if (e->kind != GgufValue::kFloat || !(e->f > 0 && e->f < 1)) {
      return InvalidArgument(path + ": GGUF metadata lfm2.attention.layer_norm_rms_epsilon: must be in (0, 1)");
    }
    c.norm_eps = static_cast<float>(e->f);
  }
  if (const GgufValue* r = h.Find("lfm2.rope.freq_base")) {
    if (r->kind != GgufValue::kFloat || !(r->f > 1)) {
      return InvalidArgument(path + ": GGUF metadata lfm2.rope.freq_base: must be > 1");
    }
    c.rope_theta = r->f;
  }
  if (const GgufValue* s = h.Find("lfm2.rope.scaling.type"); s && !(s->kind == GgufValue::kString && s->s == "none")) {
    return Unsupported(path + ": GGUF metadata lfm2.rope.scaling.type: only unscaled RoPE is supported");
  }
  c.max_position_embeddings = 128000;
  if (h.Find("lfm2.context_length")) {
    LFM_ASSIGN_OR_RETURN(int64_t ctx, integer("lfm2.context_length", 1, int64_t{1} << 30));
    c.max_position_embeddings = static_cast<int>(ctx);
  }
  // Vocabulary: lfm2.vocab_size, else the token list, else the embedding table's rows.
  int64_t vocab = 0;
  if (h.Find("lfm2.vocab_size")) {
    LFM_ASSIGN_OR_RETURN(vocab, integer("lfm2.vocab_size", 1, 1 << 24));
  } else if (const GgufValue* t = h.Find("tokenizer.ggml.tokens"); t && t->kind == GgufValue::kArray) {
    vocab = static_cast<int64_t>(t->size());
  } else {
    for (const auto& t : h.tensors)
      if (t.name == "token_embd.weight" && t.shape.size() == 2) vocab = t.shape[0];
  }
  if (vocab <= 0) return NotFound(path + ": GGUF metadata lfm2.vocab_size: missing");
  c.vocab_size = static_cast<int>(vocab);
  for (auto [key, field] : {std::pair{"tokenizer.ggml.bos_token_id", &c.bos_token_id},
                            std::pair{"tokenizer.ggml.padding_token_id", &c.pad_token_id}}) {
    if (h.Find(key)) {
      LFM_ASSIGN_OR_RETURN(int64_t id, integer(key, 0, vocab - 1));
      *field = static_cast<int>(id);
    }
  }
  if (h.Find("tokenizer.ggml.eos_token_id")) {
    LFM_ASSIGN_OR_RETURN(int64_t id, integer("tokenizer.ggml.eos_token_id", 0, vocab - 1));
    c.eos_token_ids = {static_cast<int>(id)};
  }
  c.tie_word_embeddings = true;
  for (const auto& t : h.tensors)
    if (t.name == "output.weight") c.tie_word_embeddings = false;
  return c;
}

Result<Lfm2Gguf> OpenLfm2Gguf(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  std::shared_ptr<GgufFile> file(std::move(f));
  Lfm2Gguf out;
  LFM_ASSIGN_OR_RETURN(out.config, Lfm2ConfigFromGguf(file->header(), path));
  auto store = std::make_shared<WeightStore>();
  for (const auto& t : file->header().tensors) {
    std::string hf = Lfm2HfNameFromGguf(t.name);
    if (hf.empty()) return Unsupported(path + ": tensor '" + t.name + "' is not part of an LFM2 text model");
    TensorView v = file->View(t);
    v.name = hf;
    // llama.cpp's converter squeezes the depthwise conv kernel [D, 1, L] to [D, L].
    if (hf.size() > 17 && hf.compare(hf.size() - 17, 17, ".conv.conv.weight") == 0 && v.shape.size() == 2) {
      v.shape = {v.shape[0], 1, v.shape[1]};
    }
    LFM_RETURN_IF_ERROR(store->Add(std::move(v), path));
  }
  file->ReleaseHeader();  // the config and the views are taken; the store keeps only the mapping
  store->Own(file);
  store->set_description(path);
  out.weights = std::move(store);
  return out;
}

}  // namespace lfm
