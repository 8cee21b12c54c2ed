#include "batch_jobs.h"

#include <cmath>
#include <limits>

namespace lfm::cli {

namespace {

// Keys a job may carry; anything else is refused (a typo such as "max_token" must not be ignored).
const std::vector<std::string>& SamplingKeys() {
  static const std::vector<std::string> keys = {"temperature", "top_k",    "top_p",          "min_p",
                                                "repeat_penalty", "repeat_last_n", "seed", "max_tokens",
                                                "min_new_tokens", "stop"};
  return keys;
}
bool IsKnownKey(const std::string& k) {
  static const std::vector<std::string> own = {"id", "images", "prompt", "messages", "system", "schema", "task"};
  for (const auto& s : own)
    if (s == k) return true;
  for (const auto& s : SamplingKeys())
    if (s == k) return true;
  return false;
}

std::string ResolvePath(const std::string& p, const std::string& base_dir) {
  if (p.empty() || p[0] == '/' || p.rfind("data:", 0) == 0 || p.rfind("file://", 0) == 0 || base_dir.empty())
    return p;
  return base_dir + "/" + p;
}

Result<nlohmann::json> ParseObject(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument("not valid JSON (or not UTF-8)");
  if (!j.is_object()) return InvalidArgument("expected a JSON object, got " + std::string(j.type_name()));
  return j;
}

}  // namespace

Result<std::string> ParseJobId(const std::string& line) {
  LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(line));
  auto it = j.find("id");
  if (it == j.end()) return InvalidArgument("no \"id\"");
  if (!it->is_string() && !it->is_number_integer())
    return InvalidArgument("\"id\" must be a string or an integer, got " + std::string(it->type_name()));
  if (it->is_string() && it->get_ref<const std::string&>().empty()) return InvalidArgument("\"id\" is empty");
  return it->dump();
}

Result<BatchJob> ParseBatchJob(const std::string& line, const std::string& base_dir) {
  LFM_ASSIGN_OR_RETURN(nlohmann::json j, ParseObject(line));
  BatchJob job;
  for (auto& [k, v] : j.items()) {
    if (!IsKnownKey(k)) return InvalidArgument("unknown key \"" + k + "\"");
    for (const auto& s : SamplingKeys())
      if (s == k) job.overrides[k] = v;
  }
  if (j.contains("images")) {
    const auto& im = j["images"];
    if (!im.is_array()) return InvalidArgument("\"images\" must be an array of paths");
    for (const auto& p : im) {
      if (!p.is_string()) return InvalidArgument("\"images\" must be an array of paths");
      job.images.push_back(ResolvePath(p.get<std::string>(), base_dir));
    }
  }
  if (j.contains("prompt")) {
    if (!j["prompt"].is_string()) return InvalidArgument("\"prompt\" must be a string");
    job.prompt = j["prompt"].get<std::string>();
  }
  if (j.contains("schema")) {
    const auto& s = j["schema"];
    if (!s.is_object() && !s.is_boolean()) return InvalidArgument("\"schema\" must be a JSON Schema (an object)");
    job.schema = s.dump();
  }
  if (j.contains("task")) {
    if (!j["task"].is_string() || j["task"] != "image-analysis")
      return InvalidArgument("\"task\" must be \"image-analysis\" (the one built-in task)");
    job.task = "image-analysis";
    if (job.schema) return InvalidArgument("\"task\" brings its own schema; drop \"schema\"");
    if (j.contains("messages")) return InvalidArgument("\"task\" takes \"images\" and an optional \"prompt\" hint, not \"messages\"");
    if (job.images.empty()) return InvalidArgument("\"task\": \"image-analysis\" needs \"images\"");
    return job;
  }
  nlohmann::json messages = nlohmann::json::array();
  if (j.contains("messages")) {
    if (!j["messages"].is_array()) return InvalidArgument("\"messages\" must be an array (OpenAI shape)");
    messages = j["messages"];
  }
  if (j.contains("system")) {
    if (!j["system"].is_string()) return InvalidArgument("\"system\" must be a string");
    messages.insert(messages.begin(), nlohmann::json{{"role", "system"}, {"content", j["system"]}});
  }
  if (!job.prompt.empty() || !job.images.empty()) {
    // Images first, then the text, as LFM2-VL's examples order them.
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& p : job.images) parts.push_back({{"type", "image"}, {"image", p}});
    if (!job.prompt.empty()) parts.push_back({{"type", "text"}, {"text", job.prompt}});
    messages.push_back({{"role", "user"}, {"content", parts}});
  }
  if (messages.empty()) return InvalidArgument("no input: give \"prompt\", \"images\" or \"messages\"");
  job.request_json = nlohmann::json{{"messages", messages}}.dump();
  return job;
}

