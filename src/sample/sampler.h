// The sampler chain, in Hugging Face's order so that "temperature 0.1, min_p 0.15, repetition
// penalty 1.05" means what the model card means: repetition penalty -> temperature -> top-k ->
// top-p -> min-p -> draw. A grammar mask, when given, removes tokens before anything else.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

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
