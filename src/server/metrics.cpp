#include "server/metrics.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace lfm::server {

namespace {
constexpr size_t kWindow = 1024;

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

void Metrics::Window::Add(double v) {
  values.push_back(v);
  if (values.size() > kWindow) values.pop_front();
  sum += v;
  ++count;
}

void Metrics::CountRequest(const std::string& endpoint, int http_status) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{endpoint, http_status}];
}

void Metrics::CountTokens(int64_t prompt_tokens, int64_t completion_tokens, int64_t cached_prompt_tokens) {
  std::lock_guard<std::mutex> lock(mu_);
  prompt_tokens_ += prompt_tokens;
  prefilled_tokens_ += prompt_tokens - cached_prompt_tokens;
  completion_tokens_ += completion_tokens;
}

void Metrics::ObserveLatency(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_.Add(seconds);
}

void Metrics::ObserveTimeToFirstToken(double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ttft_.Add(seconds);
}

void Metrics::CountCancelled() {
  std::lock_guard<std::mutex> lock(mu_);
  ++cancelled_;
}

void Metrics::RenderSummary(std::string* out, const char* name, const char* help, const Window& w) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " summary\n";
  std::vector<double> sorted(w.values.begin(), w.values.end());
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.5, 0.9, 0.99}) {
    double v = 0;
    if (!sorted.empty()) v = sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
    *out += std::string(name) + "{quantile=\"" + Num(q) + "\"} " + (sorted.empty() ? "NaN" : Num(v)) + "\n";
  }
  *out += std::string(name) + "_sum " + Num(w.sum) + "\n";
  *out += std::string(name) + "_count " + std::to_string(w.count) + "\n";
}

std::string Metrics::Render(int queue_depth, int active, int parallel, int queue_capacity) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  out += "# HELP lfm_requests_total HTTP requests answered, by endpoint and status code.\n"
         "# TYPE lfm_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += "lfm_requests_total{endpoint=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  out += "# HELP lfm_prompt_tokens_total Prompt tokens processed.\n# TYPE lfm_prompt_tokens_total counter\n";
  out += "lfm_prompt_tokens_total " + std::to_string(prompt_tokens_) + "\n";
  out += "# HELP lfm_prompt_tokens_prefilled_total Prompt tokens run through prefill (the rest came from the "
         "prefix cache).\n# TYPE lfm_prompt_tokens_prefilled_total counter\n";
  out += "lfm_prompt_tokens_prefilled_total " + std::to_string(prefilled_tokens_) + "\n";
  out += "# HELP lfm_completion_tokens_total Tokens generated.\n# TYPE lfm_completion_tokens_total counter\n";
  out += "lfm_completion_tokens_total " + std::to_string(completion_tokens_) + "\n";
  out += "# HELP lfm_requests_cancelled_total Requests dropped because the client went away (while waiting for a slot or generating).\n"
         "# TYPE lfm_requests_cancelled_total counter\n";
  out += "lfm_requests_cancelled_total " + std::to_string(cancelled_) + "\n";
  out += "# HELP lfm_queue_depth Requests waiting for a generation slot.\n# TYPE lfm_queue_depth gauge\n";
  out += "lfm_queue_depth " + std::to_string(queue_depth) + "\n";
  out += "# HELP lfm_requests_active Requests generating now.\n# TYPE lfm_requests_active gauge\n";
  out += "lfm_requests_active " + std::to_string(active) + "\n";
  out += "# HELP lfm_slots Generation slots (--parallel).\n# TYPE lfm_slots gauge\n";
  out += "lfm_slots " + std::to_string(parallel) + "\n";
  out += "# HELP lfm_queue_capacity Waiting places (--queue).\n# TYPE lfm_queue_capacity gauge\n";
  out += "lfm_queue_capacity " + std::to_string(queue_capacity) + "\n";
  RenderSummary(&out, "lfm_request_duration_seconds", "Time from request to last byte, generating endpoints.", latency_);
  RenderSummary(&out, "lfm_time_to_first_token_seconds", "Time from request to the first generated token.", ttft_);
  return out;
}

std::string RenderBatchStats(const BatchStats& b) {
  std::string out;
  out += "# HELP lfm_batch_passes_total Decoder passes run by the continuous batcher.\n"
         "# TYPE lfm_batch_passes_total counter\n";
  out += "lfm_batch_passes_total " + std::to_string(b.passes) + "\n";
  out += "# HELP lfm_batch_decode_steps_total Decode steps those passes carried (one per sequence per pass).\n"
         "# TYPE lfm_batch_decode_steps_total counter\n";
  out += "lfm_batch_decode_steps_total " + std::to_string(b.decode_steps) + "\n";
  out += "# HELP lfm_batch_prefill_chunks_total Prompt chunks prefilled between decode steps.\n"
         "# TYPE lfm_batch_prefill_chunks_total counter\n";
  out += "lfm_batch_prefill_chunks_total " + std::to_string(b.prefill_chunks) + "\n";
  out += "# HELP lfm_batch_max_size The most decode steps one pass carried so far.\n"
         "# TYPE lfm_batch_max_size gauge\n";
  out += "lfm_batch_max_size " + std::to_string(b.max_batch) + "\n";
  return out;
}

std::string RenderCacheStats(const CacheStats& c) {
  std::string out;
  auto metric = [&out](const char* name, const char* type, const char* help, uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(v) + "\n";
  };
  metric("lfm_prefix_cache_hits_total", "counter", "Requests that started from a cached prefix snapshot.",
         c.prefix_hits);
  metric("lfm_prefix_cache_misses_total", "counter", "Requests that found no cached prefix.", c.prefix_misses);
  metric("lfm_prefix_cache_tokens_reused_total", "counter", "Prompt tokens restored from the prefix cache, not prefilled.",
         c.prefix_tokens_reused);
  metric("lfm_prefix_cache_evictions_total", "counter", "Prefix snapshots evicted (least recently used) to stay in budget.",
         c.prefix_evictions);
  metric("lfm_prefix_cache_entries", "gauge", "Prefix snapshots held.", c.prefix_entries);
  metric("lfm_prefix_cache_bytes", "gauge", "Bytes the prefix snapshots hold.", c.prefix_bytes);
  metric("lfm_prefix_cache_max_bytes", "gauge", "The prefix cache's budget (--cache-ram; 0 = off).", c.prefix_max_bytes);
  metric("lfm_image_cache_hits_total", "counter", "Images whose embeddings came from the image cache.", c.image_hits);
  metric("lfm_image_cache_misses_total", "counter", "Images run through the vision tower (with the cache on).",
         c.image_misses);
  metric("lfm_image_cache_evictions_total", "counter", "Image embeddings evicted to stay in budget.", c.image_evictions);
  metric("lfm_image_cache_entries", "gauge", "Images whose embeddings are held.", c.image_entries);
  metric("lfm_image_cache_bytes", "gauge", "Bytes the image embeddings hold.", c.image_bytes);
  metric("lfm_image_cache_max_bytes", "gauge", "The image cache's budget (--image-cache-ram; 0 = off).",
         c.image_max_bytes);
  return out;
}

}  // namespace lfm::server
