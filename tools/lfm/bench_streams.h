// lfm bench --streams: S concurrent generations on one Engine (as S server clients would run), which
// the engine's continuous batcher serves with shared decoder passes. Reports the aggregate decode
// throughput and the time to first token of the streams started together.
#pragma once

#include <random>
#include <vector>

#include "lfm/engine.h"

namespace lfm::cli {

struct StreamsRun {
  double aggregate_tok_s = 0;     // decoded tokens of all streams (after each one's first) / wall time
  std::vector<double> ttft_ms;    // per stream: from the common start to its first token
  int max_batch = 0;              // the largest batch the engine's batcher ran during the run
};

// S threads start together; each prefills `prompt` random tokens, then decodes `gen` timed tokens
// (one more than timed, as tgN: the first token comes from the prefill). The wall time runs from the
// first stream's first token to the last stream's last token, so it includes any stream still
// prefilling meanwhile: the figure is never better than the real aggregate.
Result<StreamsRun> RunStreams(Engine& engine, int streams, int prompt, int gen, std::mt19937& rng);

// The p-th percentile (0..100) of v, nearest-rank.
double Percentile(std::vector<double> v, double p);

}  // namespace lfm::cli
