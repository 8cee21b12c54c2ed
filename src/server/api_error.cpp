#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace lfm::server {

std::string ApiError::ToJson() const {
  nlohmann::ordered_json e = {{"message", message}, {"type", type}};
  e["param"] = param.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(param);
  e["code"] = code.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(code);
  return nlohmann::ordered_json{{"error", e}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError BadRequest(std::string param, std::string message, std::string code) {
  ApiError e;
  e.http_status = 400;
  e.param = std::move(param);
  e.message = e.param.empty() ? std::move(message) : e.param + ": " + message;
  e.code = std::move(code);
  return e;
}

ApiError FromStatus(const Status& status, std::string param) {
  ApiError e;
  e.param = std::move(param);
  e.message = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument: e.code = "invalid_value"; break;
    case StatusCode::kResourceExhausted: e.code = "limit_exceeded"; break;
    case StatusCode::kUnsupported: e.code = "unsupported"; break;
    case StatusCode::kOutOfRange: e.code = "context_length_exceeded"; break;
    case StatusCode::kNotFound: e.code = "not_found"; break;
    default:
      e.http_status = 500;
      e.type = "server_error";
      e.code = "internal_error";
      break;
  }
  return e;
}

ApiError FromChatError(const Status& status, const std::vector<std::string>& image_params) {
  const std::string& m = status.message();
  size_t k = 0;
  if (m.rfind("image ", 0) == 0 && m.size() > 6 && m[6] >= '0' && m[6] <= '9') {
    size_t pos = 6;
    while (pos < m.size() && m[pos] >= '0' && m[pos] <= '9') k = k * 10 + static_cast<size_t>(m[pos++] - '0');
    if (pos < m.size() && m[pos] == ':' && k < image_params.size()) {
      ApiError e = FromStatus(status, image_params[k]);
      e.message = image_params[k] + ": " + m;
      return e;
    }
  }
  return FromStatus(status);
}

}  // namespace lfm::server
