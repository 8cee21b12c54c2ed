// Helpers the engine tests that compare two runs token for token share.
#pragma once

#include <cstdint>
#include <vector>

#include "lfm/engine.h"

namespace lfm::testing {

// Greedy decoding of exactly max_tokens (EOS ignored), with the prompt logits returned: two runs that
// should agree are compared on both.
inline GenerateOptions Greedy(int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.ignore_eos = true;
  o.return_prompt_logits = true;
  SamplingParams sp;
  sp.temperature = 0.0f;
  o.sampling = sp;
  return o;
}

// n reproducible pseudo-random token ids in [2, vocab) (an LCG, the same on every standard library;
// ids 0 and 1 are left out).
inline std::vector<int32_t> Ids(int n, int vocab, uint32_t seed) {
  std::vector<int32_t> ids;
  uint32_t x = seed;
  for (int i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    ids.push_back(static_cast<int32_t>(2 + (x >> 8) % static_cast<uint32_t>(vocab - 2)));
  }
  return ids;
}

}  // namespace lfm::testing
