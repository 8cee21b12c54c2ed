// Builds a chat request (OpenAI-shaped JSON) from the CLI's -p / --system / --messages / --image /
// --tools options; shared by `lfm run` and `lfm render`.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "lfm/admission.h"
#include "lfm/status.h"

namespace lfm::cli {

struct ChatRequestOptions {
  std::string prompt, prompt_file, system, messages_file, tools_file;
  std::vector<std::string> images;
  bool escape_special = false;
  void Add(CLI::App* sub);
  // The request JSON text. --messages FILE holds a JSON array of messages or an object
  // {"messages": [...], "tools": [...], "add_generation_prompt": true}; -p (or -f FILE) appends a user turn.
  // Files larger than limits.max_request_bytes are refused by their size, before they are read.
  Result<std::string> Build(const AdmissionLimits& limits = {}) const;
};

}  // namespace lfm::cli
