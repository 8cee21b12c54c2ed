#include "engine/random_model.h"

#include <filesystem>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "engine/synthetic_tokenizer.h"
#include "weights/safetensors_writer.h"

namespace lfm {

namespace {

std::vector<std::string> Lfm2LayerTypes16() {
  std::vector<std::string> t(16, "conv");
  for (int i : {2, 5, 8, 10, 12, 14}) t[i] = "full_attention";
  return t;
}

std::vector<RandomModelShape> AllShapes() {
  std::vector<RandomModelShape> s;
  RandomModelShape tiny;
  tiny.name = "tiny";
  tiny.hidden = 64, tiny.layers = 6, tiny.heads = 4, tiny.kv_heads = 2, tiny.block_ff_dim = 128;
  tiny.auto_adjust_ff = false;
  tiny.layer_types = {"conv", "conv", "full_attention", "conv", "conv", "full_attention"};
  s.push_back(tiny);
  RandomModelShape tiny_vl = tiny;
  tiny_vl.name = "tiny-vl";
  tiny_vl.vision_hidden = 32, tiny_vl.vision_layers = 2, tiny_vl.vision_heads = 2;
  tiny_vl.vision_intermediate = 64, tiny_vl.projector_hidden = 64;
  s.push_back(tiny_vl);
  RandomModelShape m350;
  m350.name = "lfm2-350m";
  m350.hidden = 1024, m350.layers = 16, m350.heads = 16, m350.kv_heads = 8, m350.block_ff_dim = 6656;
  m350.layer_types = Lfm2LayerTypes16();
  s.push_back(m350);
  RandomModelShape m12 = m350;
  m12.name = "lfm2-1.2b";
  m12.hidden = 2048, m12.heads = 32, m12.block_ff_dim = 12288;
  s.push_back(m12);
  RandomModelShape vl450 = m350;
  vl450.name = "lfm2.5-vl-450m";
  vl450.vision_hidden = 768, vl450.vision_layers = 12, vl450.vision_heads = 12;
  vl450.vision_intermediate = 3072, vl450.projector_hidden = 2048;
  s.push_back(vl450);
  RandomModelShape vl16 = m12;
  vl16.name = "lfm2.5-vl-1.6b";
  vl16.vision_hidden = 1152, vl16.vision_layers = 27, vl16.vision_heads = 16;
  vl16.vision_intermediate = 4304, vl16.projector_hidden = 2048;
  s.push_back(vl16);
  return s;
}

// The FFN width the model code derives from the config (facts §1.1), needed for tensor shapes.
int EffectiveFf(const RandomModelShape& s) {
  int ff = s.block_ff_dim;
  if (s.auto_adjust_ff) {
    ff = static_cast<int>(2.0 * ff / 3.0);
    ff = static_cast<int>(1.0 * ff);
    ff = 256 * ((ff + 255) / 256);
  }
  return ff;
}

uint64_t SplitMix(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t HashName(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// Fills with mean + uniform noise of standard deviation `stddev` (uniform: cheap, and the
// distribution does not matter for random test weights).
SafetensorsWriter::Fill RandomFill(const std::string& name, uint64_t seed, const std::string& dtype, float mean,
                                   float stddev) {
  return [=](uint8_t* dst, size_t bytes) {
    uint64_t state = HashName(name, seed);
    const float a = stddev * std::sqrt(3.0f);
    const bool bf16 = dtype == "BF16";
    size_t n = bytes / (bf16 ? 2 : 4);
    for (size_t i = 0; i < n; ++i) {
      uint64_t r = SplitMix(state);
      float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
      float v = mean + a * (2.0f * u - 1.0f);
      if (bf16) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        bits += 0x7FFF + ((bits >> 16) & 1);  // round to nearest even
        uint16_t h = static_cast<uint16_t>(bits >> 16);
        std::memcpy(dst + 2 * i, &h, 2);
      } else {
        std::memcpy(dst + 4 * i, &v, 4);
      }
    }
  };
}

nlohmann::ordered_json TextConfig(const RandomModelShape& s) {
  nlohmann::ordered_json c;
  c["architectures"] = {"Lfm2ForCausalLM"};
  c["model_type"] = "lfm2";
  c["vocab_size"] = s.vocab;
  c["hidden_size"] = s.hidden;
  c["intermediate_size"] = s.block_ff_dim;
  c["block_ff_dim"] = s.block_ff_dim;
  c["block_auto_adjust_ff_dim"] = s.auto_adjust_ff;
  c["block_ffn_dim_multiplier"] = 1.0;
  c["block_multiple_of"] = 256;
  c["num_hidden_layers"] = s.layers;
  c["num_attention_heads"] = s.heads;
  c["num_key_value_heads"] = s.kv_heads;
  c["layer_types"] = s.layer_types;
  c["conv_L_cache"] = 3;
  c["conv_bias"] = false;
  c["norm_eps"] = 1e-5;
  c["rope_theta"] = 1000000.0;
  c["max_position_embeddings"] = 128000;
  c["tie_word_embeddings"] = true;
  c["bos_token_id"] = 1;
  c["eos_token_id"] = 7;
  c["pad_token_id"] = 0;
  c["use_cache"] = true;
  return c;
}

nlohmann::ordered_json ImageProcessorConfig() {
  nlohmann::ordered_json p;
  p["image_processor_type"] = "Lfm2VlImageProcessorFast";
  p["do_image_splitting"] = true;
  p["min_tiles"] = 2;
  p["max_tiles"] = 10;
  p["use_thumbnail"] = true;
  p["tile_size"] = 512;
  p["encoder_patch_size"] = 16;
  p["downsample_factor"] = 2;
  p["min_image_tokens"] = 64;
  p["max_image_tokens"] = 256;
  p["max_num_patches"] = 1024;
  p["max_pixels_tolerance"] = 2.0;
  p["resample"] = 2;
  p["do_rescale"] = true;
  p["rescale_factor"] = 1.0 / 255.0;
  p["do_normalize"] = true;
  p["image_mean"] = {0.5, 0.5, 0.5};
  p["image_std"] = {0.5, 0.5, 0.5};
  p["do_pad"] = true;
  p["return_row_col_info"] = true;
  return p;
}

Status WriteJson(const std::string& path, const nlohmann::ordered_json& j) {
  return WriteStringToFile(path, j.dump(2) + "\n");
}

}  // namespace

std::vector<std::string> RandomModelShapeNames() {
  std::vector<std::string> names;
  for (const auto& s : AllShapes()) names.push_back(s.name);
  return names;
}

Result<RandomModelShape> RandomModelShapeByName(const std::string& name) {
  std::string known;
  for (const auto& s : AllShapes()) {
    if (s.name == name) return s;
    known += (known.empty() ? "" : ", ") + s.name;
  }
  return InvalidArgument("unknown model shape '" + name + "' (known: " + known + ")");
}

Status WriteRandomModel(const RandomModelShape& s, const std::string& out_dir, const RandomModelOptions& opts) {
  std::string dtype = opts.dtype;
  if (dtype == "auto") dtype = s.hidden <= 256 ? "F32" : "BF16";
  if (dtype == "f32") dtype = "F32";
  if (dtype == "bf16") dtype = "BF16";
  if (dtype != "F32" && dtype != "BF16")
    return InvalidArgument("make-test-model: --dtype must be f32, bf16 or auto, got '" + opts.dtype + "'");
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return IoError("cannot create directory '" + out_dir + "': " + ec.message());

  const bool vl = s.vision_hidden > 0;
  const std::string tp = vl ? "model.language_model." : "model.";
  const int D = s.hidden, F = EffectiveFf(s), hd = s.hidden / s.heads;
  SafetensorsWriter w;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float stddev) {
    return w.Add(name, dtype, std::move(shape), RandomFill(name, opts.seed, dtype, mean, stddev));
  };
  auto mat = [&](const std::string& name, int64_t rows, int64_t cols) {
    return add(name, {rows, cols}, 0.0f, 1.0f / std::sqrt(static_cast<float>(cols)));
  };
  auto norm = [&](const std::string& name, int64_t n) { return add(name, {n}, 1.0f, 0.1f); };

