#include "engine/admission.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/json_input.h"
#include "base/mapped_file.h"
#include "base/utf8.h"
#include "engine/image_input.h"

namespace lfm {

using Json = nlohmann::ordered_json;

namespace {

// Every refusal names the limit, the value found, and how to change it (library field, CLI flag).
Status OverLimit(const std::string& what, uint64_t value, uint64_t limit, const std::string& unit,
                 const char* field, const char* flag) {
  return ResourceExhausted(what + ": " + std::to_string(value) + " " + unit + ", over the limit of " +
                           std::to_string(limit) + " " + unit + " (AdmissionLimits::" + field + "; lfm: " + flag +
                           " N)");
}

// Bytes of every string and object key below `j` (object keys reach the template too, e.g. in a
// tool schema dumped with tojson).
uint64_t StringBytes(const Json& j) {
  if (j.is_string()) return j.get_ref<const std::string&>().size();
  uint64_t n = 0;
  if (j.is_array()) {
    for (const auto& v : j) n += StringBytes(v);
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) n += it.key().size() + StringBytes(it.value());
  }
  return n;
}

uint64_t TextBytes(const ChatRequest& r) {
  uint64_t n = StringBytes(r.tools) + StringBytes(r.template_kwargs);
  for (const auto& m : r.messages) {
    n += m.role.size() + m.text.size() + StringBytes(m.extra);
    for (const auto& p : m.parts) n += p.type == ContentPart::Type::kText ? p.text.size() : 0;
    for (const auto& c : m.tool_calls) n += c.id.size() + c.name.size() + StringBytes(c.arguments);
  }
  return n;
}

}  // namespace

Status AdmitRequestText(std::string_view request_json, const AdmissionLimits& limits) {
  if (request_json.size() > limits.max_request_bytes)
    return OverLimit("chat request", request_json.size(), limits.max_request_bytes, "bytes", "max_request_bytes",
                     "--max-request-bytes");
  // A linear scan, before nlohmann builds (and later recursively walks) a tree that deep.
  Status depth = CheckJsonDepth(request_json, "chat request", limits.max_json_depth);
  if (!depth.ok())
    return ResourceExhausted(depth.message() + " (AdmissionLimits::max_json_depth; " +
                             "lfm: --max-json-depth N)");
  return Status::Ok();
}

Status AdmitRequestTree(const Json& request, const AdmissionLimits& limits) {
  const Json* messages = &request;
  if (request.is_object()) {
    auto it = request.find("messages");
    if (it == request.end()) return Status::Ok();  // the parser names what is missing
    messages = &*it;
  }
  if (!messages->is_array()) return Status::Ok();
  if (messages->size() > limits.max_messages)
    return OverLimit("chat request", messages->size(), limits.max_messages, "messages", "max_messages",
                     "--max-messages");
  for (size_t i = 0; i < messages->size(); ++i) {
    const Json& m = (*messages)[i];
    if (!m.is_object()) continue;
    auto content = m.find("content");
    if (content == m.end() || !content->is_array()) continue;
    if (content->size() > limits.max_content_parts)
      return OverLimit("messages[" + std::to_string(i) + "].content", content->size(), limits.max_content_parts,
                       "parts", "max_content_parts", "--max-content-parts");
  }
  return Status::Ok();
}

Status AdmitRequestContent(const ChatRequest& request, const AdmissionLimits& limits) {
  const uint64_t text = TextBytes(request);
  if (text > limits.max_text_bytes)
    return OverLimit("chat request text (messages, tools and template kwargs together)", text,
                     limits.max_text_bytes, "bytes", "max_text_bytes", "--max-text-bytes");
  size_t images = 0;
  for (const auto& m : request.messages) images += m.ImageCount();
  if (images > limits.max_images)
    return OverLimit("chat request", images, limits.max_images, "images", "max_images", "--max-images");
  return Status::Ok();
}

Result<ChatRequest> ParseAndAdmitChatRequest(const std::string& request_json, const AdmissionLimits& limits) {
  LFM_RETURN_IF_ERROR(AdmitRequestText(request_json, limits));
  LFM_RETURN_IF_ERROR(CheckUtf8(request_json, "chat request"));
  LFM_ASSIGN_OR_RETURN(Json j, ParseOrderedJson(request_json, "chat request", limits.max_json_depth));
  LFM_RETURN_IF_ERROR(AdmitRequestTree(j, limits));
  LFM_ASSIGN_OR_RETURN(ChatRequest request, ParseChatRequestJson(j));
  LFM_RETURN_IF_ERROR(AdmitRequestContent(request, limits));
  return request;
}

DecodeOptions DecodeOptionsFor(const AdmissionLimits& limits) {
  DecodeOptions o;
  o.max_pixels = limits.max_image_pixels;
  o.max_bytes = limits.max_image_bytes;
  return o;
}

