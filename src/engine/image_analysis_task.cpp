#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "base/json_input.h"
#include "lfm/task.h"

namespace lfm {

namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::vector<std::string> CleanList(const nlohmann::json& j, bool fold_case) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (!v.is_string()) continue;
    std::string s = Trim(v.get<std::string>());
    std::string key = s;
    if (fold_case) std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s.empty() || !seen.insert(key).second) continue;
    out.push_back(s);
  }
  return out;
}

}  // namespace

ImageAnalysisTask::ImageAnalysisTask(std::vector<std::string> images, std::string hint)
    : images_(std::move(images)), hint_(std::move(hint)) {}

const std::string& ImageAnalysisTask::Schema() {
  static const std::string kSchema = R"({"type": "object",
 "properties": {
  "caption": {"type": "string", "maxLength": 300},
  "objects": {"type": "array", "items": {"type": "string", "maxLength": 60}, "maxItems": 20},
  "visible_text": {"type": "string", "maxLength": 500},
  "tags": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 15}},
 "required": ["caption", "objects", "visible_text", "tags"],
 "additionalProperties": false})";
  return kSchema;
}

std::string ImageAnalysisTask::RequestJson() const {
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& im : images_) parts.push_back({{"type", "image"}, {"image", im}});
  std::string text =
      "Analyse the image. Answer with JSON: caption (one or two sentences), objects (the distinct things "
      "visible), visible_text (text readable in the image, or an empty string) and tags (short keywords).";
  if (!hint_.empty()) text += " " + hint_;
  parts.push_back({{"type", "text"}, {"text", text}});
  nlohmann::json system = {{"role", "system"},
                           {"content", "You are a precise image analyst. You only report what is visible."}};
  nlohmann::json user = {{"role", "user"}, {"content", parts}};
  return nlohmann::json{{"messages", nlohmann::json::array({system, user})}}.dump();
}

Result<ImageAnalysis> ImageAnalysisTask::Parse(const std::string& text) const {
  auto parsed = ParseJson(text, "image analysis output");
  if (!parsed.ok()) return parsed.status();
  nlohmann::json& j = *parsed;
  if (!j.is_object()) return InvalidArgument("image analysis: the output is not a JSON object");
  if (!j.contains("caption") || !j["caption"].is_string())
    return InvalidArgument("image analysis: the output has no string 'caption'");
  ImageAnalysis a;
  a.caption = Trim(j["caption"].get<std::string>());
  if (j.contains("objects")) a.objects = CleanList(j["objects"], false);
  if (j.contains("visible_text") && j["visible_text"].is_string()) a.visible_text = Trim(j["visible_text"]);
  if (j.contains("tags")) a.tags = CleanList(j["tags"], true);
  return a;
}

}  // namespace lfm
