#include "model/generation_config.h"

#include <nlohmann/json.hpp>

#include "base/json_input.h"
#include "base/mapped_file.h"

namespace lfm {

using nlohmann::json;

Result<GenerationConfig> ParseGenerationConfig(const std::string& json_text, const std::string& path) {
  LFM_ASSIGN_OR_RETURN(json j, ParseJson(json_text, path));
  if (!j.is_object()) return InvalidArgument(path + ": expected a JSON object");
  GenerationConfig g;
  auto has = [&](const char* k) { return j.contains(k) && !j[k].is_null(); };
  auto bad = [&](const char* k, const char* want) {
    return InvalidArgument(path + ": " + k + ": expected " + want + ", got " + j[k].dump());
  };
  auto num = [&](const char* k, std::optional<float>& out, double lo, double hi) -> Status {
    if (!has(k)) return Status::Ok();
    if (!j[k].is_number()) return bad(k, "a number");
    double v = j[k].get<double>();
    if (!(v >= lo && v <= hi)) return bad(k, ("a number in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]").c_str());
    out = static_cast<float>(v);
    return Status::Ok();
  };
  auto integer = [&](const char* k, std::optional<int>& out, int64_t lo) -> Status {
    if (!has(k)) return Status::Ok();
    if (!j[k].is_number_integer() || j[k].get<int64_t>() < lo || j[k].get<int64_t>() > (1ll << 31) - 1) {
      return bad(k, "a non-negative integer");
    }
    out = static_cast<int>(j[k].get<int64_t>());
    return Status::Ok();
  };
  if (has("do_sample")) {
    if (!j["do_sample"].is_boolean()) return bad("do_sample", "true or false");
    g.do_sample = j["do_sample"].get<bool>();
  }
  LFM_RETURN_IF_ERROR(num("temperature", g.temperature, 0, 1e6));
  LFM_RETURN_IF_ERROR(num("top_p", g.top_p, 0, 1));
  LFM_RETURN_IF_ERROR(num("min_p", g.min_p, 0, 1));
  LFM_RETURN_IF_ERROR(num("repetition_penalty", g.repetition_penalty, 1e-6, 1e6));
  LFM_RETURN_IF_ERROR(integer("top_k", g.top_k, 0));
  LFM_RETURN_IF_ERROR(integer("max_new_tokens", g.max_new_tokens, 0));
  LFM_RETURN_IF_ERROR(integer("bos_token_id", g.bos_token_id, 0));
  LFM_RETURN_IF_ERROR(integer("pad_token_id", g.pad_token_id, 0));
  if (has("eos_token_id")) {
    const json& e = j["eos_token_id"];
    std::vector<json> ids = e.is_array() ? std::vector<json>(e.begin(), e.end()) : std::vector<json>{e};
    for (const auto& id : ids) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > (1ll << 31) - 1) {
        return bad("eos_token_id", "a token id or a list of token ids");
      }
      g.eos_token_ids.push_back(static_cast<int>(id.get<int64_t>()));
    }
  }
  return g;
}

Result<GenerationConfig> LoadGenerationConfig(const std::string& path) {
  LFM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, file_limits::kConfig));
  return ParseGenerationConfig(text, path);
}

}  // namespace lfm
