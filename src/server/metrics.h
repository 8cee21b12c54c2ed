// Counters behind GET /metrics, in Prometheus' text format: requests by endpoint and status, tokens
// in and out, queue depth and running requests, and summaries (quantiles over the last 1024
// requests) of request latency and time to first token.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "lfm/engine.h"

namespace lfm::server {

// The engine's continuous batcher (lfm/engine.h BatchStats): passes, decode steps they carried, the
// largest batch, prefill chunks.
std::string RenderBatchStats(const BatchStats& b);
// The engine's shared caches (lfm/engine.h CacheStats): prefix reuse and image embeddings.
std::string RenderCacheStats(const CacheStats& c);

class Metrics {
 public:
  void CountRequest(const std::string& endpoint, int http_status);
  // cached_prompt_tokens: of the prompt, restored from the prefix cache instead of prefilled.
  void CountTokens(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_prompt_tokens = 0);
  void ObserveLatency(double seconds);
  void ObserveTimeToFirstToken(double seconds);
  void CountCancelled();
  // queue_depth / active come from the request slots at scrape time.
  std::string Render(int queue_depth, int active, int parallel, int queue_capacity) const;

 private:
  struct Window {
    std::deque<double> values;  // the most recent observations, for quantiles
    double sum = 0;
    uint64_t count = 0;
    void Add(double v);
  };
  static void RenderSummary(std::string* out, const char* name, const char* help, const Window& w);

  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  int64_t prompt_tokens_ = 0, completion_tokens_ = 0, prefilled_tokens_ = 0;
  uint64_t cancelled_ = 0;
  Window latency_, ttft_;
};

}  // namespace lfm::server
