// --max-* flags for the request limits (lfm/admission.h) and the "Limits" section of --help;
// shared by `lfm run`, `lfm chat` and `lfm render`.
#pragma once

#include <CLI/CLI.hpp>

#include "lfm/admission.h"

namespace lfm::cli {

struct AdmissionOptions {
  AdmissionLimits limits;  // the library defaults until a flag changes one
  void Add(CLI::App* sub);
};

}  // namespace lfm::cli