Status ApplyJobOverrides(const nlohmann::json& o, GenerateOptions* opts) {
  if (o.is_null() || o.empty()) return Status::Ok();
  SamplingParams& p = *opts->sampling;
  auto number = [&](const char* key, double* out) -> Status {
    if (!o.contains(key)) return Status::Ok();
    if (!o[key].is_number()) return InvalidArgument(std::string("\"") + key + "\" must be a number");
    *out = o[key].get<double>();
    return Status::Ok();
  };
  auto integer = [&](const char* key, int64_t lo, int64_t hi, int64_t* out) -> Status {
    if (!o.contains(key)) return Status::Ok();
    if (!o[key].is_number_integer() || o[key].get<int64_t>() < lo || o[key].get<int64_t>() > hi)
      return InvalidArgument(std::string("\"") + key + "\" must be an integer in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    *out = o[key].get<int64_t>();
    return Status::Ok();
  };
  double d = 0;
  int64_t i = 0;
  const bool had_temperature = o.contains("temperature");
  if (had_temperature) {
    LFM_RETURN_IF_ERROR(number("temperature", &d));
    p.temperature = static_cast<float>(d);
  }
  if (o.contains("top_p")) { LFM_RETURN_IF_ERROR(number("top_p", &d)); p.top_p = static_cast<float>(d); }
  if (o.contains("min_p")) { LFM_RETURN_IF_ERROR(number("min_p", &d)); p.min_p = static_cast<float>(d); }
  if (o.contains("repeat_penalty")) {
    LFM_RETURN_IF_ERROR(number("repeat_penalty", &d));
    p.repetition_penalty = static_cast<float>(d);
  }
  if (o.contains("top_k")) { LFM_RETURN_IF_ERROR(integer("top_k", 0, std::numeric_limits<int>::max(), &i)); p.top_k = static_cast<int>(i); }
  if (o.contains("repeat_last_n")) {
    LFM_RETURN_IF_ERROR(integer("repeat_last_n", -1, std::numeric_limits<int>::max(), &i));
    p.repeat_last_n = static_cast<int>(i);
  }
  // As on the command line: a sampling filter without a temperature samples at temperature 1.
  if (!had_temperature && p.greedy() && (o.contains("top_k") || o.contains("top_p") || o.contains("min_p")))
    p.temperature = 1.0f;
  if (o.contains("seed")) {
    if (!o["seed"].is_number_unsigned()) return InvalidArgument("\"seed\" must be an integer >= 0");
    p.seed = o["seed"].get<uint64_t>();
  }
  if (o.contains("max_tokens")) {
    LFM_RETURN_IF_ERROR(integer("max_tokens", 0, std::numeric_limits<int>::max(), &i));
    opts->max_tokens = static_cast<int>(i);
  }
  if (o.contains("min_new_tokens")) {
    LFM_RETURN_IF_ERROR(integer("min_new_tokens", 0, std::numeric_limits<int>::max(), &i));
    opts->min_new_tokens = static_cast<int>(i);
  }
  if (o.contains("stop")) {
    const auto& s = o["stop"];
    std::vector<std::string> stop;
    if (s.is_string()) {
      stop.push_back(s.get<std::string>());
    } else if (s.is_array()) {
      for (const auto& e : s) {
        if (!e.is_string()) return InvalidArgument("\"stop\" must be a string or an array of strings");
        stop.push_back(e.get<std::string>());
      }
    } else {
      return InvalidArgument("\"stop\" must be a string or an array of strings");
    }
    for (const auto& x : stop)
      if (x.empty()) return InvalidArgument("\"stop\": an empty stop string would match everywhere");
    opts->stop = std::move(stop);
  }
  if (Status st = p.Validate(); !st.ok()) return st;
  return Status::Ok();
}

Result<std::unique_ptr<JobReader>> JobReader::Open(const std::string& path) {
  std::unique_ptr<JobReader> r(new JobReader());
  r->in_.open(path, std::ios::binary);
  if (!r->in_) return IoError("cannot open " + path);
  return r;
}

bool JobReader::Next(std::string* line, int* line_number) {
  std::lock_guard<std::mutex> lock(mu_);
  while (std::getline(in_, *line)) {
    ++line_number_;
    if (!line->empty() && line->back() == '\r') line->pop_back();
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    *line_number = line_number_;
    return true;
  }
  return false;
}

}  // namespace lfm::cli