  LFM_RETURN_IF_ERROR(add(tp + "embed_tokens.weight", {s.vocab, D}, 0.0f, 1.0f));
  LFM_RETURN_IF_ERROR(norm(tp + "embedding_norm.weight", D));
  for (int l = 0; l < s.layers; ++l) {
    std::string p = tp + "layers." + std::to_string(l) + ".";
    LFM_RETURN_IF_ERROR(norm(p + "operator_norm.weight", D));
    LFM_RETURN_IF_ERROR(norm(p + "ffn_norm.weight", D));
    LFM_RETURN_IF_ERROR(mat(p + "feed_forward.w1.weight", F, D));
    LFM_RETURN_IF_ERROR(mat(p + "feed_forward.w3.weight", F, D));
    LFM_RETURN_IF_ERROR(mat(p + "feed_forward.w2.weight", D, F));
    if (s.layer_types[l] == "conv") {
      LFM_RETURN_IF_ERROR(mat(p + "conv.in_proj.weight", 3 * D, D));
      LFM_RETURN_IF_ERROR(add(p + "conv.conv.weight", {D, 1, 3}, 0.0f, 0.3f));
      LFM_RETURN_IF_ERROR(mat(p + "conv.out_proj.weight", D, D));
    } else {
      LFM_RETURN_IF_ERROR(mat(p + "self_attn.q_proj.weight", s.heads * hd, D));
      LFM_RETURN_IF_ERROR(mat(p + "self_attn.k_proj.weight", s.kv_heads * hd, D));
      LFM_RETURN_IF_ERROR(mat(p + "self_attn.v_proj.weight", s.kv_heads * hd, D));
      LFM_RETURN_IF_ERROR(mat(p + "self_attn.out_proj.weight", D, s.heads * hd));
      LFM_RETURN_IF_ERROR(norm(p + "self_attn.q_layernorm.weight", hd));
      LFM_RETURN_IF_ERROR(norm(p + "self_attn.k_layernorm.weight", hd));
    }
  }
  if (vl) {
    const int V = s.vision_hidden, I = s.vision_intermediate, P = s.projector_hidden;
    const std::string vp = "model.vision_tower.vision_model.";
    auto bias = [&](const std::string& name, int64_t n) { return add(name, {n}, 0.0f, 0.02f); };
    LFM_RETURN_IF_ERROR(mat(vp + "embeddings.patch_embedding.weight", V, 3 * 16 * 16));
    LFM_RETURN_IF_ERROR(bias(vp + "embeddings.patch_embedding.bias", V));
    LFM_RETURN_IF_ERROR(add(vp + "embeddings.position_embedding.weight", {256, V}, 0.0f, 0.5f));
    for (int l = 0; l < s.vision_layers; ++l) {
      std::string p = vp + "encoder.layers." + std::to_string(l) + ".";
      for (const char* ln : {"layer_norm1", "layer_norm2"}) {
        LFM_RETURN_IF_ERROR(norm(p + ln + ".weight", V));
        LFM_RETURN_IF_ERROR(bias(p + ln + ".bias", V));
      }
      for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
        LFM_RETURN_IF_ERROR(mat(p + "self_attn." + proj + ".weight", V, V));
        LFM_RETURN_IF_ERROR(bias(p + "self_attn." + proj + ".bias", V));
      }
      LFM_RETURN_IF_ERROR(mat(p + "mlp.fc1.weight", I, V));
      LFM_RETURN_IF_ERROR(bias(p + "mlp.fc1.bias", I));
      LFM_RETURN_IF_ERROR(mat(p + "mlp.fc2.weight", V, I));
      LFM_RETURN_IF_ERROR(bias(p + "mlp.fc2.bias", V));
    }
    LFM_RETURN_IF_ERROR(norm(vp + "post_layernorm.weight", V));
    LFM_RETURN_IF_ERROR(bias(vp + "post_layernorm.bias", V));
    const std::string pp = "model.multi_modal_projector.";
    LFM_RETURN_IF_ERROR(mat(pp + "linear_1.weight", P, 4 * V));
    LFM_RETURN_IF_ERROR(bias(pp + "linear_1.bias", P));
    LFM_RETURN_IF_ERROR(mat(pp + "linear_2.weight", D, P));
    LFM_RETURN_IF_ERROR(bias(pp + "linear_2.bias", D));
  }
  LFM_RETURN_IF_ERROR(w.Write(out_dir + "/model.safetensors", {{"format", "pt"}}, opts.progress));

