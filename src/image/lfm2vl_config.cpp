// Lfm2VlProcessorConfig: merging the model directory's JSON files.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "image/lfm2vl_processor.h"

namespace lfm {
namespace {

using Json = nlohmann::json;

Status WrongType(const std::string& source, const std::string& key, const char* want, const Json& v) {
  return InvalidArgument(source + ": key \"" + key + "\" must be " + want + ", got " + v.dump());
}

Status GetInt(const Json& j, const std::string& key, const std::string& source, int* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (it->is_number_integer() || it->is_number_unsigned()) {
    const int64_t v = it->get<int64_t>();
    if (v < -(1LL << 30) || v > (1LL << 30)) return WrongType(source, key, "a small integer", *it);
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  // 2.0 for an integer field is harmless (some exporters write floats).
  if (it->is_number_float() && it->get<double>() == static_cast<int>(it->get<double>())) {
    *out = static_cast<int>(it->get<double>());
    return Status::Ok();
  }
  return WrongType(source, key, "an integer", *it);
}

Status GetDouble(const Json& j, const std::string& key, const std::string& source, double* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return WrongType(source, key, "a number", *it);
  *out = it->get<double>();
  return Status::Ok();
}

Status GetBool(const Json& j, const std::string& key, const std::string& source, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_boolean()) return WrongType(source, key, "true or false", *it);
  *out = it->get<bool>();
  return Status::Ok();
}

Status GetTriple(const Json& j, const std::string& key, const std::string& source, std::array<double, 3>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (it->is_number()) {
    out->fill(it->get<double>());
    return Status::Ok();
  }
  if (!it->is_array() || it->size() != 3) return WrongType(source, key, "a list of 3 numbers", *it);
  for (int i = 0; i < 3; ++i) {
    if (!(*it)[i].is_number()) return WrongType(source, key, "a list of 3 numbers", *it);
    (*out)[i] = (*it)[i].get<double>();
  }
  return Status::Ok();
}

// Token strings come either as "<image>" or as {"content": "<image>", ...}.
Status GetToken(const Json& j, const std::string& key, const std::string& source, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (it->is_string()) {
    *out = it->get<std::string>();
    return Status::Ok();
  }
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    *out = (*it)["content"].get<std::string>();
    return Status::Ok();
  }
  return WrongType(source, key, "a token string", *it);
}

Result<Json> ParseObject(const std::string& text, const std::string& source) {
  LFM_ASSIGN_OR_RETURN(Json j, ParseJson(text, source));
  if (!j.is_object()) return InvalidArgument(source + ": top level is not a JSON object");
  return j;
}

Status MergeObject(Lfm2VlProcessorConfig& c, const Json& j, const std::string& src) {
  // Siglip2-style preprocessor configs call the patch size "patch_size".
  LFM_RETURN_IF_ERROR(GetInt(j, "patch_size", src, &c.encoder_patch_size));
  LFM_RETURN_IF_ERROR(GetInt(j, "encoder_patch_size", src, &c.encoder_patch_size));
  LFM_RETURN_IF_ERROR(GetBool(j, "do_image_splitting", src, &c.do_image_splitting));
  LFM_RETURN_IF_ERROR(GetInt(j, "downsample_factor", src, &c.downsample_factor));
  LFM_RETURN_IF_ERROR(GetInt(j, "min_image_tokens", src, &c.min_image_tokens));
  LFM_RETURN_IF_ERROR(GetInt(j, "max_image_tokens", src, &c.max_image_tokens));
  LFM_RETURN_IF_ERROR(GetInt(j, "min_tiles", src, &c.min_tiles));
  LFM_RETURN_IF_ERROR(GetInt(j, "max_tiles", src, &c.max_tiles));
  LFM_RETURN_IF_ERROR(GetInt(j, "tile_size", src, &c.tile_size));
  LFM_RETURN_IF_ERROR(GetDouble(j, "max_pixels_tolerance", src, &c.max_pixels_tolerance));
  LFM_RETURN_IF_ERROR(GetBool(j, "use_thumbnail", src, &c.use_thumbnail));
  LFM_RETURN_IF_ERROR(GetBool(j, "use_image_special_tokens", src, &c.use_image_special_tokens));
  LFM_RETURN_IF_ERROR(GetInt(j, "resample", src, &c.resample));
  LFM_RETURN_IF_ERROR(GetBool(j, "do_rescale", src, &c.do_rescale));
  LFM_RETURN_IF_ERROR(GetDouble(j, "rescale_factor", src, &c.rescale_factor));
  LFM_RETURN_IF_ERROR(GetBool(j, "do_normalize", src, &c.do_normalize));
  LFM_RETURN_IF_ERROR(GetTriple(j, "image_mean", src, &c.image_mean));
  LFM_RETURN_IF_ERROR(GetTriple(j, "image_std", src, &c.image_std));
  LFM_RETURN_IF_ERROR(GetToken(j, "image_token", src, &c.image_token));
  LFM_RETURN_IF_ERROR(GetToken(j, "image_start_token", src, &c.image_start_token));
  LFM_RETURN_IF_ERROR(GetToken(j, "image_end_token", src, &c.image_end_token));
  LFM_RETURN_IF_ERROR(GetToken(j, "image_thumbnail", src, &c.image_thumbnail_token));
  LFM_RETURN_IF_ERROR(GetToken(j, "image_thumbnail_token", src, &c.image_thumbnail_token));
  return Status::Ok();
}

// The settings that two processor files may both state, with every key that names each one.
struct Setting {
  const char* name;
  std::vector<const char*> keys;
};
const Setting kSettings[] = {
    {"encoder_patch_size", {"patch_size", "encoder_patch_size"}},
    {"do_image_splitting", {"do_image_splitting"}},
    {"downsample_factor", {"downsample_factor"}},
    {"min_image_tokens", {"min_image_tokens"}},
    {"max_image_tokens", {"max_image_tokens"}},
    {"min_tiles", {"min_tiles"}},
    {"max_tiles", {"max_tiles"}},
    {"tile_size", {"tile_size"}},
    {"max_pixels_tolerance", {"max_pixels_tolerance"}},
    {"use_thumbnail", {"use_thumbnail"}},
    {"use_image_special_tokens", {"use_image_special_tokens"}},
    {"resample", {"resample"}},
    {"do_rescale", {"do_rescale"}},
    {"rescale_factor", {"rescale_factor"}},
    {"do_normalize", {"do_normalize"}},
    {"image_mean", {"image_mean"}},
    {"image_std", {"image_std"}},
};

// Where one setting was first stated, for the disagreement message.
struct Stated {
  std::string where;  // "<dir>/preprocessor_config.json: patch_size"
  Json value;
};

// Hugging Face lets the later file win silently; a preprocessor_config.json and a
// processor_config.json that disagree (say on the patch size) mean the model directory was
// assembled from two models, and the wrong one would silently size every pixel buffer. So every
// setting stated in more than one place (or under two key names in one file) must agree.
Status CheckAgreement(const std::vector<std::pair<const Json*, std::string>>& sources,
                      std::map<std::string, std::string>* field_sources) {
  std::map<std::string, Stated> first;
  for (const auto& [j, src] : sources) {
    for (const Setting& s : kSettings) {
      for (const char* key : s.keys) {
        auto it = j->find(key);
        if (it == j->end() || it->is_null()) continue;
        Json v = *it;
        if (v.is_number() && (std::string(s.name) == "image_mean" || std::string(s.name) == "image_std"))
          v = Json::array({v, v, v});  // a scalar mean/std means the same value per channel
        const std::string where = src + ": " + key;
        auto [f, inserted] = first.try_emplace(s.name, Stated{where, v});
        if (!inserted && f->second.value != v) {
          return InvalidArgument(where + " is " + it->dump() + " but " + f->second.where + " is " +
                                 f->second.value.dump() + " (the processor files disagree on " + s.name + ")");
        }
        (*field_sources)[s.name] = where;
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status Lfm2VlProcessorConfig::MergeJson(const std::string& json_text, const std::string& source) {
  LFM_ASSIGN_OR_RETURN(Json j, ParseObject(json_text, source));
  return MergeObject(*this, j, source);
}

Result<Lfm2VlProcessorConfig> Lfm2VlProcessorConfig::FromModelDir(const std::string& dir) {
  Lfm2VlProcessorConfig c;
  bool any = false;
  auto load = [&](const std::string& name) -> Result<Json> {
    const std::string path = dir + "/" + name;
    if (!FileExists(path)) return Json();
    LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kConfig));
    any = true;
    return ParseObject(text, path);
  };
  LFM_ASSIGN_OR_RETURN(Json pre, load("preprocessor_config.json"));
  if (pre.is_object()) LFM_RETURN_IF_ERROR(MergeObject(c, pre, dir + "/preprocessor_config.json"));
  LFM_ASSIGN_OR_RETURN(Json proc, load("processor_config.json"));
  if (proc.is_object()) {
    const std::string src = dir + "/processor_config.json";
    if (auto it = proc.find("image_processor"); it != proc.end() && it->is_object()) {
      LFM_RETURN_IF_ERROR(MergeObject(c, *it, src + " image_processor"));
    }
    LFM_RETURN_IF_ERROR(MergeObject(c, proc, src));
  }
  std::vector<std::pair<const Json*, std::string>> sources;
  if (pre.is_object()) sources.push_back({&pre, dir + "/preprocessor_config.json"});
  if (proc.is_object()) {
    if (auto it = proc.find("image_processor"); it != proc.end() && it->is_object())
      sources.push_back({&*it, dir + "/processor_config.json image_processor"});
    sources.push_back({&proc, dir + "/processor_config.json"});
  }
  LFM_RETURN_IF_ERROR(CheckAgreement(sources, &c.field_sources));
  if (!any) {
    return NotFound(dir + ": neither preprocessor_config.json nor processor_config.json exists");
  }
  // Token strings: special_tokens_map.json, then tokenizer_config.json (both hold the same names).
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    LFM_ASSIGN_OR_RETURN(Json t, load(name));
    if (!t.is_object()) continue;
    const std::string src = dir + "/" + name;
    Lfm2VlProcessorConfig tokens = c;
    LFM_RETURN_IF_ERROR(GetToken(t, "image_token", src, &tokens.image_token));
    LFM_RETURN_IF_ERROR(GetToken(t, "image_start_token", src, &tokens.image_start_token));
    LFM_RETURN_IF_ERROR(GetToken(t, "image_end_token", src, &tokens.image_end_token));
    LFM_RETURN_IF_ERROR(GetToken(t, "image_thumbnail", src, &tokens.image_thumbnail_token));
    c.image_token = tokens.image_token;
    c.image_start_token = tokens.image_start_token;
    c.image_end_token = tokens.image_end_token;
    c.image_thumbnail_token = tokens.image_thumbnail_token;
  }
  LFM_RETURN_IF_ERROR(c.Validate().WithContext(dir));
  return c;
}

Status Lfm2VlProcessorConfig::Validate() const {
  auto bad = [](const std::string& what) { return InvalidArgument("LFM2-VL processor config: " + what); };
  if (encoder_patch_size <= 0 || encoder_patch_size > 1024) return bad("encoder_patch_size must be in 1..1024");
  if (downsample_factor <= 0 || downsample_factor > 16) return bad("downsample_factor must be in 1..16");
  if (min_image_tokens <= 0 || max_image_tokens < min_image_tokens || max_image_tokens > (1 << 16)) {
    return bad("need 0 < min_image_tokens <= max_image_tokens <= 65536 (got " + std::to_string(min_image_tokens) +
               ", " + std::to_string(max_image_tokens) + ")");
  }
  if (do_image_splitting) {
    if (min_tiles < 1 || max_tiles < min_tiles || max_tiles > 64) {
      return bad("need 1 <= min_tiles <= max_tiles <= 64 (got " + std::to_string(min_tiles) + ", " +
                 std::to_string(max_tiles) + ")");
    }
    if (tile_size <= 0 || tile_size > 4096 || tile_size % encoder_patch_size != 0) {
      return bad("tile_size " + std::to_string(tile_size) + " must be a positive multiple of the patch size");
    }
  }
  if (!(max_pixels_tolerance > 0)) return bad("max_pixels_tolerance must be positive");
  if (resample != 2 && resample != 3) return ResampleFilterFromPil(resample).status();
  if (do_rescale && !(rescale_factor > 0)) return bad("rescale_factor must be positive");
  for (double s : image_std) {
    if (do_normalize && s == 0) return bad("image_std must not be 0");
  }
  if (image_token.empty()) return bad("image_token is empty");
  return Status::Ok();
}

int Lfm2VlProcessorConfig::MaxNumPatches() const {
  const int thumb = max_image_tokens * downsample_factor * downsample_factor;
  const int tile = do_image_splitting ? (tile_size / encoder_patch_size) * (tile_size / encoder_patch_size) : 0;
  return std::max(thumb, tile);
}

}  // namespace lfm
