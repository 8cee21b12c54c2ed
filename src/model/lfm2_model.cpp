#include "model/lfm2_model.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "base/mapped_file.h"
#include "base/thread_pool.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "model/lfm2_gguf.h"
#include "tensor/convert.h"
#include "tensor/ggml_blocks.h"

namespace lfm {

namespace {

// Scratch buffer slots in HybridCache.
enum Slot { kResidual, kNormed, kBig1, kBig2, kTmp1, kTmp2, kOut, kRope, kFinal, kNumSlots };
static_assert(kNumSlots <= HybridCache::kNumScratch);

float* Buf(HybridCache& c, Slot s, size_t n) {
  auto& v = c.scratch(s);
  if (v.size() < n) v.resize(n);
  return v.data();
}

float* Buf(BatchScratch& c, Slot s, size_t n) {
  auto& v = c.buf[s];
  if (v.size() < n) v.resize(n);
  return v.data();
}

}  // namespace

Result<std::unique_ptr<Lfm2Model>> Lfm2Model::Load(const std::string& model_dir, const ModelLoadOptions& o) {
  // A single .gguf file (llama.cpp layout) instead of an HF directory.
  if (model_dir.size() > 5 && model_dir.compare(model_dir.size() - 5, 5, ".gguf") == 0 &&
      std::filesystem::is_regular_file(model_dir)) {
    LFM_ASSIGN_OR_RETURN(Lfm2Gguf g, OpenLfm2Gguf(model_dir));
    return FromWeights(g.config, g.weights, o);
  }
  LFM_ASSIGN_OR_RETURN(Lfm2Config config, LoadLfm2Config(model_dir + "/config.json"));
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<WeightStore> store, WeightStore::OpenDirectory(model_dir));
  return FromWeights(config, std::shared_ptr<const WeightStore>(std::move(store)), o);
}

Result<std::unique_ptr<Lfm2Model>> Lfm2Model::FromWeights(const Lfm2Config& config,
                                                          std::shared_ptr<const WeightStore> weights,
                                                          const ModelLoadOptions& o) {
  std::unique_ptr<Lfm2Model> m(new Lfm2Model());
  LFM_RETURN_IF_ERROR(m->Init(config, std::move(weights), o));
  return m;
}

Result<TensorView> Lfm2Model::Matrix(const std::string& name, int64_t rows, int64_t cols, DType want_dtype) {
  LFM_ASSIGN_OR_RETURN(TensorView v, weights_->Get(name, {rows, cols}));
  const DType want = want_dtype == DType::kAuto ? v.dtype : want_dtype;
  if (want == DType::kQ5_0) {  // only as stored: ParseDTypeName never yields q5_0
    // Exact repack to q8_0 (same scale, values fit int8): runs on the q8_0 kernels instead of the
    // portable widening rows. The source's pages are dropped once copied (clean file pages).
    if (v.dtype != DType::kQ5_0) return Unsupported("tensor '" + name + "': conversion to q5_0 is not supported");
    PageBuffer buf(static_cast<size_t>(DTypeBytes(DType::kQ8_0, cols) * rows));
    RepackQ5_0ToQ8_0(static_cast<const BlockQ5_0*>(v.data), buf.data(), rows * cols);
    ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
    v.dtype = DType::kQ8_0;
    v.data = buf.data();
    owned_.push_back(std::move(buf));
    return v;
  }
  if (!MatMulSupports(want)) {
    return Unsupported(weights_->SourceFile(name) + ": tensor '" + name + "': dtype " + DTypeName(want) +
                       " has no matmul kernel");
  }
  if (want != v.dtype) {
    if (!DTypeRowOk(want, cols)) {
      return InvalidArgument("tensor '" + name + "': " + std::to_string(cols) + " columns is not a multiple of the " +
                             DTypeName(want) + " block size");
    }
    PageBuffer buf(static_cast<size_t>(DTypeBytes(want, cols) * rows));
    std::vector<float> row(cols);
    for (int64_t r = 0; r < rows; ++r) {
      DequantizeRow(v.dtype, v.row(r), row.data(), cols);
      QuantizeRow(want, row.data(), buf.data() + r * DTypeBytes(want, cols), cols);
    }
    // The converted copy is the only one used from now on: drop the source's pages (a mapped file's
    // are clean and re-readable), or a bf16 -> f32 load holds both and peaks at 1.5x the f32 bytes.
    ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
    v.dtype = want;
    v.data = buf.data();
    owned_.push_back(std::move(buf));  // moving a PageBuffer keeps its pages, so v.data stays valid
  }
  return v;
}

