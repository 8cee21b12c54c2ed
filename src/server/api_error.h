// Errors as the OpenAI API reports them: an HTTP status plus
// {"error": {"message", "type", "param", "code"}}, so official clients raise their usual exceptions
// (BadRequestError, ...) with our message in them.
#pragma once

#include <string>
#include <vector>

#include "lfm/status.h"

namespace lfm::server {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";  // OpenAI's type names
  std::string param;                           // a JSON pointer into the request ("/messages/0/content"), or ""
  std::string code;                            // "" -> null

  std::string ToJson() const;
};

ApiError BadRequest(std::string param, std::string message, std::string code = "invalid_value");
// Maps a library Status to an HTTP error: bad input 400, a configured limit 400 ("limit_exceeded"),
// not implemented 400 ("unsupported"), context full 400, a failure of ours 500.
ApiError FromStatus(const Status& status, std::string param = "");

// An engine error on a chat request: one about "image K: ..." names the K-th image part
// (image_params: the JSON pointer of each image part, in request order).
ApiError FromChatError(const Status& status, const std::vector<std::string>& image_params);

}  // namespace lfm::server
