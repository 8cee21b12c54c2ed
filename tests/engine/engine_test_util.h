// Helpers the engine tests that compare two runs token for token share.
#pragma once

#include <cstdint>
#include <vector>

#include "lfm/engine.h"
#include "test_util.h"

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

// n pseudo-random token ids in [2, vocab) (test_util.h).
inline std::vector<int32_t> Ids(int n, int vocab, uint32_t seed) { return PseudoRandomIds(n, vocab, seed); }

}  // namespace lfm::testing