Result<LinearWeight> Lfm2Model::Linear(const std::string& name, int64_t rows, int64_t cols, DType want_dtype) {
  const size_t owned_before = owned_.size();
  LFM_ASSIGN_OR_RETURN(TensorView v, Matrix(name, rows, cols, want_dtype));
  LFM_ASSIGN_OR_RETURN(LinearWeight w, Wrap(v));
  if (w.is_packed()) {
    // The packed panels are the only copy used from now on: free a converted buffer, or drop the
    // source's pages (a mapped file's: clean, re-readable; never changes contents) so they do not stay
    // resident next to the copy.
    if (owned_.size() > owned_before) {
      owned_.pop_back();
    } else {
      ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
    }
    w.view.data = nullptr;
  }
  return w;
}

Result<LinearWeight> Lfm2Model::Wrap(const TensorView& v) const {
  if (int8_matmul_) return MakeLinearWeight(v);
  LinearWeight w;
  w.view = v;
  return w;
}

Result<std::vector<float>> Lfm2Model::Vector(const std::string& name, const std::vector<int64_t>& shape) {
  LFM_ASSIGN_OR_RETURN(TensorView v, weights_->Get(name, shape));
  std::vector<float> out(v.numel());
  DequantizeRow(v.dtype, v.data, out.data(), v.numel());
  // Only the copy is used: reading these few bytes may have mapped a whole large folio of the file
  // around them (up to 2 MiB, including matrices already converted and dropped), so drop it again.
  ReleaseResidentPages(v.data, static_cast<size_t>(v.nbytes()));
  return out;
}