  // config.json
  nlohmann::ordered_json config;
  if (vl) {
    config["architectures"] = {"Lfm2VlForConditionalGeneration"};
    config["model_type"] = "lfm2_vl";
    // The published config.json mirrors the processor's tiling settings; copy them from one place.
    const nlohmann::ordered_json pre = ImageProcessorConfig();
    for (const char* key : {"do_image_splitting", "downsample_factor", "encoder_patch_size", "max_image_tokens",
                            "max_pixels_tolerance", "max_tiles", "min_image_tokens", "min_tiles"})
      config[key] = pre[key];
    config["image_token_id"] = 396;
    config["projector_bias"] = true;
    config["projector_hidden_act"] = "gelu";
    config["projector_hidden_size"] = s.projector_hidden;
    config["projector_use_layernorm"] = false;
    config["text_config"] = TextConfig(s);
    config["tile_size"] = pre["tile_size"];
    config["use_image_special_tokens"] = true;
    config["use_thumbnail"] = pre["use_thumbnail"];
    config["vision_config"] = {{"hidden_act", "gelu_pytorch_tanh"}, {"hidden_size", s.vision_hidden},
                               {"intermediate_size", s.vision_intermediate}, {"layer_norm_eps", 1e-6},
                               {"model_type", "siglip2_vision_model"}, {"num_attention_heads", s.vision_heads},
                               {"num_channels", 3}, {"num_hidden_layers", s.vision_layers},
                               {"num_patches", 256}, {"patch_size", 16}, {"vision_use_head", false}};
    config["transformers_version"] = "5.0.0";
  } else {
    config = TextConfig(s);
  }
  config["torch_dtype"] = dtype == "F32" ? "float32" : "bfloat16";
  config["lfm_cpp_random_weights"] = true;
  LFM_RETURN_IF_ERROR(WriteJson(out_dir + "/config.json", config));
  LFM_RETURN_IF_ERROR(
      WriteJson(out_dir + "/generation_config.json", {{"bos_token_id", 1}, {"eos_token_id", 7}, {"pad_token_id", 0}}));

  SyntheticTokenizerFiles tok = MakeSyntheticTokenizer(s.vocab, opts.seed);
  LFM_RETURN_IF_ERROR(WriteStringToFile(out_dir + "/tokenizer.json", tok.tokenizer_json.dump() + "\n"));
  LFM_RETURN_IF_ERROR(WriteJson(out_dir + "/tokenizer_config.json", tok.tokenizer_config_json));
  LFM_RETURN_IF_ERROR(WriteStringToFile(out_dir + "/chat_template.jinja", tok.chat_template));
  if (vl) {
    nlohmann::ordered_json pre = ImageProcessorConfig();
    LFM_RETURN_IF_ERROR(WriteJson(out_dir + "/preprocessor_config.json", pre));
    nlohmann::ordered_json proc = {{"image_processor", pre}, {"processor_class", "Lfm2VlProcessor"}};
    LFM_RETURN_IF_ERROR(WriteJson(out_dir + "/processor_config.json", proc));
  }
  return Status::Ok();
}

}  // namespace lfm
