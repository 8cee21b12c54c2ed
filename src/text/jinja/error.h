// The engine's internal error: thrown while parsing or rendering, caught at the public boundary
// (Template::Parse / Render) and turned into a Status naming the template line and column.
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "lfm/status.h"

namespace lfm::jinja {

constexpr size_t kNoPos = static_cast<size_t>(-1);

struct Error {
  StatusCode code = StatusCode::kInvalidArgument;
  std::string message;
  size_t pos = kNoPos;  // byte offset in the (normalised) template source, or kNoPos

  Error(std::string m, size_t p = kNoPos, StatusCode c = StatusCode::kInvalidArgument)
      : code(c), message(std::move(m)), pos(p) {}
};

[[noreturn]] inline void Fail(std::string message, size_t pos = kNoPos) { throw Error(std::move(message), pos); }

}  // namespace lfm::jinja