Status Lfm2Model::Init(const Lfm2Config& c, std::shared_ptr<const WeightStore> weights, const ModelLoadOptions& o) {
  config_ = c;
  weights_ = std::move(weights);
  weight_dtype_ = o.weight_dtype;
  int8_matmul_ = o.int8_matmul;
  if (o.max_context < 0 || o.max_context > c.max_position_embeddings) {
    return InvalidArgument("max_context " + std::to_string(o.max_context) +
                           " is outside [1, max_position_embeddings = " +
                           std::to_string(c.max_position_embeddings) + "]");
  }
  max_context_ = o.max_context == 0 ? c.max_position_embeddings : o.max_context;
  if (o.ubatch < 1 || o.ubatch > ModelLoadOptions::kMaxUbatch) {
    return InvalidArgument("ubatch " + std::to_string(o.ubatch) + " is outside [1, " +
                           std::to_string(ModelLoadOptions::kMaxUbatch) + "]");
  }
  ubatch_ = o.ubatch;
  kv_type_ = o.kv_type;
  const std::string& p = c.weight_prefix;
  const int64_t D = c.hidden_size, F = c.intermediate_size, V = c.vocab_size;
  const int64_t d = c.head_dim, H = c.num_attention_heads, Hkv = c.num_key_value_heads;
  const int L = c.conv_L_cache;

  LFM_ASSIGN_OR_RETURN(final_norm_, Vector(p + "embedding_norm.weight", {D}));
  if (c.tie_word_embeddings) {
    // One copy serves both: if the lm_head is packed (q8_0 / q4_0 on the int8 path), token lookups
    // dequantize rows of the packed panels (EmbedTokens), and the source bytes are released.
    LFM_ASSIGN_OR_RETURN(lm_head_, Linear(p + "embed_tokens.weight", V, D, o.embedding_dtype));
    embed_tokens_ = lm_head_.view;
  } else {
    LFM_ASSIGN_OR_RETURN(embed_tokens_, Matrix(p + "embed_tokens.weight", V, D, o.embedding_dtype));
    // HF keeps lm_head outside the decoder: "lm_head.weight" (text) or "lm_head.weight" at top level in VL.
    LFM_ASSIGN_OR_RETURN(lm_head_, Linear("lm_head.weight", V, D, o.embedding_dtype));
  }
  weight_bytes_ = lm_head_.nbytes();

  layers_.resize(c.num_hidden_layers);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    Layer& ly = layers_[l];
    const std::string lp = p + "layers." + std::to_string(l) + ".";
    ly.type = c.layer_types[l];
    LFM_ASSIGN_OR_RETURN(ly.operator_norm, Vector(lp + "operator_norm.weight", {D}));
    LFM_ASSIGN_OR_RETURN(ly.ffn_norm, Vector(lp + "ffn_norm.weight", {D}));
    // The FFN width comes from the config rule; the w1 shape must agree (facts §1.1).
    if (auto w1 = weights_->Get(lp + "feed_forward.w1.weight"); w1.ok() && w1->rank() == 2 && w1->shape[0] != F) {
      return InvalidArgument(weights_->SourceFile(lp + "feed_forward.w1.weight") + ": tensor '" + lp +
                             "feed_forward.w1.weight' has " + std::to_string(w1->shape[0]) +
                             " rows but the config's FFN width (block_ff_dim / intermediate_size after "
                             "block_auto_adjust_ff_dim) is " + std::to_string(F));
    }
    LFM_ASSIGN_OR_RETURN(ly.w1, Linear(lp + "feed_forward.w1.weight", F, D, o.weight_dtype));
    LFM_ASSIGN_OR_RETURN(ly.w3, Linear(lp + "feed_forward.w3.weight", F, D, o.weight_dtype));
    LFM_ASSIGN_OR_RETURN(ly.w2, Linear(lp + "feed_forward.w2.weight", D, F, o.weight_dtype));
    weight_bytes_ += ly.w1.nbytes() + ly.w3.nbytes() + ly.w2.nbytes();
    if (ly.type == Lfm2LayerType::kConv) {
      LFM_ASSIGN_OR_RETURN(ly.in_proj, Linear(lp + "conv.in_proj.weight", 3 * D, D, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(ly.conv_out_proj, Linear(lp + "conv.out_proj.weight", D, D, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(std::vector<float> k, Vector(lp + "conv.conv.weight", {D, 1, L}));
      ly.conv_kernel.resize(static_cast<size_t>(L) * D);
      for (int64_t ch = 0; ch < D; ++ch)
        for (int j = 0; j < L; ++j) ly.conv_kernel[j * D + ch] = k[ch * L + j];
      const bool has_bias = weights_->Has(lp + "conv.conv.bias") || weights_->Has(lp + "conv.in_proj.bias") ||
                            weights_->Has(lp + "conv.out_proj.bias");
      if (c.conv_bias) {
        // conv_bias=true means all three conv-block linears carry biases (HF Lfm2ShortConv).
        auto ib = Vector(lp + "conv.in_proj.bias", {3 * D});
        auto cb = Vector(lp + "conv.conv.bias", {D});
        auto ob = Vector(lp + "conv.out_proj.bias", {D});
        for (auto* r : {&ib, &cb, &ob}) {
          if (!r->ok()) return r->status().WithContext("config.json says conv_bias=true");
        }
        ly.in_proj_bias = std::move(*ib);
        ly.conv_bias = std::move(*cb);
        ly.out_proj_bias = std::move(*ob);
      } else if (has_bias) {
        return InvalidArgument(weights_->description() + ": layer " + std::to_string(l) +
                               " has conv biases but config.json says conv_bias=false");
      }
      weight_bytes_ += ly.in_proj.nbytes() + ly.conv_out_proj.nbytes();
    } else {
      LFM_ASSIGN_OR_RETURN(ly.q_proj, Linear(lp + "self_attn.q_proj.weight", H * d, D, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(ly.k_proj, Linear(lp + "self_attn.k_proj.weight", Hkv * d, D, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(ly.v_proj, Linear(lp + "self_attn.v_proj.weight", Hkv * d, D, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(ly.attn_out_proj, Linear(lp + "self_attn.out_proj.weight", D, H * d, o.weight_dtype));
      LFM_ASSIGN_OR_RETURN(ly.q_norm, Vector(lp + "self_attn.q_layernorm.weight", {d}));
      LFM_ASSIGN_OR_RETURN(ly.k_norm, Vector(lp + "self_attn.k_layernorm.weight", {d}));
      weight_bytes_ += ly.q_proj.nbytes() + ly.k_proj.nbytes() + ly.v_proj.nbytes() + ly.attn_out_proj.nbytes();
    }
  }
  // inv_freq_i = theta^(-2i/d), as HF's default rope init computes it (f32 result).
  inv_freq_.resize(d / 2);
  for (int64_t i = 0; i < d / 2; ++i) {
    inv_freq_[i] = static_cast<float>(1.0 / std::pow(c.rope_theta, static_cast<double>(2 * i) / d));
  }
  if (weight_dtype_ == DType::kAuto) weight_dtype_ = layers_.empty() ? embed_tokens_.dtype : layers_[0].w1.dtype();
  return Status::Ok();
}

int64_t Lfm2Model::resident_weight_bytes() const {
  auto floats = [](const std::vector<float>& v) { return static_cast<int64_t>(v.size() * sizeof(float)); };
  int64_t n = weight_bytes_ + floats(final_norm_) + floats(inv_freq_);
  // Tied: the table is the lm_head, already in weight_bytes_ (or rows come from its packed panels).
  if (!config_.tie_word_embeddings) n += embed_tokens_.nbytes();
  for (const Layer& ly : layers_) {
    for (const auto* v : {&ly.operator_norm, &ly.ffn_norm, &ly.conv_kernel, &ly.in_proj_bias, &ly.conv_bias,
                          &ly.out_proj_bias, &ly.q_norm, &ly.k_norm})
      n += floats(*v);
  }
  return n;
}

std::unique_ptr<HybridCache> Lfm2Model::NewCache() const {
  return std::make_unique<HybridCache>(config_, max_context_, kv_type_);
}

void Lfm2Model::EmbedTokens(const int32_t* ids, int n, float* out) const {
  const int64_t D = config_.hidden_size;
  for (int t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= config_.vocab_size) {
      std::fill(out + t * D, out + (t + 1) * D, 0.0f);
      continue;
    }
    if (embed_tokens_.data == nullptr) {  // tied and packed: the lm_head panels hold the table
      lm_head_.DequantizeRow(ids[t], out + t * D);
    } else {
      DequantizeRow(embed_tokens_.dtype, embed_tokens_.row(ids[t]), out + t * D, D);
    }
  }
}

Status Lfm2Model::Forward(const int32_t* ids, int n, HybridCache& cache, std::vector<float>* logits, bool all_rows) {
  if (n <= 0) return InvalidArgument("Forward: no tokens");
  for (int t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= config_.vocab_size) {
      return InvalidArgument("Forward: token id " + std::to_string(ids[t]) + " at index " + std::to_string(t) +
                             " is outside the vocabulary [0, " + std::to_string(config_.vocab_size) + ")");
    }
  }
  LFM_RETURN_IF_ERROR(CheckRoom(n, cache));
  const int V = config_.vocab_size;
  if (logits != nullptr) logits->resize(static_cast<size_t>(all_rows ? n : 1) * V);
  // Embedded one chunk at a time: the embedding buffer is bounded by ubatch too.
  for (int done = 0; done < n;) {
    const int chunk = std::min(ubatch_, n - done);
    const bool last = done + chunk == n;
    float* x = Buf(cache, kTmp2, static_cast<size_t>(chunk) * config_.hidden_size);
    EmbedTokens(ids + done, chunk, x);
    float* out = logits == nullptr ? nullptr
                 : all_rows         ? logits->data() + static_cast<size_t>(done) * V
                 : last             ? logits->data()
                                    : nullptr;
    ForwardChunk(x, chunk, cache, out, all_rows);
    done += chunk;
  }
  return Status::Ok();
}

void Lfm2Model::ConvBlock(const Layer& ly, int layer, int n, const float* u, HybridCache& cache, float* out) {
  const int64_t D = config_.hidden_size;
  float* bcx = Buf(cache, kBig1, static_cast<size_t>(n) * 3 * D);
  lfm::Linear(ly.in_proj, u, n, bcx);
  float* v = Buf(cache, kTmp1, static_cast<size_t>(n) * D);
  for (int t = 0; t < n; ++t) {
    float* row = bcx + t * 3 * D;
    if (!ly.in_proj_bias.empty()) AddInPlace(ly.in_proj_bias.data(), 3 * D, row);
    // [B; C; x] = in_proj(u); the input gate is B*x (no sigmoid).
    Mul(row, row + 2 * D, D, v + t * D);
  }
  float* z = out;  // conv output, then gated in place
  CausalDepthwiseConv(v, n, D, config_.conv_L_cache, ly.conv_kernel.data(), cache.conv_state(layer), z);
  for (int t = 0; t < n; ++t) {
    float* zt = z + t * D;
    if (!ly.conv_bias.empty()) AddInPlace(ly.conv_bias.data(), D, zt);
    Mul(bcx + t * 3 * D + D, zt, D, v + t * D);  // output gate C*z
  }
  lfm::Linear(ly.conv_out_proj, v, n, out);
  if (!ly.out_proj_bias.empty()) {
    for (int t = 0; t < n; ++t) AddInPlace(ly.out_proj_bias.data(), D, out + t * D);
  }
}

void Lfm2Model::AttentionBlock(const Layer& ly, int layer, int n, const float* u, HybridCache& cache, float* out) {
  const int64_t D = config_.hidden_size;
  const int H = config_.num_attention_heads, Hkv = config_.num_key_value_heads, d = config_.head_dim;
  const int64_t qd = static_cast<int64_t>(H) * d, kvd = static_cast<int64_t>(Hkv) * d;
  const int64_t p0 = cache.n_past();
  float* q = Buf(cache, kBig1, static_cast<size_t>(n) * qd);
  // An f32 cache takes the new keys and values in place; a bf16 one gets them rounded once they are
  // final (after the k norm and RoPE), from scratch (kBig2 is free until the FFN).
  const bool bf16 = cache.kv_type() == KvType::kBF16;
  float* kv_tmp = bf16 ? Buf(cache, kBig2, static_cast<size_t>(n) * 2 * kvd) : nullptr;
  float* k = bf16 ? kv_tmp : cache.keys(layer) + p0 * kvd;
  float* v = bf16 ? kv_tmp + n * kvd : cache.values(layer) + p0 * kvd;
  const LinearJob qkv[3] = {{&ly.q_proj, q, qd}, {&ly.k_proj, k, kvd}, {&ly.v_proj, v, kvd}};
  LinearMany(qkv, 3, u, n, D);
  float* cs = Buf(cache, kRope, d);
  const float eps = config_.norm_eps;
  for (int t = 0; t < n; ++t) {
    // Per-head RMSNorm of q and k (shared weight across heads), then rotate-half RoPE.
    float* qt = q + t * qd;
    float* kt = k + t * kvd;
    for (int h = 0; h < H; ++h) RmsNorm(qt + h * d, ly.q_norm.data(), d, eps, qt + h * d);
    for (int h = 0; h < Hkv; ++h) RmsNorm(kt + h * d, ly.k_norm.data(), d, eps, kt + h * d);
    RopeCosSin(p0 + t, inv_freq_.data(), d / 2, cs, cs + d / 2);
    RopeNeox(qt, H, d / 2, cs, cs + d / 2);
    RopeNeox(kt, Hkv, d / 2, cs, cs + d / 2);
  }
  float* att = Buf(cache, kTmp1, static_cast<size_t>(n) * qd);
  AttentionShape s{H, Hkv, d, 1.0f / std::sqrt(static_cast<float>(d))};
  if (bf16) {
    F32ToBf16Rows(k, n * kvd, cache.keys_bf16(layer) + p0 * kvd);
    F32ToBf16Rows(v, n * kvd, cache.values_bf16(layer) + p0 * kvd);
    AttentionCausalBf16(q, n, p0, cache.keys_bf16(layer), cache.values_bf16(layer), s, att);
  } else {
    AttentionCausal(q, n, p0, cache.keys(layer), cache.values(layer), s, att);
  }
  lfm::Linear(ly.attn_out_proj, att, n, out);
}

void Lfm2Model::FfnBlock(const Layer& ly, int n, const float* u, HybridCache& cache, float* out) {
  const int64_t F = config_.intermediate_size;
  float* g = Buf(cache, kBig1, static_cast<size_t>(n) * F);
  float* up = Buf(cache, kBig2, static_cast<size_t>(n) * F);
  const LinearJob gate_up[2] = {{&ly.w1, g, F}, {&ly.w3, up, F}};
  LinearMany(gate_up, 2, u, n, config_.hidden_size);
  SwiGlu(g, up, n * F, g);
  lfm::Linear(ly.w2, g, n, out);
}

Status Lfm2Model::CheckRoom(int n, const HybridCache& cache) const {
  if (cache.num_layers() != config_.num_hidden_layers || cache.hidden() != config_.hidden_size ||
      cache.kv_dim() != config_.num_key_value_heads * config_.head_dim) {
    return InvalidArgument("Forward: the cache was made for a different model");
  }
  const int64_t limit = std::min(max_context_, cache.max_context());
  if (cache.n_past() + static_cast<int64_t>(n) > limit) {
    return OutOfRange("Forward: positions " + std::to_string(cache.n_past()) + ".." +
                      std::to_string(cache.n_past() + n - 1) + " exceed the context length " + std::to_string(limit));
  }
  return Status::Ok();
}

Status Lfm2Model::ForwardEmbeddings(const float* embeds, int n, HybridCache& cache, std::vector<float>* logits,
                                    bool all_rows) {
  if (n <= 0) return InvalidArgument("ForwardEmbeddings: no positions");
  LFM_RETURN_IF_ERROR(CheckRoom(n, cache));
  const int V = config_.vocab_size;
  const int64_t D = config_.hidden_size;
  if (logits != nullptr) logits->resize(static_cast<size_t>(all_rows ? n : 1) * V);
  for (int done = 0; done < n;) {
    const int chunk = std::min(ubatch_, n - done);
    const bool last = done + chunk == n;
    float* out = logits == nullptr ? nullptr
                 : all_rows         ? logits->data() + static_cast<size_t>(done) * V
                 : last             ? logits->data()
                                    : nullptr;
    ForwardChunk(embeds + static_cast<size_t>(done) * D, chunk, cache, out, all_rows);
    done += chunk;
  }
  return Status::Ok();
}

void Lfm2Model::ForwardChunk(const float* embeds, int n, HybridCache& cache, float* logits_out, bool all_rows) {
  const int64_t D = config_.hidden_size;
  cache.Reserve(cache.n_past() + n);
  float* h = Buf(cache, kResidual, static_cast<size_t>(n) * D);
  if (h != embeds) std::memmove(h, embeds, static_cast<size_t>(n) * D * sizeof(float));
  float* u = Buf(cache, kNormed, static_cast<size_t>(n) * D);
  float* out = Buf(cache, kOut, static_cast<size_t>(n) * D);
  // Buffers are sized before use so later growth never moves a pointer taken above.
  Buf(cache, kTmp1, static_cast<size_t>(n) * std::max<int64_t>(D, config_.num_attention_heads * config_.head_dim));
  const float eps = config_.norm_eps;
  for (int l = 0; l < config_.num_hidden_layers; ++l) {
    const Layer& ly = layers_[l];
    for (int t = 0; t < n; ++t) RmsNorm(h + t * D, ly.operator_norm.data(), D, eps, u + t * D);
    if (ly.type == Lfm2LayerType::kConv) {
      ConvBlock(ly, l, n, u, cache, out);
    } else {
      AttentionBlock(ly, l, n, u, cache, out);
    }
    for (int64_t i = 0; i < n * D; ++i) h[i] += out[i];
    for (int t = 0; t < n; ++t) RmsNorm(h + t * D, ly.ffn_norm.data(), D, eps, u + t * D);
    FfnBlock(ly, n, u, cache, out);
    for (int64_t i = 0; i < n * D; ++i) h[i] += out[i];
  }
  cache.Advance(n);
  if (logits_out != nullptr) {
    const int rows = all_rows ? n : 1;
    const int first = n - rows;
    float* f = Buf(cache, kFinal, static_cast<size_t>(rows) * D);
    for (int r = 0; r < rows; ++r) RmsNorm(h + (first + r) * D, final_norm_.data(), D, eps, f + r * D);
    lfm::Linear(lm_head_, f, rows, logits_out);
  }
}

Status Lfm2Model::ForwardBatch(const int32_t* ids, HybridCache* const* caches, int count, BatchScratch& scratch,
                               float* logits) {
  if (count <= 0) return InvalidArgument("ForwardBatch: no sequences");
  for (int b = 0; b < count; ++b) {
    if (ids[b] < 0 || ids[b] >= config_.vocab_size) {
      return InvalidArgument("ForwardBatch: token id " + std::to_string(ids[b]) + " of sequence " +
                             std::to_string(b) + " is outside the vocabulary [0, " +
                             std::to_string(config_.vocab_size) + ")");
    }
    if (caches[b] == nullptr) return InvalidArgument("ForwardBatch: sequence " + std::to_string(b) + " has no cache");
    LFM_RETURN_IF_ERROR(CheckRoom(1, *caches[b]));
    for (int o = 0; o < b; ++o) {
      if (caches[o] == caches[b]) {
        return InvalidArgument("ForwardBatch: sequences " + std::to_string(o) + " and " + std::to_string(b) +
                               " share one cache");
      }
    }
  }
  const int64_t D = config_.hidden_size, F = config_.intermediate_size;
  const int H = config_.num_attention_heads, Hkv = config_.num_key_value_heads, d = config_.head_dim;
  const int64_t qd = static_cast<int64_t>(H) * d, kvd = static_cast<int64_t>(Hkv) * d;
  const size_t B = static_cast<size_t>(count);
  for (int b = 0; b < count; ++b) caches[b]->Reserve(caches[b]->n_past() + 1);
  // Every buffer is sized before the first pointer is taken, so none moves later.
  float* h = Buf(scratch, kResidual, B * D);
  float* u = Buf(scratch, kNormed, B * D);
  float* out = Buf(scratch, kOut, B * D);
  float* big1 = Buf(scratch, kBig1, B * std::max({3 * D, F, qd}));
  float* big2 = Buf(scratch, kBig2, B * std::max(F, 2 * kvd));
  float* tmp1 = Buf(scratch, kTmp1, B * std::max(D, qd));
  float* cs = Buf(scratch, kRope, d);
  EmbedTokens(ids, count, h);
  const float eps = config_.norm_eps;
  const AttentionShape shape{H, Hkv, d, 1.0f / std::sqrt(static_cast<float>(d))};
  for (int l = 0; l < config_.num_hidden_layers; ++l) {
    const Layer& ly = layers_[l];
    for (size_t t = 0; t < B; ++t) RmsNorm(h + t * D, ly.operator_norm.data(), D, eps, u + t * D);
    if (ly.type == Lfm2LayerType::kConv) {
      // As ConvBlock, with the depthwise convolution run per sequence against its own state.
      float* bcx = big1;
      lfm::Linear(ly.in_proj, u, count, bcx);
      float* v = tmp1;
      for (size_t t = 0; t < B; ++t) {
        float* row = bcx + t * 3 * D;
        if (!ly.in_proj_bias.empty()) AddInPlace(ly.in_proj_bias.data(), 3 * D, row);
        Mul(row, row + 2 * D, D, v + t * D);
      }
      for (size_t t = 0; t < B; ++t) {
        float* zt = out + t * D;
        CausalDepthwiseConv(v + t * D, 1, D, config_.conv_L_cache, ly.conv_kernel.data(), caches[t]->conv_state(l),
                            zt);
        if (!ly.conv_bias.empty()) AddInPlace(ly.conv_bias.data(), D, zt);
        Mul(bcx + t * 3 * D + D, zt, D, v + t * D);
      }
      lfm::Linear(ly.conv_out_proj, v, count, out);
      if (!ly.out_proj_bias.empty()) {
        for (size_t t = 0; t < B; ++t) AddInPlace(ly.out_proj_bias.data(), D, out + t * D);
      }
    } else {
      // As AttentionBlock: keys and values are made in scratch, then stored at each cache's position.
      float* q = big1;
      float* k = big2;
      float* v = big2 + B * kvd;
      const LinearJob qkv[3] = {{&ly.q_proj, q, qd}, {&ly.k_proj, k, kvd}, {&ly.v_proj, v, kvd}};
      LinearMany(qkv, 3, u, count, D);
      for (size_t t = 0; t < B; ++t) {
        HybridCache& c = *caches[t];
        const int64_t p0 = c.n_past();
        float* qt = q + t * qd;
        const bool bf16 = c.kv_type() == KvType::kBF16;
        // f32 cache: the key is normed and rotated in place there; bf16: in scratch, then rounded.
        float* kt = bf16 ? k + t * kvd : c.keys(l) + p0 * kvd;
        if (!bf16) {
          std::memcpy(kt, k + t * kvd, static_cast<size_t>(kvd) * sizeof(float));
          std::memcpy(c.values(l) + p0 * kvd, v + t * kvd, static_cast<size_t>(kvd) * sizeof(float));
        }
        for (int hh = 0; hh < H; ++hh) RmsNorm(qt + hh * d, ly.q_norm.data(), d, eps, qt + hh * d);
        for (int hh = 0; hh < Hkv; ++hh) RmsNorm(kt + hh * d, ly.k_norm.data(), d, eps, kt + hh * d);
        RopeCosSin(p0, inv_freq_.data(), d / 2, cs, cs + d / 2);
        RopeNeox(qt, H, d / 2, cs, cs + d / 2);
        RopeNeox(kt, Hkv, d / 2, cs, cs + d / 2);
        if (bf16) {
          F32ToBf16Rows(kt, kvd, c.keys_bf16(l) + p0 * kvd);
          F32ToBf16Rows(v + t * kvd, kvd, c.values_bf16(l) + p0 * kvd);
          AttentionCausalBf16(qt, 1, p0, c.keys_bf16(l), c.values_bf16(l), shape, tmp1 + t * qd);
        } else {
          AttentionCausal(qt, 1, p0, c.keys(l), c.values(l), shape, tmp1 + t * qd);
        }
      }
      lfm::Linear(ly.attn_out_proj, tmp1, count, out);
    }
    for (size_t i = 0; i < B * D; ++i) h[i] += out[i];
    for (size_t t = 0; t < B; ++t) RmsNorm(h + t * D, ly.ffn_norm.data(), D, eps, u + t * D);
    float* g = big1;
    float* up = big2;
    const LinearJob gate_up[2] = {{&ly.w1, g, F}, {&ly.w3, up, F}};
    LinearMany(gate_up, 2, u, count, D);
    // Row by row, as the single-sequence pass calls it (a SIMD tail must fall where it falls there).
    for (size_t t = 0; t < B; ++t) SwiGlu(g + t * F, up + t * F, F, g + t * F);
    lfm::Linear(ly.w2, g, count, out);
    for (size_t i = 0; i < B * D; ++i) h[i] += out[i];
  }
  for (int b = 0; b < count; ++b) caches[b]->Advance(1);
  if (logits != nullptr) {
    float* f = Buf(scratch, kFinal, B * D);
    for (size_t t = 0; t < B; ++t) RmsNorm(h + t * D, final_norm_.data(), D, eps, f + t * D);
    lfm::Linear(lm_head_, f, count, logits);
  }
  return Status::Ok();
}

}  // namespace lfm
