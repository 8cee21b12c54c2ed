#include "sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace lfm {

Status SamplingParams::Validate() const {
  auto bad = [](const std::string& what) { return InvalidArgument("sampling: " + what); };
  if (!std::isfinite(temperature)) return bad("temperature must be finite");
  if (top_k < 0) return bad("top_k must be >= 0 (0 disables it), got " + std::to_string(top_k));
  if (!(top_p > 0.0f && top_p <= 1.0f)) return bad("top_p must be in (0, 1], got " + std::to_string(top_p));
  if (!(min_p >= 0.0f && min_p <= 1.0f)) return bad("min_p must be in [0, 1], got " + std::to_string(min_p));
  if (!(repetition_penalty > 0.0f) || !std::isfinite(repetition_penalty))
    return bad("repetition_penalty must be > 0, got " + std::to_string(repetition_penalty));
  return Status::Ok();
}

void ApplyRepetitionPenalty(float* logits, int n_vocab, const std::vector<int32_t>& history, float penalty,
                            int last_n) {
  if (penalty == 1.0f || history.empty()) return;
  size_t begin = 0;
  if (last_n >= 0 && history.size() > static_cast<size_t>(last_n)) begin = history.size() - last_n;
  // Each distinct id is penalised once, however often it occurs (HF gathers, then scatters).
  std::unordered_set<int32_t> seen;
  for (size_t i = begin; i < history.size(); ++i) {
    int32_t id = history[i];
    if (id < 0 || id >= n_vocab || !seen.insert(id).second) continue;
    float& l = logits[id];
    l = l > 0 ? l / penalty : l * penalty;
  }
}

void ApplyAllowedMask(float* logits, int n_vocab, const uint32_t* allowed) {
  if (allowed == nullptr) return;
  const float kNegInf = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n_vocab; ++i)
    if (((allowed[i >> 5] >> (i & 31)) & 1u) == 0) logits[i] = kNegInf;
}

int32_t ArgMax(const float* logits, int n_vocab) {
  int32_t best = -1;
  float best_v = -std::numeric_limits<float>::infinity();
  for (int i = 0; i < n_vocab; ++i) {
    if (logits[i] > best_v) {  // first maximum wins, as torch.argmax does
      best_v = logits[i];
      best = i;
    }
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::Sample(float* logits, int n_vocab, const std::vector<int32_t>& history,
                        const uint32_t* allowed) {
  ApplyAllowedMask(logits, n_vocab, allowed);
  ApplyRepetitionPenalty(logits, n_vocab, history, params_.repetition_penalty, params_.repeat_last_n);
  if (params_.greedy()) return ArgMax(logits, n_vocab);

  // Candidates: every finite logit, scaled by temperature.
  candidates_.clear();
  const float inv_t = 1.0f / params_.temperature;
  for (int i = 0; i < n_vocab; ++i)
    if (std::isfinite(logits[i])) candidates_.emplace_back(logits[i] * inv_t, i);
  if (candidates_.empty()) return -1;
  auto by_logit_desc = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  };

  size_t keep = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
    keep = static_cast<size_t>(params_.top_k);
    std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_logit_desc);
    candidates_.resize(keep);
  } else {
    std::sort(candidates_.begin(), candidates_.end(), by_logit_desc);
  }

  // Softmax over the sorted candidates (max is first).
  std::vector<float> probs(candidates_.size());
  const float max_l = candidates_[0].first;
  double sum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs[i] = std::exp(candidates_[i].first - max_l);
    sum += probs[i];
  }
  for (float& p : probs) p = static_cast<float>(p / sum);

  if (params_.top_p < 1.0f) {
    // Keep the smallest prefix whose mass reaches top_p (at least one token), as HF does.
    double cum = 0;
    size_t n = 0;
    while (n < probs.size()) {
      cum += probs[n++];
      if (cum >= params_.top_p) break;
    }
    keep = n;
  } else {
    keep = probs.size();
  }
  if (params_.min_p > 0.0f) {
    const float threshold = params_.min_p * probs[0];
    size_t n = 1;
    while (n < keep && probs[n] >= threshold) ++n;
    keep = n;
  }

  double mass = 0;
  for (size_t i = 0; i < keep; ++i) mass += probs[i];
  double r = std::uniform_real_distribution<double>(0.0, mass)(rng_);
  for (size_t i = 0; i < keep; ++i) {
    r -= probs[i];
    if (r < 0) return candidates_[i].second;
  }
  return candidates_[keep - 1].second;
}

}  // namespace lfm
