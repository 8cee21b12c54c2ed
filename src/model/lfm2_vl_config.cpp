#include "model/lfm2_vl_config.h"

#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/mapped_file.h"

namespace lfm {

namespace {

using json = nlohmann::json;

// Reads an optional positive integer field; missing keeps the HF default already in *out.
Status ReadPositiveInt(const json& obj, const char* key, const std::string& where, int* out) {
  if (!obj.contains(key) || obj[key].is_null()) return Status::Ok();
  const json& v = obj[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > (1 << 20)) {
    return InvalidArgument(where + key + ": expected a positive integer, got " + v.dump());
  }
  *out = static_cast<int>(v.get<int64_t>());
  return Status::Ok();
}

}  // namespace

Result<VisionActivation> ParseVisionActivation(const std::string& name, const std::string& where) {
  if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return VisionActivation::kGeluTanh;
  if (name == "gelu") return VisionActivation::kGeluErf;
  return Unsupported(where + ": activation '" + name +
                     "' is not implemented (supported: gelu_pytorch_tanh, gelu_new, gelu_fast, gelu)");
}

Result<Lfm2VlVisionConfig> ParseLfm2VlVisionConfig(const std::string& json_text, const std::string& path) {
  Lfm2VlVisionConfig c;
  try {
    LFM_ASSIGN_OR_RETURN(const json j, ParseJson(json_text, path));
    if (!j.is_object()) return InvalidArgument(path + ": top level is not a JSON object");
    if (!j.contains("vision_config") || !j["vision_config"].is_object()) {
      return InvalidArgument(path + ": vision_config: missing (not an LFM2-VL config?)");
    }
    const json& v = j["vision_config"];
    const std::string vw = path + ": vision_config.";
    Siglip2VisionConfig& s = c.vision;
    // Defaults are HF Siglip2VisionConfig's, used only for keys the file leaves out.
    s.hidden_size = 768, s.intermediate_size = 3072, s.num_hidden_layers = 12, s.num_attention_heads = 12;
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "hidden_size", vw, &s.hidden_size));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "intermediate_size", vw, &s.intermediate_size));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "num_hidden_layers", vw, &s.num_hidden_layers));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "num_attention_heads", vw, &s.num_attention_heads));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "patch_size", vw, &s.patch_size));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "num_channels", vw, &s.num_channels));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(v, "num_patches", vw, &s.num_patches));
    if (v.contains("layer_norm_eps")) {
      if (!v["layer_norm_eps"].is_number() || v["layer_norm_eps"].get<double>() < 0) {
        return InvalidArgument(vw + "layer_norm_eps: expected a non-negative number, got " +
                               v["layer_norm_eps"].dump());
      }
      s.layer_norm_eps = v["layer_norm_eps"].get<float>();
    }
    std::string act = "gelu_pytorch_tanh";
    if (v.contains("hidden_act")) {
      if (!v["hidden_act"].is_string()) return InvalidArgument(vw + "hidden_act: expected a string");
      act = v["hidden_act"].get<std::string>();
    }
    LFM_ASSIGN_OR_RETURN(s.hidden_act, ParseVisionActivation(act, vw + "hidden_act"));
    if (s.hidden_size % s.num_attention_heads != 0) {
      return InvalidArgument(vw + "hidden_size " + std::to_string(s.hidden_size) +
                             " is not a multiple of num_attention_heads " + std::to_string(s.num_attention_heads));
    }
    s.head_dim = s.hidden_size / s.num_attention_heads;
    int side = 0;
    while ((side + 1) * (side + 1) <= s.num_patches) ++side;
    if (side * side != s.num_patches) {
      return InvalidArgument(vw + "num_patches " + std::to_string(s.num_patches) +
                             " is not a square (the position table is a square grid)");
    }

    const std::string tw = path + ": ";
    // HF's Lfm2VlConfig repeats the processor's patch size at the top level; one file stating two
    // patch sizes is a broken export, whichever one the processor then uses.
    if (j.contains("encoder_patch_size")) {
      int top = s.patch_size;
      LFM_RETURN_IF_ERROR(ReadPositiveInt(j, "encoder_patch_size", tw, &top));
      if (top != s.patch_size) {
        return InvalidArgument(tw + "encoder_patch_size is " + std::to_string(top) +
                               " but vision_config.patch_size is " + std::to_string(s.patch_size));
      }
    }
    LFM_RETURN_IF_ERROR(ReadPositiveInt(j, "downsample_factor", tw, &c.downsample_factor));
    LFM_RETURN_IF_ERROR(ReadPositiveInt(j, "projector_hidden_size", tw, &c.projector_hidden_size));
    std::string pact = "gelu";
    if (j.contains("projector_hidden_act")) {
      if (!j["projector_hidden_act"].is_string()) return InvalidArgument(tw + "projector_hidden_act: expected a string");
      pact = j["projector_hidden_act"].get<std::string>();
    }
    LFM_ASSIGN_OR_RETURN(c.projector_hidden_act, ParseVisionActivation(pact, tw + "projector_hidden_act"));
    if (j.contains("projector_bias")) {
      if (!j["projector_bias"].is_boolean()) return InvalidArgument(tw + "projector_bias: expected true or false");
      c.projector_bias = j["projector_bias"].get<bool>();
    }
    if (j.contains("text_config") && j["text_config"].is_object()) {
      LFM_RETURN_IF_ERROR(ReadPositiveInt(j["text_config"], "hidden_size", tw + "text_config.", &c.text_hidden_size));
    }
  } catch (const json::exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return c;
}

Result<Lfm2VlVisionConfig> LoadLfm2VlVisionConfig(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kConfig));
  return ParseLfm2VlVisionConfig(text, path);
}

}  // namespace lfm