namespace {

Result<ImageHeaderSize> AdmitImage(const std::string& source, const AdmissionLimits& limits) {
  const DecodeOptions decode = DecodeOptionsFor(limits);
  auto too_big = [&](uint64_t bytes) {
    return OverLimit("image", bytes, limits.max_image_bytes, "bytes", "max_image_bytes", "--max-image-bytes");
  };
  if (source.empty()) return InvalidArgument("image part without a path, file:// URL or data: URI");
  if (source.rfind("data:", 0) == 0) {
    const size_t comma = source.find(',');
    if (comma == std::string::npos || source.substr(0, comma).find(";base64") == std::string::npos)
      return InvalidArgument("image data URI must be of the form data:image/...;base64,... ");
    // Base64 holds 3 bytes per 4 characters: refuse before decoding anything.
    const uint64_t approx = (source.size() - comma - 1) / 4 * 3;
    if (approx > limits.max_image_bytes) return too_big(approx);
    LFM_ASSIGN_OR_RETURN(std::string bytes, DecodeBase64(std::string_view(source).substr(comma + 1)));
    auto header = ReadImageHeader(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), decode);
    if (!header.ok()) return header.status().WithContext("image data URI");
    return header;
  }
  if (source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0)
    return Unsupported("image URL '" + source + "': lfm.cpp does not fetch from the network; download it and " +
                       "pass the file path (or a data: URI)");
  const std::string path = source.rfind("file://", 0) == 0 ? source.substr(7) : source;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFound(path + ": no such image file");
  // A FIFO or device would block or never end: only regular files are images. The size is checked
  // below against the admission limit, whose message names its flag.
  LFM_RETURN_IF_ERROR(CheckRegularFile(path, FileSizeLimit{"an image", UINT64_MAX}).status());
  if (static_cast<uint64_t>(st.st_size) > limits.max_image_bytes)
    return too_big(static_cast<uint64_t>(st.st_size)).WithContext(path);
  // Mapping reads only the pages the header parser touches, not the file.
  LFM_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  auto header = ReadImageHeader(file.data(), file.size(), decode);
  if (!header.ok()) return header.status().WithContext(path);
  return header;
}

}  // namespace

Result<std::vector<ImageHeaderSize>> AdmitImages(const std::vector<std::string>& sources,
                                                 const AdmissionLimits& limits) {
  std::vector<ImageHeaderSize> out;
  out.reserve(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    auto header = AdmitImage(sources[i], limits);
    if (!header.ok()) return header.status().WithContext("image " + std::to_string(i));
    out.push_back(*header);
  }
  return out;
}

Result<int> MinImageTokens(const ImageHeaderSize& size, const Lfm2VlProcessorConfig& config) {
  LFM_ASSIGN_OR_RETURN(Lfm2VlLayout upright, ComputeLfm2VlLayout(size.height, size.width, config));
  if (size.width == size.height) return upright.image_tokens;
  LFM_ASSIGN_OR_RETURN(Lfm2VlLayout turned, ComputeLfm2VlLayout(size.width, size.height, config));
  return std::min(upright.image_tokens, turned.image_tokens);
}

Status AdmitTokenBudget(size_t text_tokens, const std::vector<ImageHeaderSize>& images,
                        const Lfm2VlProcessorConfig& config, int max_context) {
  uint64_t image_tokens = 0;
  for (size_t i = 0; i < images.size(); ++i) {
    auto n = MinImageTokens(images[i], config);
    if (!n.ok()) return n.status().WithContext("image " + std::to_string(i));
    image_tokens += static_cast<uint64_t>(*n);
  }
  // Each image is one placeholder token in the rendered text; its expansion replaces it.
  const uint64_t text = text_tokens > images.size() ? text_tokens - images.size() : 0;
  const uint64_t needed = text + image_tokens;
  if (max_context > 0 && needed >= static_cast<uint64_t>(max_context)) {
    std::string what = "the prompt needs at least " + std::to_string(needed) + " tokens (" + std::to_string(text) +
                       " of text";
    if (!images.empty())
      what += " + " + std::to_string(images.size()) + " image(s) taking at least " + std::to_string(image_tokens) +
              " image tokens (min_image_tokens " + std::to_string(config.min_image_tokens) + ")";
    return ResourceExhausted(what + ") but the context holds " + std::to_string(max_context) +
                             " tokens, with one left for the reply (token budget; raise the context with "
                             "LoadOptions::max_context / lfm -c N, or send less text or fewer images)");
  }
  return Status::Ok();
}

Status CheckChatRequest(const std::string& request_json, const AdmissionLimits& limits) {
  LFM_ASSIGN_OR_RETURN(ChatRequest request, ParseAndAdmitChatRequest(request_json, limits));
  std::vector<std::string> sources;
  for (const auto& m : request.messages)
    for (auto& url : m.ImageUrls()) sources.push_back(std::move(url));
  return AdmitImages(sources, limits).status();
}

std::vector<AdmissionLimitInfo> ListAdmissionLimits(const AdmissionLimits& l) {
  return {
      {"max_request_bytes", l.max_request_bytes, "bytes of request JSON (data: URI images included)"},
      {"max_json_depth", l.max_json_depth, "levels of JSON array/object nesting"},
      {"max_messages", l.max_messages, "messages per request"},
      {"max_content_parts", l.max_content_parts, "content parts per message"},
      {"max_text_bytes", l.max_text_bytes, "bytes of text entering the chat template (messages, tools)"},
      {"max_images", l.max_images, "images per request"},
      {"max_image_bytes", l.max_image_bytes, "bytes per image file (stat, before reading)"},
      {"max_image_pixels", static_cast<uint64_t>(l.max_image_pixels),
       "pixels per image (width x height from its header, before decoding)"},
  };
}

}  // namespace lfm
