// Sampling parameters (public). Defaults are neutral; the engine fills unset values from the model's
// generation_config.json, and the CLI flags override both.
#pragma once

#include <cstdint>

#include "lfm/status.h"

namespace lfm {

struct SamplingParams {
  float temperature = 1.0f;         // <= 0 means greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off; HF semantics (divide positive, multiply negative)
  int repeat_last_n = -1;           // penalise ids among the last N of the history; -1 = all (HF)
  uint64_t seed = 0;
  bool greedy() const { return temperature <= 0.0f; }
  // Checks ranges; names the offending field.
  Status Validate() const;
};

}  // namespace lfm
