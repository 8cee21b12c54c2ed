// The sampler chain, in Hugging Face's order so that "temperature 0.1, min_p 0.15, repetition
// penalty 1.05" means what the model card means: repetition penalty -> temperature -> top-k ->
// top-p -> min-p -> draw. A grammar mask, when given, removes tokens before anything else.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lfm/sampling.h"
#include "lfm/status.h"

namespace lfm {


class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks the next token. `logits` (n_vocab floats) is modified in place. `history` holds every id
  // the model has seen (prompt + generated), as HF's repetition penalty uses. `allowed` is an
  // optional bitmask (bit i set = token i allowed); if no token is allowed, returns -1.
  int32_t Sample(float* logits, int n_vocab, const std::vector<int32_t>& history,
                 const uint32_t* allowed = nullptr);

  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // reused across calls
};

// The individual steps, exposed for tests and for callers building their own chains.
void ApplyRepetitionPenalty(float* logits, int n_vocab, const std::vector<int32_t>& history, float penalty,
                            int last_n);
void ApplyAllowedMask(float* logits, int n_vocab, const uint32_t* allowed);
int32_t ArgMax(const float* logits, int n_vocab);

}  // namespace lfm
