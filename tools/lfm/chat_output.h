// JSON output of a chat result, shared by `lfm run --json` and `lfm chat --json`.
#pragma once

#include <string>

#include "lfm/chat.h"

namespace lfm::cli {

std::string ChatResultJson(const ChatResult& r, const GenerateOptions& opts);

}  // namespace lfm::cli
