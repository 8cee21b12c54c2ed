#include "model/lfm2_vl_mmproj.h"

#include <cstring>
#include <vector>

namespace lfm {

namespace {

constexpr const char* kTower = "model.vision_tower.vision_model.";
constexpr const char* kProjector = "model.multi_modal_projector.";

// The metadata readers: a missing required key or a value of the wrong kind or out of range is an
// error naming the file and the key.
struct MetaReader {
  const GgufHeader& h;
  const std::string& path;

  Status Bad(const std::string& key, const std::string& why) const {
    return InvalidArgument(path + ": mmproj GGUF metadata " + key + ": " + why);
  }
  Result<int64_t> Int(const std::string& key, int64_t lo, int64_t hi) const {
    const GgufValue* v = h.Find(key);
    if (v == nullptr) return NotFound(path + ": mmproj GGUF metadata " + key + ": missing");
    if (v->kind != GgufValue::kInt) return Bad(key, "expected an integer");
    if (v->i < lo || v->i > hi)
      return Bad(key, std::to_string(v->i) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v->i;
  }
  Result<bool> Bool(const std::string& key, bool fallback) const {
    const GgufValue* v = h.Find(key);
    if (v == nullptr) return fallback;
    if (v->kind != GgufValue::kBool) return Bad(key, "expected a boolean");
    return v->b;
  }
  Result<std::string> String(const std::string& key) const {
    const GgufValue* v = h.Find(key);
    if (v == nullptr) return NotFound(path + ": mmproj GGUF metadata " + key + ": missing");
    if (v->kind != GgufValue::kString) return Bad(key, "expected a string");
    return v->s;
  }
  // Three floats (per-channel mean / std); absent -> `fallback`.
  Result<std::array<double, 3>> Float3(const std::string& key, std::array<double, 3> fallback) const {
    const GgufValue* v = h.Find(key);
    if (v == nullptr) return fallback;
    if (v->kind != GgufValue::kArray || v->elem != GgufValue::kFloat || v->floats.size() != 3)
      return Bad(key, "expected an array of 3 floats");
    return std::array<double, 3>{v->floats[0], v->floats[1], v->floats[2]};
  }
};

const GgufTensorInfo* FindTensor(const GgufHeader& h, const std::string& name) {
  for (const auto& t : h.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

// The SigLIP2 NaFlex patch embedding is an nn.Linear over (dy, dx, channel)-ordered patches; the
// converter stores it as a conv kernel [out, channel, dy, dx]. Undo that permutation into an owned
// buffer of the same dtype (elementwise types only: the converter keeps this tensor f32/f16).
Result<std::shared_ptr<std::vector<uint8_t>>> PatchEmbeddingAsLinear(const TensorView& v, const std::string& path) {
  size_t elem = 0;
  if (v.dtype == DType::kF32) elem = 4;
  if (v.dtype == DType::kF16 || v.dtype == DType::kBF16) elem = 2;
  if (elem == 0)
    return Unsupported(path + ": tensor 'v.patch_embd.weight' is " + DTypeName(v.dtype) +
                       "; only f32, f16 and bf16 patch embeddings are supported");
  if (v.shape.size() != 4 || v.shape[2] != v.shape[3])
    return InvalidArgument(path + ": tensor 'v.patch_embd.weight' has shape " + ShapeToString(v.shape) +
                           ", expected [hidden, channels, patch, patch]");
  const int64_t out = v.shape[0], ch = v.shape[1], p = v.shape[2];
  auto buf = std::make_shared<std::vector<uint8_t>>(static_cast<size_t>(v.nbytes()));
  const auto* src = static_cast<const uint8_t*>(v.data);
  for (int64_t o = 0; o < out; ++o)
    for (int64_t c = 0; c < ch; ++c)
      for (int64_t y = 0; y < p; ++y)
        for (int64_t x = 0; x < p; ++x) {
          const int64_t from = ((o * ch + c) * p + y) * p + x;
          const int64_t to = o * ch * p * p + (y * p + x) * ch + c;
          std::memcpy(buf->data() + to * elem, src + from * elem, elem);
        }
  return buf;
}

}  // namespace

std::string Lfm2VlHfNameFromMmproj(const std::string& g) {
  static const std::pair<const char*, const char*> kTop[] = {
      {"v.patch_embd.weight", "embeddings.patch_embedding.weight"},
      {"v.patch_embd.bias", "embeddings.patch_embedding.bias"},
      {"v.position_embd.weight", "embeddings.position_embedding.weight"},
      {"v.post_ln.weight", "post_layernorm.weight"},
      {"v.post_ln.bias", "post_layernorm.bias"},
  };
  for (auto [from, to] : kTop)
    if (g == from) return std::string(kTower) + to;
  static const std::pair<const char*, const char*> kProj[] = {
      {"mm.input_norm.weight", "layer_norm.weight"}, {"mm.input_norm.bias", "layer_norm.bias"},
      {"mm.1.weight", "linear_1.weight"},           {"mm.1.bias", "linear_1.bias"},
      {"mm.2.weight", "linear_2.weight"},           {"mm.2.bias", "linear_2.bias"},
  };
  for (auto [from, to] : kProj)
    if (g == from) return std::string(kProjector) + to;
  if (g.rfind("v.blk.", 0) != 0) return "";
  const size_t dot = g.find('.', 6);
  if (dot == std::string::npos || dot == 6) return "";
  const std::string layer = g.substr(6, dot - 6);
  for (char ch : layer)
    if (ch < '0' || ch > '9') return "";
  static const std::pair<const char*, const char*> kLayer[] = {
      {"ln1", "layer_norm1"},         {"ln2", "layer_norm2"},         {"attn_q", "self_attn.q_proj"},
      {"attn_k", "self_attn.k_proj"}, {"attn_v", "self_attn.v_proj"}, {"attn_out", "self_attn.out_proj"},
      {"ffn_up", "mlp.fc1"},          {"ffn_down", "mlp.fc2"},
  };
  const std::string rest = g.substr(dot + 1);
  for (auto [from, to] : kLayer)
    for (const char* suffix : {".weight", ".bias"})
      if (rest == std::string(from) + suffix)
        return std::string(kTower) + "encoder.layers." + layer + "." + to + suffix;
  return "";
}

Result<Lfm2VlVisionConfig> Lfm2VlVisionConfigFromMmproj(const GgufHeader& h, const std::string& path) {
  MetaReader m{h, path};
  LFM_ASSIGN_OR_RETURN(std::string arch, m.String("general.architecture"));
  if (arch != "clip")
    return InvalidArgument(path + ": not an mmproj file: general.architecture is '" + arch +
                           "', expected 'clip' (give the text model to -m and its mmproj-*.gguf to --mmproj)");
  LFM_ASSIGN_OR_RETURN(bool has_vision, m.Bool("clip.has_vision_encoder", false));
  if (!has_vision) return Unsupported(path + ": mmproj GGUF has no vision encoder (clip.has_vision_encoder)");
  LFM_ASSIGN_OR_RETURN(std::string proj, m.String("clip.projector_type"));
  if (proj != "lfm2")
    return Unsupported(path + ": mmproj GGUF clip.projector_type is '" + proj + "'; only LFM2-VL ('lfm2') is supported");

  Lfm2VlVisionConfig c;
  Siglip2VisionConfig& v = c.vision;
  LFM_ASSIGN_OR_RETURN(int64_t hidden, m.Int("clip.vision.embedding_length", 1, 1 << 16));
  LFM_ASSIGN_OR_RETURN(int64_t ffn, m.Int("clip.vision.feed_forward_length", 1, 1 << 18));
  LFM_ASSIGN_OR_RETURN(int64_t layers, m.Int("clip.vision.block_count", 1, 1024));
  LFM_ASSIGN_OR_RETURN(int64_t heads, m.Int("clip.vision.attention.head_count", 1, 1024));
  LFM_ASSIGN_OR_RETURN(int64_t patch, m.Int("clip.vision.patch_size", 1, 1024));
  LFM_ASSIGN_OR_RETURN(int64_t image_size, m.Int("clip.vision.image_size", 1, 1 << 16));
  LFM_ASSIGN_OR_RETURN(int64_t proj_dim, m.Int("clip.vision.projection_dim", 1, 1 << 20));
  if (hidden % heads != 0)
    return m.Bad("clip.vision.attention.head_count",
                 std::to_string(heads) + " does not divide embedding_length " + std::to_string(hidden));
  v.hidden_size = static_cast<int>(hidden);
  v.intermediate_size = static_cast<int>(ffn);
  v.num_hidden_layers = static_cast<int>(layers);
  v.num_attention_heads = static_cast<int>(heads);
  v.head_dim = static_cast<int>(hidden / heads);
  v.patch_size = static_cast<int>(patch);
  if (const GgufValue* e = h.Find("clip.vision.attention.layer_norm_epsilon")) {
    if (e->kind != GgufValue::kFloat || !(e->f > 0 && e->f < 1))
      return m.Bad("clip.vision.attention.layer_norm_epsilon", "must be a float in (0, 1)");
    v.layer_norm_eps = static_cast<float>(e->f);
  }
  // The learned position table is a square grid of (image_size / patch_size)^2 entries (the
  // converter writes image_size 256 for LFM2-VL's 16x16 table); the tensor's shape must agree.
  if (image_size % patch != 0)
    return m.Bad("clip.vision.image_size", std::to_string(image_size) + " is not a multiple of patch_size " +
                                               std::to_string(patch));
  v.num_patches = static_cast<int>((image_size / patch) * (image_size / patch));
  // Activation of the tower's MLP: llama.cpp's use_gelu is the tanh form (HF gelu_pytorch_tanh).
  LFM_ASSIGN_OR_RETURN(bool gelu, m.Bool("clip.use_gelu", false));
  LFM_ASSIGN_OR_RETURN(bool silu, m.Bool("clip.use_silu", false));
  if (silu || !gelu)
    return Unsupported(path + ": mmproj GGUF states a " + std::string(silu ? "SiLU" : "quick-GELU") +
                       " vision MLP (clip.use_gelu / clip.use_silu); LFM2-VL's SigLIP2 tower uses tanh GELU");
  v.hidden_act = VisionActivation::kGeluTanh;
  if (h.Find("clip.vision.projector.scale_factor")) {
    LFM_ASSIGN_OR_RETURN(int64_t f, m.Int("clip.vision.projector.scale_factor", 1, 16));
    c.downsample_factor = static_cast<int>(f);
  }
  // Not stated by the file: HF's projector_hidden_act "gelu" (exact erf) of every published LFM2-VL.
  c.projector_hidden_act = VisionActivation::kGeluErf;
  c.text_hidden_size = static_cast<int>(proj_dim);

  // From the tensors: channels (patch kernel), projector width and bias.
  const GgufTensorInfo* pe = FindTensor(h, "v.patch_embd.weight");
  if (pe == nullptr) return NotFound(path + ": mmproj GGUF has no tensor 'v.patch_embd.weight'");
  if (pe->shape.size() != 4 || pe->shape[0] != hidden || pe->shape[2] != patch || pe->shape[3] != patch)
    return InvalidArgument(path + ": tensor 'v.patch_embd.weight' has shape " + ShapeToString(pe->shape) +
                           ", expected [" + std::to_string(hidden) + ", channels, " + std::to_string(patch) + ", " +
                           std::to_string(patch) + "]");
  v.num_channels = static_cast<int>(pe->shape[1]);
  const GgufTensorInfo* l1 = FindTensor(h, "mm.1.weight");
  if (l1 == nullptr) return NotFound(path + ": mmproj GGUF has no tensor 'mm.1.weight' (projector linear_1)");
  if (l1->shape.size() == 2) c.projector_hidden_size = static_cast<int>(l1->shape[0]);
  c.projector_bias = FindTensor(h, "mm.1.bias") != nullptr;
  const GgufTensorInfo* pos = FindTensor(h, "v.position_embd.weight");
  if (pos != nullptr && (pos->shape.size() != 2 || pos->shape[0] != v.num_patches))
    return InvalidArgument(path + ": tensor 'v.position_embd.weight' has shape " + ShapeToString(pos->shape) +
                           " but clip.vision.image_size / patch_size give a table of " +
                           std::to_string(v.num_patches) + " positions");
  return c;
}

Result<Lfm2VlMmproj> OpenLfm2VlMmproj(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::Open(path));
  std::shared_ptr<GgufFile> file(std::move(f));
  const GgufHeader& h = file->header();
  Lfm2VlMmproj out;
  LFM_ASSIGN_OR_RETURN(out.config, Lfm2VlVisionConfigFromMmproj(h, path));
  MetaReader m{h, path};
  LFM_ASSIGN_OR_RETURN(out.image_mean, m.Float3("clip.vision.image_mean", out.image_mean));
  LFM_ASSIGN_OR_RETURN(out.image_std, m.Float3("clip.vision.image_std", out.image_std));
  for (double s : out.image_std)
    if (!(s > 0)) return m.Bad("clip.vision.image_std", "every entry must be > 0");

  auto store = std::make_shared<WeightStore>();
  for (const auto& t : h.tensors) {
    std::string hf = Lfm2VlHfNameFromMmproj(t.name);
    if (hf.empty()) return Unsupported(path + ": tensor '" + t.name + "' is not part of an LFM2-VL mmproj");
    TensorView view = file->View(t);
    view.name = hf;
    if (t.name == "v.patch_embd.weight") {
      LFM_ASSIGN_OR_RETURN(std::shared_ptr<std::vector<uint8_t>> linear, PatchEmbeddingAsLinear(view, path));
      view.data = linear->data();
      view.shape = {view.shape[0], view.shape[1] * view.shape[2] * view.shape[3]};
      store->Own(linear);
    }
    LFM_RETURN_IF_ERROR(store->Add(std::move(view), path));
  }
  store->Own(file);
  store->set_description(path);
  out.weights = std::move(store);
  return out;
}

}  // namespace lfm
